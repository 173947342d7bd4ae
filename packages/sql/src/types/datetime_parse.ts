/**
 * Date/time input as PostgreSQL reads it: a port of datetime.c's ParseDateTime (the string split
 * into typed fields), DecodeDateTime (date, timestamp, timestamptz) and DecodeTimeOnly (time)
 * with DecodeDate, DecodeNumber, DecodeNumberField, DecodeTime, DecodeTimezone and ValidateDate.
 * DateStyle's field order (MDY, DMY, YMD) decides ambiguous numeric dates; two-digit years mean
 * 1970–2069; month and day names, AM/PM, BC, ISO 8601 ("T"), Julian days ("J2451187"), run-together
 * fields ("19990108", "040506"), day-of-year ("1999.008"), time zone offsets, PostgreSQL's default
 * time zone abbreviations and IANA zone names are understood; errors carry datetime.c's SQLSTATEs.
 */
import { PgError, SqlState } from '@strata/common';
import { SqlStateX } from '../sqlstate.js';

export type DateOrder = 'MDY' | 'DMY' | 'YMD';

/** Field types of ParseDateTime. */
const DTK_NUMBER = 0;
const DTK_STRING = 1;
const DTK_DATE = 2;
const DTK_TIME = 3;
const DTK_TZ = 4;
const DTK_SPECIAL = 6;

/** Token classes of DecodeSpecial (the bit each sets in fmask). */
const RESERV = 0;
const MONTH = 1;
const YEAR = 2;
const DAY = 3;
const UNKNOWN_FIELD = 8;
const TZ = 5;
const DTZ = 6;
const DTZMOD = 7;
const IGNORE_DTF = 9;
const AMPM = 10;
const HOUR = 11;
const MINUTE = 12;
const SECOND = 13;
const MILLISECOND = 14;
const MICROSECOND = 15;
const DOY = 16;
const DOW = 17;
const UNITS = 18;
const ADBC = 19;
const ISOTIME = 22;
const DYNTZ = 23;

const M = (t: number) => 1 << t;
const DTK_DATE_M = M(YEAR) | M(MONTH) | M(DAY);
const DTK_TIME_M = M(HOUR) | M(MINUTE) | M(SECOND) | M(MILLISECOND) | M(MICROSECOND);
const DTK_ALL_SECS_M = M(SECOND) | M(MILLISECOND) | M(MICROSECOND);

/** RESERV values and UNITS values. */
const enum V {
  Early = 1,
  Late,
  Epoch,
  Now,
  Today,
  Tomorrow,
  Yesterday,
  Zulu,
  Julian,
  UYear,
  UMonth,
  UDay,
  UHour,
  UMinute,
  USecond,
  UDow,
  UDoy,
  UIsoDow,
  UIsoYear,
  Time,
}
const AM = 0;
const PM = 1;
const HR24 = 2;
const AD = 0;
const BC = 1;

/** datetime.c's datetktbl. */
const datetktbl = new Map<string, [number, number]>([
  ['-infinity', [RESERV, V.Early]],
  ['ad', [ADBC, AD]],
  ['allballs', [RESERV, V.Zulu]],
  ['am', [AMPM, AM]],
  ['apr', [MONTH, 4]],
  ['april', [MONTH, 4]],
  ['at', [IGNORE_DTF, 0]],
  ['aug', [MONTH, 8]],
  ['august', [MONTH, 8]],
  ['bc', [ADBC, BC]],
  ['d', [UNITS, V.UDay]],
  ['dec', [MONTH, 12]],
  ['december', [MONTH, 12]],
  ['dow', [UNITS, V.UDow]],
  ['doy', [UNITS, V.UDoy]],
  ['dst', [DTZMOD, 3600]],
  ['epoch', [RESERV, V.Epoch]],
  ['feb', [MONTH, 2]],
  ['february', [MONTH, 2]],
  ['fri', [DOW, 5]],
  ['friday', [DOW, 5]],
  ['h', [UNITS, V.UHour]],
  ['infinity', [RESERV, V.Late]],
  ['isodow', [UNITS, V.UIsoDow]],
  ['isoyear', [UNITS, V.UIsoYear]],
  ['j', [UNITS, V.Julian]],
  ['jan', [MONTH, 1]],
  ['january', [MONTH, 1]],
  ['jd', [UNITS, V.Julian]],
  ['jul', [MONTH, 7]],
  ['julian', [UNITS, V.Julian]],
  ['july', [MONTH, 7]],
  ['jun', [MONTH, 6]],
  ['june', [MONTH, 6]],
  ['m', [UNITS, V.UMonth]],
  ['mar', [MONTH, 3]],
  ['march', [MONTH, 3]],
  ['may', [MONTH, 5]],
  ['mm', [UNITS, V.UMinute]],
  ['mon', [DOW, 1]],
  ['monday', [DOW, 1]],
  ['nov', [MONTH, 11]],
  ['november', [MONTH, 11]],
  ['now', [RESERV, V.Now]],
  ['oct', [MONTH, 10]],
  ['october', [MONTH, 10]],
  ['on', [IGNORE_DTF, 0]],
  ['pm', [AMPM, PM]],
  ['s', [UNITS, V.USecond]],
  ['sat', [DOW, 6]],
  ['saturday', [DOW, 6]],
  ['sep', [MONTH, 9]],
  ['sept', [MONTH, 9]],
  ['september', [MONTH, 9]],
  ['sun', [DOW, 0]],
  ['sunday', [DOW, 0]],
  ['t', [ISOTIME, V.Time]],
  ['thu', [DOW, 4]],
  ['thur', [DOW, 4]],
  ['thurs', [DOW, 4]],
  ['thursday', [DOW, 4]],
  ['today', [RESERV, V.Today]],
  ['tomorrow', [RESERV, V.Tomorrow]],
  ['tue', [DOW, 2]],
  ['tues', [DOW, 2]],
  ['tuesday', [DOW, 2]],
  ['wed', [DOW, 3]],
  ['wednesday', [DOW, 3]],
  ['weds', [DOW, 3]],
  ['y', [UNITS, V.UYear]],
  ['yesterday', [RESERV, V.Yesterday]],
]);

/**
 * PostgreSQL's default timezone_abbreviations set ("Default"): name → seconds east of UTC
 * (suffix d: a daylight-saving abbreviation), or an IANA zone for abbreviations whose meaning
 * changed over time (resolved at the date being read).
 */
