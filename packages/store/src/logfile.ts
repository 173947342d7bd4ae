/**
 * The store-level Raft log: one append-only file sequence shared by every replica on the store
 * (as TiKV's raft-engine), so one fsync makes a whole round of Raft writes durable.
 *
 * Record: u32 payloadLength | u32 crc32(payload) | payload. Payload:
 *   u8 kind | u32 rangeId | …
 *   kind 1 (entries):   u32 count, count × (f64 index, f64 term, u8 type, u32 len, data)
 *   kind 2 (hardState): f64 term, f64 vote, f64 commit
 *
 * Recovery reads every segment in order. A record that is cut short or fails its checksum at the
 * end of the last segment is a torn write from a crash: it was never acknowledged (acks follow the
 * fsync), so it is truncated away and never applied. A bad record anywhere else is corruption and
 * the store refuses to start.
 *
 * INVARIANT: a record is acknowledged only after the fdatasync that covers it.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { PgError, SqlState, assert, logger } from '@strata/common';
import type { Entry, EntryType, HardState } from '@strata/raft';
import { logRecordBytesMax, logSegmentBytesMax } from './constants.js';

const headerBytes = 8;
const KindEntries = 1;
const KindHardState = 2;

export type LogRecord =
  | { kind: 'entries'; rangeId: number; entries: Entry[] }
  | { kind: 'hardState'; rangeId: number; hardState: HardState };

export function encodeRecord(r: LogRecord): Buffer {
  let size = 5;
  if (r.kind === 'entries') {
    size += 4;
    for (const e of r.entries) size += 8 + 8 + 1 + 4 + e.data.length;
  } else {
    size += 24;
  }
  assert(size <= logRecordBytesMax, `log record of ${size} bytes exceeds ${logRecordBytesMax}`);
  const b = Buffer.allocUnsafe(headerBytes + size);
  let o = headerBytes;
  b[o++] = r.kind === 'entries' ? KindEntries : KindHardState;
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
  } else {
    b.writeDoubleBE(r.hardState.term, o);
    b.writeDoubleBE(r.hardState.vote, o + 8);
    b.writeDoubleBE(r.hardState.commit, o + 16);
  }
  b.writeUInt32BE(size, 0);
  b.writeUInt32BE(crc32(b.subarray(headerBytes)) >>> 0, 4);
  return b;
}

function decodePayload(p: Buffer): LogRecord {
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
      entries.push({ index, term, type, data: Buffer.from(p.subarray(o, o + len)) });
      o += len;
    }
    return { kind: 'entries', rangeId, entries };
  }
  if (kind === KindHardState) {
    return { kind: 'hardState', rangeId, hardState: { term: p.readDoubleBE(o), vote: p.readDoubleBE(o + 8), commit: p.readDoubleBE(o + 16) } };
  }
  throw new PgError(SqlState.DataCorrupted, `raft log: unknown record kind ${kind}`);
}

interface Segment {
  seq: number;
  path: string;
  /** Highest entry index per range in this segment (for truncation). */
  maxIndex: Map<number, number>;
}

const segName = (seq: number) => `${String(seq).padStart(8, '0')}.log`;

export interface RecoveryResult {
  records: LogRecord[];
  tornBytes: number;
}

