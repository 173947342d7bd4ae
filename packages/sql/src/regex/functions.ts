/**
 * PostgreSQL 15's regular-expression functions on compiled patterns (regex.ts): the `~` family,
 * SIMILAR TO, substring(… from …), substring(… similar …), and regexp_match, regexp_matches,
 * regexp_replace, regexp_split_to_array/table, regexp_count, regexp_instr, regexp_like,
 * regexp_substr. Positions are in characters (code points), 1-based, as in PostgreSQL.
 */
import { PgError, SqlState } from '@strata/common';
import { compileRegex, parseFlags } from './regex.js';
import type { PgRegex, RegexCache, RegexMatch } from './regex.js';
import { similarToAre } from './similar.js';

/** The statement's cache, or none (expressions folded at bind time have no statement). */
export type CacheArg = RegexCache | null | undefined;

function cacheOf(c: CacheArg): RegexCache | null {
  return c ?? null;
}

/** `s ~ p`, `~*` (caseInsensitive). */
export function regexTest(s: string, p: string, caseInsensitive: boolean, cache: CacheArg): boolean {
  return compileRegex(p, caseInsensitive ? 'i' : '', cacheOf(cache)).test(s);
}

export function similarTest(s: string, p: string, escape: string | null, cache: CacheArg): boolean {
  return compileRegex(similarToAre(p, escape, false), '', cacheOf(cache)).test(s);
}

/** Code points before UTF-16 offset `i`. */
function charIndex(s: string, i: number): number {
  let n = 0;
  for (let k = 0; k < i; k++) {
    const c = s.charCodeAt(k);
    if (c >= 0xd800 && c <= 0xdbff && k + 1 < i) k++;
    n++;
  }
  return n;
}

/** UTF-16 offset of the 1-based character position `pos` (past the end if beyond it). */
function offsetOf(s: string, pos: number): number {
  let i = 0;
  for (let n = 1; n < pos && i < s.length; n++) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
  }
  return Math.min(i, s.length);
}

function span(s: string, start: number, end: number): string | null {
  return start < 0 ? null : s.slice(start, end);
}

/** A match as regexp_match returns it: the groups, or the whole match without groups. */
function matchArray(s: string, m: RegexMatch): (string | null)[] {
  if (m.groups.length === 0) return [s.slice(m.start, m.end)];
  return m.groups.map((g) => span(s, g.start, g.end));
}

/** substring(s from pattern): the first group's text if the pattern has groups, else the match. */
export function substringRegex(s: string, p: string, cache: CacheArg): string | null {
  const re = compileRegex(p, '', cacheOf(cache));
  const m = re.exec(s);
  if (!m) return null;
  const g = m.groups[0];
  return g ? span(s, g.start, g.end) : s.slice(m.start, m.end);
}

/** substring(s similar pattern escape e): the part between the escape-double-quotes. */
export function substringSimilar(
  s: string,
  p: string,
  escape: string | null,
  cache: CacheArg,
): string | null {
  const re = compileRegex(similarToAre(p, escape, true), '', cacheOf(cache));
  const m = re.exec(s);
  if (!m) return null;
  const g = m.groups[0];
  return g ? span(s, g.start, g.end) : s.slice(m.start, m.end);
}

export function regexpMatch(
  s: string,
  p: string,
  flags: string | null,
  cache: CacheArg,
): (string | null)[] | null {
  const f = parseFlags(flags, false, 'regexp_match');
  const m = compileRegex(p, f.options, cacheOf(cache)).exec(s);
  return m ? matchArray(s, m) : null;
}

/** regexp_matches: one array per match (every match with 'g', else the first). */
export function* regexpMatches(
  s: string,
  p: string,
  flags: string | null,
  cache: CacheArg,
): Generator<(string | null)[]> {
  const f = parseFlags(flags, true, 'regexp_matches');
  const re = compileRegex(p, f.options, cacheOf(cache));
  for (const m of re.all(s)) {
    yield matchArray(s, m);
    if (!f.global) return;
  }
}

/** PostgreSQL's replacement text: \1…\9 a group, \& the match, \\ a backslash. */
function expand(repl: string, s: string, m: RegexMatch): string {
  if (!repl.includes('\\')) return repl;
  let out = '';
  for (let i = 0; i < repl.length; i++) {
    const c = repl[i] as string;
    if (c !== '\\' || i + 1 >= repl.length) {
      out += c;
      continue;
    }
    const n = repl[i + 1] as string;
    if (n >= '1' && n <= '9') {
      const g = m.groups[Number(n) - 1];
      if (g && g.start >= 0) out += s.slice(g.start, g.end);
      i++;
    } else if (n === '&') {
      out += s.slice(m.start, m.end);
      i++;
    } else if (n === '\\') {
      out += '\\';
      i++;
    } else out += c;
  }
  return out;
}

