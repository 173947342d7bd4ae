/**
 * Time zones from the system's tz database (/usr/share/zoneinfo), the files PostgreSQL itself
 * reads when built with system tzdata (Debian's packages are): TZif transitions, then the
 * file's POSIX TZ rule for instants after the last transition. Using the same files makes
 * offsets agree with PostgreSQL's to the second, including zones whose meaning the ICU data in
 * Node differs on (ICU makes PST8PDT a link to America/Los_Angeles, with its 1883 LMT offset).
 * Names are matched case-insensitively, as pg_tzset does. Callers fall back to Intl when a zone
 * has no file.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tzFilesCachedMax } from '../constants.js';

const zoneDir = '/usr/share/zoneinfo';

interface Rule {
  /** The abbreviations the rule names ("CET", "CEST"; "+04" for a quoted "<+04>"). */
  stdName: string;
  dstName: string | null;
  stdOff: number;
  dstOff: number | null;
  start: RuleDate | null;
  end: RuleDate | null;
}

type RuleDate =
  | { kind: 'M'; month: number; week: number; day: number; time: number }
  | { kind: 'J'; day: number; time: number }
  | { kind: 'N'; day: number; time: number };

export interface TzData {
  /** Transition instants, seconds since the Unix epoch (UTC), ascending. */
  times: number[];
  /** The UTC offset (seconds east) in force from each transition on. */
  offsets: number[];
  /** The offset before the first transition. */
  initial: number;
  /** The abbreviation before the first transition (local time type 0, e.g. "LMT"). */
  initialAbbrev: string | null;
  rule: Rule | null;
  /** The abbreviation (upper case as the file has it, "MSK", "+04") in force from each transition on. */
  abbrevs: string[];
  /** Whether each transition's local time type is daylight-saving time. */
  isDst: boolean[];
}

const cache = new Map<string, TzData | null>();
let index: Map<string, string> | null = null;

function buildIndex(): Map<string, string> {
  const m = new Map<string, string>();
  const walk = (dir: string, prefix: string, depth: number): void => {
    if (depth > 3) return;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (n.startsWith('.') || n === 'posix' || n === 'right') continue;
      const p = join(dir, n);
      const rel = prefix ? `${prefix}/${n}` : n;
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p, rel, depth + 1);
      else m.set(rel.toLowerCase(), rel);
    }
  };
  walk(zoneDir, '', 0);
  return m;
}

/** The zone's data, or null if the system has no such file (or it is not TZif). */
export function loadZone(name: string): TzData | null {
  const key = name.toLowerCase();
  if (cache.has(key)) return cache.get(key) ?? null;
  if (!/^[A-Za-z0-9_+\-/]+$/.test(name) || name.includes('..')) return null;
  index ??= buildIndex();
  const rel = index.get(key);
  let data: TzData | null = null;
  if (rel !== undefined) {
    try {
      data = parseTzif(readFileSync(join(zoneDir, rel)));
    } catch {
      data = null;
    }
  }
  if (cache.size >= tzFilesCachedMax) cache.clear();
  cache.set(key, data);
  return data;
}

