// Small DOM helpers: elements are built with text nodes only (never innerHTML), so keys and values shown are inert.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function bytes(n) {
  if (!Number.isFinite(n)) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

export function duration(seconds) {
  if (!Number.isFinite(seconds)) return '-';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400), hr = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  if (d > 0) return `${d}d ${hr}h`;
  if (hr > 0) return `${hr}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

export function fixed(n, digits = 1) {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

export function badge(text, kind) {
  return h('span', { class: `badge ${kind ?? text}` }, text);
}

/** Colours per node id and per operation, stable across pages. */
const palette = ['#2f6fde', '#1f9d55', '#d98b00', '#9b51e0', '#d64545', '#0e9aa7', '#6b7a8f', '#b5651d', '#c2185b'];
export const nodeColor = id => palette[(Number(id) - 1 + palette.length) % palette.length];
export const opColors = { get: '#2f6fde', put: '#1f9d55', delete: '#d64545', cas: '#9b51e0', scan: '#d98b00', batch: '#0e9aa7' };
