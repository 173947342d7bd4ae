import { CompactedError, SnapshotOutOfDateError, UnavailableError, assert } from './errors.js';
import type { ConfState, Entry, HardState, Snapshot } from './types.js';
import { EntryType, emptyBytes, entryBytes } from './types.js';

/**
 * The read side of a node's durable Raft state. Raft only reads from it; the caller writes (after
 * each Ready) in whatever way is durable for it. All methods are synchronous: Strata keeps the
 * unapplied tail of each range's log in memory and the store-level log on disk.
 */
export interface Storage {
  /** The persisted HardState and ConfState, read once when a node starts. */
  initialState(): { hardState: HardState; confState: ConfState };
  /**
   * Entries in [lo, hi), at least one if any exist, stopping before `bytesMax` is exceeded.
   * Throws CompactedError if lo is compacted, UnavailableError if hi - 1 > lastIndex.
   */
  entries(lo: number, hi: number, bytesMax: number): Entry[];
  /** Term of entry i, for i in [firstIndex - 1, lastIndex]; throws CompactedError / UnavailableError. */
  term(i: number): number;
  lastIndex(): number;
  /** Index of the first entry still held (snapshot index + 1). */
  firstIndex(): number;
  /** The most recent snapshot; may throw SnapshotTemporarilyUnavailableError. */
  snapshot(): Snapshot;
}

export function emptySnapshot(): Snapshot {
  return { metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: emptyBytes };
}

/**
 * The reference in-memory Storage. Tests and the simulator use it as a node's "disk": whatever has
 * been written to it survives a simulated crash.
 *
 * INVARIANT: ents[0] is a dummy entry whose index/term are the snapshot's; ents are contiguous.
 */
export class MemoryStorage implements Storage {
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [{ term: 0, index: 0, type: EntryType.Normal, data: emptyBytes }];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.metadata.confState) };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  private offset(): number {
    return (this.ents[0] as Entry).index;
  }

  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    const offset = this.offset();
    if (lo <= offset) throw new CompactedError(lo, offset + 1);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1, this.lastIndex());
    const out: Entry[] = [];
    let size = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.ents[i - offset] as Entry;
      size += entryBytes(e);
      if (out.length > 0 && size > bytesMax) break;
      out.push(e);
    }
    return out;
  }

  term(i: number): number {
    const offset = this.offset();
    if (i < offset) throw new CompactedError(i, offset + 1);
    if (i - offset >= this.ents.length) throw new UnavailableError(i, this.lastIndex());
    return (this.ents[i - offset] as Entry).term;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole state with a received snapshot. */
  applySnapshot(snap: Snapshot): void {
    const have = this.snap.metadata.index;
    if (snap.metadata.index <= have) throw new SnapshotOutOfDateError(snap.metadata.index, have);
    this.snap = snap;
    this.ents = [{ term: snap.metadata.term, index: snap.metadata.index, type: EntryType.Normal, data: emptyBytes }];
  }

  /**
   * Records a snapshot of the state machine at applied index i (i <= lastIndex). Older entries stay
   * until `compact` is called, so slow followers can still be caught up from the log.
   */
  createSnapshot(i: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new SnapshotOutOfDateError(i, this.snap.metadata.index);
    assert(i <= this.lastIndex(), () => `snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    this.snap = { metadata: { index: i, term: this.term(i), confState: cloneConfState(confState) }, data };
    return this.snap;
  }

  /** Discards entries before compactIndex; compactIndex must not exceed the applied index. */
  compact(compactIndex: number): void {
    const offset = this.offset();
    if (compactIndex <= offset) throw new CompactedError(compactIndex, offset + 1);
    assert(compactIndex <= this.lastIndex(), `compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    const i = compactIndex - offset;
    const head = this.ents[i] as Entry;
    this.ents = [{ term: head.term, index: head.index, type: EntryType.Normal, data: emptyBytes }, ...this.ents.slice(i + 1)];
  }

  /** Appends entries, truncating any conflicting suffix (entries must be contiguous). */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = (entries[entries.length - 1] as Entry).index;
    if (last < first) return; // all already compacted
    let ents = entries;
    if (first > (entries[0] as Entry).index) ents = entries.slice(first - (entries[0] as Entry).index);
    const offset = (ents[0] as Entry).index - this.offset();
    assert(offset <= this.ents.length, () => `missing log entry [last: ${this.lastIndex()}, append at: ${(ents[0] as Entry).index}]`);
    // Truncate any conflicting suffix in place, then append: O(new entries), not O(log).
    this.ents.length = offset;
    for (const e of ents) this.ents.push(e);
  }
}

export function cloneConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners] };
}
