/**
 * The read side of a TS table: scans of rows by entity and time range, the newest row per entity
 * (lastpoint) and header-level aggregates. Blocks are skipped by their header min/max (prune),
 * answered from their header alone (summarize, aggregate) or decoded — only the columns asked
 * for — and merged with the entity's buffered rows, with DELETEd rows left out (tombstone.ts).
 *
 * INVARIANT: a block is skipped or answered from its header only when no row of it could replace
 * or be replaced by another row (dedup) and, for header answers, no DELETE hides any of its rows
 * and it lies wholly inside the scanned range.
 */
import { ColumnType, readBlockHeader } from './block.js';
import type { BlockHeader, ColumnData } from './block.js';
import { blockColumnsFor, blockPositionsFor, dedupRuns, keepRows, mergeSortedColumns, sliceColumns } from './columns.js';
import type { DedupRule } from './columns.js';
import type { EntityBuffer } from './entity_buffer.js';
import type { LocatedBlock, Partition } from './partition.js';
import type { TsLayout } from './schema.js';
import { tombstonesFor, withoutDeleted } from './tombstone.js';
import type { Tombstone } from './tombstone.js';

/** Entities whose newest row the last-row cache holds at most. */
const lastRowCacheEntriesMax = 100_000;

/** One scanned run of rows of one entity. */
export interface ScanBatch {
  entityId: number;
  columns: ColumnData[];
}

export interface Aggregate {
  count: number;
  min: number;
  max: number;
  sum: number;
  firstTs: bigint | null;
  lastTs: bigint | null;
  /** Blocks answered from their header alone, and blocks that had to be decoded. */
  headerBlocks: number;
  decodedBlocks: number;
}

/**
 * A condition on an integer data column (current layout position) that scans check against block
 * headers: `test(min, max)` false means no row of the block can satisfy it (e.g. `v > 90` with
 * max 80), so the block is not decoded. The condition must still be applied to the rows read.
 */
export interface BlockPrune {
  col: number;
  test(min: number, max: number): boolean;
}

/**
 * Answers a block from its header instead of its rows: called with the entity, the header, the
 * header's column index for each layout position (-1: the block predates the column) and the
 * layout's types; returns true when it took the block's rows into account (then the scan leaves
 * them out), false to have the block decoded as usual. Offered only for blocks wholly inside the
 * scanned time range, untouched by any DELETE, whose rows no other row can replace (dedup).
 */
export type BlockSummarizer = (entityId: number, h: BlockHeader, positions: number[], types: ColumnType[]) => boolean;

export interface ScanOptions {
  /** Layout positions to decode (others are zero-filled stand-ins); null: all. */
  columns?: Set<number> | null;
  /**
   * ts.dedup.rule: how rows of one entity with equal timestamps resolve, in append order:
   * override — the last row wins; merge — each column takes its last non-NULL value; discard —
   * the first row wins; keep (default) — all rows stay.
   */
  dedup?: DedupRule;
  /** Skip blocks whose header min/max rule out every row (the caller still filters rows). */
  prune?: BlockPrune[] | null;
  summarize?: BlockSummarizer | null;
}

/** Blocks scans read since the table opened: skipped by min/max, answered by headers, decoded. */
export interface BlockReads {
  skipped: number;
  headers: number;
  decoded: number;
}

/**
 * What the read side sees of a table, live: every call reads the table's state as it is then
 * (an ALTER replaces the layout, a DELETE or a rewrite the tombstones), as a scan suspended
 * between batches must see.
 */
export interface TableContents {
  /** The columns in effect. */
  layout(): TsLayout;
  /** The DELETEs in effect. */
  tombstones(): readonly Tombstone[];
  /** Every partition, in no order. */
  partitions(): Iterable<Partition>;
  /** Partitions that may hold rows with minTs <= ts <= maxTs, oldest first. */
  partitionsIn(minTs: bigint, maxTs: bigint): Partition[];
  /** The write buffer of an entity in a partition, if any. */
  buffered(p: Partition, entityId: number): EntityBuffer | undefined;
  /** Every entity with rows, ascending. */
  entities(): number[];
  /** The last-row cache (see TsTable.lastRows: the table empties it when rows change). */
  readonly lastRows: Map<number, ColumnData[]>;
  /** Where block reads are counted. */
  readonly reads: BlockReads;
}

