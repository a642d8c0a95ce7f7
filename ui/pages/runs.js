// Run history: the last sync runs (GET /api/sync/runs).
import {get} from '../api.js';
import {h, setTitle} from '../dom.js';
import {runsTable} from './dashboard.js';

export default async function runs(view) {
  setTitle('Runs');
  const data = await get('/api/sync/runs?limit=100');
  view.append(h('h1', {}, 'Run history'), runsTable(data.runs, true));
}
