/**
 * JSON text in and SQL values to JSON, as PostgreSQL's json/jsonb input and to_jsonb do them.
 *
 * jsonb keeps numbers as numeric: a number is held as a JS number only when that loses nothing
 * (an integer of at most 15 digits written plainly), otherwise as a Decimal, so
 * '9007199254740993', '0.10' and '1e2' read back as PostgreSQL prints them (9007199254740993,
 * 0.10, 100).
 */
import { PgError, SqlState } from '@strata/common';
import { SqlStateX } from '../sqlstate.js';
import { Decimal } from './numeric.js';

/** Nesting bound for JSON input, as PostgreSQL's max_stack_depth guard (json.sql nests 10,000 levels and expects 54001). */
export const jsonDepthMax = 6400;

function syntax(s: string, detail: string): PgError {
  return new PgError(SqlState.InvalidTextRepresentation, 'invalid input syntax for type json', { detail });
}

/** Parses JSON text; `jsonb` also refuses \u0000 (which jsonb cannot hold), as PostgreSQL. */
export function parseJsonText(s: string, jsonb = true): unknown {
  let i = 0;
  const n = s.length;
  const ws = (): void => {
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const value = (depth: number): unknown => {
    if (depth > jsonDepthMax)
      throw new PgError(SqlState.StatementTooComplex, 'stack depth limit exceeded', {
        hint: 'Increase the configuration parameter "max_stack_depth"',
      });
    ws();
    if (i >= n) throw syntax(s, 'The input string ended unexpectedly.');
    const c = s[i] as string;
    if (c === '{') {
      i++;
      const o: Record<string, unknown> = {};
      ws();
      if (s[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        ws();
        if (s[i] !== '"') throw syntax(s, `Expected string, but found "${s.slice(i, i + 1)}".`);
        const k = str();
        ws();
        if (s[i] !== ':') throw syntax(s, `Expected ":", but found "${s.slice(i, i + 1)}".`);
        i++;
        // Later duplicates win (jsonb keeps the last value of a key).
        Object.defineProperty(o, k, {
          value: value(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === '}') {
          i++;
          return o;
        }
        throw syntax(
          s,
          i >= n
            ? 'The input string ended unexpectedly.'
            : `Expected "," or "}", but found "${s.slice(i, i + 1)}".`,
        );
      }
    }
    if (c === '[') {
      i++;
      const a: unknown[] = [];
      ws();
      if (s[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value(depth + 1));
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === ']') {
          i++;
          return a;
        }
        throw syntax(
          s,
          i >= n
            ? 'The input string ended unexpectedly.'
            : `Expected "," or "]", but found "${s.slice(i, i + 1)}".`,
        );
      }
    }
    if (c === '"') return str();
    if (c === '-' || (c >= '0' && c <= '9')) return num();
    for (const [w, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (s.startsWith(w, i) && !/[A-Za-z0-9_]/.test(s[i + w.length] ?? '')) {
        i += w.length;
        return v;
      }
    }
    const tok = /^[A-Za-z0-9_]+/.exec(s.slice(i, i + 64))?.[0] ?? c;
    throw syntax(s, `Token "${tok}" is invalid.`);
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) throw syntax(s, 'The input string ended unexpectedly.');
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        out += s.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20)
        throw syntax(s, `Character with value 0x${c.toString(16).padStart(2, '0')} must be escaped.`);
      if (c === 0x5c) {
        out += s.slice(start, i);
        const e = s[i + 1];
        i += 2;
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const h = s.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h))
              throw syntax(s, '"\\u" must be followed by four hexadecimal digits.');
            i += 4;
            const cp = parseInt(h, 16);
            if (cp === 0 && jsonb)
              throw new PgError(SqlStateX.UntranslatableCharacter, 'unsupported Unicode escape sequence', {
                detail: '\\u0000 cannot be converted to text.',
              });
            if (cp >= 0xd800 && cp <= 0xdbff) {
              const lo = /^\\u([dD][c-fC-F][0-9a-fA-F]{2})/.exec(s.slice(i, i + 6));
              if (!lo)
                throw syntax(s, 'Unicode high surrogate must not be followed by another high surrogate.');
              out += String.fromCharCode(cp, parseInt(lo[1] as string, 16));
              i += 6;
            } else if (cp >= 0xdc00 && cp <= 0xdfff)
              throw syntax(s, 'Unicode low surrogate must follow a high surrogate.');
            else out += String.fromCharCode(cp);
            break;
          }
          default:
            throw syntax(s, `Escape sequence "\\${e ?? ''}" is invalid.`);
        }
        start = i;
        continue;
      }
      i++;
    }
  };
  const num = (): unknown => {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(s.slice(i));
    if (!m || /[A-Za-z0-9_.]/.test(s[i + m[0].length] ?? '')) {
      const tok = /^[-A-Za-z0-9_.+]+/.exec(s.slice(i, i + 64))?.[0] ?? s[i];
      throw syntax(s, `Token "${tok}" is invalid.`);
    }
    i += m[0].length;
    return jsonNumber(m[0]);
  };
  const v = value(0);
  ws();
  if (i < n) throw syntax(s, `Expected end of input, but found "${s.slice(i, i + 1)}".`);
  return v;
}