/**
 * regexp_replace(s, p, r [, start [, n]] [, flags]): replaces the n-th match at or after
 * character `start` (n = 0: every match), or the first (every one with 'g').
 */
export function regexpReplace(
  s: string,
  p: string,
  repl: string,
  start: number,
  n: number | null,
  flags: string | null,
  cache: CacheArg,
): string {
  const f = parseFlags(flags, true, 'regexp_replace');
  if (start <= 0)
    throw new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "start": ${start}`);
  if (n !== null && n < 0)
    throw new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "n": ${n}`);
  const re = compileRegex(p, f.options, cacheOf(cache));
  const nth = n ?? (f.global ? 0 : 1);
  let out = '';
  let last = 0;
  let k = 0;
  for (const m of re.all(s, offsetOf(s, start))) {
    k++;
    if (nth !== 0 && k < nth) continue;
    out += s.slice(last, m.start) + expand(repl, s, m);
    last = m.end;
    if (nth !== 0) break;
  }
  return out + s.slice(last);
}

/** regexp_split_to_array/table: the text between matches (empty matches at either end or right after a match do not split). */
export function regexpSplit(s: string, p: string, flags: string | null, cache: CacheArg): string[] {
  const f = parseFlags(flags, false, 'regexp_split_to_array');
  const re = compileRegex(p, f.options, cacheOf(cache));
  const out: string[] = [];
  // PostgreSQL ignores "degenerate" matches: an empty match at the very start or end, or one that
  // ends where the previous kept match ended.
  let last = 0;
  for (const m of re.all(s)) {
    if (m.start >= s.length || m.end <= last) continue;
    out.push(s.slice(last, m.start));
    last = m.end;
  }
  out.push(s.slice(last));
  return out;
}

function positiveStart(start: number): void {
  if (start <= 0)
    throw new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "start": ${start}`);
}

function nthMatch(re: PgRegex, s: string, start: number, n: number): RegexMatch | null {
  if (n <= 0) throw new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "n": ${n}`);
  let k = 0;
  for (const m of re.all(s, offsetOf(s, start))) if (++k === n) return m;
  return null;
}

export function regexpCount(
  s: string,
  p: string,
  start: number,
  flags: string | null,
  cache: CacheArg,
): number {
  positiveStart(start);
  const f = parseFlags(flags, false, 'regexp_count');
  let k = 0;
  for (const _ of compileRegex(p, f.options, cacheOf(cache)).all(s, offsetOf(s, start))) k++;
  return k;
}

export function regexpLike(s: string, p: string, flags: string | null, cache: CacheArg): boolean {
  const f = parseFlags(flags, false, 'regexp_like');
  return compileRegex(p, f.options, cacheOf(cache)).test(s);
}

function groupOf(m: RegexMatch, sub: number, groups: number): { start: number; end: number } | null {
  if (sub < 0)
    throw new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "subexpr": ${sub}`);
  if (sub === 0) return { start: m.start, end: m.end };
  if (sub > groups) return null;
  const g = m.groups[sub - 1] as { start: number; end: number };
  return g.start < 0 ? null : g;
}

export function regexpInstr(
  s: string,
  p: string,
  start: number,
  n: number,
  endOption: number,
  flags: string | null,
  sub: number,
  cache: CacheArg,
): number {
  positiveStart(start);
  if (endOption !== 0 && endOption !== 1)
    throw new PgError(
      SqlState.InvalidParameterValue,
      `invalid value for parameter "endoption": ${endOption}`,
    );
  const f = parseFlags(flags, false, 'regexp_instr');
  const re = compileRegex(p, f.options, cacheOf(cache));
  const m = nthMatch(re, s, start, n);
  const g = m ? groupOf(m, sub, re.groupCount) : null;
  if (!g) return 0;
  return charIndex(s, endOption === 1 ? g.end : g.start) + 1;
}

export function regexpSubstr(
  s: string,
  p: string,
  start: number,
  n: number,
  flags: string | null,
  sub: number,
  cache: CacheArg,
): string | null {
  positiveStart(start);
  const f = parseFlags(flags, false, 'regexp_substr');
  const re = compileRegex(p, f.options, cacheOf(cache));
  const m = nthMatch(re, s, start, n);
  const g = m ? groupOf(m, sub, re.groupCount) : null;
  return g ? s.slice(g.start, g.end) : null;
}
