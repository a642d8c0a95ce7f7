// The single-page app: picks the page for location.pathname, draws the navigation, and turns
// same-origin link clicks into history navigation (the server answers index.html for every page path).
import {currentUser, signOut, token} from './api.js';
import {h, errorBox} from './dom.js';

const routes = [
  {re: /^\/login$/, page: () => import('./pages/login.js'), open: true},
  {re: /^\/$/, page: () => import('./pages/dashboard.js')},
  {re: /^\/catalog$/, page: () => import('./pages/catalog.js')},
  {re: /^\/catalog\/([^/]+)$/, page: () => import('./pages/table.js')},
  {re: /^\/admin\/tables$/, page: () => import('./pages/admin_tables.js'), admin: true},
  {re: /^\/admin\/access$/, page: () => import('./pages/admin_access.js'), admin: true},
  {re: /^\/tokens$/, page: () => import('./pages/tokens.js')},
  {re: /^\/runs$/, page: () => import('./pages/runs.js'), admin: true},
  {re: /^\/runs\/([^/]+)$/, page: () => import('./pages/run.js'), admin: true},
];

const navItems = [
  {href: '/', label: 'Dashboard'},
  {href: '/catalog', label: 'Catalog'},
  {href: '/runs', label: 'Runs', admin: true},
  {href: '/admin/tables', label: 'Admin · tables', admin: true},
  {href: '/admin/access', label: 'Admin · access', admin: true},
  {href: '/tokens', label: 'My tokens'},
];

function drawNav(user) {
  const nav = document.getElementById('nav');
  const path = location.pathname;
  nav.replaceChildren(...(user ? navItems.filter(i => !i.admin || user.is_admin).map(i => {
    const current = i.href === '/' ? path === '/' : path === i.href || path.startsWith(i.href + '/');
    return h('a', {href: i.href, 'aria-current': current ? 'page' : null}, i.label);
  }) : []));
  const who = document.getElementById('who');
  who.replaceChildren(...(user ? [
    h('span', {}, user.email, user.is_admin ? ' (admin)' : '', token.get() ? ' · token' : ''),
    h('button', {type: 'button', onclick: signOut}, 'Sign out'),
  ] : []));
}

let renderSeq = 0;
export async function render() {
  const seq = ++renderSeq;
  const main = document.getElementById('main');
  const path = location.pathname;
  const route = routes.find(r => r.re.test(path));
  let user = null;
  try {
    user = await currentUser();
  } catch (e) {
    main.replaceChildren(errorBox(e));
    return;
  }
  if (seq !== renderSeq) return;
  drawNav(user);
  if (!route) {
    main.replaceChildren(h('h1', {}, 'Page not found'), h('p', {}, h('a', {href: '/'}, 'Back to the dashboard')));
    return;
  }
  if (!route.open && !user) {
    location.replace(`/login?next=${encodeURIComponent(path + location.search)}`);
    return;
  }
  if (route.admin && !user.is_admin) {
    main.replaceChildren(h('h1', {}, 'Admins only'), h('p', {}, 'This page needs an admin account.'));
    return;
  }
  const params = path.match(route.re).slice(1).map(decodeURIComponent);
  try {
    const mod = await route.page();
    const view = h('div', {});
    main.replaceChildren(view);
    await mod.default(view, {user, params, query: new URLSearchParams(location.search)});
  } catch (e) {
    if (seq === renderSeq) main.replaceChildren(errorBox(e));
  }
  if (seq === renderSeq) main.dataset.ready = path;
}

export function navigate(href) {
  history.pushState(null, '', href);
  render().then(() => document.getElementById('main').focus());
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !routes.some(r => r.re.test(url.pathname)) || a.hasAttribute('download')) return;
  ev.preventDefault();
  document.getElementById('nav').classList.remove('open');
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', render);
document.querySelector('.menu-toggle').addEventListener('click', (ev) => {
  const open = document.getElementById('nav').classList.toggle('open');
  ev.currentTarget.setAttribute('aria-expanded', String(open));
});
render();
