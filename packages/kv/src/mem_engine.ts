/**
 * An in-memory Engine for simulations and fault tests: ordered keys in a sorted array, and a
 * durability model — writes are visible at once and durable only after sync() (what flushed()
 * waits for), so powerCut() can drop everything written since the last sync, as a real power
 * cut drops what an engine had not yet flushed.
 */
import type { Engine, EngineEntry, EngineReadView, EngineWrite } from './engine.js';

function search(keys: Buffer[], key: Uint8Array): { found: boolean; at: number } {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = Buffer.compare(keys[mid] as Buffer, key);
    if (c === 0) return { found: true, at: mid };
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return { found: false, at: lo };
}

export class MemEngine implements Engine {
  private keys: Buffer[] = [];
  private values = new Map<string, Buffer>();
  /** Writes since the last sync, in order (replayed onto `durable` by sync, dropped by powerCut). */
  private unsynced: EngineWrite[] = [];
  private durable = new Map<string, Buffer>();
  private waiting: (() => void)[] = [];
  /** When false, flushed() does not resolve until sync() is called (the test drives durability). */
  autoSync = true;

  get(key: Uint8Array): Buffer | undefined {
    return this.values.get(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1'));
  }

  *scan(start: Uint8Array, end: Uint8Array, reverse = false, limit = Infinity): Iterable<EngineEntry> {
    let n = 0;
    if (!reverse) {
      for (let i = search(this.keys, start).at; i < this.keys.length && n < limit; i++) {
        const k = this.keys[i] as Buffer;
        if (Buffer.compare(k, end) >= 0) return;
        const v = this.values.get(k.toString('latin1'));
        if (v === undefined) continue;
        n++;
        yield { key: k, value: v };
      }
      return;
    }
    const e = search(this.keys, end);
    for (let i = e.at - 1; i >= 0 && n < limit; i--) {
      const k = this.keys[i] as Buffer;
      if (Buffer.compare(k, start) < 0) return;
      const v = this.values.get(k.toString('latin1'));
      if (v === undefined) continue;
      n++;
      yield { key: k, value: v };
    }
  }

  write(writes: readonly EngineWrite[]): void {
    for (const w of writes) {
      this.apply(w);
      this.unsynced.push({ key: Buffer.from(w.key), value: w.value === null ? null : Buffer.from(w.value) });
    }
    if (this.autoSync) queueMicrotask(() => this.sync());
  }

  private apply(w: EngineWrite): void {
    const key = Buffer.from(w.key);
    const k = key.toString('latin1');
    const s = search(this.keys, key);
    if (w.value === null) {
      if (s.found) this.keys.splice(s.at, 1);
      this.values.delete(k);
      return;
    }
    if (!s.found) this.keys.splice(s.at, 0, key);
    this.values.set(k, Buffer.from(w.value));
  }

  /** Makes every write so far durable and resolves flushed() waiters. */
  sync(): void {
    for (const w of this.unsynced) {
      const k = Buffer.from(w.key).toString('latin1');
      if (w.value === null) this.durable.delete(k);
      else this.durable.set(k, w.value as Buffer);
    }
    this.unsynced = [];
    for (const f of this.waiting.splice(0)) f();
  }

  flushed(): Promise<void> {
    if (this.unsynced.length === 0) return Promise.resolve();
    return new Promise((res) => this.waiting.push(res));
  }

  /** A power cut: the engine reverts to what was synced. */
  powerCut(): void {
    this.unsynced = [];
    this.waiting = [];
    this.values = new Map(this.durable);
    this.keys = [...this.values.keys()].map((k) => Buffer.from(k, 'latin1')).sort(Buffer.compare);
  }

  readView(): EngineReadView {
    const copy = new MemEngine();
    copy.keys = this.keys.slice();
    copy.values = new Map(this.values);
    return { get: (k) => copy.get(k), scan: (s, e) => copy.scan(s, e), release: () => {} };
  }

  sizeBytes(): number {
    let n = 0;
    for (const [k, v] of this.values) n += k.length + v.length;
    return n;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
