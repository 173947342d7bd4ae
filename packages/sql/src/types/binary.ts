/**
 * Binary wire formats (PostgreSQL's typsend/typreceive) for the supported types: the one codec
 * behind binary Bind parameters and result columns (pgwire) and binary COPY (copy_binary.ts).
 */
import { arrayDims, flattenArray, nestArray } from './array_md.js';
import { inetFromBinary, inetToBinary } from './inet.js';
import { timeTzFromBinary, timeTzToBinary } from './timetz.js';
import { PgError, SqlState, decodeUtf8Strict } from '@strata/common';
import { Decimal } from './numeric.js';
import { castValue } from './cast.js';
import { formatType, parseJsonb, typeOid, typeFromOid } from './types.js';
import { timestampInfinity, timestampNegInfinity } from './datetime.js';
import type { SqlType, Value, ValueContext } from './types.js';

const pgEpochMicros = 946_684_800_000_000; // 2000-01-01 in µs since 1970
const pgEpochDays = 10_957;
/** PostgreSQL's timestamp 'infinity' and '-infinity' on the wire: the int64 extremes (DT_NOEND, DT_NOBEGIN). */
const pgTimestampNoEnd = 0x7fffffffffffffffn;
const pgTimestampNoBegin = -0x8000000000000000n;
/** A date's 'infinity' and '-infinity' on the wire: the int32 extremes (DATEVAL_NOEND, DATEVAL_NOBEGIN). */
const pgDateNoEnd = 0x7fffffff;
const pgDateNoBegin = -0x80000000;

/** numeric's sign word: NUMERIC_POS, NUMERIC_NEG, NUMERIC_NAN, NUMERIC_PINF, NUMERIC_NINF (numeric.c). */
const numericPos = 0x0000;
const numericNeg = 0x4000;
const numericNaN = 0xc000;
const numericPInf = 0xd000;
const numericNInf = 0xf000;
/** NUMERIC_DSCALE_MASK: the display scale's bits. */
const numericDscaleMask = 0x3fff;

function numericToBinary(d: Decimal): Buffer {
  if (d.isNaN() || d.isInf()) {
    const b = Buffer.alloc(8);
    b.writeUInt16BE(d.isNaN() ? numericNaN : d.unscaled > 0n ? numericPInf : numericNInf, 4);
    // PostgreSQL 15 sends a display scale of 32 for ±Infinity: NUMERIC_DSCALE reads the special
    // value's header (0xD000/0xF000) as a short header, whose scale bits (0x1F80) hold 0x1000.
    if (d.isInf()) b.writeUInt16BE(32, 6);
    return b;
  }
  const neg = d.unscaled < 0n;
  let s = (neg ? -d.unscaled : d.unscaled).toString();
  const scale = d.scale;
  if (s.length <= scale) s = '0'.repeat(scale - s.length + 1) + s;
  const intPart = s.slice(0, s.length - scale);
  let frac = s.slice(s.length - scale);
  const intPadded = '0'.repeat((4 - (intPart.length % 4)) % 4) + intPart;
  while (frac.length % 4 !== 0) frac += '0';
  const groups: number[] = [];
  for (let i = 0; i < intPadded.length; i += 4) groups.push(Number(intPadded.slice(i, i + 4)));
  let weight = groups.length - 1;
  for (let i = 0; i < frac.length; i += 4) groups.push(Number(frac.slice(i, i + 4)));
  while (groups.length > 0 && groups[0] === 0) {
    groups.shift();
    weight--;
  }
  while (groups.length > 0 && groups[groups.length - 1] === 0) groups.pop();
  if (groups.length === 0) weight = 0;
  const b = Buffer.alloc(8 + groups.length * 2);
  b.writeUInt16BE(groups.length, 0);
  b.writeInt16BE(weight, 2);
  b.writeUInt16BE(neg ? 0x4000 : 0, 4);
  b.writeUInt16BE(scale, 6);
  groups.forEach((g, i) => b.writeUInt16BE(g, 8 + i * 2));
  return b;
}

/**
 * numeric_recv: the header words and digits are read in order, with its checks in its order (so
 * the first fault found is the one PostgreSQL reports); bytes missing are 08P01, bytes left over
 * 22P03 (as for a Bind parameter or a COPY field).
 */
