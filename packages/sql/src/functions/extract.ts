/**
 * EXTRACT(field FROM v) and date_part(field, v), as PostgreSQL 15's timestamp_part_common,
 * timestamptz_part_common, extract_date and interval_part_common: the unit name is decoded the
 * way PostgreSQL decodes it (DecodeUnits over deltatktbl, then DecodeSpecial over datetktbl, both
 * comparing at most TOKMAXLEN = 10 characters), so every alias it takes is taken here and an
 * unknown name is 22023 while a known unit the type lacks is 0A000. Infinite dates and timestamps
 * give ±Infinity for the units that grow with time and NULL for the others.
 */
import { PgError, SqlState } from '@strata/common';
import { Decimal } from '../types/numeric.js';
import { civilFromDays, daysFromCivil, isInfiniteDateTime, localParts, timestampInfinity, usPerDay, usPerHour, usPerMin, usPerSec } from '../types/datetime.js';
import type { Interval } from '../types/datetime.js';
import { formatType } from '../types/types.js';
import type { SqlType, Value } from '../types/types.js';

/** The units EXTRACT knows. */
export type DateUnit =
  | 'microseconds'
  | 'milliseconds'
  | 'second'
  | 'minute'
  | 'hour'
  | 'day'
  | 'week'
  | 'month'
  | 'quarter'
  | 'year'
  | 'decade'
  | 'century'
  | 'millennium'
  | 'julian'
  | 'isoyear'
  | 'dow'
  | 'isodow'
  | 'doy'
  | 'epoch'
  | 'timezone'
  | 'timezone_hour'
  | 'timezone_minute';

/** PostgreSQL's TOKMAXLEN: tokens are compared on at most this many characters. */
const tokenCharsMax = 10;

/** deltatktbl's UNITS entries (DecodeUnits), then datetktbl's (DecodeSpecial) that deltatktbl lacks. */
const unitNames = new Map<string, DateUnit>();
for (const [unit, names] of [
  ['century', ['c', 'cent', 'centuries', 'century']],
  ['day', ['d', 'day', 'days']],
  ['decade', ['dec', 'decade', 'decades', 'decs']],
  ['hour', ['h', 'hour', 'hours', 'hr', 'hrs']],
  ['minute', ['m', 'min', 'mins', 'minute', 'minutes']],
  ['microseconds', ['microsecon', 'us', 'usec', 'usecond', 'useconds', 'usecs']],
  ['millennium', ['mil', 'millennia', 'millennium', 'mils']],
  ['milliseconds', ['millisecon', 'ms', 'msec', 'msecond', 'mseconds', 'msecs']],
  ['month', ['mon', 'mons', 'month', 'months']],
  ['quarter', ['qtr', 'quarter']],
  ['second', ['s', 'sec', 'second', 'seconds', 'secs']],
  ['timezone', ['timezone']],
  ['timezone_hour', ['timezone_h']],
  ['timezone_minute', ['timezone_m']],
  ['week', ['w', 'week', 'weeks']],
  ['year', ['y', 'year', 'years', 'yr', 'yrs']],
  // datetktbl
  ['dow', ['dow']],
  ['doy', ['doy']],
  ['isodow', ['isodow']],
  ['isoyear', ['isoyear']],
  ['julian', ['j', 'jd', 'julian']],
  ['epoch', ['epoch']],
] as [DateUnit, string[]][]) {
  for (const n of names) unitNames.set(n, unit);
}

/** The unit a name stands for (lower-cased, compared on its first 10 characters), or null. */
export function decodeDateUnit(name: string): DateUnit | null {
  return unitNames.get(name.toLowerCase().slice(0, tokenCharsMax)) ?? null;
}

function notRecognized(name: string, t: SqlType): PgError {
  return new PgError(SqlState.InvalidParameterValue, `unit "${name.toLowerCase()}" not recognized for type ${formatType(t)}`);
}
function notSupported(name: string, t: SqlType): PgError {
  return new PgError(SqlState.FeatureNotSupported, `unit "${name.toLowerCase()}" not supported for type ${formatType(t)}`);
}

/** Units whose value keeps growing with time: ±Infinity for an infinite input (NonFiniteTimestampTzPart). */
const monotonicUnits = new Set<DateUnit>(['year', 'decade', 'century', 'millennium', 'julian', 'isoyear', 'epoch']);

/** ISO 8601 week-numbering year (proleptic) of a day count since 1970-01-01: the year of its week's Thursday. */
function isoYearOfDays(days: number): number {
  const dowMon = (((days + 3) % 7) + 7) % 7; // 0 = Monday
  return civilFromDays(days - dowMon + 3)[0];
}

