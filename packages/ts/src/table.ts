/**
 * TsTable: one time-series table's storage on one replica — it coordinates the partitions by time,
 * the per-entity write buffers (entity_buffer.ts), the durable record of both (table_meta.ts),
 * DELETEs (tombstone.ts), reads (table_scan.ts) and partition rewrites (pending_rewrites.ts).
 *
 * Durability: appended rows sit in per-entity buffers until a buffer fills (rowsPerBlock rows, then
 * it becomes a block) or flush(appliedIndex) writes every partial buffer as a block, syncs the
 * segments and the tag table and records appliedIndex with every file's synced length in meta.json
 * (write, fsync, rename). open() keeps exactly what meta.json lists — blocks, segments, partitions
 * and entities written after the last flush are cut away — so replaying the Raft log (the WAL)
 * from `durableIndex` + 1 never duplicates a row.
 *
 * INVARIANT: a row is in exactly one place: a buffer or one block.
 * INVARIANT: durableIndex only moves forward, after the data it covers is synced.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { assert } from '@strata/common';
import { TagTable } from './tags.js';
import { Codec, ColumnType, blockRowsDefault, blockRowsMax, encodeBlock } from './block.js';
import type { ColumnData, Compression } from './block.js';
import { convertColumn, nullColumn, positionsById, sameIds } from './schema.js';
import type { TsLayout } from './schema.js';
import { keepRows } from './columns.js';
import type { DedupRule } from './columns.js';
import { ColumnBuilder } from './column_builder.js';
import { tsStorageDefault } from './command_header.js';
import type { FullTsSchema, TsStorage, TsValue } from './command_header.js';
import type { TsColumnGroup } from './write_command.js';
import type { RewriteJob, RewriteResult } from './reorganize.js';
import { Partition, partitionStart } from './partition.js';
import { segmentBytesFor } from './segment.js';
import type { SegmentOptions } from './segment.js';
import { EntityBuffer } from './entity_buffer.js';
import { readTableMeta, writeTableMeta } from './table_meta.js';
import type { TableMeta } from './table_meta.js';
import { tombstoneFromMeta, tombstoneToMeta } from './tombstone.js';
import type { Tombstone } from './tombstone.js';
import { aggregateColumn, latestRows, scanTable } from './table_scan.js';
import type { Aggregate, BlockReads, ScanBatch, ScanOptions, TableContents } from './table_scan.js';
import { PendingRewrites } from './pending_rewrites.js';
import type { PendingRewrite } from './pending_rewrites.js';

export type { Aggregate, BlockPrune, BlockReads, BlockSummarizer, ScanBatch, ScanOptions } from './table_scan.js';
export type { PendingRewrite } from './pending_rewrites.js';

export interface TsColumnDef {
  name: string;
  type: ColumnType;
}

export interface TsTableOptions {
  dir: string;
  /** columns[0] must be the timestamp column. */
  columns: TsColumnDef[];
  /** PARTITION INTERVAL in timestamp units. */
  partitionInterval: bigint;
  rowsPerBlock?: number;
  segment?: SegmentOptions;
  /** Compress blocks with lz4 as they are written (inactive-segment compression comes later). */
  compress?: boolean;
  /** The tag table's column types and primary tag positions; without it entity ids are given directly. */
  tags?: { types: ColumnType[]; primary: number[]; ids?: number[] };
  /** Stable column ids (default: positions) and the schema version they belong to. */
  columnIds?: number[];
  schemaVersion?: number;
  /** Where scans count the blocks they read (default: the table's own counters). */
  reads?: BlockReads;
}

