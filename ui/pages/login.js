// Sign in: password (POST /auth/login), magic link (POST /auth/email/send-link), OIDC (a link to
// /auth/oidc/login) when /auth/config offers them, and a bearer-token fallback kept in sessionStorage.
import {authConfig, get, post, token, ApiError} from '../api.js';
import {h, field, errorBox, setTitle} from '../dom.js';

export default async function login(view, {user, query}) {
  setTitle('Sign in');
  // Where to go after sign-in: the server applies its one same-origin rule (the one every
  // server-side redirect uses) and answers the safe path; the page never judges `next` itself.
  const cfg = await authConfig(query.get('next') || '/');
  const next = typeof cfg.next === 'string' ? cfg.next : '/';
  if (user) { location.replace(next); return; }
  const box = h('div', {class: 'login'});
  view.append(box);
  box.append(h('h1', {}, 'Sign in to da'));
  if (query.get('error')) box.append(errorBox(new Error(query.get('error'))));

  if (cfg.password) {
    const alert = h('div');
    const email = field('Email', h('input', {name: 'email', type: 'email', autocomplete: 'username', required: true}));
    const pw = field('Password', h('input', {name: 'password', type: 'password', autocomplete: 'current-password', required: true}));
    const form = h('form', {class: 'stack card', 'aria-label': 'Sign in with a password'}, alert, email.wrap, pw.wrap,
      h('button', {type: 'submit'}, 'Sign in'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      alert.replaceChildren();
      try {
        token.clear();
        await post('/auth/login', {email: email.input.value, password: pw.input.value}, {redirectOn401: false});
        location.assign(next);
      } catch (e) {
        alert.append(errorBox(e.status === 401 ? new Error('Wrong email or password.') : e));
        pw.input.focus();
      }
    });
    box.append(form);
  }

  if (cfg.magic_link) {
    const alert = h('div', {role: 'status'});
    const email = field('Email', h('input', {name: 'link_email', type: 'email', autocomplete: 'email', required: true}));
    const form = h('form', {class: 'stack card', 'aria-label': 'Email me a sign-in link'}, email.wrap,
      h('button', {type: 'submit', class: 'secondary'}, 'Email me a sign-in link'), alert);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      alert.replaceChildren();
      try {
        await post('/auth/email/send-link', {email: email.input.value, next}, {redirectOn401: false});
        alert.append(h('div', {class: 'notice'}, 'If that address has an account, a sign-in link is on its way.'));
      } catch (e) { alert.append(errorBox(e)); }
    });
    box.append(form);
  }

  if (cfg.oidc) {
    box.append(h('p', {}, h('a', {class: 'button', href: `/auth/oidc/login?next=${encodeURIComponent(next)}`},
      `Sign in with ${cfg.oidc_name || 'single sign-on'}`)));
  }

  const alert = h('div');
  const tok = field('API token', h('input', {name: 'token', type: 'password', autocomplete: 'off', required: true}),
    'Kept in this browser tab only (sessionStorage) and sent as a bearer token.');
  const tform = h('form', {class: 'stack card', 'aria-label': 'Sign in with a token'}, alert, tok.wrap,
    h('button', {type: 'submit', class: cfg.password ? 'secondary' : null}, 'Sign in with a token'));
  tform.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    alert.replaceChildren();
    token.set(tok.input.value.trim());
    try {
      await get('/api/health/detailed', {redirectOn401: false});
      location.assign(next);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
        token.clear();
        tok.setError('That token is not valid (unknown, revoked or expired).');
        tok.input.focus();
      } else if (e instanceof ApiError && e.status === 503) {
        location.assign(next);  // unhealthy server, but the token was accepted
      } else {
        token.clear();
        alert.append(errorBox(e));
      }
    }
  });
  if (cfg.password || cfg.magic_link || cfg.oidc) box.append(h('p', {class: 'sep'}, 'or'));
  box.append(tform);
}
