/**
 * Interval input as PostgreSQL reads it: datetime.c's DecodeInterval over ParseDateTime's fields
 * (units with fractions cascading into smaller units, "hh:mm:ss" times, "y-m" year-month
 * fields, "ago", unit-less numbers placed by the column's field qualifier), then
 * AdjustIntervalForTypmod for INTERVAL YEAR TO MONTH / DAY TO SECOND(p) and interval(p).
 * Interval typmods are PostgreSQL's: (field mask << 16) | precision, 0x7FFF/0xFFFF for "all".
 */
import { PgError, SqlState } from '@strata/common';
import { SqlStateX } from '../sqlstate.js';
import { parseDateTimeFields } from './datetime_parse.js';

export interface IntervalParts {
  months: number;
  days: number;
  micros: number;
}

/** Field bits of interval typmods (datetime.h). */
export const IMONTH = 1 << 1;
export const IYEAR = 1 << 2;
export const IDAY = 1 << 3;
export const IHOUR = 1 << 10;
export const IMINUTE = 1 << 11;
export const ISECOND = 1 << 12;
export const intervalFullRange = 0x7fff;
export const intervalFullPrecision = 0xffff;

const DTK_NUMBER = 0;
const DTK_STRING = 1;
const DTK_DATE = 2;
const DTK_TIME = 3;
const DTK_TZ = 4;
const DTK_SPECIAL = 6;

type Unit = 'us' | 'ms' | 's' | 'min' | 'h' | 'd' | 'w' | 'mon' | 'y' | 'dec' | 'c' | 'mil' | 'qtr' | 'tz';

/** datetime.c's deltatktbl. */
const units = new Map<string, Unit>();
for (const [u, names] of [
  ['c', 'c cent centuries century'],
  ['d', 'd day days'],
  ['dec', 'dec decade decades decs'],
  ['h', 'h hour hours hr hrs'],
  ['min', 'm min mins minute minutes'],
  ['us', 'microsecon us usec microsecond microseconds useconds usecs'],
  ['mil', 'mil millennia millennium mils'],
  ['ms', 'millisecon ms msec millisecond milliseconds mseconds msecs'],
  ['mon', 'mon mons month months'],
  ['qtr', 'qtr quarter'],
  ['s', 's sec second seconds secs'],
  ['tz', 'timezone timezone_h timezone_m'],
  ['w', 'w week weeks'],
  ['y', 'y year years yr yrs'],
] as const) {
  for (const n of names.split(' ')) units.set(n, u as Unit);
}

const usPerSec = 1_000_000n;
const usPerMin = 60n * usPerSec;
const usPerHour = 60n * usPerMin;
const usPerDay = 24n * usPerHour;
const int32Max = 2147483647;
const int32Min = -2147483648;
const int64Max = 9223372036854775807n;
const int64Min = -9223372036854775808n;

class Overflow {}
class BadFormat {}

interface Itm {
  year: number;
  mon: number;
  mday: number;
  usec: bigint;
}

function add32(a: number, b: number): number {
  const r = a + b;
  if (r > int32Max || r < int32Min) throw new Overflow();
  return r;
}

function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function addUsec(itm: Itm, v: bigint): void {
  const r = itm.usec + v;
  if (r > int64Max || r < int64Min) throw new Overflow();
  itm.usec = r;
}

function adjustFractMicroseconds(frac: number, scale: bigint, itm: Itm): void {
  if (frac === 0) return;
  const f = frac * Number(scale);
  const us = Math.trunc(f);
  addUsec(itm, BigInt(us) + BigInt(rint(f - us)));
}

function adjustFractDays(frac: number, scale: number, itm: Itm): void {
  if (frac === 0) return;
  const f = frac * scale;
  const extra = Math.trunc(f);
  itm.mday = add32(itm.mday, extra);
  adjustFractMicroseconds(f - extra, usPerDay, itm);
}

function adjustFractYears(frac: number, scale: number, itm: Itm): void {
  itm.mon = add32(itm.mon, rint(frac * scale * 12));
}

function adjustMicroseconds(val: bigint, fval: number, scale: bigint, itm: Itm): void {
  addUsec(itm, val * scale);
  adjustFractMicroseconds(fval, scale, itm);
}

function in32(v: bigint): number {
  if (v > BigInt(int32Max) || v < BigInt(int32Min)) throw new Overflow();
  return Number(v);
}

