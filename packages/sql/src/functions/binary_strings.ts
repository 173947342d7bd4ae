/**
 * Binary-string (bytea) functions and the text functions that mirror them, as PostgreSQL's
 * varlena.c and encode.c define them: encode/decode (hex, base64, escape), md5/sha2 of bytea,
 * substr/trim/position/overlay-style functions on bytea, get/set_byte and get/set_bit,
 * translate and unistr.
 */
import { createHash } from 'node:crypto';
import { PgError, SqlState } from '@strata/common';
import { T } from '../types/types.js';
import { SqlStateX } from '../sqlstate.js';
import { def } from './registry.js';

const by = T.bytea;
const txt = T.text;
const i4 = T.int4;
const buf = (v: unknown) => v as Buffer;
const str = (v: unknown) => v as string;

function invalidParam(msg: string): PgError {
  return new PgError(SqlState.InvalidParameterValue, msg);
}

/** encode(bytea, 'base64'): 76-character lines, as PostgreSQL's pg_b64_encode in encode.c. */
function base64Lines(b: Buffer): string {
  const s = b.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < s.length; i += 76) lines.push(s.slice(i, i + 76));
  return lines.join('\n');
}

function escapeEncode(b: Buffer): string {
  let out = '';
  for (const c of b) {
    if (c === 0 || c >= 0x80) out += '\\' + c.toString(8).padStart(3, '0');
    else if (c === 0x5c) out += '\\\\';
    else out += String.fromCharCode(c);
  }
  return out;
}

function escapeDecode(s: string): Buffer {
  const src = Buffer.from(s);
  const out: number[] = [];
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as number;
    if (c !== 0x5c) {
      out.push(c);
      continue;
    }
    if (src[i + 1] === 0x5c) {
      out.push(0x5c);
      i++;
      continue;
    }
    const oct = src.subarray(i + 1, i + 4).toString();
    if (/^[0-3][0-7]{2}$/.test(oct)) {
      out.push(parseInt(oct, 8));
      i += 3;
      continue;
    }
    throw new PgError(SqlState.InvalidTextRepresentation, 'invalid input syntax for type bytea');
  }
  return Buffer.from(out);
}

function hexDecode(s: string): Buffer {
  const t = s.replace(/[ \t\n\r]/g, '');
  for (let i = 0; i < t.length; i++) {
    if (!/[0-9a-fA-F]/.test(t[i] as string)) throw invalidParam(`invalid hexadecimal digit: "${t[i]}"`);
  }
  if (t.length % 2 !== 0) throw invalidParam('invalid hexadecimal data: odd number of digits');
  return Buffer.from(t, 'hex');
}

function base64Decode(s: string): Buffer {
  const t = s.replace(/[ \t\n\r]/g, '');
  const bad = /[^A-Za-z0-9+/=]/.exec(t);
  if (bad) throw invalidParam(`invalid symbol "${bad[0]}" found while decoding base64 sequence`);
  const eq = t.indexOf('=');
  if (eq >= 0 && /[^=]/.test(t.slice(eq)))
    throw invalidParam('unexpected "=" while decoding base64 sequence');
  if (t.length % 4 !== 0) throw invalidParam('invalid base64 end sequence');
  return Buffer.from(t, 'base64');
}

def('encode', {
  args: [by, txt],
  result: txt,
  fn: ([b, f]) => {
    switch (str(f).toLowerCase()) {
      case 'hex':
        return buf(b).toString('hex');
      case 'base64':
        return base64Lines(buf(b));
      case 'escape':
        return escapeEncode(buf(b));
      default:
        throw invalidParam(`unrecognized encoding: "${str(f)}"`);
    }
  },
});
def('decode', {
  args: [txt, txt],
  result: by,
  fn: ([s, f]) => {
    switch (str(f).toLowerCase()) {
      case 'hex':
        return hexDecode(str(s));
      case 'base64':
        return base64Decode(str(s));
      case 'escape':
        return escapeDecode(str(s));
      default:
        throw invalidParam(`unrecognized encoding: "${str(f)}"`);
    }
  },
});

