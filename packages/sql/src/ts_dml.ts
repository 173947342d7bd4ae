/**
 * Rows of time-series tables: SQL values ↔ TS engine values, the TS write path (INSERT builds TS
 * write commands that the store proposes through the replica log) and the scan that reads a table
 * back as SQL rows (data columns, then tags — KWDB's SELECT * order).
 *
 * TS writes are not transactional (as in KWDB): an INSERT's rows are proposed when the statement
 * completes and a later ROLLBACK does not undo them.
 */
import { PgError, SqlState } from '@strata/common';
import { ColumnType, convertColumn, encodeTsDelete, encodeTsWrite, getInt64AsNumber, getInt64AsSafeNumber, halvesOf, nullColumn, positionsById, sameIds, tsStorageDefault } from '@strata/ts';
import type { BlockHeader, ColumnData, DedupRule, TsHeaderSummarizer, TsPruneOp, TsScanPage, TsScanSpec, TsSchema, TsValue } from '@strata/ts';
import type { ColumnDesc, DatabaseDesc, TableDesc } from './catalog/descriptors.js';
import type { Batches, Column, ExecCtx, Operator, Row } from './exec/context.js';
import { batchRowsMax, canWait, waitFor } from './exec/context.js';
import type { SqlType, Value } from './types/types.js';
import { tagIdsOf, tsDefaults } from './ts_ddl.js';
import { tsStorageOf } from './settings.js';
import { timestampInfinity, timestampNegInfinity } from './types/datetime.js';

/** What the SQL layer needs from the store's time-series engine. */
export interface TsSender {
  /**
   * A TS write; the leaseholder refuses it (53100) when its store has less free disk space than
   * `freeBytesMin` (ts.disk_free_space.alert_threshold).
   */
  proposeTs(tableId: number, payload: Buffer, freeBytesMin: number): Promise<void>;
  proposeTsDrop(tableId: number): Promise<void>;
  proposeTsRetain(tableId: number, beforeUs: number): Promise<void>;
  proposeTsDelete(tableId: number, payload: Buffer): Promise<void>;
  proposeTsAlter(tableId: number, payload: Buffer): Promise<void>;
  proposeTsTagUpdate(tableId: number, payload: Buffer): Promise<void>;
  /** dedupRule: 0 override, 1 merge, 2 keep, 3 discard. */
  proposeTsReorganize(tableId: number, payload: Buffer): Promise<void>;
  /** Resolves when reorganization started so far has finished and been switched in. */
  tsReorganized(): Promise<void>;
  /** A page of a TS scan from the leaseholder of the table's range (scan_spec.ts). */
  tsScan(spec: TsScanSpec, after: number | null, rowsMax: number, summarize: TsHeaderSummarizer | null): Promise<TsScanPage>;
  /**
   * The same without waiting (inside a synchronous drain), from local replicas: each must hold
   * its range's lease or be in `caughtUp` (caught up to the leaseholder during this statement);
   * else ReplicasNotCaughtUpError, whose catchUp the statement may wait for before trying again.
   */
  tsScanSync(
    spec: TsScanSpec,
    after: number | null,
    rowsMax: number,
    summarize: TsHeaderSummarizer | null,
    caughtUp: ReadonlySet<number> | null,
  ): TsScanPage;
  /**
   * Splits a new table into `pieces` hash-point ranges (pieces <= 1: none), before its descriptor
   * commits (the map must be in place before anyone can write the table).
   */
  splitTsTable(tableId: number, hashNum: number, pieces: number): Promise<void>;
  /** Ranges a new table is split into when ts.ranges_per_table is 0. */
  readonly tsRangesPerTableDefault: number;
}

/** Rows per proposed TS write command (a statement with more rows proposes several). */
export const tsRowsPerCommandMax = 20_000;

const usPerSecond = 1_000_000;

export function columnTypeOf(t: SqlType): ColumnType {
  switch (t.kind) {
    case 'timestamp':
    case 'timestamptz':
      return ColumnType.Timestamp;
    case 'int2':
    case 'int4':
      return ColumnType.Int32;
    case 'int8':
      return ColumnType.Int64;
    case 'float4':
    case 'float8':
      return ColumnType.Float64;
    case 'bool':
      return ColumnType.Bool;
    default:
      return ColumnType.String; // char, varchar, bytea (latin1)
  }
}

