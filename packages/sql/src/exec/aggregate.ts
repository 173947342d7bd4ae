/**
 * Hash aggregation and window functions.
 */
import { arrayDims, checkDimCount } from '../types/array_md.js';
import { PgError, SqlState } from '@strata/common';
import { Decimal } from '../types/numeric.js';
import { numericVariance } from '../types/numeric_math.js';
import { T, arrayOf, compareValues, formatValue, hashKey } from '../types/types.js';
import type { SqlType, Value, ValueContext } from '../types/types.js';
import { addIntervals } from '../types/datetime.js';
import type { Interval } from '../types/datetime.js';
import { intervalDiv } from '../types/interval_math.js';
import { batchRowsMax, canWait, drain, waitFor, waitOf, yieldEveryRows } from './context.js';
import { estimateRowBytes, estimateValueBytes, outOfMemory } from './memory.js';
import type { MemoryAccount } from './memory.js';
import type { SpillFile, TempFiles } from './spill.js';
import { spillDepthMax, spillPartitions } from '../constants.js';
import { RunSorter, mergeRuns } from './sorter.js';
import type { Batches, Column, ExecCtx, Operator, Row } from './context.js';
import { compareRowsBy } from './operators.js';
import type { Ev, SortKey } from './operators.js';
import { FrameCalculator } from './window_frame.js';
import { orderedSetAccumulator } from './ordered_set.js';
import { jsonAggregate } from './json_agg.js';
import type { FrameSpec } from './window_frame.js';
import { SqlStateX } from '../sqlstate.js';

/** An aggregate function's accumulator. */
export interface Accumulator {
  add(args: Value[], ctx: ExecCtx): void;
  result(ctx: ExecCtx): Value;
}

export interface AggSpec {
  name: string;
  args: Ev[];
  /** Per argument: the input column it reads as is, or null for any other expression. */
  argCols?: (number | null)[];
  argTypes: SqlType[];
  resultType: SqlType;
  distinct: boolean;
  filter: Ev | null;
  orderBy: SortKey[];
  star: boolean;
  make: () => Accumulator;
  /** The accumulator keeps every value (array_agg, string_agg): its memory grows per row. */
  grows?: boolean;
}

/**
 * An exact integer sum: a double while it stays within ±2^52 (every partial sum exact), then a
 * BigInt. Adding BigInts row by row is several times slower than adding doubles.
 */
class IntSum {
  private small = 0;
  private big: bigint | null = null;

  add(v: number | bigint): void {
    if (this.big === null) {
      const n = typeof v === 'bigint' ? Number(v) : v;
      if (n < 2 ** 52 && n > -(2 ** 52)) {
        this.small += n;
        if (this.small < 2 ** 52 && this.small > -(2 ** 52)) return;
        this.big = BigInt(this.small);
        return;
      }
      this.big = BigInt(this.small);
    }
    this.big += typeof v === 'bigint' ? v : BigInt(v);
  }

  value(): bigint {
    return this.big ?? BigInt(this.small);
  }
}

function sumAcc(argType: SqlType): Accumulator {
  if (argType.kind === 'int8') {
    // PostgreSQL: sum(int8) is numeric.
    const s = new IntSum();
    let any = false;
    return {
      add([v]) {
        if (v === null || v === undefined) return;
        any = true;
        s.add(v as bigint);
      },
      result() {
        return any ? Decimal.fromInt(s.value()) : null;
      },
    };
  }
  let sum: Value = null;
  return {
    add([v]) {
      if (v === null || v === undefined) return;
      switch (argType.kind) {
        case 'int2':
        case 'int4':
          sum = sum === null ? BigInt(v as number) : (sum as bigint) + BigInt(v as number);
          break;
        case 'int8':
          sum = sum === null ? Decimal.fromInt(v as bigint) : (sum as Decimal).add(Decimal.fromInt(v as bigint));
          break;
        case 'numeric':
          sum = sum === null ? (v as Decimal) : (sum as Decimal).add(v as Decimal);
          break;
        case 'interval':
          sum = sum === null ? (v as Interval) : addIntervals(sum as Interval, v as Interval);
          break;
        default: {
          // float4 sums in float4 (float4pl), float8 in float8; overflow is an error (float.c).
          const x = v as number;
          if (sum === null) sum = x;
          else {
            const prev = sum as number;
            const r = argType.kind === 'float4' ? Math.fround(prev + x) : prev + x;
            if (!Number.isFinite(r) && Number.isFinite(prev) && Number.isFinite(x)) throw new PgError(SqlState.NumericValueOutOfRange, 'value out of range: overflow');
            sum = r;
          }
        }
      }
    },
    result() {
      return sum;
    },
  };
}