export class TsTable {
  private readonly partitions = new Map<bigint, Partition>();
  private readonly buffers = new Map<string, EntityBuffer>(); // `${partitionStart}/${entityId}`
  /** The columns in effect; buffers hold rows in this layout. */
  layout: TsLayout;
  private types: ColumnType[];
  rowsPerBlock: number;
  private compression: Compression | boolean;
  /** Shared with every partition, so a settings change reaches new segments at once. */
  private readonly segOpts: SegmentOptions;
  durableIndex = 0;
  tags: TagTable | null;
  private tagFile: string;
  /** Rows appended since the last flush (or deletes not yet flushed). */
  unflushedRows = 0;
  private tombstones: Tombstone[] = [];
  /** Starts of partitions reorganized and not written to or deleted from since. */
  private readonly clean = new Set<bigint>();
  /**
   * The newest row of entities latest() found, until the entity is written to (or any delete,
   * schema change, retention or rewrite): lastpoint queries then read no block (KWDB's last-row
   * cache). At most lastRowCacheEntriesMax entities (table_scan.ts).
   */
  private readonly lastRows = new Map<number, ColumnData[]>();
  /**
   * Per partition start: the log index of the last command that changed its rows (write, DELETE,
   * schema change). A rewrite planned at index P is switched in only if this is <= P — a pure
   * function of the log, so every replica decides the same (persisted in meta.json).
   */
  private readonly lastChange = new Map<bigint, number>();
  /** Blocks scans read (shared with the engine, which reports them as metrics). */
  readonly reads: BlockReads;
  /** Rewrites planned and not yet committed or discarded (reorganize.ts), by partition start. */
  private readonly rewrites: PendingRewrites;
  /** What scans see of this table (table_scan.ts), read live at every use. */
  private readonly contents: TableContents;

  private constructor(
    readonly o: TsTableOptions,
    meta: TableMeta | null,
  ) {
    const ms = meta?.schema;
    this.types = ms ? ms.columns : o.columns.map((c) => c.type);
    this.layout = { version: ms?.version ?? o.schemaVersion ?? 0, ids: ms?.columnIds ?? o.columnIds ?? this.types.map((_t, i) => i), types: this.types };
    this.tagFile = meta?.tagFile ?? 'tags.log';
    const tagSpec = ms ? { types: ms.tags, primary: ms.primaryTags, ids: ms.tagIds } : o.tags;
    this.tags = tagSpec ? TagTable.open(join(o.dir, this.tagFile), tagSpec.types, tagSpec.primary, meta?.tagBytes ?? 0, tagSpec.ids) : null;
    for (const f of readdirSync(o.dir)) if (/^tags.*\.log$/.test(f) && f !== this.tagFile) rmSync(join(o.dir, f), { force: true }); // an interrupted tag rewrite
    this.rowsPerBlock = Math.min(o.rowsPerBlock ?? blockRowsDefault, blockRowsMax);
    this.compression = o.compress ?? true;
    this.segOpts = { ...o.segment };
    this.reads = o.reads ?? { skipped: 0, headers: 0, decoded: 0 };
    this.rewrites = new PendingRewrites(o.dir);
    this.contents = {
      layout: () => this.layout,
      tombstones: () => this.tombstones,
      partitions: () => this.partitions.values(),
      partitionsIn: (minTs, maxTs) => this.partitionsIn(minTs, maxTs),
      buffered: (p, entityId) => this.buffers.get(p.bufferKeyPrefix + entityId),
      entities: () => this.entities(),
      lastRows: this.lastRows,
      reads: this.reads,
    };
    this.sizeSegments();
    assert(this.types[0] === ColumnType.Timestamp, 'the first column of a time-series table must be the timestamp');
  }

  /**
   * How new blocks and segments are laid out (ts.rows_per_block.max_limit,
   * ts.blocks_per_segment.max_limit, ts.compression.*), as the command being applied carries
   * them. Only data written from now on is affected.
   */
  setStorage(st: TsStorage): void {
    this.rowsPerBlock = Math.max(1, Math.min(st.rowsPerBlock, blockRowsMax));
    this.segOpts.blocksMax = st.blocksPerSegment;
    this.sizeSegments();
    this.compression = st.codec === Codec.Plain ? false : { codec: st.codec as Codec, level: st.level };
  }

  /** New segments' preallocated size for the current layout and settings (unless fixed by the options). */
  private sizeSegments(): void {
    if (this.o.segment?.capacityBytes !== undefined) return;
    this.segOpts.capacityBytes = segmentBytesFor(this.types, this.rowsPerBlock, this.segOpts.blocksMax ?? tsStorageDefault.blocksPerSegment);
  }

