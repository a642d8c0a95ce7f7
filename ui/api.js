// The one fetch wrapper every page uses. Two ways to be signed in:
//  - a browser session (cookies da_session + da_csrf from POST /auth/login; on https the CSRF
//    cookie is __Host-da_csrf): state-changing calls send X-CSRF-Token equal to it;
//  - a bearer token kept in sessionStorage (the "sign in with a token" fallback): every call sends
//    Authorization: Bearer <token>.
// A 401 sends the browser to /login?next=<this page>.

const TOKEN_KEY = 'da_token';

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || `http_${status}`;
    this.requestId = e.request_id || '';
    this.body = body;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return '';
}

export function loginUrl() {
  const next = location.pathname + location.search;
  return `/login?next=${encodeURIComponent(next)}`;
}

/**
 * api('GET', '/api/v2/catalog') → parsed JSON. Throws ApiError for non-2xx answers.
 * Options: {redirectOn401: true} — go to the sign-in page on 401 (default true).
 */
export async function api(method, path, body, {redirectOn401 = true} = {}) {
  const headers = {Accept: 'application/json'};
  const t = token.get();
  if (t) headers.Authorization = `Bearer ${t}`;
  else if (!['GET', 'HEAD'].includes(method)) {
    const csrf = cookie('__Host-da_csrf') || cookie('da_csrf');
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  const init = {method, headers, credentials: 'same-origin'};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let data = null;
  if ((res.headers.get('Content-Type') || '').includes('application/json')) {
    data = await res.json().catch(() => null);
  }
  if (res.status === 401 && redirectOn401 && location.pathname !== '/login') {
    token.clear();
    location.assign(loginUrl());
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = (p, o) => api('GET', p, undefined, o);
export const post = (p, b, o) => api('POST', p, b, o);
export const put = (p, b, o) => api('PUT', p, b, o);
export const del = (p, o) => api('DELETE', p, undefined, o);

/** GET that answers `fallback` on 404 (an endpoint this server does not have). */
export async function getOr(path, fallback) {
  try { return await get(path); } catch (e) { if (e.status === 404) return fallback; throw e; }
}

let me = null;
/**
 * The signed-in user {id, email, name, is_admin, groups}, or null. Uses GET /api/me; on a server
 * without it (404), a bearer token is checked with /api/health/detailed and admin rights with
 * /api/admin/registry.
 */
export async function currentUser() {
  if (me) return me;
  try {
    me = await get('/api/me', {redirectOn401: false});
    return me;
  } catch (e) {
    if (e.status === 401) return null;
    if (e.status !== 404) throw e;
  }
  if (!token.get()) return null;
  try {
    await get('/api/health/detailed', {redirectOn401: false});
  } catch (e) {
    if (e.status === 401) { token.clear(); return null; }
  }
  let isAdmin = false;
  try { await get('/api/admin/registry', {redirectOn401: false}); isAdmin = true; } catch { /* 403 */ }
  me = {id: '', email: 'token user', name: 'token user', is_admin: isAdmin, groups: []};
  return me;
}

/**
 * GET /auth/config, or password-less defaults when the server has no auth endpoints. With `next`,
 * the answer's `next` is where the server allows sign-in to continue (its one same-origin rule;
 * "/" when the server cannot say).
 */
export async function authConfig(next) {
  const path = next === undefined ? '/auth/config' : `/auth/config?next=${encodeURIComponent(next)}`;
  return getOr(path, {password: false, magic_link: false, oidc: false, oidc_name: '', next: '/'});
}

export async function signOut() {
  const hadToken = !!token.get();
  token.clear();
  me = null;
  if (!hadToken) {
    try { await post('/auth/logout', undefined, {redirectOn401: false}); } catch { /* already out */ }
  }
  location.assign('/login');
}
