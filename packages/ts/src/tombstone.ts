/**
 * Deleted time ranges of a TS table (DELETE): which stored rows they hide, and how they are kept
 * in meta.json. A tombstone hides the rows of blocks that existed when it applied — blocks before
 * its mark in their partition (segment, offset: the write position then) — so rows written later
 * stay visible. Buffered rows are removed outright when the DELETE applies (TsTable.deleteRange);
 * reorganization drops hidden rows for good and forgets the partition's mark.
 */
import { keepRows } from './columns.js';
import type { ColumnData } from './block.js';
import type { LocatedBlock, Partition } from './partition.js';

/**
 * A DELETE of a time range for some entities (all when null). It hides the rows of blocks that
 * existed when it applied — those before `marks` (partition start → (segment, offset) write
 * position then) — and buffered rows were removed outright, so rows written later stay visible.
 */
export interface Tombstone {
  entities: Set<number> | null;
  lo: bigint;
  hi: bigint;
  marks: Map<bigint, [number, number]>;
}

/** A tombstone as meta.json holds it (timestamps and partition starts as decimal strings). */
export interface TombstoneMeta {
  entities: number[] | null;
  lo: string;
  hi: string;
  marks: Record<string, [number, number]>;
}

export function tombstoneToMeta(d: Tombstone): TombstoneMeta {
  return {
    entities: d.entities ? [...d.entities] : null,
    lo: String(d.lo),
    hi: String(d.hi),
    marks: Object.fromEntries([...d.marks].map(([k, v]) => [String(k), v])),
  };
}

export function tombstoneFromMeta(d: TombstoneMeta): Tombstone {
  return {
    entities: d.entities ? new Set(d.entities) : null,
    lo: BigInt(d.lo),
    hi: BigInt(d.hi),
    marks: new Map(Object.entries(d.marks).map(([k, v]) => [BigInt(k), v])),
  };
}

/** The deletes that hide rows of this block: same entity, overlapping range, block older than the delete. */
export function tombstonesFor(tombstones: readonly Tombstone[], p: Partition, id: number, blk: LocatedBlock): Tombstone[] {
  if (tombstones.length === 0) return [];
  return tombstones.filter((d) => {
    if (d.entities && !d.entities.has(id)) return false;
    if (blk.maxTs < d.lo || blk.minTs > d.hi) return false;
    const m = d.marks.get(p.start);
    return m !== undefined && (blk.seq < m[0] || (blk.seq === m[0] && blk.offset < m[1]));
  });
}

/** A block's rows without those the given tombstones (tombstonesFor) hide. */
export function withoutDeleted(cols: ColumnData[], dead: Tombstone[]): ColumnData[] {
  return dead.length > 0 ? keepRows(cols, (ts) => !dead.some((d) => ts >= d.lo && ts <= d.hi)) : cols;
}