  /**
   * A schema change (ALTER TABLE): rows buffered under the old layout become blocks (which record
   * their column ids), tags are rewritten into a new tag file when their layout changed, and the
   * new schema is recorded in meta.json together with `appliedIndex` (everything applied before
   * the change), so a replay after a crash never sees old rows under the new layout unmapped.
   * Blocks are not rewritten: reads map them by column id (schema.ts).
   */
  alter(schema: FullTsSchema, appliedIndex: number): void {
    if (schema.version <= this.layout.version) return;
    this.lastRows.clear();
    this.flush(Math.max(appliedIndex, this.durableIndex), true);
    assert(schema.columns[0] === ColumnType.Timestamp && schema.columnIds[0] === this.layout.ids[0], 'the timestamp column cannot change');
    const old = this.tags;
    if (old && (!sameIds(old.ids, schema.tagIds) || old.types.some((t, i) => t !== schema.tags[i]))) {
      const file = `tags.v${schema.version}.log`;
      this.tags = old.rewrite(join(this.o.dir, file), schema.tags, schema.tagIds, schema.primaryTags);
      this.tagFile = file;
    }
    this.types = schema.columns.slice();
    this.layout = { version: schema.version, ids: schema.columnIds.slice(), types: this.types };
    // Rewrites planned under the old layout must not be switched in.
    for (const start of this.partitions.keys()) this.lastChange.set(start, appliedIndex + 1);
    this.sizeSegments();
    this.writeMeta(Math.max(appliedIndex, this.durableIndex));
    if (old && old !== this.tags) {
      old.close();
      rmSync(old.path, { force: true });
    }
  }

  /** A group's columns written under another schema (`from`), rearranged to the current layout by column id. */
  mapColumns(g: TsColumnGroup, from: FullTsSchema): ColumnData[] {
    if (sameIds(from.columnIds, this.layout.ids) && from.columns.every((t, i) => t === this.types[i])) return g.columns;
    return positionsById(from.columnIds, this.layout.ids).map((p, i) => {
      const to = this.types[i] as ColumnType;
      return p < 0 ? nullColumn(to, g.rows) : convertColumn(g.columns[p] as ColumnData, to);
    });
  }

  static open(o: TsTableOptions): TsTable {
    mkdirSync(o.dir, { recursive: true });
    const meta = readTableMeta(o.dir);
    const t = new TsTable(o, meta);
    t.durableIndex = meta?.durableIndex ?? 0;
    for (const d of meta?.clean ?? []) t.clean.add(BigInt(d.slice(1).split('_')[0] as string));
    for (const [k, v] of Object.entries(meta?.changed ?? {})) t.lastChange.set(BigInt(k), v);
    t.tombstones = (meta?.deletes ?? []).map(tombstoneFromMeta);
    for (const d of readdirSync(o.dir).filter((x) => /^p-?\d+(_\d+)?$/.test(x))) {
      const listed = meta?.partitions?.[d];
      if (!listed) {
        rmSync(join(o.dir, d), { recursive: true, force: true }); // created after the last flush
        continue;
      }
      const start = BigInt(d.slice(1).split('_')[0] as string);
      t.partitions.set(start, Partition.open(join(o.dir, d), start, start + o.partitionInterval, t.segOpts, new Map(Object.entries(listed))));
    }
    return t;
  }

  private partitionFor(ts: bigint): Partition {
    const start = partitionStart(ts, this.o.partitionInterval);
    let p = this.partitions.get(start);
    if (!p) {
      p = Partition.open(join(this.o.dir, `p${start}`), start, start + this.o.partitionInterval, this.segOpts);
      this.partitions.set(start, p);
    }
    return p;
  }

  /**
   * Appends rows of one entity given row-wise (values[c] per column; null for SQL NULL; the
   * timestamp a bigint). See appendColumns.
   */
  appendRows(entityId: number, rows: TsValue[][]): void {
    const builders = this.types.map((t) => new ColumnBuilder(t, Math.max(1, rows.length)));
    for (const r of rows) {
      assert(typeof r[0] === 'bigint', 'timestamp must be a bigint');
      builders.forEach((b, c) => {
        const v = r[c] ?? null;
        if (v === null) b.pushNull();
        else b.push(v);
      });
    }
    this.appendColumns(entityId, builders.map((b) => b.finish()), rows.length);
  }

