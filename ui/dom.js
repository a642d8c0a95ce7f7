// Small DOM and formatting helpers shared by the pages.

/** h('a', {href: '/x', onclick: fn}, 'text', child, [more]) → an element. `null`/`false` children are skipped. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** An SVG element (charts). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

export function fmtNum(n) {
  if (n === null || n === undefined || n === '') return '—';
  return typeof n === 'number' ? n.toLocaleString('en-US', {maximumFractionDigits: 4}) : String(n);
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** "2026-11-22T04:15:00Z" → "3 h ago" (with the ISO time as a tooltip via <time>). */
export function fmtTime(iso) {
  if (!iso) return h('span', {class: 'muted'}, 'never');
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return String(iso);
  const s = Math.round((Date.now() - t) / 1000);
  let rel;
  if (s < 60) rel = 'just now';
  else if (s < 3600) rel = `${Math.floor(s / 60)} min ago`;
  else if (s < 86400) rel = `${Math.floor(s / 3600)} h ago`;
  else rel = `${Math.floor(s / 86400)} d ago`;
  return h('time', {datetime: iso, title: iso}, rel);
}

export function badge(status) {
  const s = String(status || 'unknown');
  return h('span', {class: `badge ${s.replace(/[^a-z_]/g, '')}`}, s.replace(/_/g, ' '));
}

/** A table: columns = [{label, render(row), num?}], rows = array. */
export function dataTable(columns, rows, {caption, empty = 'Nothing here yet.'} = {}) {
  if (!rows.length) return h('p', {class: 'muted'}, empty);
  return h('div', {class: 'table-wrap'}, h('table', {},
    caption ? h('caption', {class: 'muted'}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map(c => h('th', {scope: 'col', class: c.cls || null}, c.label)))),
    h('tbody', {}, rows.map(r => h('tr', {}, columns.map(c =>
      h('td', {class: [c.num ? 'num' : '', c.cls || ''].join(' ').trim() || null}, c.render(r))))))));
}

/** An error box (role=alert) for an ApiError or any Error. */
export function errorBox(err) {
  const id = err && err.requestId ? h('span', {class: 'muted'}, ` (request ${err.requestId})`) : null;
  return h('div', {class: 'alert', role: 'alert'}, err && err.message ? err.message : String(err), id);
}

export function toast(text) {
  const el = document.getElementById('toast');
  el.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.textContent = ''; }, 4000);
}

/** A labelled form field; returns {wrap, input, setError(msg)}. */
export function field(label, input, hint) {
  const id = input.id || `f-${input.name}`;
  input.id = id;
  const err = h('div', {class: 'field-error', id: `${id}-err`});
  const hintEl = hint ? h('div', {class: 'hint', id: `${id}-hint`}, hint) : null;
  input.setAttribute('aria-describedby', [hintEl ? `${id}-hint` : '', `${id}-err`].join(' ').trim());
  const wrap = h('div', {class: 'field'}, h('label', {for: id}, label), input, hintEl, err);
  return {wrap, input, setError(msg) {
    err.textContent = msg || '';
    if (msg) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
  }};
}

/**
 * Shows an API error on a form: a 422/409 message starting with a field name goes under that
 * field (and focuses it); anything else goes in the form's alert box.
 */
export function showFormError(err, fields, alertBox) {
  for (const f of Object.values(fields)) f.setError('');
  alertBox.replaceChildren();
  const m = /^[`'"]?([a-z_]+)\b/.exec(err.message || '');  // "name is ..." or "'name' is required"
  const f = m && fields[m[1]];
  if (f && (err.status === 422 || err.status === 409 || err.status === 400)) {
    f.setError(err.message);
    f.input.focus();
  } else {
    alertBox.append(errorBox(err));
  }
}

export function setTitle(text) { document.title = `${text} · da`; }
