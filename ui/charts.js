// Tiny inline-SVG charts for column profiles (no library): a histogram of equal-width bins and a
// bar list of top values. Each chart carries a text alternative.
import {h, svg, fmtNum} from './dom.js';

/** bins = [{lo, hi, count}] → an <svg> bar chart with a <title> summarising it. */
export function histogram(bins, label) {
  const max = Math.max(1, ...bins.map(b => b.count));
  const w = 200, ht = 60, gap = 2, bw = w / bins.length;
  const summary = `${label}: histogram of ${bins.length} bins from ${bins[0].lo} to ${bins[bins.length - 1].hi}, ` +
    `largest bin ${fmtNum(max)} rows`;
  return svg('svg', {class: 'chart', viewBox: `0 0 ${w} ${ht}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': summary},
    svg('title', {}, summary),
    ...bins.map((b, i) => {
      const bh = b.count ? Math.max(1, (b.count / max) * ht) : 0;
      return svg('rect', {x: i * bw + gap / 2, y: ht - bh, width: Math.max(1, bw - gap), height: bh},
        svg('title', {}, `${b.lo} – ${b.hi}: ${fmtNum(b.count)}`));
    }));
}

/** values = [{value, count}] → a list with proportional bars (readable without the bars). */
export function topValues(values, total) {
  const max = Math.max(1, ...values.map(v => v.count));
  return h('ul', {class: 'bars', 'aria-label': 'most frequent values'}, values.map(v => {
    const bar = h('div', {class: 'bar'});
    bar.style.width = `${(100 * v.count) / max}%`;
    const pct = total ? ` (${((100 * v.count) / total).toFixed(1)}%)` : '';
    return h('li', {}, bar, h('span', {}, String(v.value)), h('span', {}, fmtNum(v.count) + pct));
  }));
}