  /**
   * Appends `rows` rows of one entity given column-wise in the current layout. Rows may be out of
   * order; each run of rows in one partition is copied into that partition's buffer for the
   * entity, and a buffer that reaches rowsPerBlock rows becomes a block.
   */
  appendColumns(entityId: number, cols: ColumnData[], rows: number, index = 0): void {
    if (this.lastRows.size > 0) this.lastRows.delete(entityId);
    const tsCol = cols[0] as ColumnData;
    assert(tsCol.type === ColumnType.Timestamp && tsCol.values.length >= rows && !tsCol.nulls, 'a row without a timestamp');
    // Timestamps read as doubles through their 32-bit halves (exact: microseconds < 2^53).
    const h = new Int32Array((tsCol.values as BigInt64Array).buffer, (tsCol.values as BigInt64Array).byteOffset, rows * 2);
    const interval = Number(this.o.partitionInterval);
    const startOf = (r: number): number | bigint => {
      const hi = h[2 * r + 1] as number;
      if (hi >= -0x100000 && hi < 0x100000) return Math.floor((hi * 4294967296 + ((h[2 * r] as number) >>> 0)) / interval) * interval;
      return partitionStart((tsCol.values as BigInt64Array)[r] as bigint, this.o.partitionInterval); // beyond 2^52: exact
    };
    let r = 0;
    let start = rows > 0 ? startOf(0) : 0;
    while (r < rows) {
      let end = r + 1;
      let next = start;
      while (end < rows && (next = startOf(end)) === start) end++;
      const p = this.partitionFor((tsCol.values as BigInt64Array)[r] as bigint);
      this.clean.delete(p.start);
      this.lastChange.set(p.start, index);
      const key = p.bufferKeyPrefix + entityId;
      let b = this.buffers.get(key);
      if (!b) this.buffers.set(key, (b = new EntityBuffer(this.types)));
      for (let from = r; from < end; ) {
        const to = Math.min(end, from + Math.max(1, this.rowsPerBlock - b.rows));
        b.append(cols, from, to);
        from = to;
        if (b.rows >= this.rowsPerBlock) this.seal(p, entityId, b);
      }
      r = end;
      start = next;
    }
    this.unflushedRows += rows;
  }

  private seal(p: Partition, entityId: number, b: EntityBuffer): void {
    if (b.rows === 0) return;
    p.append(entityId, encodeBlock(b.all(), this.compression, this.layout.ids));
    b.clear();
  }

  /** Writes every buffered row as blocks, syncs, and records appliedIndex as durable. */
  flush(appliedIndex: number, skipMeta = false): void {
    for (const [key, b] of this.buffers) {
      const [start, entity] = key.split('/') as [string, string];
      this.seal(this.partitions.get(BigInt(start)) as Partition, Number(entity), b);
    }
    this.buffers.clear();
    for (const p of this.partitions.values()) p.sync();
    if (appliedIndex > this.durableIndex && !skipMeta) this.writeMeta(appliedIndex);
    this.unflushedRows = 0;
  }

  /** Writes meta.json (write, fsync, rename) describing the synced files, at `index`. */
  private writeMeta(index: number): void {
    const meta: TableMeta = {
      durableIndex: index,
      tagBytes: this.tags?.sync() ?? 0,
      partitions: {},
      deletes: this.tombstones.map(tombstoneToMeta),
      clean: [...this.partitions.values()].filter((p) => this.clean.has(p.start)).map((p) => basename(p.dir)),
      changed: Object.fromEntries([...this.lastChange].filter(([k]) => this.partitions.has(k)).map(([k, v]) => [String(k), v])),
      tagFile: this.tagFile,
    };
    if (this.layout.version > (this.o.schemaVersion ?? 0) || this.tagFile !== 'tags.log') {
      meta.schema = { version: this.layout.version, columns: this.types, columnIds: this.layout.ids, tags: this.tags?.types ?? [], tagIds: this.tags?.ids ?? [], primaryTags: this.tags?.primary ?? [] };
    }
    for (const p of this.partitions.values()) (meta.partitions as Record<string, Record<string, number>>)[basename(p.dir)] = p.segmentLengths();
    writeTableMeta(this.o.dir, meta);
    this.durableIndex = index;
  }

  /**
   * Reorganization (and the compression of inactive data), planned by the command at log index
   * `planIndex`: a rewrite of each partition that ends at or before `beforeTs` and was written to
   * since its last rewrite — every entity's rows sorted, duplicates resolved by `dedup`, deleted
   * rows dropped, packed into full blocks — as jobs (reorganize.ts) the engine runs in worker
   * threads, writing into `p<start>_<planIndex>`. Nothing changes for readers until the
   * replicated commit of that rewrite applies (commitRewrite), on every replica at the same log
   * index. Returns the jobs; partitions with a rewrite pending are skipped.
   */
  planReorganize(beforeTs: bigint, planIndex: number, dedup: DedupRule): { start: bigint; job: RewriteJob }[] {
    this.flush(planIndex);
    const out: { start: bigint; job: RewriteJob }[] = [];
    for (const [start, old] of [...this.partitions]) {
      if (old.end > beforeTs || this.clean.has(start) || this.rewrites.has(start)) continue;
      out.push({ start, job: this.planRewrite(start, planIndex, dedup) });
    }
    return out;
  }

