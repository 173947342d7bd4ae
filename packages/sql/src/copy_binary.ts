/**
 * PostgreSQL's binary COPY format (copyfromparse.c / copyto.c): an 11-byte signature, a 32-bit
 * flags word, a header extension (length + bytes, skipped), then per tuple a 16-bit field count
 * and per field a 32-bit length (-1 for NULL) and that many bytes in the type's binary
 * send/receive format (types/binary.ts — the codec of binary Bind parameters and result columns),
 * and a trailer: a field count of -1.
 *
 * The parser is pure: CopyData chunks in, and either decoded rows out (push, for relational
 * tables) or whole undecoded tuples handed to a sink as offsets into the chunk, at most a given
 * number per call (pushTuples, for TS tables, whose commands have a row budget). A tuple may span
 * any number of chunks; the bytes of an incomplete tuple are kept as a list of chunks and joined
 * only once enough have arrived to make progress, so a large tuple in small chunks costs linear
 * time. A tuple whose field lengths pass copyRowBytesMax is refused before it is buffered.
 *
 * INVARIANT: parts holds exactly the bytes not yet handed on (partsBytes of them), starting at a
 * tuple boundary (or the file's start while the header is incomplete).
 *
 * Errors are PostgreSQL 15's (22P04 bad_copy_file_format, 22P03 invalid_binary_representation,
 * 08P01 for a field shorter than its type) with its context line `COPY t, line N[, column c]`,
 * where N counts tuples from 1 (header errors have no line, as in PostgreSQL).
 */
import { PgError, SqlState, assert, decodeUtf8Strict } from '@strata/common';
import { copyRowBytesMax } from './copy.js';
import { decodeBinary, fixedBinaryBytes } from './types/binary.js';
import { parseValue } from './types/types.js';
import type { SqlType, Value, ValueContext } from './types/types.js';

/** "PGCOPY\n\377\r\n\0" */
export const copyBinarySignature = Buffer.from([
  0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00,
]);

/** Signature, flags 0, no header extension: what COPY TO sends first. */
export function copyBinaryHeader(): Buffer {
  const b = Buffer.alloc(copyBinarySignature.length + 8);
  copyBinarySignature.copy(b, 0);
  return b;
}

/** The file trailer: a field count of -1. */
export const copyBinaryTrailer = Buffer.from([0xff, 0xff]);

/** Bit 16 of the flags word: OIDs included (refused since PostgreSQL 12). */
const flagWithOids = 1 << 16;
/** Bits 17–31 of the flags word are critical: a reader must refuse a file with an unknown one. */
const flagsCriticalMask = 0xffff0000;

/** Types whose binary form is their text (textrecv, json_recv, …): parsed by the text parser. */
function receivedAsText(t: SqlType): boolean {
  switch (t.kind) {
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name':
    case 'char':
    case 'json':
      return true;
    default:
      return false;
  }
}

/**
 * One field's bytes as a value of the column's base type (typmods are the caller's assignment).
 * Throws PgErrors with PostgreSQL's codes; the caller adds the context.
 */
export function decodeCopyField(b: Buffer, t: SqlType, vctx: ValueContext): Value {
  if (receivedAsText(t))
    return parseValue(decodeUtf8Strict(b), t.typmod < 0 ? t : { ...t, typmod: -1 }, vctx);
  const fixed = fixedBinaryBytes(t);
  if (fixed > 0 && b.length < fixed)
    throw new PgError(SqlState.ProtocolViolation, 'insufficient data left in message');
  if (fixed > 0 && b.length > fixed)
    throw new PgError(SqlState.InvalidBinaryRepresentation, 'incorrect binary data format');
  try {
    return decodeBinary(b, t);
  } catch (e) {
    if (e instanceof PgError) throw e;
    // A read past the end of the field (a numeric or array shorter than its header says).
    if (e instanceof RangeError)
      throw new PgError(SqlState.ProtocolViolation, 'insufficient data left in message');
    throw e;
  }
}

/** A row of a binary COPY: values of the target columns' base types, null for NULL. */
export type BinaryCopyRow = Value[];

/**
 * Receives whole tuples without decoding: field i is data[starts[i], starts[i] + lengths[i]), or
 * NULL when lengths[i] is -1. The arrays are reused for the next tuple.
 */
export interface BinaryTupleSink {
  tuple(data: Buffer, starts: Int32Array, lengths: Int32Array, line: number): void;
}

/** Decodes tuples into rows (push()'s sink). */
class RowCollector implements BinaryTupleSink {
  rows: BinaryCopyRow[] = [];
  lines: number[] = [];
  constructor(
    private readonly p: BinaryCopyParser,
    private readonly vctx: ValueContext,
  ) {}
  tuple(data: Buffer, starts: Int32Array, lengths: Int32Array, line: number): void {
    this.rows.push(this.p.decodeTuple(data, starts, lengths, line, this.vctx));
    this.lines.push(line);
  }
}

