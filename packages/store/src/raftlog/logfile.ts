/**
 * The store-level Raft log: one append-only file sequence shared by every replica on the store
 * (as TiKV's raft-engine), so one fsync makes a whole round of Raft writes durable.
 *
 * Record: u32 payloadLength | u32 crc32(payload) | payload. Payload:
 *   u8 kind | u32 rangeId | …
 *   kind 1 (entries):   u32 count, count × (f64 index, f64 term, u8 type, u32 len, data)
 *   kind 2 (hardState): f64 term, f64 vote, f64 commit
 *   kind 3 (reset):     f64 index, f64 term — the range's log was replaced by a snapshot at
 *                       (index, term): every entry recorded before is discarded
 *
 * An entries record whose first index is f discards every entry at or after f recorded before it
 * (a new leader overwrote a suffix): the log as read back is always what Raft last wrote.
 *
 * The log keeps an index of where each range's entries are (record offsets and entry terms), not
 * the entries: a replica keeps its unapplied tail in memory and reads older entries back from
 * the files when a follower needs them (entries()).
 *
 * Recovery reads every segment in order. A record that is cut short or fails its checksum at the
 * end of the last segment is a torn write from a crash: it was never acknowledged (acks follow the
 * fsync), so it is truncated away and never applied. A bad record anywhere else is corruption and
 * the store refuses to start.
 *
 * INVARIANT: a record is acknowledged only after the fdatasync that covers it.
 * INVARIANT: per range, the indexed entries are contiguous, in increasing index order.
 */
import { crc32 } from 'node:zlib';
import { PgError, SqlState, assert, logger } from '@strata/common';
import type { Entry, EntryType, HardState } from '@strata/raft';
import { logReadBytesMax, logRecordBytesMax, logSegmentBytesMax } from '../constants.js';
import { DiskLogFs } from './log_fs.js';
import type { LogFs } from './log_fs.js';

const headerBytes = 8;
const KindEntries = 1;
const KindHardState = 2;
const KindReset = 3;

export type LogRecord =
  | { kind: 'entries'; rangeId: number; entries: Entry[] }
  | { kind: 'hardState'; rangeId: number; hardState: HardState }
  | { kind: 'reset'; rangeId: number; index: number; term: number };

export function encodeRecord(r: LogRecord): Buffer {
  let size = 5;
  if (r.kind === 'entries') {
    size += 4;
    for (const e of r.entries) size += 8 + 8 + 1 + 4 + e.data.length;
  } else if (r.kind === 'hardState') {
    size += 24;
  } else {
    size += 16;
  }
  assert(size <= logRecordBytesMax, `log record of ${size} bytes exceeds ${logRecordBytesMax}`);
  const b = Buffer.allocUnsafe(headerBytes + size);
  let o = headerBytes;
  b[o++] = r.kind === 'entries' ? KindEntries : r.kind === 'hardState' ? KindHardState : KindReset;
  b.writeUInt32BE(r.rangeId, o);
  o += 4;
  if (r.kind === 'entries') {
    b.writeUInt32BE(r.entries.length, o);
    o += 4;
    for (const e of r.entries) {
      b.writeDoubleBE(e.index, o);
      b.writeDoubleBE(e.term, o + 8);
      b[o + 16] = e.type;
      b.writeUInt32BE(e.data.length, o + 17);
      o += 21;
      b.set(e.data, o);
      o += e.data.length;
    }
  } else if (r.kind === 'hardState') {
    b.writeDoubleBE(r.hardState.term, o);
    b.writeDoubleBE(r.hardState.vote, o + 8);
    b.writeDoubleBE(r.hardState.commit, o + 16);
  } else {
    b.writeDoubleBE(r.index, o);
    b.writeDoubleBE(r.term, o + 8);
  }
  b.writeUInt32BE(size, 0);
  b.writeUInt32BE(crc32(b.subarray(headerBytes)) >>> 0, 4);
  return b;
}