def('md5', { args: [by], result: txt, fn: ([b]) => createHash('md5').update(buf(b)).digest('hex') });
for (const alg of ['sha224', 'sha256', 'sha384', 'sha512']) {
  def(alg, { args: [by], result: by, fn: ([b]) => createHash(alg).update(buf(b)).digest() });
}

/** substr(bytea, from [, count]): 1-based, a start before 1 shortens the count as in text. */
function byteaSubstr(b: Buffer, from: number, count: number | null): Buffer {
  if (count !== null && count < 0)
    throw new PgError(SqlStateX.SubstringError, 'negative substring length not allowed');
  const start = from - 1;
  const end = count === null ? b.length : start + count;
  return b.subarray(Math.max(0, start), Math.max(0, Math.min(b.length, end)));
}
def(
  ['substr', 'substring'],
  { args: [by, i4], result: by, fn: ([b, f]) => byteaSubstr(buf(b), f as number, null) },
  { args: [by, i4, i4], result: by, fn: ([b, f, n]) => byteaSubstr(buf(b), f as number, n as number) },
);

function byteaTrim(b: Buffer, set: Buffer, left: boolean, right: boolean): Buffer {
  let s = 0;
  let e = b.length;
  if (left) while (s < e && set.includes(b[s] as number)) s++;
  if (right) while (e > s && set.includes(b[e - 1] as number)) e--;
  return b.subarray(s, e);
}
def('btrim', { args: [by, by], result: by, fn: ([b, s]) => byteaTrim(buf(b), buf(s), true, true) });
def('ltrim', { args: [by, by], result: by, fn: ([b, s]) => byteaTrim(buf(b), buf(s), true, false) });
def('rtrim', { args: [by, by], result: by, fn: ([b, s]) => byteaTrim(buf(b), buf(s), false, true) });

def(['strpos', 'position'], { args: [by, by], result: i4, fn: ([b, sub]) => buf(b).indexOf(buf(sub)) + 1 });
def('octet_length', { args: [by], result: i4, fn: ([b]) => buf(b).length });
def('bit_length', { args: [by], result: i4, fn: ([b]) => buf(b).length * 8 });

function checkIndex(n: number, len: number): void {
  if (n < 0 || n >= len)
    throw new PgError(SqlStateX.ArraySubscriptError, `index ${n} out of valid range, 0..${len - 1}`);
}
def('get_byte', {
  args: [by, i4],
  result: i4,
  fn: ([b, n]) => {
    checkIndex(n as number, buf(b).length);
    return buf(b)[n as number] as number;
  },
});
def('set_byte', {
  args: [by, i4, i4],
  result: by,
  fn: ([b, n, v]) => {
    checkIndex(n as number, buf(b).length);
    const out = Buffer.from(buf(b));
    out[n as number] = (v as number) & 0xff;
    return out;
  },
});
def('get_bit', {
  args: [by, T.int8],
  result: i4,
  fn: ([b, n]) => {
    const k = Number(n);
    checkIndex(k, buf(b).length * 8);
    return ((buf(b)[k >> 3] as number) >> (k & 7)) & 1;
  },
});
def('set_bit', {
  args: [by, T.int8, i4],
  result: by,
  fn: ([b, n, v]) => {
    const k = Number(n);
    checkIndex(k, buf(b).length * 8);
    if (v !== 0 && v !== 1) throw invalidParam('new bit must be 0 or 1');
    const out = Buffer.from(buf(b));
    const byte = out[k >> 3] as number;
    out[k >> 3] = v === 1 ? byte | (1 << (k & 7)) : byte & ~(1 << (k & 7));
    return out;
  },
});

/** translate(s, from, to): each character of `from` becomes the one at its position in `to`, or is removed. */
def('translate', {
  args: [txt, txt, txt],
  result: txt,
  fn: ([s, f, t]) => {
    const from = [...str(f)];
    const to = [...str(t)];
    const map = new Map<string, string>();
    from.forEach((c, i) => {
      if (!map.has(c)) map.set(c, to[i] ?? '');
    });
    return [...str(s)].map((c) => (map.has(c) ? map.get(c) : c)).join('');
  },
});