function numericFromBinary(b: Buffer): Decimal {
  const invalid = (what: string) => new PgError(SqlState.InvalidBinaryRepresentation, `invalid ${what} in external "numeric" value`);
  const short = () => new PgError(SqlState.ProtocolViolation, 'insufficient data left in message');
  if (b.length < 2) throw short();
  const n = b.readUInt16BE(0);
  if (b.length < 6) throw short();
  const weight = b.readInt16BE(2);
  const sign = b.readUInt16BE(4);
  if (sign !== numericPos && sign !== numericNeg && sign !== numericNaN && sign !== numericPInf && sign !== numericNInf) throw invalid('sign');
  if (b.length < 8) throw short();
  const dscale = b.readUInt16BE(6);
  if ((dscale & numericDscaleMask) !== dscale) throw invalid('scale');
  let v = 0n;
  for (let i = 0; i < n; i++) {
    if (b.length < 10 + i * 2) throw short();
    const digit = b.readUInt16BE(8 + i * 2);
    if (digit >= 10000) throw invalid('digit');
    v = v * 10000n + BigInt(digit);
  }
  if (b.length > 8 + n * 2) throw new PgError(SqlState.InvalidBinaryRepresentation, 'incorrect binary data format');
  if (sign === numericNaN) return Decimal.nan;
  if (sign === numericPInf) return Decimal.inf;
  if (sign === numericNInf) return Decimal.inf.neg();
  // v × 10000^(weight - n + 1)
  const exp4 = weight - n + 1;
  let d = exp4 >= 0 ? new Decimal(v * 10000n ** BigInt(exp4), 0) : new Decimal(v, -exp4 * 4);
  d = d.rescale(dscale);
  return sign === 0x4000 ? d.neg() : d;
}

export function encodeBinary(v: Value, t: SqlType, ctx: ValueContext): Buffer {
  switch (t.kind) {
    case 'bool':
      return Buffer.from([v ? 1 : 0]);
    case 'int2': {
      const b = Buffer.alloc(2);
      b.writeInt16BE(v as number);
      return b;
    }
    case 'int4': {
      const b = Buffer.alloc(4);
      b.writeInt32BE(v as number);
      return b;
    }
    case 'oid':
    case 'regclass':
    case 'regtype':
    case 'regproc': {
      const b = Buffer.alloc(4);
      b.writeUInt32BE((v as number) >>> 0);
      return b;
    }
    case 'int8': {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(v as bigint);
      return b;
    }
    case 'float4': {
      const b = Buffer.alloc(4);
      b.writeFloatBE(v as number);
      return b;
    }
    case 'float8': {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(v as number);
      return b;
    }
    case 'numeric':
      return numericToBinary(v as Decimal);
    case 'bytea':
      return Buffer.from(v as Buffer);
    case 'date': {
      const b = Buffer.alloc(4);
      const n = v as number;
      b.writeInt32BE(n === timestampInfinity ? pgDateNoEnd : n === timestampNegInfinity ? pgDateNoBegin : n - pgEpochDays);
      return b;
    }
    case 'timestamp':
    case 'timestamptz': {
      const b = Buffer.alloc(8);
      const n = v as number;
      b.writeBigInt64BE(n === timestampInfinity ? pgTimestampNoEnd : n === timestampNegInfinity ? pgTimestampNoBegin : BigInt(Math.round(n) - pgEpochMicros));
      return b;
    }
    case 'time': {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(Math.round(v as number)));
      return b;
    }
    case 'interval': {
      const iv = v as { months: number; days: number; micros: number };
      const b = Buffer.alloc(16);
      b.writeBigInt64BE(BigInt(Math.round(iv.micros)), 0);
      b.writeInt32BE(iv.days, 8);
      b.writeInt32BE(iv.months, 12);
      return b;
    }
    case 'uuid':
      return Buffer.from((v as string).replace(/-/g, ''), 'hex');
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name':
      // textsend/bpcharsend: the stored string as it is (char(n) keeps its padding; a cast to
      // text would strip it).
      return Buffer.from(v as string, 'utf8');
    case 'jsonb':
      return Buffer.concat([Buffer.from([1]), Buffer.from(castValue(v, t, { kind: 'text', typmod: -1 }, ctx) as string)]);
    case 'inet':
    case 'cidr':
      return inetToBinary(v as string, t.kind === 'cidr');
    case 'timetz':
      return timeTzToBinary(v as string);
    case 'array': {
      // array_send: ndim, has-nulls flag, element type, (length, lower bound 1) per dimension,
      // then the elements in storage order (types/array_md.ts).
      const dims = arrayDims(v as Value[]);
      const arr = flattenArray(v as Value[]);
      const et = t.elem as SqlType;
      const parts: Buffer[] = [];
      const head = Buffer.alloc(12 + 8 * dims.length);
      head.writeInt32BE(dims.length, 0);
      head.writeInt32BE(arr.some((x) => x === null) ? 1 : 0, 4);
      head.writeUInt32BE(typeOid(et), 8);
      dims.forEach((d, k) => {
        head.writeInt32BE(d, 12 + 8 * k);
        head.writeInt32BE(1, 16 + 8 * k);
      });
      parts.push(head);
      for (const e of arr) {
        const len = Buffer.alloc(4);
        if (e === null) {
          len.writeInt32BE(-1);
          parts.push(len);
          continue;
        }
        const eb = encodeBinary(e, et, ctx);
        len.writeInt32BE(eb.length);
        parts.push(len, eb);
      }
      return Buffer.concat(parts);
    }
    default:
      return Buffer.from(castValue(v, t, { kind: 'text', typmod: -1 }, ctx) as string, 'utf8');
  }
}

