/**
 * Dates, timestamps and intervals, in PostgreSQL's text formats (DateStyle ISO, MDY;
 * IntervalStyle postgres). Representation:
 *   date        days since 1970-01-01 (number)
 *   timestamp   microseconds since 1970-01-01 00:00:00 (number; exact within ±285 years)
 *   timestamptz microseconds since 1970-01-01 00:00:00 UTC
 *   interval    { months, days, micros }
 */
import { PgError, SqlState } from '@strata/common';
import { loadZone, tzInterpretAbbrev, tzOffsetAt } from './tzfile.js';
import { decodeInterval } from './interval_parse.js';
import { date2j, decodeDateTime, decodeTimeOnly, timeZoneAbbrev } from './datetime_parse.js';
import type { DateOrder, DecodeContext, DecodedDateTime, ZoneResolver } from './datetime_parse.js';

export interface Interval {
  months: number;
  days: number;
  micros: number;
}

export const usPerSec = 1_000_000;
export const usPerMin = 60 * usPerSec;
export const usPerHour = 60 * usPerMin;
export const usPerDay = 24 * usPerHour;

const pad = (n: number, w = 2) => String(Math.trunc(Math.abs(n))).padStart(w, '0');


// ---- civil date arithmetic (proleptic Gregorian) ----

export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [y + (m <= 2 ? 1 : 0), m, d];
}

export function daysInMonth(y: number, m: number): number {
  return [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] as number;
}

// ---- time zones ----

const offsetCache = new Map<string, Intl.DateTimeFormat>();

/** Offset of zone from UTC in seconds at the given UTC instant (east positive). */
export function zoneOffsetSeconds(zone: string, utcMicros: number): number {
  const fixed = parseFixedOffset(zone);
  if (fixed !== null) return fixed;
  // The system tz database first (PostgreSQL's own source of zones), then ICU's.
  const z = loadZone(zone);
  if (z) return tzOffsetAt(z, Math.floor(utcMicros / 1_000_000));
  let f = offsetCache.get(zone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        era: 'short',
      });
    } catch {
      throw new PgError(SqlState.InvalidParameterValue, `time zone "${zone}" not recognized`);
    }
    offsetCache.set(zone, f);
  }
  const ms = Math.floor(utcMicros / 1000);
  const parts = f.formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  // Years before 1 AD come with era BC; Date.UTC would also read years 0–99 as 1900–1999.
  const era = parts.find((p) => p.type === 'era')?.value ?? '';
  const year = /^B/i.test(era) ? 1 - get('year') : get('year');
  const local = (daysFromCivil(year, get('month'), get('day')) * 86400 + get('hour') * 3600 + get('minute') * 60 + get('second')) * 1000;
  return Math.round((local - (ms - (((ms % 1000) + 1000) % 1000))) / 1000);
}

/** 'UTC', 'GMT', 'Z', '+05:30', '-08', 'UTC+3' (POSIX sign!) → seconds east; null if a named zone. */
/**
 * The offset (seconds east) that maps a local wall-clock time to UTC in `zone`, as PostgreSQL's
 * DetermineTimeZoneOffset: an ambiguous time (clocks set back) takes the later instant (standard
 * time), a time in a gap (clocks set forward) is read with the offset in force before the gap.
 */
export function offsetForLocal(zone: string, local: number): number {
  const fixed = parseFixedOffset(zone);
  if (fixed !== null) return fixed;
  const before = zoneOffsetSeconds(zone, local - usPerDay);
  const after = zoneOffsetSeconds(zone, local + usPerDay);
  if (before === after) return before;
  const tA = local - before * usPerSec;
  const tB = local - after * usPerSec;
  const aValid = zoneOffsetSeconds(zone, tA) === before;
  const bValid = zoneOffsetSeconds(zone, tB) === after;
  if (aValid && bValid) return tA > tB ? before : after;
  if (aValid) return before;
  if (bValid) return after;
  return before;
}

/**
 * DetermineTimeZoneAbbrevOffsetTS: seconds east of UTC meant by the dynamic abbreviation `abbrev`
 * of `zone` at the instant `utcMicros`: its meaning in the zone's history at that instant (MSK
 * was +04 from 2011 to 2014, +03 before and after), else — when the zone's data never uses the
 * abbreviation — the zone's own offset then. Without the zone's tz file the history is unknown:
 * refused rather than guessed (a guess would be a wrong answer).
 */