/** unistr: \XXXX, \+XXXXXX, \uXXXX, \UXXXXXXXX and \\ (PostgreSQL 14+). */
def('unistr', {
  args: [txt],
  result: txt,
  fn: ([s0]) => {
    const s = str(s0);
    let out = '';
    let high = -1;
    const bad = () =>
      new PgError(SqlState.SyntaxError, 'invalid Unicode escape', {
        hint: 'Unicode escapes must be \\XXXX, \\+XXXXXX, \\uXXXX, or \\UXXXXXXXX.',
      });
    for (let i = 0; i < s.length;) {
      if (s[i] !== '\\') {
        if (high >= 0) throw new PgError(SqlState.SyntaxError, 'invalid Unicode surrogate pair');
        out += s[i++];
        continue;
      }
      if (s[i + 1] === '\\') {
        if (high >= 0) throw new PgError(SqlState.SyntaxError, 'invalid Unicode surrogate pair');
        out += '\\';
        i += 2;
        continue;
      }
      let m: RegExpExecArray | null;
      let hex: string;
      if (
        (m = /^\\(?:\+([0-9a-fA-F]{6})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-9a-fA-F]{4}))/.exec(
          s.slice(i, i + 10),
        ))
      ) {
        hex = (m[1] ?? m[2] ?? m[3] ?? m[4]) as string;
        i += m[0].length;
      } else throw bad();
      const cp = parseInt(hex, 16);
      if (high >= 0) {
        if (cp < 0xdc00 || cp > 0xdfff)
          throw new PgError(SqlState.SyntaxError, 'invalid Unicode surrogate pair');
        out += String.fromCodePoint(0x10000 + ((high - 0xd800) << 10) + (cp - 0xdc00));
        high = -1;
        continue;
      }
      if (cp >= 0xd800 && cp <= 0xdbff) {
        high = cp;
        continue;
      }
      if ((cp >= 0xdc00 && cp <= 0xdfff) || cp === 0 || cp > 0x10ffff)
        throw new PgError(SqlState.SyntaxError, 'invalid Unicode code point: ' + hex);
      out += String.fromCodePoint(cp);
    }
    if (high >= 0) throw new PgError(SqlState.SyntaxError, 'invalid Unicode surrogate pair');
    return out;
  },
});

/** overlay(s placing r from n [for m]) = substr(s, 1, n-1) || r || substr(s, n+m), m defaulting to r's length. */
function overlayParts(len: number, from: number, count: number): [number, number] {
  if (from < 1 || count < 0)
    throw new PgError(SqlStateX.SubstringError, 'negative substring length not allowed');
  return [Math.min(len, from - 1), Math.min(len, from - 1 + count)];
}
def(
  'overlay',
  {
    args: [txt, txt, i4],
    result: txt,
    fn: ([s, r, f]) => {
      const c = [...str(s)];
      const [a, b] = overlayParts(c.length, f as number, [...str(r)].length);
      return c.slice(0, a).join('') + str(r) + c.slice(b).join('');
    },
  },
  {
    args: [txt, txt, i4, i4],
    result: txt,
    fn: ([s, r, f, n]) => {
      const c = [...str(s)];
      const [a, b] = overlayParts(c.length, f as number, n as number);
      return c.slice(0, a).join('') + str(r) + c.slice(b).join('');
    },
  },
  {
    args: [by, by, i4],
    result: by,
    fn: ([s, r, f]) => {
      const [a, b] = overlayParts(buf(s).length, f as number, buf(r).length);
      return Buffer.concat([buf(s).subarray(0, a), buf(r), buf(s).subarray(b)]);
    },
  },
  {
    args: [by, by, i4, i4],
    result: by,
    fn: ([s, r, f, n]) => {
      const [a, b] = overlayParts(buf(s).length, f as number, n as number);
      return Buffer.concat([buf(s).subarray(0, a), buf(r), buf(s).subarray(b)]);
    },
  },
);