/**
 * Rows of the given entities (all if null) with minTs <= ts <= maxTs, per entity in timestamp
 * order (blocks written out of order and buffered rows are merged and sorted). See ScanOptions.
 */
export function* scanTable(t: TableContents, entityIds: number[] | null, minTs: bigint, maxTs: bigint, opts: ScanOptions = {}): Generator<ScanBatch> {
  const { columns = null, dedup = 'keep', prune = null, summarize = null } = opts;
  const ids = entityIds ?? t.entities();
  for (const id of ids) {
    const parts: ColumnData[][] = [];
    for (const p of t.partitionsIn(minTs, maxTs)) {
      const blocks = p.blocks(id, minTs, maxTs);
      const buffered = t.buffered(p, id);
      // Skipping a block, or answering from its header, is right only if none of its rows could
      // replace or be replaced by another row (dedup): under `keep`, or when this entity has no
      // duplicate timestamps here.
      const exclusive = dedup === 'keep' || (!(buffered && buffered.rows > 0) && noDuplicates(blocks));
      const canPrune = prune !== null && prune.length > 0 && exclusive;
      const canSummarize = summarize !== null && (prune === null || prune.length === 0) && exclusive;
      for (const blk of blocks) {
        const buf = p.read(blk);
        const h = readBlockHeader(buf);
        if (canPrune && !mayMatch(t.layout(), h, prune)) {
          t.reads.skipped++;
          continue;
        }
        const dead = tombstonesFor(t.tombstones(), p, id, blk);
        if (canSummarize && dead.length === 0 && blk.minTs >= minTs && blk.maxTs <= maxTs && summarize(id, h, blockPositionsFor(t.layout().ids, h), t.layout().types)) {
          t.reads.headers++;
          continue;
        }
        // Columns the caller does not need are not decoded: zero-filled stand-ins keep positions.
        const cols = blockColumnsFor(t.layout(), buf, h, columns);
        t.reads.decoded++;
        parts.push(withoutDeleted(cols, dead));
      }
      if (buffered && buffered.rows > 0) parts.push(buffered.all());
    }
    const merged = mergeSortedColumns(parts, t.layout().types, minTs, maxTs);
    if (merged) yield { entityId: id, columns: dedup === 'keep' ? merged : dedupRuns(merged, dedup) };
  }
}

/**
 * The newest row of each entity (all if null) — what `lastpoint` asks for. Partitions are
 * time-disjoint, so only the newest partition holding the entity is read, and in it only the
 * blocks whose header max timestamp is the largest (plus buffered rows).
 */
export function* latestRows(t: TableContents, entityIds: number[] | null): Generator<ScanBatch> {
  const ids = entityIds ?? t.entities();
  if (t.tombstones().length > 0) {
    // Deleted rows could be the newest: take the last row of a full scan instead.
    for (const b of scanTable(t, ids, -(2n ** 63n), 2n ** 63n - 1n, { dedup: 'override' })) {
      const n = b.columns[0]?.values.length ?? 0;
      if (n > 0) yield { entityId: b.entityId, columns: keepRows(b.columns, (_ts, i) => i === n - 1) };
    }
    return;
  }
  const parts = [...t.partitions()].sort((a, b) => (a.start > b.start ? -1 : 1));
  for (const id of ids) {
    const cached = t.lastRows.get(id);
    if (cached) {
      yield { entityId: id, columns: cached };
      continue;
    }
    for (const p of parts) {
      const blocks = p.blocks(id, -(2n ** 63n), 2n ** 63n - 1n);
      const b = t.buffered(p, id);
      if (blocks.length === 0 && !(b && b.rows > 0)) continue;
      let top = -(2n ** 63n);
      for (const blk of blocks) if (blk.maxTs > top) top = blk.maxTs;
      const runs: ColumnData[][] = [];
      for (const blk of blocks) {
        if (blk.maxTs !== top) continue;
        const buf = p.read(blk);
        runs.push(blockColumnsFor(t.layout(), buf, readBlockHeader(buf), null));
      }
      if (b && b.rows > 0) runs.push(b.all());
      let best: { run: ColumnData[]; i: number; ts: bigint } | null = null;
      for (const run of runs) {
        const ts = run[0]?.values as BigInt64Array;
        for (let i = 0; i < ts.length; i++) if (!best || (ts[i] as bigint) >= best.ts) best = { run, i, ts: ts[i] as bigint };
      }
      if (best) {
        const { run, i } = best;
        const columns = sliceColumns(run, i, i + 1);
        if (t.lastRows.size < lastRowCacheEntriesMax) t.lastRows.set(id, columns);
        yield { entityId: id, columns };
      }
      break;
    }
  }
}

