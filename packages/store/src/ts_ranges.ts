/**
 * The map of time-series tables split into hash-point ranges (KWDB's pre-split at CREATE TABLE),
 * kept by the first range as replicated range-local state:
 *
 *   /Local/r/1/tsmap/<tableId>/<hashStart>  {rangeId, hashEnd}: the range holding hash points
 *                                           [hashStart, hashEnd) of the table
 *   /Local/r/1/nextRange                    the next range id a split hands out
 *   /Local/r/1/tsdropped/<rangeId>          a range of a dropped table (DropTsRanges): its
 *                                           replicas are destroyed wherever they are found
 *
 * Written only by applying a split (apply.ts), so every replica of the first range has the same
 * map at the same applied index, and KV_BATCH snapshots of the first range carry it. A table
 * without entries is not split: the first range holds all of it (every table created before
 * splits existed, and every table in single-node mode unless ts.ranges_per_table says otherwise).
 *
 * INVARIANT: a split table's entries cover [0, hashNum) without gaps or overlaps, and the map of
 *   a table never changes once written (no merges or further splits yet) until the table is
 *   dropped: DropTsRanges then deletes all of its entries at once and marks its ranges dropped.
 * INVARIANT: a range marked dropped never serves again: every store destroys its replica when it
 *   applies the drop (or, having missed it in a snapshot of the first range, when it opens) and
 *   keeps a tombstone that refuses any replica of the range from then on.
 * INVARIANT: the split is applied in the first range's log before the table's descriptor
 *   commits (the SQL layer splits, then commits), so a node that sees the table sees its map.
 */
import { KeyWriter, prefixEnd, tsKeyspaceStart, tsRangeKey } from '@strata/kv';
import type { Engine, RangeDescriptor, TsRangeEntry } from '@strata/kv';
import { initialStateWrites } from './replica/state.js';
import { replicatedKey } from './keys.js';
import { firstSplitRangeId, metaRangeId } from './system_ranges.js';

export { metaRangeId };

/** Pieces a table may be split into at most. */
export const tsRangesPerTableMax = 64;

const tsmapPrefix = (): KeyWriter => new KeyWriter(48).bytes(replicatedKey(metaRangeId, 'tsmap'));

export function tsMapKey(tableId: number, hashStart: number): Buffer {
  return tsmapPrefix().u32(tableId).u32(hashStart).finish();
}

function tsMapSpan(tableId: number): [Buffer, Buffer] {
  const p = tsmapPrefix().u32(tableId).finish();
  return [p, prefixEnd(p)];
}

export const nextRangeIdKey = replicatedKey(metaRangeId, 'nextRange');

const droppedPrefix = (): KeyWriter => new KeyWriter(40).bytes(replicatedKey(metaRangeId, 'tsdropped'));

export function tsDroppedKey(rangeId: number): Buffer {
  return droppedPrefix().u32(rangeId).finish();
}

/** The ranges of dropped tables (their replicas must not exist). */
export function readDroppedTsRanges(engine: Engine): Set<number> {
  const p = droppedPrefix().finish();
  const out = new Set<number>();
  for (const { key } of engine.scan(p, prefixEnd(p))) out.add(key.readUInt32BE(key.length - 4));
  return out;
}

/** The body of a DropTsRanges command: the table and its map as the leaseholder read it. */
export interface TsDrop {
  tableId: number;
  entries: TsRangeEntry[];
}

export function encodeTsDrop(d: TsDrop): Buffer {
  return Buffer.from(JSON.stringify(d));
}

export function decodeTsDrop(b: Buffer): TsDrop {
  return JSON.parse(b.toString()) as TsDrop;
}

export function encodeTsMapValue(e: TsRangeEntry): Buffer {
  return Buffer.from(JSON.stringify({ rangeId: e.rangeId, hashEnd: e.hashEnd }));
}

/** The ranges of a split table in hash order, or null if the table is not split. */
export function readTsRangeMap(engine: Engine, tableId: number): TsRangeEntry[] | null {
  const [start, end] = tsMapSpan(tableId);
  const out: TsRangeEntry[] = [];
  for (const { key, value } of engine.scan(start, end)) {
    const v = JSON.parse(value.toString()) as { rangeId: number; hashEnd: number };
    out.push({ rangeId: v.rangeId, hashStart: key.readUInt32BE(key.length - 4), hashEnd: v.hashEnd });
  }
  return out.length > 0 ? out : null;
}