function adjustDays(val: bigint, scale: number, itm: Itm): void {
  const d = in32(val) * scale;
  if (d > int32Max || d < int32Min) throw new Overflow();
  itm.mday = add32(itm.mday, d);
}

function adjustYears(val: bigint, scale: number, itm: Itm): void {
  const y = in32(val) * scale;
  if (y > int32Max || y < int32Min) throw new Overflow();
  itm.year = add32(itm.year, y);
}

/** DecodeTimeForInterval: "hh:mm[:ss[.f]]" (or "mm:ss.f", and "mm:ss" in MINUTE TO SECOND) as microseconds. */
function decodeTime(s: string, range: number): bigint {
  const m = /^(\d+):(\d+)(?::(\d+))?(\.\d*)?$/.exec(s);
  if (!m) throw new BadFormat();
  let hour = BigInt(m[1] as string);
  let min = Number(m[2]);
  let sec = m[3] !== undefined ? Number(m[3]) : 0;
  const fracText = m[4];
  const fsec = fracText === undefined || fracText === '.' ? 0 : rint(Number(fracText) * 1_000_000);
  if (m[3] === undefined && (fracText !== undefined || range === (IMINUTE | ISECOND))) {
    if (hour > BigInt(int32Max)) throw new Overflow();
    sec = min;
    min = Number(hour);
    hour = 0n;
  }
  if (min > 59 || sec > 60 || fsec > 1_000_000) throw new Overflow();
  return hour * usPerHour + BigInt(min) * usPerMin + BigInt(sec) * usPerSec + BigInt(fsec);
}

/** The unit a unit-less number takes under a field qualifier (DecodeInterval's `range` switch). */
function defaultUnit(range: number): Unit {
  switch (range) {
    case IYEAR:
      return 'y';
    case IMONTH:
    case IYEAR | IMONTH:
      return 'mon';
    case IDAY:
      return 'd';
    case IHOUR:
    case IDAY | IHOUR:
      return 'h';
    case IMINUTE:
    case IHOUR | IMINUTE:
    case IDAY | IHOUR | IMINUTE:
      return 'min';
    default:
      return 's';
  }
}

/**
 * DecodeInterval's field bits (datetime.h's DTK_M): a field may be given once, so '1 day 1 day'
 * and '1:20:05 5 microseconds' are 22007 as in PostgreSQL.
 */
const F: Record<Unit, number> = { y: 1 << 0, mon: 1 << 1, d: 1 << 2, h: 1 << 3, min: 1 << 4, s: 1 << 5, ms: 1 << 6, us: 1 << 7, w: 1 << 8, dec: 1 << 9, c: 1 << 10, mil: 1 << 11, qtr: 1 << 12, tz: 1 << 13 };
const allSecsMask = F.s | F.ms | F.us;
const timeMask = F.h | F.min | allSecsMask;

