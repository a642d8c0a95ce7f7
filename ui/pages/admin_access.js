// Admin · users, groups, access: users (create, deactivate, set a password), groups (create,
// delete, members), grants of tables to groups, and who can see a table. The endpoints come with
// the auth API; a server without them shows a notice instead of the section.
import {get, post, del, api, ApiError} from '../api.js';
import {h, dataTable, errorBox, field, setTitle, showFormError, toast} from '../dom.js';

const list = (d, key) => (Array.isArray(d) ? d : (d && d[key]) || []);

/** A form whose fields are {name: {label, input attrs, hint}}; onSubmit(values) may throw ApiError. */
function simpleForm(label, spec, submitText, onSubmit) {
  const fields = {};
  const alert = h('div');
  for (const [name, s] of Object.entries(spec)) {
    const input = s.options ? h('select', {name, id: s.id}, s.options.map(o => h('option', {value: o.value}, o.label)))
                            : h('input', {name, id: s.id, ...s.attrs});
    fields[name] = field(s.label, input, s.hint);
  }
  const form = h('form', {class: 'stack card', novalidate: true, 'aria-label': label}, h('h3', {}, label), alert,
    Object.values(fields).map(f => f.wrap), h('button', {type: 'submit'}, submitText));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const values = Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f.input.value.trim()]));
    try { await onSubmit(values); form.reset(); for (const f of Object.values(fields)) f.setError(''); alert.replaceChildren(); }
    catch (e) { if (!(e instanceof ApiError)) throw e; showFormError(e, fields, alert); }
  });
  return form;
}