/** The table whose hash points range `rangeId` holds, or null (not a range of a split table). */
export function tsTableOfRange(engine: Engine, rangeId: number): number | null {
  const p = tsmapPrefix().finish();
  for (const { key, value } of engine.scan(p, prefixEnd(p))) {
    if ((JSON.parse(value.toString()) as { rangeId: number }).rangeId === rangeId) return key.readUInt32BE(key.length - 8);
  }
  return null;
}

/** The next range id to hand out (the ranges of bootstrap come before it: system_ranges.ts). */
export function readNextRangeId(engine: Engine): number {
  const v = engine.get(nextRangeIdKey);
  return v ? v.readUInt32BE(0) : firstSplitRangeId;
}

export function encodeRangeId(id: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(id, 0);
  return b;
}

/** Hash points [0, hashNum) in `pieces` contiguous spans of nearly equal size. */
export function hashSpans(hashNum: number, pieces: number): [number, number][] {
  const n = Math.max(1, Math.min(pieces, hashNum));
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) out.push([Math.floor((i * hashNum) / n), Math.floor(((i + 1) * hashNum) / n)]);
  return out;
}

/**
 * The split of a table, as the first range's leaseholder evaluates it: the first range's new
 * descriptor (its span ends where the TS keyspace starts), the new ranges' descriptors (the same
 * replicas as the first range, generation 0) and the map entries.
 */
export interface TsSplit {
  tableId: number;
  lhs: RangeDescriptor;
  rhs: RangeDescriptor[];
  entries: TsRangeEntry[];
  nextRangeId: number;
}

export function planTsSplit(
  cur: RangeDescriptor,
  nextRangeId: number,
  tableId: number,
  hashNum: number,
  pieces: number,
): TsSplit {
  const endKey = Buffer.compare(cur.endKey, tsKeyspaceStart) > 0 ? tsKeyspaceStart : cur.endKey;
  const lhs: RangeDescriptor = { ...cur, endKey, generation: cur.generation + 1 };
  const rhs: RangeDescriptor[] = [];
  const entries: TsRangeEntry[] = [];
  let id = nextRangeId;
  for (const [a, b] of hashSpans(hashNum, pieces)) {
    rhs.push({
      rangeId: id,
      startKey: tsRangeKey(tableId, a),
      endKey: b === hashNum ? tsRangeKey(tableId + 1, 0) : tsRangeKey(tableId, b),
      replicas: cur.replicas.map((r) => ({ ...r })),
      nextReplicaId: cur.nextReplicaId,
      generation: 0,
    });
    entries.push({ rangeId: id, hashStart: a, hashEnd: b });
    id++;
  }
  return { tableId, lhs, rhs, entries, nextRangeId: id };
}

export function encodeTsSplit(s: TsSplit): Buffer {
  const d = (x: RangeDescriptor) => ({
    ...x,
    startKey: x.startKey.toString('hex'),
    endKey: x.endKey.toString('hex'),
  });
  return Buffer.from(
    JSON.stringify({
      tableId: s.tableId,
      lhs: d(s.lhs),
      rhs: s.rhs.map(d),
      entries: s.entries,
      nextRangeId: s.nextRangeId,
    }),
  );
}

export function decodeTsSplit(b: Buffer): TsSplit {
  type J = Omit<RangeDescriptor, 'startKey' | 'endKey'> & { startKey: string; endKey: string };
  const o = JSON.parse(b.toString()) as {
    tableId: number;
    lhs: J;
    rhs: J[];
    entries: TsRangeEntry[];
    nextRangeId: number;
  };
  const d = (x: J): RangeDescriptor => ({
    ...x,
    startKey: Buffer.from(x.startKey, 'hex'),
    endKey: Buffer.from(x.endKey, 'hex'),
  });
  return {
    tableId: o.tableId,
    lhs: d(o.lhs),
    rhs: o.rhs.map(d),
    entries: o.entries,
    nextRangeId: o.nextRangeId,
  };
}

/**
 * The state a new range starts from on a store that applies the split: its descriptor and an
 * applied index of splitInitialIndex (above 0, so a replica of it created empty by a message
 * from the range's leader gets a snapshot rather than entries it could not place).
 */
export function splitRangeStateWrites(d: RangeDescriptor): { key: Buffer; value: Buffer }[] {
  return initialStateWrites(d, splitInitialIndex);
}

export const splitInitialIndex = { index: 10, term: 5 };
