// One sync run with its per-table outcomes; refreshes every second while the run is going.
import {get, post} from '../api.js';
import {h, badge, dataTable, errorBox, fmtBytes, fmtDuration, fmtNum, fmtTime, setTitle, toast} from '../dom.js';

export default async function run(view, {params}) {
  const id = params[0];
  setTitle(`Run ${id}`);
  const body = h('div', {'aria-live': 'polite'});
  const alert = h('div');
  view.append(h('p', {}, h('a', {href: '/runs'}, '← Run history')), h('h1', {}, `Sync run ${id}`), alert, body);
  const started = location.pathname;
  for (;;) {
    const r = await get(`/api/sync/runs/${encodeURIComponent(id)}`);
    draw(r);
    if (r.status !== 'running' || location.pathname !== started) return;
    await new Promise(res => setTimeout(res, 1000));
    if (location.pathname !== started) return;
  }

  function draw(r) {
    const cancel = r.status === 'running' ? h('button', {type: 'button', class: 'danger', onclick: async () => {
      if (!confirm(`Cancel sync run ${id}?`)) return;
      try { await post(`/api/sync/runs/${encodeURIComponent(id)}/cancel`); toast('Run cancelled'); }
      catch (e) { alert.replaceChildren(errorBox(e)); }
    }}, 'Cancel run') : null;
    body.replaceChildren(
      h('dl', {class: 'kv card'},
        h('dt', {}, 'Status'), h('dd', {id: 'run-status'}, badge(r.status)),
        h('dt', {}, 'Started'), h('dd', {}, fmtTime(r.started_at), ` (${r.started_at})`),
        h('dt', {}, 'Duration'), h('dd', {}, r.status === 'running' ? 'running…' : fmtDuration(r.duration_ms)),
        h('dt', {}, 'Trigger'), h('dd', {}, `${r.trigger} by ${r.requested_by}`),
        h('dt', {}, 'Counts'), h('dd', {}, `${r.counts.synced} synced, ${r.counts.skipped} skipped, ${r.counts.error} error, ${r.counts.pending} pending`),
        r.message ? [h('dt', {}, 'Message'), h('dd', {}, r.message)] : null),
      cancel,
      h('h2', {}, 'Tables'),
      dataTable([
        {label: 'Table', render: t => h('a', {href: `/catalog/${encodeURIComponent(t.table_id)}`}, t.table_id)},
        {label: 'Outcome', render: t => badge(t.status)},
        {label: 'Rows', num: true, render: t => fmtNum(t.rows)},
        {label: 'Size', num: true, cls: 'hide-narrow', render: t => fmtBytes(t.size_bytes)},
        {label: 'Duration', num: true, render: t => fmtDuration(t.duration_ms)},
        {label: 'Error / reason', render: t => t.reason || ''},
      ], r.tables || [], {empty: 'No table outcome yet.'}));
  }
}