export function abbrevOffsetAt(zone: string, abbrev: string, utcMicros: number): number {
  const z = loadZone(zone);
  if (!z)
    throw new PgError(SqlState.FeatureNotSupported, `time zone abbreviation "${abbrev}" needs the tz data of "${zone}", which this system lacks`);
  const r = tzInterpretAbbrev(z, abbrev.toUpperCase(), Math.floor(utcMicros / usPerSec));
  return r ? r.off : tzOffsetAt(z, Math.floor(utcMicros / usPerSec));
}

/**
 * DetermineTimeZoneAbbrevOffset: as abbrevOffsetAt, probing at the instant the local wall-clock
 * time `local` names in `zone` (read as DetermineTimeZoneOffset reads it).
 */
export function abbrevOffsetForLocal(zone: string, abbrev: string, local: number): number {
  const zoneOff = offsetForLocal(zone, local);
  return abbrevOffsetAt(zone, abbrev, local - zoneOff * usPerSec);
}

/**
 * A zone given as a function argument (AT TIME ZONE, timezone(), date_trunc(…, zone)): PostgreSQL
 * tries the time zone abbreviations first, then zone names — so 'MET' is the fixed +01 of the
 * abbreviation, not the MET zone with its summer time. `fixed` is seconds east; `zone` a zone name;
 * `abbrev`, when set, the dynamic abbreviation whose meaning comes from that zone's history.
 */
export function zoneArgument(name: string): { fixed: number } | { zone: string; abbrev: string | null } {
  const a = timeZoneAbbrev(name.toLowerCase());
  if (a === null) return { zone: name, abbrev: null };
  if ('zone' in a) return { zone: a.zone, abbrev: name };
  return { fixed: a.off };
}

/**
 * The zone argument `name` as a whole zone, for date_trunc(…, zone): a fixed abbreviation becomes
 * its offset (a bare number of hours, which parseFixedOffset reads east-positive); a dynamic one,
 * the zone it belongs to (PostgreSQL's timestamptz_trunc_zone uses that zone's rules).
 */
export function zoneArgZone(name: string): string {
  const z = zoneArgument(name);
  return 'fixed' in z ? String(z.fixed / 3600) : z.zone;
}

/** timestamptz → local time in the zone argument `name`: seconds east of UTC at `utcMicros`. */
export function zoneArgOffsetAt(name: string, utcMicros: number): number {
  const z = zoneArgument(name);
  if ('fixed' in z) return z.fixed;
  return z.abbrev !== null ? abbrevOffsetAt(z.zone, z.abbrev, utcMicros) : zoneOffsetSeconds(z.zone, utcMicros);
}

/** Local time in the zone argument `name` → timestamptz: seconds east of UTC for `local`. */
export function zoneArgOffsetForLocal(name: string, local: number): number {
  const z = zoneArgument(name);
  if ('fixed' in z) return z.fixed;
  return z.abbrev !== null ? abbrevOffsetForLocal(z.zone, z.abbrev, local) : offsetForLocal(z.zone, local);
}

export function parseFixedOffset(zone: string): number | null {
  const z = zone.trim();
  if (/^(utc|gmt|z|zulu|etc\/utc|etc\/gmt|universal)$/i.test(z)) return 0;
  // A bare number of hours is east of UTC (check_timezone reads it as a number, ISO sign).
  if (/^[+-]?\d+(\.\d+)?$/.test(z)) return Math.round(Number(z) * 3600);
  // Otherwise a POSIX zone spec ("+02:00", "UTC+3", "<+05>-5"): the offset is WEST of UTC.
  const m = /^(?:[A-Za-z]{3,}|<[^>]*>)?([+-]?)(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?$/.exec(z);
  if (m && (m[1] !== '' || m[3] !== undefined || /^[A-Za-z<]/.test(z))) {
    const west = (Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0)) * (m[1] === '-' ? -1 : 1);
    return west === 0 ? 0 : -west;
  }
  return null;
}

export function validateTimeZone(zone: string): string {
  zoneOffsetSeconds(zone, 0);
  return zone;
}

// ---- parsing (types/datetime_parse.ts ports PostgreSQL's decoder) ----

