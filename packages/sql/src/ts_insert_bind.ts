/**
 * Prepared multi-row INSERT into a time-series table in KWDB's TSBS shape —
 * `INSERT INTO cpu VALUES ($1, …, $n), ($n+1, …, $2n), …`, hundreds to thousands of rows a
 * statement — takes COPY's path (ts_copy.ts): the Bind message's parameters go straight into the
 * columns of a TS write command, with no Value per parameter, no row arrays and no expression
 * evaluation per row. The command is built when the Bind arrives and proposed at Execute.
 *
 * INVARIANT (the ordinary path's answer, always): the fast path is all or nothing. A parameter of
 * a common shape goes through COPY's fast parsers, which accept only values the ordinary path
 * takes without error and to the same value; every other parameter is decoded exactly as Bind
 * decodes it (parseValue of its UTF-8 text, decodeBinary) and assigned exactly as INSERT assigns
 * it (assignValueIn, toTsValue). The first thing that would be an error anywhere — a malformed
 * value (Bind's error), a value out of range or too long for its column, NULL in a NOT NULL
 * position (Execute's) — abandons the fast path: the Bind is then decoded the ordinary way and
 * the statement executes the ordinary way, so which error, its SQLSTATE and its message are the
 * ordinary path's, at the message where the ordinary path reports it.
 *
 * INVARIANT (freshness): a command is used at Execute only if it was built against the catalog
 * generation and the TS storage settings Execute sees (BoundTsWrite.generation, .settings);
 * otherwise the parameters are decoded at Execute and the statement runs the ordinary way (a
 * malformed parameter is then reported at Execute, not at Bind — only possible when a schema or
 * setting change lands between a Bind and its Execute).
 */
import { decodeUtf8Strict } from '@strata/common';
import { TsWriteBuilder } from '@strata/ts';
import type { ColumnBuilder, TsGroupBuilder, TsSchema, TsStorage, TsValue } from '@strata/ts';
import type { ColumnDesc, DatabaseDesc, TableDesc } from './catalog/descriptors.js';
import { assignValueIn } from './exec/mutate.js';
import type { Statement } from './parser/ast.js';
import { fastBinaryParser, fastParser } from './ts_copy.js';
import type { BinaryFieldParser, FieldParser } from './ts_copy.js';
import { toTsValue, tsRowsPerCommandMax, tsSchemaOf } from './ts_dml.js';
import { decodeBinary } from './types/binary.js';
import { parseValue } from './types/types.js';
import type { SqlType, Value, ValueContext } from './types/types.js';

/** Distinct tag parameter byte strings whose values are remembered per prepared statement. */
const tagKeysCachedMax = 100_000;

/** The TS storage settings a command is built with (its header), read at Execute. */
export interface TsWriteSettings {
  storage: TsStorage | undefined;
  rejectDuplicates: boolean;
}

/** A Bind turned into TS write commands, waiting for its Execute. */
export interface BoundTsWrite {
  /** The catalog generation the commands were built against. */
  generation: number;
  settings: TsWriteSettings;
  /** Commands of at most tsRowsPerCommandMax rows each, in row order. */
  payloads: Buffer[];
  rows: number;
  /** The parameters decoded the ordinary way (Bind's decoding), for when the commands are stale. */
  decode: () => Value[];
}

/** Where a fast-path failure leaves a value: the ordinary path takes over. */
const abandon = Symbol('abandon');

/**
 * The bind-time builder of one prepared TS INSERT, or null when the statement does not have the
 * shape: a plain VALUES list whose every item is a parameter, numbered $1, $2, … row after row,
 * every row as long as the target list, and every NOT NULL position targeted.
 */
export function tsInsertBinder(s: Statement & { kind: 'insert' }, t: TableDesc, db: DatabaseDesc | undefined, cols: ColumnDesc[], targets: number[], paramTypes: SqlType[]): TsInsertBinder | null {
  const q = s.source;
  if (q === 'default' || q.body.kind !== 'values' || q.with.length > 0 || q.orderBy.length > 0 || q.limit || q.offset) return null;
  if (s.returning?.length || s.onConflict || s.upsert) return null;
  const n = targets.length;
  const rows = q.body.rows;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as (typeof rows)[number];
    if (row.length !== n) return null;
    for (let i = 0; i < n; i++) {
      const e = row[i];
      if (e?.kind !== 'param' || e.index !== r * n + i + 1) return null;
    }
  }
  if (paramTypes.length !== rows.length * n) return null;
  for (let pos = 0; pos < cols.length; pos++) if (!(cols[pos] as ColumnDesc).nullable && !targets.includes(pos)) return null;
  return new TsInsertBinder(t, db, cols, targets, rows.length, paramTypes);
}

