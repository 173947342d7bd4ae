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

/**
 * A request's spans indexed for overlap tests: sorted by start, with the running maximum of the
 * ends, so "does any span start before E and end after S?" is one binary search — O(log n) per
 * span of the other request instead of a scan (a commit of 200,000 rows declares 200,000 spans).
 * Reads and writes are indexed apart: a read conflicts only with writes.
 */
class SpanIndex {
  private readonly starts: Buffer[];
  /** maxEnd[i]: the largest end among the spans 0..i (exclusive ends; a point's end is key ++ 00). */
  private readonly maxEnd: Buffer[];

  constructor(spans: LatchSpan[]) {
    const sorted = spans.map((s) => ({ start: s.start, end: endOf(s) })).sort((a, b) => Buffer.compare(a.start, b.start));
    this.starts = sorted.map((s) => s.start);
    this.maxEnd = [];
    let max: Buffer | null = null;
    for (const s of sorted) {
      if (max === null || Buffer.compare(s.end, max) > 0) max = s.end;
      this.maxEnd.push(max);
    }
  }

  get empty(): boolean {
    return this.starts.length === 0;
  }

  /** Whether some span overlaps [start, end). */
  overlaps(start: Buffer, end: Buffer): boolean {
    // The spans starting before `end` are a prefix; one of them overlaps iff its end passes `start`.
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Buffer.compare(this.starts[mid] as Buffer, end) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && Buffer.compare(this.maxEnd[lo - 1] as Buffer, start) > 0;
  }
}

const zero = Buffer.from([0]);

/** The exclusive end of a span (a single key's: the key followed by a zero byte, its successor). */
function endOf(s: LatchSpan): Buffer {
  return s.end ?? Buffer.concat([s.start, zero]);
}

interface Held {
  spans: LatchSpan[];
  all: SpanIndex;
  writes: SpanIndex;
  released: Promise<void>;
  release: () => void;
}

export interface LatchGuard {
  release(): void;
}

/** Whether two latch sets conflict: probes the larger one's index with the smaller one's spans. */
function conflicts(a: Held, b: Held): boolean {
  const [small, big] = a.spans.length <= b.spans.length ? [a, b] : [b, a];
  for (const y of small.spans) {
    const idx = y.write ? big.all : big.writes;
    if (!idx.empty && idx.overlaps(y.start, endOf(y))) return true;
  }
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
    let release!: () => void;
    const released = new Promise<void>((res) => (release = res));
    const h: Held = { spans, all: new SpanIndex(spans), writes: new SpanIndex(spans.filter((x) => x.write)), released, release };
    const waitFor = this.held.filter((x) => conflicts(x, h)).map((x) => x.released);
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
