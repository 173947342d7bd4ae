/**
 * Relational operators. Each is a node of the physical plan; exec() yields row batches.
 */
import { PgError, SqlState } from '@strata/common';
import type { Txn } from '@strata/kv';
import type { IndexDesc } from '../catalog/descriptors.js';
import { decodeIndexValue, decodeRow, primaryKeyFromValues } from '../catalog/rowcodec.js';
import type { TableCodec } from '../catalog/rowcodec.js';
import { compareValues, hashKey } from '../types/types.js';
import type { SqlType, Value } from '../types/types.js';
import { NeedSubplan, NeedWait, batchRowsMax, canWait, drain, materializeSubplan, waitFor, yieldEveryRows } from './context.js';
import { ArrayCursor, FileCursor, RunSorter, mergeItems, mergeRuns } from './sorter.js';
import { topNRowsMax } from '../constants.js';
import type { RunCursor } from './sorter.js';
import { estimateRowBytes, outOfMemory } from './memory.js';
import type { MemoryAccount } from './memory.js';
import type { SpillFile, TempFiles } from './spill.js';
import type { Batches, Column, ExecCtx, Operator, Row } from './context.js';

export type Ev = (row: Row, ctx: ExecCtx) => Value;

export function truthy(v: Value): boolean {
  return v === true;
}

// ---- scans ---------------------------------------------------------------------------------

/**
 * Groups a leaf's rows into batches, with a yield point (empty batch) every yieldEveryRows rows;
 * counts them into ctx.work (the yield contract's work meter).
 */
