/**
 * Compiled PostgreSQL regular expressions on re2js (a pure-JavaScript port of RE2: matching time is
 * linear in the input, whatever the pattern). Patterns are translated from PostgreSQL's ARE syntax
 * (translate.ts), compiled once per statement (the statement's cache, bounded), and refused beyond
 * regexInstructionsMax instructions.
 *
 * Match semantics: a pattern without non-greedy quantifiers finds the leftmost-longest match, as
 * PostgreSQL does; with one, the leftmost-first (Perl) match. PostgreSQL mixes both rules per
 * subexpression, so for patterns mixing greedy and non-greedy quantifiers, and for which group of
 * an ambiguous alternation captures what, answers may differ (the overall match of greedy patterns
 * does not).
 */
import { PgError, SqlState } from '@strata/common';
import { RE2JS } from 're2js';
import { regexCacheEntriesMax, regexInstructionsMax } from '../constants.js';
import { applyOption, defaultOptions, invalidRegex, translateAre } from './translate.js';

export interface RegexCache {
  regexCache: Map<string, PgRegex>;
}

/** One match: [start, end) of the whole match and of each group (-1 for a group that did not take part). */
export interface RegexMatch {
  start: number;
  end: number;
  groups: { start: number; end: number }[];
}

export class PgRegex {
  constructor(
    readonly re: RE2JS,
    /** Capturing groups of the pattern. */
    readonly groupCount: number,
  ) {}

  test(s: string): boolean {
    return this.re.test(s);
  }

  /** The first match at or after UTF-16 offset `from`, or null. */
  exec(s: string, from = 0): RegexMatch | null {
    const m = this.re.matcher(s);
    if (!m.find(from)) return null;
    const groups: { start: number; end: number }[] = [];
    for (let g = 1; g <= this.groupCount; g++) groups.push({ start: m.start(g), end: m.end(g) });
    return { start: m.start(0), end: m.end(0), groups };
  }

  /**
   * Every match from `from` on, as PostgreSQL's global matching finds them: after an empty match
   * the search resumes one character further (so the same empty match is not found forever).
   */
  *all(s: string, from = 0): Generator<RegexMatch> {
    let pos = from;
    while (pos <= s.length) {
      const m = this.exec(s, pos);
      if (!m) return;
      yield m;
      if (m.end > m.start) pos = m.end;
      else pos = m.end + (m.end < s.length && isHighSurrogate(s.charCodeAt(m.end)) ? 2 : 1);
    }
  }
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

export interface RegexFlags {
  /** Option letters for the pattern (without g). */
  options: string;
  global: boolean;
}

/** Splits a regexp_* flags argument into option letters and `g`. */
export function parseFlags(flags: string | null, allowGlobal: boolean, fn: string): RegexFlags {
  let options = '';
  let global = false;
  for (const c of flags ?? '') {
    if (c === 'g') {
      if (!allowGlobal)
        throw new PgError(SqlState.InvalidParameterValue, `${fn}() does not support the "global" option`, {
          hint: fn === 'regexp_match' ? 'Use the regexp_matches function instead.' : undefined,
        });
      global = true;
    } else options += c;
  }
  return { options, global };
}

/**
 * Compiles a PostgreSQL ARE with option letters (`i` for `~*`, a regexp_* flags argument),
 * through the statement's cache.
 */
export function compileRegex(pattern: string, options: string, cache: RegexCache | null): PgRegex {
  const key = options + '\u0000' + pattern;
  const hit = cache?.regexCache.get(key);
  if (hit) return hit;
  const o = defaultOptions();
  for (const c of options)
    if (!applyOption(o, c))
      throw invalidRegex('basic and extended regular expressions (options b and e) are not supported');
  const t = translateAre(pattern, o);
  let flags = 0;
  if (t.options.caseInsensitive) flags |= RE2JS.CASE_INSENSITIVE;
  if (!t.options.newlineStopsDot) flags |= RE2JS.DOTALL;
  if (t.options.multiline) flags |= RE2JS.MULTILINE;
  if (t.lookbehind) flags |= RE2JS.LOOKBEHINDS;
  if (!t.nonGreedy) flags |= RE2JS.LONGEST_MATCH;
  let re: RE2JS;
  try {
    re = RE2JS.compile(t.source, flags);
  } catch (e) {
    const msg = (e as Error).message.replace(/^error parsing regexp: /, '');
    throw invalidRegex(msg);
  }
  if (re.programSize() > regexInstructionsMax) throw invalidRegex('regular expression is too complex');
  const compiled = new PgRegex(re, t.groups);
  if (cache) {
    if (cache.regexCache.size >= regexCacheEntriesMax) cache.regexCache.clear();
    cache.regexCache.set(key, compiled);
  }
  return compiled;
}