  /**
   * Plans the rewrite of one partition as of `planIndex`. The caller has flushed the buffers, so
   * the listed blocks hold every row. Also used when a commit applies on a replica that has no result for
   * it (restarted since the plan, or its job failed): the partition has not changed since the
   * plan (commitRewrite checks that first), so the same rows are rewritten.
   */
  planRewrite(start: bigint, planIndex: number, dedup: DedupRule): RewriteJob {
    const old = this.partitions.get(start);
    assert(old !== undefined, `no partition ${start} to rewrite`);
    for (const [key, b] of this.buffers) assert(b.rows === 0 || !key.startsWith(old.bufferKeyPrefix), 'rewrite planned over buffered rows');
    const destDir = this.rewrites.destDir(start, planIndex);
    rmSync(destDir, { recursive: true, force: true });
    const entities = [...old.entities()].sort((a, b) => a - b).map((id) => ({ id, blocks: old.blocks(id, -(2n ** 63n), 2n ** 63n - 1n).map((b) => ({ seq: b.seq, offset: b.offset, length: b.length })) }));
    const tombstones = this.tombstones.flatMap((d) => {
      const mark = d.marks.get(start);
      return mark ? [{ entities: d.entities ? [...d.entities] : null, lo: d.lo, hi: d.hi, mark }] : [];
    });
    const job: RewriteJob = {
      segments: old.segmentPaths(),
      entities,
      tombstones,
      layout: { ids: this.layout.ids.slice(), types: this.types.slice() },
      dedup,
      rowsPerBlock: this.rowsPerBlock,
      compression: this.compression,
      destDir,
      start,
      end: old.end,
      segment: { ...this.segOpts },
    };
    this.rewrites.plan(start, planIndex, dedup, destDir);
    return job;
  }

  /** The pending rewrite of a partition (planned, maybe finished), if any. */
  pendingRewrite(start: bigint): PendingRewrite | undefined {
    return this.rewrites.get(start);
  }

  /** Whether any rewrite is planned and not yet committed or discarded. */
  hasPendingRewrites(): boolean {
    return this.rewrites.any();
  }

  /** Rewrites whose job finished (successfully or not) and that no commit has decided yet. */
  finishedRewrites(): { start: bigint; planIndex: number; dedup: DedupRule }[] {
    return this.rewrites.finished();
  }

  /** Records the outcome of a rewrite job (kept until its commit decides). */
  rewriteDone(start: bigint, planIndex: number, result: RewriteResult | null): void {
    this.rewrites.done(start, planIndex, result);
  }

  /** Whether a rewrite planned at `planIndex` may still be switched in: the partition exists and no command changed it since. */
  unchangedSince(start: bigint, planIndex: number): boolean {
    return this.partitions.has(start) && (this.lastChange.get(start) ?? 0) <= planIndex;
  }

  /**
   * Switches in the finished rewrite of partition `start` (planned at `planIndex`) at log index
   * `index` — the apply of its replicated commit: everything applied before is flushed, the new
   * partition replaces the old one in meta.json at `index`, then the old files are deleted.
   */
  switchIn(start: bigint, planIndex: number, index: number): void {
    const r = this.rewrites.get(start);
    const old = this.partitions.get(start);
    assert(r !== undefined && r.planIndex === planIndex && r.result !== null && old !== undefined, `no finished rewrite of partition ${start} planned at ${planIndex}`);
    assert(this.unchangedSince(start, planIndex), `partition ${start} changed after the rewrite planned at ${planIndex}`);
    this.rewrites.take(start);
    this.flush(Math.max(index - 1, this.durableIndex), true);
    this.partitions.set(start, Partition.open(r.destDir, start, old.end, this.segOpts, new Map(Object.entries(r.result.lengths))));
    this.lastRows.clear();
    for (const d of this.tombstones) d.marks.delete(start);
    this.tombstones = this.tombstones.filter((d) => d.marks.size > 0);
    this.clean.add(start);
    this.writeMeta(Math.max(index, this.durableIndex));
    old.drop();
  }

  /** Throws a pending rewrite away (its commit found the partition changed, or it was superseded). */
  discardRewrite(start: bigint): void {
    this.rewrites.discard(start);
  }

