/**
 * COPY data formats (PostgreSQL's "text" and "csv"), parsed incrementally from CopyData chunks
 * (a row may span chunks) and written for COPY TO.
 *
 * Incoming bytes are checked as UTF-8 before they are decoded: an invalid sequence or a NUL byte
 * is 22021 naming the physical line (as PostgreSQL 15 reports it), never a replacement character
 * stored. Text-format escapes (\ooo, \xhh) stand for bytes, as in PostgreSQL: `\303\251` is é,
 * and escapes that spell invalid UTF-8 or NUL are 22021 too.
 */
import { PgError, SqlState, decodeUtf8Strict, invalidUtf8Error, invalidUtf8Offset } from '@strata/common';
import type { CopyOptions } from './parser/ast.js';

/** One parsed row: field texts, null for SQL NULL. */
export type CopyRow = (string | null)[];

/** Bytes of COPY data buffered without a complete row; a longer row is refused. */
export const copyRowBytesMax = 64 * 1024 * 1024;

/** Counts the newline bytes in b[start, end). */
function newlines(b: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = b.indexOf(0x0a, start); i >= 0 && i < end; i = b.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** Where a UTF-8 sequence cut off by the end of b starts (b.length if none is). */
function incompleteTail(b: Buffer): number {
  for (let i = b.length - 1; i >= 0 && i >= b.length - 3; i--) {
    const c = b[i] as number;
    if (c < 0x80) return b.length;
    if (c >= 0xc0) {
      const n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return i + n > b.length ? i : b.length;
    }
  }
  return b.length;
}

export class CopyParser {
  /** Bytes of a UTF-8 sequence split across chunks, checked with the next chunk. */
  private tail: Buffer = Buffer.alloc(0);
  /** Newline bytes in the data checked so far (physical lines, for encoding errors). */
  private physicalLines = 0;
  private buf = '';
  private ended = false;
  private headerPending: boolean;
  private readonly delim: string;
  private readonly nullStr: string;
  line = 0;
  /** Input line of each row the last push()/end() returned (for error messages). */
  lineOf: number[] = [];

  constructor(
    private readonly o: CopyOptions,
    /** The table, for error details (`COPY t, line 3`). */
    private readonly relation = 'stdin',
  ) {
    this.delim = o.delimiter ?? (o.format === 'csv' ? ',' : '\t');
    this.nullStr = o.null ?? (o.format === 'csv' ? '' : '\\N');
    if (this.delim.length !== 1) throw new PgError(SqlState.FeatureNotSupported, 'COPY delimiter must be a single one-byte character');
    this.headerPending = o.header;
  }

  /**
   * Starts counting after `lines` lines that were parsed elsewhere (a COPY chunk a worker took,
   * ts_copy_workers.ts), so line numbers in errors stay those of the whole input. Only before
   * the first push.
   */
  startAfterLines(lines: number): void {
    this.line = lines;
    this.physicalLines = lines;
  }

  /** The end-of-data marker `\.` was read: everything after it is ignored. */
  get endMarkerSeen(): boolean {
    return this.ended;
  }

  /** Feeds a chunk; returns the rows completed by it. */
  push(chunk: Buffer): CopyRow[] {
    this.lineOf = [];
    const data = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    const end = incompleteTail(data);
    this.checkEncoding(data, end);
    this.tail = end < data.length ? Buffer.from(data.subarray(end)) : Buffer.alloc(0);
    this.buf += data.toString('utf8', 0, end);
    const rows = this.o.format === 'csv' ? this.csvRows(false) : this.textRows(false);
    if (this.buf.length > copyRowBytesMax) throw new PgError(SqlState.ProgramLimitExceeded, `COPY row exceeds ${copyRowBytesMax} bytes`);
    return rows;
  }

  /** End of data: returns the last rows (a final line without a newline counts). */
  end(): CopyRow[] {
    this.lineOf = [];
    if (this.tail.length > 0) this.checkEncoding(this.tail, this.tail.length);
    const rows = this.o.format === 'csv' ? this.csvRows(true) : this.textRows(true);
    if (this.buf.length > 0 && !this.ended) throw new PgError(SqlState.BadCopyFileFormat, 'unterminated CSV quoted field');
    return rows;
  }

  /** 22021 for the first invalid sequence in data[0, end), naming its physical line. */
  private checkEncoding(data: Buffer, end: number): void {
    const bad = invalidUtf8Offset(data, 0, end);
    if (bad >= 0) {
      const e = invalidUtf8Error(data, bad, data.length);
      throw new PgError(e.code, e.message, { detail: `COPY ${this.relation}, line ${this.physicalLines + newlines(data, 0, bad) + 1}` });
    }
    this.physicalLines += newlines(data, 0, end);
  }

  private skipHeader(): boolean {
    if (this.headerPending) {
      this.headerPending = false;
      return true;
    }
    return false;
  }

  private textRows(final: boolean): CopyRow[] {
    const out: CopyRow[] = [];
    for (;;) {
      if (this.ended) {
        this.buf = '';
        return out;
      }
      let nl = this.buf.indexOf('\n');
      if (nl < 0) {
        if (!final || this.buf.length === 0) return out;
        nl = this.buf.length;
      }
      let line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      this.line++;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '\\.') {
        this.ended = true;
        continue;
      }
      if (this.skipHeader()) continue;
      out.push(this.textFields(line));
      this.lineOf.push(this.line);
    }
  }

  private textFields(line: string): CopyRow {
    // Fast path: no escapes, so fields are the plain pieces between delimiters.
    if (line.indexOf('\\') < 0) {
      const parts: CopyRow = line.split(this.delim);
      for (let i = 0; i < parts.length; i++) if (parts[i] === this.nullStr) parts[i] = null;
      return parts;
    }
    const fields: CopyRow = [];
    let cur = '';
    let raw = '';
    // Bytes spelled by \ooo and \xhh escapes, decoded as UTF-8 once a non-escape follows.
    const escaped: number[] = [];
    const flushEscaped = () => {
      if (escaped.length === 0) return;
      if (escaped.every((b) => b > 0 && b < 0x80)) cur += String.fromCharCode(...escaped);
      else {
        try {
          cur += decodeUtf8Strict(Buffer.from(escaped));
        } catch (e) {
          if (e instanceof PgError) throw new PgError(e.code, e.message, { detail: `COPY ${this.relation}, line ${this.line}` });
          throw e;
        }
      }
      escaped.length = 0;
    };
    for (let i = 0; i < line.length; i++) {
      const c = line[i] as string;
      const byteEscape = c === '\\' && i + 1 < line.length && /[0-7x]/.test(line[i + 1] as string);
      if (!byteEscape) flushEscaped();
      if (c === this.delim) {
        fields.push(raw === this.nullStr ? null : cur);
        cur = '';
        raw = '';
        continue;
      }
      if (c === '\\' && i + 1 < line.length) {
        const n = line[++i] as string;
        raw += c + n;
        switch (n) {
          case 'b':
            cur += '\b';
            break;
          case 'f':
            cur += '\f';
            break;
          case 'n':
            cur += '\n';
            break;
          case 'r':
            cur += '\r';
            break;
          case 't':
            cur += '\t';
            break;
          case 'v':
            cur += '\v';
            break;
          case 'x': {
            const m = /^[0-9a-fA-F]{1,2}/.exec(line.slice(i + 1, i + 3));
            if (m) {
              escaped.push(parseInt(m[0], 16));
              i += m[0].length;
              raw += m[0];
            } else {
              flushEscaped();
              cur += 'x';
            }
            break;
          }
          default:
            if (n >= '0' && n <= '7') {
              const m = /^[0-7]{1,3}/.exec(line.slice(i, i + 3)) as RegExpExecArray;
              escaped.push(parseInt(m[0], 8) & 0xff);
              i += m[0].length - 1;
              raw += m[0].slice(1);
            } else cur += n;
        }
        continue;
      }
      cur += c;
      raw += c;
    }
    flushEscaped();
    fields.push(raw === this.nullStr ? null : cur);
    return fields;
  }

  private csvRows(final: boolean): CopyRow[] {
    const out: CopyRow[] = [];
    const q = this.o.quote;
    const esc = this.o.escape ?? q;
    for (;;) {
      // Find a complete record: a newline outside quotes.
      let inQuotes = false;
      let end = -1;
      for (let i = 0; i < this.buf.length; i++) {
        const c = this.buf[i];
        if (inQuotes) {
          if (c === esc && esc !== q && this.buf[i + 1] !== undefined) {
            i++;
            continue;
          }
          if (c === q) {
            if (esc === q && this.buf[i + 1] === q) {
              i++;
              continue;
            }
            inQuotes = false;
          }
        } else if (c === q) inQuotes = true;
        else if (c === '\n') {
          end = i;
          break;
        }
      }
      if (end < 0) {
        if (!final || this.buf.length === 0 || inQuotes) return out;
        end = this.buf.length;
      }
      let rec = this.buf.slice(0, end);
      this.buf = this.buf.slice(end + 1);
      this.line++;
      if (rec.endsWith('\r')) rec = rec.slice(0, -1);
      if (rec === '\\.') {
        this.ended = true;
        this.buf = '';
        return out;
      }
      if (this.skipHeader()) continue;
      out.push(this.csvFields(rec, q, esc));
      this.lineOf.push(this.line);
    }
  }

  private csvFields(rec: string, q: string, esc: string): CopyRow {
    const fields: CopyRow = [];
    let cur = '';
    let quoted = false;
    let inQuotes = false;
    for (let i = 0; i < rec.length; i++) {
      const c = rec[i] as string;
      if (inQuotes) {
        if (c === esc && (rec[i + 1] === q || (esc !== q && rec[i + 1] === esc))) {
          cur += rec[i + 1];
          i++;
          continue;
        }
        if (c === q) {
          inQuotes = false;
          continue;
        }
        cur += c;
        continue;
      }
      if (c === q) {
        inQuotes = true;
        quoted = true;
        continue;
      }
      if (c === this.delim) {
        fields.push(!quoted && cur === this.nullStr ? null : cur);
        cur = '';
        quoted = false;
        continue;
      }
      cur += c;
    }
    fields.push(!quoted && cur === this.nullStr ? null : cur);
    return fields;
  }
}