/**
 * 'infinity' and '-infinity' of date, timestamp and timestamptz: JavaScript's ±Infinity for all
 * three (days for a date, microseconds for the others). They lie beyond every finite value —
 * finite timestamps reach ±9.3e18 µs, past 2^53, so no finite number could serve — and
 * comparisons and sorting need no special case. INVARIANT: every function doing calendar
 * arithmetic on these values checks isInfiniteDateTime first and does what PostgreSQL does with
 * its DT_NOBEGIN/DT_NOEND (keep the value, answer NULL, or refuse) — never computes on the
 * sentinel as a number. Stored rows hold them as floats; index keys as the int64 extremes.
 */
export const timestampInfinity = Infinity;
export const timestampNegInfinity = -Infinity;

/** True for the ±infinity sentinels of date, timestamp and timestamptz. */
export function isInfiniteDateTime(v: unknown): boolean {
  return v === timestampInfinity || v === timestampNegInfinity;
}

/** IANA zones for the decoder: offsets at a local wall-clock time, and whether a name is known. */
const zones: ZoneResolver = {
  offsetAtLocal(zone: string, local: number): number {
    return offsetForLocal(zone, local);
  },
  abbrevOffsetAtLocal(zone: string, abbrev: string, local: number): number {
    return abbrevOffsetForLocal(zone, abbrev, local);
  },
  known(zone: string): boolean {
    try {
      zoneOffsetSeconds(zone, 0);
      return true;
    } catch {
      return false;
    }
  },
};

/** Date range: 4713-11-24 BC (Julian day 0) … 5874897-12-31 AD, as PostgreSQL. */
const dateMinJulian = 0;
const dateEndJulian = 2147483494;
/** Timestamp range: Julian day 0 … 294276-12-31 AD. */
const timestampEndJulian = 109203528;
const unixEpochJulian = 2440588;

function decodeCtx(tz: string, now: () => number, order: DateOrder): DecodeContext {
  return { dateOrder: order, timeZone: tz, now, zones };
}

/** date_pli / date_mii: a date computed by arithmetic must lie in the date range (22008). */
export function checkDate(days: number): number {
  const j = days + unixEpochJulian;
  if (!(j >= dateMinJulian && j < dateEndJulian)) throw new PgError(SqlState.DatetimeFieldOverflow, 'date out of range');
  return days;
}

function validJulianYmd(y: number, m: number): boolean {
  return (y > -4713 || (y === -4713 && m >= 11)) && (y < 5874898 || (y === 5874898 && m < 6));
}

export function parseDate(s: string, tz: string, now: () => number, order: DateOrder = 'MDY'): number {
  const d = decodeDateTime(s, 'date', decodeCtx(tz, now, order));
  if (d.kind === 'epoch') return 0;
  if (d.kind === 'late') return timestampInfinity;
  if (d.kind === 'early') return timestampNegInfinity;
  if (!validJulianYmd(d.year, d.mon)) throw new PgError(SqlState.DatetimeFieldOverflow, `date out of range: "${s}"`);
  const j = date2j(d.year, d.mon, d.mday);
  if (j < dateMinJulian || j >= dateEndJulian) throw new PgError(SqlState.DatetimeFieldOverflow, `date out of range: "${s}"`);
  return j - unixEpochJulian;
}

/** tm2timestamp: local date and time to microseconds, range-checked (22008). */
function tmToMicros(d: DecodedDateTime, s: string): number {
  if (!validJulianYmd(d.year, d.mon)) throw new PgError(SqlState.DatetimeFieldOverflow, `timestamp out of range: "${s}"`);
  const j = date2j(d.year, d.mon, d.mday);
  // Microseconds are held in a double: exact within ±2^53 µs of 1970 (and whole seconds far
  // beyond). A value it cannot hold exactly is refused rather than stored slightly wrong.
  const exact = (BigInt(j - unixEpochJulian) * 86400n + BigInt(d.hour * 3600 + d.min * 60 + d.sec)) * 1_000_000n + BigInt(d.fsec);
  const us = Number(exact);
  if (BigInt(us) !== exact) throw new PgError(SqlState.DatetimeFieldOverflow, `timestamp out of range: "${s}"`, { detail: 'Strata cannot hold this timestamp exactly (microseconds in a double).' });
  return us;
}

function checkTimestampRange(us: number, s: string): number {
  const j = Math.floor(us / usPerDay) + unixEpochJulian;
  if (j < dateMinJulian || j >= timestampEndJulian) throw new PgError(SqlState.DatetimeFieldOverflow, `timestamp out of range: "${s}"`);
  return us;
}

