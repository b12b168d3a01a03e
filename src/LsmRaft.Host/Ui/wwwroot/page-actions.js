// Actions: transfer a shard's leader, split a shard, move a replica, drain a node. Each asks for confirmation first,
// sends the admin token when one is set, and shows its progress until the cluster view says it is done.
import { h, replace } from './dom.js';
import { api, store, refresh } from './app.js';

const TOKEN_KEY = 'lsmraft.adminToken';
let tokenEl, progressEl, formsEl;

function confirmAction(text) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  return new Promise(resolve => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = 'cancel';
    dialog.showModal();
  });
}

function admin(path, body) {
  const token = tokenEl.value.trim();
  return api(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** A progress entry: returns set(text, state) to update it; state is running, done or failed. */
function progress(title) {
  const status = h('span', {}, 'waiting for confirmation');
  const item = h('li', { 'data-testid': 'progress-item', 'data-state': 'running' }, h('strong', {}, title), ' — ', status);
  progressEl.prepend(item);
  return (text, state = 'running') => {
    status.textContent = text;
    item.dataset.state = state;
    item.className = state;
  };
}

/** Polls the cluster view until `done(view)` holds, at most `seconds`. */
async function until(done, seconds) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const view = await api('/v1/cluster');
    if (done(view)) return view;
    await new Promise(r => setTimeout(r, 300));
  }
  return null;
}

async function run(title, question, work) {
  const set = progress(title);
  if (!(await confirmAction(question))) { set('cancelled', 'failed'); return; }
  try {
    set('sent');
    set(await work(set), 'done');
  } catch (e) {
    set(e.status === 401 ? `${e.message} (enter the admin token above)` : e.message, 'failed');
  }
  refresh();
}

const shardOptions = () => (store.cluster?.shards ?? []).map(s => h('option', { value: s.id }, `shard ${s.id} (leader ${s.leader ?? 'none'}, replicas ${s.replicas.join(',')})`));
const nodeOptions = () => (store.cluster?.nodes ?? []).map(n => h('option', { value: n.id }, `node ${n.id} (${n.state})`));

function forms() {
  const tShard = h('select', { 'data-testid': 'transfer-shard', 'aria-label': 'Shard' }, shardOptions());
  const tTo = h('select', { 'data-testid': 'transfer-to', 'aria-label': 'New leader' }, nodeOptions());
  const sShard = h('select', { 'aria-label': 'Shard to split' }, shardOptions());
  const mShard = h('select', { 'aria-label': 'Shard to move' }, shardOptions());
  const mFrom = h('select', { 'aria-label': 'From node' }, nodeOptions());
  const mTo = h('select', { 'aria-label': 'To node' }, nodeOptions());
  const dNode = h('select', { 'aria-label': 'Node to drain' }, nodeOptions());
  return [
    h('div', { class: 'panel' }, h('h2', {}, 'Transfer leadership'),
      h('div', { class: 'toolbar' }, h('label', {}, 'Shard', tShard), h('label', {}, 'To node', tTo),
        h('button', { class: 'primary', 'data-testid': 'transfer-submit', onclick: () => {
          const id = Number(tShard.value), to = Number(tTo.value);
          run(`Transfer shard ${id}'s leadership to node ${to}`, `Make node ${to} the leader of shard ${id}? Requests to the shard pause for a moment while leadership moves.`, async set => {
            await admin(`/v1/admin/shards/${id}/transfer-leader`, { to });
            set(`waiting for node ${to} to lead`);
            return (await until(v => v.shards.find(s => s.id === id)?.leader === to, 15)) ? `node ${to} leads shard ${id}` : Promise.reject(new Error(`node ${to} did not become leader within 15 s`));
          });
        } }, 'Transfer…'))),
    h('div', { class: 'panel' }, h('h2', {}, 'Split a shard'),
      h('div', { class: 'toolbar' }, h('label', {}, 'Shard', sShard),
        h('button', { class: 'primary', onclick: () => {
          const id = Number(sShard.value), before = store.cluster.shards.length;
          run(`Split shard ${id}`, `Split shard ${id}'s hash range in two? A new shard takes the upper half on the same replicas.`, async set => {
            const view = await admin(`/v1/admin/shards/${id}/split`);
            return `split: the map has ${view.shards.length} shards (was ${before})`;
          });
        } }, 'Split…'))),
    h('div', { class: 'panel' }, h('h2', {}, 'Move a replica'),
      h('div', { class: 'toolbar' }, h('label', {}, 'Shard', mShard), h('label', {}, 'From node', mFrom), h('label', {}, 'To node', mTo),
        h('button', { class: 'primary', onclick: () => {
          const id = Number(mShard.value), from = Number(mFrom.value), to = Number(mTo.value);
          run(`Move shard ${id}'s replica ${from} → ${to}`, `Move shard ${id}'s replica from node ${from} to node ${to}? The new replica catches up as a learner before the old one is removed.`, async set => {
            set('adding a learner, catching up, promoting, removing the old replica');
            await admin(`/v1/admin/shards/${id}/move`, { from, to });
            const view = await api('/v1/cluster');
            return `moved: shard ${id}'s replicas are ${view.shards.find(s => s.id === id)?.replicas.join(',') ?? '?'}`;
          });
        } }, 'Move…'))),
    h('div', { class: 'panel' }, h('h2', {}, 'Drain a node'),
      h('p', { class: 'muted' }, 'Moves every replica off the node, one shard at a time, each to the live node with the fewest replicas that holds none of that shard.'),
      h('div', { class: 'toolbar' }, h('label', {}, 'Node', dNode),
        h('button', { class: 'primary', onclick: () => {
          const node = Number(dNode.value);
          run(`Drain node ${node}`, `Move every replica off node ${node}? Each move copies the shard's data to another node.`, async set => drain(node, set));
        } }, 'Drain…'))),
  ];
}

