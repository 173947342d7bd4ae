/**
 * A partition: the blocks of one table whose timestamps fall in one time interval
 * ([start, start + interval), KWDB's PARTITION INTERVAL, default 10 days). It is a directory of
 * segments written one after another; retention drops whole partitions (rm -r), and compression
 * or reorganization rewrites one partition at a time.
 *
 * INVARIANT: only the last segment receives appends; earlier segments are full and immutable.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readBlockHeader } from './block.js';
import { Segment, recordHeaderBytes, segmentBytesDefault } from './segment.js';
import type { BlockRef, SegmentOptions } from './segment.js';

export interface LocatedBlock extends BlockRef {
  segment: Segment;
  /** The segment's position in the partition (blocks are ordered by (seq, offset) = write order). */
  seq: number;
}

const segName = (n: number) => `seg-${String(n).padStart(6, '0')}.dat`;

export class Partition {
  private readonly segments: Segment[] = [];
  /** `${start}/`: the prefix of the table's buffer keys for this partition (built once). */
  readonly bufferKeyPrefix: string;

  private constructor(
    readonly dir: string,
    readonly start: bigint,
    readonly end: bigint,
    private readonly opts: SegmentOptions,
  ) {
    this.bufferKeyPrefix = `${start}/`;
  }

  /**
   * Opens (or creates) the partition directory and every segment in it. With `durable` (segment
   * file → synced bytes, from the table's meta), segments not listed are deleted and listed ones
   * are cut to their synced length.
   */
  static open(dir: string, start: bigint, end: bigint, opts: SegmentOptions = {}, durable?: Map<string, number>): Partition {
    mkdirSync(dir, { recursive: true });
    const p = new Partition(dir, start, end, opts);
    for (const f of readdirSync(dir).filter((x) => /^seg-\d{6}\.dat$/.test(x)).sort()) {
      if (durable && !durable.has(f)) {
        rmSync(join(dir, f), { force: true });
        continue;
      }
      p.segments.push(Segment.open(join(dir, f), durable?.get(f) ?? Infinity));
    }
    return p;
  }

  /** Where the next block will be written: blocks before it (in (seq, offset) order) exist now. */
  position(): [number, number] {
    const last = this.segments[this.segments.length - 1];
    return last ? [this.segments.length - 1, last.usedBytes()] : [0, 0];
  }

  /** Segment file paths in order (a block's `seq` indexes this list). */
  segmentPaths(): string[] {
    return this.segments.map((s) => s.path);
  }

  /** Segment file name → bytes in use (recorded by the table at flush). */
  segmentLengths(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.segments) out[basename(s.path)] = s.usedBytes();
    return out;
  }

  contains(ts: bigint): boolean {
    return ts >= this.start && ts < this.end;
  }

  /** Appends one block of an entity, starting a new segment when the current one is full. */
  append(entityId: number, block: Buffer): LocatedBlock {
    let seg = this.segments[this.segments.length - 1];
    if (!seg || !seg.fits(block.length) || seg.blockCount >= (this.opts.blocksMax ?? Infinity)) {
      if (seg) seg.sync();
      // A block larger than a whole segment (long strings) gets a segment of its own size.
      const capacityBytes = Math.max(this.opts.capacityBytes ?? segmentBytesDefault, recordHeaderBytes + block.length);
      seg = Segment.create(join(this.dir, segName(this.segments.length + 1)), { ...this.opts, capacityBytes });
      this.segments.push(seg);
    }
    return { ...seg.append(entityId, block), segment: seg, seq: this.segments.length - 1 };
  }

  /** Makes every appended block durable. */
  sync(): void {
    this.segments[this.segments.length - 1]?.sync();
  }

  /** An entity's blocks overlapping [minTs, maxTs], in append order, skipping by header min/max. */
  blocks(entityId: number, minTs: bigint, maxTs: bigint): LocatedBlock[] {
    const out: LocatedBlock[] = [];
    this.segments.forEach((s, seq) => {
      for (const r of s.chains.get(entityId) ?? []) if (r.maxTs >= minTs && r.minTs <= maxTs) out.push({ ...r, segment: s, seq });
    });
    return out;
  }

  entities(): Set<number> {
    const ids = new Set<number>();
    for (const s of this.segments) for (const id of s.chains.keys()) ids.add(id);
    return ids;
  }

  read(b: LocatedBlock): Buffer {
    const buf = b.segment.read(b);
    readBlockHeader(buf); // verifies the checksum
    return buf;
  }

  segmentCount(): number {
    return this.segments.length;
  }

  usedBytes(): number {
    return this.segments.reduce((n, s) => n + s.usedBytes(), 0);
  }

  close(): void {
    for (const s of this.segments) s.close();
  }

  /** Retention: deletes the partition and its files. */
  drop(): void {
    this.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The partition start for a timestamp, with partitions aligned to multiples of the interval. */
export function partitionStart(ts: bigint, interval: bigint): bigint {
  const q = ts / interval;
  return (ts < 0n && q * interval !== ts ? q - 1n : q) * interval;
}
