// A worker called like a function, shared by the benchmark pages and workers.

/** A worker answering `{ id, result }` or `{ id, error }` to each `{ id, ... }`. */
export class Rpc {
  constructor(url) {
    this.worker = new Worker(new URL(url, import.meta.url), { type: 'module' });
    this.pending = new Map();
    this.nextId = 0;
    this.worker.onmessage = ({ data }) => {
      const { resolve, reject } = this.pending.get(data.id);
      this.pending.delete(data.id);
      if ('error' in data) reject(new Error(data.error));
      else resolve(data.result);
    };
    this.worker.onerror = (event) => {
      for (const { reject } of this.pending.values()) reject(new Error(event.message));
      this.pending.clear();
    };
  }

  call(message, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  terminate() {
    this.worker.terminate();
  }
}
