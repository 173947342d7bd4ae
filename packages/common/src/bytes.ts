/**
 * A growable big-endian byte writer: the one buffer builder behind the TS commands, the row codec
 * and the wire protocol's output. It doubles its buffer as needed; `finish()` is a view of the
 * bytes written (copy it if the writer's buffer must not be kept alive).
 */
export class ByteWriter {
  buf: Buffer;
  len = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Makes room for n more bytes (a caller writing at `len` itself then advances it). */
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = Buffer.allocUnsafe(size);
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.len++] = v;
    return this;
  }

  i16(v: number): this {
    this.reserve(2);
    this.buf.writeInt16BE(v, this.len);
    this.len += 2;
    return this;
  }

  u16(v: number): this {
    this.reserve(2);
    this.buf.writeUInt16BE(v, this.len);
    this.len += 2;
    return this;
  }

  u32(v: number): this {
    this.reserve(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
    return this;
  }

  i32(v: number): this {
    this.reserve(4);
    this.buf.writeInt32BE(v, this.len);
    this.len += 4;
    return this;
  }

  i64(v: bigint): this {
    this.reserve(8);
    this.buf.writeBigInt64BE(v, this.len);
    this.len += 8;
    return this;
  }

  f64(v: number): this {
    this.reserve(8);
    this.buf.writeDoubleBE(v, this.len);
    this.len += 8;
    return this;
  }

  /** Zero bytes up to a multiple of `n` (from the start of the buffer). */
  align(n: number): this {
    while (this.len % n !== 0) this.u8(0);
    return this;
  }

  /** A string's UTF-8 bytes (no length). */
  utf8(s: string): this {
    this.reserve(s.length * 3);
    this.len += this.buf.write(s, this.len, 'utf8');
    return this;
  }

  bytes(b: Buffer): this {
    this.reserve(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
    return this;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