/** Formats one row for COPY TO (fields already in text format, null for NULL). */
export function formatCopyRow(fields: (string | null)[], o: CopyOptions): string {
  const delim = o.delimiter ?? (o.format === 'csv' ? ',' : '\t');
  if (o.format === 'csv') {
    const q = o.quote;
    const esc = o.escape ?? q;
    const nullStr = o.null ?? '';
    // CopyAttributeOutCSV: quoted when it holds the delimiter, the quote or a line break, equals
    // the NULL string, or is `\.` alone on its line (the end-of-data marker); inside quotes the
    // quote and escape characters are preceded by the escape character.
    const single = fields.length === 1;
    return (
      fields
        .map((f) => {
          if (f === null) return nullStr;
          if (f === '' || f.includes(delim) || f.includes(q) || f.includes('\n') || f.includes('\r') || f === nullStr || (single && f === '\\.')) {
            let body = '';
            for (const c of f) body += c === q || c === esc ? esc + c : c;
            return q + body + q;
          }
          return f;
        })
        .join(delim) + '\n'
    );
  }
  const nullStr = o.null ?? '\\N';
  return (
    fields
      .map((f) => {
        if (f === null) return nullStr;
        let s = '';
        for (const c of f) {
          if (c === '\\') s += '\\\\';
          else if (c === '\n') s += '\\n';
          else if (c === '\r') s += '\\r';
          else if (c === '\t') s += '\\t';
          else if (c === delim) s += '\\' + c;
          else s += c;
        }
        return s;
      })
      .join(delim) + '\n'
  );
}