async function drain(node, set) {
  const view = await api('/v1/cluster');
  const todo = view.shards.filter(s => s.replicas.includes(node));
  let done = 0;
  for (const s of todo) {
    const current = await api('/v1/cluster');
    const counts = new Map(current.nodes.filter(n => n.state === 'up' && n.id !== node).map(n => [n.id, 0]));
    for (const sh of current.shards) for (const r of sh.replicas) if (counts.has(r)) counts.set(r, counts.get(r) + 1);
    const holders = current.shards.find(x => x.id === s.id)?.replicas ?? [];
    const target = [...counts].filter(([id]) => !holders.includes(id)).sort((a, b) => a[1] - b[1] || a[0] - b[0])[0]?.[0];
    if (target === undefined)
      throw new Error(`moved ${done} of ${todo.length}; no live node can take shard ${s.id}'s replica (each already holds one): add a node first`);
    set(`moving shard ${s.id} to node ${target} (${done} of ${todo.length} done)`);
    await admin(`/v1/admin/shards/${s.id}/move`, { from: node, to: target });
    done++;
  }
  return `node ${node} holds no replicas (${done} moved)`;
}

export default {
  mount(root) {
    tokenEl = h('input', { type: 'password', placeholder: 'admin token (if the node has one)', autocomplete: 'off', 'aria-label': 'Admin token',
      value: sessionStorage.getItem(TOKEN_KEY) ?? '', oninput: () => sessionStorage.setItem(TOKEN_KEY, tokenEl.value) });
    progressEl = h('ul', { class: 'progress', 'data-testid': 'progress' });
    formsEl = h('div');
    root.append(h('h1', {}, 'Actions'),
      h('div', { class: 'panel' }, h('div', { class: 'toolbar' }, h('label', {}, 'Admin token', tokenEl),
        h('span', { class: 'muted' }, 'Kept in this tab only; sent as Authorization: Bearer.'))),
      formsEl, h('h2', {}, 'Progress'), h('div', { class: 'panel' }, progressEl));
    replace(formsEl, forms());
  },
  update(what) {
    // Re-fill the selects only while none is focused, so a choice being made is not reset.
    if (what !== 'cluster' || formsEl.contains(document.activeElement)) return;
    const values = [...formsEl.querySelectorAll('select')].map(s => s.value);
    replace(formsEl, forms());
    [...formsEl.querySelectorAll('select')].forEach((s, i) => { if ([...s.options].some(o => o.value === values[i])) s.value = values[i]; });
  },
};
