// One table: description, freshness, schema, profile charts, sample rows, and how to get it locally.
import {get, getOr} from '../api.js';
import {h, badge, dataTable, errorBox, fmtBytes, fmtNum, fmtTime, setTitle} from '../dom.js';
import {histogram, topValues} from '../charts.js';

export default async function table(view, {params}) {
  const id = params[0];
  const enc = encodeURIComponent(id);
  setTitle(id);
  const cat = await get('/api/v2/catalog');
  const t = cat.tables.find(x => x.id === id);
  if (!t) {
    view.append(h('h1', {}, id), errorBox(new Error(`Table '${id}' does not exist or you may not see it.`)));
    return;
  }
  const [schema, profile, sample] = await Promise.all([
    getOr(`/api/v2/schema/${enc}`, null),
    getOr(`/api/catalog/profile/${enc}`, null),
    getOr(`/api/v2/sample/${enc}?n=10`, null),
  ]);
  view.append(h('p', {}, h('a', {href: '/catalog'}, '← Catalog')),
    h('h1', {}, t.name, ' ', badge(t.status)),
    h('p', {}, t.description || h('span', {class: 'muted'}, 'No description.')),
    h('dl', {class: 'kv card'},
      h('dt', {}, 'Id'), h('dd', {}, h('code', {}, t.id)),
      h('dt', {}, 'Source'), h('dd', {}, t.source_type),
      h('dt', {}, 'Query mode'), h('dd', {}, t.query_mode),
      h('dt', {}, 'Last synced'), h('dd', {}, fmtTime(t.updated)),
      h('dt', {}, 'Rows'), h('dd', {}, fmtNum(t.rows)),
      h('dt', {}, 'Size'), h('dd', {}, fmtBytes(t.size_bytes))));

  view.append(h('h2', {}, 'Get it locally'),
    h('p', {}, 'With the ', h('code', {}, 'da'), ' CLI signed in to this server, pull the data and query it on your machine:'),
    h('pre', {}, h('code', {}, `da sync\nda query "SELECT * FROM ${t.name} LIMIT 10"`)));

  view.append(h('h2', {}, 'Schema'));
  view.append(schema ? dataTable([
    {label: 'Column', render: c => h('code', {}, c.name)},
    {label: 'Type', render: c => c.type},
    {label: 'Nullable', render: c => c.nullable ? 'yes' : 'no'},
  ], schema.columns) : h('p', {class: 'muted'}, 'No schema yet: the table has not been synced.'));

  view.append(h('h2', {}, 'Profile'));
  if (!profile) {
    view.append(h('p', {class: 'muted'}, 'Not profiled yet (profiles are computed after each successful sync).'));
  } else {
    view.append(h('p', {class: 'muted'}, `${fmtNum(profile.rows)} rows, profiled `, fmtTime(profile.profiled_at)),
      h('div', {class: 'profile'}, profile.columns.map(c => h('section', {class: 'card', 'aria-label': `column ${c.name}`},
        h('h3', {}, h('code', {}, c.name), ' ', h('span', {class: 'muted'}, c.type)),
        h('dl', {class: 'kv'},
          h('dt', {}, 'Nulls'), h('dd', {}, `${fmtNum(c.null_count)} (${fmtNum(c.null_pct)}%)`),
          h('dt', {}, 'Distinct ≈'), h('dd', {}, fmtNum(c.approx_distinct)),
          h('dt', {}, 'Min / max'), h('dd', {}, `${fmtNum(c.min)} / ${fmtNum(c.max)}`),
          c.mean !== null && c.mean !== undefined ? [h('dt', {}, 'Mean ± sd'), h('dd', {}, `${fmtNum(c.mean)} ± ${fmtNum(c.stddev)}`)] : null),
        c.histogram && c.histogram.length ? histogram(c.histogram, c.name) : null,
        c.top_values && c.top_values.length ? topValues(c.top_values, profile.rows) : null))));
  }

  view.append(h('h2', {}, 'Sample rows'));
  view.append(sample ? dataTable(sample.columns.map((name, i) => ({
    label: name, num: /INT|DOUBLE|FLOAT|DECIMAL|REAL/.test(sample.types[i]),
    // Lists, structs and maps arrive as JSON arrays and objects (docs/api.md).
    render: r => r[i] === null ? h('span', {class: 'muted'}, 'null')
      : typeof r[i] === 'object' ? JSON.stringify(r[i]) : String(r[i]),
  })), sample.rows, {empty: 'The table is empty.'}) : h('p', {class: 'muted'}, 'No sample: the table has not been synced.'));
}
