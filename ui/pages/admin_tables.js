// Admin · tables: the registry with sync status and last error; register, edit, unregister
// (validation messages from the API's 422/409 bodies shown under their field); sync one table;
// discover a source's tables and register a selection after a dry-run plan.
import {get, post, put, del, ApiError} from '../api.js';
import {h, badge, dataTable, errorBox, field, fmtNum, fmtTime, setTitle, showFormError, toast} from '../dom.js';
import {navigate} from '../app.js';

const FIELDS = [
  {name: 'name', label: 'View name', required: true, hint: 'Letters, digits and _; starts with a letter or _.'},
  {name: 'id', label: 'Id', hint: 'Optional; default: the name in lower case.', createOnly: true},
  {name: 'source_type', label: 'Source type', required: true, value: 'files', hint: 'A connector, e.g. files.'},
  {name: 'source_table', label: 'Source table', hint: 'For files: a path or glob of CSV/JSON/Parquet files.'},
  {name: 'description', label: 'Description', textarea: true},
  {name: 'query_mode', label: 'Query mode', options: ['local', 'materialized', 'remote']},
  {name: 'sync_strategy', label: 'Sync strategy', options: ['full_refresh', 'incremental', 'partitioned']},
  {name: 'sync_schedule', label: 'Sync schedule', hint: "Empty = manual; e.g. 'every 15m', 'daily 03:00', '30 2 * * mon-fri'."},
  {name: 'primary_key', label: 'Primary key', hint: 'Column names, comma-separated.'},
];

/** The register/edit form; `record` = null registers a new table. */
function tableForm(record, onDone) {
  const fields = {};
  const alert = h('div');
  const inputs = FIELDS.filter(f => !(record && f.createOnly)).map(f => {
    let input;
    const value = record ? (Array.isArray(record[f.name]) ? record[f.name].join(', ') : record[f.name] ?? '') : (f.value || '');
    const id = `${record ? 'edit' : 'reg'}-${f.name}`;
    if (f.options) input = h('select', {name: f.name, id}, f.options.map(o => h('option', {value: o, selected: o === value}, o)));
    else if (f.textarea) input = h('textarea', {name: f.name, id, rows: 2}, value);
    else input = h('input', {name: f.name, id, value, required: f.required && !record});
    fields[f.name] = field(f.label, input, f.hint);
    return fields[f.name].wrap;
  });
  const form = h('form', {class: 'stack card', novalidate: true, 'aria-label': record ? `Edit ${record.id}` : 'Register a table'},
    alert, inputs, h('div', {class: 'row'}, h('button', {type: 'submit'}, record ? 'Save changes' : 'Register table'),
      record ? h('button', {type: 'button', class: 'secondary', onclick: () => onDone(null)}, 'Cancel') : null));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    for (const [name, f] of Object.entries(fields)) {
      let v = f.input.value.trim();
      const before = record ? (Array.isArray(record[name]) ? record[name].join(', ') : record[name] ?? '') : '';
      if (record && v === String(before)) continue;
      if (!record && v === '') continue;
      if (name === 'primary_key') v = v ? v.split(',').map(s => s.trim()).filter(Boolean) : null;
      body[name] = v === '' ? null : v;
    }
    try {
      const saved = record ? await put(`/api/admin/registry/${encodeURIComponent(record.id)}`, {...body, version: record.version})
                           : await post('/api/admin/register-table', body);
      toast(record ? `Saved ${saved.id}` : `Registered ${saved.id}`);
      for (const f of Object.values(fields)) f.setError('');
      alert.replaceChildren();
      if (!record) form.reset();
      onDone(saved);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      showFormError(e, fields, alert);
    }
  });
  return form;
}

