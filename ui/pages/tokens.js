// My tokens: create (the secret is shown once), list, revoke — /auth/tokens.
import {get, post, del, ApiError} from '../api.js';
import {h, dataTable, errorBox, field, fmtTime, setTitle, showFormError, toast} from '../dom.js';

export default async function tokens(view) {
  setTitle('My tokens');
  view.append(h('h1', {}, 'My tokens'));
  let data;
  try { data = await get('/auth/tokens'); }
  catch (e) {
    if (e.status === 404) {
      view.append(h('p', {class: 'notice'}, 'This server has no personal token endpoints yet (GET /auth/tokens answers 404).'));
      return;
    }
    throw e;
  }
  const list = h('div');
  const reveal = h('div', {'aria-live': 'polite'});
  const alert = h('div');
  const draw = (items) => list.replaceChildren(dataTable([
    {label: 'Name', render: t => t.name},
    {label: 'Prefix', render: t => h('code', {}, t.prefix || '')},
    {label: 'Created', cls: 'hide-narrow', render: t => fmtTime(t.created_at)},
    {label: 'Expires', render: t => t.expires_at ? fmtTime(t.expires_at) : 'never'},
    {label: 'Last used', cls: 'hide-narrow', render: t => fmtTime(t.last_used_at)},
    {label: '', render: t => h('button', {type: 'button', class: 'danger', 'aria-label': `Revoke ${t.name}`, onclick: async () => {
      if (!confirm(`Revoke token ${t.name}? Programs using it stop working.`)) return;
      try { await del(`/auth/tokens/${encodeURIComponent(t.id)}`); toast(`Revoked ${t.name}`); await refresh(); }
      catch (e) { alert.replaceChildren(errorBox(e)); }
    }}, 'Revoke')},
  ], items, {empty: 'You have no tokens.'}));
  const active = (d) => (d.tokens || d).filter(t => !t.revoked);
  const refresh = async () => draw(active(await get('/auth/tokens')));
  draw(active(data));

  const fields = {
    name: field('Token name', h('input', {name: 'name', id: 'token-name', required: true}), 'What it is for, e.g. laptop.'),
    expires_in_days: field('Expires in (days)', h('input', {name: 'expires_in_days', id: 'token-days', type: 'number', min: 1, inputmode: 'numeric'}), 'Empty = the server default.'),
  };
  const formAlert = h('div');
  const form = h('form', {class: 'stack card', novalidate: true, 'aria-label': 'Create a token'}, formAlert,
    fields.name.wrap, fields.expires_in_days.wrap, h('button', {type: 'submit'}, 'Create token'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {name: fields.name.input.value.trim()};
    if (fields.expires_in_days.input.value !== '') body.expires_in_days = Number(fields.expires_in_days.input.value);
    try {
      const t = await post('/auth/tokens', body);
      reveal.replaceChildren(h('div', {class: 'card'}, h('h2', {}, `Token ${t.name} created`),
        h('p', {}, 'Copy it now: it is shown only once.'), h('div', {class: 'secret', id: 'new-token'}, t.token)));
      form.reset();
      await refresh();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      showFormError(e, fields, formAlert);
    }
  });
  view.append(alert, reveal, list, h('h2', {}, 'Create a token'), form);
}