export class LogFile {
  private readonly log = logger('raft-log');
  private segments: Segment[] = [];
  private fh: FileHandle | null = null;
  private size = 0;
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly dir: string) {}

  /** Opens the log, returning every valid record in order (torn tail truncated). */
  static async open(dir: string): Promise<{ log: LogFile; recovered: RecoveryResult }> {
    mkdirSync(dir, { recursive: true });
    const lf = new LogFile(dir);
    const names = readdirSync(dir)
      .filter((n) => /^\d{8}\.log$/.test(n))
      .sort();
    const records: LogRecord[] = [];
    let tornBytes = 0;
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const path = join(dir, name);
      const buf = readFileSync(path);
      const seg: Segment = { seq: Number(name.slice(0, 8)), path, maxIndex: new Map() };
      let o = 0;
      while (o < buf.length) {
        const bad = (why: string) => {
          if (i !== names.length - 1) {
            throw new PgError(SqlState.DataCorrupted, `raft log segment ${name} is corrupt at offset ${o} (${why}); refusing to start`);
          }
          tornBytes = buf.length - o;
          lf.log.warn({ segment: name, offset: o, bytes: tornBytes, why }, 'torn tail of the raft log ignored and truncated');
          const fd = openSync(path, 'r+');
          ftruncateSync(fd, o);
          closeSync(fd);
        };
        if (o + headerBytes > buf.length) {
          bad('record header cut short');
          break;
        }
        const len = buf.readUInt32BE(o);
        if (len > logRecordBytesMax || o + headerBytes + len > buf.length) {
          bad('record cut short');
          break;
        }
        const payload = buf.subarray(o + headerBytes, o + headerBytes + len);
        if ((crc32(payload) >>> 0) !== buf.readUInt32BE(o + 4)) {
          bad('checksum mismatch');
          break;
        }
        const rec = decodePayload(payload);
        if (rec.kind === 'entries' && rec.entries.length > 0) {
          const last = (rec.entries[rec.entries.length - 1] as Entry).index;
          seg.maxIndex.set(rec.rangeId, Math.max(seg.maxIndex.get(rec.rangeId) ?? 0, last));
        }
        records.push(rec);
        o += headerBytes + len;
      }
      lf.segments.push(seg);
    }
    await lf.openTail();
    return { log: lf, recovered: { records, tornBytes } };
  }

  private async openTail(): Promise<void> {
    let tail = this.segments[this.segments.length - 1];
    if (!tail) {
      tail = { seq: 1, path: join(this.dir, segName(1)), maxIndex: new Map() };
      this.segments.push(tail);
    }
    this.fh = await open(tail.path, 'a');
    this.size = (await this.fh.stat()).size;
  }

  /**
   * Appends records and makes them durable (one write, one fdatasync). Calls are serialized;
   * the store gathers every replica's records of a round into one call (group commit).
   */
  append(records: readonly LogRecord[]): Promise<void> {
    const run = async () => {
      const bufs = records.map(encodeRecord);
      const total = bufs.reduce((n, b) => n + b.length, 0);
      if (this.size > 0 && this.size + total > logSegmentBytesMax) await this.rotate();
      const fh = this.fh as FileHandle;
      await fh.writev(bufs);
      await fh.datasync();
      this.size += total;
      const tail = this.segments[this.segments.length - 1] as Segment;
      for (const r of records) {
        if (r.kind === 'entries' && r.entries.length > 0) {
          const last = (r.entries[r.entries.length - 1] as Entry).index;
          tail.maxIndex.set(r.rangeId, Math.max(tail.maxIndex.get(r.rangeId) ?? 0, last));
        }
      }
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
    await (this.fh as FileHandle).close();
    const seq = (this.segments[this.segments.length - 1] as Segment).seq + 1;
    this.segments.push({ seq, path: join(this.dir, segName(seq)), maxIndex: new Map() });
    await this.openTail();
    const head = this.onRotate().map(encodeRecord);
    if (head.length > 0) {
      await (this.fh as FileHandle).writev(head);
      this.size += head.reduce((n, b) => n + b.length, 0);
    }
  }

  /**
   * Deletes closed segments whose entries are all durably applied (appliedDurable(rangeId) >=
   * the segment's highest index for that range). HardState records in them are superseded by
   * later ones, which every open replica writes at least once per segment (see Store).
   */
  truncate(appliedDurable: (rangeId: number) => number): number {
    let removed = 0;
    while (this.segments.length > 1) {
      const seg = this.segments[0] as Segment;
      for (const [rangeId, max] of seg.maxIndex) if (appliedDurable(rangeId) < max) return removed;
      unlinkSync(seg.path);
      this.segments.shift();
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
    await this.fh?.close();
    this.fh = null;
  }
}
