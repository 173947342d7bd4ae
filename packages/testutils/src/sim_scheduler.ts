/**
 * Virtual time for an in-process cluster: one queue of events ordered by (time, sequence), run
 * one at a time; after each event every promise callback it set off runs (a real macrotask turn
 * drains the microtask queue) before the next event. Nodes get Timers that read this clock at
 * their own rate and offset (clock skew) — so nothing in a simulated cluster waits for real time,
 * and a run is a function of its seed.
 */
import type { TimerHandle, Timers } from '@strata/common';

interface Event {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class SimScheduler {
  /** Virtual milliseconds since the simulation started. */
  now = 0;
  private heap: Event[] = [];
  private seq = 0;
  /** Events run so far. */
  steps = 0;
  /** Exceptions thrown by events (a bug in the code under test: the run fails with them). */
  readonly errors: unknown[] = [];

  at(time: number, fn: () => void): Event {
    const ev: Event = { at: Math.max(time, this.now), seq: this.seq++, fn, cancelled: false };
    this.push(ev);
    return ev;
  }

  after(ms: number, fn: () => void): Event {
    return this.at(this.now + Math.max(0, ms), fn);
  }

  private push(ev: Event): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p] as Event, ev)) break;
      h[i] = h[p] as Event;
      i = p;
    }
    h[i] = ev;
  }

  private pop(): Event | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let best = last;
        if (l < h.length && less(h[l] as Event, best)) {
          m = l;
          best = h[l] as Event;
        }
        if (r < h.length && less(h[r] as Event, best)) m = r;
        if (m === i) break;
        h[i] = h[m] as Event;
        i = m;
      }
      h[i] = last;
    }
    return top;
  }

  /** Runs events until virtual time `until` (or until `stop` returns true, checked after each event). */
  async run(until: number, stop: () => boolean = () => false): Promise<void> {
    for (;;) {
      const ev = this.heap[0];
      if (!ev || ev.at > until) break;
      this.pop();
      if (ev.cancelled) continue;
      this.now = ev.at;
      this.steps++;
      try {
        ev.fn();
      } catch (e) {
        this.errors.push(e);
      }
      await drain();
      if (stop()) return;
    }
    if (this.now < until) this.now = until;
  }

  /** Runs until `p` settles (or virtual time passes `timeoutMs`), and returns its outcome. */
  async settle<T>(p: Promise<T>, timeoutMs: number): Promise<{ ok: true; value: T } | { ok: false; error: unknown } | { ok: 'timeout' }> {
    let out: { ok: true; value: T } | { ok: false; error: unknown } | null = null;
    p.then(
      (value) => (out = { ok: true, value }),
      (error: unknown) => (out = { ok: false, error }),
    );
    await drain();
    await this.run(this.now + timeoutMs, () => out !== null);
    return out ?? { ok: 'timeout' };
  }

  /**
   * Timers for one node: its clock reads `offsetMs + now × rate`; its timers fire after their
   * duration on its own clock. `alive()` false makes every pending timer of the node a no-op (a crash).
   */
  timers(rate: number, offsetMs: number, alive: () => boolean): Timers {
    const toVirtual = (ms: number) => ms / rate;
    const wrap = (f: () => void) => () => {
      if (alive()) f();
    };
    return {
      now: () => Math.floor(offsetMs + this.now * rate) + 1_700_000_000_000,
      setTimeout: (f, ms) => this.after(toVirtual(ms), wrap(f)) as unknown as TimerHandle,
      clearTimeout: (h) => {
        (h as unknown as Event).cancelled = true;
      },
      setInterval: (f, ms) => {
        const handle = { cancelled: false } as unknown as Event & { inner?: Event };
        const tick = () => {
          if (handle.cancelled || !alive()) return;
          f();
          handle.inner = this.after(toVirtual(ms), tick);
        };
        handle.inner = this.after(toVirtual(ms), tick);
        return handle as unknown as TimerHandle;
      },
      clearInterval: (h) => {
        const e = h as unknown as Event & { inner?: Event };
        e.cancelled = true;
        if (e.inner) e.inner.cancelled = true;
      },
      setImmediate: (f) => void this.after(0, wrap(f)),
    };
  }
}

function less(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** Lets every pending promise callback run (one real macrotask turn drains the microtask queue). */
export function drain(): Promise<void> {
  return new Promise((res) => setImmediate(res));
}
