/**
 * The SQL lexer: PostgreSQL's lexical rules (identifiers folded to lower case unless quoted,
 * '' and E'' strings, $tag$ dollar quoting, $n parameters, -- and nested /* *\/ comments,
 * numeric literals, operators). Every token keeps its 0-based offset for error positions.
 */
import { PgError, SqlState, invalidUtf8Error, invalidUtf8Offset } from '@strata/common';
import { lexSliceChars } from '../constants.js';
import type { BulkValues, Expr } from './ast.js';

export type TokenType = 'ident' | 'qident' | 'keyword' | 'string' | 'bitstring' | 'number' | 'param' | 'op' | 'punct' | 'eof' | 'literals' | 'rows';

export interface Token {
  type: TokenType;
  /** Identifiers: folded name; keywords: lower case; strings: the decoded value. */
  value: string;
  pos: number;
  /** 'literals' (bulk_lists.ts): the literal items of a long IN list, and their values. */
  items?: Expr[];
  bulk?: BulkValues;
  /** 'rows' (bulk_lists.ts): the literal rows of a long VALUES list. */
  rows?: Expr[][];
}

/** Reserved words that cannot be bare column aliases or identifiers (a practical subset). */
export const reserved = new Set([
  'all', 'analyse', 'analyze', 'and', 'any', 'array', 'as', 'asc', 'asymmetric', 'both', 'case', 'cast', 'check', 'collate',
  'column', 'constraint', 'create', 'current_catalog', 'current_date', 'current_role', 'current_time', 'current_timestamp',
  'current_user', 'default', 'deferrable', 'desc', 'distinct', 'do', 'else', 'end', 'except', 'false', 'fetch', 'for',
  'foreign', 'from', 'grant', 'group', 'having', 'in', 'initially', 'intersect', 'into', 'lateral', 'leading', 'limit',
  'localtime', 'localtimestamp', 'not', 'null', 'offset', 'on', 'only', 'or', 'order', 'placing', 'primary', 'references',
  'returning', 'select', 'session_user', 'some', 'symmetric', 'table', 'then', 'to', 'trailing', 'true', 'union', 'unique',
  'user', 'using', 'variadic', 'when', 'where', 'window', 'with',
  // Not reserved in PostgreSQL, but they may not be bare aliases after an expression.
  'join', 'inner', 'left', 'right', 'full', 'outer', 'cross', 'natural', 'is', 'isnull', 'notnull', 'like', 'ilike', 'between',
  'similar', 'over', 'filter', 'within', 'escape',
]);

const opChars = '+-*/<>=~!@#%^&|`?';

// Sticky regular expressions: matched in place at lastIndex (no slice of the rest of the statement).
const continuationRe = /[ \t\r\f]*\n\s*'/y;
const numberRe = /\d+(_\d+)*\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?/y;
const identStartRe = /[A-Za-z_\u0080-\uffff]/;
/** Always matches (possibly empty), leaving lastIndex after the identifier's rest. */
const identRestRe = /[A-Za-z_0-9$\u0080-\uffff]*/y;

export function lex(sql: string): Token[] {
  const out: Token[] = [];
  lexFrom(sql, 0, out, sql.length);
  out.push({ type: 'eof', value: '', pos: sql.length });
  return out;
}

/**
 * Lexes in slices, returning to the event loop every lexSliceChars characters: a 10 MB statement
 * is cut into ~40 steps of a few milliseconds instead of one.
 */
export async function lexAsync(sql: string): Promise<Token[]> {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    i = lexFrom(sql, i, out, i + lexSliceChars);
    if (i < sql.length) await new Promise((res) => setImmediate(res));
  }
  out.push({ type: 'eof', value: '', pos: sql.length });
  return out;
}