export function parseTimestamp(s: string, tz: string, now: () => number, order: DateOrder = 'MDY'): number {
  const d = decodeDateTime(s, 'timestamp', decodeCtx(tz, now, order));
  if (d.kind === 'epoch') return 0;
  if (d.kind === 'late') return timestampInfinity;
  if (d.kind === 'early') return timestampNegInfinity;
  // A zone in timestamp-without-time-zone input is read and ignored, as PostgreSQL does.
  return checkTimestampRange(tmToMicros(d, s), s);
}

export function parseTimestamptz(s: string, tz: string, now: () => number, order: DateOrder = 'MDY'): number {
  const d = decodeDateTime(s, 'timestamp with time zone', decodeCtx(tz, now, order));
  if (d.kind === 'epoch') return 0;
  if (d.kind === 'late') return timestampInfinity;
  if (d.kind === 'early') return timestampNegInfinity;
  return checkTimestampRange(tmToMicros(d, s) - d.offset * usPerSec, s);
}

export function parseTime(s: string, tz = 'UTC', now: () => number = () => Date.now() * 1000, order: DateOrder = 'MDY'): number {
  return decodeTimeOnly(s, decodeCtx(tz, now, order));
}

/**
 * timetz_in: the time of day as `time` reads it (DecodeTimeOnly), and the zone: the one written,
 * else the session zone's offset — both resolved on the input's date, or on today's date in the
 * session zone when the input has none, as PostgreSQL does. `zone` is seconds west of UTC.
 */
export function parseTimeTz(s: string, tz: string, now: () => number, order: DateOrder = 'MDY'): { us: number; zone: number } {
  const type = 'time with time zone';
  const ctx = decodeCtx(tz, now, order);
  const us = decodeTimeOnly(s, ctx, type);
  let d;
  try {
    d = decodeDateTime(s, type, ctx);
  } catch {
    const t = now();
    const today = formatDate(Math.floor((t + zoneOffsetSeconds(tz, t) * usPerSec) / usPerDay));
    d = decodeDateTime(`${today} ${s}`, type, ctx);
  }
  return { us, zone: -d.offset };
}

// ---- formatting ----

function formatYear(y: number): [string, string] {
  return y > 0 ? [pad(y, 4), ''] : [pad(1 - y, 4), ' BC'];
}

export function formatDate(days: number): string {
  if (days === timestampInfinity) return 'infinity';
  if (days === timestampNegInfinity) return '-infinity';
  const [y, m, d] = civilFromDays(days);
  const [ys, bc] = formatYear(y);
  return `${ys}-${pad(m)}-${pad(d)}${bc}`;
}

function formatTimeOfDay(us: number): string {
  const secs = Math.floor(us / usPerSec);
  const frac = us - secs * usPerSec;
  let s = `${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}`;
  if (frac > 0) s += '.' + String(frac).padStart(6, '0').replace(/0+$/, '');
  return s;
}

export function formatTime(us: number): string {
  return formatTimeOfDay(us);
}

export function formatTimestamp(us: number): string {
  if (us === timestampInfinity) return 'infinity';
  if (us === timestampNegInfinity) return '-infinity';
  const days = Math.floor(us / usPerDay);
  const [y, m, d] = civilFromDays(days);
  const [ys, bc] = formatYear(y);
  return `${ys}-${pad(m)}-${pad(d)} ${formatTimeOfDay(us - days * usPerDay)}${bc}`;
}

export function formatOffset(offSec: number, withSeconds = true): string {
  const sign = offSec < 0 ? '-' : '+';
  const a = Math.abs(offSec);
  let s = `${sign}${pad(Math.floor(a / 3600))}`;
  if (a % 3600 !== 0 || (withSeconds && a % 60 !== 0)) s += `:${pad(Math.floor(a / 60) % 60)}`;
  if (withSeconds && a % 60 !== 0) s += `:${pad(a % 60)}`;
  return s;
}

