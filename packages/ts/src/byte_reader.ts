/**
 * Reads the big-endian fields that ByteWriter (@strata/common) writes, for TS commands and the tag
 * file. A read past the end of the payload is a DataCorrupted error, never a read out of bounds.
 */
import { PgError, SqlState } from '@strata/common';

export class ByteReader {
  o = 0;

  constructor(readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.o + n > this.buf.length) throw new PgError(SqlState.DataCorrupted, `time-series payload cut short at byte ${this.o}`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.o++] as number;
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.o);
    this.o += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.o);
    this.o += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.o);
    this.o += 4;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.o);
    this.o += 8;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.o);
    this.o += 8;
    return v;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.o, this.o + n);
    this.o += n;
    return b;
  }

  /** Skips to a multiple of `n` (ByteWriter.align's padding). */
  align(n: number): void {
    const o = Math.ceil(this.o / n) * n;
    this.need(o - this.o);
    this.o = o;
  }

  done(): boolean {
    return this.o >= this.buf.length;
  }
}