function parseTzif(b: Buffer): TzData | null {
  if (b.toString('latin1', 0, 4) !== 'TZif') return null;
  const version = b[4] as number;
  const counts = (at: number) => ({
    isut: b.readUInt32BE(at + 20),
    isstd: b.readUInt32BE(at + 24),
    leap: b.readUInt32BE(at + 28),
    time: b.readUInt32BE(at + 32),
    type: b.readUInt32BE(at + 36),
    chars: b.readUInt32BE(at + 40),
  });
  let c = counts(0);
  let at = 44;
  let timeSize = 4;
  if (version >= 0x32) {
    // Skip the 32-bit block; the 64-bit one follows with its own header.
    at += c.time * 4 + c.time + c.type * 6 + c.chars + c.leap * 8 + c.isstd + c.isut;
    c = counts(at);
    at += 44;
    timeSize = 8;
  }
  const times: number[] = [];
  for (let i = 0; i < c.time; i++)
    times.push(timeSize === 8 ? Number(b.readBigInt64BE(at + i * 8)) : b.readInt32BE(at + i * 4));
  at += c.time * timeSize;
  const idx: number[] = [];
  for (let i = 0; i < c.time; i++) idx.push(b[at + i] as number);
  at += c.time;
  const typeOff: number[] = [];
  const typeDst: boolean[] = [];
  const typeAbbr: string[] = [];
  const charsAt = at + c.type * 6;
  for (let i = 0; i < c.type; i++) {
    typeOff.push(b.readInt32BE(at + i * 6));
    typeDst.push(b[at + i * 6 + 4] !== 0);
    const from = charsAt + (b[at + i * 6 + 5] as number);
    const nul = b.indexOf(0, from);
    typeAbbr.push(b.toString('latin1', from, nul < 0 || nul > charsAt + c.chars ? charsAt + c.chars : nul));
  }
  at += c.type * 6 + c.chars + c.leap * (timeSize + 4) + c.isstd + c.isut;
  let rule: Rule | null = null;
  if (timeSize === 8 && b[at] === 0x0a) {
    const end = b.indexOf(0x0a, at + 1);
    if (end > at + 1) rule = parsePosixTz(b.toString('latin1', at + 1, end));
  }
  return {
    times,
    offsets: idx.map((k) => typeOff[k] ?? 0),
    initial: typeOff[0] ?? 0,
    initialAbbrev: typeAbbr[0] ?? null,
    rule,
    abbrevs: idx.map((k) => typeAbbr[k] ?? ''),
    isDst: idx.map((k) => typeDst[k] ?? false),
  };
}

/** POSIX TZ: std offset [dst [offset] [,start[/time],end[/time]]]; offsets are west-positive. */
function parsePosixTz(s: string): Rule | null {
  let i = 0;
  let last = '';
  const name = (): boolean => {
    if (s[i] === '<') {
      const e = s.indexOf('>', i);
      if (e < 0) return false;
      last = s.slice(i + 1, e);
      i = e + 1;
      return true;
    }
    const m = /^[A-Za-z]{3,}/.exec(s.slice(i));
    if (!m) return false;
    last = m[0];
    i += m[0].length;
    return true;
  };
  const hms = (): number | null => {
    const m = /^([+-]?)(\d{1,3})(?::(\d{1,2}))?(?::(\d{1,2}))?/.exec(s.slice(i));
    if (!m) return null;
    i += m[0].length;
    const v = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
    return m[1] === '-' ? -v : v;
  };
  if (!name()) return null;
  const stdName = last;
  const std = hms();
  if (std === null) return null;
  const rule: Rule = { stdName, dstName: null, stdOff: -std, dstOff: null, start: null, end: null };
  if (i >= s.length) return rule;
  if (!name()) return null;
  rule.dstName = last;
  let dst = -std + 3600;
  if (s[i] !== ',' && i < s.length) {
    const d = hms();
    if (d === null) return null;
    dst = -d;
  }
  rule.dstOff = dst;
  const date = (): RuleDate | null => {
    let r: RuleDate;
    const mm = /^M(\d{1,2})\.(\d)\.(\d)/.exec(s.slice(i));
    const jj = /^J(\d{1,3})/.exec(s.slice(i));
    const nn = /^(\d{1,3})/.exec(s.slice(i));
    if (mm) {
      r = { kind: 'M', month: Number(mm[1]), week: Number(mm[2]), day: Number(mm[3]), time: 7200 };
      i += mm[0].length;
    } else if (jj) {
      r = { kind: 'J', day: Number(jj[1]), time: 7200 };
      i += jj[0].length;
    } else if (nn) {
      r = { kind: 'N', day: Number(nn[1]), time: 7200 };
      i += nn[0].length;
    } else return null;
    if (s[i] === '/') {
      i++;
      const t = hms();
      if (t === null) return null;
      r.time = t;
    }
    return r;
  };
  if (s[i] !== ',') return null;
  i++;
  rule.start = date();
  if (s[i] !== ',') return null;
  i++;
  rule.end = date();
  return rule.start && rule.end ? rule : null;
}

