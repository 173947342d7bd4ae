/**
 * The fast field parsers of COPY into a TS table and of the prepared-INSERT Bind path: a field of a
 * common shape (plain decimal integers, plain decimal float8, ISO timestamps with an offset, the
 * fixed-size binary forms) is pushed straight into a command column; anything else returns false
 * and takes the general path (parseValue, assignValue), so these decide only speed, never the
 * value or the error. Pure and free of the SQL layer's runtime (type imports only), so the COPY
 * worker threads (copy_worker.ts) load them without the catalog or the executor.
 */
import type { ColumnBuilder } from '@strata/ts';
import type { ColumnDesc } from './catalog/descriptors.js';

export type FieldParser = (b: ColumnBuilder, f: string) => boolean;
/** Pushes a binary field data[at, at + len) when it has the common shape; false: take the general path. */
export type BinaryFieldParser = (b: ColumnBuilder, data: Buffer, at: number, len: number) => boolean;

/** The fast path for a column's type, or null when every field takes the general one. */
export function fastParser(c: Pick<ColumnDesc, 'type'>): FieldParser | null {
  const t = c.type;
  switch (t.kind) {
    case 'int8':
      return (b, f) => {
        if (!plainInteger(f)) return false;
        b.pushNumber(Number(f));
        return true;
      };
    case 'int4':
    case 'int2': {
      const bound = t.kind === 'int4' ? 2147483648 : 32768;
      return (b, f) => {
        if (!plainInteger(f)) return false;
        const n = Number(f);
        if (n >= bound || n < -bound) return false; // out of range: the general path says so
        b.pushNumber(n);
        return true;
      };
    }
    case 'float8':
      return (b, f) => {
        if (!plainDecimal.test(f)) return false;
        b.pushNumber(Number(f));
        return true;
      };
    case 'timestamptz':
    case 'timestamp': {
      const digits = t.typmod < 0 ? 6 : t.typmod;
      const withZone = t.kind === 'timestamptz';
      return (b, f) => {
        const us = isoMicros(f, digits, withZone);
        if (us === null) return false;
        b.pushNumber(us);
        return true;
      };
    }
    default:
      return null;
  }
}

const twoTo32 = 4_294_967_296;
/** 2000-01-01 (PostgreSQL's binary timestamp epoch) in µs since 1970. */
const pgEpochMicros = 946_684_800_000_000;

/**
 * The binary fast path for a column's type, or null when every field takes the general one. An
 * int64 whose high word is within ±2^21 is a safe integer, so it needs no BigInt; a timestamp
 * must also stay a safe integer after the epoch shift (and not be ±infinity, the safe extremes).
 */
export function fastBinaryParser(c: Pick<ColumnDesc, 'type'>): BinaryFieldParser | null {
  const t = c.type;
  switch (t.kind) {
    case 'int8':
      return (b, d, at, len) => {
        if (len !== 8) return false;
        const hi = d.readInt32BE(at);
        if (hi >= 0x200000 || hi < -0x200000) return false;
        b.pushNumber(hi * twoTo32 + d.readUInt32BE(at + 4));
        return true;
      };
    case 'int4':
      return (b, d, at, len) => {
        if (len !== 4) return false;
        b.pushNumber(d.readInt32BE(at));
        return true;
      };
    case 'int2':
      return (b, d, at, len) => {
        if (len !== 2) return false;
        b.pushNumber(d.readInt16BE(at));
        return true;
      };
    case 'float8':
      return (b, d, at, len) => {
        if (len !== 8) return false;
        b.pushNumber(d.readDoubleBE(at));
        return true;
      };
    case 'timestamptz':
    case 'timestamp': {
      if (t.typmod >= 0 && t.typmod < 6) return null; // rounding to the column's precision: the general path
      return (b, d, at, len) => {
        if (len !== 8) return false;
        const hi = d.readInt32BE(at);
        if (hi >= 0x100000 || hi < -0x100000) return false;
        b.pushNumber(hi * twoTo32 + d.readUInt32BE(at + 4) + pgEpochMicros);
        return true;
      };
    }
    default:
      return null;
  }
}

/** An optional '-' then 1–15 decimal digits: exact as a double, no BigInt needed. */
function plainInteger(f: string): boolean {
  const n = f.length;
  let i = f.charCodeAt(0) === 45 ? 1 : 0;
  if (n === i || n - i > 15) return false;
  for (; i < n; i++) {
    const d = f.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
  }
  return true;
}

const plainDecimal = /^-?\d{1,15}(\.\d{1,15})?$/;

const isoTimestamp = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:(Z)|([+-])(\d\d)(?::?(\d\d))?)?$/;
const daysIn = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Microseconds since the epoch of a plain ISO timestamp, or null when the text needs the general
 * parser: another shape, a field out of range, more fraction digits than the column keeps, a
 * TIMESTAMPTZ without an offset (the session time zone applies) or a TIMESTAMP with one.
 */
export function isoMicros(f: string, fractionDigits: number, withZone: boolean): number | null {
  const m = isoTimestamp.exec(f);
  if (!m) return null;
  const hasZone = m[8] !== undefined || m[9] !== undefined;
  if (hasZone !== withZone) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const min = Number(m[5]);
  const sec = Number(m[6]);
  const frac = m[7] ?? '';
  // Date.UTC reads years 0–99 as 1900–1999: those take the general path.
  if (frac.length > fractionDigits || year < 1000 || month < 1 || month > 12 || day < 1 || hour > 23 || min > 59 || sec > 59) return null;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (daysIn[month - 1] as number) + (month === 2 && leap ? 1 : 0)) return null;
  let offsetMin = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11] ?? '0');
    if (oh > 15 || om > 59) return null;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Date.UTC(year, month - 1, day, hour, min, sec) - offsetMin * 60_000;
  const us = frac === '' ? 0 : Number(frac.padEnd(6, '0'));
  return ms * 1000 + us;
}
