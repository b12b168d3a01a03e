// Data browser: look a key up (its hash, shard, replicas and leader; its value with encoding and version), and scan a
// prefix page by page with the API's continuation tokens.
import { h, replace } from './dom.js';
import { api } from './app.js';

let keyEl, encEl, consEl, resultEl, prefixEl, limitEl, pageEl, pages;

const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString();

async function lookup() {
  const key = keyEl.value;
  if (!key) { replace(resultEl, h('p', { class: 'error' }, 'Enter a key.')); return; }
  replace(resultEl, h('p', { class: 'muted' }, 'looking up…'));
  const path = encodeURIComponent(key);
  try {
    const loc = await api(`/v1/locate/${path}?${q({ encoding: encEl.value })}`);
    let item = null, missing = false;
    try {
      item = await api(`/v1/kv/${path}?${q({ encoding: encEl.value, consistency: consEl.value })}`);
    } catch (e) {
      if (e.status !== 404) throw e;
      missing = true;
    }
    replace(resultEl, h('dl', { class: 'kv', 'data-testid': 'lookup-result' },
      h('dt', {}, 'Key'), h('dd', { class: 'mono' }, `${loc.key} (${loc.encoding})`),
      h('dt', {}, 'Ring hash'), h('dd', { class: 'mono' }, loc.hash),
      h('dt', {}, 'Shard'), h('dd', { class: 'mono', 'data-testid': 'lookup-shard' }, `${loc.shardId} (range ${loc.rangeStart}..${loc.rangeEnd}, epoch ${loc.epoch})`),
      h('dt', {}, 'Replicas'), h('dd', { class: 'mono' }, `${loc.replicas.join(', ')}${loc.learners.length ? ` (learners ${loc.learners.join(', ')})` : ''}; leader ${loc.leader ?? 'none'}`),
      h('dt', {}, 'Value'), h('dd', {}, missing ? h('span', { class: 'muted', 'data-testid': 'lookup-missing' }, 'no such key')
        : [h('pre', { class: 'value', 'data-testid': 'lookup-value' }, item.value), h('span', { class: 'muted' }, `encoding ${item.encoding}, version ${item.version}, ${consEl.value} read`)])));
  } catch (e) {
    replace(resultEl, h('p', { class: 'error' }, e.message));
  }
}

async function scan(index) {
  const token = pages[index];
  replace(pageEl, h('p', { class: 'muted' }, 'scanning…'));
  try {
    const page = await api(`/v1/kv?${q({ prefix: prefixEl.value, limit: limitEl.value, encoding: encEl.value, consistency: consEl.value, continuation: token })}`);
    pages.length = index + 1;
    if (page.continuation) pages.push(page.continuation);
    replace(pageEl,
      h('table', { 'data-testid': 'scan-table' }, h('thead', {}, h('tr', {}, ['Key', 'Value', 'Encoding', 'Version'].map(c => h('th', {}, c)))),
        h('tbody', {}, page.items.length === 0 ? h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'no keys')) : page.items.map(item =>
          h('tr', {}, h('td', { class: 'mono' }, h('a', { href: '#/data', onclick: ev => { ev.preventDefault(); keyEl.value = item.key; lookup(); } }, item.key)),
            h('td', { class: 'mono' }, item.value.length > 80 ? `${item.value.slice(0, 80)}…` : item.value), h('td', {}, item.encoding), h('td', {}, item.version))))),
      h('div', { class: 'toolbar' },
        h('button', { disabled: index === 0, onclick: () => scan(0) }, 'First page'),
        h('button', { disabled: index === 0, onclick: () => scan(index - 1) }, 'Previous'),
        h('span', { class: 'muted' }, `page ${index + 1}`),
        h('button', { disabled: !page.continuation, 'data-testid': 'scan-next', onclick: () => scan(index + 1) }, 'Next page')));
  } catch (e) {
    replace(pageEl, h('p', { class: 'error' }, e.message));
  }
}

export default {
  mount(root) {
    keyEl = h('input', { type: 'text', placeholder: 'key', 'aria-label': 'Key', 'data-testid': 'lookup-key', onkeydown: e => { if (e.key === 'Enter') lookup(); } });
    encEl = h('select', { 'aria-label': 'Encoding' }, h('option', { value: 'utf8' }, 'utf8'), h('option', { value: 'base64url' }, 'base64url'));
    consEl = h('select', { 'aria-label': 'Consistency' }, ['linearizable', 'lease', 'stale'].map(c => h('option', { value: c }, c)));
    resultEl = h('div');
    prefixEl = h('input', { type: 'text', placeholder: 'prefix (empty = all keys)', 'aria-label': 'Prefix', 'data-testid': 'scan-prefix', onkeydown: e => { if (e.key === 'Enter') { pages = [null]; scan(0); } } });
    limitEl = h('select', { 'aria-label': 'Page size' }, [20, 50, 100].map(n => h('option', { value: n }, `${n} per page`)));
    pageEl = h('div');
    pages = [null];
    root.append(h('h1', {}, 'Data'),
      h('div', { class: 'panel' }, h('h2', {}, 'Look up a key'),
        h('div', { class: 'toolbar' }, keyEl, encEl, consEl, h('button', { class: 'primary', 'data-testid': 'lookup-submit', onclick: lookup }, 'Look up')), resultEl),
      h('div', { class: 'panel' }, h('h2', {}, 'Scan a prefix'),
        h('div', { class: 'toolbar' }, prefixEl, limitEl, h('button', { class: 'primary', 'data-testid': 'scan-submit', onclick: () => { pages = [null]; scan(0); } }, 'Scan')), pageEl));
  },
};
