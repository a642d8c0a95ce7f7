// Catalog: the tables the signed-in user may see (GET /api/v2/catalog), filterable by text.
import {get} from '../api.js';
import {h, badge, dataTable, fmtBytes, fmtNum, fmtTime, setTitle} from '../dom.js';

export default async function catalog(view) {
  setTitle('Catalog');
  const cat = await get('/api/v2/catalog');
  const filter = h('input', {id: 'catalog-filter', type: 'search', placeholder: 'Filter by id, name or description'});
  const list = h('div');
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const rows = cat.tables.filter(t => !q || `${t.id} ${t.name} ${t.description}`.toLowerCase().includes(q));
    list.replaceChildren(dataTable([
      {label: 'Table', render: t => h('a', {href: `/catalog/${encodeURIComponent(t.id)}`}, t.name)},
      {label: 'Description', cls: 'hide-narrow', render: t => t.description || h('span', {class: 'muted'}, '—')},
      {label: 'Status', render: t => badge(t.status)},
      {label: 'Rows', num: true, render: t => fmtNum(t.rows)},
      {label: 'Size', num: true, cls: 'hide-narrow', render: t => fmtBytes(t.size_bytes)},
      {label: 'Columns', num: true, cls: 'hide-narrow', render: t => fmtNum(t.column_count)},
      {label: 'Updated', render: t => fmtTime(t.updated)},
    ], rows, {empty: cat.tables.length ? 'No table matches the filter.' : 'No tables you may see yet.'}));
  };
  filter.addEventListener('input', draw);
  draw();
  view.append(h('h1', {}, 'Catalog'),
    h('p', {class: 'muted'}, `${cat.count} table${cat.count === 1 ? '' : 's'} you may see.`),
    h('div', {class: 'field'}, h('label', {for: 'catalog-filter'}, 'Filter'), filter), list);
}