function decodeFields(fields: string[], ftypes: number[], range: number, sqlStandard: boolean): Itm {
  const itm: Itm = { year: 0, mon: 0, mday: 0, usec: 0n };
  // IntervalStyle sql_standard: a leading '-' with no other signs negates every field.
  const forceNegative = sqlStandard && fields.length > 0 && (fields[0] as string).startsWith('-') && !fields.slice(1).some((f) => f.startsWith('-') || f.startsWith('+'));
  let type: Unit | null = null;
  let isBefore = false;
  let any = false;
  let fmask = 0;
  const mark = (tmask: number) => {
    if (tmask & fmask) throw new BadFormat();
    fmask |= tmask;
  };
  for (let i = fields.length - 1; i >= 0; i--) {
    const f = fields[i] as string;
    let ft = ftypes[i];
    if (ft === DTK_TIME) {
      mark(timeMask);
      const t = decodeTime(f, range);
      addUsec(itm, forceNegative && t > 0n ? -t : t);
      type = 'd';
      any = true;
      continue;
    }
    if (ft === DTK_TZ) {
      // A signed field: "+02:03" is a time, anything else a signed number.
      if (f.slice(1).includes(':')) {
        let t: bigint | null = null;
        try {
          t = decodeTime(f.slice(1), range);
        } catch (e) {
          if (!(e instanceof BadFormat)) throw e;
        }
        if (t !== null) {
          mark(timeMask);
          if (f[0] === '-') t = -t;
          addUsec(itm, forceNegative && t > 0n ? -t : t);
          type = 'd';
          any = true;
          continue;
        }
      }
      ft = DTK_NUMBER;
    }
    if (ft === DTK_DATE || ft === DTK_NUMBER) {
      type ??= defaultUnit(range);
      const m = /^([+-]?\d+)(.*)$/.exec(f);
      if (!m) throw new BadFormat();
      let val = BigInt(m[1] as string);
      if (val > int64Max || val < int64Min) throw new Overflow();
      const rest = m[2] as string;
      let fval = 0;
      let unit: Unit = type;
      if (rest.startsWith('-')) {
        // "y-m": years and months.
        const mm = /^-(\d+)$/.exec(rest);
        if (!mm) throw new BadFormat();
        let v2 = Number(mm[1]);
        if (v2 >= 12) throw new Overflow();
        unit = 'mon';
        if (f.startsWith('-')) v2 = -v2;
        val = val * 12n + BigInt(v2);
      } else if (rest.startsWith('.')) {
        if (!/^\.\d*$/.test(rest)) throw new BadFormat();
        fval = rest === '.' ? 0 : Number(rest);
        if (f.startsWith('-')) fval = -fval;
      } else if (rest !== '') throw new BadFormat();
      if (forceNegative) {
        if (val > 0n) val = -val;
        if (fval > 0) fval = -fval;
      }
      // Seconds with a fraction also stand for the milli- and microseconds.
      mark(unit === 's' && fval !== 0 ? allSecsMask : F[unit]);
      switch (unit) {
        case 'us':
          adjustMicroseconds(val, fval, 1n, itm);
          break;
        case 'ms':
          adjustMicroseconds(val, fval, 1000n, itm);
          break;
        case 's':
          adjustMicroseconds(val, fval, usPerSec, itm);
          break;
        case 'min':
          adjustMicroseconds(val, fval, usPerMin, itm);
          break;
        case 'h':
          adjustMicroseconds(val, fval, usPerHour, itm);
          type = 'd';
          break;
        case 'd':
          adjustDays(val, 1, itm);
          adjustFractMicroseconds(fval, usPerDay, itm);
          break;
        case 'w':
          adjustDays(val, 7, itm);
          adjustFractDays(fval, 7, itm);
          break;
        case 'mon':
          itm.mon = add32(itm.mon, in32(val));
          adjustFractDays(fval, 30, itm);
          break;
        case 'y':
          adjustYears(val, 1, itm);
          adjustFractYears(fval, 1, itm);
          break;
        case 'dec':
          adjustYears(val, 10, itm);
          adjustFractYears(fval, 10, itm);
          break;
        case 'c':
          adjustYears(val, 100, itm);
          adjustFractYears(fval, 100, itm);
          break;
        case 'mil':
          adjustYears(val, 1000, itm);
          adjustFractYears(fval, 1000, itm);
          break;
        default:
          throw new BadFormat();
      }
      any = true;
      continue;
    }
    if (ft === DTK_STRING || ft === DTK_SPECIAL) {
      if (f === '@') continue;
      if (f === 'ago') {
        isBefore = true;
        continue;
      }
      const u = units.get(f);
      if (!u) throw new BadFormat();
      type = u;
      continue;
    }
    throw new BadFormat();
  }
  if (!any) throw new BadFormat();
  if (isBefore) {
    itm.usec = -itm.usec;
    itm.mday = -itm.mday;
    itm.mon = -itm.mon;
    itm.year = -itm.year;
  }
  return itm;
}

/** ISO 8601 "P…" durations (format with designators), DecodeISO8601Interval's common form. */
function decodeIso(s: string): Itm | null {
  const m =
    /^P(?:([-+]?[\d.]+)Y)?(?:([-+]?[\d.]+)M)?(?:([-+]?[\d.]+)W)?(?:([-+]?[\d.]+)D)?(?:T(?:([-+]?[\d.]+)H)?(?:([-+]?[\d.]+)M)?(?:([-+]?[\d.]+)S)?)?$/.exec(
      s,
    );
  if (!m || s === 'P' || s.endsWith('T')) return null;
  const itm: Itm = { year: 0, mon: 0, mday: 0, usec: 0n };
  const num = (x: string | undefined): [bigint, number] => {
    if (x === undefined) return [0n, 0];
    if (!/^[-+]?\d*(\.\d*)?$/.test(x)) throw new BadFormat();
    const [ip, fp] = x.split('.') as [string, string | undefined];
    const iv = ip === '' || ip === '-' || ip === '+' ? 0n : BigInt(ip);
    let fv = fp ? Number('0.' + fp) : 0;
    if (x.startsWith('-')) fv = -fv;
    return [iv, fv];
  };
  let [v, f] = num(m[1]);
  adjustYears(v, 1, itm);
  adjustFractYears(f, 1, itm);
  [v, f] = num(m[2]);
  itm.mon = add32(itm.mon, in32(v));
  adjustFractDays(f, 30, itm);
  [v, f] = num(m[3]);
  adjustDays(v, 7, itm);
  adjustFractDays(f, 7, itm);
  [v, f] = num(m[4]);
  adjustDays(v, 1, itm);
  adjustFractMicroseconds(f, usPerDay, itm);
  [v, f] = num(m[5]);
  adjustMicroseconds(v, f, usPerHour, itm);
  [v, f] = num(m[6]);
  adjustMicroseconds(v, f, usPerMin, itm);
  [v, f] = num(m[7]);
  adjustMicroseconds(v, f, usPerSec, itm);
  return itm;
}