/** Decodes a payload; with `withData` false, entries carry empty data (recovery indexes only). */
function decodePayload(p: Buffer, withData: boolean): LogRecord {
  let o = 0;
  const kind = p[o++];
  const rangeId = p.readUInt32BE(o);
  o += 4;
  if (kind === KindEntries) {
    const n = p.readUInt32BE(o);
    o += 4;
    const entries: Entry[] = [];
    for (let i = 0; i < n; i++) {
      const index = p.readDoubleBE(o);
      const term = p.readDoubleBE(o + 8);
      const type = p[o + 16] as EntryType;
      const len = p.readUInt32BE(o + 17);
      o += 21;
      entries.push({ index, term, type, data: withData ? Buffer.from(p.subarray(o, o + len)) : emptyData });
      o += len;
    }
    return { kind: 'entries', rangeId, entries };
  }
  if (kind === KindHardState) {
    return { kind: 'hardState', rangeId, hardState: { term: p.readDoubleBE(o), vote: p.readDoubleBE(o + 8), commit: p.readDoubleBE(o + 16) } };
  }
  if (kind === KindReset) return { kind: 'reset', rangeId, index: p.readDoubleBE(o), term: p.readDoubleBE(o + 8) };
  throw new PgError(SqlState.DataCorrupted, `raft log: unknown record kind ${kind}`);
}

const emptyData = Buffer.alloc(0);

interface Segment {
  seq: number;
  name: string;
  /** Highest entry index per range in this segment (for truncation). */
  maxIndex: Map<number, number>;
}

/** Where a run of a range's entries is: one entries record, possibly cut short by a later one. */
interface IndexedRun {
  seq: number;
  /** File offset of the record (its header). */
  offset: number;
  first: number;
  /** Terms of entries first..first+terms.length-1 (the run's current extent). */
  terms: number[];
}

/** What recovery found of one range. */
export interface RecoveredRange {
  hardState: HardState | null;
  /** The last reset (snapshot) recorded, if any. */
  reset: { index: number; term: number } | null;
}

const segName = (seq: number) => `${String(seq).padStart(8, '0')}.log`;

export class LogFile {
  private readonly log = logger('raft-log');
  private segments: Segment[] = [];
  private size = 0;
  private writing: Promise<void> = Promise.resolve();
  /** Per range, its entries' runs in index order. */
  private readonly runs = new Map<number, IndexedRun[]>();

  private constructor(
    private readonly fs: LogFs,
    private readonly segmentBytesMax: number,
  ) {}