const abbrevSource =
  'eat:10800 sast:7200 wat:3600 act:-18000 akdt:-28800d akst:-32400 art:America/Argentina/Buenos_Aires arst:America/Argentina/Buenos_Aires bot:-14400 bra:-10800 brst:-7200d brt:-10800 cot:-18000 cdt:-18000d clst:-10800d clt:America/Santiago cst:-21600 edt:-14400d egst:0d egt:-3600 est:-18000 fnt:-7200 fnst:-3600d gft:-10800 gyt:America/Guyana mdt:-21600d mst:-25200 ndt:-9000d nft:-12600 nst:-12600 pet:-18000 pdt:-25200d pmdt:-7200d pmst:-10800 pst:-28800 pyst:-10800d pyt:America/Asuncion uyst:-7200d uyt:-10800 vet:America/Caracas wgst:-7200d wgt:-10800 davt:Antarctica/Davis ddut:36000 mawt:Antarctica/Mawson aft:16200 almt:21600 almst:25200d amst:Asia/Yerevan amt:-14400 anast:Asia/Anadyr anat:Asia/Anadyr azst:Asia/Baku azt:Asia/Baku bdt:21600 bnt:28800 bort:28800 btt:21600 cct:28800 gest:Asia/Tbilisi get:Asia/Tbilisi hkt:28800 ict:25200 idt:10800d irkst:Asia/Irkutsk irkt:Asia/Irkutsk irt:12600 ist:7200 jayt:32400 jst:32400 kdt:36000d kgst:21600d kgt:Asia/Bishkek krast:Asia/Krasnoyarsk krat:Asia/Krasnoyarsk kst:32400 lkt:Asia/Colombo magst:Asia/Magadan magt:Asia/Magadan mmt:23400 myt:28800 novst:Asia/Novosibirsk novt:Asia/Novosibirsk npt:20700 omsst:Asia/Omsk omst:Asia/Omsk petst:Asia/Kamchatka pett:Asia/Kamchatka pht:28800 pkt:18000 pkst:21600d sgt:Asia/Singapore tjt:18000 tmt:Asia/Ashgabat ulast:32400d ulat:Asia/Ulaanbaatar uzst:21600d uzt:18000 vlast:Asia/Vladivostok vlat:Asia/Vladivostok xjt:21600 yakst:Asia/Yakutsk yakt:Asia/Yakutsk yekst:21600d yekt:Asia/Yekaterinburg adt:-10800d ast:-14400 azost:0d azot:-3600 fkst:Atlantic/Stanley fkt:Atlantic/Stanley acsst:37800d acdt:37800d acst:34200 acwst:31500 aesst:39600d aedt:39600d aest:36000 awsst:32400d awst:28800 cadt:37800d cast:34200 lhdt:Australia/Lord_Howe lhst:37800 ligt:36000 nzt:43200 sadt:37800d wadt:28800d wast:25200 wdt:32400d gmt:0 uct:0 ut:0 utc:0 z:0 zulu:0 bst:3600d bdst:7200d cest:7200d cet:3600 cetdst:7200d eest:10800d eet:7200 eetdst:10800d fet:10800 mest:7200d mesz:7200d met:3600 metdst:7200d mez:3600 msd:14400d msk:Europe/Moscow volt:Europe/Volgograd wet:0 wetdst:3600d cxt:25200 iot:Indian/Chagos mut:14400 must:18000d mvt:18000 ret:14400 sct:14400 tft:18000 chadt:49500d chast:45900 chut:36000 ckt:Pacific/Rarotonga easst:Pacific/Easter east:Pacific/Easter fjst:46800d fjt:43200 galt:-21600 gamt:-32400 gilt:43200 hst:-36000 kost:Pacific/Kosrae lint:Pacific/Kiritimati mart:-34200 mht:43200 mpt:36000 nut:Pacific/Niue nzdt:46800d nzst:43200 pgt:36000 pont:39600 pwt:32400 taht:-36000 tkt:Pacific/Fakaofo tot:46800 trut:36000 tvt:43200 vut:39600 wakt:43200 wft:43200 yapt:36000';
const abbrevs = new Map<string, { off: number; dst: boolean } | { zone: string }>();
for (const item of abbrevSource.split(' ')) {
  const i = item.indexOf(':');
  const name = item.slice(0, i);
  const v = item.slice(i + 1);
  if (/^-?\d+d?$/.test(v)) abbrevs.set(name, { off: parseInt(v, 10), dst: v.endsWith('d') });
  else abbrevs.set(name, { zone: v });
}

/**
 * DecodeTimezoneAbbrev over the default abbreviation set: `name` (lower case) → a fixed offset
 * (seconds east) or, for a dynamic abbreviation, the zone whose history gives its meaning.
 */
export function timeZoneAbbrev(name: string): { off: number; dst: boolean } | { zone: string } | null {
  return abbrevs.get(name) ?? null;
}

/** What a zone needs from the caller: the offset (seconds east) of an IANA zone at a local time. */
export interface ZoneResolver {
  /** Seconds east of UTC of `zone` for the given local wall-clock time (throws 22023 for unknown zones). */
  offsetAtLocal(zone: string, localMicros: number): number;
  /**
   * DetermineTimeZoneAbbrevOffset: seconds east of UTC meant by the dynamic abbreviation `abbrev`
   * of `zone` at the given local wall-clock time (what it meant then, per the zone's history).
   */
  abbrevOffsetAtLocal(zone: string, abbrev: string, localMicros: number): number;
  /** Whether `zone` names a known time zone. */
  known(zone: string): boolean;
}

export interface DecodeContext {
  dateOrder: DateOrder;
  /** The session time zone. */
  timeZone: string;
  /** The statement's current time (microseconds since the Unix epoch, UTC). */
  now: () => number;
  zones: ZoneResolver;
}

/** The fields of a decoded date/time (pg_tm plus fractional seconds and zone). */
export interface DecodedDateTime {
  kind: 'date' | 'epoch' | 'late' | 'early';
  year: number;
  mon: number;
  mday: number;
  hour: number;
  min: number;
  sec: number;
  fsec: number;
  /** Seconds east of UTC: given in the input, or the session zone's at that local time. */
  offset: number;
}

const DTERR_BAD_FORMAT = -1;
const DTERR_FIELD_OVERFLOW = -2;
const DTERR_MD_FIELD_OVERFLOW = -3;
const DTERR_TZDISP_OVERFLOW = -5;