  /** Blocks in a partition (all entities), for tests and metrics. */
  blockCount(): number {
    let n = 0;
    for (const p of this.partitions.values()) for (const id of p.entities()) n += p.blocks(id, -(2n ** 63n), 2n ** 63n - 1n).length;
    return n;
  }

  private partitionsIn(minTs: bigint, maxTs: bigint): Partition[] {
    return [...this.partitions.values()].filter((p) => p.end > minTs && p.start <= maxTs).sort((a, b) => (a.start < b.start ? -1 : 1));
  }

  entities(): number[] {
    const ids = new Set<number>();
    for (const p of this.partitions.values()) for (const id of p.entities()) ids.add(id);
    for (const k of this.buffers.keys()) ids.add(Number(k.split('/')[1]));
    return [...ids].sort((a, b) => a - b);
  }

  /**
   * Rows of the given entities (all if null) with minTs <= ts <= maxTs, per entity in timestamp
   * order (blocks written out of order and buffered rows are merged and sorted). See ScanOptions.
   */
  *scan(entityIds: number[] | null, minTs: bigint, maxTs: bigint, opts: ScanOptions = {}): Generator<ScanBatch> {
    yield* scanTable(this.contents, entityIds, minTs, maxTs, opts);
  }

  /** Whether any DELETE is in effect (shortcuts that read block headers alone must not be taken). */
  hasDeletes(): boolean {
    return this.tombstones.length > 0;
  }

  /**
   * DELETE: hides the rows of the given entities (all when null) with lo <= ts <= hi. Buffered
   * rows are removed now; stored blocks are filtered when read (reorganization would rewrite them).
   */
  deleteRange(entityIds: number[] | null, lo: bigint, hi: bigint, index = 0): void {
    this.lastRows.clear();
    const ids = entityIds ? new Set(entityIds) : null;
    const marks = new Map<bigint, [number, number]>();
    for (const p of this.partitionsIn(lo, hi)) {
      marks.set(p.start, p.position());
      this.clean.delete(p.start);
      this.lastChange.set(p.start, index);
    }
    for (const [key, b] of this.buffers) {
      const [start, entity] = key.split('/') as [string, string];
      if (ids && !ids.has(Number(entity))) continue;
      const st = BigInt(start);
      if (st + this.o.partitionInterval <= lo || st > hi) continue;
      const cols = keepRows(b.all(), (ts) => ts < lo || ts > hi);
      b.clear();
      b.append(cols, 0, (cols[0]?.values.length ?? 0) as number);
    }
    this.tombstones.push({ entities: ids, lo, hi, marks });
    this.unflushedRows++; // the delete must reach meta.json at the next flush
  }

  /**
   * The newest row of each entity (all if null) — what `lastpoint` asks for. Partitions are
   * time-disjoint, so only the newest partition holding the entity is read, and in it only the
   * blocks whose header max timestamp is the largest (plus buffered rows).
   */
  *latest(entityIds: number[] | null): Generator<ScanBatch> {
    yield* latestRows(this.contents, entityIds);
  }

  /**
   * count/min/max/sum of a numeric column over [minTs, maxTs] for one entity, plus first/last
   * timestamps. Blocks entirely inside the range are answered from their header; blocks cut by the
   * range (and buffered rows) are decoded.
   */
  aggregate(entityId: number, column: number, minTs: bigint, maxTs: bigint): Aggregate {
    return aggregateColumn(this.contents, entityId, column, minTs, maxTs);
  }

  /** Retention: drops every partition that ends at or before `ts` (flushes first). */
  dropBefore(ts: bigint, appliedIndex: number): number {
    this.flush(appliedIndex);
    this.lastRows.clear();
    let n = 0;
    for (const [start, p] of this.partitions) {
      if (p.end <= ts) {
        this.discardRewrite(start);
        p.drop();
        this.partitions.delete(start);
        this.lastChange.delete(start);
        for (const d of this.tombstones) d.marks.delete(start);
        n++;
      }
    }
    this.tombstones = this.tombstones.filter((d) => d.marks.size > 0);
    return n;
  }

  partitionCount(): number {
    return this.partitions.size;
  }

  diskBytes(): number {
    let n = 0;
    for (const p of this.partitions.values()) n += p.usedBytes();
    return n;
  }

  close(): void {
    for (const p of this.partitions.values()) p.close();
    this.tags?.close();
  }
}