/** A JSON number as held in jsonb: a JS number when exact and plainly written, else a Decimal. */
export function jsonNumber(text: string): number | Decimal {
  if (/^-?(?:0|[1-9][0-9]{0,14})$/.test(text) && text !== '-0') return Number(text);
  return Decimal.parse(text);
}

/** The end (exclusive) of the JSON value starting at `i` in valid JSON text `s`. */
function skipValue(s: string, i0: number): number {
  let i = i0;
  let depth = 0;
  do {
    const c = s[i];
    if (c === '"') {
      i++;
      while (s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '{' || c === '[') {
      depth++;
      i++;
    } else if (c === '}' || c === ']') {
      depth--;
      i++;
    } else if (depth > 0) i++;
    else {
      while (i < s.length && !/[\s,}\]]/.test(s[i] as string)) i++;
    }
  } while (depth > 0 && i < s.length);
  return i;
}

/**
 * The source text of one element of a json (not jsonb) value — json keeps its input text, so
 * `->` returns the element as written (PostgreSQL's json_object_field/json_array_element):
 * by index for arrays (negative counts from the end), by key for objects (the last duplicate).
 * Undefined when there is no such element. `s` must be valid JSON.
 */
export function jsonTextElement(s: string, key: string | number): string | undefined {
  let i = 0;
  const ws = () => {
    while (i < s.length && /\s/.test(s[i] as string)) i++;
  };
  ws();
  const open = s[i];
  if (open === '[' && typeof key === 'number') {
    const items: [number, number][] = [];
    i++;
    ws();
    if (s[i] === ']') return undefined;
    for (;;) {
      ws();
      const st = i;
      i = skipValue(s, i);
      items.push([st, i]);
      ws();
      if (s[i] === ',') i++;
      else break;
    }
    const k = key < 0 ? items.length + key : key;
    const it = items[k];
    return it ? s.slice(it[0], it[1]) : undefined;
  }
  if (open === '{' && typeof key === 'string') {
    let found: string | undefined;
    i++;
    ws();
    if (s[i] === '}') return undefined;
    for (;;) {
      ws();
      const ks = i;
      i = skipValue(s, i);
      const k = JSON.parse(s.slice(ks, i)) as string;
      ws();
      i++; // ':'
      ws();
      const st = i;
      i = skipValue(s, i);
      if (k === key) found = s.slice(st, i);
      ws();
      if (s[i] === ',') i++;
      else break;
    }
    return found;
  }
  return undefined;
}

/** jsonb_pretty: four-space indentation, one element per line, as jsonb's pretty output. */
export function formatJsonbPretty(j: unknown, formatScalar: (v: unknown) => string, indent = ''): string {
  const next = indent + '    ';
  if (Array.isArray(j)) {
    if (j.length === 0) return '[\n' + indent + ']';
    return '[\n' + j.map((x) => next + formatJsonbPretty(x, formatScalar, next)).join(',\n') + '\n' + indent + ']';
  }
  if (j !== null && typeof j === 'object' && !(j instanceof Decimal)) {
    const o = j as Record<string, unknown>;
    const keys = Object.keys(o).sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
    if (keys.length === 0) return '{\n' + indent + '}';
    return '{\n' + keys.map((k) => `${next}${JSON.stringify(k)}: ${formatJsonbPretty(o[k], formatScalar, next)}`).join(',\n') + '\n' + indent + '}';
  }
  return formatScalar(j);
}

/**
 * The top level of JSON text, split without re-formatting: an array's element texts, an object's
 * (key, value text) pairs in written order (duplicates kept, as the json type keeps them), or a
 * scalar. The text is assumed valid (json values are checked on input).
 */
export function jsonTextEntries(s: string): { kind: 'array'; items: string[] } | { kind: 'object'; pairs: [string, string][] } | { kind: 'scalar' } {
  let i = 0;
  const ws = () => {
    while (i < s.length && /\s/.test(s[i] as string)) i++;
  };
  ws();
  const open = s[i];
  if (open !== '[' && open !== '{') return { kind: 'scalar' };
  i++;
  ws();
  if (open === '[') {
    const items: string[] = [];
    if (s[i] === ']') return { kind: 'array', items };
    for (;;) {
      ws();
      const st = i;
      i = skipValue(s, i);
      items.push(s.slice(st, i));
      ws();
      if (s[i] === ',') i++;
      else break;
    }
    return { kind: 'array', items };
  }
  const pairs: [string, string][] = [];
  if (s[i] === '}') return { kind: 'object', pairs };
  for (;;) {
    ws();
    const ks = i;
    i = skipValue(s, i);
    const k = JSON.parse(s.slice(ks, i)) as string;
    ws();
    i++; // ':'
    ws();
    const st = i;
    i = skipValue(s, i);
    pairs.push([k, s.slice(st, i)]);
    ws();
    if (s[i] === ',') i++;
    else break;
  }
  return { kind: 'object', pairs };
}
