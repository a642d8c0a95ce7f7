// Dashboard: sync status, stale / failing tables, the last runs; admins trigger a sync and cancel a run.
import {get, post} from '../api.js';
import {h, badge, dataTable, errorBox, fmtDuration, fmtTime, setTitle, toast} from '../dom.js';
import {navigate} from '../app.js';

export default async function dashboard(view, {user}) {
  setTitle('Dashboard');
  const [health, status, runs] = await Promise.all([
    get('/api/health/detailed').catch(e => (e.status === 503 && e.body ? e.body : {error: e})),
    get('/api/sync/status'),
    user.is_admin ? get('/api/sync/runs?limit=10') : get('/api/sync/runs/latest').then(r => ({runs: [r]}), () => ({runs: []})),
  ]);
  const data = health.data || {};
  const alert = h('div');
  view.append(h('h1', {}, 'Dashboard'), alert);
  if (health.error) alert.append(errorBox(health.error));

  const running = runs.runs.find(r => r.status === 'running');
  const actions = h('div', {class: 'row'});
  if (user.is_admin) {
    const trigger = h('button', {type: 'button', disabled: status.locked}, 'Sync all tables now');
    trigger.addEventListener('click', async () => {
      trigger.disabled = true;
      try {
        const r = await post('/api/sync/trigger');
        toast(`Sync run ${r.run_id} started`);
        navigate(`/runs/${r.run_id}`);
      } catch (e) { alert.replaceChildren(errorBox(e)); trigger.disabled = false; }
    });
    actions.append(trigger);
    if (running) {
      const cancel = h('button', {type: 'button', class: 'danger'}, `Cancel run ${running.run_id}`);
      cancel.addEventListener('click', async () => {
        if (!confirm(`Cancel sync run ${running.run_id}?`)) return;
        cancel.disabled = true;
        try { await post(`/api/sync/runs/${running.run_id}/cancel`); toast('Run cancelled'); navigate('/'); }
        catch (e) { alert.replaceChildren(errorBox(e)); cancel.disabled = false; }
      });
      actions.append(cancel);
    }
  }

  view.append(h('div', {class: 'grid'},
    h('section', {class: 'card', 'aria-labelledby': 'd-sync'}, h('h2', {id: 'd-sync'}, 'Sync'),
      h('p', {}, status.locked ? badge('running') : badge('ok'), ' ', status.locked ? 'a sync run is going' : 'idle'),
      h('p', {}, 'Last run: ', health.last_run ? [badge(health.last_run.status), ' ', fmtTime(health.last_run.started_at)] : 'none yet'),
      actions),
    h('section', {class: 'card', 'aria-labelledby': 'd-tables'}, h('h2', {id: 'd-tables'}, 'Tables'),
      h('p', {class: 'stat'}, data.tables ?? '—'), h('p', {class: 'muted'}, 'registered tables that extract data'),
      h('p', {}, health.status ? badge(health.status === 'healthy' ? 'ok' : health.status) : null)),
    h('section', {class: 'card', 'aria-labelledby': 'd-stale'}, h('h2', {id: 'd-stale'}, 'Stale or never synced'),
      listOrNone([...(data.stale_tables || []).map(t => h('span', {}, h('a', {href: `/catalog/${encodeURIComponent(t.id)}`}, t.id), ' ', fmtTime(t.last_sync))),
        ...(data.never_synced || []).map(id => h('span', {}, h('a', {href: `/catalog/${encodeURIComponent(id)}`}, id), ' never synced'))])),
    h('section', {class: 'card', 'aria-labelledby': 'd-errors'}, h('h2', {id: 'd-errors'}, 'Errors'),
      listOrNone((data.error_tables || []).map(t => h('span', {}, h('a', {href: `/catalog/${encodeURIComponent(t.id)}`}, t.id), ': ', t.error)))),
  ));

  view.append(h('h2', {}, 'Last runs'), runsTable(runs.runs, user.is_admin));
}

function listOrNone(items) {
  return items.length ? h('ul', {}, items.map(i => h('li', {}, i))) : h('p', {class: 'muted'}, 'None.');
}

/** The runs table (shared with the run history page). */
export function runsTable(runs, linked) {
  return dataTable([
    {label: 'Run', render: r => linked ? h('a', {href: `/runs/${r.run_id}`}, r.run_id) : r.run_id},
    {label: 'Status', render: r => badge(r.status)},
    {label: 'Started', render: r => fmtTime(r.started_at)},
    {label: 'Duration', num: true, render: r => r.status === 'running' ? '…' : fmtDuration(r.duration_ms)},
    {label: 'Synced / skipped / error', render: r => r.counts ? `${r.counts.synced} / ${r.counts.skipped} / ${r.counts.error}` : '—'},
    {label: 'Trigger', cls: 'hide-narrow', render: r => `${r.trigger} by ${r.requested_by}`},
    {label: 'Message', cls: 'hide-narrow', render: r => r.message || ''},
  ], runs, {empty: 'No sync run yet.'});
}