/** EXTRACT's numeric value, or null (an infinite input's oscillating units). */
export function extractField(field: string, v: Value, t: SqlType, tz: string): Decimal | null {
  const unit = decodeDateUnit(field);
  if (t.kind === 'interval') return extractInterval(field, unit, v as Interval, t);
  if (unit === null) throw notRecognized(field, t);
  if (t.kind === 'date') {
    if (['hour', 'minute', 'second', 'milliseconds', 'microseconds', 'timezone', 'timezone_hour', 'timezone_minute'].includes(unit)) throw notSupported(field, t);
  } else if (t.kind === 'time') {
    if (!['hour', 'minute', 'second', 'milliseconds', 'microseconds', 'epoch'].includes(unit)) throw notSupported(field, t);
  } else if (t.kind === 'timestamp') {
    if (unit === 'timezone' || unit === 'timezone_hour' || unit === 'timezone_minute') throw notSupported(field, t);
  }
  if (t.kind !== 'time' && isInfiniteDateTime(v)) {
    if (monotonicUnits.has(unit)) return v === timestampInfinity ? Decimal.inf : Decimal.inf.neg();
    return null;
  }
  let us: number;
  let zone: string | null = null;
  if (t.kind === 'date') us = (v as number) * usPerDay;
  else if (t.kind === 'time') us = v as number;
  else {
    us = v as number;
    if (t.kind === 'timestamptz') zone = tz;
  }
  if (unit === 'epoch') {
    if (t.kind === 'date') return Decimal.fromInt((v as number) * 86400);
    return Decimal.parse((us / usPerSec).toFixed(6)).rescale(6);
  }
  const p = localParts(us, zone);
  const days = daysFromCivil(p.y, p.m, p.d);
  // Proleptic years (0 = 1 BC) to AD/BC numbering, with C's truncating division (timestamp_part).
  const y = p.y;
  const tdiv = (a: number, b: number) => Math.trunc(a / b);
  switch (unit) {
    case 'year':
      return Decimal.fromInt(y > 0 ? y : y - 1);
    case 'month':
      return Decimal.fromInt(p.m);
    case 'day':
      return Decimal.fromInt(p.d);
    case 'hour':
      return Decimal.fromInt(Math.floor(p.tod / usPerHour));
    case 'minute':
      return Decimal.fromInt(Math.floor(p.tod / usPerMin) % 60);
    case 'second':
      return Decimal.parse(((p.tod % usPerMin) / usPerSec).toFixed(6)).rescale(6);
    case 'milliseconds':
      return Decimal.parse(((p.tod % usPerMin) / 1000).toFixed(3)).rescale(3);
    case 'microseconds':
      return Decimal.fromInt(p.tod % usPerMin);
    case 'dow':
      return Decimal.fromInt((((days + 4) % 7) + 7) % 7);
    case 'isodow':
      return Decimal.fromInt(((((days + 4) % 7) + 7) % 7) || 7);
    case 'doy':
      return Decimal.fromInt(days - daysFromCivil(p.y, 1, 1) + 1);
    case 'quarter':
      return Decimal.fromInt(Math.floor((p.m - 1) / 3) + 1);
    case 'week': {
      const dowMon = (((days + 3) % 7) + 7) % 7;
      const thursday = days - dowMon + 3;
      const [ty] = civilFromDays(thursday);
      return Decimal.fromInt(Math.floor((thursday - daysFromCivil(ty, 1, 1)) / 7) + 1);
    }
    case 'isoyear': {
      const iy = isoYearOfDays(days);
      return Decimal.fromInt(iy > 0 ? iy : iy - 1);
    }
    case 'decade':
      return Decimal.fromInt(y >= 0 ? tdiv(y, 10) : -tdiv(8 - (y - 1), 10));
    case 'century':
      return Decimal.fromInt(y > 0 ? tdiv(y + 99, 100) : -tdiv(99 - (y - 1), 100));
    case 'millennium':
      return Decimal.fromInt(y > 0 ? tdiv(y + 999, 1000) : -tdiv(999 - (y - 1), 1000));
    case 'julian':
      if (t.kind === 'date') return Decimal.fromInt(days + 2440588);
      // timestamp_part_common: the Julian day plus the fraction of the day, a numeric quotient.
      return Decimal.fromInt(days + 2440588).add(Decimal.fromInt(p.tod).div(Decimal.fromInt(usPerDay)));
    case 'timezone':
      return Decimal.fromInt(p.off);
    case 'timezone_hour':
      return Decimal.fromInt(tdiv(p.off, 3600));
    case 'timezone_minute':
      return Decimal.fromInt(tdiv(p.off, 60) % 60);
    default:
      throw notSupported(field, t);
  }
}

/** interval_part_common. */
function extractInterval(field: string, unit: DateUnit | null, iv: Interval, t: SqlType): Decimal {
  if (unit === null) throw notRecognized(field, t);
  const tdiv = (a: number, b: number) => Math.trunc(a / b);
  const years = tdiv(iv.months, 12);
  switch (unit) {
    case 'epoch': {
      // interval_part: days as 24 hours, months as 30 days, years as 365.25 days.
      const secs =
        (BigInt(years) * 31557600n + BigInt(iv.months % 12) * 30n * 86400n + BigInt(iv.days) * 86400n) * 1_000_000n + BigInt(iv.micros);
      return Decimal.parse(microsToDecimalText(secs)).rescale(6);
    }
    case 'year':
      return Decimal.fromInt(years);
    case 'month':
      return Decimal.fromInt(iv.months % 12);
    case 'day':
      return Decimal.fromInt(iv.days);
    case 'hour':
      return Decimal.fromInt(tdiv(iv.micros, usPerHour));
    case 'minute':
      return Decimal.fromInt(tdiv(iv.micros, usPerMin) % 60);
    case 'second':
      return Decimal.parse(microsToDecimalText(BigInt(iv.micros % usPerMin))).rescale(6);
    case 'milliseconds':
      return Decimal.parse(microsToDecimalText(BigInt(iv.micros % usPerMin) * 1000n)).rescale(3);
    case 'microseconds':
      return Decimal.fromInt(iv.micros % usPerMin);
    case 'quarter':
      return Decimal.fromInt(tdiv(iv.months % 12, 3) + 1);
    case 'decade':
      return Decimal.fromInt(tdiv(years, 10));
    case 'century':
      return Decimal.fromInt(tdiv(years, 100));
    case 'millennium':
      return Decimal.fromInt(tdiv(years, 1000));
    default:
      throw notSupported(field, t);
  }
}

/** A count of millionths as exact decimal text ("-1.500000"). */
function microsToDecimalText(n: bigint): string {
  const neg = n < 0n;
  const a = neg ? -n : n;
  return `${neg ? '-' : ''}${a / 1_000_000n}.${String(a % 1_000_000n).padStart(6, '0')}`;
}
