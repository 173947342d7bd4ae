/**
 * to_char(timestamp | timestamptz | date, text): PostgreSQL 15's DCH_to_char (formatting.c) —
 * its keyword table (upper, capitalized and lower-case forms, longest match first), the FM prefix
 * (no padding), the TH/th suffix (ordinals), TM (accepted; the C locale's names are the only
 * ones), double-quoted literals with backslash escapes, and the field widths it prints.
 * Infinite values are NULL (the caller checks).
 */
import { PgError, SqlState } from '@strata/common';
import { civilFromDays, daysFromCivil, usPerHour, usPerMin, usPerSec } from '../types/datetime.js';
import { loadZone, tzAbbrevAt } from '../types/tzfile.js';

const monthsFull = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const daysFull = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const romanMonths = ['I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X', 'XI', 'XII'];

/** DCH_keywords in PostgreSQL's order: for each first letter, longer keywords before their prefixes. */
const keywords = [
  'A.D.', 'A.M.', 'AD', 'AM', 'B.C.', 'BC', 'CC', 'DAY', 'DDD', 'DD', 'DY', 'Day', 'Dy', 'D',
  'FF1', 'FF2', 'FF3', 'FF4', 'FF5', 'FF6', 'FX', 'HH24', 'HH12', 'HH', 'IDDD', 'ID', 'IW', 'IYYY', 'IYY', 'IY', 'I',
  'J', 'MI', 'MM', 'MONTH', 'MON', 'MS', 'Month', 'Mon', 'OF', 'P.M.', 'PM', 'Q', 'RM', 'SSSSS', 'SSSS', 'SS',
  'TZH', 'TZM', 'TZ', 'US', 'WW', 'W', 'Y,YYY', 'YYYY', 'YYY', 'YY', 'Y',
  'a.d.', 'a.m.', 'ad', 'am', 'b.c.', 'bc', 'cc', 'day', 'ddd', 'dd', 'dy', 'd',
  'ff1', 'ff2', 'ff3', 'ff4', 'ff5', 'ff6', 'fx', 'hh24', 'hh12', 'hh', 'iddd', 'id', 'iw', 'iyyy', 'iyy', 'iy', 'i',
  'j', 'mi', 'mm', 'month', 'mon', 'ms', 'of', 'p.m.', 'pm', 'q', 'rm', 'sssss', 'ssss', 'ss',
  'tzh', 'tzm', 'tz', 'us', 'ww', 'w', 'y,yyy', 'yyyy', 'yyy', 'yy', 'y',
];

/** Keywords that print numbers (TH applies to them). */
const numeric = new Set([
  'CC', 'DDD', 'DD', 'D', 'HH24', 'HH12', 'HH', 'IDDD', 'ID', 'IW', 'IYYY', 'IYY', 'IY', 'I', 'J', 'MI', 'MM', 'MS', 'Q',
  'SSSSS', 'SSSS', 'SS', 'TZM', 'US', 'WW', 'W', 'Y,YYY', 'YYYY', 'YYY', 'YY', 'Y', 'FF1', 'FF2', 'FF3', 'FF4', 'FF5', 'FF6',
]);

/** The local fields of the value being printed. */
export interface DateTimeFields {
  /** Proleptic year (0 is 1 BC), month 1–12, day 1–31. */
  y: number;
  m: number;
  d: number;
  /** Microseconds since local midnight. */
  tod: number;
  /** Seconds east of UTC (0 for timestamp and date). */
  off: number;
  /** The zone, for TZ (null: no zone, TZ prints nothing). */
  zone: string | null;
  /** The instant (µs since 1970, UTC), for the zone's abbreviation. */
  utc: number;
}

/** str_numth: "st", "nd", "rd", "th" after a number's text. */
function ordinal(s: string, upper: boolean): string {
  const last = s.charCodeAt(s.length - 1) - 48;
  const prev = s.length > 1 ? s.charCodeAt(s.length - 2) - 48 : -1;
  let suf = 'th';
  if (prev !== 1) suf = last === 1 ? 'st' : last === 2 ? 'nd' : last === 3 ? 'rd' : 'th';
  return upper ? suf.toUpperCase() : suf;
}

/** "%0*d": zero-padded to `w` (a minus sign counts in the width, as printf). */
function zpad(n: number, w: number): string {
  const neg = n < 0;
  const s = String(Math.abs(n)).padStart(neg ? w - 1 : w, '0');
  return neg ? '-' + s : s;
}

