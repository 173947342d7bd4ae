/**
 * SQL's SIMILAR TO patterns, turned into PostgreSQL AREs the way PostgreSQL 15 does it
 * (similar_escape_internal in regexp.c): `%` → `.*`, `_` → `.`, `(` non-capturing, `.^$\` literal,
 * bracket expressions copied, the escape character (default `\`) quoting the next character, and
 * the whole wrapped in `^(?: … )$`. The ARE then runs on the linear-time engine like any other.
 *
 * For SUBSTRING(s SIMILAR p ESCAPE e), two escape-double-quote separators (`e"`) split the pattern
 * into three parts; the middle one is captured and returned. PostgreSQL makes the first part match
 * as little as possible with `{1,1}?`; RE2 would keep that part's own quantifiers greedy, so here
 * every quantifier of the first part is made lazy instead (`%` → `.*?`, `a*` → `a*?`, `{2,}` →
 * `{2,}?`), which gives the same answer for the usual patterns ('abcdefg' SIMILAR 'a*#"%#"g*' is
 * 'abcdefg', as in PostgreSQL).
 */
import { PgError, SqlState } from '@strata/common';

export function similarToAre(pattern: string, escape: string | null, forSubstring: boolean): string {
  let e: string | null = escape ?? '\\';
  if (escape !== null) {
    const chars = [...escape];
    if (chars.length === 0) e = null;
    else if (chars.length > 1)
      throw new PgError(SqlState.InvalidEscapeSequence, 'invalid escape string', {
        hint: 'Escape string must be empty or one character.',
      });
  }
  let out = '^(?:';
  let afterEscape = false;
  let inClass = false;
  let quotes = 0;
  for (const c of pattern) {
    if (afterEscape) {
      if (c === '"' && !inClass) {
        if (quotes === 0) out += forSubstring ? ')(' : '){1,1}?(';
        else if (quotes === 1) out += forSubstring ? ')(?:' : '){1,1}(?:';
        else
          throw new PgError(
            SqlState.InvalidUseOfEscapeCharacter,
            'SQL regular expression may not contain more than two escape-double-quote separators',
          );
        quotes++;
      } else out += '\\' + c;
      afterEscape = false;
    } else if (e !== null && c === e) afterEscape = true;
    else if (inClass) {
      if (c === '\\') out += '\\';
      out += c;
      if (c === ']') inClass = false;
    } else if (c === '[') {
      out += c;
      inClass = true;
    } else if (c === '%') out += forSubstring && quotes === 0 ? '.*?' : '.*';
    else if (forSubstring && quotes === 0 && (c === '*' || c === '+' || c === '?' || c === '}')) out += c + '?';
    else if (c === '_') out += '.';
    else if (c === '(') out += '(?:';
    else if (c === '\\' || c === '.' || c === '^' || c === '$') out += '\\' + c;
    else out += c;
  }
  // A trailing escape character is dropped, as PostgreSQL does.
  return out + ')$';
}