function avgAcc(argType: SqlType): Accumulator {
  if (argType.kind === 'int2' || argType.kind === 'int4' || argType.kind === 'int8') {
    const s = new IntSum();
    let count = 0;
    return {
      add([v]) {
        if (v === null || v === undefined) return;
        count++;
        s.add(v as number | bigint);
      },
      result() {
        return count === 0 ? null : Decimal.fromInt(s.value()).div(Decimal.fromInt(count));
      },
    };
  }
  if (argType.kind === 'interval') {
    // interval_avg: the sum divided by the count with interval_div's cascade.
    let n = 0;
    let sum: Interval = { months: 0, days: 0, micros: 0 };
    return {
      add([v]) {
        if (v === null || v === undefined) return;
        n++;
        sum = addIntervals(sum, v as Interval);
      },
      result() {
        return n === 0 ? null : intervalDiv(sum, n);
      },
    };
  }
  let count = 0n;
  let sumD = Decimal.zero;
  let sumF = 0;
  return {
    add([v]) {
      if (v === null || v === undefined) return;
      count++;
      switch (argType.kind) {
        case 'int2':
        case 'int4':
          sumD = sumD.add(Decimal.fromInt(v as number));
          break;
        case 'int8':
          sumD = sumD.add(Decimal.fromInt(v as bigint));
          break;
        case 'numeric':
          sumD = sumD.add(v as Decimal);
          break;
        default:
          sumF += v as number;
      }
    },
    result() {
      if (count === 0n) return null;
      if (argType.kind === 'float4' || argType.kind === 'float8') return sumF / Number(count);
      return sumD.div(Decimal.fromInt(count));
    },
  };
}

function minMaxAcc(argType: SqlType, max: boolean): Accumulator {
  let best: Value = null;
  return {
    add([v]) {
      if (v === null || v === undefined) return;
      if (best === null) best = v;
      else {
        const c = compareValues(v, best, argType);
        if (max ? c > 0 : c < 0) best = v;
      }
    },
    result() {
      return best;
    },
  };
}

/**
 * first/last over (value, timestamp) pairs: the value at the smallest (first) or largest (last)
 * timestamp; ties keep the first row seen for first and the last row seen for last.
 */
function firstLastAcc(last: boolean, keepNulls: boolean, giveTs = false): Accumulator {
  let bestTs: number | null = null;
  let val: Value = null;
  return {
    add([v, ts]) {
      if (ts === null || ts === undefined) return;
      if (!keepNulls && (v === null || v === undefined)) return;
      const t = ts as number;
      if (bestTs === null || (last ? t >= bestTs : t < bestTs)) {
        bestTs = t;
        val = v ?? null;
      }
    },
    result() {
      return giveTs ? bestTs : val;
    },
  };
}

const elapsedUnitsUs: Record<string, number> = { us: 1, ms: 1000, s: 1e6, m: 60e6, h: 3600e6, d: 86400e6 };

/**
 * KWDB's elapsed(ts [, unit]): the time the rows span (newest − oldest timestamp) in `unit`
 * ('1us', '1ms' — the default, as for TIMESTAMPTZ(3) — '1s', '1m', '1h', '1d', or e.g. '10s').
 */
function elapsedAcc(): Accumulator {
  let lo: number | null = null;
  let hi: number | null = null;
  let unit = 1000;
  return {
    add([ts, u]) {
      if (ts === null || ts === undefined) return;
      const t = ts as number;
      if (lo === null || t < lo) lo = t;
      if (hi === null || t > hi) hi = t;
      if (typeof u === 'string') {
        const m = /^\s*(\d+)?\s*(us|ms|s|m|h|d)\s*$/i.exec(u);
        if (!m) throw new PgError(SqlState.InvalidParameterValue, `invalid time unit for elapsed(): "${u}" (use e.g. 1s, 10ms, 1h)`);
        unit = Number(m[1] ?? 1) * (elapsedUnitsUs[(m[2] as string).toLowerCase()] as number);
      }
    },
    result() {
      return lo === null || hi === null ? null : (hi - lo) / unit;
    },
  };
}

/**
 * KWDB's twa(ts, value): the time-weighted average — the area under the line through the
 * points (sorted by time), divided by the time they span; one point gives its value.
 */
function twaAcc(): Accumulator {
  const pts: [number, number][] = [];
  return {
    add([ts, v]) {
      if (ts === null || ts === undefined || v === null || v === undefined) return;
      pts.push([ts as number, typeof v === 'bigint' ? Number(v) : v instanceof Decimal ? v.toNumber() : (v as number)]);
    },
    result() {
      if (pts.length === 0) return null;
      pts.sort((a, b) => a[0] - b[0]);
      const span = (pts[pts.length - 1] as [number, number])[0] - (pts[0] as [number, number])[0];
      if (span === 0) return pts.reduce((s, p) => s + p[1], 0) / pts.length;
      let area = 0;
      for (let i = 1; i < pts.length; i++) {
        const [t0, v0] = pts[i - 1] as [number, number];
        const [t1, v1] = pts[i] as [number, number];
        area += ((v0 + v1) / 2) * (t1 - t0);
      }
      return area / span;
    },
  };
}

type VarianceKind = 'var_samp' | 'var_pop' | 'stddev_samp' | 'stddev_pop';