function isoYearOf(days: number): number {
  const dowMon = (((days + 3) % 7) + 7) % 7;
  return civilFromDays(days - dowMon + 3)[0];
}
/** The Monday starting ISO week 1 of ISO year y (day count). */
function isoYearStart(y: number): number {
  const jan4 = daysFromCivil(y, 1, 4);
  return jan4 - ((((jan4 + 3) % 7) + 7) % 7);
}

function zoneAbbrev(f: DateTimeFields): string {
  if (f.zone === null) return '';
  const z = loadZone(f.zone);
  const a = z ? tzAbbrevAt(z, Math.floor(f.utc / usPerSec)) : null;
  if (a === null) throw new PgError(SqlState.FeatureNotSupported, `to_char TZ is not supported for time zone "${f.zone}" at this time`);
  return a;
}

export function toCharDateTime(f: DateTimeFields, fmt: string): string {
  const days = daysFromCivil(f.y, f.m, f.d);
  const wday = (((days + 4) % 7) + 7) % 7; // 0 = Sunday
  const yday = days - daysFromCivil(f.y, 1, 1) + 1;
  const hour = Math.floor(f.tod / usPerHour);
  const ay = f.y <= 0 ? -(f.y - 1) : f.y; // ADJUST_YEAR
  const bc = f.y <= 0;
  const pm = hour % 24 >= 12;
  const offAbs = Math.abs(f.off);
  const field = (kw: string, fm: boolean, tm: boolean): string => {
    const w = (n: number, width: number) => (fm ? String(n) : zpad(n, width));
    // TM prints the locale's names unpadded (the C locale's are the only ones here).
    const text = (s: string, width: number) => (fm || tm ? s : s.padEnd(width));
    switch (kw) {
      case 'A.D.': case 'B.C.': return bc ? 'B.C.' : 'A.D.';
      case 'a.d.': case 'b.c.': return bc ? 'b.c.' : 'a.d.';
      case 'AD': case 'BC': return bc ? 'BC' : 'AD';
      case 'ad': case 'bc': return bc ? 'bc' : 'ad';
      case 'A.M.': case 'P.M.': return pm ? 'P.M.' : 'A.M.';
      case 'a.m.': case 'p.m.': return pm ? 'p.m.' : 'a.m.';
      case 'AM': case 'PM': return pm ? 'PM' : 'AM';
      case 'am': case 'pm': return pm ? 'pm' : 'am';
      case 'CC': case 'cc': {
        const i = f.y > 0 ? Math.trunc((f.y - 1) / 100) + 1 : Math.trunc(f.y / 100) - 1;
        return i <= 99 && i >= -99 ? (fm ? String(i) : zpad(i, i >= 0 ? 2 : 3)) : String(i);
      }
      case 'DAY': return text((daysFull[wday] as string).toUpperCase(), 9);
      case 'Day': return text(daysFull[wday] as string, 9);
      case 'day': return text((daysFull[wday] as string).toLowerCase(), 9);
      case 'DY': return (daysFull[wday] as string).slice(0, 3).toUpperCase();
      case 'Dy': return (daysFull[wday] as string).slice(0, 3);
      case 'dy': return (daysFull[wday] as string).slice(0, 3).toLowerCase();
      case 'DDD': case 'ddd': return w(yday, 3);
      case 'DD': case 'dd': return w(f.d, 2);
      case 'D': case 'd': return String(wday + 1);
      case 'ID': case 'id': return String(wday === 0 ? 7 : wday);
      case 'IDDD': case 'iddd': return w(days - isoYearStart(isoYearOf(days)) + 1, 3);
      case 'IW': case 'iw': return w(Math.floor((days - isoYearStart(isoYearOf(days))) / 7) + 1, 2);
      case 'IYYY': case 'iyyy': case 'IYY': case 'iyy': case 'IY': case 'iy': case 'I': case 'i': {
        const iy0 = isoYearOf(days);
        const iy = iy0 <= 0 ? -(iy0 - 1) : iy0;
        const n = kw.length;
        if (n === 4) return iy0 <= 9999 && iy0 >= -9998 ? w(iy, iy >= 0 ? 4 : 5) : String(iy);
        return n === 1 ? String(iy % 10) : w(iy % 10 ** n, n);
      }
      case 'FF1': case 'FF2': case 'FF3': case 'FF4': case 'FF5': case 'FF6':
      case 'ff1': case 'ff2': case 'ff3': case 'ff4': case 'ff5': case 'ff6': {
        const n = Number(kw[2]);
        return zpad(Math.floor((f.tod % usPerSec) / 10 ** (6 - n)), n);
      }
      case 'FX': case 'fx': return '';
      case 'HH24': case 'hh24': return w(hour, 2);
      case 'HH12': case 'hh12': case 'HH': case 'hh': return w(hour % 12 === 0 ? 12 : hour % 12, 2);
      case 'J': case 'j': return String(days + 2440588);
      case 'MI': case 'mi': return w(Math.floor(f.tod / usPerMin) % 60, 2);
      case 'MM': case 'mm': return w(f.m, 2);
      case 'MONTH': return text((monthsFull[f.m - 1] as string).toUpperCase(), 9);
      case 'Month': return text(monthsFull[f.m - 1] as string, 9);
      case 'month': return text((monthsFull[f.m - 1] as string).toLowerCase(), 9);
      case 'MON': return (monthsFull[f.m - 1] as string).slice(0, 3).toUpperCase();
      case 'Mon': return (monthsFull[f.m - 1] as string).slice(0, 3);
      case 'mon': return (monthsFull[f.m - 1] as string).slice(0, 3).toLowerCase();
      // MS and US ignore FM ("%03d", "%06d").
      case 'MS': case 'ms': return zpad(Math.floor((f.tod % usPerSec) / 1000), 3);
      case 'US': case 'us': return zpad(f.tod % usPerSec, 6);
      case 'OF': case 'of': {
        let s = (f.off >= 0 ? '+' : '-') + w(Math.floor(offAbs / 3600), 2);
        if (offAbs % 3600 !== 0) s += ':' + zpad(Math.floor((offAbs % 3600) / 60), 2);
        return s;
      }
      case 'Q': case 'q': return String(Math.floor((f.m - 1) / 3) + 1);
      case 'RM': return fm ? (romanMonths[f.m - 1] as string) : (romanMonths[f.m - 1] as string).padEnd(4);
      case 'rm': return fm ? (romanMonths[f.m - 1] as string).toLowerCase() : (romanMonths[f.m - 1] as string).toLowerCase().padEnd(4);
      case 'SSSSS': case 'SSSS': case 'sssss': case 'ssss': return String(Math.floor(f.tod / usPerSec));
      case 'SS': case 'ss': return w(Math.floor(f.tod / usPerSec) % 60, 2);
      case 'TZH': case 'tzh': return (f.off >= 0 ? '+' : '-') + zpad(Math.floor(offAbs / 3600), 2);
      case 'TZM': case 'tzm': return zpad(Math.floor((offAbs % 3600) / 60), 2);
      case 'TZ': return zoneAbbrev(f).toUpperCase();
      case 'tz': return zoneAbbrev(f).toLowerCase();
      case 'WW': case 'ww': return w(Math.floor((yday - 1) / 7) + 1, 2);
      case 'W': case 'w': return String(Math.floor((f.d - 1) / 7) + 1);
      case 'Y,YYY': case 'y,yyy': return `${Math.floor(ay / 1000)},${zpad(ay % 1000, 3)}`;
      case 'YYYY': case 'yyyy': return f.y <= 9999 && f.y >= -9998 ? w(ay, 4) : String(ay);
      case 'YYY': case 'yyy': return w(ay % 1000, 3);
      case 'YY': case 'yy': return w(ay % 100, 2);
      case 'Y': case 'y': return String(ay % 10);
      default: return '';
    }
  };
  let out = '';
  let i = 0;
  while (i < fmt.length) {
    // prefix suffixes: FM (fill mode), TM (translation: the C locale's names)
    // One prefix at most (parse_format); a prefix not followed by a keyword is dropped.
    let fm = false;
    let tm = false;
    let j = i;
    const two = fmt.slice(j, j + 2);
    if (two === 'FM' || two === 'fm') {
      fm = true;
      j += 2;
    } else if (two === 'TM' || two === 'tm') {
      tm = true;
      j += 2;
    }
    const kw = keywords.find((k) => fmt.startsWith(k, j));
    // parse_format: a prefix with no keyword after it is dropped, and the text after it is read
    // as literal characters in the same step (no second prefix check).
    if (kw === undefined) i = j;
    if (i >= fmt.length) break;
    if (kw !== undefined) {
      let s = field(kw, fm, tm);
      j += kw.length;
      const post = fmt.slice(j, j + 2);
      if (post === 'TH' || post === 'th') {
        if (numeric.has(kw.toUpperCase())) s += ordinal(s, post === 'TH');
        j += 2;
      } else if (post === 'SP' || post === 'sp') j += 2;
      out += s;
      i = j;
      continue;
    }
    const c = fmt[i] as string;
    if (c === '"') {
      i++;
      while (i < fmt.length) {
        if (fmt[i] === '"') {
          i++;
          break;
        }
        if (fmt[i] === '\\' && i + 1 < fmt.length) i++;
        out += fmt[i];
        i++;
      }
      continue;
    }
    if (c === '\\' && fmt[i + 1] === '"') {
      out += '"';
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}
