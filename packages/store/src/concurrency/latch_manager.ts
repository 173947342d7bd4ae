/**
 * Latches: a replica's short-lived, in-memory serialization of requests over key spans. A request
 * declares the spans it reads and writes; it waits for every earlier request holding an
 * overlapping span where either side writes, then evaluates. A write keeps its latches until its
 * command has applied, so a later read of the same keys sees the write and a later commit's
 * refresh waits for it: the latch, not a clock trick, orders evaluation against in-flight writes.
 *
 * INVARIANT: latches are granted in arrival order among conflicting requests (FIFO): a request
 *   waits only for requests that arrived before it.
 */
import { assert } from '@strata/common';

export interface LatchSpan {
  start: Buffer;
  /** Exclusive; null for the single key `start`. */
  end: Buffer | null;
  write: boolean;
}

interface Held {
  spans: LatchSpan[];
  released: Promise<void>;
  release: () => void;
}

export interface LatchGuard {
  release(): void;
}

function overlaps(a: LatchSpan, b: LatchSpan): boolean {
  const aEnd = a.end;
  const bEnd = b.end;
  if (aEnd === null && bEnd === null) return a.start.equals(b.start);
  if (aEnd === null) return Buffer.compare(a.start, b.start) >= 0 && Buffer.compare(a.start, bEnd as Buffer) < 0;
  if (bEnd === null) return Buffer.compare(b.start, a.start) >= 0 && Buffer.compare(b.start, aEnd) < 0;
  return Buffer.compare(a.start, bEnd) < 0 && Buffer.compare(b.start, aEnd) < 0;
}

function conflicts(a: Held, spans: LatchSpan[]): boolean {
  for (const x of a.spans) for (const y of spans) if ((x.write || y.write) && overlaps(x, y)) return true;
  return false;
}

export class LatchManager {
  private held: Held[] = [];

  /** Number of latch sets held or waited for (a gauge for metrics and tests). */
  get size(): number {
    return this.held.length;
  }

  /** Waits for conflicting earlier latches, then holds `spans` until the guard is released. */
  async acquire(spans: LatchSpan[]): Promise<LatchGuard> {
    const waitFor = this.held.filter((h) => conflicts(h, spans)).map((h) => h.released);
    let release!: () => void;
    const released = new Promise<void>((res) => (release = res));
    const h: Held = { spans, released, release };
    this.held.push(h);
    if (waitFor.length > 0) await Promise.all(waitFor);
    let done = false;
    return {
      release: () => {
        assert(!done, 'latch released twice');
        done = true;
        const i = this.held.indexOf(h);
        if (i >= 0) this.held.splice(i, 1);
        h.release();
      },
    };
  }
}
