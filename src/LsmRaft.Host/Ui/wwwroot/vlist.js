// A virtualised list: only the rows in view (plus a margin) exist in the DOM, so thousands of shards stay fast.
import { h } from './dom.js';

export class VirtualList {
  constructor(rowHeight, renderRow, attrs = {}) {
    this.rowHeight = rowHeight;
    this.renderRow = renderRow;
    this.items = [];
    this.el = h('div', { class: 'vlist', ...attrs });
    this.spacer = h('div', { style: 'height:0' });
    this.el.append(this.spacer);
    this.el.addEventListener('scroll', () => this.draw(), { passive: true });
    this.resize = new ResizeObserver(() => this.draw());
    this.resize.observe(this.el);
  }

  setItems(items) {
    this.items = items;
    this.spacer.style.height = `${items.length * this.rowHeight}px`;
    this.draw();
  }

  draw() {
    const height = this.el.clientHeight || 400;
    const first = Math.max(0, Math.floor(this.el.scrollTop / this.rowHeight) - 10);
    const last = Math.min(this.items.length, Math.ceil((this.el.scrollTop + height) / this.rowHeight) + 10);
    const rows = [];
    for (let i = first; i < last; i++) {
      const row = this.renderRow(this.items[i], i);
      row.classList.add('row');
      row.style.top = `${i * this.rowHeight}px`;
      row.style.height = `${this.rowHeight}px`;
      rows.push(row);
    }
    this.el.replaceChildren(this.spacer, ...rows);
  }

  dispose() { this.resize.disconnect(); }
}
