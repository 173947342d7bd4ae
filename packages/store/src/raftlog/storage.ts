/**
 * A replica's Raft Storage, backed by the store-level log file: the newest entries in memory (the
 * unapplied tail and a bounded window behind it), older ones read back from the files through the
 * log's per-range index — so a leader can catch a follower up from disk.
 *
 * The log starts after the truncated state (index, term): entries at or below it are compacted
 * into the state machine (a follower that needs them gets a snapshot). `snapshot()` describes the
 * state machine at the applied index; its data is a placeholder — the store streams the real
 * contents (KV_BATCH, TS_BATCH) when Raft asks to send one.
 *
 * INVARIANT: cache holds contiguous entries cacheFirst..lastIndex(), all persisted.
 * INVARIANT: truncated.index <= applied index.
 */
import { assert } from '@strata/common';
import { CompactedError, UnavailableError, emptyBytes, entryBytes } from '@strata/raft';
import type { ConfState, Entry, HardState, Snapshot, Storage } from '@strata/raft';
import { raftEntryCacheBytesMax } from '../constants.js';
import type { LogFile } from './logfile.js';

export class ReplicaLogStorage implements Storage {
  hardState: HardState;
  confState: ConfState;
  truncated: { index: number; term: number };
  applied: { index: number; term: number };
  private cache: Entry[] = [];
  private cacheBytes = 0;

  constructor(
    readonly rangeId: number,
    private readonly log: LogFile,
    init: { hardState: HardState; confState: ConfState; truncated: { index: number; term: number }; applied: { index: number; term: number } },
  ) {
    this.hardState = { ...init.hardState };
    this.confState = init.confState;
    this.truncated = { ...init.truncated };
    this.applied = { ...init.applied };
    // Load the unapplied tail (and nothing older) into memory.
    const last = log.lastIndex(rangeId);
    const from = Math.max(this.applied.index + 1, this.truncated.index + 1, log.firstIndex(rangeId));
    if (last >= from) {
      for (let lo = from; lo <= last; ) {
        const got = log.entries(rangeId, lo, last + 1, Number.MAX_SAFE_INTEGER);
        for (const e of got) this.push(e);
        lo = (got[got.length - 1] as Entry).index + 1;
      }
    }
  }

  private push(e: Entry): void {
    this.cache.push(e);
    this.cacheBytes += entryBytes(e);
  }

  private cacheFirst(): number {
    return this.cache[0]?.index ?? this.lastIndex() + 1;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: { voters: [...this.confState.voters], learners: [...this.confState.learners] } };
  }

  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    if (lo <= this.truncated.index) throw new CompactedError(lo, this.truncated.index + 1);
    const last = this.lastIndex();
    if (hi > last + 1) throw new UnavailableError(hi - 1, last);
    const out: Entry[] = [];
    let size = 0;
    const cacheFirst = this.cacheFirst();
    if (lo < cacheFirst) {
      for (const e of this.log.entries(this.rangeId, lo, Math.min(hi, cacheFirst), bytesMax)) {
        size += entryBytes(e);
        if (out.length > 0 && size > bytesMax) return out;
        out.push(e);
      }
      if (out.length > 0 && (out[out.length - 1] as Entry).index + 1 < Math.min(hi, cacheFirst)) return out; // byte-limited read
      lo = Math.min(hi, cacheFirst);
    }
    for (let i = lo; i < hi; i++) {
      const e = this.cache[i - cacheFirst] as Entry;
      size += entryBytes(e);
      if (out.length > 0 && size > bytesMax) break;
      out.push(e);
    }
    return out;
  }

  term(i: number): number {
    if (i === this.truncated.index) return this.truncated.term;
    if (i < this.truncated.index) throw new CompactedError(i, this.truncated.index + 1);
    const last = this.lastIndex();
    if (i > last) throw new UnavailableError(i, last);
    const cacheFirst = this.cacheFirst();
    if (i >= cacheFirst) return (this.cache[i - cacheFirst] as Entry).term;
    const t = this.log.term(this.rangeId, i);
    assert(t !== undefined, () => `range ${this.rangeId}: the log holds no entry ${i} (truncated at ${this.truncated.index})`);
    return t;
  }

  lastIndex(): number {
    const c = this.cache[this.cache.length - 1];
    if (c) return c.index;
    return Math.max(this.truncated.index, this.log.lastIndex(this.rangeId));
  }

  firstIndex(): number {
    return this.truncated.index + 1;
  }

  snapshot(): Snapshot {
    return { metadata: { index: this.applied.index, term: this.applied.term, confState: this.confState }, data: emptyBytes };
  }

  // ---- the driver's side --------------------------------------------------------------------

  /** Entries just made durable: they replace any suffix from their first index. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = (entries[0] as Entry).index;
    const cacheFirst = this.cacheFirst();
    if (first < cacheFirst) {
      this.cache = [];
      this.cacheBytes = 0;
    } else if (first - cacheFirst < this.cache.length) {
      for (const e of this.cache.splice(first - cacheFirst)) this.cacheBytes -= entryBytes(e);
    }
    for (const e of entries) this.push(e);
  }

  /** A snapshot at (index, term) replaced the state machine and the log. */
  applySnapshot(index: number, term: number, confState: ConfState): void {
    this.cache = [];
    this.cacheBytes = 0;
    this.truncated = { index, term };
    this.applied = { index, term };
    this.confState = confState;
  }

  setApplied(index: number, term: number): void {
    this.applied = { index, term };
  }

  /**
   * Drops cached entries at or below the applied index while the cache is over its byte budget
   * (they stay readable from the log files).
   */
  trimCache(): void {
    while (this.cacheBytes > raftEntryCacheBytesMax && this.cache.length > 0 && (this.cache[0] as Entry).index <= this.applied.index) {
      this.cacheBytes -= entryBytes(this.cache.shift() as Entry);
    }
  }

  /** The log is truncated up to `index` (at most the applied index). */
  compact(index: number): void {
    assert(index <= this.applied.index, () => `truncating the log at ${index} above the applied index ${this.applied.index}`);
    if (index <= this.truncated.index) return;
    this.truncated = { index, term: this.term(index) };
    while (this.cache.length > 0 && (this.cache[0] as Entry).index <= index) this.cacheBytes -= entryBytes(this.cache.shift() as Entry);
    this.log.compact(this.rangeId, index + 1);
  }
}