const isLeap = (y: number) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
function daysBeforeYear(y: number): number {
  // Days from 1970-01-01 to y-01-01 (proleptic Gregorian).
  const yy = y - 1;
  return yy * 365 + Math.floor(yy / 4) - Math.floor(yy / 100) + Math.floor(yy / 400) - 719162;
}
const monthStart = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/** Seconds from the start of year y (local) to the rule date's local transition time. */
function ruleSeconds(r: RuleDate, y: number): number {
  let day: number;
  if (r.kind === 'J') day = r.day - 1 + (isLeap(y) && r.day >= 60 ? 1 : 0);
  else if (r.kind === 'N') day = r.day;
  else {
    const first = (monthStart[r.month - 1] as number) + (isLeap(y) && r.month > 2 ? 1 : 0);
    const dowFirst = (((daysBeforeYear(y) + first + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday (4)
    let d = first + ((r.day - dowFirst + 7) % 7) + (r.week - 1) * 7;
    const monthLen = [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][r.month - 1] as number;
    while (d >= first + monthLen) d -= 7;
    day = d;
  }
  return day * 86400 + r.time;
}

function ruleOffset(rule: Rule, t: number): number {
  if (rule.dstOff === null || !rule.start || !rule.end) return rule.stdOff;
  const y = new Date(t * 1000).getUTCFullYear();
  const base = daysBeforeYear(y) * 86400;
  const start = base + ruleSeconds(rule.start, y) - rule.stdOff;
  const end = base + ruleSeconds(rule.end, y) - rule.dstOff;
  const inDst = start < end ? t >= start && t < end : !(t >= end && t < start);
  return inDst ? rule.dstOff : rule.stdOff;
}

/** The UTC offset (seconds east) of a zone at an instant (seconds since the epoch, UTC). */
export function tzOffsetAt(z: TzData, t: number): number {
  const ts = z.times;
  if (ts.length === 0 || t < (ts[0] as number))
    return ts.length === 0 && z.rule ? ruleOffset(z.rule, t) : z.initial;
  if (t >= (ts[ts.length - 1] as number) && z.rule) return ruleOffset(z.rule, t);
  let lo = 0;
  let hi = ts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((ts[mid] as number) <= t) lo = mid;
    else hi = mid - 1;
  }
  return z.offsets[lo] as number;
}

/**
 * pg_interpret_timezone_abbrev: what `abbrev` (upper case) meant in zone `z` at instant `t`
 * (seconds since the epoch, UTC) — the newest use of it at or before `t`, else the oldest use
 * after `t`; null if the zone never used it. PostgreSQL extends a zone's transitions with its
 * POSIX rule, so past the last transition the rule's own names count as the newest meanings.
 */
export function tzInterpretAbbrev(z: TzData, abbrev: string, t: number): { off: number; isDst: boolean } | null {
  const ts = z.times;
  const rule = z.rule;
  if (rule && (ts.length === 0 || t >= (ts[ts.length - 1] as number))) {
    if (rule.stdName === abbrev) return { off: rule.stdOff, isDst: false };
    if (rule.dstName === abbrev && rule.dstOff !== null) return { off: rule.dstOff, isDst: true };
  }
  // The first transition after t (binary search), then backwards, then forwards.
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t < (ts[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  for (let i = lo - 1; i >= 0; i--)
    if (z.abbrevs[i] === abbrev) return { off: z.offsets[i] as number, isDst: z.isDst[i] as boolean };
  for (let i = lo; i < ts.length; i++)
    if (z.abbrevs[i] === abbrev) return { off: z.offsets[i] as number, isDst: z.isDst[i] as boolean };
  return null;
}

/**
 * The abbreviation in force in zone `z` at instant `t` (seconds since the epoch, UTC), as
 * to_char's TZ prints it (before the first transition: local time type 0, as PostgreSQL);
 * null if the file names none.
 */
export function tzAbbrevAt(z: TzData, t: number): string | null {
  const ts = z.times;
  const rule = z.rule;
  if (rule && (ts.length === 0 || t >= (ts[ts.length - 1] as number))) {
    return ruleOffset(rule, t) === rule.stdOff || rule.dstName === null ? rule.stdName : rule.dstName;
  }
  if (ts.length === 0 || t < (ts[0] as number)) return z.initialAbbrev;
  let lo = 0;
  let hi = ts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((ts[mid] as number) <= t) lo = mid;
    else hi = mid - 1;
  }
  return z.abbrevs[lo] ?? null;
}
