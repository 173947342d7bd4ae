/**
 * TsTable: one time-series table's storage on one replica — partitions by time, per-entity write
 * buffers, block encoding, scans and header-level aggregates.
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
import { existsSync, fsyncSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { assert } from '@strata/common';
import { TagTable } from './tags.js';
import { Codec, ColumnType, blockRowsDefault, blockRowsMax, encodeBlock, readBlockHeader } from './block.js';
import type { BlockHeader, ColumnData, Compression } from './block.js';
import { convertColumn, nullColumn, positionsById, sameIds } from './schema.js';
import { blockColumnsFor, blockPositionsFor, dedupRuns, keepRows, mergeSortedColumns, sliceColumns } from './columns.js';
import type { DedupRule } from './columns.js';
import { ColumnBuilder, tsStorageDefault } from './command.js';
import type { FullTsSchema, TsColumnGroup, TsStorage, TsValue } from './command.js';
import type { RewriteJob, RewriteResult } from './reorganize.js';
import { Partition, partitionStart } from './partition.js';
import type { LocatedBlock } from './partition.js';
import { segmentBytesFor } from './segment.js';
import type { SegmentOptions } from './segment.js';

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

/** The columns in effect: stable ids and types, and the schema version they come from. */
export interface TsLayout {
  version: number;
  ids: number[];
  types: ColumnType[];
}

/** A schema change recorded in meta.json (it replaces the schema the table was created with). */
interface MetaSchema {
  version: number;
  columns: ColumnType[];
  columnIds: number[];
  tags: ColumnType[];
  tagIds: number[];
  primaryTags: number[];
}

/** Entities whose newest row the last-row cache holds at most. */
const lastRowCacheEntriesMax = 100_000;

/** meta.json: what flush() made durable. */
interface TableMeta {
  durableIndex: number;
  /** Synced bytes of tags.log. */
  tagBytes?: number;
  /** Partition directory → segment file → synced bytes. */
  partitions?: Record<string, Record<string, number>>;
  /** Partition directories rewritten by reorganization and not written to since. */
  clean?: string[];
  /** Partition start → log index of the last command that changed its rows (write, DELETE, ALTER). */
  changed?: Record<string, number>;
  /** The schema after the last ALTER (absent: the one the table was created with). */
  schema?: MetaSchema;
  /** The tag file (a schema change of tags rewrites it under a new name). */
  tagFile?: string;
  /** Deleted time ranges (timestamps as decimal strings). */
  deletes?: { entities: number[] | null; lo: string; hi: string; marks: Record<string, [number, number]> }[];
}

/**
 * A DELETE of a time range for some entities (all when null). It hides the rows of blocks that
 * existed when it applied — those before `marks` (partition start → (segment, offset) write
 * position then) — and buffered rows were removed outright, so rows written later stay visible.
 */
interface Tombstone {
  entities: Set<number> | null;
  lo: bigint;
  hi: bigint;
  marks: Map<bigint, [number, number]>;
}

/** Rows of one entity, column-wise, in typed arrays that double as they fill. */
class EntityBuffer {
  rows = 0;
  cols: ColumnBuilder[];

  constructor(readonly types: ColumnType[]) {
    this.cols = types.map((t) => new ColumnBuilder(t));
  }

  /** Rows [from, to) of columns in this buffer's layout. */
  append(src: ColumnData[], from: number, to: number): void {
    for (let c = 0; c < this.cols.length; c++) (this.cols[c] as ColumnBuilder).append(src[c] as ColumnData, from, to);
    this.rows += to - from;
  }

  /** The buffered rows (views: read them before the next append). */
  all(): ColumnData[] {
    return this.cols.map((b) => b.finish());
  }

  clear(): void {
    this.rows = 0;
    this.cols = this.types.map((t) => new ColumnBuilder(t));
  }
}