export function* batched(rows: Iterable<Row>, ctx: ExecCtx): Batches {
  let batch: Row[] = [];
  let n = 0;
  for (const r of rows) {
    batch.push(r);
    ctx.work++;
    if (batch.length >= batchRowsMax) {
      yield batch;
      batch = [];
    }
    if (++n % yieldEveryRows === 0) {
      if (batch.length > 0) yield batch;
      batch = [];
      yield [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Rows one scan request reads (a page): large enough to amortize a round trip, small enough to bound a response. */
export const scanPageKeys = 1000;

export interface Span {
  start: Buffer;
  end: Buffer;
  /** The span holds at most the one key `start` (all key columns of a unique index fixed). */
  point?: boolean;
}

/**
 * Reads a table through one of its indexes over key spans computed at execution time (so
 * parameters can pick the span). Secondary index entries are joined back to the primary row.
 */
export class TableScan implements Operator {
  constructor(
    readonly columns: Column[],
    readonly codec: TableCodec,
    readonly index: IndexDesc,
    readonly spans: (ctx: ExecCtx) => Span[],
    readonly describe: string,
    readonly reverse = false,
  ) {}

  exec(ctx: ExecCtx): Batches {
    // Reads go through the range's leaseholder (KvSender's asynchronous reads) when the statement
    // can wait (rule 2 of the yield contract); inside a synchronous drain they are local.
    if (!canWait(ctx) || this.reverse) return batched(this.rows(ctx), ctx);
    return this.pages(ctx);
  }

  /** Scan pages and point reads as requests, the driver waiting for each (yield contract rule 2). */
  private *pages(ctx: ExecCtx): Batches {
    const txn: Txn = ctx.txn;
    const primary = this.index.id === this.codec.table.primaryIndex.id;
    let out: Row[] = [];
    const emit = function* (rows: Row[]): Generator<Row[]> {
      for (const r of rows) {
        out.push(r);
        ctx.work++;
        if (out.length >= batchRowsMax) {
          yield out;
          out = [];
        }
      }
    };
    /** Rows of index values: primary values are rows; secondary ones are joined with one batched read. */
    const rowsOf = function* (this: TableScan, values: Buffer[]): Generator<Row[], Row[]> {
      if (primary) return values.map((v) => decodeRow(this.codec.table, v, this.codec.colIndexById));
      const c = this.codec;
      const keys = values.map((v) => primaryKeyFromValues(c, decodeIndexValue(v, c.pkPositions.length)));
      let raws: (Buffer | null)[] = [];
      yield waitFor(txn.getManyAsync(keys).then((r) => (raws = r)));
      // An index entry without its row cannot exist in a committed state.
      return raws.filter((r): r is Buffer => r !== null).map((r) => decodeRow(c.table, r, c.colIndexById));
    }.bind(this);
    for (const span of this.spans(ctx)) {
      if (span.point) {
        let got: (Buffer | null)[] = [];
        yield waitFor(txn.getManyAsync([span.start]).then((r) => (got = r)));
        const v = got[0];
        if (v) yield* emit(yield* rowsOf([v]));
        continue;
      }
      for (let from: Buffer | null = span.start; from !== null; ) {
        let page: { rows: { key: Buffer; value: Buffer }[]; resume: Buffer | null } = { rows: [], resume: null };
        yield waitFor(txn.scanPage(from, span.end, scanPageKeys).then((p) => (page = p)));
        yield* emit(yield* rowsOf(page.rows.map((r) => r.value)));
        from = page.resume;
      }
    }
    if (out.length > 0) yield out;
  }

  private *rows(ctx: ExecCtx): Generator<Row> {
    const txn: Txn = ctx.txn;
    for (const span of this.spans(ctx)) {
      if (span.point) {
        // One key: a point read (recorded as such in the read set), no iteration.
        const value = txn.get(span.start);
        const row = value === null ? null : this.decode(value, txn);
        if (row) yield row;
        continue;
      }
      for (const { value } of txn.scan(span.start, span.end, this.reverse)) {
        const row = this.decode(value, txn);
        if (row) yield row;
      }
    }
  }

  /** A primary index value is the row; a secondary index value leads to it through its key. */
  private decode(value: Buffer, txn: Txn): Row | null {
    const c = this.codec;
    if (this.index.id === c.table.primaryIndex.id) return decodeRow(c.table, value, c.colIndexById);
    const raw = txn.get(primaryKeyFromValues(c, decodeIndexValue(value, c.pkPositions.length)));
    // An index entry without its row cannot exist in a committed state.
    return raw ? decodeRow(c.table, raw, c.colIndexById) : null;
  }

  explain() {
    return { label: this.describe, children: [] };
  }
}

/** Rows produced by a function of the context (virtual tables, VALUES of constants). */
export class RowsScan implements Operator {
  constructor(
    readonly columns: Column[],
    readonly rows: (ctx: ExecCtx) => Iterable<Row>,
    readonly label: string,
  ) {}

  exec(ctx: ExecCtx): Batches {
    return batched(this.rows(ctx), ctx);
  }

  explain() {
    return { label: this.label, children: [] };
  }
}

export class ValuesOp implements Operator {
  constructor(
    readonly columns: Column[],
    readonly rows: Ev[][],
  ) {}

  *exec(ctx: ExecCtx): Batches {
    let out: Row[] = [];
    for (const r of this.rows) {
      out.push(r.map((e) => e([], ctx)));
      if (out.length >= batchRowsMax) {
        ctx.work += out.length;
        yield out;
        out = [];
        yield [];
      }
    }
    if (out.length > 0) yield out;
  }

  explain() {
    return { label: `values (${this.rows.length} rows)`, children: [] };
  }
}

// ---- row-at-a-time transforms --------------------------------------------------------------

export class Filter implements Operator {
  constructor(
    readonly input: Operator,
    readonly pred: Ev,
    readonly label = 'filter',
  ) {}
  get columns() {
    return this.input.columns;
  }

  *exec(ctx: ExecCtx): Batches {
    let yieldAt = ctx.work + yieldEveryRows;
    for (const b of this.input.exec(ctx)) {
      if (b.length === 0) {
        yield b;
        continue;
      }
      let out: Row[] = [];
      for (let i = 0; i < b.length; ) {
        const r = b[i] as Row;
        let keep: boolean;
        const prev = ctx.suspendable;
        ctx.suspendable = true;
        try {
          keep = this.pred(r, ctx) === true;
        } catch (e) {
          ctx.suspendable = prev;
          if (e instanceof NeedWait) yield waitFor(e.wait);
          else if (e instanceof NeedSubplan) yield* materializeSubplan(e, ctx);
          else throw e;
          continue; // evaluate the row again, now with the subquery's rows or the value waited for
        } finally {
          ctx.suspendable = prev;
        }
        if (keep) out.push(r);
        i++;
        if (ctx.work >= yieldAt) {
          // Expensive predicates (correlated subqueries) did much work for these rows.
          yieldAt = ctx.work + yieldEveryRows;
          if (out.length > 0) yield out;
          out = [];
          yield [];
        }
      }
      if (out.length > 0) yield out;
    }
  }

  explain() {
    return { label: this.label, children: [this.input] };
  }
}

export class Project implements Operator {
  constructor(
    readonly input: Operator,
    readonly exprs: Ev[],
    readonly columns: Column[],
  ) {}

  *exec(ctx: ExecCtx): Batches {
    const es = this.exprs;
    const n = es.length;
    let yieldAt = ctx.work + yieldEveryRows;
    for (const b of this.input.exec(ctx)) {
      if (b.length === 0) {
        yield b;
        continue;
      }
      let out: Row[] = [];
      for (let i = 0; i < b.length; ) {
        const r = b[i] as Row;
        const o: Row = new Array<Value>(n);
        const prev = ctx.suspendable;
        ctx.suspendable = true;
        try {
          for (let j = 0; j < n; j++) o[j] = (es[j] as Ev)(r, ctx);
        } catch (e) {
          ctx.suspendable = prev;
          if (e instanceof NeedWait) yield waitFor(e.wait);
          else if (e instanceof NeedSubplan) yield* materializeSubplan(e, ctx);
          else throw e;
          continue; // evaluate the row again, now with the subquery's rows or the value waited for
        } finally {
          ctx.suspendable = prev;
        }
        out.push(o);
        i++;
        if (ctx.work >= yieldAt) {
          yieldAt = ctx.work + yieldEveryRows;
          yield out;
          out = [];
          yield [];
        }
      }
      if (out.length > 0) yield out;
      if (ctx.sleepUntil > 0) yield [];
    }
  }

  explain() {
    return { label: 'render', children: [this.input] };
  }
}

export class Limit implements Operator {
  constructor(
    readonly input: Operator,
    readonly limit: Ev | null,
    readonly offset: Ev | null,
  ) {}
  get columns() {
    return this.input.columns;
  }

  *exec(ctx: ExecCtx): Batches {
    const lim = this.limit ? this.limit([], ctx) : null;
    const off = this.offset ? this.offset([], ctx) : null;
    let limit = lim === null ? Infinity : Number(lim);
    let skip = off === null ? 0 : Number(off);
    if (limit < 0) throw new PgError(SqlState.InvalidRowCountInLimitClause, 'LIMIT must not be negative');
    if (skip < 0) throw new PgError(SqlState.InvalidRowCountInResultOffsetClause, 'OFFSET must not be negative');
    if (limit === 0) return;
    for (const b of this.input.exec(ctx)) {
      if (b.length === 0) {
        yield b;
        continue;
      }
      let rows = b;
      if (skip > 0) {
        if (skip >= rows.length) {
          skip -= rows.length;
          continue;
        }
        rows = rows.slice(skip);
        skip = 0;
      }
      if (rows.length >= limit) {
        yield rows.slice(0, limit);
        return;
      }
      limit -= rows.length;
      yield rows;
    }
  }

  explain() {
    return { label: 'limit', children: [this.input] };
  }
}

// ---- sorting -------------------------------------------------------------------------------

export interface SortKey {
  ev: Ev;
  type: SqlType;
  desc: boolean;
  nullsFirst: boolean;
}

export function compareRowsBy(keys: SortKey[]): (a: Value[], b: Value[]) => number {
  const only = keys.length === 1 ? (keys[0] as SortKey) : null;
  if (only && plainOrderKinds.has(only.type.kind) && !only.type.enumType) {
    // One key whose values order with < (integers, bigints, dates, timestamps, text in the C
    // collation): the comparison sorts and merges run most (tens of millions of calls), inlined.
    const { desc, nullsFirst } = only;
    return (a, b) => {
      const x = a[0] as Value;
      const y = b[0] as Value;
      if (x === null || y === null) {
        if (x === y) return 0;
        return (x === null) === nullsFirst ? -1 : 1;
      }
      const c = x < y ? -1 : x > y ? 1 : 0;
      return desc ? -c : c;
    };
  }
  return (a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as SortKey;
      const x = a[i] as Value;
      const y = b[i] as Value;
      if (x === null || y === null) {
        if (x === y) continue;
        return (x === null) === k.nullsFirst ? -1 : 1;
      }
      const c = compareValues(x, y, k.type);
      if (c !== 0) return k.desc ? -c : c;
    }
    return 0;
  };
}

/** Types whose non-null values (numbers, bigints or strings) order exactly as < orders them. */
const plainOrderKinds = new Set(['int2', 'int4', 'int8', 'oid', 'date', 'time', 'timestamp', 'timestamptz', 'text', 'varchar', 'name', 'bool']);

export class Sort implements Operator {
  /** Set under a LIMIT: how many rows the statement will read at most (null: all). */
  topN: ((ctx: ExecCtx) => number | null) | null = null;

  constructor(
    readonly input: Operator,
    readonly keys: SortKey[],
  ) {}

  /**
   * The first n rows in order, from a max-heap of n items by (key, input position): each input
   * row costs O(log n) and memory stays O(n). Ties keep input order, as the full sort does.
   */
  private *topNRows(ctx: ExecCtx, n: number): Batches {
    const cmp = compareRowsBy(this.keys);
    const keys = this.keys;
    const acct = ctx.memory.account('ORDER BY … LIMIT (top-N heap)');
    type Item = { k: Value[]; r: Row; seq: number };
    const after = (a: Item, b: Item) => {
      const c = cmp(a.k, b.k);
      return c > 0 || (c === 0 && a.seq > b.seq);
    };
    const heap: Item[] = [];
    const up = (i: number) => {
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!after(heap[i] as Item, heap[p] as Item)) return;
        [heap[i], heap[p]] = [heap[p] as Item, heap[i] as Item];
        i = p;
      }
    };
    const down = (i: number) => {
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) return;
        let m = l;
        if (l + 1 < heap.length && after(heap[l + 1] as Item, heap[l] as Item)) m = l + 1;
        if (!after(heap[m] as Item, heap[i] as Item)) return;
        [heap[i], heap[m]] = [heap[m] as Item, heap[i] as Item];
        i = m;
      }
    };
    let seq = 0;
    try {
      for (const b of this.input.exec(ctx)) {
        if (b.length === 0) {
          yield b;
          continue;
        }
        for (const r of b) {
          const k: Value[] = new Array<Value>(keys.length);
          for (let i = 0; i < keys.length; i++) k[i] = (keys[i] as SortKey).ev(r, ctx);
          const item = { k, r, seq: seq++ };
          if (heap.length < n) {
            acct.grow(estimateRowBytes(r) + estimateRowBytes(k) + sortItemBytes);
            heap.push(item);
            up(heap.length - 1);
          } else if (n > 0 && after(heap[0] as Item, item)) {
            heap[0] = item;
            down(0);
          }
        }
      }
      heap.sort((a, b) => cmp(a.k, b.k) || a.seq - b.seq);
      for (let i = 0; i < heap.length; i += batchRowsMax) yield heap.slice(i, i + batchRowsMax).map((x) => x.r);
    } finally {
      acct.clear();
    }
  }
  get columns() {
    return this.input.columns;
  }

  /**
   * Sorts in runs (sorter.ts). Rows are charged to the statement's memory; when the budget is
   * spent, every run in memory is merged into one sorted file (external merge sort) and the
   * memory returned; at the end the files and the runs still in memory are merged.
   */
  *exec(ctx: ExecCtx): Batches {
    const bound = this.topN?.(ctx) ?? null;
    if (bound !== null && bound >= 0 && bound <= topNRowsMax) {
      yield* this.topNRows(ctx, bound);
      return;
    }
    const cmp = compareRowsBy(this.keys);
    const sorter = new RunSorter(cmp);
    const keys = this.keys;
    const acct = ctx.memory.account('ORDER BY (sort)');
    const files: SpillFile[] = [];
    try {
      for (const b of this.input.exec(ctx)) {
        if (b.length === 0) {
          yield b;
          continue;
        }
        for (const r of b) {
          const k: Value[] = new Array<Value>(keys.length);
          for (let i = 0; i < keys.length; i++) k[i] = (keys[i] as SortKey).ev(r, ctx);
          const bytes = estimateRowBytes(r) + estimateRowBytes(k) + sortItemBytes;
          if (!acct.tryGrow(bytes)) {
            if (!ctx.temp || (sorter.pending === 0 && !sorter.hasRuns)) throw outOfMemory('ORDER BY (sort)', ctx.memory);
            yield* spillRuns(sorter, cmp, ctx, ctx.temp, files);
            acct.clear();
            acct.grow(bytes);
          }
          if (sorter.push({ k, r })) {
            sorter.sealRun();
            yield [];
          }
        }
      }
      const cursors: RunCursor[] = files.map((f) => new FileCursor(f.reader()));
      yield* mergeRuns([...cursors, ...sorter.finish()], cmp);
    } finally {
      acct.clear();
      for (const f of files) f.remove();
    }
  }

  explain() {
    return { label: 'sort', children: [this.input] };
  }
}