export default async function adminTables(view) {
  setTitle('Admin · tables');
  const alert = h('div');
  const list = h('div');
  const editor = h('div');
  view.append(h('h1', {}, 'Admin · tables'), alert, list, editor);

  async function refresh() {
    const reg = await get('/api/admin/registry');
    list.replaceChildren(dataTable([
      {label: 'Id', render: t => h('a', {href: `/catalog/${encodeURIComponent(t.id)}`}, t.id)},
      {label: 'Source', cls: 'hide-narrow', render: t => `${t.source_type}: ${t.source_table || ''}`},
      {label: 'Status', render: t => badge(t.sync_state ? t.sync_state.status : 'never_synced')},
      {label: 'Rows', num: true, render: t => fmtNum(t.sync_state && t.sync_state.rows)},
      {label: 'Last sync', render: t => fmtTime(t.sync_state && t.sync_state.last_sync)},
      {label: 'Last error', render: t => (t.sync_state && t.sync_state.error) || ''},
      {label: 'Schedule', cls: 'hide-narrow', render: t => t.sync_schedule || 'manual'},
      {label: 'Actions', render: t => h('div', {class: 'row'},
        h('button', {type: 'button', class: 'secondary', 'aria-label': `Sync ${t.id}`, onclick: () => syncOne(t.id)}, 'Sync'),
        h('button', {type: 'button', class: 'secondary', 'aria-label': `Edit ${t.id}`, onclick: () => edit(t)}, 'Edit'),
        h('button', {type: 'button', class: 'danger', 'aria-label': `Unregister ${t.id}`, onclick: () => unregister(t.id)}, 'Unregister'))},
    ], reg.tables, {empty: 'No table registered yet.'}));
  }

  async function syncOne(id) {
    alert.replaceChildren();
    try {
      const r = await post('/api/sync/trigger', {tables: [id]});
      navigate(`/runs/${r.run_id}`);
    } catch (e) { alert.append(errorBox(e)); }
  }

  function edit(t) {
    editor.replaceChildren(h('h2', {id: 'edit-h'}, `Edit ${t.id}`), tableForm(t, async (saved) => {
      editor.replaceChildren();
      if (saved) await refresh();
    }));
    editor.querySelector('input, select, textarea').focus();
  }

  async function unregister(id) {
    if (!confirm(`Unregister ${id}? Its data files and history are removed.`)) return;
    alert.replaceChildren();
    try { await del(`/api/admin/registry/${encodeURIComponent(id)}`); toast(`Unregistered ${id}`); await refresh(); }
    catch (e) { alert.append(errorBox(e)); }
  }

  await refresh();
  view.append(h('h2', {}, 'Register a table'), tableForm(null, refresh));
  view.append(discoverSection(refresh));
}

/** Discover a source (POST /api/admin/discover-and-register?dry_run=true&source=...), show the plan
 *  (new / existing_match / existing_drift / invalid), then register the picked new tables
 *  (same endpoint, dry_run=false, body {tables: [ids]}). */
function discoverSection(refresh) {
  const out = h('div');
  const source = field('Source', h('input', {name: 'discover_source', value: 'keboola'}), 'A connector that can list its tables, e.g. keboola.');
  const form = h('form', {class: 'stack card', 'aria-label': 'Discover a source'}, source.wrap,
    h('button', {type: 'submit', class: 'secondary'}, 'Discover (dry run)'));
  const endpoint = (dry) => `/api/admin/discover-and-register?dry_run=${dry}&source=${encodeURIComponent(source.input.value.trim())}`;
  const coords = (c) => c ? [c.source_type, c.bucket, c.source_table, c.name].filter(Boolean).join(' · ') : '';
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    out.replaceChildren(h('p', {class: 'muted'}, 'Asking the source…'));
    let plan;
    try { plan = await post(endpoint(true)); }
    catch (e) { out.replaceChildren(errorBox(e)); return; }
    const items = plan.plan || [];
    const s = plan.summary || {};
    const boxes = [];
    out.replaceChildren(h('h3', {}, 'Plan'),
      h('p', {class: 'muted'}, `${s.new || 0} new · ${s.existing_match || 0} already registered · ${s.existing_drift || 0} drift · ${s.invalid || 0} invalid`),
      dataTable([
        {label: 'Register', render: t => {
          const cb = h('input', {type: 'checkbox', value: t.id, checked: t.class === 'new', disabled: t.class !== 'new',
            'aria-label': `register ${t.id}`});
          boxes.push(cb);
          return cb;
        }},
        {label: 'Table', render: t => t.id},
        {label: 'Plan', render: t => badge(t.class)},
        {label: 'Details', render: t => t.class === 'existing_drift'
          ? `registered: ${coords(t.existing)} — source: ${coords(t.discovered)}${t.reason ? ' (' + t.reason + ')' : ''}`
          : (t.reason || coords(t.discovered))},
      ], items, {empty: 'The source lists no tables.'}),
      h('button', {type: 'button', onclick: async () => {
        const picked = boxes.filter(b => b.checked && !b.disabled).map(b => b.value);
        try {
          const done = await post(endpoint(false), {tables: picked});
          toast(`Registered ${(done.registered || []).length} table(s)`);
          out.replaceChildren();
          for (const e of done.errors || []) out.append(h('div', {class: 'alert', role: 'alert'}, `${e.id}: ${e.error}`));
          await refresh();
        } catch (e) { out.append(errorBox(e)); }
      }}, 'Register selected'));
  });
  // The plan goes below the form (full width: the form is kept narrow).
  return h('section', {'aria-label': 'Discovery'}, h('h2', {}, 'Discover a source'), form, out);
}
