/**
 * make_timestamp, make_timestamptz, make_time and date_bin, as PostgreSQL 15's
 * make_timestamp_internal, make_timestamptz_at_timezone (parse_sane_timezone), make_time and
 * timestamp_bin: the same field checks, the same errors and messages. Microseconds are computed
 * exactly (bigint) and refused when a double cannot hold them, as timestamp input is.
 */
import { PgError, SqlState } from '@strata/common';
import { isInfiniteDateTime, printfG, usPerDay, usPerSec, zoneArgOffsetForLocal } from '../types/datetime.js';
import type { Interval } from '../types/datetime.js';
import { date2j } from '../types/datetime_parse.js';
import { T } from '../types/types.js';
import { def } from './registry.js';

const unixEpochJulian = 2440588;
/** IS_VALID_TIMESTAMP: 4714-11-24 BC 00:00 (Julian day 0) ≤ t < 294277-01-01 00:00, in µs since 1970. */
const timestampMinMicros = -BigInt(unixEpochJulian) * 86_400_000_000n;
const timestampEndMicros = BigInt(109203528 - unixEpochJulian) * 86_400_000_000n;

/** C's "%02g": printf %g, zero-padded to two characters. */
function g02(x: number): string {
  const s = printfG(x);
  if (s.length >= 2 || !/^\d$/.test(s)) return s;
  return '0' + s;
}

const dayTab = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

/** float_time_overflows. */
function timeOverflows(hour: number, min: number, sec: number): boolean {
  if (hour < 0 || hour > 24 || min < 0 || min >= 60) return true;
  if (Number.isNaN(sec)) return true;
  const us = Math.round(sec * usPerSec);
  if (us < 0 || us > 60 * usPerSec) return true;
  return ((hour * 60 + min) * 60) * usPerSec + us > usPerDay;
}

/** C's rint(): round half to even. */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** make_timestamp_internal: local date and time fields → µs since 1970 (a timestamp without zone). */
export function makeTimestamp(year: number, month: number, day: number, hour: number, min: number, sec: number): number {
  let y = year;
  const bc = y < 0;
  if (bc) y = -y;
  const fieldOverflow = () => new PgError(SqlState.DatetimeFieldOverflow, `date field value out of range: ${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`);
  // ValidateDate(DTK_DATE_M, …): no year 0, BC years to proleptic, month and day in range.
  if (y <= 0) throw fieldOverflow();
  if (bc) y = -(y - 1);
  if (month < 1 || month > 12 || day < 1 || day > 31) throw fieldOverflow();
  if (day > (month === 2 && isLeap(y) ? 29 : (dayTab[month - 1] as number))) throw fieldOverflow();
  if (!((y > -4713 || (y === -4713 && month >= 11)) && (y < 5874898 || (y === 5874898 && month < 6)))) {
    throw new PgError(SqlState.DatetimeFieldOverflow, `date out of range: ${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`);
  }
  const tsLabel = () => `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')} ${hour}:${String(min).padStart(2, '0')}:${g02(sec)}`;
  if (timeOverflows(hour, min, sec)) throw new PgError(SqlState.DatetimeFieldOverflow, `time field value out of range: ${hour}:${String(min).padStart(2, '0')}:${g02(sec)}`);
  const days = BigInt(date2j(y, month, day) - unixEpochJulian);
  const exact = days * 86_400_000_000n + BigInt((hour * 60 + min) * 60) * 1_000_000n + BigInt(rint(sec * usPerSec));
  if (exact < timestampMinMicros || exact >= timestampEndMicros) throw new PgError(SqlState.DatetimeFieldOverflow, `timestamp out of range: ${tsLabel()}`);
  const us = Number(exact);
  if (BigInt(us) !== exact) throw new PgError(SqlState.DatetimeFieldOverflow, `timestamp out of range: ${tsLabel()}`, { detail: 'Strata cannot hold this timestamp exactly (microseconds in a double).' });
  return us;
}

/** DecodeTimezone: "+h", "+hh:mm[:ss]", "+hhmm[ss]" → seconds EAST of UTC; 'format' or 'overflow' when it is not one. */
function decodeNumericZone(s: string): number | 'format' | 'overflow' {
  if (s[0] !== '+' && s[0] !== '-') return 'format';
  const m = /^[+-](\d*)(?::(\d*)(?::(\d*))?)?$/.exec(s);
  if (!m || m[1] === '') return 'format';
  let hr = Number(m[1]);
  let mn = 0;
  let sec = 0;
  if (m[2] !== undefined) {
    mn = Number(m[2] || '0');
    sec = Number(m[3] ?? '0');
  } else if (s.length > 3) {
    // hhmm or hhmmss packed in one number
    if (s.length - 1 > 4) {
      sec = hr % 100;
      hr = Math.trunc(hr / 100);
    }
    mn = hr % 100;
    hr = Math.trunc(hr / 100);
  }
  if (hr < 0 || hr > 15 || mn < 0 || mn >= 60 || sec < 0 || sec >= 60) return 'overflow';
  const east = (hr * 3600 + mn * 60 + sec) * (s[0] === '-' ? -1 : 1);
  return east;
}