/** The size of a type's binary form when it is fixed (0 when it varies). */
export function fixedBinaryBytes(t: SqlType): number {
  switch (t.kind) {
    case 'bool':
      return 1;
    case 'int2':
      return 2;
    case 'int4':
    case 'float4':
    case 'date':
    case 'oid':
    case 'regclass':
    case 'regtype':
    case 'regproc':
      return 4;
    case 'int8':
    case 'float8':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return 8;
    case 'timetz':
      return 12;
    case 'interval':
    case 'uuid':
      return 16;
    default:
      return 0;
  }
}

/** PostgreSQL's MAXDIM. */
const arrayDimensionsMax = 6;

/**
 * array_recv with its checks in its order: dimensions, flags, the element type (which must be the
 * column's: 42804 otherwise), then each element (a length past the data is 22P03 `insufficient
 * data left in message`, an element not consumed whole 22P03 `improper binary format in array
 * element n`). Several dimensions nest (array_md.ts); lower bounds other than 1 are 0A000.
 */
function arrayFromBinary(b: Buffer, t: SqlType): Value {
  const short = () => new PgError(SqlState.ProtocolViolation, 'insufficient data left in message');
  if (b.length < 12) throw short();
  const ndim = b.readInt32BE(0);
  if (ndim < 0) throw new PgError(SqlState.InvalidBinaryRepresentation, `invalid number of dimensions: ${ndim}`);
  if (ndim > arrayDimensionsMax) throw new PgError(SqlState.ProgramLimitExceeded, `number of array dimensions (${ndim}) exceeds the maximum allowed (${arrayDimensionsMax})`);
  const flags = b.readInt32BE(4);
  if (flags !== 0 && flags !== 1) throw new PgError(SqlState.InvalidBinaryRepresentation, 'invalid array flags');
  const elemOid = b.readUInt32BE(8);
  const expected = t.elem as SqlType;
  let et = expected;
  if (expected.kind === 'unknown') et = typeFromOid(elemOid) ?? expected;
  else if (elemOid !== typeOid(expected)) {
    const got = typeFromOid(elemOid);
    throw new PgError(SqlState.DatatypeMismatch, `binary data has array element type ${elemOid} (${got ? formatType(got) : '???'}) instead of expected ${typeOid(expected)} (${formatType(expected)})`);
  }
  if (ndim === 0) return [];
  if (b.length < 12 + 8 * ndim) throw short();
  const dims: number[] = [];
  let n = 1;
  for (let k = 0; k < ndim; k++) {
    const len = b.readInt32BE(12 + 8 * k);
    const lb = b.readInt32BE(16 + 8 * k);
    if (len < 0) throw new PgError(SqlState.InvalidBinaryRepresentation, 'invalid array dimensions');
    if (lb !== 1 && len > 0) throw new PgError(SqlState.FeatureNotSupported, 'array lower bounds other than 1 are not supported');
    dims.push(len);
    n *= len;
  }
  // PostgreSQL's ArrayCheckBounds / MaxArraySize (54000).
  if (n > 134217727) throw new PgError(SqlState.ProgramLimitExceeded, 'array size exceeds the maximum allowed (134217727)');
  if (n === 0) return [];
  const fixed = fixedBinaryBytes(et);
  let o = 12 + 8 * ndim;
  const out: Value[] = [];
  for (let i = 0; i < n; i++) {
    if (b.length < o + 4) throw short();
    const len = b.readInt32BE(o);
    o += 4;
    if (len < -1 || len > b.length - o) throw new PgError(SqlState.InvalidBinaryRepresentation, 'insufficient data left in message');
    if (len === -1) {
      out.push(null);
      continue;
    }
    if (fixed > 0 && len < fixed) throw short();
    if (fixed > 0 && len > fixed) throw new PgError(SqlState.InvalidBinaryRepresentation, `improper binary format in array element ${i + 1}`);
    out.push(decodeBinary(b.subarray(o, o + len), et));
    o += len;
  }
  if (o !== b.length) throw new PgError(SqlState.InvalidBinaryRepresentation, 'incorrect binary data format');
  return nestArray(out, dims);
}