/** Per hash-table entry beyond its row: the entry object, its key string and the map slot. */
const hashEntryBytes = 96;

/** Per sorted item beyond its row and key: the item object and the array slot. */
const sortItemBytes = 48;

/** Writes every in-memory run of `sorter`, merged, into one new spill file. */
function* spillRuns(sorter: RunSorter, cmp: (a: Value[], b: Value[]) => number, ctx: ExecCtx, temp: TempFiles, files: SpillFile[]): Generator<Row[], void, undefined> {
  if (sorter.pending > 0) sorter.sealRun();
  const runs = sorter.takeRuns().map((r) => new ArrayCursor(r));
  const f = temp.create('sort');
  files.push(f);
  const async = canWait(ctx);
  for (const item of mergeItems(runs, cmp)) {
    if (item === null) {
      yield [];
      continue;
    }
    const p = f.append([item.k, item.r], async);
    if (p) yield waitFor(p);
  }
  const p = f.finishWriting(async);
  if (p) yield waitFor(p);
}

/** DISTINCT (on all columns, or on the first `onCount` key expressions for DISTINCT ON). */
export class Distinct implements Operator {
  constructor(
    readonly input: Operator,
    readonly keys: { ev: Ev; type: SqlType }[],
  ) {}
  get columns() {
    return this.input.columns;
  }