/** parse_sane_timezone: the zone's offset, seconds east of UTC, for the local time `local`. */
function saneZoneOffset(zone: string, local: number): number {
  if (/^\d/.test(zone)) {
    throw new PgError(SqlState.InvalidParameterValue, `invalid input syntax for type numeric time zone: "${zone}"`, {
      hint: 'Numeric time zones must have "-" or "+" as first character.',
    });
  }
  const n = decodeNumericZone(zone);
  if (n === 'overflow') throw new PgError(SqlState.InvalidParameterValue, `numeric time zone "${zone}" out of range`);
  if (n !== 'format') return n;
  return zoneArgOffsetForLocal(zone, local);
}

const i4 = T.int4;
const f8 = T.float8;
const num = (v: unknown) => v as number;

def('make_timestamp', {
  args: [i4, i4, i4, i4, i4, f8],
  result: T.timestamp,
  fn: ([y, mo, d, h, mi, s]) => makeTimestamp(num(y), num(mo), num(d), num(h), num(mi), num(s)),
});
def(
  'make_timestamptz',
  {
    args: [i4, i4, i4, i4, i4, f8],
    result: T.timestamptz,
    fn: ([y, mo, d, h, mi, s], ctx) => {
      const local = makeTimestamp(num(y), num(mo), num(d), num(h), num(mi), num(s));
      return local - zoneArgOffsetForLocal(ctx.vctx.timeZone, local) * usPerSec;
    },
  },
  {
    args: [i4, i4, i4, i4, i4, f8, T.text],
    result: T.timestamptz,
    fn: ([y, mo, d, h, mi, s, z]) => {
      const local = makeTimestamp(num(y), num(mo), num(d), num(h), num(mi), num(s));
      return local - saneZoneOffset(z as string, local) * usPerSec;
    },
  },
);
def('make_time', {
  args: [i4, i4, f8],
  result: T.time,
  fn: ([h, mi, s]) => {
    const [hour, min, sec] = [num(h), num(mi), num(s)];
    if (timeOverflows(hour, min, sec)) throw new PgError(SqlState.DatetimeFieldOverflow, `time field value out of range: ${hour}:${String(min).padStart(2, '0')}:${g02(sec)}`);
    return ((hour * 60 + min) * 60) * usPerSec + rint(sec * usPerSec);
  },
});

/** timestamp_bin / timestamptz_bin: the start of the stride-wide bin, counted from origin, holding source. */
function dateBin(stride: Interval, source: number, origin: number): number {
  if (isInfiniteDateTime(source)) return source;
  if (isInfiniteDateTime(origin)) throw new PgError(SqlState.DatetimeFieldOverflow, 'origin out of range');
  if (stride.months !== 0) throw new PgError(SqlState.FeatureNotSupported, 'timestamps cannot be binned into intervals containing months or years');
  const int64Max = 0x7fffffffffffffffn;
  const strideUs = BigInt(stride.days) * 86_400_000_000n + BigInt(stride.micros);
  if (strideUs > int64Max || strideUs < -int64Max - 1n) throw new PgError(SqlState.DatetimeFieldOverflow, 'interval out of range');
  if (strideUs <= 0n) throw new PgError(SqlState.DatetimeFieldOverflow, 'stride must be greater than zero');
  const diff = BigInt(source) - BigInt(origin);
  if (diff > int64Max || diff < -int64Max - 1n) throw new PgError(SqlState.DatetimeFieldOverflow, 'interval out of range');
  let delta = diff - (diff % strideUs);
  // Round toward -infinity, not 0, when diff is negative and not a multiple of the stride.
  if (diff < 0n && diff % strideUs !== 0n) delta -= strideUs;
  const result = BigInt(origin) + delta;
  if (result < timestampMinMicros || result >= timestampEndMicros) throw new PgError(SqlState.DatetimeFieldOverflow, 'timestamp out of range');
  return Number(result);
}
def(
  'date_bin',
  { args: [T.interval, T.timestamp, T.timestamp], result: T.timestamp, fn: ([s, t, o]) => dateBin(s as Interval, num(t), num(o)) },
  { args: [T.interval, T.timestamptz, T.timestamptz], result: T.timestamptz, fn: ([s, t, o]) => dateBin(s as Interval, num(t), num(o)) },
);
