/**
 * A sequence's data type, bounds and cache (`CREATE SEQUENCE s AS integer MINVALUE 5 MAXVALUE 7
 * START 6 CACHE 10`), resolved and checked as PostgreSQL 15's init_params (sequence.c): the
 * defaults follow the type and the sign of the increment, and every bound must fit the type.
 * nextval refuses values past the bounds (sequences.ts) and setval values outside them, so
 * pg_sequence, information_schema.sequences and psql's `\d sequence` tell the truth. CACHE is
 * recorded only: each node reserves its own blocks of values regardless (sequences.ts), which
 * is what PostgreSQL's per-session cache is for. CYCLE is refused (0A000): values reserved by
 * several nodes cannot wrap around together. Pure.
 */
import { PgError, SqlState } from '@strata/common';

/** What CREATE SEQUENCE wrote; null = not given; `'none'` = NO MINVALUE / NO MAXVALUE. */
export interface SequenceOptionsAst {
  as: string | null;
  start: bigint | null;
  increment: bigint | null;
  min: bigint | 'none' | null;
  max: bigint | 'none' | null;
  cache: bigint | null;
  cycle: boolean;
}

/** A sequence as stored in its descriptor. Bounds are decimal strings (int8 does not fit a double). */
export interface SequenceInfo {
  start: number;
  increment: number;
  /** 21 int2, 23 int4, 20 int8 (PostgreSQL's type OIDs); absent in descriptors written before: int8. */
  typeOid?: number;
  min?: string;
  max?: string;
  cache?: number;
  /** The column a SERIAL sequence belongs to (PostgreSQL's OWNED BY; pg_depend's 'a' entry). */
  ownedBy?: { tableId: number; columnId: number };
}

const typeBounds: Record<number, { name: string; min: bigint; max: bigint }> = {
  21: { name: 'smallint', min: -32768n, max: 32767n },
  23: { name: 'integer', min: -2147483648n, max: 2147483647n },
  20: { name: 'bigint', min: -9223372036854775808n, max: 9223372036854775807n },
};

/** The type named by `AS`, or 22023 as PostgreSQL. */
export function sequenceTypeOid(name: string): number {
  const n = name.toLowerCase();
  if (n === 'smallint' || n === 'int2') return 21;
  if (n === 'integer' || n === 'int' || n === 'int4') return 23;
  if (n === 'bigint' || n === 'int8') return 20;
  throw new PgError(SqlState.InvalidParameterValue, 'sequence type must be smallint, integer, or bigint');
}

export function sequenceTypeName(typeOid: number): string {
  return (typeBounds[typeOid] ?? typeBounds[20])!.name;
}

/** Resolves the options of a new sequence with PostgreSQL's defaults and checks. */
export function resolveSequence(o: SequenceOptionsAst): SequenceInfo {
  if (o.cycle) throw new PgError(SqlState.FeatureNotSupported, 'CYCLE sequences are not supported', { hint: 'Values are reserved in blocks by every node; they cannot wrap around together.' });
  const typeOid = o.as === null ? 20 : sequenceTypeOid(o.as);
  const tb = typeBounds[typeOid]!;
  const inc = o.increment ?? 1n;
  if (inc === 0n) throw new PgError(SqlState.InvalidParameterValue, 'INCREMENT must not be zero');
  const max = o.max === null || o.max === 'none' ? (inc > 0n ? tb.max : -1n) : o.max;
  const min = o.min === null || o.min === 'none' ? (inc > 0n ? 1n : tb.min) : o.min;
  if (max < tb.min || max > tb.max) throw new PgError(SqlState.InvalidParameterValue, `MAXVALUE (${max}) is out of range for sequence data type ${tb.name}`);
  if (min < tb.min || min > tb.max) throw new PgError(SqlState.InvalidParameterValue, `MINVALUE (${min}) is out of range for sequence data type ${tb.name}`);
  if (min >= max) throw new PgError(SqlState.InvalidParameterValue, `MINVALUE (${min}) must be less than MAXVALUE (${max})`);
  const start = o.start ?? (inc > 0n ? min : max);
  if (start < min) throw new PgError(SqlState.InvalidParameterValue, `START value (${start}) cannot be less than MINVALUE (${min})`);
  if (start > max) throw new PgError(SqlState.InvalidParameterValue, `START value (${start}) cannot be greater than MAXVALUE (${max})`);
  const cache = o.cache ?? 1n;
  if (cache <= 0n) throw new PgError(SqlState.InvalidParameterValue, `CACHE (${cache}) must be greater than zero`);
  return { start: Number(start), increment: Number(inc), typeOid, min: min.toString(), max: max.toString(), cache: Number(cache) };
}

/** The bounds of a stored sequence (older descriptors: int8's, by the increment's sign). */
export function sequenceBounds(s: SequenceInfo | undefined): { min: bigint; max: bigint; typeOid: number; cache: number } {
  const inc = BigInt(s?.increment ?? 1);
  const tb = typeBounds[s?.typeOid ?? 20]!;
  return {
    min: s?.min !== undefined ? BigInt(s.min) : inc > 0n ? 1n : tb.min,
    max: s?.max !== undefined ? BigInt(s.max) : inc > 0n ? tb.max : -1n,
    typeOid: s?.typeOid ?? 20,
    cache: s?.cache ?? 1,
  };
}

/** A SERIAL column's sequence: the column's integer type, PostgreSQL's defaults. */
export function serialSequence(kind: 'int2' | 'int4' | 'int8'): SequenceInfo {
  return resolveSequence({ as: kind, start: null, increment: null, min: null, max: null, cache: null, cycle: false });
}