export class TsInsertBinder {
  /** Settings of the last Execute: the next Bind builds with them (Execute checks they still hold). */
  settings: TsWriteSettings;
  private readonly nCols: number;
  /** Per data column: the row item feeding it (-1: not targeted, so NULL). */
  private readonly dataItem: number[];
  /** Per tag: the row item feeding it (-1: not targeted, so NULL). */
  private readonly tagItem: number[];
  private readonly fastText: (FieldParser | null)[];
  private readonly fastBinary: (BinaryFieldParser | null)[];
  /**
   * Tag parameters' bytes → tag values, across Binds of this statement. INVARIANT: the keys in
   * the cache are all of one kind and one parameter format: the raw span of the tag parameters
   * (one format code for every parameter and tagSpan ≥ 0; the span does not name the format) or
   * format, length and bytes per tag (any other Bind). The cache is cleared when a Bind's kind or
   * format differs from the last one's (tagCacheFormat).
   */
  private readonly tagCache = new Map<string, TsValue[]>();
  private tagCacheFormat = -1;
  /** The first tag's row item when every tag is targeted by consecutive items, else -1. */
  private readonly tagSpan: number;

  constructor(
    private readonly t: TableDesc,
    private readonly db: DatabaseDesc | undefined,
    private readonly cols: ColumnDesc[],
    private readonly targets: number[],
    private readonly rowCount: number,
    /** The statement's parameter types (Bind decodes each parameter as its type). */
    private readonly paramTypes: SqlType[],
  ) {
    const schema = tsSchemaOf(t, db);
    this.settings = { storage: schema.storage, rejectDuplicates: false };
    this.nCols = schema.columns.length;
    const itemAt = cols.map((_c, pos) => targets.indexOf(pos));
    this.dataItem = itemAt.slice(0, this.nCols);
    this.tagItem = itemAt.slice(this.nCols);
    const t0 = this.tagItem[0] ?? -1;
    this.tagSpan = t0 >= 0 && this.tagItem.every((it, j) => it === t0 + j) ? t0 : -1;
    // A fast parser only where the parameter's type is the column's own (then Bind's decoding
    // followed by the assignment is the column's input function, what COPY's fast parsers mirror).
    const sameAsColumn = (i: number) => {
      const c = cols[targets[i] as number] as ColumnDesc;
      const pt = paramTypes[i] as SqlType;
      return (targets[i] as number) < this.nCols && pt.kind === c.type.kind && pt.typmod === c.type.typmod;
    };
    this.fastText = targets.map((pos, i) => (sameAsColumn(i) ? fastParser(cols[pos] as ColumnDesc) : null));
    this.fastBinary = targets.map((pos, i) => (sameAsColumn(i) ? fastBinaryParser(cols[pos] as ColumnDesc) : null));
  }

  /**
   * The Bind's parameters (`body[starts[k], starts[k] + lengths[k])`, length -1 for NULL; the
   * format codes as the Bind carries them) as TS write commands, or null: take the ordinary path.
   */
  bind(body: Buffer, starts: Int32Array, lengths: Int32Array, formats: number[], vctx: ValueContext, generation: number): Omit<BoundTsWrite, 'decode'> | null {
    const n = this.targets.length;
    if (starts.length !== this.rowCount * n) return null;
    const settings = this.settings;
    const schema: TsSchema = { ...tsSchemaOf(this.t, this.db), storage: settings.storage };
    for (const f of formats) if (f !== 0 && f !== 1) return null;
    const formatOf = formats.length === 0 ? () => 0 : formats.length === 1 ? () => formats[0] as number : (k: number) => formats[k] as number;
    const tagFormat = formats.length <= 1 ? formatOf(0) : 2;
    if (tagFormat !== this.tagCacheFormat) {
      this.tagCache.clear();
      this.tagCacheFormat = tagFormat;
    }
    const payloads: Buffer[] = [];
    let builder = new TsWriteBuilder(this.t.id, schema, settings.rejectDuplicates);
    let groups = new Map<string, TsGroupBuilder>();
    for (let r = 0; r < this.rowCount; r++) {
      const base = r * n;
      const g = this.groupOf(builder, groups, body, starts, lengths, formatOf, formats.length <= 1, base, vctx);
      if (g === null) return null;
      for (let c = 0; c < this.nCols; c++) {
        const b = g.columns[c] as ColumnBuilder;
        const it = this.dataItem[c] as number;
        if (it < 0) {
          b.pushNull(); // nullable: tsInsertBinder checked every NOT NULL position is targeted
          continue;
        }
        const k = base + it;
        const len = lengths[k] as number;
        if (len < 0) {
          if (!(this.cols[c] as ColumnDesc).nullable) return null;
          b.pushNull();
          continue;
        }
        const at = starts[k] as number;
        const fmt = formatOf(k);
        if (fmt === 1) {
          const fast = this.fastBinary[it];
          if (fast && fast(b, body, at, len)) continue;
        } else {
          const fast = this.fastText[it];
          if (fast && textFast(fast, b, body, at, len)) continue;
        }
        const v = this.general(body, at, len, fmt, k, c, vctx);
        if (v === abandon) return null;
        if (v === null) {
          if (!(this.cols[c] as ColumnDesc).nullable) return null;
          b.pushNull();
        } else b.push(v);
      }
      builder.rows++;
      if (builder.rows >= tsRowsPerCommandMax) {
        payloads.push(builder.finish());
        builder = new TsWriteBuilder(this.t.id, schema, settings.rejectDuplicates);
        groups = new Map();
      }
    }
    if (builder.rows > 0) payloads.push(builder.finish());
    return { generation, settings, payloads, rows: this.rowCount };
  }