  *exec(ctx: ExecCtx): Batches {
    const acct = ctx.memory.account('DISTINCT (hash set)');
    try {
      yield* this.run(ctx, acct);
    } finally {
      acct.clear();
    }
  }

  private *run(ctx: ExecCtx, acct: MemoryAccount): Batches {
    const seen = new Set<string>();
    for (const b of this.input.exec(ctx)) {
      if (b.length === 0) {
        yield b;
        continue;
      }
      const out: Row[] = [];
      for (const r of b) {
        const k = this.keys.map((x) => hashKey(x.ev(r, ctx), x.type)).join('\u0001');
        if (seen.has(k)) continue;
        acct.grow(32 + 2 * k.length);
        seen.add(k);
        out.push(r);
      }
      if (out.length > 0) yield out;
    }
  }

  explain() {
    return { label: 'distinct', children: [this.input] };
  }
}

// ---- joins ---------------------------------------------------------------------------------

export type JoinType = 'inner' | 'left' | 'right' | 'full' | 'cross' | 'semi' | 'anti';

/**
 * Joins a left row with candidate right rows that satisfy cond, marking the matched right rows
 * (for right/full joins); returns whether anything matched (for left/full joins).
 */
function probe(l: Row, cands: { row: Row; matched: boolean }[], cond: Ev | null, ctx: ExecCtx, out: Row[]): boolean {
  let matched = false;
  for (const c of cands) {
    const row = l.concat(c.row);
    if (cond && cond(row, ctx) !== true) continue;
    matched = true;
    c.matched = true;
    out.push(row);
  }
  return matched;
}

