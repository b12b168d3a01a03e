// Traffic: per node, live requests/s and p50/p99 latency per operation, and 429/503/write-stall rates (one sample a second).
import { h, replace, opColors } from './dom.js';
import { store } from './app.js';
import { lineChart, legend } from './charts.js';

const OPS = ['get', 'put', 'delete', 'cas', 'scan', 'batch'];
let gridEl;

function series(samples, pick) {
  return samples.map(s => [Date.parse(s.end), pick(s)]);
}

function nodePanel(nodeId, samples) {
  const now = Date.now();
  const active = OPS.filter(op => samples.some(s => s.operations[op]?.count > 0));
  const shown = active.length ? active : ['get', 'put'];
  const rate = shown.map(op => ({ name: op, color: opColors[op], points: series(samples, s => s.operations[op]?.perSecond ?? 0) }));
  const latency = shown.flatMap(op => [
    { name: `${op} p50`, color: opColors[op], points: series(samples.filter(s => s.operations[op]?.count > 0), s => s.operations[op].p50Ms) },
    { name: `${op} p99`, color: opColors[op], dashed: true, points: series(samples.filter(s => s.operations[op]?.count > 0), s => s.operations[op].p99Ms) },
  ]);
  const errors = [
    { name: '429/s', color: '#d98b00', points: series(samples, s => s.rejected429PerSecond) },
    { name: '503/s', color: '#d64545', points: series(samples, s => s.unavailable503PerSecond) },
    { name: 'write stalls/s', color: '#6b7a8f', points: series(samples, s => s.writeStallsPerSecond) },
  ];
  const last = samples[samples.length - 1];
  const total = last ? OPS.reduce((t, op) => t + (last.operations[op]?.perSecond ?? 0), 0) : 0;
  return h('div', { class: 'panel', 'data-testid': 'traffic-node', 'data-node': nodeId },
    h('h2', {}, `Node ${nodeId} `, h('span', { class: 'muted' }, `${total.toFixed(1)} req/s now`)),
    h('div', { class: 'muted' }, 'Requests per second'),
    h('div', { 'data-testid': 'traffic-rate', 'data-node': nodeId }, lineChart(rate, { now, label: `node ${nodeId} requests per second` })), legend(rate),
    h('div', { class: 'muted' }, 'Latency (ms): p50 solid, p99 dashed'),
    lineChart(latency, { now, unit: '', label: `node ${nodeId} latency` }),
    h('div', { class: 'muted' }, 'Rejections and stalls per second'),
    lineChart(errors, { now, label: `node ${nodeId} errors` }), legend(errors));
}

function render() {
  const ids = [...new Set([...(store.cluster?.nodes ?? []).map(n => n.id), ...store.traffic.keys()])].sort((a, b) => a - b);
  replace(gridEl, ids.length === 0 ? h('p', { class: 'muted' }, 'Waiting for the first samples…')
    : ids.map(id => nodePanel(id, store.traffic.get(id) ?? [])));
}

export default {
  mount(root) {
    gridEl = h('div', { class: 'grid', style: 'grid-template-columns: repeat(auto-fill, minmax(min(420px, 100%), 1fr))' });
    root.append(h('h1', {}, 'Traffic'), h('p', { class: 'muted' }, 'The API requests each node served, one sample a second, the last two minutes.'), gridEl);
    render();
  },
  update(what) { if (what === 'traffic' || what === 'cluster') render(); },
};
