/**
 * Checking client text for the database encoding (UTF8), as PostgreSQL's pg_verify_mbstr does:
 * every byte sequence must be well-formed UTF-8 (no overlong forms, no surrogates, nothing above
 * U+10FFFF) and no byte may be NUL. Text that fails is refused with 22021 and the message
 * PostgreSQL words (`invalid byte sequence for encoding "UTF8": 0xc3 0x28`), never decoded with
 * replacement characters and stored altered.
 */
import { isUtf8 } from 'node:buffer';
import { PgError, SqlState } from './errors.js';

/** PostgreSQL prints at most this many bytes of an invalid sequence (report_invalid_encoding). */
const reportedBytesMax = 8;

/** The length a UTF-8 lead byte announces (PostgreSQL's pg_utf_mblen: 1 for anything invalid). */
function announcedLength(lead: number): number {
  if ((lead & 0x80) === 0) return 1;
  if ((lead & 0xe0) === 0xc0) return 2;
  if ((lead & 0xf0) === 0xe0) return 3;
  if ((lead & 0xf8) === 0xf0) return 4;
  return 1;
}

/** Whether the n bytes at b[o] form one legal UTF-8 character (PostgreSQL's pg_utf8_islegal). */
function legalAt(b: Uint8Array, o: number, n: number): boolean {
  const a = b[o] as number;
  if (n === 1) return a !== 0 && a < 0x80;
  const cont = (x: number | undefined) => x !== undefined && x >= 0x80 && x <= 0xbf;
  const s = b[o + 1] as number;
  switch (n) {
    case 2:
      return a >= 0xc2 && a <= 0xdf && cont(s);
    case 3:
      if (!cont(b[o + 2])) return false;
      if (a === 0xe0) return s >= 0xa0 && s <= 0xbf;
      if (a === 0xed) return s >= 0x80 && s <= 0x9f;
      return a >= 0xe1 && a <= 0xef && cont(s);
    case 4:
      if (!cont(b[o + 2]) || !cont(b[o + 3])) return false;
      if (a === 0xf0) return s >= 0x90 && s <= 0xbf;
      if (a === 0xf4) return s >= 0x80 && s <= 0x8f;
      return a >= 0xf1 && a <= 0xf3 && cont(s);
    default:
      return false;
  }
}

/** Offset of the first invalid sequence or NUL byte in b[start, end), or -1 if the text is valid. */
export function invalidUtf8Offset(b: Uint8Array, start = 0, end = b.length): number {
  const view = start === 0 && end === b.length ? b : b.subarray(start, end);
  // Fast path (simdutf): valid UTF-8 without NUL is by far the common case.
  if (isUtf8(view) && view.indexOf(0) < 0) return -1;
  let o = start;
  while (o < end) {
    const a = b[o] as number;
    if (a !== 0 && a < 0x80) {
      o++;
      continue;
    }
    const n = announcedLength(a);
    if (o + n > end || !legalAt(b, o, n)) return o;
    o += n;
  }
  return -1;
}

/** The 22021 error for the invalid sequence at b[offset] (end: where the text ends). */
export function invalidUtf8Error(b: Uint8Array, offset: number, end = b.length): PgError {
  const n = Math.min(announcedLength(b[offset] as number), end - offset, reportedBytesMax);
  const shown: string[] = [];
  for (let i = 0; i < n; i++) shown.push(`0x${(b[offset + i] as number).toString(16).padStart(2, '0')}`);
  return new PgError(SqlState.CharacterNotInRepertoire, `invalid byte sequence for encoding "UTF8": ${shown.join(' ')}`);
}

/** Decodes client text, refusing invalid UTF-8 and NUL bytes with 22021. */
export function decodeUtf8Strict(b: Buffer, start = 0, end = b.length): string {
  const bad = invalidUtf8Offset(b, start, end);
  if (bad >= 0) throw invalidUtf8Error(b, bad, end);
  return b.toString('utf8', start, end);
}