function nullRow(n: number): Row {
  return new Array<Value>(n).fill(null);
}

/**
 * Hash join on equality keys, with an optional residual condition over the combined row.
 * The right input is built into a hash table; NULL keys never match (SQL equality).
 */
export class HashJoin implements Operator {
  readonly columns: Column[];
  constructor(
    readonly left: Operator,
    readonly right: Operator,
    readonly type: 'inner' | 'left' | 'right' | 'full',
    readonly leftKeys: { ev: Ev; type: SqlType }[],
    readonly rightKeys: { ev: Ev; type: SqlType }[],
    readonly residual: Ev | null,
  ) {
    this.columns = [...left.columns, ...right.columns];
  }

  *exec(ctx: ExecCtx): Batches {
    const acct = ctx.memory.account('JOIN (hash table)');
    try {
      yield* this.join(ctx, acct);
    } finally {
      acct.clear();
    }
  }

  private *join(ctx: ExecCtx, acct: MemoryAccount): Batches {
    const table = new Map<string, { row: Row; matched: boolean }[]>();
    const rightAll: { row: Row; matched: boolean }[] = [];
    for (const b of this.right.exec(ctx)) {
      if (b.length === 0) {
        yield b;
        continue;
      }
      for (const r of b) {
        acct.grow(estimateRowBytes(r) + hashEntryBytes);
        const entry = { row: r, matched: false };
        if (this.type === 'right' || this.type === 'full') rightAll.push(entry);
        let hasNull = false;
        const parts: string[] = [];
        for (const k of this.rightKeys) {
          const v = k.ev(r, ctx);
          if (v === null) hasNull = true;
          parts.push(hashKey(v, k.type));
        }
        if (hasNull) continue;
        const key = parts.join('\u0001');
        let l = table.get(key);
        if (!l) table.set(key, (l = []));
        l.push(entry);
      }
    }
    const nl = this.left.columns.length;
    const nr = this.right.columns.length;
    for (const b of this.left.exec(ctx)) {
      if (b.length === 0) {
        yield b;
        continue;
      }
      let out: Row[] = [];
      for (const l of b) {
        let hasNull = false;
        const parts: string[] = [];
        for (const k of this.leftKeys) {
          const v = k.ev(l, ctx);
          if (v === null) hasNull = true;
          parts.push(hashKey(v, k.type));
        }
        const cands = hasNull ? undefined : table.get(parts.join('\u0001'));
        const matched = cands ? probe(l, cands, this.residual, ctx, out) : false;
        if (!matched && (this.type === 'left' || this.type === 'full')) out.push(l.concat(nullRow(nr)));
        if (out.length >= yieldEveryRows) {
          // One probe row may match many build rows: hand them over and yield.
          yield out;
          out = [];
          yield [];
        }
      }
      if (out.length > 0) yield out;
    }
    if (this.type === 'right' || this.type === 'full') {
      let out: Row[] = [];
      for (const c of rightAll) {
        if (!c.matched) out.push(nullRow(nl).concat(c.row));
        if (out.length >= batchRowsMax) {
          yield out;
          out = [];
          yield [];
        }
      }
      if (out.length > 0) yield out;
    }
  }

