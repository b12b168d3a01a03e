// Shards: the hash ring as a bar, and every shard's replicas (role, term, commit/applied, lag, quiesced) in a
// virtualised list with a filter and a sort, so thousands of shards stay usable.
import { h, replace, nodeColor } from './dom.js';
import { store } from './app.js';
import { ringBar } from './charts.js';
import { VirtualList } from './vlist.js';

let ringEl, list, filterEl, sortEl, countEl, legendEl;

/** Per shard: the replicas as their own nodes report them, and the lag of each behind the leader's commit index. */
export function shardRows() {
  const view = store.cluster;
  if (!view) return [];
  const byShard = new Map();
  for (const report of store.nodes ?? [])
    for (const r of report.status?.replicas ?? []) {
      if (!byShard.has(r.shardId)) byShard.set(r.shardId, []);
      byShard.get(r.shardId).push({ node: report.nodeId, ...r });
    }
  return view.shards.map(shard => {
    const replicas = (byShard.get(shard.id) ?? []).sort((a, b) => a.node - b.node);
    const leaderReplica = replicas.find(r => r.role === 'leader');
    for (const r of replicas) r.lag = leaderReplica ? Math.max(0, leaderReplica.commit - r.applied) : null;
    const maxLag = replicas.reduce((m, r) => Math.max(m, r.lag ?? 0), 0);
    return { shard, replicas, maxLag, share: (shard.rangeEnd - shard.rangeStart + 1) / 2 ** 64 };
  });
}

function matches(row, filter) {
  if (!filter) return true;
  const f = filter.trim().toLowerCase();
  const m = f.match(/^(leader|node|n)\s*[:=]?\s*(\d+)$/);
  if (m) return m[1] === 'leader' ? row.shard.leader === Number(m[2]) : row.shard.replicas.includes(Number(m[2]));
  if (f === 'noleader') return row.shard.leader == null;
  if (f === 'lagging') return row.maxLag > 0;
  return String(row.shard.id) === f;
}

const sorts = {
  id: (a, b) => a.shard.id - b.shard.id,
  ring: (a, b) => a.shard.rangeStart - b.shard.rangeStart,
  lag: (a, b) => b.maxLag - a.maxLag || a.shard.id - b.shard.id,
  leader: (a, b) => (a.shard.leader ?? 0) - (b.shard.leader ?? 0) || a.shard.id - b.shard.id,
  epoch: (a, b) => b.shard.epoch - a.shard.epoch || a.shard.id - b.shard.id,
};

function renderRow(row) {
  const { shard } = row;
  return h('div', { 'data-testid': 'shard-row', 'data-shard': shard.id, 'data-leader': shard.leader ?? '' },
    h('span', { class: 'id mono' }, `#${shard.id}`),
    h('span', { class: 'meta mono' }, `epoch ${shard.epoch} · ${(row.share * 100).toFixed(2)}% · leader ${shard.leader ?? 'none'}`),
    h('span', { class: 'replicas' }, shard.replicas.concat(shard.learners).map(node => {
      const r = row.replicas.find(x => x.node === node);
      if (!r) return h('span', { class: 'chip', title: 'no report from this node' }, `n${node} ?`);
      const text = `n${node} ${r.role} t${r.term} c${r.commit}/a${r.applied}${r.lag ? ` lag ${r.lag}` : ''}${r.quiesced ? ' q' : ''}`;
      return h('span', { class: `chip ${r.role === 'leader' ? 'leader' : ''} ${r.lag > 0 ? 'lagging' : ''}`, title: r.quiesced ? 'quiesced (idle, no heartbeats)' : 'active' }, text);
    })));
}

function render() {
  const view = store.cluster;
  if (!view) return;
  const nodes = view.nodes.map(n => n.id);
  replace(legendEl, nodes.map(id => h('span', { style: `--c:${nodeColor(id)}` }, `leader n${id}`)), h('span', { style: '--c:#bbb' }, 'no leader'));
  replace(ringEl, ringBar([...view.shards].sort((a, b) => a.rangeStart - b.rangeStart), nodeColor, sh => { filterEl.value = String(sh.id); render(); }));
  const rows = shardRows().filter(r => matches(r, filterEl.value)).sort(sorts[sortEl.value] ?? sorts.id);
  replace(countEl, `${rows.length} of ${view.shards.length} shards`);
  list.setItems(rows);
}

export default {
  mount(root) {
    ringEl = h('div', { 'data-testid': 'ring' });
    legendEl = h('div', { class: 'legend' });
    filterEl = h('input', { type: 'search', placeholder: 'shard id, node 2, leader 1, lagging, noleader', 'aria-label': 'Filter shards', oninput: () => render(), 'data-testid': 'shard-filter', size: 34 });
    sortEl = h('select', { 'aria-label': 'Sort shards', onchange: () => render() },
      Object.keys(sorts).map(k => h('option', { value: k }, `sort: ${k}`)));
    countEl = h('span', { class: 'muted' });
    list = new VirtualList(window.matchMedia('(max-width: 700px)').matches ? 104 : 38, renderRow, { 'data-testid': 'shard-list' });
    root.append(h('h1', {}, 'Shards'),
      h('div', { class: 'panel' }, h('h2', {}, 'Hash ring (by leader)'), ringEl, legendEl),
      h('div', { class: 'panel' }, h('div', { class: 'toolbar' }, filterEl, sortEl, countEl), list.el));
    render();
  },
  update(what) { if (what === 'cluster') render(); },
  unmount() { list?.dispose(); },
};