/** interval_in: text → interval under an optional typmod. */
export function decodeInterval(s: string, typmod = -1, sqlStandard = false): IntervalParts {
  const range = typmod >= 0 ? (typmod >> 16) & 0x7fff : intervalFullRange;
  let itm: Itm | null = null;
  try {
    try {
      const { fields, ftypes } = parseDateTimeFields(s);
      itm = decodeFields(fields, ftypes, range, sqlStandard);
    } catch (e) {
      // Overflows and PostgreSQL errors stand; any format error tries ISO 8601 next.
      if (e instanceof Overflow || e instanceof PgError) throw e;
    }
    itm ??= decodeIso(s.trim());
  } catch (e) {
    if (e instanceof Overflow)
      throw new PgError(SqlStateX.IntervalFieldOverflow, `interval field value out of range: "${s}"`);
    if (!(e instanceof BadFormat)) throw e;
  }
  if (itm === null)
    throw new PgError(SqlState.InvalidDatetimeFormat, `invalid input syntax for type interval: "${s}"`);
  const months = itm.year * 12 + itm.mon;
  if (months > int32Max || months < int32Min || itm.usec > int64Max || itm.usec < int64Min)
    throw new PgError(SqlState.DatetimeFieldOverflow, 'interval out of range');
  // The time part is held in a double: exact within ±2^53 µs (about 285 years). A value it cannot
  // hold exactly is refused rather than kept slightly wrong (as timestamps are).
  // (Exactly held powers of two beyond 2^53, such as -2^63, are refused too: arithmetic on them
  // and their output are not exact.)
  const micros = Number(itm.usec);
  if (!Number.isSafeInteger(micros) || BigInt(micros) !== itm.usec)
    throw new PgError(SqlState.DatetimeFieldOverflow, 'interval out of range', { detail: 'Strata cannot hold this interval\'s time part exactly (microseconds in a double).' });
  return adjustIntervalForTypmod({ months, days: itm.mday, micros }, typmod);
}

const intervalScales = [1_000_000, 100_000, 10_000, 1000, 100, 10, 1];

/** AdjustIntervalForTypmod: drop fields below the qualifier, round seconds to the precision. */
export function adjustIntervalForTypmod(iv: IntervalParts, typmod: number): IntervalParts {
  if (typmod < 0) return iv;
  const range = (typmod >> 16) & 0x7fff;
  const precision = typmod & 0xffff;
  let { months, days, micros } = iv;
  const hour = 3_600_000_000;
  const minute = 60_000_000;
  const trunc = (x: number, u: number) => Math.trunc(x / u) * u;
  if (range === intervalFullRange) {
    // nothing to drop
  } else if (range === IYEAR) {
    months = Math.trunc(months / 12) * 12;
    days = 0;
    micros = 0;
  } else if (range === IMONTH || range === (IYEAR | IMONTH)) {
    days = 0;
    micros = 0;
  } else if (range === IDAY) micros = 0;
  else if (range === IHOUR || range === (IDAY | IHOUR)) micros = trunc(micros, hour);
  else if (range === IMINUTE || range === (IDAY | IHOUR | IMINUTE) || range === (IHOUR | IMINUTE))
    micros = trunc(micros, minute);
  if (precision !== intervalFullPrecision) {
    if (precision > 6)
      throw new PgError(
        SqlState.InvalidParameterValue,
        `interval(${precision}) precision must be between 0 and 6`,
      );
    const sc = intervalScales[precision] as number;
    const off = Math.trunc(sc / 2);
    micros = micros >= 0 ? Math.trunc((micros + off) / sc) * sc : -Math.trunc((-micros + off) / sc) * sc;
  }
  return { months, days, micros };
}