  /** The group of row `base`'s tags, keyed by their formats and bytes (length-prefixed, so unambiguous). */
  private groupOf(
    builder: TsWriteBuilder,
    groups: Map<string, TsGroupBuilder>,
    body: Buffer,
    starts: Int32Array,
    lengths: Int32Array,
    formatOf: (k: number) => number,
    uniformFormat: boolean,
    base: number,
    vctx: ValueContext,
  ): TsGroupBuilder | null {
    let key: string;
    const first = this.tagSpan;
    if (first >= 0 && uniformFormat) {
      // The tag parameters follow one another in the message: their bytes, length words
      // included, are one unambiguous key.
      const k0 = base + first;
      const kn = k0 + this.tagItem.length - 1;
      key = body.toString('latin1', (starts[k0] as number) - 4, (starts[kn] as number) + Math.max(0, lengths[kn] as number));
    } else {
      key = '';
      for (const it of this.tagItem) {
        if (it < 0) key += '\u0001';
        else {
          const k = base + it;
          const len = lengths[k] as number;
          const at = starts[k] as number;
          key += len < 0 ? '\u0002' : String.fromCharCode(48 + formatOf(k), len & 0xffff, len >>> 16) + body.toString('latin1', at, at + len);
        }
      }
    }
    const known = groups.get(key);
    if (known) return known;
    let tags = this.tagCache.get(key);
    if (!tags) {
      tags = [];
      for (let j = 0; j < this.tagItem.length; j++) {
        const it = this.tagItem[j] as number;
        const pos = this.nCols + j;
        const col = this.cols[pos] as ColumnDesc;
        const k = base + it;
        const len = it < 0 ? -1 : (lengths[k] as number);
        const v = len < 0 ? null : this.general(body, starts[k] as number, len, formatOf(k), k, pos, vctx);
        if (v === abandon || (v === null && !col.nullable)) return null;
        tags.push(v);
      }
      if (this.tagCache.size >= tagKeysCachedMax) this.tagCache.clear();
      this.tagCache.set(key, tags);
    }
    const g = builder.group(tags);
    groups.set(key, g);
    return g;
  }

  /** Parameter k decoded as Bind decodes it and assigned to column `pos` as INSERT assigns it; abandon on any error. */
  private general(body: Buffer, at: number, len: number, fmt: number, k: number, pos: number, vctx: ValueContext): TsValue | typeof abandon {
    const col = this.cols[pos] as ColumnDesc;
    const pt = this.paramTypes[k] as SqlType;
    try {
      const raw = body.subarray(at, at + len);
      const v = fmt === 1 ? decodeBinary(raw, pt) : parseValue(decodeUtf8Strict(raw), pt, vctx);
      return toTsValue(assignValueIn(v, pt, col, vctx), col.type, col.name);
    } catch {
      return abandon; // the ordinary path reports it (and anything unexpected) where it belongs
    }
  }
}

/**
 * A text parameter through COPY's fast parser for its column. Only ASCII can pass those parsers
 * (digits, signs, '.', ':', '-', ' ', 'T', 'Z'), and ASCII is valid UTF-8 that decodes the same
 * as Latin-1, so reading the bytes as Latin-1 loses nothing.
 */
function textFast(fast: FieldParser, b: ColumnBuilder, body: Buffer, at: number, len: number): boolean {
  return len > 0 && fast(b, body.toString('latin1', at, at + len));
}

export function sameTsWriteSettings(a: TsWriteSettings, b: TsWriteSettings): boolean {
  return a.rejectDuplicates === b.rejectDuplicates && JSON.stringify(a.storage) === JSON.stringify(b.storage);
}

/** A portal's Bind decoded the ordinary way after all (its commands are stale); the commands are dropped. */
export function takeBoundParams(portal: { bound?: BoundTsWrite | null }, bound: BoundTsWrite): Value[] {
  portal.bound = null;
  return bound.decode();
}