  explain() {
    return { label: `hash join (${this.type})`, children: [this.left, this.right] };
  }
}

/** Nested-loop join for conditions without equality keys (and LATERAL/correlated right sides). */
export class NestedLoopJoin implements Operator {
  readonly columns: Column[];
  constructor(
    readonly left: Operator,
    readonly right: Operator,
    readonly type: 'inner' | 'left' | 'right' | 'full' | 'cross',
    readonly cond: Ev | null,
    /** The right side depends on the left row (LATERAL): re-run it per left row. */
    readonly lateral = false,
  ) {
    this.columns = [...left.columns, ...right.columns];
  }

  *exec(ctx: ExecCtx): Batches {
    const acct = ctx.memory.account('JOIN (nested loop inner rows)');
    try {
      yield* this.run(ctx, acct);
    } finally {
      acct.clear();
    }
  }

  private *run(ctx: ExecCtx, acct: MemoryAccount): Batches {
    const nl = this.left.columns.length;
    const nr = this.right.columns.length;
    let rights: { row: Row; matched: boolean }[] | null = null;
    if (!this.lateral) rights = (yield* drain(this.right, ctx, [], acct)).map((row) => ({ row, matched: false }));
    let sinceYield = 0;
    for (const b of this.left.exec(ctx)) {
      if (b.length === 0) {
        yield b;
        continue;
      }
      const out: Row[] = [];
      for (const l of b) {
        let rs = rights;
        if (this.lateral) {
          // The right side depends on this row: run it, forwarding its yield points.
          const rows: Row[] = [];
          ctx.outer.push(l);
          try {
            for (const rb of this.right.exec(ctx)) {
              if (rb.length === 0) {
                if (out.length > 0) yield out.splice(0);
                yield rb;
                continue;
              }
              for (const r of rb) rows.push(r);
            }
          } finally {
            ctx.outer.pop();
          }
          rs = rows.map((row) => ({ row, matched: false }));
        }
        const matched = probe(l, rs as { row: Row; matched: boolean }[], this.cond, ctx, out);
        if (!matched && (this.type === 'left' || this.type === 'full')) out.push(l.concat(nullRow(nr)));
        sinceYield += (rs as unknown[]).length + 1;
        if (sinceYield >= yieldEveryRows) {
          sinceYield = 0;
          if (out.length > 0) yield out.splice(0);
          yield [];
        }
      }
      if (out.length > 0) yield out;
    }
    if ((this.type === 'right' || this.type === 'full') && rights) {
      const out: Row[] = [];
      for (const r of rights) if (!r.matched) out.push(nullRow(nl).concat(r.row));
      if (out.length > 0) yield out;
    }
  }