export class BinaryCopyParser {
  /** Bytes not yet parsed (an incomplete header or tuple, or tuples past a budget), as received. */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** Bytes that must be buffered before parsing can make progress again. */
  private needBytes = 0;
  private headerDone = false;
  private ended = false;
  private readonly starts: Int32Array;
  private readonly lengths: Int32Array;
  /** Tuples seen (PostgreSQL's cur_lineno for the binary format). */
  line = 0;
  /** Tuple number of each row the last push() returned. */
  lineOf: number[] = [];

  constructor(
    /** The base types of the target columns, in the COPY column list's order. */
    private readonly types: SqlType[],
    private readonly names: string[],
    /** The table, for error contexts (`COPY t, line 3, column c`). */
    private readonly relation: string,
  ) {
    assert(types.length === names.length, 'a binary COPY names each target column');
    this.starts = new Int32Array(types.length);
    this.lengths = new Int32Array(types.length);
  }

  /** Feeds a chunk; returns the rows it completed (decoded in vctx: the session's settings). */
  push(chunk: Buffer, vctx: ValueContext): BinaryCopyRow[] {
    const c = new RowCollector(this, vctx);
    this.pushTuples(chunk, c, Infinity);
    this.lineOf = c.lines;
    return c.rows;
  }

  /**
   * Feeds a chunk (or null to go on with buffered bytes) and hands at most tuplesMax whole
   * tuples to the sink. Returns true when it stopped at the budget with bytes left to parse:
   * call again with null (after making room) before the next chunk.
   */
  pushTuples(chunk: Buffer | null, sink: BinaryTupleSink, tuplesMax: number): boolean {
    assert(tuplesMax > 0, 'a binary COPY parse has room for a tuple');
    if (chunk !== null && chunk.length > 0) {
      if (this.ended)
        throw this.err(SqlState.BadCopyFileFormat, 'received copy data after EOF marker', this.line);
      this.parts.push(chunk);
      this.partsBytes += chunk.length;
    }
    if (this.partsBytes === 0 || this.partsBytes < this.needBytes) return false;
    const data =
      this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.partsBytes);
    const before = this.line;
    const used = this.parse(data, sink, tuplesMax);
    const stopped = this.line - before >= tuplesMax && !this.ended;
    const rest = data.length - used;
    if (rest > copyRowBytesMax && !stopped)
      throw new PgError(SqlState.ProgramLimitExceeded, `COPY row exceeds ${copyRowBytesMax} bytes`);
    // Keep a copy of a small remainder so the (possibly large) chunk it came from can be freed.
    this.parts = rest === 0 ? [] : [rest < 65536 ? Buffer.from(data.subarray(used)) : data.subarray(used)];
    this.partsBytes = rest;
    return stopped && rest > 0;
  }

  /** End of data (CopyDone): an incomplete tuple is an error; a missing trailer is not (as in PostgreSQL). */
  end(): void {
    if (!this.headerDone) this.parseHeader(Buffer.concat(this.parts, this.partsBytes), true);
    if (this.ended || this.partsBytes < 2) return;
    // Whole tuples were parsed by push(): what is left is a tuple cut short.
    throw this.err(
      SqlState.BadCopyFileFormat,
      'unexpected EOF in COPY data',
      this.line + 1,
      this.pendingColumn(),
    );
  }

  /** A tuple's fields decoded to values of the base types; errors name the tuple and column. */
  decodeTuple(
    data: Buffer,
    starts: Int32Array,
    lengths: Int32Array,
    line: number,
    vctx: ValueContext,
  ): BinaryCopyRow {
    const n = this.types.length;
    const row: BinaryCopyRow = new Array<Value>(n);
    for (let i = 0; i < n; i++)
      row[i] = this.decodeField(data, starts[i] as number, lengths[i] as number, i, line, vctx);
    return row;
  }

  /** Field i of a tuple decoded (null for NULL); errors name the tuple and column. */
  decodeField(
    data: Buffer,
    start: number,
    length: number,
    i: number,
    line: number,
    vctx: ValueContext,
  ): Value {
    if (length < 0) return null;
    try {
      return decodeCopyField(data.subarray(start, start + length), this.types[i] as SqlType, vctx);
    } catch (e) {
      if (e instanceof PgError) throw this.err(e.code, e.message, line, this.names[i]);
      throw e;
    }
  }

  /** The column whose field the buffered bytes stop in (for the context of a cut-short tuple). */
  private pendingColumn(): string | undefined {
    const data = Buffer.concat(this.parts, this.partsBytes);
    let o = 2;
    for (const name of this.names) {
      if (o + 4 > data.length) return name;
      const len = data.readInt32BE(o);
      o += 4 + Math.max(0, len);
      if (o > data.length) return name;
    }
    return undefined;
  }

  /**
   * Parses the header (when due) and at most tuplesMax whole tuples from data, handing them to
   * the sink; returns the bytes consumed.
   */
  private parse(data: Buffer, sink: BinaryTupleSink, tuplesMax: number): number {
    let o = 0;
    if (!this.headerDone) {
      o = this.parseHeader(data, false);
      if (o < 0) return 0;
    }
    const n = this.types.length;
    const starts = this.starts;
    const lengths = this.lengths;
    for (let tuples = 0; ;) {
      if (this.ended) {
        if (o < data.length)
          throw this.err(SqlState.BadCopyFileFormat, 'received copy data after EOF marker', this.line);
        return o;
      }
      if (tuples >= tuplesMax) return o;
      if (o + 2 > data.length) {
        this.needBytes = 2; // from o, where the bytes kept start
        return o;
      }
      const count = data.readInt16BE(o);
      if (count === -1) {
        this.line++;
        this.ended = true;
        o += 2;
        continue;
      }
      if (count !== n)
        throw this.err(
          SqlState.BadCopyFileFormat,
          `row field count is ${count}, expected ${n}`,
          this.line + 1,
        );
      // Find the tuple's end before handing anything on, so an incomplete tuple is left whole.
      let p = o + 2;
      for (let i = 0; i < n; i++) {
        if (p + 4 > data.length) {
          this.needBytes = p + 4 - o;
          return o;
        }
        const len = data.readInt32BE(p);
        if (len < -1)
          throw this.err(SqlState.BadCopyFileFormat, 'invalid field size', this.line + 1, this.names[i]);
        starts[i] = p + 4;
        lengths[i] = len;
        p += 4 + (len < 0 ? 0 : len);
        // Refused as soon as its lengths say so, so a client cannot make us buffer past the bound.
        if (p - o > copyRowBytesMax)
          throw new PgError(SqlState.ProgramLimitExceeded, `COPY row exceeds ${copyRowBytesMax} bytes`, {
            detail: `COPY ${this.relation}, line ${this.line + 1}, column ${this.names[i]}`,
          });
        if (p > data.length) {
          this.needBytes = p - o;
          return o;
        }
      }
      this.line++;
      tuples++;
      this.needBytes = 0;
      sink.tuple(data, starts, lengths, this.line);
      o = p;
    }
  }

  /**
   * The header at data[0…]: returns its length, or -1 when more bytes are needed (then, at the
   * end of data, the error PostgreSQL gives for the part that is missing).
   */
  private parseHeader(data: Buffer, final: boolean): number {
    const sigLen = copyBinarySignature.length;
    const have = Math.min(data.length, sigLen);
    if (
      data.subarray(0, have).compare(copyBinarySignature, 0, have) !== 0 ||
      (final && data.length < sigLen)
    ) {
      throw new PgError(SqlState.BadCopyFileFormat, 'COPY file signature not recognized');
    }
    if (data.length < sigLen + 4) {
      if (final) throw new PgError(SqlState.BadCopyFileFormat, 'invalid COPY file header (missing flags)');
      this.needBytes = sigLen + 4;
      return -1;
    }
    const flags = data.readUInt32BE(sigLen);
    if ((flags & flagWithOids) !== 0)
      throw new PgError(SqlState.BadCopyFileFormat, 'invalid COPY file header (WITH OIDS)');
    if ((flags & flagsCriticalMask & ~flagWithOids) >>> 0 !== 0)
      throw new PgError(SqlState.BadCopyFileFormat, 'unrecognized critical flags in COPY file header');
    if (data.length < sigLen + 8) {
      if (final) throw new PgError(SqlState.BadCopyFileFormat, 'invalid COPY file header (missing length)');
      this.needBytes = sigLen + 8;
      return -1;
    }
    const ext = data.readInt32BE(sigLen + 4);
    if (ext < 0) throw new PgError(SqlState.BadCopyFileFormat, 'invalid COPY file header (missing length)');
    if (data.length < sigLen + 8 + ext) {
      if (final) throw new PgError(SqlState.BadCopyFileFormat, 'invalid COPY file header (wrong length)');
      if (ext > copyRowBytesMax)
        throw new PgError(
          SqlState.ProgramLimitExceeded,
          `COPY header extension exceeds ${copyRowBytesMax} bytes`,
        );
      this.needBytes = sigLen + 8 + ext;
      return -1;
    }
    this.headerDone = true;
    this.needBytes = 0;
    return sigLen + 8 + ext;
  }

  private err(code: SqlState, message: string, line: number, column?: string): PgError {
    return new PgError(code, message, {
      detail: `COPY ${this.relation}, line ${line}${column === undefined ? '' : `, column ${column}`}`,
    });
  }
}

/**
 * One row for COPY TO (binary): field count, then each field's length and bytes, after `prefix`
 * (the file header, for the first row).
 */
export function binaryCopyRow(fields: (Buffer | null)[], prefix: Buffer | null = null): Buffer {
  const start = prefix === null ? 0 : prefix.length;
  let size = start + 2;
  for (const f of fields) size += 4 + (f === null ? 0 : f.length);
  const b = Buffer.allocUnsafe(size);
  if (prefix !== null) prefix.copy(b, 0);
  b.writeInt16BE(fields.length, start);
  let o = start + 2;
  for (const f of fields) {
    if (f === null) {
      b.writeInt32BE(-1, o);
      o += 4;
      continue;
    }
    b.writeInt32BE(f.length, o);
    f.copy(b, o + 4);
    o += 4 + f.length;
  }
  assert(o === size, 'a binary COPY row fills its buffer');
  return b;
}