/**
 * var/stddev of float4/float8: float.c's float8_accum (the Youngs-Cramer update of N, Sx, Sxx)
 * and float8_var_samp/…, so results are PostgreSQL's to the last bit.
 */
function floatVarianceAcc(kind: VarianceKind): Accumulator {
  let n = 0;
  let sx = 0;
  let sxx = 0;
  return {
    add([v]) {
      if (v === null || v === undefined) return;
      const x = v as number;
      const n0 = n;
      n += 1;
      const sx0 = sx;
      sx += x;
      if (n0 > 0) {
        const tmp = x * n - sx;
        sxx += (tmp * tmp) / (n * n0);
        if (!Number.isFinite(sx) || !Number.isFinite(sxx)) {
          if (Number.isFinite(sx0) && Number.isFinite(x)) throw new PgError(SqlState.NumericValueOutOfRange, 'value out of range: overflow');
          sxx = NaN;
        }
      } else if (!Number.isFinite(x)) sxx = NaN;
    },
    result() {
      const samp = kind === 'var_samp' || kind === 'stddev_samp';
      if (n === 0 || (samp && n <= 1)) return null;
      const variance = sxx / (samp ? n - 1 : n);
      return kind.startsWith('stddev') ? Math.sqrt(variance) : variance;
    },
  };
}

/** var/stddev of integers and numeric: exact sums, numeric.c's numeric_stddev_internal. */
function numericVarianceAcc(kind: VarianceKind): Accumulator {
  let n = 0n;
  let sx: Decimal = Decimal.zero;
  let sxx: Decimal = Decimal.zero;
  return {
    add([v]) {
      if (v === null || v === undefined) return;
      const x = v instanceof Decimal ? v : Decimal.fromInt(v as number | bigint);
      n++;
      sx = sx.add(x);
      sxx = sxx.add(x.mul(x));
    },
    result() {
      return numericVariance(n, sx, sxx, kind === 'var_samp' || kind === 'stddev_samp', kind.startsWith('stddev'));
    },
  };
}

function varianceAcc(kind: VarianceKind, t: SqlType): Accumulator {
  return t.kind === 'float4' || t.kind === 'float8' ? floatVarianceAcc(kind) : numericVarianceAcc(kind);
}

export function makeAccumulator(name: string, argTypes: SqlType[], vctx: () => ValueContext): () => Accumulator {
  const t0 = argTypes[0] ?? T.int8;
  switch (name) {
    case 'count':
      return () => {
        let n = 0n;
        return {
          add(args) {
            if (args.length === 0 || args[0] !== null) n++;
          },
          result: () => n,
        };
      };
    case 'sum':
      return () => sumAcc(t0);
    case 'avg':
      return () => avgAcc(t0);
    case 'min':
      return () => minMaxAcc(t0, false);
    case 'max':
      return () => minMaxAcc(t0, true);
    case 'first':
    case 'last':
    case 'first_row':
    case 'last_row':
      return () => firstLastAcc(name.startsWith('last'), name.endsWith('_row'));
    case 'firstts':
    case 'lastts':
    case 'first_row_ts':
    case 'last_row_ts':
      return () => firstLastAcc(name.startsWith('last'), name.includes('_row'), true);
    case 'elapsed':
      return () => elapsedAcc();
    case 'twa':
      return () => twaAcc();
    case 'bool_and':
    case 'every':
      return () => {
        let r: boolean | null = null;
        return {
          add([v]) {
            if (v === null || v === undefined) return;
            r = r === null ? (v as boolean) : r && (v as boolean);
          },
          result: () => r,
        };
      };
    case 'bool_or':
      return () => {
        let r: boolean | null = null;
        return {
          add([v]) {
            if (v === null || v === undefined) return;
            r = r === null ? (v as boolean) : r || (v as boolean);
          },
          result: () => r,
        };
      };
    case 'string_agg':
      if (t0.kind === 'bytea') {
        // string_agg(bytea, bytea): the bytes joined by the separator's bytes.
        return () => {
          const parts: Buffer[] = [];
          return {
            add([v, sep]) {
              if (v === null || v === undefined) return;
              if (parts.length > 0 && sep !== null && sep !== undefined) parts.push(sep as Buffer);
              parts.push(v as Buffer);
            },
            result() {
              return parts.length === 0 ? null : Buffer.concat(parts);
            },
          };
        };
      }
      return () => {
        // Appending builds a rope (O(1) per row); result() may be read at any time.
        let acc: string | null = null;
        return {
          add([v, sep]) {
            if (v === null || v === undefined) return;
            const part = typeof v === 'string' ? v : (formatValue(v, t0, vctx()) as string);
            acc = acc === null ? part : acc + (sep === null || sep === undefined ? '' : (sep as string)) + part;
          },
          result() {
            return acc;
          },
        };
      };
    case 'array_agg':
      return () => {
        // Values gather in fixed-size chunks: a growing 20M-element array would be copied at
        // every doubling (large garbage and long collections); the chunks are joined once.
        const chunks: Value[][] = [];
        let cur: Value[] | null = null;
        return {
          add([v]) {
            if (cur === null || cur.length >= arrayAggChunkValues) chunks.push((cur = []));
            cur.push(v ?? null);
          },
          result: () => {
            if (chunks.length === 0) return null;
            const all = chunks.length === 1 ? (chunks[0] as Value[]).slice() : ([] as Value[]).concat(...chunks);
            return t0?.kind === 'array' ? accumulateArrays(all) : all;
          },
        };
      };
    case 'percentile_cont':
    case 'percentile_disc':
    case 'mode':
      return () => orderedSetAccumulator(name, t0);
    case 'json_agg':
    case 'jsonb_agg':
    case 'json_object_agg':
    case 'jsonb_object_agg':
    case 'bit_and':
    case 'bit_or':
    case 'bit_xor':
      return () => jsonAggregate(name, argTypes);
    case 'var_samp':
    case 'variance':
      return () => varianceAcc('var_samp', t0);
    case 'var_pop':
      return () => varianceAcc('var_pop', t0);
    case 'stddev':
    case 'stddev_samp':
      return () => varianceAcc('stddev_samp', t0);
    case 'stddev_pop':
      return () => varianceAcc('stddev_pop', t0);
    default:
      throw new PgError(SqlState.UndefinedFunction, `function ${name} is not an aggregate`);
  }
}