  explain() {
    return { label: `nested loop join (${this.type})`, children: [this.left, this.right] };
  }
}

// ---- set operations --------------------------------------------------------------------------

export class SetOp implements Operator {
  constructor(
    readonly left: Operator,
    readonly right: Operator,
    readonly op: 'union' | 'intersect' | 'except',
    readonly all: boolean,
    readonly columns: Column[],
    readonly leftCasts: Ev[],
    readonly rightCasts: Ev[],
  ) {}

  private key(r: Row): string {
    return r.map((v, i) => hashKey(v, (this.columns[i] as Column).type)).join('\u0001');
  }

  *exec(ctx: ExecCtx): Batches {
    const conv = (r: Row, casts: Ev[]) => casts.map((c) => c(r, ctx));
    if (this.op === 'union') {
      const seen = this.all ? null : new Set<string>();
      for (const [side, casts] of [
        [this.left, this.leftCasts],
        [this.right, this.rightCasts],
      ] as const) {
        for (const b of side.exec(ctx)) {
          if (b.length === 0) {
            yield b;
            continue;
          }
          const out: Row[] = [];
          for (const r0 of b) {
            const r = conv(r0, casts);
            if (seen) {
              const k = this.key(r);
              if (seen.has(k)) continue;
              seen.add(k);
            }
            out.push(r);
          }
          if (out.length > 0) yield out;
        }
      }
      return;
    }
    const counts = new Map<string, number>();
    for (const b of this.right.exec(ctx)) {
      if (b.length === 0) {
        yield b;
        continue;
      }
      for (const r0 of b) {
        const k = this.key(conv(r0, this.rightCasts));
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
    }
    const emitted = new Set<string>();
    let out: Row[] = [];
    for (const b of this.left.exec(ctx)) {
      if (b.length === 0) {
        yield b;
        continue;
      }
      if (out.length >= batchRowsMax) {
        yield out;
        out = [];
      }
      for (const r0 of b) {
      const r = conv(r0, this.leftCasts);
      const k = this.key(r);
      const c = counts.get(k) ?? 0;
      if (this.op === 'intersect') {
        if (c > 0) {
          if (this.all) {
            counts.set(k, c - 1);
            out.push(r);
          } else if (!emitted.has(k)) {
            emitted.add(k);
            out.push(r);
          }
        }
      } else {
        if (this.all) {
          if (c > 0) counts.set(k, c - 1);
          else out.push(r);
        } else if (c === 0 && !emitted.has(k)) {
          emitted.add(k);
          out.push(r);
        }
      }
      }
    }
    if (out.length > 0) yield out;
  }

  explain() {
    return { label: `${this.op}${this.all ? ' all' : ''}`, children: [this.left, this.right] };
  }
}

/** Reads a materialized CTE (or a recursive CTE's working table). */
export class CteScan implements Operator {
  constructor(
    readonly columns: Column[],
    readonly id: number,
    readonly name: string,
  ) {}

  *exec(ctx: ExecCtx): Batches {
    const rows = ctx.ctes.get(this.id);
    if (!rows) throw new PgError(SqlState.InternalError, `CTE ${this.name} not materialized`);
    for (let i = 0; i < rows.length; i += batchRowsMax) {
      ctx.work += Math.min(batchRowsMax, rows.length - i);
      yield rows.slice(i, i + batchRowsMax);
      if ((i / batchRowsMax) % 4 === 3) yield [];
    }
  }