/**
 * The TS engine's view of a table: types and stable ids of its columns (descriptor column id − 1,
 * so a table's first ids are its positions) and tags, its schema version, and the storage
 * settings new blocks follow (from the cluster settings when `setting` is given).
 */
export function tsSchemaOf(t: TableDesc, db: DatabaseDesc | undefined, setting?: (name: string) => string): TsSchema {
  const info = t.ts as NonNullable<TableDesc['ts']>;
  return {
    partitionIntervalUs: (db?.ts?.partitionIntervalSeconds ?? tsDefaults.partitionIntervalSeconds) * usPerSecond,
    columns: t.columns.map((c) => columnTypeOf(c.type)),
    tags: info.tags.map((g) => columnTypeOf(g.type)),
    primaryTags: info.primaryTags.map((p) => info.tags.findIndex((g) => g.name === p)),
    version: t.version,
    columnIds: tsColumnIds(t),
    tagIds: tagIdsOf(info),
    storage: setting ? tsStorageOf(setting) : tsStorageDefault,
  };
}

export function tsColumnIds(t: TableDesc): number[] {
  return t.columns.map((c) => c.id - 1);
}

/** The SQL columns of a TS table as scanned: data columns then tags. */
export function tsScanColumns(t: TableDesc): Column[] {
  const cols: Column[] = t.columns.map((c, i) => ({ name: c.name, type: c.type, tableOid: t.id, columnNum: i + 1 }));
  for (const g of t.ts?.tags ?? []) cols.push({ name: g.name, type: g.type, tableOid: t.id, columnNum: cols.length + 1 });
  return cols;
}

/** Column name, type and NOT NULL of every writable position (data columns then tags). */
export function tsTargets(t: TableDesc): { name: string; type: SqlType; notNull: boolean }[] {
  return [
    ...t.columns.map((c) => ({ name: c.name, type: c.type, notNull: !c.nullable })),
    ...(t.ts?.tags ?? []).map((g) => ({ name: g.name, type: g.type, notNull: !g.nullable })),
  ];
}

/** Column descriptors for the writable positions (for assignValue's casts and length checks). */
export function tsColumnDescs(t: TableDesc): ColumnDesc[] {
  return tsTargets(t).map((c, i) => ({ id: i + 1, name: c.name, type: c.type, nullable: !c.notNull, default: null, hidden: false }));
}

/** Throws 23502 if a NOT NULL position (timestamp, NOT NULL column, primary tag) is NULL. */
export function checkTsRow(t: TableDesc, cols: ColumnDesc[], row: TsValue[]): void {
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i] as ColumnDesc;
    if (!c.nullable && row[i] === null) throw new PgError(SqlState.NotNullViolation, `null value in column "${c.name}" of relation "${t.name}" violates not-null constraint`);
  }
}

export function toTsValue(v: Value, t: SqlType, column: string): TsValue {
  if (v === null) return null;
  switch (t.kind) {
    case 'timestamp':
    case 'timestamptz': {
      const n = v as number;
      if (!Number.isFinite(n) || n === timestampInfinity || n === timestampNegInfinity) throw new PgError(SqlState.DatetimeFieldOverflow, `column "${column}": timestamp out of range for a time-series table`);
      return Math.round(n); // microseconds; the command carries them as f64 (exact: SQL timestamps are doubles)
    }
    case 'int8':
      return BigInt(v as bigint);
    case 'bytea':
      return (v as Buffer).toString('latin1');
    case 'bool':
      return v as boolean;
    default:
      return v as number | string;
  }
}

function fromTs(v: unknown, t: SqlType): Value {
  switch (t.kind) {
    case 'timestamp':
    case 'timestamptz':
      return Number(v as bigint);
    case 'bool':
      return v === 1 || v === true;
    case 'bytea':
      return Buffer.from(v as string, 'latin1');
    default:
      return v as Value;
  }
}