/** Appends the tokens starting at `from` until one starts at or after `stopAt`; returns where it stopped. */
function lexFrom(sql: string, from: number, out: Token[], stopAt: number): number {
  let i = from;
  const n = sql.length;
  const err = (msg: string, pos: number) => new PgError(SqlState.SyntaxError, msg, { position: pos + 1 });
  while (i < n) {
    if (i >= stopAt) return i;
    const c = sql[i] as string;
    // whitespace
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    // comments
    if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      let depth = 1;
      const start = i;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      if (depth > 0) throw err('unterminated /* comment at or near "/*"', start);
      continue;
    }
    const start = i;
    // strings: '…', E'…', N'…', B'…', X'…'
    if (c === "'" || ((c === 'e' || c === 'E') && sql[i + 1] === "'") || ((c === 'n' || c === 'N') && sql[i + 1] === "'")) {
      const escape = c === 'e' || c === 'E';
      if (c !== "'") i++;
      i++;
      let s = '';
      /** Set when \\x or octal escapes put bytes in the literal: it is checked as UTF-8 at its end. */
      let hasBytes = false;
      for (;;) {
        if (!escape) {
          // Copy up to the next quote in one slice (a 10 MB literal is one indexOf, not 10M appends).
          const q = sql.indexOf("'", i);
          if (q < 0) throw err('unterminated quoted string at or near "' + sql.slice(start, start + 20) + '"', start);
          s += sql.slice(i, q);
          i = q;
        }
        if (i >= n) throw err('unterminated quoted string at or near "' + sql.slice(start, start + 20) + '"', start);
        const ch = sql[i] as string;
        if (ch === "'") {
          if (sql[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          // Adjacent string literals separated by a newline are concatenated (SQL standard).
          continuationRe.lastIndex = i;
          const m = continuationRe.exec(sql);
          if (m) {
            i += m[0].length;
            continue;
          }
          break;
        }
        if (escape && ch === '\\') {
          const nx = sql[i + 1] as string;
          i += 2;
          switch (nx) {
            case 'n':
              s += '\n';
              break;
            case 't':
              s += '\t';
              break;
            case 'r':
              s += '\r';
              break;
            case 'b':
              s += '\b';
              break;
            case 'f':
              s += '\f';
              break;
            case 'x': {
              const m = /^[0-9a-fA-F]{1,2}/.exec(sql.slice(i, i + 2));
              if (m) {
                s += byteMark(parseInt(m[0], 16));
                hasBytes = true;
                i += m[0].length;
              } else s += 'x';
              break;
            }
            case 'u':
            case 'U': {
              // \uXXXX or \UXXXXXXXX; a high surrogate must be followed by a low one (scan.l).
              const len = nx === 'u' ? 4 : 8;
              const hex = sql.slice(i, i + len);
              if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) {
                throw new PgError(SqlState.InvalidEscapeSequence, 'invalid Unicode escape', { position: i - 1, hint: 'Unicode escapes must be \\uXXXX or \\UXXXXXXXX.' });
              }
              i += len;
              let cp = parseInt(hex, 16);
              if (cp >= 0xd800 && cp <= 0xdbff) {
                const m = /^\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))/.exec(sql.slice(i, i + 10));
                const lo = m ? parseInt((m[1] ?? m[2]) as string, 16) : -1;
                if (!m || lo < 0xdc00 || lo > 0xdfff) throw new PgError(SqlState.SyntaxError, 'invalid Unicode surrogate pair', { position: i });
                i += m[0].length;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
              } else if (cp >= 0xdc00 && cp <= 0xdfff) throw new PgError(SqlState.SyntaxError, 'invalid Unicode surrogate pair', { position: i - len - 1 });
              if (cp === 0 || cp > 0x10ffff) throw new PgError(SqlState.SyntaxError, 'invalid Unicode escape value', { position: i - len - 1 });
              s += String.fromCodePoint(cp);
              break;
            }
            default:
              if (nx >= '0' && nx <= '7') {
                const m = /^[0-7]{1,3}/.exec(sql.slice(i - 1, i + 2)) as RegExpExecArray;
                s += byteMark(parseInt(m[0], 8) & 0xff);
                hasBytes = true;
                i += m[0].length - 1;
              } else s += nx;
          }
          continue;
        }
        s += ch;
        i++;
      }
      if (hasBytes) s = decodeByteMarks(s, start);
      out.push({ type: 'string', value: s, pos: start });
      continue;
    }
    if ((c === 'u' || c === 'U') && sql[i + 1] === '&' && (sql[i + 2] === "'" || sql[i + 2] === '"')) {
      // U&'…' strings and U&"…" identifiers: \XXXX and \+XXXXXX escapes, optional UESCAPE 'c'.
      const quote = sql[i + 2] as string;
      i += 3;
      let raw = '';
      for (;;) {
        if (i >= n) throw err(`unterminated ${quote === "'" ? 'quoted string' : 'quoted identifier'} at or near "${sql.slice(start, start + 20)}"`, start);
        if (sql[i] === quote) {
          if (sql[i + 1] === quote) {
            raw += quote;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        raw += sql[i++];
      }
      let esc = '\\';
      const um = /^\s+uescape\s+'([^'])'/i.exec(sql.slice(i, i + 64));
      if (um) {
        esc = um[1] as string;
        if (/[0-9a-fA-F+'"\s]/.test(esc)) throw err('invalid Unicode escape character', i);
        i += um[0].length;
      }
      const value = decodeUnicodeEscapes(raw, esc, start);
      if (quote === "'") out.push({ type: 'string', value, pos: start });
      else {
        if (value === '') throw err('zero-length delimited identifier at or near """"', start);
        out.push({ type: 'qident', value, pos: start });
      }
      continue;
    }
    if ((c === 'b' || c === 'B' || c === 'x' || c === 'X') && sql[i + 1] === "'") {
      const hex = c === 'x' || c === 'X';
      i += 2;
      let s = '';
      while (i < n && sql[i] !== "'") s += sql[i++];
      if (i >= n) throw err('unterminated bit string literal', start);
      i++;
      out.push({ type: 'bitstring', value: (hex ? 'x' : 'b') + s, pos: start });
      continue;
    }
    // dollar quoting / parameters
    if (c === '$') {
      const pm = /^\$(\d+)/.exec(sql.slice(i));
      if (pm) {
        out.push({ type: 'param', value: pm[1] as string, pos: start });
        i += pm[0].length;
        continue;
      }
      const dm = /^\$([A-Za-z_][A-Za-z_0-9]*)?\$/.exec(sql.slice(i));
      if (dm) {
        const tag = dm[0];
        const end = sql.indexOf(tag, i + tag.length);
        if (end < 0) throw err('unterminated dollar-quoted string at or near "' + tag + '"', start);
        out.push({ type: 'string', value: sql.slice(i + tag.length, end), pos: start });
        i = end + tag.length;
        continue;
      }
    }
    // quoted identifier
    if (c === '"') {
      i++;
      let s = '';
      for (;;) {
        if (i >= n) throw err('unterminated quoted identifier at or near "' + sql.slice(start, start + 20) + '"', start);
        if (sql[i] === '"') {
          if (sql[i + 1] === '"') {
            s += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += sql[i++];
      }
      if (s === '') throw err('zero-length delimited identifier at or near """"', start);
      out.push({ type: 'qident', value: s, pos: start });
      continue;
    }
    // numbers
    if ((c >= '0' && c <= '9') || (c === '.' && sql[i + 1] !== undefined && sql[i + 1] as string >= '0' && (sql[i + 1] as string) <= '9')) {
      numberRe.lastIndex = i;
      const m = numberRe.exec(sql) as RegExpExecArray;
      let v = m[0];
      // "1..2" or "1.foo": a trailing dot followed by an identifier is not part of the number
      if (v.endsWith('.') && /^[A-Za-z_.]/.test(sql[i + v.length] ?? '')) v = v.slice(0, -1);
      i += v.length;
      // A name glued to a number ("50d") lexes as the number then the name, as in PostgreSQL 15.
      out.push({ type: 'number', value: v.includes('_') ? v.replace(/_/g, '') : v, pos: start });
      continue;
    }
    // identifiers / keywords
    if (identStartRe.test(c)) {
      identRestRe.lastIndex = i + 1;
      identRestRe.exec(sql);
      const j = identRestRe.lastIndex;
      const word = sql.slice(i, j);
      i = j;
      out.push({ type: 'ident', value: word.toLowerCase(), pos: start });
      continue;
    }
    // punctuation
    if ('(),;[]'.includes(c)) {
      out.push({ type: 'punct', value: c, pos: start });
      i++;
      continue;
    }
    if (c === ':' && sql[i + 1] === ':') {
      out.push({ type: 'op', value: '::', pos: start });
      i += 2;
      continue;
    }
    if (c === ':' && sql[i + 1] === '=') {
      out.push({ type: 'op', value: ':=', pos: start });
      i += 2;
      continue;
    }
    if (c === ':') {
      out.push({ type: 'punct', value: ':', pos: start });
      i++;
      continue;
    }
    if (c === '.') {
      out.push({ type: 'punct', value: '.', pos: start });
      i++;
      continue;
    }
    if (opChars.includes(c)) {
      let j = i;
      while (j < n && opChars.includes(sql[j] as string)) {
        // a comment start ends the operator
        if ((sql[j] === '-' && sql[j + 1] === '-') || (sql[j] === '/' && sql[j + 1] === '*')) break;
        j++;
      }
      let op = sql.slice(i, j);
      // PostgreSQL: a multi-char operator cannot end in + or - unless it contains ~ ! @ # % ^ & | ` ?
      while (op.length > 1 && (op.endsWith('+') || op.endsWith('-')) && !/[~!@#%^&|`?]/.test(op)) op = op.slice(0, -1);
      i += op.length;
      out.push({ type: 'op', value: op, pos: start });
      continue;
    }
    throw err(`syntax error at or near "${c}"`, start);
  }
  return i;
}

/**
 * Escapes `\\xHH` and `\\ooo` in E'…' strings stand for bytes, not characters (PostgreSQL): the
 * literal's bytes must then form valid UTF-8 without NUL (22021 otherwise). While lexing, a byte
 * is kept as a private-use marker character, and the literal is re-encoded at its end.
 */
const byteMarkBase = 0xf0000;

function byteMark(b: number): string {
  return String.fromCodePoint(byteMarkBase + b);
}

function decodeByteMarks(s: string, pos: number): string {
  const parts: Buffer[] = [];
  let text = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp >= byteMarkBase && cp < byteMarkBase + 256) {
      if (text) parts.push(Buffer.from(text, 'utf8'));
      text = '';
      parts.push(Buffer.from([cp - byteMarkBase]));
    } else text += ch;
  }
  if (text) parts.push(Buffer.from(text, 'utf8'));
  const b = Buffer.concat(parts);
  const bad = invalidUtf8Offset(b);
  if (bad >= 0) {
    const e = invalidUtf8Error(b, bad);
    throw new PgError(e.code, e.message, { position: pos + 1 });
  }
  return b.toString('utf8');
}

/** The body of a U&'…' literal with escape character `esc`: \\XXXX, \\+XXXXXX and a doubled escape (scan.l's str_udeescape). */
function decodeUnicodeEscapes(raw: string, esc: string, pos: number): string {
  let out = '';
  let pendingHigh = -1;
  const bad = (): PgError => new PgError(SqlState.SyntaxError, 'invalid Unicode escape', { position: pos + 1, hint: `Unicode escapes must be ${esc}XXXX or ${esc}+XXXXXX.` });
  for (let i = 0; i < raw.length; ) {
    const c = raw[i] as string;
    if (c !== esc) {
      if (pendingHigh >= 0) throw new PgError(SqlState.SyntaxError, 'invalid Unicode surrogate pair', { position: pos + 1 });
      out += c;
      i++;
      continue;
    }
    if (raw[i + 1] === esc) {
      if (pendingHigh >= 0) throw new PgError(SqlState.SyntaxError, 'invalid Unicode surrogate pair', { position: pos + 1 });
      out += esc;
      i += 2;
      continue;
    }
    let hex: string;
    if (raw[i + 1] === '+') {
      hex = raw.slice(i + 2, i + 8);
      if (!/^[0-9a-fA-F]{6}$/.test(hex)) throw bad();
      i += 8;
    } else {
      hex = raw.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw bad();
      i += 5;
    }
    const cp = parseInt(hex, 16);
    if (pendingHigh >= 0) {
      if (cp < 0xdc00 || cp > 0xdfff) throw new PgError(SqlState.SyntaxError, 'invalid Unicode surrogate pair', { position: pos + 1 });
      out += String.fromCodePoint(0x10000 + ((pendingHigh - 0xd800) << 10) + (cp - 0xdc00));
      pendingHigh = -1;
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdbff) {
      pendingHigh = cp;
      continue;
    }
    if (cp >= 0xdc00 && cp <= 0xdfff) throw new PgError(SqlState.SyntaxError, 'invalid Unicode surrogate pair', { position: pos + 1 });
    if (cp === 0 || cp > 0x10ffff) throw new PgError(SqlState.SyntaxError, 'invalid Unicode escape value', { position: pos + 1 });
    out += String.fromCodePoint(cp);
  }
  if (pendingHigh >= 0) throw new PgError(SqlState.SyntaxError, 'invalid Unicode surrogate pair', { position: pos + 1 });
  return out;
}
