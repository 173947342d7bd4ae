/**
 * LIKE and ILIKE without a regular-expression engine: the pattern is cut at `%` into segments of
 * literal characters and `_` wildcards; the first segment must match at the start, the last at the
 * end, and each middle one is found leftmost after the previous. Taking the leftmost place for
 * every middle segment is always right (a later place only leaves less room for the rest), so
 * there is no backtracking: matching costs at most O(string length × pattern length), never the
 * exponential time a backtracking regex takes on `%a%a%a%…b`.
 *
 * Characters are code points (`_` matches one). ILIKE compares lower-cased strings.
 */
import { PgError, SqlState } from '@strata/common';

/** A pattern segment: code points, with -1 for `_`. */
type Segment = number[];

export interface LikePattern {
  /** Segments between `%`s; `anchoredStart`/`anchoredEnd` say whether the pattern starts/ends without `%`. */
  segments: Segment[];
  anchoredStart: boolean;
  anchoredEnd: boolean;
  caseInsensitive: boolean;
}

const anyChar = -1;

export function compileLike(pattern: string, caseInsensitive: boolean, escape: string | null): LikePattern {
  let esc: number | null = 0x5c; // backslash
  if (escape !== null) {
    const cps = [...escape];
    if (cps.length > 1)
      throw new PgError(SqlState.InvalidEscapeSequence, 'invalid escape string', {
        hint: 'Escape string must be empty or one character.',
      });
    esc = cps.length === 0 ? null : ((cps[0] as string).codePointAt(0) as number);
  }
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const segments: Segment[] = [[]];
  let anchoredStart = true;
  const cps: number[] = [];
  for (const ch of p) cps.push(ch.codePointAt(0) as number);
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i] as number;
    const seg = segments[segments.length - 1] as Segment;
    if (esc !== null && c === esc) {
      i++;
      if (i >= cps.length)
        throw new PgError(SqlState.InvalidEscapeSequence, 'LIKE pattern must not end with escape character');
      seg.push(cps[i] as number);
    } else if (c === 0x25 /* % */) {
      if (i === 0) anchoredStart = false;
      if (seg.length > 0 || segments.length === 1) segments.push([]);
    } else if (c === 0x5f /* _ */) seg.push(anyChar);
    else seg.push(c);
  }
  // A pattern ending in % leaves an empty last segment: the end is free.
  const last = segments[segments.length - 1] as Segment;
  const anchoredEnd = !(last.length === 0 && segments.length > 1);
  if (!anchoredEnd) segments.pop();
  if (!anchoredStart && (segments[0] as Segment).length === 0) segments.shift();
  return { segments, anchoredStart, anchoredEnd, caseInsensitive };
}

function segmentAt(s: number[], at: number, seg: Segment): boolean {
  if (at + seg.length > s.length) return false;
  for (let j = 0; j < seg.length; j++) {
    const c = seg[j] as number;
    if (c !== anyChar && c !== s[at + j]) return false;
  }
  return true;
}

function codepoints(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      out.push(s.codePointAt(i) as number);
      i++;
    } else out.push(c);
  }
  return out;
}

export function likeMatch(pat: LikePattern, str: string): boolean {
  const s = codepoints(pat.caseInsensitive ? str.toLowerCase() : str);
  const segs = pat.segments;
  if (segs.length === 0) return !pat.anchoredStart || !pat.anchoredEnd || s.length === 0;
  let lo = 0;
  let hi = s.length;
  let first = 0;
  let last = segs.length;
  if (pat.anchoredStart) {
    const seg = segs[0] as Segment;
    if (!segmentAt(s, 0, seg)) return false;
    lo = seg.length;
    first = 1;
    // One segment, no %: the whole string must be exactly it.
    if (segs.length === 1 && pat.anchoredEnd) return seg.length === s.length;
  }
  if (pat.anchoredEnd && last > first) {
    const seg = segs[last - 1] as Segment;
    if (hi - seg.length < lo || !segmentAt(s, hi - seg.length, seg)) return false;
    hi -= seg.length;
    last--;
  }
  for (let k = first; k < last; k++) {
    const seg = segs[k] as Segment;
    let at = lo;
    while (at + seg.length <= hi && !segmentAt(s, at, seg)) at++;
    if (at + seg.length > hi) return false;
    lo = at + seg.length;
  }
  return true;
}