/** A rewrite planned by a reorganization command, waiting for its replicated commit. */
export interface PendingRewrite {
  /** Log index of the command that planned it (also names its directory `p<start>_<planIndex>`). */
  planIndex: number;
  dedup: DedupRule;
  destDir: string;
  result: RewriteResult | null;
  failed: boolean;
  /** The job while it runs. */
  running: Promise<void> | null;
}

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
   * cache). At most lastRowCacheEntriesMax entities.
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
  private readonly rewrites = new Map<bigint, PendingRewrite>();

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

  /**
   * The columns of a block in the current layout: by id, converted when the block has another
   * type, NULL when it predates the column; columns outside `wanted` (positions) are zero-filled
   * stand-ins, not decoded.
   */
  private blockColumns(buf: Buffer, h: BlockHeader, wanted: Set<number> | null): ColumnData[] {
    return blockColumnsFor(this.layout, buf, h, wanted);
  }

  private blockPositions(h: BlockHeader): number[] {
    return blockPositionsFor(this.layout.ids, h);
  }

  static open(o: TsTableOptions): TsTable {
    mkdirSync(o.dir, { recursive: true });
    const metaPath = join(o.dir, 'meta.json');
    const meta = existsSync(metaPath) ? (JSON.parse(readFileSync(metaPath, 'utf8')) as TableMeta) : null;
    const t = new TsTable(o, meta);
    t.durableIndex = meta?.durableIndex ?? 0;
    for (const d of meta?.clean ?? []) t.clean.add(BigInt(d.slice(1).split('_')[0] as string));
    for (const [k, v] of Object.entries(meta?.changed ?? {})) t.lastChange.set(BigInt(k), v);
    t.tombstones = (meta?.deletes ?? []).map((d) => ({
      entities: d.entities ? new Set(d.entities) : null,
      lo: BigInt(d.lo),
      hi: BigInt(d.hi),
      marks: new Map(Object.entries(d.marks).map(([k, v]) => [BigInt(k), v])),
    }));
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
      deletes: this.tombstones.map((d) => ({
        entities: d.entities ? [...d.entities] : null,
        lo: String(d.lo),
        hi: String(d.hi),
        marks: Object.fromEntries([...d.marks].map(([k, v]) => [String(k), v])),
      })),
      clean: [...this.partitions.values()].filter((p) => this.clean.has(p.start)).map((p) => basename(p.dir)),
      changed: Object.fromEntries([...this.lastChange].filter(([k]) => this.partitions.has(k)).map(([k, v]) => [String(k), v])),
      tagFile: this.tagFile,
    };
    if (this.layout.version > (this.o.schemaVersion ?? 0) || this.tagFile !== 'tags.log') {
      meta.schema = { version: this.layout.version, columns: this.types, columnIds: this.layout.ids, tags: this.tags?.types ?? [], tagIds: this.tags?.ids ?? [], primaryTags: this.tags?.primary ?? [] };
    }
    for (const p of this.partitions.values()) (meta.partitions as Record<string, Record<string, number>>)[basename(p.dir)] = p.segmentLengths();
    const tmp = join(this.o.dir, 'meta.json.tmp');
    const fd = openSync(tmp, 'w');
    writeSync(fd, JSON.stringify(meta));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, join(this.o.dir, 'meta.json'));
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
    const destDir = join(this.o.dir, `p${start}_${planIndex}`);
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
    this.rewrites.set(start, { planIndex, dedup, destDir, result: null, failed: false, running: null });
    return job;
  }

  /** The pending rewrite of a partition (planned, maybe finished), if any. */
  pendingRewrite(start: bigint): PendingRewrite | undefined {
    return this.rewrites.get(start);
  }

  /** Whether any rewrite is planned and not yet committed or discarded. */
  hasPendingRewrites(): boolean {
    return this.rewrites.size > 0;
  }

  /** Rewrites whose job finished (successfully or not) and that no commit has decided yet. */
  finishedRewrites(): { start: bigint; planIndex: number; dedup: DedupRule }[] {
    const out: { start: bigint; planIndex: number; dedup: DedupRule }[] = [];
    for (const [start, r] of this.rewrites) if (r.result || r.failed) out.push({ start, planIndex: r.planIndex, dedup: r.dedup });
    return out;
  }

  /** Records the outcome of a rewrite job (kept until its commit decides). */
  rewriteDone(start: bigint, planIndex: number, result: RewriteResult | null): void {
    const r = this.rewrites.get(start);
    if (!r || r.planIndex !== planIndex) {
      if (result) rmSync(join(this.o.dir, `p${start}_${planIndex}`), { recursive: true, force: true });
      return;
    }
    if (result) r.result = result;
    else r.failed = true;
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
    this.rewrites.delete(start);
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
    const r = this.rewrites.get(start);
    if (!r) return;
    this.rewrites.delete(start);
    if (!r.running) rmSync(r.destDir, { recursive: true, force: true });
    else void r.running.finally(() => rmSync(r.destDir, { recursive: true, force: true }));
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
    const { columns = null, dedup = 'keep', prune = null, summarize = null } = opts;
    const ids = entityIds ?? this.entities();
    for (const id of ids) {
      const parts: ColumnData[][] = [];
      for (const p of this.partitionsIn(minTs, maxTs)) {
        const blocks = p.blocks(id, minTs, maxTs);
        const buffered = this.buffers.get(p.bufferKeyPrefix + id);
        // Skipping a block, or answering from its header, is right only if none of its rows could
        // replace or be replaced by another row (dedup): under `keep`, or when this entity has no
        // duplicate timestamps here.
        const exclusive = dedup === 'keep' || (!(buffered && buffered.rows > 0) && noDuplicates(blocks));
        const canPrune = prune !== null && prune.length > 0 && exclusive;
        const canSummarize = summarize !== null && (prune === null || prune.length === 0) && exclusive;
        for (const blk of blocks) {
          const buf = p.read(blk);
          const h = readBlockHeader(buf);
          if (canPrune && !this.mayMatch(h, prune)) {
            this.reads.skipped++;
            continue;
          }
          const dead = this.tombstonesFor(p, id, blk);
          if (canSummarize && dead.length === 0 && blk.minTs >= minTs && blk.maxTs <= maxTs && summarize(id, h, this.blockPositions(h), this.types)) {
            this.reads.headers++;
            continue;
          }
          // Columns the caller does not need are not decoded: zero-filled stand-ins keep positions.
          const cols = this.blockColumns(buf, h, columns);
          this.reads.decoded++;
          parts.push(dead.length > 0 ? keepRows(cols, (ts) => !dead.some((d) => ts >= d.lo && ts <= d.hi)) : cols);
        }
        if (buffered && buffered.rows > 0) parts.push(buffered.all());
      }
      const merged = mergeSortedColumns(parts, this.types, minTs, maxTs);
      if (merged) yield { entityId: id, columns: dedup === 'keep' ? merged : dedupRuns(merged, dedup) };
    }
  }

  /** Whether a block's header allows a row to pass every prune test (false: skip the block). */
  private mayMatch(h: BlockHeader, prune: BlockPrune[]): boolean {
    const pos = this.blockPositions(h);
    for (const f of prune) {
      const at = pos[f.col] as number;
      if (at < 0) return false; // the block predates the column: all NULL, no comparison is true
      const st = h.columns[at] as BlockHeader['columns'][number];
      if (st.type !== this.types[f.col] || (st.type !== ColumnType.Int32 && st.type !== ColumnType.Int64)) continue; // floats: NaN is not in min/max
      if (st.nonNull === 0) return false;
      if (Math.abs(st.min) >= 2 ** 53 || Math.abs(st.max) >= 2 ** 53) continue;
      if (!f.test(st.min, st.max)) return false;
    }
    return true;
  }

  /** The deletes that hide rows of this block: same entity, overlapping range, block older than the delete. */
  private tombstonesFor(p: Partition, id: number, blk: LocatedBlock): Tombstone[] {
    if (this.tombstones.length === 0) return [];
    return this.tombstones.filter((d) => {
      if (d.entities && !d.entities.has(id)) return false;
      if (blk.maxTs < d.lo || blk.minTs > d.hi) return false;
      const m = d.marks.get(p.start);
      return m !== undefined && (blk.seq < m[0] || (blk.seq === m[0] && blk.offset < m[1]));
    });
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
    const ids = entityIds ?? this.entities();
    if (this.tombstones.length > 0) {
      // Deleted rows could be the newest: take the last row of a full scan instead.
      for (const b of this.scan(ids, -(2n ** 63n), 2n ** 63n - 1n, { dedup: 'override' })) {
        const n = b.columns[0]?.values.length ?? 0;
        if (n > 0) yield { entityId: b.entityId, columns: keepRows(b.columns, (_ts, i) => i === n - 1) };
      }
      return;
    }
    const parts = [...this.partitions.values()].sort((a, b) => (a.start > b.start ? -1 : 1));
    for (const id of ids) {
      const cached = this.lastRows.get(id);
      if (cached) {
        yield { entityId: id, columns: cached };
        continue;
      }
      for (const p of parts) {
        const blocks = p.blocks(id, -(2n ** 63n), 2n ** 63n - 1n);
        const b = this.buffers.get(p.bufferKeyPrefix + id);
        if (blocks.length === 0 && !(b && b.rows > 0)) continue;
        let top = -(2n ** 63n);
        for (const blk of blocks) if (blk.maxTs > top) top = blk.maxTs;
        const runs: ColumnData[][] = [];
        for (const blk of blocks) {
          if (blk.maxTs !== top) continue;
          const buf = p.read(blk);
          runs.push(this.blockColumns(buf, readBlockHeader(buf), null));
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
          if (this.lastRows.size < lastRowCacheEntriesMax) this.lastRows.set(id, columns);
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
  aggregate(entityId: number, column: number, minTs: bigint, maxTs: bigint): Aggregate {
    const a: Aggregate = { count: 0, min: Infinity, max: -Infinity, sum: 0, firstTs: null, lastTs: null, headerBlocks: 0, decodedBlocks: 0 };
    const seeTs = (lo: bigint, hi: bigint) => {
      if (a.firstTs === null || lo < a.firstTs) a.firstTs = lo;
      if (a.lastTs === null || hi > a.lastTs) a.lastTs = hi;
    };
    const addRows = (cols: ColumnData[]) => {
      const ts = cols[0]?.values as BigInt64Array;
      const c = cols[column] as ColumnData;
      for (let i = 0; i < ts.length; i++) {
        const t = ts[i] as bigint;
        if (t < minTs || t > maxTs) continue;
        seeTs(t, t);
        if (c.nulls && c.nulls[i]) continue;
        const raw = c.values[i];
        const v = typeof raw === 'bigint' ? Number(raw) : (raw as number);
        a.count++;
        if (v < a.min) a.min = v;
        if (v > a.max) a.max = v;
        a.sum += v;
      }
    };
    for (const p of this.partitionsIn(minTs, maxTs)) {
      for (const blk of p.blocks(entityId, minTs, maxTs)) {
        const buf = p.read(blk);
        const h = readBlockHeader(buf);
        const at = this.blockPositions(h)[column] as number;
        const st = at >= 0 && h.columns[at]?.type === this.types[column] ? h.columns[at] : undefined;
        const dead = this.tombstonesFor(p, entityId, blk);
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
        const cols = this.blockColumns(buf, h, new Set([column]));
        addRows(dead.length > 0 ? keepRows(cols, (ts) => !dead.some((d) => ts >= d.lo && ts <= d.hi)) : cols);
      }
      const b = this.buffers.get(p.bufferKeyPrefix + entityId);
      if (b && b.rows > 0) addRows(b.all());
    }
    return a;
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


/**
 * A condition on an integer data column (current layout position) that scans check against block
 * headers: `test(min, max)` false means no row of the block can satisfy it (e.g. `v > 90` with
 * max 80), so the block is not decoded. The condition must still be applied to the rows read.
 */
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

export interface BlockPrune {
  col: number;
  test(min: number, max: number): boolean;
}

/** An entity's blocks (in append order) hold no timestamp twice: each strictly ascending, and disjoint. */
function noDuplicates(blocks: LocatedBlock[]): boolean {
  if (blocks.some((b) => !b.strict)) return false;
  const sorted = blocks.slice().sort((a, b) => (a.minTs < b.minTs ? -1 : a.minTs > b.minTs ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) if ((sorted[i] as LocatedBlock).minTs <= (sorted[i - 1] as LocatedBlock).maxTs) return false;
  return true;
}
