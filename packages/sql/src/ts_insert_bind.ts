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
import { ColumnBuilder, TsWriteBuilder } from '@strata/ts';
import type { TsGroupBuilder, TsSchema, TsStorage, TsValue } from '@strata/ts';
import type { ColumnDesc, DatabaseDesc, TableDesc } from './catalog/descriptors.js';
import { assignValueIn } from './exec/mutate.js';
import type { Statement } from './parser/ast.js';
import { fastBinaryParser, fastParser, isoMicros } from './ts_copy.js';
import type { BinaryFieldParser } from './ts_copy.js';
import { toTsValue, tsRowsPerCommandMax, tsSchemaOf } from './ts_dml.js';
import { decodeBinary } from './types/binary.js';
import { parseValue } from './types/types.js';
import type { SqlType, Value, ValueContext } from './types/types.js';

/**
 * Bytes of tag keys and values one prepared statement remembers across its Binds (estimated: two
 * bytes per key character, 64 per tag value), then forgotten at once. It lives as long as the
 * statement, on every connection that prepared it: 4 MiB holds ~4,700 TSBS devices' 10 tags
 * (~900 bytes each) — a loader's connection writes a share of the devices.
 */
const tagCacheBytesMax = 4 * 1024 * 1024;
const tagValueBytesEstimate = 64;

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
export function tsInsertBinder(
  s: Statement & { kind: 'insert' },
  t: TableDesc,
  db: DatabaseDesc | undefined,
  cols: ColumnDesc[],
  targets: number[],
  paramTypes: SqlType[],
): TsInsertBinder | null {
  const q = s.source;
  if (
    q === 'default' ||
    q.body.kind !== 'values' ||
    q.with.length > 0 ||
    q.orderBy.length > 0 ||
    q.limit ||
    q.offset
  )
    return null;
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
  for (let pos = 0; pos < cols.length; pos++)
    if (!(cols[pos] as ColumnDesc).nullable && !targets.includes(pos)) return null;
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
  private readonly fastText: (BinaryFieldParser | null)[];
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
  private tagCacheBytes = 0;
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
    this.fastText = targets.map((pos, i) =>
      sameAsColumn(i) ? fastTextParser(cols[pos] as ColumnDesc) : null,
    );
    this.fastBinary = targets.map((pos, i) =>
      sameAsColumn(i) ? fastBinaryParser(cols[pos] as ColumnDesc) : null,
    );
  }

  /**
   * The Bind's parameters (`body[starts[k], starts[k] + lengths[k])`, length -1 for NULL; the
   * format codes as the Bind carries them) as TS write commands, or null: take the ordinary path.
   */
  bind(
    body: Buffer,
    starts: Int32Array,
    lengths: Int32Array,
    formats: number[],
    vctx: ValueContext,
    generation: number,
  ): Omit<BoundTsWrite, 'decode'> | null {
    const n = this.targets.length;
    if (starts.length !== this.rowCount * n) return null;
    const settings = this.settings;
    const schema: TsSchema = { ...tsSchemaOf(this.t, this.db), storage: settings.storage };
    for (const f of formats) if (f !== 0 && f !== 1) return null;
    const formatOf =
      formats.length === 0
        ? () => 0
        : formats.length === 1
          ? () => formats[0] as number
          : (k: number) => formats[k] as number;
    const tagFormat = formats.length <= 1 ? formatOf(0) : 2;
    if (tagFormat !== this.tagCacheFormat) {
      this.tagCache.clear();
      this.tagCacheBytes = 0;
      this.tagCacheFormat = tagFormat;
    }
    const payloads: Buffer[] = [];
    const uniformFormat = formats.length <= 1;
    for (let from = 0; from < this.rowCount; from += tsRowsPerCommandMax) {
      const to = Math.min(this.rowCount, from + tsRowsPerCommandMax);
      // First each row's device (by its tag parameters' bytes) and the rows per device, so every
      // column is allocated once at its size instead of growing from 16.
      const groupOfRow = new Int32Array(to - from);
      const index = new Map<string, number>();
      const tagsOfGroup: TsValue[][] = [];
      const rowsOfGroup: number[] = [];
      for (let r = from; r < to; r++) {
        const key = this.tagKey(body, starts, lengths, formatOf, uniformFormat, r * n);
        let gi = index.get(key);
        if (gi === undefined) {
          const tags = this.tagsOf(key, body, starts, lengths, formatOf, r * n, vctx);
          if (tags === null) return null;
          gi = tagsOfGroup.length;
          index.set(key, gi);
          tagsOfGroup.push(tags);
          rowsOfGroup.push(0);
        }
        groupOfRow[r - from] = gi;
        rowsOfGroup[gi] = (rowsOfGroup[gi] as number) + 1;
      }
      const builder = new TsWriteBuilder(this.t.id, schema, settings.rejectDuplicates);
      const groups: (TsGroupBuilder | undefined)[] = [];
      for (let r = from; r < to; r++) {
        const base = r * n;
        const gi = groupOfRow[r - from] as number;
        let g = groups[gi];
        if (!g) {
          g = builder.group(tagsOfGroup[gi] as TsValue[]);
          // Two keys may name one device (e.g. '01' and '1' for an int tag): only a new group is sized.
          if ((g.columns[0] as ColumnBuilder).rows === 0)
            g.columns = schema.columns.map((type) => new ColumnBuilder(type, rowsOfGroup[gi] as number));
          groups[gi] = g;
        }
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
            if (fast && fast(b, body, at, len)) continue;
          }
          const v = this.general(body, at, len, fmt, k, c, vctx);
          if (v === abandon) return null;
          if (v === null) {
            if (!(this.cols[c] as ColumnDesc).nullable) return null;
            b.pushNull();
          } else b.push(v);
        }
        builder.rows++;
      }
      payloads.push(builder.finish());
    }
    return { generation, settings, payloads, rows: this.rowCount };
  }

  /** The key of row `base`'s tags: their formats and bytes (length-prefixed, so unambiguous). */
  private tagKey(
    body: Buffer,
    starts: Int32Array,
    lengths: Int32Array,
    formatOf: (k: number) => number,
    uniformFormat: boolean,
    base: number,
  ): string {
    const first = this.tagSpan;
    if (first >= 0 && uniformFormat) {
      // The tag parameters follow one another in the message: their bytes, length words
      // included, are one unambiguous key.
      const k0 = base + first;
      const kn = k0 + this.tagItem.length - 1;
      return body.toString(
        'latin1',
        (starts[k0] as number) - 4,
        (starts[kn] as number) + Math.max(0, lengths[kn] as number),
      );
    }
    let key = '';
    for (const it of this.tagItem) {
      if (it < 0) key += '\u0001';
      else {
        const k = base + it;
        const len = lengths[k] as number;
        const at = starts[k] as number;
        key +=
          len < 0
            ? '\u0002'
            : String.fromCharCode(48 + formatOf(k), len & 0xffff, len >>> 16) +
              body.toString('latin1', at, at + len);
      }
    }
    return key;
  }

  /** The tag values of row `base` (whose key is `key`): remembered, or decoded and assigned; null: abandon. */
  private tagsOf(
    key: string,
    body: Buffer,
    starts: Int32Array,
    lengths: Int32Array,
    formatOf: (k: number) => number,
    base: number,
    vctx: ValueContext,
  ): TsValue[] | null {
    const known = this.tagCache.get(key);
    if (known) return known;
    const tags: TsValue[] = [];
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
    const bytes = 2 * key.length + tagValueBytesEstimate * tags.length;
    if (this.tagCacheBytes + bytes > tagCacheBytesMax) {
      this.tagCache.clear();
      this.tagCacheBytes = 0;
    }
    this.tagCache.set(key, tags);
    this.tagCacheBytes += bytes;
    return tags;
  }

  /** Parameter k decoded as Bind decodes it and assigned to column `pos` as INSERT assigns it; abandon on any error. */
  private general(
    body: Buffer,
    at: number,
    len: number,
    fmt: number,
    k: number,
    pos: number,
    vctx: ValueContext,
  ): TsValue | typeof abandon {
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
 * The fast parser of a text parameter for its column, read in place: integers digit by digit
 * (COPY's rule: an optional '-' and 1–15 digits, within the type's range — exact as a double),
 * timestamps by COPY's isoMicros (the last text remembered), other types through COPY's fast
 * parser of the text. Only ASCII passes those parsers (digits, signs, '.', ':', '-', ' ', 'T',
 * 'Z'), and ASCII is valid UTF-8 that decodes the same as Latin-1, so reading the bytes as
 * Latin-1 loses nothing.
 */
function fastTextParser(c: ColumnDesc): BinaryFieldParser | null {
  const kind = c.type.kind;
  if (kind === 'int8' || kind === 'int4' || kind === 'int2') {
    const bound = kind === 'int8' ? Infinity : kind === 'int4' ? 2147483648 : 32768;
    return (b, d, at, len) => {
      const end = at + len;
      let i = at;
      const negative = d[i] === 45;
      if (negative) i++;
      if (i === end || end - i > 15) return false;
      let n = 0;
      for (; i < end; i++) {
        const digit = (d[i] as number) - 48;
        if (digit < 0 || digit > 9) return false;
        n = n * 10 + digit;
      }
      if (negative) n = -n;
      if (n >= bound || n < -bound) return false; // out of range: the general path says so
      b.pushNumber(n === 0 ? 0 : n);
      return true;
    };
  }
  if (kind === 'timestamptz' || kind === 'timestamp') {
    // Loaders send every device's reading of one instant together: the last text is remembered.
    const digits = c.type.typmod < 0 ? 6 : c.type.typmod;
    let lastText = '';
    let lastMicros = 0;
    return (b, d, at, len) => {
      const text = d.toString('latin1', at, at + len);
      if (text !== lastText) {
        const us = isoMicros(text, digits, kind === 'timestamptz');
        if (us === null) return false;
        lastText = text;
        lastMicros = us;
      }
      b.pushNumber(lastMicros);
      return true;
    };
  }
  const fast = fastParser(c);
  if (!fast) return null;
  return (b, d, at, len) => len > 0 && fast(b, d.toString('latin1', at, at + len));
}

export function sameTsWriteSettings(a: TsWriteSettings, b: TsWriteSettings): boolean {
  return a.rejectDuplicates === b.rejectDuplicates && JSON.stringify(a.storage) === JSON.stringify(b.storage);
}

/** A portal's Bind decoded the ordinary way after all (its commands are stale); the commands are dropped. */
export function takeBoundParams(portal: { bound?: BoundTsWrite | null }, bound: BoundTsWrite): Value[] {
  portal.bound = null;
  return bound.decode();
}
