// The admin UI's shell: the shared store (cluster view, node reports, events, traffic), the live event stream, the router.
import { h, replace } from './dom.js';
import cluster from './page-cluster.js';
import shards from './page-shards.js';
import storage from './page-storage.js';
import traffic from './page-traffic.js';
import actions from './page-actions.js';
import data from './page-data.js';

const pages = { cluster, shards, storage, traffic, actions, data };
const TRAFFIC_KEEP_MS = 120000;

/** JSON from this node's API; a problem answer becomes an Error whose message is the problem's detail. */
export async function api(path, init = {}) {
  const response = await fetch(path, { ...init, headers: { Accept: 'application/json', ...(init.headers ?? {}) } });
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  if (!response.ok) {
    const error = new Error(body?.detail ?? body?.title ?? `${response.status} ${response.statusText}`);
    error.status = response.status;
    error.body = body;
    throw error;
  }
  return body;
}

/** The state every page reads; pages re-render through store.changed(). */
export const store = {
  cluster: null,        // GET /v1/cluster
  nodes: null,          // GET /v1/nodes
  events: [],           // newest first
  traffic: new Map(),   // node id -> [TrafficSample] oldest first
  listeners: new Set(),
  error: null,
  changed(what) { for (const fn of this.listeners) fn(what); },
};

let refreshTimer = null;
let refreshing = null;
/** Re-reads the cluster view and every node's report (coalesced: one round at a time). */
export function refresh() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      const [view, nodes] = await Promise.all([api('/v1/cluster'), api('/v1/nodes')]);
      store.cluster = view;
      store.nodes = nodes;
      store.error = null;
    } catch (e) {
      store.error = e.message;
    } finally {
      refreshing = null;
    }
    store.changed('cluster');
  })();
  return refreshing;
}

function scheduleRefresh(delayMs) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, delayMs);
}

function addSample(sample) {
  const list = store.traffic.get(sample.nodeId) ?? [];
  const t = Date.parse(sample.end);
  if (list.length && Date.parse(list[list.length - 1].end) >= t) return;
  list.push(sample);
  while (list.length && Date.parse(list[0].end) < t - TRAFFIC_KEEP_MS) list.shift();
  store.traffic.set(sample.nodeId, list);
}

async function loadTraffic() {
  try {
    for (const history of await api('/v1/nodes/traffic'))
      for (const sample of history.samples) addSample(sample);
    store.changed('traffic');
  } catch (e) {
    store.error = e.message;
  }
}

const EVENT_KINDS = ['snapshot', 'node-joined', 'node-state', 'node-left', 'leader-changed', 'shard-added', 'shard-removed', 'shard-changed'];
function connect() {
  const live = document.getElementById('live');
  const source = new EventSource('/v1/events?traffic=true');
  source.onopen = () => { live.dataset.state = 'open'; live.textContent = 'live'; };
  source.onerror = () => { live.dataset.state = 'error'; live.textContent = 'reconnecting'; };
  for (const kind of EVENT_KINDS) {
    source.addEventListener(kind, message => {
      const e = JSON.parse(message.data);
      if (kind !== 'snapshot' || !store.events.some(x => x.kind === 'snapshot')) store.events.unshift(e);
      if (store.events.length > 200) store.events.length = 200;
      store.changed('events');
      scheduleRefresh(kind === 'snapshot' ? 0 : 100);
    });
  }
  source.addEventListener('traffic', message => {
    addSample(JSON.parse(message.data));
    store.changed('traffic');
  });
}

let current = null;
function route() {
  const name = (location.hash.match(/^#\/(\w+)/) ?? [])[1];
  const page = pages[name] ? name : 'cluster';
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
  if (current?.name === page) return;
  current?.page.unmount?.();
  const main = document.getElementById('main');
  const root = h('section', { 'data-testid': `page-${page}` });
  replace(main, root);
  current = { name: page, page: pages[page] };
  document.title = `LsmRaft · ${page}`;
  current.page.mount(root);
}

store.listeners.add(what => current?.page.update?.(what));
window.addEventListener('hashchange', route);
route();
connect();
refresh();
loadTraffic();
// Indexes and engine shapes move without membership events: keep them fresh while the tab is visible.
setInterval(() => { if (!document.hidden) refresh(); }, 3000);