export default async function adminAccess(view) {
  setTitle('Admin · access');
  view.append(h('h1', {}, 'Admin · users, groups, access'));
  let users, groups, grants;
  try {
    [users, groups, grants] = await Promise.all([get('/api/users'), get('/api/admin/groups'), get('/api/admin/grants')]);
  } catch (e) {
    if (e.status === 404) {
      view.append(h('p', {class: 'notice'}, 'This server has no user, group and grant endpoints yet (the auth API answers 404).'));
      return;
    }
    throw e;
  }
  const registry = await get('/api/admin/registry');
  const tableIds = registry.tables.map(t => t.id);
  const alert = h('div');
  const usersBox = h('div'), groupsBox = h('div'), grantsBox = h('div'), membersBox = h('div'), whoBox = h('div');
  view.append(alert);

  const act = (fn) => async () => { alert.replaceChildren(); try { await fn(); } catch (e) { alert.append(errorBox(e)); } };
  const reload = async () => {
    [users, groups, grants] = await Promise.all([get('/api/users'), get('/api/admin/groups'), get('/api/admin/grants')]);
    draw();
  };
  const groupName = (id) => (list(groups, 'groups').find(g => String(g.id) === String(id)) || {}).name || id;

  function draw() {
    usersBox.replaceChildren(dataTable([
      {label: 'Email', render: u => u.email},
      {label: 'Name', cls: 'hide-narrow', render: u => u.name || ''},
      {label: 'Admin', render: u => u.is_admin ? 'yes' : 'no'},
      {label: 'Active', render: u => u.active === false ? 'no' : 'yes'},
      {label: '', render: u => h('button', {type: 'button', class: 'secondary', 'aria-label': `${u.active === false ? 'Activate' : 'Deactivate'} ${u.email}`,
        onclick: act(async () => { await api('PATCH', `/api/users/${encodeURIComponent(u.id)}`, {active: u.active === false}); await reload(); })},
        u.active === false ? 'Activate' : 'Deactivate')},
    ], list(users, 'users')));
    groupsBox.replaceChildren(dataTable([
      {label: 'Group', render: g => g.name},
      {label: 'Description', cls: 'hide-narrow', render: g => g.description || ''},
      {label: 'Members', num: true, render: g => g.member_count ?? ''},
      {label: '', render: g => h('div', {class: 'row'},
        h('button', {type: 'button', class: 'secondary', 'aria-label': `Members of ${g.name}`, onclick: act(() => showMembers(g))}, 'Members'),
        g.is_system ? null : h('button', {type: 'button', class: 'danger', 'aria-label': `Delete group ${g.name}`, onclick: act(async () => {
          if (!confirm(`Delete group ${g.name}?`)) return;
          await del(`/api/admin/groups/${encodeURIComponent(g.id)}`); toast(`Deleted ${g.name}`); await reload();
        })}, 'Delete'))},
    ], list(groups, 'groups')));
    grantsBox.replaceChildren(dataTable([
      {label: 'Group', render: g => g.group_name || groupName(g.group_id)},
      {label: 'Table', render: g => g.resource_id},
      {label: '', render: g => h('button', {type: 'button', class: 'danger', 'aria-label': `Revoke ${g.resource_id} from ${g.group_name || groupName(g.group_id)}`,
        onclick: act(async () => { await del(`/api/admin/grants/${encodeURIComponent(g.id)}`); toast('Grant revoked'); await reload(); })}, 'Revoke')},
    ], list(grants, 'grants'), {empty: 'No grants yet.'}));
    grantForm.replaceWith(grantForm = makeGrantForm());
  }

  async function showMembers(g) {
    const m = await get(`/api/admin/groups/${encodeURIComponent(g.id)}/members`);
    membersBox.replaceChildren(h('h3', {}, `Members of ${g.name}`), dataTable([
      {label: 'Email', render: u => u.email},
      {label: '', render: u => h('button', {type: 'button', class: 'danger', 'aria-label': `Remove ${u.email} from ${g.name}`,
        onclick: act(async () => { await del(`/api/admin/groups/${encodeURIComponent(g.id)}/members/${encodeURIComponent(u.id || u.user_id)}`); await showMembers(g); })}, 'Remove')},
    ], list(m, 'members'), {empty: 'No members yet.'}),
    simpleForm(`Add a member to ${g.name}`, {email: {label: 'Email', id: 'member-email', attrs: {type: 'email'}}}, 'Add member',
      async (v) => { await post(`/api/admin/groups/${encodeURIComponent(g.id)}/members`, v); toast(`Added ${v.email}`); await showMembers(g); }));
  }

  const makeGrantForm = () => simpleForm('Grant a table to a group', {
    group_id: {label: 'Group', id: 'grant-group', options: list(groups, 'groups').map(g => ({value: g.id, label: g.name}))},
    resource_id: {label: 'Table', id: 'grant-table', options: tableIds.map(t => ({value: t, label: t}))},
  }, 'Grant', async (v) => {
    const g = list(groups, 'groups').find(x => String(x.id) === v.group_id);
    await post('/api/admin/grants', {group_id: g ? g.id : v.group_id, resource_type: 'table', resource_id: v.resource_id});
    toast(`Granted ${v.resource_id}`);
    await reload();
  });
  let grantForm = makeGrantForm();

  const whoSelect = h('select', {id: 'who-table'}, h('option', {value: ''}, '— pick a table —'), tableIds.map(t => h('option', {value: t}, t)));
  whoSelect.addEventListener('change', act(async () => {
    if (!whoSelect.value) { whoBox.replaceChildren(); return; }
    const a = await get(`/api/admin/tables/${encodeURIComponent(whoSelect.value)}/access`);
    whoBox.replaceChildren(h('div', {class: 'card', id: 'who-result'},
      h('h3', {}, 'Groups'), h('ul', {}, list(a, 'groups').map(g => h('li', {}, g.name || g))),
      h('h3', {}, 'Users'), h('ul', {}, list(a, 'users').map(u => h('li', {}, u.email || u)))));
  }));

  draw();
  view.append(
    h('h2', {}, 'Users'), usersBox,
    simpleForm('Create a user', {
      email: {label: 'Email', id: 'user-email', attrs: {type: 'email', autocomplete: 'off'}},
      name: {label: 'Name', id: 'user-name'},
    }, 'Create user', async (v) => { await post('/api/users', v); toast(`Created ${v.email}`); await reload(); }),
    simpleForm('Set a password', {
      email: {label: 'User email', id: 'pw-email', attrs: {type: 'email', autocomplete: 'off'}},
      password: {label: 'New password', id: 'pw-password', attrs: {type: 'password', autocomplete: 'new-password'}},
    }, 'Set password', async (v) => {
      const u = list(users, 'users').find(x => x.email === v.email);
      if (!u) throw new ApiError(422, {error: {message: `email ${v.email} is not a user`}});
      await post(`/api/users/${encodeURIComponent(u.id)}/set-password`, {password: v.password});
      toast(`Password set for ${v.email}`);
    }),
    h('h2', {}, 'Groups'), groupsBox, membersBox,
    simpleForm('Create a group', {
      name: {label: 'Group name', id: 'group-name'},
      description: {label: 'Description', id: 'group-description'},
    }, 'Create group', async (v) => { await post('/api/admin/groups', v); toast(`Created ${v.name}`); await reload(); }),
    h('h2', {}, 'Grants'), grantsBox, grantForm,
    h('h2', {}, 'Who can see a table'), h('div', {class: 'field'}, h('label', {for: 'who-table'}, 'Table'), whoSelect), whoBox);
}
