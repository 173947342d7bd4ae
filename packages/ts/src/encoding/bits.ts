/**
 * Bit-level writer and reader (most significant bit first). Values of up to 32 bits per call;
 * 64-bit values go as two halves. Hot paths: no allocation per value, the buffer grows by doubling.
 */
export class BitWriter {
  private buf: Uint8Array;
  private bytePos = 0;
  private bitPos = 0; // bits used in buf[bytePos]

  constructor(capacityBytes = 256) {
    this.buf = new Uint8Array(Math.max(8, capacityBytes));
  }

  private ensure(bytes: number): void {
    if (this.bytePos + bytes + 1 <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.bytePos + bytes + 1) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.bytePos + 1));
    this.buf = nb;
  }

  /** Writes the low `n` bits of v (0 <= n <= 32). */
  write(v: number, n: number): void {
    if (n === 0) return;
    this.ensure(5);
    let remaining = n;
    while (remaining > 0) {
      const free = 8 - this.bitPos;
      const take = remaining < free ? remaining : free;
      const shift = remaining - take;
      const bits = (v >>> shift) & ((1 << take) - 1);
      this.buf[this.bytePos] = (this.buf[this.bytePos] as number) | (bits << (free - take));
      this.bitPos += take;
      remaining -= take;
      if (this.bitPos === 8) {
        this.bytePos++;
        this.bitPos = 0;
      }
    }
  }

  bit(b: boolean): void {
    this.write(b ? 1 : 0, 1);
  }

  /** Writes a 64-bit value given as high and low 32-bit halves, keeping the low `n` bits. */
  write64(hi: number, lo: number, n: number): void {
    if (n > 32) {
      this.write(hi, n - 32);
      this.write(lo, 32);
    } else this.write(lo, n);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.bytePos + (this.bitPos > 0 ? 1 : 0));
  }
}

export class BitReader {
  private bytePos = 0;
  private bitPos = 0;

  constructor(private readonly buf: Uint8Array) {}

  read(n: number): number {
    const p = this.bytePos;
    const b = this.buf;
    if (n <= 24 && p + 3 < b.length) {
      // Fast path: the n bits lie within the 4 bytes from bytePos (bitPos <= 7, n <= 24).
      if (n === 0) return 0;
      const word = ((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number);
      const total = this.bitPos + n;
      this.bytePos = p + (total >>> 3);
      const v = (word << this.bitPos) >>> (32 - n);
      this.bitPos = total & 7;
      return v;
    }
    let v = 0;
    let remaining = n;
    while (remaining > 0) {
      if (this.bytePos >= this.buf.length) throw new RangeError('bit stream exhausted');
      const avail = 8 - this.bitPos;
      const take = remaining < avail ? remaining : avail;
      const bits = ((this.buf[this.bytePos] as number) >>> (avail - take)) & ((1 << take) - 1);
      v = take === 32 ? bits : v * (1 << take) + bits;
      this.bitPos += take;
      remaining -= take;
      if (this.bitPos === 8) {
        this.bytePos++;
        this.bitPos = 0;
      }
    }
    return v >>> 0;
  }

  bit(): boolean {
    return this.read(1) === 1;
  }

  /** Reads n (<= 64) bits as [hi, lo]. */
  read64(n: number): [number, number] {
    if (n > 32) {
      const hi = this.read(n - 32);
      return [hi, this.read(32)];
    }
    return [0, this.read(n)];
  }
}
