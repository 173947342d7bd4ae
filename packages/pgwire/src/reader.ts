/**
 * Reads the fields of one frontend message body. Text fields are checked as the database
 * encoding requires (UTF-8, no NUL) and refused with 22021; a body that is too short or has bytes
 * left over is an ERROR 08P01 ("insufficient data left in message", "invalid message format"),
 * as in PostgreSQL: the framing is intact, so the connection goes on after Sync.
 */
import { PgError, SqlState, decodeUtf8Strict } from '@strata/common';

export function malformed(message: string): PgError {
  return new PgError(SqlState.ProtocolViolation, message);
}

export class MessageReader {
  private o = 0;
  constructor(private readonly b: Buffer) {}

  private need(n: number): void {
    if (this.o + n > this.b.length) throw malformed('insufficient data left in message');
  }

  int32(): number {
    this.need(4);
    const v = this.b.readInt32BE(this.o);
    this.o += 4;
    return v;
  }

  int16(): number {
    this.need(2);
    const v = this.b.readInt16BE(this.o);
    this.o += 2;
    return v;
  }

  /** A count: the protocol's 16-bit counts are unsigned (0..65535). */
  uint16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.o);
    this.o += 2;
    return v;
  }

  byte(): number {
    this.need(1);
    return this.b[this.o++] as number;
  }

  /** A NUL-terminated string, checked to be valid UTF-8. */
  cstring(): string {
    const end = this.b.indexOf(0, this.o);
    if (end < 0) throw malformed('invalid string in message');
    const s = decodeUtf8Strict(this.b, this.o, end);
    this.o = end + 1;
    return s;
  }

  bytes(n: number): Buffer {
    if (n < 0) throw malformed(`invalid length ${n} in message`);
    this.need(n);
    const v = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return v;
  }

  /** Where the next field starts in the body. */
  get offset(): number {
    return this.o;
  }

  /** Steps over n bytes (a field read later, in place). */
  skip(n: number): void {
    if (n < 0) throw malformed(`invalid length ${n} in message`);
    this.need(n);
    this.o += n;
  }

  /** The message must end here (PostgreSQL's pq_getmsgend). */
  end(): void {
    if (this.o !== this.b.length) throw malformed('invalid message format');
  }
}