export function aggResultType(name: string, argTypes: SqlType[]): SqlType {
  const t = argTypes[0];
  switch (name) {
    case 'count':
      return T.int8;
    case 'sum':
      if (!t) return T.int8;
      if (t.kind === 'int2' || t.kind === 'int4') return T.int8;
      if (t.kind === 'int8' || t.kind === 'numeric') return T.numeric;
      if (t.kind === 'float4') return T.float4;
      if (t.kind === 'interval') return T.interval;
      return T.float8;
    case 'avg':
      if (t && (t.kind === 'float4' || t.kind === 'float8')) return T.float8;
      if (t && t.kind === 'interval') return T.interval;
      return T.numeric;
    case 'elapsed':
    case 'twa':
      return T.float8;
    case 'min':
    case 'max':
      // PostgreSQL has no min/max over records (42883); Strata would otherwise compare them.
      if (t?.kind === 'record') throw new PgError(SqlState.UndefinedFunction, `function ${name}(record) does not exist`);
      return t ?? T.text;
    case 'first':
    case 'last':
    case 'first_row':
    case 'last_row':
      return t ?? T.text;
    case 'firstts':
    case 'lastts':
    case 'first_row_ts':
    case 'last_row_ts':
      return T.timestamptz;
    case 'bool_and':
    case 'bool_or':
    case 'every':
      return T.bool;
    case 'string_agg':
      return t && t.kind === 'bytea' ? T.bytea : T.text;
    case 'array_agg':
      // A record's value is a JS array, which array values would read as one more dimension.
      if (t?.kind === 'record') throw new PgError(SqlState.FeatureNotSupported, 'arrays of records are not supported');
      // array_agg(anyarray) gives the same array type with one more dimension.
      return t && t.kind === 'array' ? t : { kind: 'array', typmod: -1, elem: t ?? T.text };
    case 'json_agg':
    case 'json_object_agg':
      return T.json;
    case 'jsonb_agg':
    case 'jsonb_object_agg':
      return T.jsonb;
    case 'bit_and':
    case 'bit_or':
    case 'bit_xor':
      return t ?? T.int4;
    case 'percentile_cont':
      return argTypes[1]?.kind === 'array' ? arrayOf(T.float8) : T.float8;
    case 'percentile_disc':
      return argTypes[1]?.kind === 'array' ? arrayOf(t ?? T.text) : (t ?? T.text);
    case 'mode':
      return t ?? T.text;
    case 'var_samp':
    case 'variance':
    case 'var_pop':
    case 'stddev':
    case 'stddev_samp':
    case 'stddev_pop':
      return t && (t.kind === 'float4' || t.kind === 'float8') ? T.float8 : T.numeric;
    default:
      return T.numeric;
  }
}

/**
 * KWDB's first/last (the oldest/newest non-NULL value) and first_row/last_row (NULLs included),
 * and their *ts forms (firstts, lastts, first_row_ts, last_row_ts: the timestamp of that row).
 */
export const timeOrderedAggregates = new Set(['first', 'last', 'first_row', 'last_row', 'firstts', 'lastts', 'first_row_ts', 'last_row_ts']);

export const aggregateNames = new Set(['json_agg', 'jsonb_agg', 'json_object_agg', 'jsonb_object_agg', 'bit_and', 'bit_or', 'bit_xor', 'percentile_cont', 'percentile_disc', 'mode', 'elapsed', 'twa', 'first', 'last', 'first_row', 'last_row', 'firstts', 'lastts', 'first_row_ts', 'last_row_ts', 'count', 'sum', 'avg', 'min', 'max', 'bool_and', 'bool_or', 'every', 'string_agg', 'array_agg', 'var_samp', 'variance', 'var_pop', 'stddev', 'stddev_samp', 'stddev_pop']);