class DtErr {
  constructor(readonly code: number) {}
}

/** DateTimeParseError: the PgError for a datetime.c error code. */
export function dateTimeParseError(code: number, s: string, type: string): PgError {
  switch (code) {
    case DTERR_FIELD_OVERFLOW:
      return new PgError(SqlState.DatetimeFieldOverflow, `date/time field value out of range: "${s}"`);
    case DTERR_MD_FIELD_OVERFLOW:
      return new PgError(SqlState.DatetimeFieldOverflow, `date/time field value out of range: "${s}"`, {
        hint: 'Perhaps you need a different "datestyle" setting.',
      });
    case DTERR_TZDISP_OVERFLOW:
      return new PgError(
        SqlStateX.InvalidTimeZoneDisplacementValue,
        `time zone displacement out of range: "${s}"`,
      );
    default:
      return new PgError(SqlState.InvalidDatetimeFormat, `invalid input syntax for type ${type}: "${s}"`);
  }
}

const MAXDATELEN = 128;
const MAXDATEFIELDS = 25;

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined) =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
const isAlnum = (c: string | undefined) => isDigit(c) || isAlpha(c);
const isSpace = (c: string | undefined) =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
const isPunct = (c: string | undefined) => c !== undefined && /^[!-/:-@[-`{-~]$/.test(c);

/** ParseDateTime: the input split into fields and their types. */
export function parseDateTimeFields(s: string): { fields: string[]; ftypes: number[] } {
  if (s.length >= MAXDATELEN) throw new DtErr(DTERR_BAD_FORMAT);
  const fields: string[] = [];
  const ftypes: number[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    let f = '';
    let t: number;
    if (isDigit(c)) {
      while (isDigit(s[i])) f += s[i++];
      if (s[i] === ':') {
        t = DTK_TIME;
        f += s[i++];
        while (isDigit(s[i]) || s[i] === ':' || s[i] === '.') f += s[i++];
      } else if (s[i] === '-' || s[i] === '/' || s[i] === '.') {
        const delim = s[i] as string;
        f += s[i++];
        if (isDigit(s[i])) {
          t = delim === '.' ? DTK_NUMBER : DTK_DATE;
          while (isDigit(s[i])) f += s[i++];
          if (s[i] === delim) {
            t = DTK_DATE;
            f += s[i++];
            while (isDigit(s[i]) || s[i] === delim) f += s[i++];
          }
        } else {
          t = DTK_DATE;
          while (isAlnum(s[i]) || s[i] === delim) f += (s[i++] as string).toLowerCase();
        }
      } else t = DTK_NUMBER;
    } else if (c === '.') {
      f += s[i++];
      while (isDigit(s[i])) f += s[i++];
      t = DTK_NUMBER;
    } else if (isAlpha(c)) {
      t = DTK_STRING;
      while (isAlpha(s[i])) f += (s[i++] as string).toLowerCase();
      let isDate = false;
      if (s[i] === '-' || s[i] === '/' || s[i] === '.') isDate = true;
      else if (s[i] === '+' || isDigit(s[i])) isDate = !datetktbl.has(f);
      if (isDate) {
        t = DTK_DATE;
        do f += (s[i++] as string).toLowerCase();
        while (
          s[i] === '+' ||
          s[i] === '-' ||
          s[i] === '/' ||
          s[i] === '_' ||
          s[i] === '.' ||
          s[i] === ':' ||
          isAlnum(s[i])
        );
      }
    } else if (c === '+' || c === '-') {
      f += s[i++];
      while (isSpace(s[i])) i++;
      if (isDigit(s[i])) {
        t = DTK_TZ;
        f += s[i++];
        while (isDigit(s[i]) || s[i] === ':' || s[i] === '.' || s[i] === '-') f += s[i++];
      } else if (isAlpha(s[i])) {
        t = DTK_SPECIAL;
        while (isAlpha(s[i])) f += (s[i++] as string).toLowerCase();
      } else throw new DtErr(DTERR_BAD_FORMAT);
    } else if (isPunct(c)) {
      i++;
      continue;
    } else throw new DtErr(DTERR_BAD_FORMAT);
    if (fields.length >= MAXDATEFIELDS) throw new DtErr(DTERR_BAD_FORMAT);
    fields.push(f);
    ftypes.push(t);
  }
  return { fields, ftypes };
}

interface Tm {
  year: number;
  mon: number;
  mday: number;
  hour: number;
  min: number;
  sec: number;
  yday: number;
  fsec: number;
}

/** strtoint: leading integer of s (optional sign); ERANGE beyond int32 is a field overflow. */
function strtoint(s: string, from = 0): { val: number; end: number } {
  const m = /^\s*[+-]?\d+/.exec(s.slice(from));
  if (!m) return { val: 0, end: from };
  const val = parseInt(m[0], 10);
  if (val > 2147483647 || val < -2147483648) throw new DtErr(DTERR_FIELD_OVERFLOW);
  return { val, end: from + m[0].length };
}

/** ParseFraction: ".nnn" (or ".") as a number; anything after it is a format error. */
function parseFraction(s: string): number {
  if (s === '.') return 0;
  if (!/^\.\d*(?:[eE][+-]?\d+)?$/.test(s)) throw new DtErr(DTERR_BAD_FORMAT);
  return Number(s);
}

/** rint() as C does it: halves to even. */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function parseFractionalSecond(s: string): number {
  return rint(parseFraction(s) * 1000000);
}

export function date2j(y: number, m: number, d: number): number {
  let year = y;
  let month = m;
  if (month > 2) {
    month += 1;
    year += 4800;
  } else {
    month += 13;
    year += 4799;
  }
  const century = Math.trunc(year / 100);
  let julian = year * 365 - 32167;
  julian += Math.trunc(year / 4) - century + Math.trunc(century / 4);
  julian += Math.trunc((7834 * month) / 256) + d;
  return julian;
}

export function j2date(jd: number): [number, number, number] {
  let julian = jd + 32044;
  let quad = Math.floor(julian / 146097);
  const extra = (julian - quad * 146097) * 4 + 3;
  julian += 60 + quad * 3 + Math.floor(extra / 146097);
  quad = Math.floor(julian / 1461);
  julian -= quad * 1461;
  let y = Math.floor((julian * 4) / 1461);
  julian = y !== 0 ? ((julian + 305) % 365) + 123 : ((julian + 306) % 366) + 123;
  y += quad * 4;
  const year = y - 4800;
  quad = Math.floor((julian * 2141) / 65536);
  const day = julian - Math.floor((7834 * quad) / 256);
  const month = ((quad + 10) % 12) + 1;
  return [year, month, day];
}

const dayTab = [
  [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
  [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
];
const isLeap = (y: number) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);

/** DecodeTimezone: "+hh", "+hh:mm[:ss]", "+hhmm" → seconds east. */
function decodeTimezone(s: string): number {
  if (s[0] !== '+' && s[0] !== '-') throw new DtErr(DTERR_BAD_FORMAT);
  const r = /^[+-](\d*)/.exec(s) as RegExpExecArray;
  if ((r[1] as string).length > 9) throw new DtErr(DTERR_TZDISP_OVERFLOW);
  let hr = r[1] === '' ? 0 : parseInt(r[1] as string, 10);
  let cp = r[0].length;
  let min = 0;
  let sec = 0;
  if (s[cp] === ':') {
    const a = strtoint(s, cp + 1);
    min = a.val;
    cp = a.end;
    if (s[cp] === ':') {
      const b = strtoint(s, cp + 1);
      sec = b.val;
      cp = b.end;
    }
  } else if (cp === s.length && s.length > 3) {
    min = hr % 100;
    hr = Math.trunc(hr / 100);
  }
  if (hr < 0 || hr > 15) throw new DtErr(DTERR_TZDISP_OVERFLOW);
  if (min < 0 || min >= 60) throw new DtErr(DTERR_TZDISP_OVERFLOW);
  if (sec < 0 || sec >= 60) throw new DtErr(DTERR_TZDISP_OVERFLOW);
  let tz = (hr * 60 + min) * 60 + sec;
  if (s[0] === '-') tz = -tz;
  if (cp !== s.length) throw new DtErr(DTERR_BAD_FORMAT);
  return tz;
}

/** DecodeNumberField: run-together dates (yyyymmdd, yymmdd) and times (hhmmss, hhmm), with fractions. Returns the mask set. */
function decodeNumberField(str0: string, fmask: number, tm: Tm, st: { is2digits: boolean }): number {
  let str = str0;
  const dot = str.indexOf('.');
  if (dot >= 0) {
    const frac = str.slice(dot);
    if (!/^\.\d*(?:[eE][+-]?\d+)?$/.test(frac)) throw new DtErr(DTERR_BAD_FORMAT);
    tm.fsec = rint(Number(frac === '.' ? '0' : frac) * 1000000);
    str = str.slice(0, dot);
  } else if ((fmask & DTK_DATE_M) !== DTK_DATE_M) {
    if (str.length >= 6) {
      const len = str.length;
      tm.mday = parseInt(str.slice(len - 2), 10);
      tm.mon = parseInt(str.slice(len - 4, len - 2), 10);
      tm.year = parseInt(str.slice(0, len - 4), 10);
      if (len - 4 === 2) st.is2digits = true;
      return DTK_DATE_M;
    }
  }
  if ((fmask & DTK_TIME_M) !== DTK_TIME_M) {
    if (str.length === 6) {
      tm.sec = parseInt(str.slice(4, 6), 10);
      tm.min = parseInt(str.slice(2, 4), 10);
      tm.hour = parseInt(str.slice(0, 2), 10);
      return DTK_TIME_M;
    }
    if (str.length === 4) {
      tm.sec = 0;
      tm.min = parseInt(str.slice(2, 4), 10);
      tm.hour = parseInt(str.slice(0, 2), 10);
      return DTK_TIME_M;
    }
  }
  throw new DtErr(DTERR_BAD_FORMAT);
}

/** DecodeNumber: one numeric field placed by what is already known and DateStyle's order. Returns the mask set. */
function decodeNumber(
  str: string,
  haveTextMonth: boolean,
  fmask: number,
  tm: Tm,
  st: { is2digits: boolean },
  order: DateOrder,
): number {
  const flen = str.length;
  const r = /^\d+/.exec(str);
  if (!r) throw new DtErr(DTERR_BAD_FORMAT);
  if (r[0].length > 10 || Number(r[0]) > 2147483647) throw new DtErr(DTERR_FIELD_OVERFLOW);
  const val = parseInt(r[0], 10);
  const rest = str.slice(r[0].length);
  if (rest.startsWith('.')) {
    if (r[0].length > 2) return decodeNumberField(str, fmask | DTK_DATE_M, tm, st);
    tm.fsec = parseFractionalSecond(rest);
  } else if (rest !== '') throw new DtErr(DTERR_BAD_FORMAT);
  if (flen === 3 && (fmask & DTK_DATE_M) === M(YEAR) && val >= 1 && val <= 366) {
    tm.yday = val;
    return M(DOY) | M(MONTH) | M(DAY);
  }
  let tmask: number;
  switch (fmask & DTK_DATE_M) {
    case 0:
      if (flen >= 3 || order === 'YMD') {
        tmask = M(YEAR);
        tm.year = val;
      } else if (order === 'DMY') {
        tmask = M(DAY);
        tm.mday = val;
      } else {
        tmask = M(MONTH);
        tm.mon = val;
      }
      break;
    case M(YEAR):
      tmask = M(MONTH);
      tm.mon = val;
      break;
    case M(MONTH):
      if (haveTextMonth) {
        if (flen >= 3 || order === 'YMD') {
          tmask = M(YEAR);
          tm.year = val;
        } else {
          tmask = M(DAY);
          tm.mday = val;
        }
      } else {
        tmask = M(DAY);
        tm.mday = val;
      }
      break;
    case M(YEAR) | M(MONTH):
      if (haveTextMonth) {
        if (flen >= 3 && st.is2digits) {
          tmask = M(DAY);
          tm.mday = tm.year;
          tm.year = val;
          st.is2digits = false;
        } else {
          tmask = M(DAY);
          tm.mday = val;
        }
      } else {
        tmask = M(DAY);
        tm.mday = val;
      }
      break;
    case M(DAY):
      tmask = M(MONTH);
      tm.mon = val;
      break;
    case M(MONTH) | M(DAY):
      tmask = M(YEAR);
      tm.year = val;
      break;
    case M(YEAR) | M(MONTH) | M(DAY):
      return decodeNumberField(str, fmask, tm, st);
    default:
      throw new DtErr(DTERR_BAD_FORMAT);
  }
  if (tmask === M(YEAR)) st.is2digits = flen <= 2;
  return tmask;
}

/** DecodeDate: a date field with separators ("1999-01-08", "Jan-08-1999", "1999.008"). Returns the mask set. */
function decodeDate(
  str: string,
  fmask0: number,
  tm: Tm,
  st: { is2digits: boolean },
  order: DateOrder,
): number {
  let fmask = fmask0;
  let tmask = 0;
  const fields: (string | null)[] = [];
  let i = 0;
  while (i < str.length && fields.length < MAXDATEFIELDS) {
    while (i < str.length && !isAlnum(str[i])) i++;
    if (i >= str.length) throw new DtErr(DTERR_BAD_FORMAT);
    let f = '';
    if (isDigit(str[i])) while (isDigit(str[i])) f += str[i++];
    else if (isAlpha(str[i])) while (isAlpha(str[i])) f += str[i++];
    if (i < str.length) i++;
    fields.push(f);
  }
  let haveTextMonth = false;
  for (let k = 0; k < fields.length; k++) {
    const f = fields[k] as string;
    if (isAlpha(f[0])) {
      const tok = datetktbl.get(f.toLowerCase());
      const type = tok ? tok[0] : UNKNOWN_FIELD;
      if (type === IGNORE_DTF) continue;
      if (type !== MONTH) throw new DtErr(DTERR_BAD_FORMAT);
      tm.mon = (tok as [number, number])[1];
      haveTextMonth = true;
      const dmask = M(MONTH);
      if (fmask & dmask) throw new DtErr(DTERR_BAD_FORMAT);
      fmask |= dmask;
      tmask |= dmask;
      fields[k] = null;
    }
  }
  for (const f of fields) {
    if (f === null) continue;
    if (f.length <= 0) throw new DtErr(DTERR_BAD_FORMAT);
    const dmask = decodeNumber(f, haveTextMonth, fmask, tm, st, order);
    if (fmask & dmask) throw new DtErr(DTERR_BAD_FORMAT);
    fmask |= dmask;
    tmask |= dmask;
  }
  if ((fmask & ~(M(DOY) | M(TZ))) !== DTK_DATE_M) throw new DtErr(DTERR_BAD_FORMAT);
  return tmask;
}

/** DecodeTime: "hh:mm[:ss[.f]]" or "mm:ss.f". */
function decodeTime(str: string, tm: Tm): number {
  const a = /^\d+/.exec(str);
  if (!a) throw new DtErr(DTERR_BAD_FORMAT);
  if (a[0].length > 10 || Number(a[0]) > 2147483647) throw new DtErr(DTERR_FIELD_OVERFLOW);
  let hour = parseInt(a[0], 10);
  let cp = a[0].length;
  if (str[cp] !== ':') throw new DtErr(DTERR_BAD_FORMAT);
  const b = strtoint(str, cp + 1);
  if (b.end === cp + 1) throw new DtErr(DTERR_BAD_FORMAT);
  let min = b.val;
  cp = b.end;
  let sec = 0;
  let fsec = 0;
  if (cp === str.length) {
    // hh:mm
  } else if (str[cp] === '.') {
    fsec = parseFractionalSecond(str.slice(cp));
    sec = min;
    min = hour;
    hour = 0;
  } else if (str[cp] === ':') {
    const c = strtoint(str, cp + 1);
    sec = c.val;
    cp = c.end;
    if (str[cp] === '.') fsec = parseFractionalSecond(str.slice(cp));
    else if (cp !== str.length) throw new DtErr(DTERR_BAD_FORMAT);
  } else throw new DtErr(DTERR_BAD_FORMAT);
  if (hour < 0 || min < 0 || min > 59 || sec < 0 || sec > 60 || fsec < 0 || fsec > 1000000)
    throw new DtErr(DTERR_FIELD_OVERFLOW);
  tm.hour = hour;
  tm.min = min;
  tm.sec = sec;
  tm.fsec = fsec;
  return DTK_TIME_M;
}

function timeOverflows(h: number, m: number, s: number, fsec: number): boolean {
  if (h < 0 || h > 24 || m < 0 || m > 59 || s < 0 || s > 60 || fsec < 0 || fsec > 1000000) return true;
  return ((h * 60 + m) * 60 + s) * 1000000 + fsec > 86400 * 1000000;
}

/** ValidateDate: two-digit and BC years, day-of-year, month and day ranges. */
function validateDate(fmask: number, isjulian: boolean, is2digits: boolean, bc: boolean, tm: Tm): void {
  if (fmask & M(YEAR)) {
    if (isjulian) {
      // already a proleptic year
    } else if (bc) {
      if (tm.year <= 0) throw new DtErr(DTERR_FIELD_OVERFLOW);
      tm.year = -(tm.year - 1);
    } else if (is2digits) {
      if (tm.year < 0) throw new DtErr(DTERR_FIELD_OVERFLOW);
      if (tm.year < 70) tm.year += 2000;
      else if (tm.year < 100) tm.year += 1900;
    } else if (tm.year <= 0) throw new DtErr(DTERR_FIELD_OVERFLOW);
  }
  if (fmask & M(DOY)) [tm.year, tm.mon, tm.mday] = j2date(date2j(tm.year, 1, 1) + tm.yday - 1);
  if (fmask & M(MONTH) && (tm.mon < 1 || tm.mon > 12)) throw new DtErr(DTERR_MD_FIELD_OVERFLOW);
  if (fmask & M(DAY) && (tm.mday < 1 || tm.mday > 31)) throw new DtErr(DTERR_MD_FIELD_OVERFLOW);
  if (
    (fmask & DTK_DATE_M) === DTK_DATE_M &&
    tm.mday > (dayTab[isLeap(tm.year) ? 1 : 0] as number[])[tm.mon - 1]!
  )
    throw new DtErr(DTERR_FIELD_OVERFLOW);
}

/** The session's local date and time now. */
function localNow(ctx: DecodeContext): { tm: Tm; offset: number } {
  const nowUs = ctx.now();
  const off = ctx.zones.offsetAtLocal(ctx.timeZone, nowUs);
  const localUs = nowUs + off * 1000000;
  const days = Math.floor(localUs / 86400000000);
  const tod = localUs - days * 86400000000;
  const [year, mon, mday] = j2date(days + 2440588);
  const secs = Math.floor(tod / 1000000);
  return {
    tm: {
      year,
      mon,
      mday,
      hour: Math.floor(secs / 3600),
      min: Math.floor(secs / 60) % 60,
      sec: secs % 60,
      yday: 0,
      fsec: tod - secs * 1000000,
    },
    offset: off,
  };
}

function lookupAbbrev(f: string): { type: number; val: number; zone?: string } | null {
  const a = abbrevs.get(f);
  if (!a) return null;
  if ('zone' in a) return { type: DYNTZ, val: 0, zone: a.zone };
  return { type: a.dst ? DTZ : TZ, val: a.off };
}

/** The local wall-clock micros of a decoded tm (for zone resolution). */
function localMicros(tm: Tm): number {
  return (
    ((date2j(tm.year, tm.mon, tm.mday) - 2440588) * 86400 + tm.hour * 3600 + tm.min * 60 + tm.sec) * 1000000 +
    tm.fsec
  );
}

/**
 * DecodeDateTime: fields → a date/time (kind 'date') or a special value. Throws PgError with
 * datetime.c's codes; `type` names the SQL type in messages.
 */
export function decodeDateTime(s: string, type: string, ctx: DecodeContext): DecodedDateTime {
  try {
    const { fields, ftypes } = parseDateTimeFields(s);
    const r = decodeDateTimeFields(fields, ftypes, ctx);
    if (r === 1) throw new DtErr(DTERR_BAD_FORMAT);
    return r;
  } catch (e) {
    if (e instanceof DtErr) throw dateTimeParseError(e.code, s, type);
    throw e;
  }
}

function decodeDateTimeFields(fields: string[], ftypes: number[], ctx: DecodeContext): DecodedDateTime | 1 {
  const nf = fields.length;
  const tm: Tm = { year: 0, mon: 0, mday: 0, hour: 0, min: 0, sec: 0, yday: 0, fsec: 0 };
  const st = { is2digits: false };
  let fmask = 0;
  let ptype = 0;
  let mer = HR24;
  let haveTextMonth = false;
  let isjulian = false;
  let bc = false;
  let kind: DecodedDateTime['kind'] = 'date';
  let tz: number | null = null;
  let namedTz: string | null = null;
  /** The dynamic abbreviation (lower case) that named namedTz, if one did: resolved by its own history. */
  let dynAbbrev: string | null = null;
  let dtzmod = 0;
  for (let i = 0; i < nf; i++) {
    const f = fields[i] as string;
    let tmask: number;
    switch (ftypes[i]) {
      case DTK_DATE:
        if (ptype === V.Julian) {
          const a = strtoint(f);
          if (a.val < 0) throw new DtErr(DTERR_FIELD_OVERFLOW);
          [tm.year, tm.mon, tm.mday] = j2date(a.val);
          isjulian = true;
          tz = decodeTimezone(f.slice(a.end));
          tmask = DTK_DATE_M | DTK_TIME_M | M(TZ);
          ptype = 0;
          break;
        } else if (ptype !== 0 || (fmask & (M(MONTH) | M(DAY))) === (M(MONTH) | M(DAY))) {
          if (isDigit(f[0]) || ptype !== 0) {
            if (ptype !== 0) {
              if (ptype !== V.Time) throw new DtErr(DTERR_BAD_FORMAT);
              ptype = 0;
            }
            if ((fmask & DTK_TIME_M) === DTK_TIME_M) throw new DtErr(DTERR_BAD_FORMAT);
            const cp = f.indexOf('-');
            if (cp < 0) throw new DtErr(DTERR_BAD_FORMAT);
            tz = decodeTimezone(f.slice(cp));
            tmask = decodeNumberField(f.slice(0, cp), fmask, tm, st) | M(TZ);
          } else {
            if (!ctx.zones.known(f))
              throw new PgError(SqlState.InvalidParameterValue, `time zone "${f}" not recognized`);
            namedTz = f;
            tmask = M(TZ);
          }
        } else tmask = decodeDate(f, fmask, tm, st, ctx.dateOrder);
        break;
      case DTK_TIME:
        if (ptype !== 0) {
          if (ptype !== V.Time) throw new DtErr(DTERR_BAD_FORMAT);
          ptype = 0;
        }
        tmask = decodeTime(f, tm);
        if (timeOverflows(tm.hour, tm.min, tm.sec, tm.fsec)) throw new DtErr(DTERR_FIELD_OVERFLOW);
        break;
      case DTK_TZ:
        tz = decodeTimezone(f);
        tmask = M(TZ);
        break;
      case DTK_NUMBER:
        if (ptype !== 0) {
          const a = strtoint(f);
          const rest = f.slice(a.end);
          if (rest.startsWith('.')) {
            if (ptype !== V.Julian && ptype !== V.Time && ptype !== V.USecond)
              throw new DtErr(DTERR_BAD_FORMAT);
          } else if (rest !== '') throw new DtErr(DTERR_BAD_FORMAT);
          const val = a.val;
          switch (ptype) {
            case V.UYear:
              tm.year = val;
              tmask = M(YEAR);
              break;
            case V.UMonth:
              if (fmask & M(MONTH) && fmask & M(HOUR)) {
                tm.min = val;
                tmask = M(MINUTE);
              } else {
                tm.mon = val;
                tmask = M(MONTH);
              }
              break;
            case V.UDay:
              tm.mday = val;
              tmask = M(DAY);
              break;
            case V.UHour:
              tm.hour = val;
              tmask = M(HOUR);
              break;
            case V.UMinute:
              tm.min = val;
              tmask = M(MINUTE);
              break;
            case V.USecond:
              tm.sec = val;
              tmask = M(SECOND);
              if (rest.startsWith('.')) {
                tm.fsec = parseFractionalSecond(rest);
                tmask = DTK_ALL_SECS_M;
              }
              break;
            case V.Julian: {
              if (val < 0) throw new DtErr(DTERR_FIELD_OVERFLOW);
              tmask = DTK_DATE_M;
              [tm.year, tm.mon, tm.mday] = j2date(val);
              isjulian = true;
              if (rest.startsWith('.')) {
                let t = rint(parseFraction(rest) * 86400000000);
                tm.hour = Math.floor(t / 3600000000);
                t -= tm.hour * 3600000000;
                tm.min = Math.floor(t / 60000000);
                t -= tm.min * 60000000;
                tm.sec = Math.floor(t / 1000000);
                tm.fsec = t - tm.sec * 1000000;
                tmask |= DTK_TIME_M;
              }
              break;
            }
            case V.Time:
              tmask = decodeNumberField(f, fmask | DTK_DATE_M, tm, st);
              if (tmask !== DTK_TIME_M) throw new DtErr(DTERR_BAD_FORMAT);
              break;
            default:
              throw new DtErr(DTERR_BAD_FORMAT);
          }
          ptype = 0;
        } else {
          const flen = f.length;
          const dot = f.indexOf('.');
          if (dot >= 0 && !(fmask & DTK_DATE_M)) tmask = decodeDate(f, fmask, tm, st, ctx.dateOrder);
          else if (dot >= 0 && dot > 2) tmask = decodeNumberField(f, fmask, tm, st);
          else if (flen >= 6 && (!(fmask & DTK_DATE_M) || !(fmask & DTK_TIME_M)))
            tmask = decodeNumberField(f, fmask, tm, st);
          else tmask = decodeNumber(f, haveTextMonth, fmask, tm, st, ctx.dateOrder);
        }
        break;
      case DTK_STRING:
      case DTK_SPECIAL: {
        const ab = lookupAbbrev(f);
        let type: number;
        let val: number;
        let dynZone: string | undefined;
        if (ab && ab.type === DYNTZ) dynAbbrev = f;
        if (ab) {
          type = ab.type;
          val = ab.val;
          dynZone = ab.zone;
        } else {
          const tok = datetktbl.get(f);
          type = tok ? tok[0] : UNKNOWN_FIELD;
          val = tok ? tok[1] : 0;
        }
        if (type === IGNORE_DTF) continue;
        tmask = M(type);
        switch (type) {
          case RESERV:
            switch (val) {
              case V.Now: {
                tmask = DTK_DATE_M | DTK_TIME_M | M(TZ);
                const ln = localNow(ctx);
                Object.assign(tm, ln.tm);
                tz = ln.offset;
                break;
              }
              case V.Yesterday:
              case V.Today:
              case V.Tomorrow: {
                tmask = DTK_DATE_M;
                const ln = localNow(ctx).tm;
                [tm.year, tm.mon, tm.mday] = j2date(
                  date2j(ln.year, ln.mon, ln.mday) + (val === V.Yesterday ? -1 : val === V.Tomorrow ? 1 : 0),
                );
                break;
              }
              case V.Zulu:
                tmask = DTK_TIME_M | M(TZ);
                tm.hour = 0;
                tm.min = 0;
                tm.sec = 0;
                tz = 0;
                break;
              case V.Epoch:
                tmask = DTK_DATE_M | DTK_TIME_M | M(TZ);
                kind = 'epoch';
                // GetEpochTime: the fields are 1970-01-01 00:00:00, so the date checks below pass.
                tm.year = 1970;
                tm.mon = 1;
                tm.mday = 1;
                tm.hour = 0;
                tm.min = 0;
                tm.sec = 0;
                tm.fsec = 0;
                break;
              // 'infinity' and '-infinity' keep tmask M(RESERV), as PostgreSQL's default case does:
              // they claim no date fields, so ValidateDate below does not check the empty ones.
              case V.Late:
                kind = 'late';
                break;
              case V.Early:
                kind = 'early';
                break;
              default:
                throw new DtErr(DTERR_BAD_FORMAT);
            }
            break;
          case MONTH:
            if (fmask & M(MONTH) && !haveTextMonth && !(fmask & M(DAY)) && tm.mon >= 1 && tm.mon <= 31) {
              tm.mday = tm.mon;
              tmask = M(DAY);
            }
            haveTextMonth = true;
            tm.mon = val;
            break;
          case DTZMOD:
            tmask |= M(DTZ);
            dtzmod += val;
            break;
          case DTZ:
            tmask |= M(TZ);
            tz = val;
            break;
          case TZ:
            tz = val;
            break;
          case DYNTZ:
            tmask |= M(TZ);
            namedTz = dynZone as string;
            break;
          case AMPM:
            mer = val;
            break;
          case ADBC:
            bc = val === BC;
            break;
          case DOW:
            break;
          case UNITS:
            tmask = 0;
            ptype = val;
            break;
          case ISOTIME:
            tmask = 0;
            if ((fmask & DTK_DATE_M) !== DTK_DATE_M) throw new DtErr(DTERR_BAD_FORMAT);
            if (
              i >= nf - 1 ||
              (ftypes[i + 1] !== DTK_NUMBER && ftypes[i + 1] !== DTK_TIME && ftypes[i + 1] !== DTK_DATE)
            )
              throw new DtErr(DTERR_BAD_FORMAT);
            ptype = val;
            break;
          case UNKNOWN_FIELD:
            if (!ctx.zones.known(f)) throw new DtErr(DTERR_BAD_FORMAT);
            namedTz = f;
            tmask = M(TZ);
            break;
          default:
            throw new DtErr(DTERR_BAD_FORMAT);
        }
        break;
      }
      default:
        throw new DtErr(DTERR_BAD_FORMAT);
    }
    if (tmask & fmask) throw new DtErr(DTERR_BAD_FORMAT);
    fmask |= tmask;
  }
  validateDate(fmask, isjulian, st.is2digits, bc, tm);
  if (mer !== HR24 && tm.hour > 12) throw new DtErr(DTERR_FIELD_OVERFLOW);
  if (mer === AM && tm.hour === 12) tm.hour = 0;
  else if (mer === PM && tm.hour !== 12) tm.hour += 12;
  let offset = 0;
  if (kind === 'date') {
    if ((fmask & DTK_DATE_M) !== DTK_DATE_M) {
      if ((fmask & DTK_TIME_M) === DTK_TIME_M) return 1;
      throw new DtErr(DTERR_BAD_FORMAT);
    }
    if (namedTz !== null) {
      if (fmask & M(DTZMOD)) throw new DtErr(DTERR_BAD_FORMAT);
      offset =
        dynAbbrev !== null
          ? ctx.zones.abbrevOffsetAtLocal(namedTz, dynAbbrev, localMicros(tm))
          : ctx.zones.offsetAtLocal(namedTz, localMicros(tm));
    } else if (!(fmask & M(TZ))) {
      if (fmask & M(DTZMOD)) throw new DtErr(DTERR_BAD_FORMAT);
      offset = ctx.zones.offsetAtLocal(ctx.timeZone, localMicros(tm));
    } else offset = (tz ?? 0) + dtzmod;
  }
  return {
    kind,
    year: tm.year,
    mon: tm.mon,
    mday: tm.mday,
    hour: tm.hour,
    min: tm.min,
    sec: tm.sec,
    fsec: tm.fsec,
    offset,
  };
}

/**
 * DecodeTimeOnly (time without time zone): a time of day, in microseconds; a date or zone in the
 * input is allowed and ignored, as PostgreSQL does for `time`.
 */
export function decodeTimeOnly(s: string, ctx: DecodeContext, type = 'time without time zone'): number {
  try {
    const { fields, ftypes } = parseDateTimeFields(s);
    const nf = fields.length;
    const tm: Tm = { year: 0, mon: 0, mday: 0, hour: 0, min: 0, sec: 0, yday: 0, fsec: 0 };
    const st = { is2digits: false };
    let fmask = 0;
    let ptype = 0;
    let mer = HR24;
    let bc = false;
    for (let i = 0; i < nf; i++) {
      const f = fields[i] as string;
      let tmask = 0;
      switch (ftypes[i]) {
        case DTK_DATE:
          if (i === 0 && nf >= 2 && (ftypes[nf - 1] === DTK_DATE || ftypes[1] === DTK_TIME))
            tmask = decodeDate(f, fmask, tm, st, ctx.dateOrder);
          else if (isDigit(f[0])) {
            if ((fmask & DTK_TIME_M) === DTK_TIME_M) throw new DtErr(DTERR_BAD_FORMAT);
            const cp = f.indexOf('-');
            if (cp < 0) throw new DtErr(DTERR_BAD_FORMAT);
            decodeTimezone(f.slice(cp));
            tmask = decodeNumberField(f.slice(0, cp), fmask | DTK_DATE_M, tm, st) | M(TZ);
          } else {
            if (!ctx.zones.known(f))
              throw new PgError(SqlState.InvalidParameterValue, `time zone "${f}" not recognized`);
            tmask = M(TZ);
          }
          break;
        case DTK_TIME:
          tmask = decodeTime(f, tm);
          break;
        case DTK_TZ:
          decodeTimezone(f);
          tmask = M(TZ);
          break;
        case DTK_NUMBER:
          if (ptype !== 0) {
            if (ptype !== V.Time) throw new DtErr(DTERR_BAD_FORMAT);
            tmask = decodeNumberField(f, fmask | DTK_DATE_M, tm, st);
            if (tmask !== DTK_TIME_M) throw new DtErr(DTERR_BAD_FORMAT);
            ptype = 0;
          } else {
            const dot = f.indexOf('.');
            if (dot >= 0) {
              if (i === 0 && nf >= 2 && ftypes[nf - 1] === DTK_DATE)
                tmask = decodeDate(f, fmask, tm, st, ctx.dateOrder);
              else if (dot > 2) tmask = decodeNumberField(f, fmask | DTK_DATE_M, tm, st);
              else throw new DtErr(DTERR_BAD_FORMAT);
            } else if (f.length > 4) tmask = decodeNumberField(f, fmask | DTK_DATE_M, tm, st);
            else tmask = decodeNumber(f, false, fmask | DTK_DATE_M, tm, st, ctx.dateOrder);
          }
          break;
        case DTK_STRING:
        case DTK_SPECIAL: {
          const ab = lookupAbbrev(f);
          const tok = ab ? null : datetktbl.get(f);
          const type2 = ab ? ab.type : tok ? tok[0] : UNKNOWN_FIELD;
          const val = ab ? ab.val : tok ? tok[1] : 0;
          if (type2 === IGNORE_DTF) continue;
          tmask = M(type2);
          switch (type2) {
            case RESERV:
              if (val === V.Now) {
                tmask = DTK_TIME_M;
                const ln = localNow(ctx).tm;
                tm.hour = ln.hour;
                tm.min = ln.min;
                tm.sec = ln.sec;
                tm.fsec = ln.fsec;
              } else if (val === V.Zulu) {
                tmask = DTK_TIME_M | M(TZ);
                tm.hour = 0;
                tm.min = 0;
                tm.sec = 0;
              } else throw new DtErr(DTERR_BAD_FORMAT);
              break;
            case DTZMOD:
              tmask |= M(DTZ);
              break;
            case DTZ:
              tmask |= M(TZ);
              break;
            case TZ:
              break;
            case DYNTZ:
              tmask |= M(TZ);
              break;
            case AMPM:
              mer = val;
              break;
            case ADBC:
              bc = val === BC;
              break;
            case UNITS:
              tmask = 0;
              ptype = val;
              break;
            case ISOTIME:
              tmask = 0;
              if (
                i >= nf - 1 ||
                (ftypes[i + 1] !== DTK_NUMBER && ftypes[i + 1] !== DTK_TIME && ftypes[i + 1] !== DTK_DATE)
              )
                throw new DtErr(DTERR_BAD_FORMAT);
              ptype = val;
              break;
            case UNKNOWN_FIELD:
              if (!ctx.zones.known(f)) throw new DtErr(DTERR_BAD_FORMAT);
              tmask = M(TZ);
              break;
            default:
              throw new DtErr(DTERR_BAD_FORMAT);
          }
          break;
        }
        default:
          throw new DtErr(DTERR_BAD_FORMAT);
      }
      if (tmask & fmask) throw new DtErr(DTERR_BAD_FORMAT);
      fmask |= tmask;
    }
    validateDate(fmask, false, st.is2digits, bc, tm);
    if (mer !== HR24 && tm.hour > 12) throw new DtErr(DTERR_FIELD_OVERFLOW);
    if (mer === AM && tm.hour === 12) tm.hour = 0;
    else if (mer === PM && tm.hour !== 12) tm.hour += 12;
    if (timeOverflows(tm.hour, tm.min, tm.sec, tm.fsec)) throw new DtErr(DTERR_FIELD_OVERFLOW);
    if ((fmask & DTK_TIME_M) !== DTK_TIME_M) throw new DtErr(DTERR_BAD_FORMAT);
    return ((tm.hour * 60 + tm.min) * 60 + tm.sec) * 1000000 + tm.fsec;
  } catch (e) {
    if (e instanceof DtErr) throw dateTimeParseError(e.code, s, type);
    throw e;
  }
}