/** Encodes rows (already SQL-checked) into commands and proposes them in order. */
export async function proposeTsRows(sender: TsSender, t: TableDesc, db: DatabaseDesc | undefined, rows: TsValue[][], ctx: ExecCtx): Promise<void> {
  const schema = tsSchemaOf(t, db, (n) => ctx.clusterSetting(n));
  const rejectDuplicates = ctx.clusterSetting('ts.dedup.rule') === 'reject';
  const freeBytesMin = tsFreeBytesMin(ctx);
  for (let i = 0; i < rows.length; i += tsRowsPerCommandMax) {
    await sender.proposeTs(t.id, encodeTsWrite({ tableId: t.id, schema, rejectDuplicates, rows: rows.slice(i, i + tsRowsPerCommandMax) }), freeBytesMin);
  }
}

/** ts.disk_free_space.alert_threshold: TS writes are refused while free disk space is below it (checked by the leaseholder). */
export function tsFreeBytesMin(ctx: ExecCtx): number {
  const v = Number(ctx.clusterSetting('ts.disk_free_space.alert_threshold'));
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/**
 * The TS DELETE command for bounds evaluated now, or null when they select nothing (a NULL
 * constant, an empty range, or primary-tag values no device can have).
 */
export function tsDeletePayload(t: TableDesc, db: DatabaseDesc | undefined, bounds: TsScanBounds, ctx: ExecCtx): Buffer | null {
  const range = evalTimeRange(bounds, ctx);
  if (!range) return null;
  const lo = Number(range.lo);
  const hi = Number(range.hi);
  let combos: TsValue[][] | null = null;
  if (bounds.tagValues.length > 0 && bounds.tagValues.every((x) => x !== null)) {
    combos = primaryCombos(t, bounds, ctx);
    if (combos.length === 0) return null;
  }
  return encodeTsDelete({ tableId: t.id, schema: tsSchemaOf(t, db), loUs: lo, hiUs: hi, tagCombos: combos });
}

/** Every combination of the primary-tag values the bounds pin, as full tag vectors (others NULL). */
export function primaryCombos(t: TableDesc, bounds: TsScanBounds, ctx: ExecCtx): TsValue[][] {
  const info = t.ts as NonNullable<TableDesc['ts']>;
  let combos: TsValue[][] = [new Array<TsValue>(info.tags.length).fill(null)];
  info.primaryTags.forEach((name, k) => {
    const pos = info.tags.findIndex((g) => g.name === name);
    const type = (info.tags[pos] as { type: SqlType }).type;
    const vals = ((bounds.tagValues[k] as (ctx: ExecCtx) => Value[])(ctx)).map((v) => tagKeyValue(v, type)).filter((v) => v !== undefined);
    const next: TsValue[][] = [];
    for (const c of combos) {
      for (const v of vals) {
        const n = c.slice();
        n[pos] = v as TsValue;
        next.push(n);
      }
    }
    combos = next;
  });
  return combos;
}

/** How reads and reorganization resolve equal timestamps of one device under a ts.dedup.rule value. */
export function dedupRuleOf(setting: string): DedupRule {
  return setting === 'merge' || setting === 'keep' || setting === 'discard' ? setting : 'override'; // reject: nothing to resolve but older data
}

const tsMin = -(2n ** 63n);
const tsMax = 2n ** 63n - 1n;

/** What a WHERE clause pins down for a TS scan: a time range and primary-tag values. */
export interface TsScanBounds {
  /** Lower/upper timestamp bounds (inclusive), evaluated at execution time. */
  lower: ((ctx: ExecCtx) => bigint | null)[];
  upper: ((ctx: ExecCtx) => bigint | null)[];
  /** Per primary tag (in primaryTags order): the values it may take, or null if unconstrained. */
  tagValues: (((ctx: ExecCtx) => Value[]) | null)[];
  /** = / IN on non-primary tags: the values each may take (devices are filtered by their tags). */
  tagFilters: { pos: number; values: (ctx: ExecCtx) => Value[] }[];
  /**
   * Comparisons of integer data columns with constants (`v > 90`): blocks whose header min/max
   * rule every row out are skipped. Not exact — the filter above still applies.
   */
  metricFilters?: { col: number; op: string; value: (ctx: ExecCtx) => Value }[];
}

/**
 * The time range bounds allow, evaluated now (inclusive, microseconds; unbounded sides are the
 * int64 extremes), or null when they select nothing (a NULL constant or an empty range).
 */
export function evalTimeRange(bounds: TsScanBounds, ctx: ExecCtx): { lo: bigint; hi: bigint } | null {
  let lo = tsMin;
  let hi = tsMax;
  for (const f of bounds.lower) {
    const v = f(ctx);
    if (v === null) return null;
    if (v > lo) lo = v;
  }
  for (const f of bounds.upper) {
    const v = f(ctx);
    if (v === null) return null;
    if (v < hi) hi = v;
  }
  return lo > hi ? null : { lo, hi };
}

export function noBounds(t: TableDesc): TsScanBounds {
  return { lower: [], upper: [], tagValues: (t.ts?.primaryTags ?? []).map(() => null), tagFilters: [] };
}

/**
 * Scans a TS table: the partitions and blocks overlapping the time range, of the entities the
 * primary-tag values select (all when a primary tag is unconstrained), per entity in timestamp
 * order. Filters are still applied above the scan; the bounds only skip data that cannot match.
 */
export class TsScan implements Operator {
  constructor(
    readonly columns: Column[],
    readonly t: TableDesc,
    readonly bounds: TsScanBounds,
    /** Only the newest row of each entity (DISTINCT ON (primary tags) … ORDER BY …, ts DESC). */
    readonly latestOnly = false,
    /** Data columns the statement refers to (null: all); the others read as NULL, undecoded. */
    readonly needed: Set<number> | null = null,
  ) {}

  with(o: { bounds?: TsScanBounds; latestOnly?: boolean; needed?: Set<number> | null }): TsScan {
    return new TsScan(this.columns, this.t, o.bounds ?? this.bounds, o.latestOnly ?? this.latestOnly, o.needed === undefined ? this.needed : o.needed);
  }

  *exec(ctx: ExecCtx): Batches {
    const t = this.t;
    const types = t.columns.map((c) => c.type);
    const want = types.map((_t, c) => c === 0 || !this.needed || this.needed.has(c));
    let out: Row[] = [];
    for (const b of tsBatches(t, ctx, this.bounds, this.latestOnly, this.needed)) {
      if (Array.isArray(b)) {
        yield b; // a yield point, maybe waiting for the next page
        continue;
      }
      for (const row of batchRows(b, types, want)) {
        out.push(row);
        ctx.work++;
        if (out.length >= batchRowsMax) {
          yield out;
          out = [];
        }
      }
      if (out.length > 0) {
        yield out;
        out = [];
      }
    }
  }

  /** The scan's batches as stored: per entity, its tag values (SQL values) and decoded columns; or yield points. */
  rawBatches(ctx: ExecCtx, summarize: TsBlockSummarizer | null = null): Generator<TsScanItem> {
    return tsBatches(this.t, ctx, this.bounds, this.latestOnly, this.needed, summarize);
  }

  /**
   * Calls `fn` for every row with one reused row array (the caller must copy what it keeps),
   * yielding an empty batch between entities (a yield point, maybe carrying a wait: forward it as
   * is) so long scans stay cancellable. Saves a row object per row for consumers that fold rows.
   */
  *visitRows(ctx: ExecCtx, fn: (row: Row) => void): Generator<Row[]> {
    const t = this.t;
    const types = t.columns.map((c) => c.type);
    const nTags = t.ts?.tags.length ?? 0;
    const row: Row = new Array<Value>(types.length + nTags).fill(null);
    const want = types.map((_t, c) => c === 0 || !this.needed || this.needed.has(c));
    for (const b of tsBatches(t, ctx, this.bounds, this.latestOnly, this.needed)) {
      if (Array.isArray(b)) {
        yield b;
        continue;
      }
      for (let g = 0; g < nTags; g++) row[types.length + g] = b.tags[g] as Value;
      const n = (b.columns[0] as ColumnData).values.length;
      const read = columnReaders(b.columns, types, want);
      const keep = b.keep;
      for (let r = 0; r < n; r++) {
        if (keep && keep[r] === 0) continue;
        for (let c = 0; c < types.length; c++) {
          const f = read[c];
          if (f) row[c] = f(r);
        }
        fn(row);
      }
      yield [];
    }
  }

  explain() {
    if (this.latestOnly) return { label: `ts scan ${this.t.name} (newest row per entity)`, children: [] };
    const parts: string[] = [];
    if (this.bounds.lower.length + this.bounds.upper.length > 0) parts.push('time range');
    if (this.bounds.tagValues.every((x) => x !== null) && this.bounds.tagValues.length > 0) parts.push('primary tags');
    const index = this.bounds.tagFilters.length > 0 ? usableTagIndex(this.t, this.bounds) : undefined;
    if (index) parts.push(`tag index ${index.name}`);
    else if (this.bounds.tagFilters.length > 0) parts.push('tag filter');
    if ((this.bounds.metricFilters ?? []).length > 0) parts.push('block min/max');
    return { label: `ts scan ${this.t.name} (${parts.length > 0 ? parts.join(', ') : 'all entities, all time'})`, children: [] };
  }
}

/**
 * Which rows of a batch can pass the metric conditions (0: certainly fails — a NULL, or an
 * integer compared exactly), or null when all may. Rows it keeps still meet the full filter.
 */
function rowMask(columns: ColumnData[], conds: { col: number; test: (v: number) => boolean }[]): Uint8Array | null {
  if (conds.length === 0) return null;
  const n = (columns[0] as ColumnData).values.length;
  const keep = new Uint8Array(n).fill(1);
  for (const f of conds) {
    const c = columns[f.col];
    if (!c) continue;
    const nulls = c.nulls;
    const v = c.values;
    if (v instanceof Int32Array) {
      for (let r = 0; r < n; r++) if ((nulls && nulls[r]) || !f.test(v[r] as number)) keep[r] = 0;
    } else if (v instanceof BigInt64Array) {
      const u = halvesOf(v);
      if (!u) continue;
      for (let r = 0; r < n; r++) {
        if (nulls && nulls[r]) {
          keep[r] = 0;
          continue;
        }
        const x = getInt64AsSafeNumber(u, r);
        if (!Number.isNaN(x) && !f.test(x)) keep[r] = 0; // beyond ±2^53 (NaN): the filter decides
      }
    }
  }
  return keep;
}

/** Whether a block with these header min/max may hold a value `v op c`. */
const pruneTests: Record<string, (min: number, max: number, c: number) => boolean> = {
  '>': (_min, max, c) => max > c,
  '>=': (_min, max, c) => max >= c,
  '<': (min, _max, c) => min < c,
  '<=': (min, _max, c) => min <= c,
  '=': (min, max, c) => min <= c && c <= max,
};

/** A tag index whose every tag the bounds pin with = / IN (descriptor tag positions), if any. */
function usableTagIndex(t: TableDesc, bounds: TsScanBounds): { name: string; positions: number[] } | undefined {
  const info = t.ts as NonNullable<TableDesc['ts']>;
  const pinned = new Set(bounds.tagFilters.map((f) => f.pos));
  for (const idx of info.tagIndexes ?? []) {
    const positions = idx.tags.map((name) => info.tags.findIndex((g) => g.name === name));
    if (positions.every((p) => p >= 0 && pinned.has(p))) return { name: idx.name, positions };
  }
  return undefined;
}

/** The key form of a primary-tag constant, or undefined if no stored entity can equal it. */
function tagKeyValue(v: Value, t: SqlType): TsValue | undefined {
  if (v === null) return undefined;
  switch (t.kind) {
    case 'int2':
    case 'int4': {
      const n = Number(v as number | bigint);
      return Number.isInteger(n) && n >= -2147483648 && n <= 2147483647 ? n : undefined;
    }
    case 'int8':
      return typeof v === 'bigint' ? v : Number.isInteger(v) ? BigInt(v as number) : undefined;
    default:
      return typeof v === 'string' ? v : undefined;
  }
}

/**
 * Takes a block's rows into account from its header alone (header aggregates), given the
 * device's tag values; positions are the group's layout positions of the block's columns, which
 * equals the descriptor's when this is offered (scan_spec.ts).
 */
export type TsBlockSummarizer = (tags: Value[], h: BlockHeader, positions: number[], types: ColumnType[]) => boolean;

/** A device's rows as the scan returns them (SQL tag values, columns in the descriptor's layout). */
export interface TsRowBatch {
  tags: Value[];
  columns: ColumnData[];
  /** Rows that can pass the metric conditions (null: all). */
  keep: Uint8Array | null;
}

/** What a TS scan yields: a device's batch, or a yield point (an empty batch, maybe waiting for a page). */
export type TsScanItem = TsRowBatch | Row[];

/** Rows a scan page holds at most (whole devices: a device never spans pages). */
export const tsScanPageRows = 64 * 1024;

/** The scan request for bounds evaluated now (null: it selects nothing). */
export function tsScanSpecOf(t: TableDesc, ctx: ExecCtx, bounds: TsScanBounds, latestOnly: boolean, needed: Set<number> | null): TsScanSpec | null {
  const range = evalTimeRange(bounds, ctx);
  if (!range) return null;
  const info = t.ts as NonNullable<TableDesc['ts']>;
  const tagIds = tagIdsOf(info);
  const columnIds = tsColumnIds(t);
  const entities = bounds.tagValues.length > 0 && bounds.tagValues.every((x) => x !== null) ? primaryCombos(t, bounds, ctx) : null;
  const tagFilters = bounds.tagFilters.map((f) => {
    const type = (info.tags[f.pos] as { type: SqlType }).type;
    return { tagId: tagIds[f.pos] as number, allowed: f.values(ctx).map((v) => tagKeyValue(v, type)).filter((v): v is TsValue => v !== undefined) };
  });
  const index = entities ? undefined : usableTagIndex(t, bounds);
  const prune: TsScanSpec['prune'] = [];
  for (const f of bounds.metricFilters ?? []) {
    const raw = f.value(ctx);
    const value = typeof raw === 'bigint' ? Number(raw) : typeof raw === 'number' ? raw : NaN;
    if (!Number.isSafeInteger(value) || !(f.op in pruneTests)) continue;
    prune.push({ columnId: columnIds[f.col] as number, op: f.op as TsPruneOp, value });
  }
  return {
    tableId: t.id,
    lo: range.lo,
    hi: range.hi,
    tagIds,
    tagTypes: info.tags.map((g) => columnTypeOf(g.type)),
    entities,
    tagFilters,
    tagIndex: index ? index.positions.map((p) => tagIds[p] as number) : null,
    columnIds: needed ? [...needed].map((c) => columnIds[c] as number) : null,
    columnLayout: { ids: columnIds, types: t.columns.map((c) => columnTypeOf(c.type)) },
    prune,
    dedup: dedupRuleOf(ctx.clusterSetting('ts.dedup.rule')),
    latestOnly,
  };
}

/**
 * The scan: pages of devices requested from the leaseholder of the table's range (the driver
 * waits for each: yield contract rule 2; inside a synchronous drain the local replica answers),
 * each device's tags as SQL values and its columns in the descriptor's layout.
 */
function* tsBatches(t: TableDesc, ctx: ExecCtx, bounds: TsScanBounds, latestOnly: boolean, needed: Set<number> | null, summarize: TsBlockSummarizer | null = null): Generator<TsScanItem> {
  const sender = ctx.ts;
  if (!sender) return;
  const spec = tsScanSpecOf(t, ctx, bounds, latestOnly, needed);
  if (!spec) return;
  const tagTypes = (t.ts as NonNullable<TableDesc['ts']>).tags.map((g) => g.type);
  const tagValues = (raw: TsValue[]): Value[] => tagTypes.map((ty, i) => (raw[i] === null || raw[i] === undefined ? null : fromTs(raw[i], ty)));
  // The same conditions as the block pruning, on descriptor positions: rows failing them are
  // dropped before they become rows.
  const descPrune: { col: number; test: (v: number) => boolean }[] = [];
  for (const f of bounds.metricFilters ?? []) {
    const raw = f.value(ctx);
    const c = typeof raw === 'bigint' ? Number(raw) : typeof raw === 'number' ? raw : NaN;
    const test = pruneTests[f.op];
    if (!Number.isSafeInteger(c) || !test) continue;
    descPrune.push({ col: f.col, test: (v) => test(v, v, c) });
  }
  const summarizer = summarize ? (tags: TsValue[], h: BlockHeader, positions: number[], types: ColumnType[]) => summarize(tagValues(tags), h, positions, types) : null;
  let map: LayoutMap | null = null;
  for (let after: number | null = null; ; ) {
    let page: TsScanPage = { layout: null, batches: [], resumeAfter: null };
    if (canWait(ctx)) yield waitFor(sender.tsScan(spec, after, tsScanPageRows, summarizer).then((p) => (page = p)));
    else page = sender.tsScanSync(spec, after, tsScanPageRows, summarizer, ctx.tsCaughtUp ?? null);
    const layout = page.layout;
    if (!layout) return;
    if (!map || !sameIds(map.engineIds, layout.ids) || map.engineTypes.some((ty, i) => ty !== layout.types[i])) map = layoutMap(t, layout);
    for (const b of page.batches) {
      const columns = map.columnsSame ? b.columns : mapColumns(b.columns, map);
      yield { tags: tagValues(b.tags), columns, keep: rowMask(columns, descPrune) };
    }
    if (page.resumeAfter === null) return;
    after = page.resumeAfter;
  }
}

/**
 * How the group's layout of a table relates to the descriptor's. They differ between an ALTER
 * TABLE's commit and the application of its schema change in the engine (and for commands in
 * flight then); columns are matched by id and converted (packages/ts/src/schema.ts).
 */
interface LayoutMap {
  engineIds: number[];
  engineTypes: ColumnType[];
  columnsSame: boolean;
  /** Per descriptor column: its engine position (-1: not in the engine yet), and its engine type. */
  columnPos: number[];
  descTypes: ColumnType[];
}

function layoutMap(t: TableDesc, layout: { ids: number[]; types: ColumnType[] }): LayoutMap {
  const ids = tsColumnIds(t);
  const descTypes = t.columns.map((c) => columnTypeOf(c.type));
  return {
    engineIds: layout.ids,
    engineTypes: layout.types,
    columnsSame: sameIds(ids, layout.ids) && descTypes.every((ty, i) => ty === layout.types[i]),
    columnPos: positionsById(layout.ids, ids),
    descTypes,
  };
}

function mapColumns(cols: ColumnData[], map: LayoutMap): ColumnData[] {
  const rows = cols[0]?.values.length ?? 0;
  return map.columnPos.map((p, i) => {
    const want = map.descTypes[i] as ColumnType;
    const c = p < 0 ? undefined : cols[p];
    return c ? convertColumn(c, want) : nullColumn(want, rows);
  });
}

/**
 * Per column of a batch, its values as SQL values by row (null for unneeded columns). Timestamps
 * are read through the column's 32-bit halves, so no BigInt is created per value.
 */
function columnReaders(columns: ColumnData[], types: SqlType[], want: boolean[]): (((r: number) => Value) | null)[] {
  return columns.map((col, c) => {
    if (!want[c]) return null;
    const t = types[c] as SqlType;
    const nulls = col.nulls;
    if ((t.kind === 'timestamptz' || t.kind === 'timestamp') && col.values instanceof BigInt64Array) {
      const u32 = halvesOf(col.values);
      if (u32) return (r) => (nulls && nulls[r] ? null : getInt64AsNumber(u32, r));
    }
    const values = col.values;
    return (r) => (nulls && nulls[r] ? null : fromTs(values[r], t));
  });
}

/** A device batch's rows as SQL rows (data columns, then tags), skipping rows the mask drops. */
function* batchRows(b: TsRowBatch, types: SqlType[], want: boolean[]): Generator<Row> {
  const tags = b.tags;
  const n = (b.columns[0] as ColumnData).values.length;
  const read = columnReaders(b.columns, types, want);
  const keep = b.keep;
  for (let r = 0; r < n; r++) {
    if (keep && keep[r] === 0) continue;
    const row: Row = new Array<Value>(types.length + tags.length);
    for (let c = 0; c < types.length; c++) {
      const f = read[c];
      row[c] = f ? f(r) : null;
    }
    for (let g = 0; g < tags.length; g++) row[types.length + g] = tags[g] as Value;
    yield row;
  }
}
