/**
 * Backend messages waiting to be written to the socket, laid out in one growable buffer: a row is
 * written in place (no buffer per value, no concatenation per row).
 *
 * INVARIANT: between results the buffer is small (outputIdleBufferBytes): small outputs are
 *   copied out so the buffer is reused, and a buffer grown for a large result is dropped by
 *   shrink() when the connection goes idle, so an idle connection holds no large allocation.
 */
import { ByteWriter } from '@strata/common';
import type { PgError } from '@strata/common';
import { outputIdleBufferBytes } from './constants.js';
import { routineFor } from './routines.js';

export class Output extends ByteWriter {
  constructor() {
    super(outputIdleBufferBytes);
  }

  get size(): number {
    return this.len;
  }

  msg(type: string, body: Buffer | null): void {
    const at = this.begin(type);
    if (body) this.bytes(body);
    this.end(at);
  }

  /** Starts a message of `type`; returns where its length goes (end() fills it in). */
  begin(type: string): number {
    this.u8(type.charCodeAt(0)).u32(0);
    return this.len - 4;
  }

  end(at: number): void {
    this.buf.writeInt32BE(this.len - at, at);
  }

  /** A NUL-terminated UTF-8 string. */
  cstr(s: string): this {
    return this.utf8(s).u8(0);
  }

  /** A string's UTF-8 bytes preceded by their int32 length. */
  lengthPrefixedUtf8(s: string): void {
    const at = this.len;
    this.u32(0).utf8(s);
    this.buf.writeInt32BE(this.len - at - 4, at);
  }

  /** ErrorResponse ('E') or NoticeResponse ('N') with the fields PostgreSQL sends. */
  errorOrNotice(type: 'E' | 'N', severity: string, err: Pick<PgError, 'code' | 'message' | 'fields'>): void {
    const at = this.begin(type);
    this.u8(0x53).cstr(severity).u8(0x56).cstr(severity).u8(0x43).cstr(err.code).u8(0x4d).cstr(err.message);
    const f = err.fields;
    if (f.detail) this.u8(0x44).cstr(f.detail);
    if (f.hint) this.u8(0x48).cstr(f.hint);
    if (f.position) this.u8(0x50).cstr(String(f.position));
    if (f.schema) this.u8(0x73).cstr(f.schema);
    if (f.table) this.u8(0x74).cstr(f.table);
    if (f.column) this.u8(0x63).cstr(f.column);
    if (f.constraint) this.u8(0x6e).cstr(f.constraint);
    const routine = type === 'E' ? routineFor(err.code, err.message) : undefined;
    if (routine) this.u8(0x52).cstr(routine);
    this.u8(0);
    this.end(at);
  }

  /** The bytes written so far, for the socket; the writer starts over empty. */
  take(): Buffer {
    const b = this.finish();
    if (this.buf.length <= outputIdleBufferBytes * 4) {
      // Small: copy out (from Node's shared pool) and keep reusing this buffer.
      const copy = Buffer.from(b);
      this.len = 0;
      return copy;
    }
    // Large (a result is streaming): hand the bytes over as they are and go on at this size.
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.len = 0;
    return b;
  }

  /** Drops what was written after `size` bytes (a statement interrupted by pg_terminate_backend). */
  truncate(size: number): void {
    if (size < this.len) this.len = size;
  }

  /** Between results: drops a buffer grown large back to the idle size. */
  shrink(): void {
    if (this.len === 0 && this.buf.length > outputIdleBufferBytes * 4) this.buf = Buffer.allocUnsafe(outputIdleBufferBytes);
  }
}
