/**
 * A segment: one file of block records, preallocated to `capacityBytes` so that running out of
 * disk shows up when a segment is created (a clear 53100 error) rather than halfway through a
 * write. Records:
 *
 *   u32 recordLength | u32 entityId | u32 crc32(entityId ‖ block) | block bytes (see block.ts)
 *
 * A zero length marks the unused (preallocated, zero-filled) rest of the file. Recovery reads
 * records in order; a record cut short or failing its checksum is a torn write from a crash and
 * is zeroed out (everything after it was never acknowledged, since the Raft log is the WAL and
 * the engine's durable index only moves after sync()).
 *
 * INVARIANT: blocks of one entity appear in append order; `chains` lists them in that order.
 */
import { closeSync, fstatSync, ftruncateSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { PgError, SqlState } from '@strata/common';
import { readBlockHeader } from './block.js';

export const recordHeaderBytes = 12;

/** Segment size when nothing says otherwise (tables size theirs: segmentBytesFor). */
export const segmentBytesDefault = 64 * 1024 * 1024;

/** Bounds of a table's segment size. */
export const segmentBytesMin = 1024 * 1024;
export const segmentBytesMax = 1024 * 1024 * 1024;

/** Bytes a value of each column type takes uncompressed (strings: a typical short tag-like value). */
const valueBytes: Record<number, number> = { 1: 8, 2: 4, 3: 8, 4: 8, 5: 1, 6: 32 };

/**
 * A segment's preallocated size, as KWDB sizes its segments: room for `blocks` blocks of `rows`
 * rows of these column types uncompressed (ts.blocks_per_segment.max_limit ×
 * ts.rows_per_block.max_limit), within [segmentBytesMin, segmentBytesMax]. Compressed blocks
 * take less, so a segment usually closes on its block count, with most of the file never written.
 */
export function segmentBytesFor(types: readonly number[], rows: number, blocks: number): number {
  const rowBytes = types.reduce((n, t) => n + (valueBytes[t] ?? 8), 0);
  const blockBytes = recordHeaderBytes + 64 + types.length * 40 + rows * rowBytes;
  return Math.min(segmentBytesMax, Math.max(segmentBytesMin, blocks * blockBytes));
}

export interface BlockRef {
  entityId: number;
  /** Offset of the block bytes (after the record header) and their length. */
  offset: number;
  length: number;
  minTs: bigint;
  maxTs: bigint;
  rows: number;
  /** The block's timestamps are strictly ascending (block.ts flags bit 1). */
  strict: boolean;
}

export interface SegmentOptions {
  capacityBytes?: number;
  /** Blocks per segment at most (ts.blocks_per_segment.max_limit); a full segment is closed. */
  blocksMax?: number;
}

function diskFull(msg: string): PgError {
  return new PgError(SqlState.DiskFull, msg, { hint: 'free disk space, or lower ts.disk_free_space.alert_threshold' });
}

export class Segment {
  private writeOffset = 0;
  /** entityId → its blocks in append order. */
  readonly chains = new Map<number, BlockRef[]>();
  blockCount = 0;
  tornBytes = 0;

  private constructor(
    readonly path: string,
    private fd: number,
    readonly capacityBytes: number,
  ) {}

  /**
   * Creates a new preallocated segment. Segments are created while a replica applies the log, so
   * nothing here may depend on local conditions such as free disk space: the free-space threshold
   * (ts.disk_free_space.alert_threshold) is checked by the leaseholder before a write is proposed,
   * and a failure here is a local fault that stops the replica (see the store).
   */
  static create(path: string, opts: SegmentOptions = {}): Segment {
    const capacity = opts.capacityBytes ?? segmentBytesDefault;
    const fd = openSync(path, 'wx+');
    try {
      ftruncateSync(fd, capacity);
    } catch (e) {
      closeSync(fd);
      throw diskFull(`could not preallocate segment ${path}: ${(e as Error).message}`);
    }
    return new Segment(path, fd, capacity);
  }

  /**
   * Opens an existing segment and rebuilds its chains, cutting off a torn tail. Records at or
   * after `durableBytes` (what the table last recorded as synced) are cut off too: they were
   * written after the last flush and will be written again when the log is replayed.
   */
  static open(path: string, durableBytes = Infinity): Segment {
    const fd = openSync(path, 'r+');
    const size = fstatSync(fd).size;
    const s = new Segment(path, fd, size);
    const head = Buffer.alloc(recordHeaderBytes);
    const limit = Math.min(size, durableBytes);
    let o = 0;
    for (;;) {
      if (o + recordHeaderBytes > limit) break;
      readSync(fd, head, 0, recordHeaderBytes, o);
      const len = head.readUInt32BE(0);
      if (len === 0) break;
      const bad = () => {
        s.tornBytes = size - o;
        // Zero the torn record so later appends and reopenings see the end of data here.
        const zeros = Buffer.alloc(Math.min(recordHeaderBytes, size - o));
        writeSync(fd, zeros, 0, zeros.length, o);
        fsyncSync(fd);
      };
      if (len < recordHeaderBytes || o + len > limit) {
        bad();
        break;
      }
      const body = Buffer.alloc(len - 8);
      readSync(fd, body, 0, len - 8, o + 8);
      // crc covers entityId ‖ block: bytes [4, 8) of the header and the block
      const entityBytes = head.subarray(4, 8);
      const crc = crc32(body.subarray(4), crc32(entityBytes));
      if ((crc >>> 0) !== body.readUInt32BE(0)) {
        bad();
        break;
      }
      const block = body.subarray(4);
      const h = readBlockHeader(block);
      s.addRef({ entityId: head.readUInt32BE(4), offset: o + recordHeaderBytes, length: block.length, minTs: h.minTs, maxTs: h.maxTs, rows: h.rows, strict: h.strict });
      o += len;
    }
    // Mark the end of data (zero the next header) so appends and later reopenings stop here.
    const n = Math.min(recordHeaderBytes, size - o);
    if (n > 0 && readSync(fd, head, 0, n, o) === n && head.subarray(0, n).some((x) => x !== 0)) {
      writeSync(fd, Buffer.alloc(n), 0, n, o);
      fsyncSync(fd);
    }
    s.writeOffset = o;
    return s;
  }

  private addRef(r: BlockRef): void {
    let c = this.chains.get(r.entityId);
    if (!c) this.chains.set(r.entityId, (c = []));
    c.push(r);
    this.blockCount++;
  }

  /** Bytes still free for records. */
  freeBytes(): number {
    return this.capacityBytes - this.writeOffset;
  }

  fits(blockBytes: number): boolean {
    return this.writeOffset + recordHeaderBytes + blockBytes <= this.capacityBytes;
  }

  /** Appends a block for an entity (not durable until sync()). */
  append(entityId: number, block: Buffer): BlockRef {
    if (!this.fits(block.length)) throw new RangeError(`segment ${this.path} is full`);
    const h = readBlockHeader(block);
    const head = Buffer.alloc(recordHeaderBytes);
    head.writeUInt32BE(recordHeaderBytes + block.length, 0);
    head.writeUInt32BE(entityId >>> 0, 4);
    head.writeUInt32BE(crc32(block, crc32(head.subarray(4, 8))) >>> 0, 8);
    writeSync(this.fd, head, 0, head.length, this.writeOffset);
    writeSync(this.fd, block, 0, block.length, this.writeOffset + recordHeaderBytes);
    const ref: BlockRef = { entityId, offset: this.writeOffset + recordHeaderBytes, length: block.length, minTs: h.minTs, maxTs: h.maxTs, rows: h.rows, strict: h.strict };
    this.writeOffset += recordHeaderBytes + block.length;
    this.addRef(ref);
    return ref;
  }

  sync(): void {
    fsyncSync(this.fd);
  }

  read(ref: BlockRef): Buffer {
    const b = Buffer.alloc(ref.length);
    readSync(this.fd, b, 0, ref.length, ref.offset);
    return b;
  }

  usedBytes(): number {
    return this.writeOffset;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