  explain() {
    return { label: `scan cte ${this.name}`, children: [] };
  }
}

/**
 * Materializes CTEs before running the main query; recursive ones iterate to a fixpoint.
 *
 * A WITH inside a correlated subquery runs again for every outer row, and its CTEs may then hold
 * other rows. A subquery reading them references nothing of the enclosing queries, so it is
 * planned as uncorrelated and its rows are kept for the statement (ctx.subplans, keyed by the
 * subplan): those kept while this WITH last ran are dropped when it runs again, so they are
 * computed from the new rows. Only those: subplans kept by operators around this one stay (an
 * operator that materialized one and evaluates its row again must find it). The rows this WITH
 * materialized last time are replaced, so their memory is returned then; the last run's stays
 * accounted until the statement ends.
 */
export class WithCtes implements Operator {
  /** Per statement (keyed by its ctx.subplans): what this WITH's last run left behind. */
  private readonly lastRun = new WeakMap<Map<number, Row[]>, { subplans: Set<number>; accounts: MemoryAccount[] }>();

  constructor(
    readonly input: Operator,
    readonly ctes: { id: number; name: string; plan: Operator; recursive: { base: Operator; step: Operator; all: boolean } | null }[],
  ) {}
  get columns() {
    return this.input.columns;
  }

  *exec(ctx: ExecCtx): Batches {
    const subplans = ctx.subplans;
    const last = this.lastRun.get(subplans);
    if (last) {
      for (const id of last.subplans) subplans.delete(id);
      for (const a of last.accounts) a.clear();
    }
    const before = new Set(subplans.keys());
    const accounts: MemoryAccount[] = [];
    // Inside a correlated subquery (an outer row is pushed) the subqueries reading the CTEs are
    // drained here, synchronously, so that they are kept while this WITH runs (and dropped when it
    // runs again), not materialized by the operator around the correlated subquery.
    const suspendable = ctx.suspendable;
    if (ctx.outer.length > 0) ctx.suspendable = false;
    try {
      yield* this.run(ctx, accounts);
    } finally {
      ctx.suspendable = suspendable;
      const kept = new Set<number>();
      for (const id of subplans.keys()) if (!before.has(id)) kept.add(id);
      this.lastRun.set(subplans, { subplans: kept, accounts });
    }
  }

  private *run(ctx: ExecCtx, accounts: MemoryAccount[]): Batches {
    for (const c of this.ctes) {
      // Materialized rows stay for the whole statement (or until this WITH runs again).
      const acct = ctx.memory.account(`WITH ${c.name} (materialized rows)`);
      accounts.push(acct);
      if (!c.recursive) {
        ctx.ctes.set(c.id, yield* drain(c.plan, ctx, [], acct));
        continue;
      }
      const { base, step, all } = c.recursive;
      const result: Row[] = [];
      const seen = all ? null : new Set<string>();
      const types = base.columns.map((x) => x.type);
      const key = (r: Row) => r.map((v, i) => hashKey(v, types[i] as SqlType)).join('\u0001');
      let work: Row[] = [];
      for (const r of yield* drain(base, ctx)) {
        if (seen) {
          const k = key(r);
          if (seen.has(k)) continue;
          seen.add(k);
        }
        work.push(r);
        result.push(r);
        acct.grow(estimateRowBytes(r));
      }
      let iterations = 0;
      while (work.length > 0) {
        if (++iterations > 1_000_000) throw new PgError(SqlState.ProgramLimitExceeded, 'recursive query exceeded 1000000 iterations');
        ctx.ctes.set(c.id, work);
        // Subqueries of the step may read the working table: computed again every iteration.
        ctx.subplans.clear();
        const next: Row[] = [];
        for (const r of yield* drain(step, ctx)) {
          if (seen) {
            const k = key(r);
            if (seen.has(k)) continue;
            seen.add(k);
          }
          next.push(r);
          result.push(r);
          acct.grow(estimateRowBytes(r));
        }
        work = next;
        if (result.length > 10_000_000) throw new PgError(SqlState.ProgramLimitExceeded, 'recursive query produced more than 10000000 rows');
        yield [];
      }
      ctx.ctes.set(c.id, result);
    }
    yield* this.input.exec(ctx);
  }

  explain() {
    return { label: `with ${this.ctes.map((c) => c.name).join(', ')}`, children: [...this.ctes.map((c) => c.plan), this.input] };
  }
}
