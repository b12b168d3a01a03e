// Storage: per node the block cache, per replica the LSM picture (memtable, tables and bytes per level, compaction
// debt, flushes, compactions, write amplification, stalls), in a virtualised list.
import { h, replace, bytes, fixed } from './dom.js';
import { store } from './app.js';
import { VirtualList } from './vlist.js';

let cardsEl, list, nodeEl, sortEl, countEl;

function levels(storage) {
  const used = storage.levels.filter(l => l.tables > 0);
  return used.length === 0 ? 'empty' : used.map(l => `L${l.level} ${l.tables}/${bytes(l.bytes)}`).join(' · ');
}

function renderRow(r) {
  const s = r.storage;
  return h('div', { 'data-testid': 'storage-row', 'data-node': r.node, 'data-shard': r.shardId },
    h('span', { class: 'id mono' }, `n${r.node} #${r.shardId}`),
    s ? [
      h('span', { class: 'meta mono', title: 'memtable bytes (immutable memtables waiting to flush)' }, `mem ${bytes(s.memtableBytes)}${s.immutableMemtables ? ` +${s.immutableMemtables} imm` : ''}`),
      h('span', { class: 'replicas mono' },
        `${levels(s)} · debt ${bytes(s.compactionDebtBytes)} · flushes ${s.flushes} · compactions ${s.compactions} · WA ${fixed(s.writeAmplification, 2)} · stalls ${s.writeStalls}`),
    ] : h('span', { class: 'muted' }, 'engine closed (installing a snapshot or stopping)'));
}

const sorts = {
  shard: (a, b) => a.shardId - b.shardId || a.node - b.node,
  memtable: (a, b) => (b.storage?.memtableBytes ?? 0) - (a.storage?.memtableBytes ?? 0),
  debt: (a, b) => (b.storage?.compactionDebtBytes ?? 0) - (a.storage?.compactionDebtBytes ?? 0),
  size: (a, b) => total(b) - total(a),
};
const total = r => (r.storage?.levels ?? []).reduce((t, l) => t + l.bytes, 0);

function render() {
  const reports = store.nodes ?? [];
  const selected = nodeEl.value;
  const known = new Set([...nodeEl.options].map(o => o.value));
  for (const r of reports) if (!known.has(String(r.nodeId))) nodeEl.append(h('option', { value: r.nodeId }, `node ${r.nodeId}`));
  replace(cardsEl, reports.map(r => {
    const st = r.status;
    if (!st) return h('div', { class: 'panel' }, h('h2', {}, `Node ${r.nodeId}`), h('p', { class: 'muted' }, r.error ?? 'no report'));
    const reps = st.replicas;
    const sum = f => reps.reduce((t, x) => t + (x.storage ? f(x.storage) : 0), 0);
    return h('div', { class: 'panel', 'data-testid': 'storage-node', 'data-node': r.nodeId }, h('h2', {}, `Node ${r.nodeId}`),
      h('dl', { class: 'kv' },
        h('dt', {}, 'Replicas'), h('dd', {}, reps.length),
        h('dt', {}, 'Memtables'), h('dd', {}, bytes(sum(s => s.memtableBytes))),
        h('dt', {}, 'Tables'), h('dd', {}, `${sum(s => s.levels.reduce((t, l) => t + l.tables, 0))} (${bytes(sum(s => s.levels.reduce((t, l) => t + l.bytes, 0)))})`),
        h('dt', {}, 'Compaction debt'), h('dd', {}, bytes(sum(s => s.compactionDebtBytes))),
        h('dt', {}, 'Block cache'), h('dd', {}, `${(st.blockCache.hitRate * 100).toFixed(1)}% hits (${st.blockCache.hits} / ${st.blockCache.hits + st.blockCache.misses}) of ${bytes(st.blockCache.capacityBytes)}`),
        h('dt', {}, 'Flushes'), h('dd', {}, sum(s => s.flushes)),
        h('dt', {}, 'Compactions'), h('dd', {}, sum(s => s.compactions))));
  }));
  const rows = [];
  for (const r of reports)
    if (!selected || String(r.nodeId) === selected)
      for (const rep of r.status?.replicas ?? []) rows.push({ node: r.nodeId, ...rep });
  rows.sort(sorts[sortEl.value] ?? sorts.shard);
  replace(countEl, `${rows.length} replicas`);
  list.setItems(rows);
}

export default {
  mount(root) {
    cardsEl = h('div', { class: 'grid' });
    nodeEl = h('select', { 'aria-label': 'Node', onchange: () => render() }, h('option', { value: '' }, 'all nodes'));
    sortEl = h('select', { 'aria-label': 'Sort replicas', onchange: () => render() }, Object.keys(sorts).map(k => h('option', { value: k }, `sort: ${k}`)));
    countEl = h('span', { class: 'muted' });
    list = new VirtualList(window.matchMedia('(max-width: 700px)').matches ? 64 : 38, renderRow, { 'data-testid': 'storage-list' });
    root.append(h('h1', {}, 'Storage'), cardsEl,
      h('div', { class: 'panel' }, h('div', { class: 'toolbar' }, nodeEl, sortEl, countEl), list.el));
    render();
  },
  update(what) { if (what === 'cluster') render(); },
  unmount() { list?.dispose(); },
};