/**
 * count/min/max/sum of a numeric column over [minTs, maxTs] for one entity, plus first/last
 * timestamps. Blocks entirely inside the range are answered from their header; blocks cut by the
 * range (and buffered rows) are decoded.
 */
export function aggregateColumn(t: TableContents, entityId: number, column: number, minTs: bigint, maxTs: bigint): Aggregate {
  const a: Aggregate = { count: 0, min: Infinity, max: -Infinity, sum: 0, firstTs: null, lastTs: null, headerBlocks: 0, decodedBlocks: 0 };
  const seeTs = (lo: bigint, hi: bigint) => {
    if (a.firstTs === null || lo < a.firstTs) a.firstTs = lo;
    if (a.lastTs === null || hi > a.lastTs) a.lastTs = hi;
  };
  const addRows = (cols: ColumnData[]) => {
    const ts = cols[0]?.values as BigInt64Array;
    const c = cols[column] as ColumnData;
    for (let i = 0; i < ts.length; i++) {
      const rowTs = ts[i] as bigint;
      if (rowTs < minTs || rowTs > maxTs) continue;
      seeTs(rowTs, rowTs);
      if (c.nulls && c.nulls[i]) continue;
      const raw = c.values[i];
      const v = typeof raw === 'bigint' ? Number(raw) : (raw as number);
      a.count++;
      if (v < a.min) a.min = v;
      if (v > a.max) a.max = v;
      a.sum += v;
    }
  };
  for (const p of t.partitionsIn(minTs, maxTs)) {
    for (const blk of p.blocks(entityId, minTs, maxTs)) {
      const buf = p.read(blk);
      const h = readBlockHeader(buf);
      const at = blockPositionsFor(t.layout().ids, h)[column] as number;
      const st = at >= 0 && h.columns[at]?.type === t.layout().types[column] ? h.columns[at] : undefined;
      const dead = tombstonesFor(t.tombstones(), p, entityId, blk);
      if (st && dead.length === 0 && h.minTs >= minTs && h.maxTs <= maxTs) {
        a.headerBlocks++;
        seeTs(h.minTs, h.maxTs);
        if (st.nonNull > 0) {
          a.count += st.nonNull;
          a.min = Math.min(a.min, st.min);
          a.max = Math.max(a.max, st.max);
          a.sum += st.sum;
        }
        continue;
      }
      a.decodedBlocks++;
      const cols = blockColumnsFor(t.layout(), buf, h, new Set([column]));
      addRows(withoutDeleted(cols, dead));
    }
    const b = t.buffered(p, entityId);
    if (b && b.rows > 0) addRows(b.all());
  }
  return a;
}

/** Whether a block's header allows a row to pass every prune test (false: skip the block). */
function mayMatch(layout: TsLayout, h: BlockHeader, prune: BlockPrune[]): boolean {
  const pos = blockPositionsFor(layout.ids, h);
  for (const f of prune) {
    const at = pos[f.col] as number;
    if (at < 0) return false; // the block predates the column: all NULL, no comparison is true
    const st = h.columns[at] as BlockHeader['columns'][number];
    if (st.type !== layout.types[f.col] || (st.type !== ColumnType.Int32 && st.type !== ColumnType.Int64)) continue; // floats: NaN is not in min/max
    if (st.nonNull === 0) return false;
    if (Math.abs(st.min) >= 2 ** 53 || Math.abs(st.max) >= 2 ** 53) continue;
    if (!f.test(st.min, st.max)) return false;
  }
  return true;
}

/** An entity's blocks (in append order) hold no timestamp twice: each strictly ascending, and disjoint. */
function noDuplicates(blocks: LocatedBlock[]): boolean {
  if (blocks.some((b) => !b.strict)) return false;
  const sorted = blocks.slice().sort((a, b) => (a.minTs < b.minTs ? -1 : a.minTs > b.minTs ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) if ((sorted[i] as LocatedBlock).minTs <= (sorted[i - 1] as LocatedBlock).maxTs) return false;
  return true;
}