/** array_agg(anyarray): the arrays as one more dimension, with PostgreSQL's errors (array_agg_array_transfn). */
function accumulateArrays(all: Value[]): Value[] {
  let dims: number[] | null = null;
  for (const v of all) {
    if (v === null) throw new PgError(SqlState.NullValueNotAllowed, 'cannot accumulate null arrays');
    const d = arrayDims(v as Value[]);
    if (d.length === 0) throw new PgError(SqlState.ArraySubscriptError, 'cannot accumulate empty arrays');
    if (dims !== null && (d.length !== dims.length || d.some((n, i) => n !== (dims as number[])[i]))) throw new PgError(SqlState.ArraySubscriptError, 'cannot accumulate arrays of different dimensionality');
    dims = d;
  }
  checkDimCount((dims?.length ?? 0) + 1);
  return all;
}

/** array_agg keeps its values in chunks of this many (see makeAccumulator). */
const arrayAggChunkValues = 65_536;

/** Estimated bytes of one accumulator's fixed state (a closure and a few numbers). */
const accumulatorBytes = 96;

/** The partition (of spillPartitions) of a group key at spill level `level` (a salted FNV-1a). */
function partitionOf(hk: string, level: number): number {
  let h = (0x811c9dc5 ^ Math.imul(level + 1, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < hk.length; i++) h = Math.imul(h ^ hk.charCodeAt(i), 0x01000193) >>> 0;
  return h % spillPartitions;
}

/** The rows of a spill file as batches, with a yield point after each. */
function* readBatches(f: SpillFile): Batches {
  const reader = f.reader();
  let out: Row[] = [];
  for (let v = reader.next(); v !== undefined; v = reader.next()) {
    out.push(v as Row);
    if (out.length >= batchRowsMax) {
      yield out;
      out = [];
      yield [];
    }
  }
  if (out.length > 0) yield out;
}

interface Group {
  keys: Value[];
  accs: Accumulator[];
  distinctSeen: (Set<string> | null)[];
  ordered: ({ sort: Value[]; args: Value[] }[] | null)[];
}

/**
 * GROUP BY via a hash table. Output rows: the group key values, then each aggregate's result.
 * With no GROUP BY, exactly one row is produced even for empty input.
 */
export class HashAggregate implements Operator {
  constructor(
    readonly input: Operator,
    readonly groupBy: { ev: Ev; type: SqlType }[],
    readonly aggs: AggSpec[],
    readonly columns: Column[],
    /**
     * A scan that can fold its rows straight into the aggregation (a TS scan, possibly under a
     * filter): rows arrive in one reused array instead of batches of new row objects.
     */
    readonly fusedInput?: () => { visit(ctx: ExecCtx, fn: (r: Row) => void): Generator<Row[]>; filter: Ev | null } | null,
  ) {}

  private newGroup(keys: Value[]): Group {
    return {
      keys,
      accs: this.aggs.map((a) => a.make()),
      distinctSeen: this.aggs.map((a) => (a.distinct ? new Set<string>() : null)),
      ordered: this.aggs.map((a) => (a.orderBy.length > 0 ? [] : null)),
    };
  }

  /**
   * Aggregates in passes. Groups are charged to the statement's memory; when it is spent (and
   * there are GROUP BY keys and a temp dir), the table freezes: rows of groups already in memory
   * still fold in, rows of any other group are written to one of spillPartitions files by a hash
   * of their key. After the input, the groups in memory are emitted and freed, then each
   * partition is aggregated the same way (a group lives in exactly one place: in memory if it
   * existed when the table froze, else wholly in one partition). A partition may split again with
   * a new hash, up to spillDepthMax times.
   */
  *exec(ctx: ExecCtx): Batches {
    const acct = ctx.memory.account('GROUP BY (hash aggregation)');
    try {
      const fused = this.fusedInput?.();
      yield* this.pass(ctx, acct, fused ? { fused } : { batches: this.input.exec(ctx) }, 0);
    } finally {
      acct.clear();
    }
  }

  private *pass(
    ctx: ExecCtx,
    acct: MemoryAccount,
    source: { batches: Batches } | { fused: { visit(ctx: ExecCtx, fn: (r: Row) => void): Generator<Row[]>; filter: Ev | null } },
    level: number,
  ): Batches {
    const groups = new Map<string, Group>();
    const order: Group[] = [];
    const nKeys = this.groupBy.length;
    const nAggs = this.aggs.length;
    // Rows may be a reused array (fused scans): nothing below keeps `r` or the scratch arrays.
    const keys: Value[] = new Array<Value>(nKeys).fill(null);
    const argBufs: Value[][] = this.aggs.map((a) => new Array<Value>(a.args.length).fill(null));
    const groupBytes = 64 + nAggs * accumulatorBytes;
    let last: Group | null = null;
    const spill: { parts: SpillFile[] | null } = { parts: null };
    const writes: Promise<void>[] = [];
    const async = canWait(ctx);
    const consume = (r: Row) => {
      let same = last !== null;
      for (let i = 0; i < nKeys; i++) {
        const k = (this.groupBy[i] as { ev: Ev }).ev(r, ctx);
        if (same && (last as Group).keys[i] !== k) same = false;
        keys[i] = k;
      }
      let g: Group;
      if (same) g = last as Group; // consecutive rows of one group (time-ordered scans) skip hashing
      else {
        let hk = '';
        for (let i = 0; i < nKeys; i++) hk = i === 0 ? hashKey(keys[i] as Value, (this.groupBy[i] as { type: SqlType }).type) : hk + '\u0001' + hashKey(keys[i] as Value, (this.groupBy[i] as { type: SqlType }).type);
        let found = groups.get(hk);
        if (!found) {
          if (!spill.parts && !acct.tryGrow(groupBytes + estimateRowBytes(keys))) {
            if (nKeys === 0 || !ctx.temp || level >= spillDepthMax) throw outOfMemory('GROUP BY (hash aggregation)', ctx.memory);
            spill.parts = Array.from({ length: spillPartitions }, () => (ctx.temp as TempFiles).create('hashagg'));
          }
          if (spill.parts) {
            // Frozen: a new group's rows go to its partition.
            const p = (spill.parts[partitionOf(hk, level)] as SpillFile).append(r, async);
            if (p) writes.push(p);
            return;
          }
          found = this.newGroup(keys.slice());
          groups.set(hk, found);
          order.push(found);
        }
        g = found;
        last = g;
      }
      for (let i = 0; i < nAggs; i++) {
        const a = this.aggs[i] as AggSpec;
        if (a.filter && a.filter(r, ctx) !== true) continue;
        const ord = g.ordered[i];
        const args = ord ? new Array<Value>(a.args.length) : (argBufs[i] as Value[]);
        for (let j = 0; j < a.args.length; j++) args[j] = (a.args[j] as Ev)(r, ctx);
        const seen = g.distinctSeen[i];
        if (seen) {
          // DISTINCT keeps one NULL for aggregates that keep NULLs (array_agg); the others skip NULLs anyway.
          if (args[0] === null && a.name !== 'array_agg') continue;
          const k = args.map((v, j) => hashKey(v, a.argTypes[j] as SqlType)).join('\u0001');
          if (seen.has(k)) continue;
          seen.add(k);
          acct.grow(16 + 2 * k.length);
        }
        if (ord) {
          const sort = a.orderBy.map((k) => k.ev(r, ctx));
          acct.grow(estimateRowBytes(args) + estimateRowBytes(sort) + 32);
          ord.push({ sort, args });
        } else {
          // array_agg and string_agg keep every value: charge them (other states are fixed-size).
          if (a.grows) {
            const v = args[0] as Value;
            acct.grow(typeof v === 'number' || v === null || typeof v === 'boolean' ? 8 : estimateValueBytes(v) + 8); // a slot, plus a boxed value
          }
          (g.accs[i] as Accumulator).add(args, ctx);
        }
      }
    };
    if ('fused' in source) {
      const pred = source.fused.filter;
      const fn = pred
        ? (r: Row) => {
            if (pred(r, ctx) === true) consume(r);
          }
        : consume;
      for (const y of source.fused.visit(ctx, fn)) {
        if (writes.length > 0) yield waitFor(Promise.all([...writes.splice(0), ...(waitOf(y) ? [waitOf(y)] : [])]));
        else yield y;
      }
    } else {
      for (const b of source.batches) {
        if (b.length === 0) {
          yield b;
          continue;
        }
        for (const r of b) consume(r);
        if (writes.length > 0) yield waitFor(Promise.all(writes.splice(0)));
      }
    }
    if (order.length === 0 && this.groupBy.length === 0) order.push(this.newGroup([]));
    const out: Row[] = [];
    for (const g of order) {
      for (let i = 0; i < this.aggs.length; i++) {
        const ord = g.ordered[i];
        if (ord) {
          // array_agg(x ORDER BY y) and friends: the group's rows sorted in runs (sorter.ts).
          const cmp = compareRowsBy((this.aggs[i] as AggSpec).orderBy);
          const sorter = new RunSorter(cmp);
          for (const o of ord) {
            if (sorter.push({ k: o.sort, r: o.args })) {
              sorter.sealRun();
              yield [];
            }
          }
          g.ordered[i] = null;
          for (const b of mergeRuns(sorter.finish(), cmp)) {
            if (b.length === 0) yield b;
            else for (const args of b) (g.accs[i] as Accumulator).add(args, ctx);
          }
        }
      }
      out.push([...g.keys, ...g.accs.map((a) => a.result(ctx))]);
      if (out.length >= batchRowsMax) {
        yield out.splice(0);
        yield [];
      }
    }
    if (out.length > 0) yield out;
    const parts = spill.parts;
    if (!parts) return;
    // The groups in memory are out: free them, then aggregate each partition.
    groups.clear();
    order.length = 0;
    last = null;
    acct.clear();
    for (const f of parts) {
      const p = f.finishWriting(async);
      if (p) yield waitFor(p);
    }
    for (const f of parts) {
      if (f.records > 0) yield* this.pass(ctx, acct, { batches: readBatches(f) }, level + 1);
      acct.clear();
      f.remove();
    }
  }

  explain() {
    return { label: this.groupBy.length > 0 ? 'group (hash)' : 'group (scalar)', children: [this.input] };
  }
}

// ---- window functions ------------------------------------------------------------------------

export interface WindowFuncSpec {
  name: string;
  args: Ev[];
  argTypes: SqlType[];
  resultType: SqlType;
  partitionBy: { ev: Ev; type: SqlType }[];
  orderBy: SortKey[];
  frame: FrameSpec | null;
  filter: Ev | null;
  aggregate: (() => Accumulator) | null;
}

export type { FrameEdge, FrameSpec } from './window_frame.js';

/** Computes window functions; output rows are the input row followed by one value per function. */
export class WindowOp implements Operator {
  constructor(
    readonly input: Operator,
    readonly funcs: WindowFuncSpec[],
    readonly columns: Column[],
  ) {}

  *exec(ctx: ExecCtx): Batches {
    const acct = ctx.memory.account('window (partition rows)');
    try {
      yield* this.run(ctx, acct);
    } finally {
      acct.clear();
    }
  }

  private *run(ctx: ExecCtx, acct: MemoryAccount): Batches {
    const rows = yield* drain(this.input, ctx, [], acct);
    const results: Value[][] = rows.map(() => new Array<Value>(this.funcs.length).fill(null));
    for (let fi = 0; fi < this.funcs.length; fi++) yield* this.compute(this.funcs[fi] as WindowFuncSpec, fi, rows, results, ctx);
    let out: Row[] = [];
    for (let i = 0; i < rows.length; i++) {
      out.push((rows[i] as Row).concat(results[i] as Value[]));
      if (out.length >= batchRowsMax) {
        yield out;
        out = [];
        yield [];
      }
    }
    if (out.length > 0) yield out;
  }

  /** Fills column `fi` of `results`, yielding every yieldEveryRows units of work (rows hashed, sorted, framed). */
  private *compute(f: WindowFuncSpec, fi: number, rows: Row[], results: Value[][], ctx: ExecCtx): Generator<Row[], void, undefined> {
    // Partition, then sort each partition by the window's ORDER BY (in runs: sorter.ts).
    const parts = new Map<string, number[]>();
    const partOrder: number[][] = [];
    const sortKeys: Value[][] = new Array<Value[]>(rows.length);
    let work = 0;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as Row;
      const k = f.partitionBy.map((p) => hashKey(p.ev(r, ctx), p.type)).join('\u0001');
      let p = parts.get(k);
      if (!p) {
        parts.set(k, (p = []));
        partOrder.push(p);
      }
      p.push(i);
      sortKeys[i] = f.orderBy.map((x) => x.ev(r, ctx));
      if (++work >= yieldEveryRows) {
        work = 0;
        yield [];
      }
    }
    const cmp = compareRowsBy(f.orderBy);
    for (let pi = 0; pi < partOrder.length; pi++) {
      let p = partOrder[pi] as number[];
      if (f.orderBy.length > 0 && p.length > 1) {
        const sorter = new RunSorter(cmp);
        for (const i of p) {
          if (sorter.push({ k: sortKeys[i] as Value[], r: [i] })) {
            sorter.sealRun();
            yield [];
          }
        }
        const sorted: number[] = [];
        for (const b of mergeRuns(sorter.finish(), cmp)) {
          if (b.length === 0) yield b;
          else for (const x of b) sorted.push(x[0] as number);
        }
        p = sorted;
      }
      const n = p.length;
      const peerStart: number[] = new Array<number>(n);
      const peerEnd: number[] = new Array<number>(n);
      for (let i = 0; i < n; i++) {
        peerStart[i] = i > 0 && cmp(sortKeys[p[i] as number] as Value[], sortKeys[p[i - 1] as number] as Value[]) === 0 ? (peerStart[i - 1] as number) : i;
      }
      for (let i = n - 1; i >= 0; i--) {
        peerEnd[i] = i < n - 1 && cmp(sortKeys[p[i] as number] as Value[], sortKeys[p[i + 1] as number] as Value[]) === 0 ? (peerEnd[i + 1] as number) : i;
      }
      work += n;
      const argsAt = (i: number) => f.args.map((e) => e(rows[p[i] as number] as Row, ctx));
      const set = (i: number, v: Value) => {
        (results[p[i] as number] as Value[])[fi] = v;
      };
      switch (f.name) {
        case 'row_number':
          for (let i = 0; i < n; i++) set(i, BigInt(i + 1));
          continue;
        case 'rank':
          for (let i = 0; i < n; i++) set(i, BigInt((peerStart[i] as number) + 1));
          continue;
        case 'dense_rank': {
          let rank = 0;
          for (let i = 0; i < n; i++) {
            if (peerStart[i] === i) rank++;
            set(i, BigInt(rank));
          }
          continue;
        }
        case 'percent_rank':
          for (let i = 0; i < n; i++) set(i, n > 1 ? (peerStart[i] as number) / (n - 1) : 0);
          continue;
        case 'cume_dist':
          for (let i = 0; i < n; i++) set(i, ((peerEnd[i] as number) + 1) / n);
          continue;
        case 'ntile': {
          for (let i = 0; i < n; i++) {
            const buckets = Number(argsAt(i)[0]);
            if (!(buckets > 0)) throw new PgError(SqlState.InvalidParameterValue, 'argument of ntile must be greater than zero');
            const per = Math.floor(n / buckets);
            const extra = n % buckets;
            const bigRows = extra * (per + 1);
            set(i, i < bigRows ? Math.floor(i / (per + 1)) + 1 : Math.floor((i - bigRows) / per) + extra + 1);
          }
          continue;
        }
        case 'diff': {
          // KWDB: the change from the previous row of the partition (NULL for the first).
          for (let i = 0; i < n; i++) {
            const cur = argsAt(i)[0] as Value;
            const prev = i > 0 ? (argsAt(i - 1)[0] as Value) : null;
            set(i, cur === null || prev === null ? null : typeof cur === 'bigint' ? cur - (prev as bigint) : (cur as number) - (prev as number));
          }
          continue;
        }
        case 'lag':
        case 'lead': {
          for (let i = 0; i < n; i++) {
            const a = argsAt(i);
            const off = a.length > 1 ? Number(a[1]) : 1;
            const j = f.name === 'lag' ? i - off : i + off;
            set(i, j >= 0 && j < n ? (argsAt(j)[0] as Value) : a.length > 2 ? (a[2] as Value) : null);
          }
          continue;
        }
        default:
          break;
      }
      // Frame-based functions: aggregates, first_value, last_value, nth_value (window_frame.ts).
      // A frame that starts at the partition's first row without exclusions is accumulated
      // incrementally (one add per row) for aggregates whose result() is pure.
      const frames = new FrameCalculator(f.frame, f.orderBy.length > 0, { n, peerStart, peerEnd, keys: p.map((x) => sortKeys[x] as Value[]), row: (i) => rows[p[i] as number] as Row }, ctx);
      const incremental = f.aggregate !== null && pureResultAggregates.has(f.name) && frames.growing();
      let acc: Accumulator | null = null;
      let added = 0;
      for (let i = 0; i < n; i++) {
        const [lo, hi] = frames.bounds(i);
        if (f.name === 'first_value' || f.name === 'last_value' || f.name === 'nth_value') {
          let k = 1;
          if (f.name === 'nth_value') {
            const kv = argsAt(i)[1] as Value;
            if (kv === null) {
              set(i, null);
              continue;
            }
            k = Number(kv);
            if (!(k > 0)) throw new PgError(SqlStateX.InvalidArgumentForNthValue, 'argument of nth_value must be greater than zero');
          }
          let pick = -1;
          if (f.name === 'last_value') {
            for (let j = hi; j >= lo; j--) if (!frames.excluded(i, j)) {
              pick = j;
              break;
            }
          } else {
            for (let j = lo; j <= hi; j++) if (!frames.excluded(i, j) && --k === 0) {
              pick = j;
              break;
            }
          }
          set(i, pick >= 0 ? (argsAt(pick)[0] as Value) : null);
        } else if (incremental) {
          acc ??= (f.aggregate as () => Accumulator)();
          for (; added <= hi; added++, work++) {
            if (f.filter && f.filter(rows[p[added] as number] as Row, ctx) !== true) continue;
            acc.add(argsAt(added), ctx);
          }
          set(i, acc.result(ctx));
        } else {
          const a = (f.aggregate as () => Accumulator)();
          for (let j = lo; j <= hi; j++, work++) {
            if (frames.excluded(i, j)) continue;
            if (f.filter && f.filter(rows[p[j] as number] as Row, ctx) !== true) continue;
            a.add(argsAt(j), ctx);
          }
          set(i, a.result(ctx));
        }
        if (++work >= yieldEveryRows) {
          work = 0;
          yield [];
        }
      }
    }
  }

  explain() {
    return { label: `window (${this.funcs.map((f) => f.name).join(', ')})`, children: [this.input] };
  }
}

/** Aggregates whose result() may be read repeatedly while rows are still added (incremental frames). */
const pureResultAggregates = new Set(['count', 'sum', 'avg', 'min', 'max', 'bool_and', 'bool_or', 'every', 'var_samp', 'variance', 'var_pop', 'stddev', 'stddev_samp', 'stddev_pop']);

export const windowOnlyNames = new Set(['diff', 'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value']);

export function windowResultType(name: string, argTypes: SqlType[]): SqlType {
  switch (name) {
    case 'row_number':
    case 'rank':
    case 'dense_rank':
      return T.int8;
    case 'percent_rank':
    case 'cume_dist':
      return T.float8;
    case 'ntile':
      return T.int4;
    default:
      return argTypes[0] ?? T.text;
  }
}
