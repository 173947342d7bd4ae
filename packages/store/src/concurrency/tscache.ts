/**
 * The timestamp cache: for keys and spans the leaseholder served reads on, the highest timestamp
 * read. A write to such a key must commit above it — otherwise it would change what an earlier
 * reader saw, after the fact. It lives on the leaseholder, in memory; a new lease starts with a
 * low-water mark above anything the previous leaseholder can have served (see Replica), and
 * entries evicted for space raise the low-water mark to their timestamp (never lose a bound).
 *
 * INVARIANT: get(k) >= the timestamp of every read of k served under the current lease.
 */
import type { Timestamp } from '@strata/common';
import { tsCacheEntriesMax } from '../constants.js';

interface SpanEntry {
  start: Buffer;
  end: Buffer;
  ts: Timestamp;
}

export class TimestampCache {
  lowWater: Timestamp = 0n;
  private readonly points = new Map<string, Timestamp>();
  private spans: SpanEntry[] = [];

  constructor(private readonly entriesMax = tsCacheEntriesMax) {}

  /** Raises the low-water mark (a new lease: nothing below it may be written). */
  raiseLowWater(ts: Timestamp): void {
    if (ts > this.lowWater) this.lowWater = ts;
  }

  addKey(key: Buffer, ts: Timestamp): void {
    if (ts <= this.lowWater) return;
    const k = key.toString('latin1');
    const cur = this.points.get(k);
    if (cur === undefined || cur < ts) {
      this.points.delete(k); // re-insert: the map's order is recency
      this.points.set(k, ts);
    }
    this.bound();
  }

  addSpan(start: Buffer, end: Buffer, ts: Timestamp): void {
    if (ts <= this.lowWater) return;
    this.spans.push({ start, end, ts });
    this.bound();
  }

  /** The highest timestamp a read of `key` was served at (at least the low-water mark). */
  get(key: Buffer): Timestamp {
    let t = this.lowWater;
    const p = this.points.get(key.toString('latin1'));
    if (p !== undefined && p > t) t = p;
    for (const s of this.spans) {
      if (s.ts > t && Buffer.compare(key, s.start) >= 0 && Buffer.compare(key, s.end) < 0) t = s.ts;
    }
    return t;
  }

  /** Over the bound: the older half goes, and the low-water mark rises to their highest timestamp. */
  private bound(): void {
    if (this.points.size + this.spans.length <= this.entriesMax) return;
    let raised = this.lowWater;
    const dropSpans = Math.ceil(this.spans.length / 2);
    for (const s of this.spans.slice(0, dropSpans)) if (s.ts > raised) raised = s.ts;
    this.spans = this.spans.slice(dropSpans);
    let dropPoints = Math.ceil(this.points.size / 2);
    for (const [k, ts] of this.points) {
      if (dropPoints-- <= 0) break;
      if (ts > raised) raised = ts;
      this.points.delete(k);
    }
    this.lowWater = raised;
  }

  /** Forgets everything (a lease lost: the next lease starts from its own low-water mark). */
  clear(lowWater: Timestamp): void {
    this.points.clear();
    this.spans = [];
    this.lowWater = lowWater;
  }
}
