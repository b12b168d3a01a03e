// Cluster: every node (state, addresses, replicas, leaders held, uptime, version) and the membership events, live.
import { h, replace, badge, duration } from './dom.js';
import { store } from './app.js';

let root, nodesEl, eventsEl, summaryEl;

function nodeRows() {
  const view = store.cluster;
  if (!view) return [h('tr', {}, h('td', { colspan: 9, class: 'muted' }, store.error ?? 'loading…'))];
  const reports = new Map((store.nodes ?? []).map(r => [r.nodeId, r]));
  return view.nodes.map(node => {
    const report = reports.get(node.id);
    const status = report?.status;
    const replicas = view.shards.filter(s => s.replicas.includes(node.id)).length;
    const leads = view.shards.filter(s => s.leader === node.id).length;
    return h('tr', { 'data-testid': 'node-row', 'data-node': node.id, 'data-state': node.state },
      h('td', { class: 'mono' }, node.id),
      h('td', {}, badge(node.state)),
      h('td', { class: 'mono' }, node.peerAddress),
      h('td', { class: 'mono' }, node.httpAddress ? h('a', { href: `${node.httpAddress}/ui/` }, node.httpAddress) : '-'),
      h('td', {}, replicas),
      h('td', { 'data-testid': 'leads' }, leads),
      h('td', {}, status ? duration(status.uptimeSeconds) : '-'),
      h('td', { class: 'mono hide-narrow' }, status ? status.version.split('+')[0] : '-'),
      h('td', {}, status ? (status.ready ? badge('ready', 'up') : h('span', { title: status.notReadyReason }, badge('not ready', 'draining')))
        : h('span', { class: 'muted', title: report?.error ?? '' }, 'unreachable')));
  });
}

function render() {
  const view = store.cluster;
  if (view) {
    const up = view.nodes.filter(n => n.state === 'up').length;
    const led = view.shards.filter(s => s.leader != null).length;
    replace(summaryEl, `Cluster ${view.clusterId} · ${view.nodes.length} nodes (${up} up) · ${view.shards.length} shards (${led} with a leader) · shard map v${view.mapVersion}`);
  }
  replace(nodesEl, nodeRows());
  replace(eventsEl, store.events.length === 0 ? h('li', { class: 'muted' }, 'No events yet; changes appear here as they happen.')
    : store.events.map(e => h('li', { 'data-kind': e.kind },
      h('span', { class: 'mono muted' }, new Date(e.time).toLocaleTimeString(), ' '), badge(e.kind, e.kind === 'node-state' && e.after === 'down' ? 'down' : 'follower'), ' ', e.text)));
}

export default {
  mount(el) {
    root = el;
    summaryEl = h('p', { class: 'muted', 'data-testid': 'cluster-summary' });
    nodesEl = h('tbody');
    eventsEl = h('ul', { class: 'events', 'data-testid': 'events' });
    root.append(
      h('h1', {}, 'Cluster'), summaryEl,
      h('div', { class: 'panel' }, h('table', { 'data-testid': 'nodes' },
        h('thead', {}, h('tr', {}, ['Node', 'State', 'Peer address', 'HTTP address', 'Replicas', 'Leads', 'Uptime', 'Version', 'Ready']
          .map((c, i) => h('th', { class: i === 7 ? 'hide-narrow' : null }, c)))), nodesEl)),
      h('h2', {}, 'Membership and leadership events'),
      h('div', { class: 'panel' }, eventsEl));
    render();
  },
  update() { render(); },
};