/** C's printf %g (6 significant digits), as PostgreSQL quotes a float8 in messages. */
export function printfG(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (x === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(x)));
  const strip = (m: string) => (m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m);
  if (exp < -4 || exp >= 6) {
    const [m, e] = x.toExponential(5).split('e') as [string, string];
    const n = Number(e);
    return `${strip(m)}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  return strip(x.toFixed(Math.max(0, 5 - exp)));
}

/**
 * to_timestamp(double precision): seconds since 1970 as a timestamptz, as PostgreSQL's
 * float8_timestamptz — NaN is 22008, ±Infinity is ±infinity, and outside PostgreSQL's range
 * (4714-11-24 BC to 294277 AD) 22008 "timestamp out of range".
 */
export function timestamptzFromEpochSeconds(seconds: number): number {
  if (Number.isNaN(seconds)) throw new PgError(SqlState.DatetimeFieldOverflow, 'timestamp cannot be NaN');
  if (!Number.isFinite(seconds)) return seconds > 0 ? timestampInfinity : timestampNegInfinity;
  const outOfRange = () => new PgError(SqlState.DatetimeFieldOverflow, `timestamp out of range: "${printfG(seconds)}"`);
  if (seconds < 86400 * (dateMinJulian - unixEpochJulian) || seconds >= 86400 * (timestampEndJulian - unixEpochJulian)) throw outOfRange();
  const us = Math.round(seconds * usPerSec);
  const j = Math.floor(us / usPerDay) + unixEpochJulian;
  if (j < dateMinJulian || j >= timestampEndJulian) throw outOfRange();
  return us;
}

export function formatTimestamptz(us: number, tz: string): string {
  if (us === timestampInfinity) return 'infinity';
  if (us === timestampNegInfinity) return '-infinity';
  const off = zoneOffsetSeconds(tz, us);
  const local = us + off * usPerSec;
  const days = Math.floor(local / usPerDay);
  const [y, m, d] = civilFromDays(days);
  const [ys, bc] = formatYear(y);
  return `${ys}-${pad(m)}-${pad(d)} ${formatTimeOfDay(local - days * usPerDay)}${formatOffset(off)}${bc}`;
}

// ---- intervals ----

const unitMap: Record<string, [keyof Interval | 'years' | 'weeks' | 'hours' | 'minutes' | 'seconds' | 'ms' | 'us' | 'decades' | 'centuries' | 'millennia', number]> = {};
for (const [names, unit] of [
  [['microsecond', 'microseconds', 'us', 'usec', 'usecs', 'microsecon'], 'us'],
  [['millisecond', 'milliseconds', 'ms', 'msec', 'msecs'], 'ms'],
  [['second', 'seconds', 's', 'sec', 'secs'], 'seconds'],
  [['minute', 'minutes', 'm', 'min', 'mins'], 'minutes'],
  [['hour', 'hours', 'h', 'hr', 'hrs'], 'hours'],
  [['day', 'days', 'd'], 'days'],
  [['week', 'weeks', 'w'], 'weeks'],
  [['month', 'months', 'mon', 'mons'], 'months'],
  [['year', 'years', 'y', 'yr', 'yrs'], 'years'],
  [['decade', 'decades'], 'decades'],
  [['century', 'centuries'], 'centuries'],
  [['millennium', 'millennia'], 'millennia'],
] as const) {
  for (const n of names) unitMap[n] = [unit, 1];
}

export function intervalFrom(amount: number, unit: string): Interval {
  const u = unitMap[unit.toLowerCase()]?.[0];
  const iv: Interval = { months: 0, days: 0, micros: 0 };
  switch (u) {
    case 'us':
      iv.micros = Math.round(amount);
      break;
    case 'ms':
      iv.micros = Math.round(amount * 1000);
      break;
    case 'seconds':
      iv.micros = Math.round(amount * usPerSec);
      break;
    case 'minutes':
      iv.micros = Math.round(amount * usPerMin);
      break;
    case 'hours':
      iv.micros = Math.round(amount * usPerHour);
      break;
    case 'days': {
      const whole = Math.trunc(amount);
      iv.days = whole;
      iv.micros = Math.round((amount - whole) * usPerDay);
      break;
    }
    case 'weeks': {
      const d = amount * 7;
      const whole = Math.trunc(d);
      iv.days = whole;
      iv.micros = Math.round((d - whole) * usPerDay);
      break;
    }
    case 'months': {
      const whole = Math.trunc(amount);
      iv.months = whole;
      const fd = (amount - whole) * 30;
      iv.days = Math.trunc(fd);
      iv.micros = Math.round((fd - Math.trunc(fd)) * usPerDay);
      break;
    }
    case 'years':
    case 'decades':
    case 'centuries':
    case 'millennia': {
      const mult = u === 'years' ? 12 : u === 'decades' ? 120 : u === 'centuries' ? 1200 : 12000;
      iv.months = Math.round(amount * mult);
      checkedInterval(iv);
      break;
    }
    default:
      throw new PgError(SqlState.InvalidDatetimeFormat, `invalid input syntax for type interval: "${amount} ${unit}"`);
  }
  return iv;
}

const int32Max = 2147483647;
const int32Min = -2147483648;
/** int64 bounds of the microseconds field (as doubles: the nearest representable values). */
const int64MaxAsDouble = 2 ** 63;

/** PostgreSQL's interval fields are int32 months, int32 days and int64 microseconds: beyond them is 22008. */
export function checkedInterval(iv: Interval): Interval {
  if (iv.months > int32Max || iv.months < int32Min || iv.days > int32Max || iv.days < int32Min || !(Math.abs(iv.micros) < int64MaxAsDouble)) {
    throw new PgError(SqlState.DatetimeFieldOverflow, 'interval out of range');
  }
  return iv;
}

export function addIntervals(a: Interval, b: Interval): Interval {
  return checkedInterval({ months: a.months + b.months, days: a.days + b.days, micros: a.micros + b.micros });
}

export function negateInterval(a: Interval): Interval {
  return checkedInterval({ months: -a.months, days: -a.days, micros: -a.micros });
}

/** Interval text input (types/interval_parse.ts ports PostgreSQL's DecodeInterval). */
export function parseInterval(s: string): Interval {
  return decodeInterval(s);
}

/**
 * PostgreSQL's default IntervalStyle (postgres), as EncodeInterval writes it: "1 year 2 mons 3 days
 * 04:05:06.5"; a positive field right after a negative one gets a "+".
 */
export function formatInterval(iv: Interval): string {
  let out = '';
  let isZero = true;
  let isBefore = false;
  const part = (value: number, unit: string) => {
    if (value === 0) return;
    out += `${isZero ? '' : ' '}${isBefore && value > 0 ? '+' : ''}${value} ${unit}${value !== 1 ? 's' : ''}`;
    isBefore = value < 0;
    isZero = false;
  };
  const years = Math.trunc(iv.months / 12);
  part(years, 'year');
  part(iv.months - years * 12, 'mon');
  part(iv.days, 'day');
  if (isZero || iv.micros !== 0) {
    const minus = iv.micros < 0;
    const a = Math.abs(iv.micros);
    const secs = Math.floor(a / usPerSec);
    const frac = a - secs * usPerSec;
    let t = `${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}`;
    if (frac > 0) t += '.' + String(frac).padStart(6, '0').replace(/0+$/, '');
    out += `${isZero ? '' : ' '}${minus ? '-' : isBefore ? '+' : ''}${t}`;
  }
  return out;
}

/** Total duration in microseconds using PostgreSQL's 30-day months, for comparisons. */
export function intervalMicros(iv: Interval): number {
  return iv.months * 30 * usPerDay + iv.days * usPerDay + iv.micros;
}

export function addIntervalToTimestamp(us: number, iv: Interval, tz: string | null): number {
  if (us === timestampInfinity || us === timestampNegInfinity) return us;
  let t = us;
  if (iv.months !== 0 || iv.days !== 0) {
    // Months and days are calendar units: apply them to the local date (session zone for tz).
    const off = tz ? zoneOffsetSeconds(tz, t) * usPerSec : 0;
    let local = t + off;
    const days = Math.floor(local / usPerDay);
    const tod = local - days * usPerDay;
    let [y, m, d] = civilFromDays(days);
    if (iv.months !== 0) {
      const total = y * 12 + (m - 1) + iv.months;
      y = Math.floor(total / 12);
      m = total - y * 12 + 1;
      d = Math.min(d, daysInMonth(y, m));
    }
    local = (daysFromCivil(y, m, d) + iv.days) * usPerDay + tod;
    t = tz ? local - offsetForLocal(tz, local) * usPerSec : local;
  }
  return t + iv.micros;
}

export type IntervalStyle = 'postgres' | 'postgres_verbose' | 'sql_standard' | 'iso_8601';

/** EncodeInterval's other IntervalStyles: postgres_verbose ("@ 1 year 2 mons ago"), sql_standard ("1-2"), iso_8601 ("P1Y2M"). */
export function formatIntervalStyle(iv: Interval, style: IntervalStyle): string {
  if (style === 'postgres') return formatInterval(iv);
  const year = Math.trunc(iv.months / 12);
  const mon = iv.months - year * 12;
  const mday = iv.days;
  const t = iv.micros;
  const hour = Math.trunc(t / usPerHour);
  const min = Math.trunc(t / usPerMin) % 60;
  const sec = Math.trunc(t / usPerSec) % 60;
  const fsec = t % usPerSec;
  const secs = (s: number, f: number, fill: boolean): string => {
    const whole = String(Math.abs(s)).padStart(fill ? 2 : 1, '0');
    if (f === 0) return whole;
    return `${whole}.${String(Math.abs(f)).padStart(6, '0').replace(/0+$/, '')}`;
  };
  if (style === 'iso_8601') {
    if (year === 0 && mon === 0 && mday === 0 && hour === 0 && min === 0 && sec === 0 && fsec === 0) return 'PT0S';
    let out = 'P';
    const part = (v: number, u: string) => {
      if (v !== 0) out += `${v}${u}`;
    };
    part(year, 'Y');
    part(mon, 'M');
    part(mday, 'D');
    if (hour !== 0 || min !== 0 || sec !== 0 || fsec !== 0) out += 'T';
    part(hour, 'H');
    part(min, 'M');
    if (sec !== 0 || fsec !== 0) out += `${sec < 0 || fsec < 0 ? '-' : ''}${secs(sec, fsec, false)}S`;
    return out;
  }
  if (style === 'sql_standard') {
    const neg = year < 0 || mon < 0 || mday < 0 || hour < 0 || min < 0 || sec < 0 || fsec < 0;
    const pos = year > 0 || mon > 0 || mday > 0 || hour > 0 || min > 0 || sec > 0 || fsec > 0;
    const hasYM = year !== 0 || mon !== 0;
    const hasDT = mday !== 0 || hour !== 0 || min !== 0 || sec !== 0 || fsec !== 0;
    const standard = !(neg && pos) && !(hasYM && hasDT);
    if (!neg && !pos) return '0';
    if (!standard) {
      const ys = year < 0 || mon < 0 ? '-' : '+';
      const ds = mday < 0 ? '-' : '+';
      const ss = hour < 0 || min < 0 || sec < 0 || fsec < 0 ? '-' : '+';
      return `${ys}${Math.abs(year)}-${Math.abs(mon)} ${ds}${Math.abs(mday)} ${ss}${Math.abs(hour)}:${String(Math.abs(min)).padStart(2, '0')}:${secs(sec, fsec, true)}`;
    }
    const sign = neg ? '-' : '';
    const a = (v: number) => Math.abs(v);
    if (hasYM) return `${sign}${a(year)}-${a(mon)}`;
    if (mday !== 0) return `${sign}${a(mday)} ${a(hour)}:${String(a(min)).padStart(2, '0')}:${secs(sec, fsec, true)}`;
    return `${sign}${a(hour)}:${String(a(min)).padStart(2, '0')}:${secs(sec, fsec, true)}`;
  }
  // postgres_verbose
  let out = '@';
  let isZero = true;
  let isBefore = false;
  const part = (v0: number, unit: string) => {
    if (v0 === 0) return;
    let v = v0;
    if (isZero) {
      isBefore = v < 0;
      v = Math.abs(v);
    } else if (isBefore) v = -v;
    out += ` ${v} ${unit}${v === 1 ? '' : 's'}`;
    isZero = false;
  };
  part(year, 'year');
  part(mon, 'mon');
  part(mday, 'day');
  part(hour, 'hour');
  part(min, 'min');
  if (sec !== 0 || fsec !== 0) {
    out += ' ';
    if (sec < 0 || (sec === 0 && fsec < 0)) {
      if (isZero) isBefore = true;
      else if (!isBefore) out += '-';
    } else if (isBefore) out += '-';
    out += `${secs(sec, fsec, false)} sec${Math.abs(sec) !== 1 || fsec !== 0 ? 's' : ''}`;
    isZero = false;
  }
  if (isZero) out += ' 0';
  if (isBefore) out += ' ago';
  return out;
}

/** A timestamp's local calendar fields in `tz` (null: a timestamp without time zone); `off` is the zone's offset, seconds east. */
export function localParts(us: number, tz: string | null): { y: number; m: number; d: number; tod: number; off: number } {
  const off = tz ? zoneOffsetSeconds(tz, us) : 0;
  const local = us + off * usPerSec;
  const days = Math.floor(local / usPerDay);
  const [y, m, d] = civilFromDays(days);
  return { y, m, d, tod: local - days * usPerDay, off };
}