export function decodeBinary(b: Buffer, t: SqlType): Value {
  const need = (n: number) => {
    if (b.length !== n) throw new PgError(SqlState.InvalidBinaryRepresentation, `incorrect binary data format in bind parameter (want ${n} bytes for ${t.kind}, got ${b.length})`);
  };
  switch (t.kind) {
    case 'bool':
      need(1);
      return b[0] !== 0;
    case 'int2':
      need(2);
      return b.readInt16BE(0);
    case 'int4':
      need(4);
      return b.readInt32BE(0);
    case 'oid':
    case 'regclass':
    case 'regtype':
      need(4);
      return b.readUInt32BE(0);
    case 'int8':
      need(8);
      return b.readBigInt64BE(0);
    case 'float4':
      need(4);
      return b.readFloatBE(0);
    case 'float8':
      need(8);
      return b.readDoubleBE(0);
    case 'numeric':
      return numericFromBinary(b);
    case 'bytea':
      return Buffer.from(b);
    case 'date': {
      need(4);
      const n = b.readInt32BE(0);
      return n === pgDateNoEnd ? timestampInfinity : n === pgDateNoBegin ? timestampNegInfinity : n + pgEpochDays;
    }
    case 'timestamp':
    case 'timestamptz':
      need(8);
      {
        const n = b.readBigInt64BE(0);
        if (n === pgTimestampNoEnd) return timestampInfinity;
        if (n === pgTimestampNoBegin) return timestampNegInfinity;
        // Timestamps are microseconds in a double: one it cannot hold exactly is out of range.
        const us = Number(n) + pgEpochMicros;
        if (!Number.isSafeInteger(us) || BigInt(us) !== n + BigInt(pgEpochMicros)) throw new PgError(SqlState.DatetimeFieldOverflow, 'timestamp out of range');
        return us;
      }
    case 'time':
      need(8);
      return Number(b.readBigInt64BE(0));
    case 'interval':
      need(16);
      return { micros: Number(b.readBigInt64BE(0)), days: b.readInt32BE(8), months: b.readInt32BE(12) };
    case 'uuid': {
      need(16);
      const h = b.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    case 'json': {
      // json_recv: the text as it is, checked as json_in does (values of json are { json: text }).
      const s = decodeUtf8Strict(b);
      parseJsonb(s, false);
      return { json: s };
    }
    case 'jsonb':
      if (b[0] !== 1) throw new PgError(SqlState.InvalidBinaryRepresentation, 'unsupported jsonb version number');
      return { jsonb: parseJsonb(decodeUtf8Strict(b, 1)) };
    case 'inet':
    case 'cidr':
      return inetFromBinary(b, t.kind === 'cidr');
    case 'timetz':
      return timeTzFromBinary(b);
    case 'array':
      return arrayFromBinary(b, t);
    default:
      return decodeUtf8Strict(b);
  }
}
