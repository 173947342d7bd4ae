/**
 * record_in: the text form of a composite value, `(f1,f2,…)`, split into its fields' texts as
 * PostgreSQL's rowtypes.c reads it — white space around the parentheses is skipped; a field is
 * empty (NULL) or its characters, where `"…"` quotes (with `""` for a quote inside) and a backslash
 * takes the next character as it is; white space inside a field is kept. Each text is then read by
 * its field's type (the caller's `parse`).
 */
import { PgError, SqlState } from '@strata/common';

/** The fields' texts (null for an empty, unquoted field); 22P02 for malformed input. */
export function splitRecordText(s: string, fieldCount: number): (string | null)[] {
  const bad = (detail: string) => new PgError(SqlState.InvalidTextRepresentation, `malformed record literal: "${s}"`, { detail });
  let i = 0;
  while (i < s.length && /\s/.test(s[i] as string)) i++;
  if (s[i] !== '(') throw bad('Missing left parenthesis.');
  i++;
  const out: (string | null)[] = [];
  for (let f = 0; f < fieldCount; f++) {
    if (f > 0) {
      if (s[i] !== ',') throw bad('Too few columns.');
      i++;
    }
    if (s[i] === ',' || s[i] === ')') {
      out.push(null);
      continue;
    }
    let text = '';
    let inQuote = false;
    while (inQuote || (s[i] !== ',' && s[i] !== ')')) {
      const c = s[i];
      if (c === undefined) throw bad('Unexpected end of input.');
      if (c === '\\') {
        const n = s[i + 1];
        if (n === undefined) throw bad('Unexpected end of input.');
        text += n;
        i += 2;
      } else if (c === '"') {
        if (inQuote && s[i + 1] === '"') {
          text += '"';
          i += 2;
        } else {
          inQuote = !inQuote;
          i++;
        }
      } else {
        text += c;
        i++;
      }
    }
    out.push(text);
  }
  if (s[i] !== ')') throw bad(s[i] === ',' ? 'Too many columns.' : 'Too few columns.');
  i++;
  while (i < s.length && /\s/.test(s[i] as string)) i++;
  if (i !== s.length) throw bad('Junk after right parenthesis.');
  return out;
}
