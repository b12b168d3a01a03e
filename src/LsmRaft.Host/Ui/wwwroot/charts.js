// SVG charts drawn by hand: a time-series line chart and the hash ring as a bar. No library.
import { h } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs ?? {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/**
 * A line chart of series [{ name, color, points: [[timeMs, value], ...], dashed }] over the last `windowMs`.
 * Each series' path carries data-series and data-max (the largest value plotted), which tests and tooltips read.
 */
export function lineChart(series, { windowMs = 120000, unit = '', now = Date.now(), label = '' } = {}) {
  const W = 600, H = 180, L = 44, R = 8, T = 10, B = 22;
  const start = now - windowMs;
  let max = 0;
  for (const sr of series) for (const [t, v] of sr.points) if (t >= start && v > max) max = v;
  const top = niceMax(max);
  const x = t => L + (t - start) / windowMs * (W - L - R);
  const y = v => T + (1 - v / top) * (H - T - B);
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label });
  for (let i = 0; i <= 4; i++) {
    const v = top * i / 4;
    svg.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: '#e3e6eb' }));
    svg.append(s('text', { x: L - 4, y: y(v) + 4, 'text-anchor': 'end' }, `${+v.toPrecision(3)}${unit}`));
  }
  for (let k = 0; k <= 4; k++) {
    const t = start + windowMs * k / 4;
    svg.append(s('text', { x: x(t), y: H - 6, 'text-anchor': k === 0 ? 'start' : k === 4 ? 'end' : 'middle' }, `-${Math.round((now - t) / 1000)}s`));
  }
  for (const sr of series) {
    const pts = sr.points.filter(([t]) => t >= start);
    const seriesMax = pts.reduce((m, [, v]) => Math.max(m, v), 0);
    const d = pts.map(([t, v], i) => `${i === 0 ? 'M' : 'L'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join('');
    svg.append(s('path', {
      d: d || `M${L},${y(0)}`, fill: 'none', stroke: sr.color, 'stroke-width': 2, 'stroke-dasharray': sr.dashed ? '5 4' : null,
      'vector-effect': 'non-scaling-stroke', 'data-series': sr.name, 'data-max': seriesMax,
    }, s('title', {}, `${sr.name}: max ${+seriesMax.toPrecision(4)}${unit}`)));
  }
  return svg;
}

export function legend(series) {
  return h('div', { class: 'legend' }, series.map(sr => h('span', { style: `--c:${sr.color}` }, sr.name)));
}

const RING = 2 ** 64;
/**
 * The 64-bit hash ring as a bar: one rectangle per shard, width its share of the ring, coloured by its leader's node.
 * Ranges arrive as JSON numbers (a browser loses the low bits above 2^53; irrelevant at this scale).
 */
export function ringBar(shards, colorOf, onSelect) {
  const W = 1000, H = 56;
  const svg = s('svg', { class: 'ring', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'Hash ring' });
  for (const sh of shards) {
    const x0 = sh.rangeStart / RING * W, x1 = (sh.rangeEnd + 1) / RING * W;
    const rect = s('rect', {
      x: x0.toFixed(2), y: 4, width: Math.max(0.5, x1 - x0).toFixed(2), height: H - 8, fill: sh.leader ? colorOf(sh.leader) : '#bbb',
      stroke: '#fff', 'stroke-width': 1, 'vector-effect': 'non-scaling-stroke', 'data-shard': sh.id, style: 'cursor:pointer',
    }, s('title', {}, `shard ${sh.id}, epoch ${sh.epoch}, leader ${sh.leader ?? 'none'}, ${((sh.rangeEnd - sh.rangeStart + 1) / RING * 100).toFixed(2)}% of the ring`));
    if (onSelect) rect.addEventListener('click', () => onSelect(sh));
    svg.append(rect);
  }
  return svg;
}