  /** Opens the log in a directory (or on the given file system): indexes every valid record, torn tail truncated. */
  static async open(dirOrFs: string | LogFs, segmentBytesMax = logSegmentBytesMax): Promise<{ log: LogFile; ranges: Map<number, RecoveredRange>; tornBytes: number }> {
    const fs = typeof dirOrFs === 'string' ? new DiskLogFs(dirOrFs) : dirOrFs;
    const lf = new LogFile(fs, segmentBytesMax);
    const names = fs
      .list()
      .filter((n) => /^\d{8}\.log$/.test(n))
      .sort();
    const ranges = new Map<number, RecoveredRange>();
    const rangeOf = (id: number) => {
      let r = ranges.get(id);
      if (!r) ranges.set(id, (r = { hardState: null, reset: null }));
      return r;
    };
    let tornBytes = 0;
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const seg: Segment = { seq: Number(name.slice(0, 8)), name, maxIndex: new Map() };
      const fileSize = fs.size(name);
      let o = 0;
      {
        while (o < fileSize) {
          const bad = (why: string) => {
            if (i !== names.length - 1) {
              throw new PgError(SqlState.DataCorrupted, `raft log segment ${name} is corrupt at offset ${o} (${why}); refusing to start`);
            }
            tornBytes = fileSize - o;
            lf.log.warn({ segment: name, offset: o, bytes: tornBytes, why }, 'torn tail of the raft log ignored and truncated');
            fs.truncate(name, o);
          };
          if (o + headerBytes > fileSize) {
            bad('record header cut short');
            break;
          }
          const head = fs.read(name, o, headerBytes);
          const len = head.readUInt32BE(0);
          if (len > logRecordBytesMax || o + headerBytes + len > fileSize) {
            bad('record cut short');
            break;
          }
          const payload = fs.read(name, o + headerBytes, len);
          if ((crc32(payload) >>> 0) !== head.readUInt32BE(4)) {
            bad('checksum mismatch');
            break;
          }
          const rec = decodePayload(payload, false);
          if (rec.kind === 'entries') lf.indexEntries(seg, o, rec.rangeId, rec.entries);
          else if (rec.kind === 'hardState') rangeOf(rec.rangeId).hardState = rec.hardState;
          else {
            rangeOf(rec.rangeId).reset = { index: rec.index, term: rec.term };
            lf.runs.delete(rec.rangeId);
          }
          o += headerBytes + len;
        }
      }
      lf.segments.push(seg);
    }
    lf.openTail();
    return { log: lf, ranges, tornBytes };
  }

  /** Records where a range's entries are, discarding any indexed suffix they overwrite. */
  private indexEntries(seg: Segment, offset: number, rangeId: number, entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = (entries[0] as Entry).index;
    const last = (entries[entries.length - 1] as Entry).index;
    let runs = this.runs.get(rangeId);
    if (!runs) this.runs.set(rangeId, (runs = []));
    while (runs.length > 0) {
      const r = runs[runs.length - 1] as IndexedRun;
      if (r.first >= first) {
        runs.pop();
        continue;
      }
      if (r.first + r.terms.length > first) r.terms.length = first - r.first;
      break;
    }
    const prev = runs[runs.length - 1];
    // A gap (entries after a snapshot the log has no reset record for): nothing before it is part of this log.
    if (prev && prev.first + prev.terms.length < first) runs.length = 0;
    runs.push({ seq: seg.seq, offset, first, terms: entries.map((e) => e.term) });
    seg.maxIndex.set(rangeId, Math.max(seg.maxIndex.get(rangeId) ?? 0, last));
  }

  private openTail(): void {
    let tail = this.segments[this.segments.length - 1];
    if (!tail) {
      tail = { seq: 1, name: segName(1), maxIndex: new Map() };
      this.segments.push(tail);
    }
    this.size = this.fs.list().includes(tail.name) ? this.fs.size(tail.name) : 0;
  }

  /**
   * Appends records and makes them durable (one write, one fdatasync). Calls are serialized;
   * the store gathers every replica's records of a round into one call (group commit).
   */
  append(records: readonly LogRecord[]): Promise<void> {
    const run = async () => {
      const bufs = records.map(encodeRecord);
      const total = bufs.reduce((n, b) => n + b.length, 0);
      if (this.size > 0 && this.size + total > this.segmentBytesMax) await this.rotate();
      const tail = this.segments[this.segments.length - 1] as Segment;
      const at = this.size;
      try {
        await this.fs.append(tail.name, bufs);
      } catch (e) {
        // Part of the records may be in the file: continue after whatever is there. Nothing of
        // this append was acknowledged; Raft writes the entries again.
        this.size = this.fs.size(tail.name);
        throw e;
      }
      this.size += total;
      let o = at;
      records.forEach((r, i) => {
        if (r.kind === 'entries') this.indexEntries(tail, o, r.rangeId, r.entries);
        else if (r.kind === 'reset') this.runs.delete(r.rangeId);
        o += (bufs[i] as Buffer).length;
      });
    };
    const p = this.writing.then(run);
    this.writing = p.catch(() => {});
    return p;
  }

  /**
   * Records written first in every new segment: the store returns every replica's current
   * HardState, so deleting older segments never loses the latest one.
   */
  onRotate: () => LogRecord[] = () => [];

  private async rotate(): Promise<void> {
    const seq = (this.segments[this.segments.length - 1] as Segment).seq + 1;
    this.segments.push({ seq, name: segName(seq), maxIndex: new Map() });
    this.size = 0;
    const head = this.onRotate().map(encodeRecord);
    if (head.length > 0) {
      await this.fs.append(segName(seq), head);
      this.size += head.reduce((n, b) => n + b.length, 0);
    }
  }

  /** The highest indexed entry of a range (0 if none). */
  lastIndex(rangeId: number): number {
    const runs = this.runs.get(rangeId);
    const r = runs?.[runs.length - 1];
    return r ? r.first + r.terms.length - 1 : 0;
  }

  /** The lowest indexed entry of a range (0 if none). */
  firstIndex(rangeId: number): number {
    return this.runs.get(rangeId)?.[0]?.first ?? 0;
  }

  /** The term of entry i of a range, if the log holds it. */
  term(rangeId: number, i: number): number | undefined {
    for (const r of this.runs.get(rangeId) ?? []) if (i >= r.first && i < r.first + r.terms.length) return r.terms[i - r.first];
    return undefined;
  }

  /**
   * Entries [lo, hi) of a range read back from the files, stopping before `bytesMax` is exceeded
   * (at least one). The caller checks that the log holds them (firstIndex/lastIndex).
   */
  entries(rangeId: number, lo: number, hi: number, bytesMax: number): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    for (const r of this.runs.get(rangeId) ?? []) {
      const end = r.first + r.terms.length;
      if (end <= lo || r.first >= hi) continue;
      for (const e of this.readRecord(r.seq, r.offset)) {
        if (e.index < lo || e.index >= hi || e.index >= end) continue;
        bytes += e.data.length;
        if (out.length > 0 && bytes > Math.min(bytesMax, logReadBytesMax)) return out;
        out.push(e);
      }
    }
    assert(out.length > 0 && (out[0] as Entry).index === lo, () => `raft log of range ${rangeId} does not hold entry ${lo}`);
    return out;
  }

  private readRecord(seq: number, offset: number): Entry[] {
    const seg = this.segments.find((s) => s.seq === seq);
    assert(seg !== undefined, `raft log segment ${seq} is gone`);
    const head = this.fs.read(seg.name, offset, headerBytes);
    const payload = this.fs.read(seg.name, offset + headerBytes, head.readUInt32BE(0));
    const rec = decodePayload(payload, true);
    assert(rec.kind === 'entries', 'raft log index points at a record that holds no entries');
    return rec.entries;
  }

  /** Forgets a range's entries before `index` (they are truncated: compacted into the state machine). */
  compact(rangeId: number, index: number): void {
    const runs = this.runs.get(rangeId);
    if (!runs) return;
    while (runs.length > 0) {
      const r = runs[0] as IndexedRun;
      if (r.first + r.terms.length <= index) runs.shift();
      else break;
    }
  }

  /** Forgets a range altogether (its replica was destroyed). */
  dropRange(rangeId: number): void {
    this.runs.delete(rangeId);
    for (const s of this.segments) s.maxIndex.delete(rangeId);
  }

  /**
   * Deletes closed segments whose entries no replica needs: for every range with entries in it,
   * `keepFrom(rangeId)` is above the segment's highest index of that range. HardState records
   * in them are superseded by later ones, which every open replica writes at least once per
   * segment (see onRotate).
   */
  truncate(keepFrom: (rangeId: number) => number): number {
    let removed = 0;
    while (this.segments.length > 1) {
      const seg = this.segments[0] as Segment;
      for (const [rangeId, max] of seg.maxIndex) if (keepFrom(rangeId) <= max) return removed;
      this.fs.remove(seg.name);
      this.segments.shift();
      for (const [rangeId, runs] of this.runs) {
        this.runs.set(
          rangeId,
          runs.filter((r) => r.seq !== seg.seq),
        );
      }
      removed++;
    }
    return removed;
  }

  segmentCount(): number {
    return this.segments.length;
  }

  sizeBytes(): number {
    return this.size;
  }

  async close(): Promise<void> {
    await this.writing;
    await this.fs.close();
  }
}
