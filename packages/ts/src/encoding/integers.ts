/**
 * Integer encodings.
 *  - timestamps: delta-of-delta (Gorilla, Pelkonen et al. 2015) with variable-width buckets —
 *    regular sampling (every 10 s) costs one bit per timestamp;
 *  - integers: delta + zigzag + frame-of-reference bit packing in frames of 128 values, so a
 *    slowly moving metric takes a few bits per value.
 * Values are BigInt64Array (timestamps, int8) or Int32Array (int2/int4).
 */
import { BitReader, BitWriter } from './bits.js';

const framesValues = 128;

function zigzag(v: bigint): bigint {
  return v >= 0n ? v << 1n : ((-v) << 1n) - 1n;
}

function unzigzag(v: bigint): bigint {
  return (v & 1n) === 0n ? v >> 1n : -((v + 1n) >> 1n);
}

function write64(w: BitWriter, v: bigint, n: number): void {
  const u = BigInt.asUintN(64, v);
  w.write64(Number(u >> 32n), Number(u & 0xffffffffn), n);
}

function read64(r: BitReader, n: number): bigint {
  const [hi, lo] = r.read64(n);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Delta-of-delta encoding of int64 timestamps. */
export function encodeTimestamps(ts: BigInt64Array): Uint8Array {
  const w = new BitWriter(16 + ts.length / 4);
  w.write(ts.length >>> 0, 32);
  if (ts.length === 0) return w.finish();
  write64(w, ts[0] as bigint, 64);
  let prev = ts[0] as bigint;
  let prevDelta = 0n;
  for (let i = 1; i < ts.length; i++) {
    const cur = ts[i] as bigint;
    const delta = cur - prev;
    const dod = delta - prevDelta;
    if (dod === 0n) w.write(0, 1);
    else if (dod >= -63n && dod <= 64n) {
      w.write(0b10, 2);
      w.write(Number(dod + 63n), 7);
    } else if (dod >= -255n && dod <= 256n) {
      w.write(0b110, 3);
      w.write(Number(dod + 255n), 9);
    } else if (dod >= -2047n && dod <= 2048n) {
      w.write(0b1110, 4);
      w.write(Number(dod + 2047n), 12);
    } else {
      w.write(0b1111, 4);
      write64(w, dod, 64);
    }
    prevDelta = delta;
    prev = cur;
  }
  return w.finish();
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Stores an integer-valued double (|v| < 2^53) into a BigInt64Array slot through its 32-bit
 * halves: no BigInt is allocated, which is most of the cost of decoding int64 columns.
 */
export function setInt64(u32: Uint32Array, i: number, v: number): void {
  u32[2 * i] = v >>> 0; // v mod 2^32
  u32[2 * i + 1] = Math.floor(v / 4294967296) >>> 0;
}

/** The value of slot i of a BigInt64Array as a double (exact when |value| < 2^53). */
export function getInt64AsNumber(u32: Uint32Array, i: number): number {
  return ((u32[2 * i + 1] as number) | 0) * 4294967296 + (u32[2 * i] as number);
}

/** The value of slot i as a double when that is exact (|value| < 2^53), else NaN. */
export function getInt64AsSafeNumber(u32: Uint32Array, i: number): number {
  const hi = (u32[2 * i + 1] as number) | 0;
  return hi >= 2 ** 21 || hi < -(2 ** 21) ? NaN : hi * 4294967296 + (u32[2 * i] as number);
}

/** A Uint32Array over a BigInt64Array's memory (little-endian hosts only; null elsewhere). */
export function halvesOf(a: BigInt64Array): Uint32Array | null {
  return littleEndian ? new Uint32Array(a.buffer, a.byteOffset, a.length * 2) : null;
}

export function decodeTimestamps(buf: Uint8Array): BigInt64Array {
  return decodeTimestampsSmall(buf) ?? decodeTimestampsBig(buf);
}

/** The decoder in doubles; null if a value or delta leaves ±2^51 (then the BigInt decoder runs). */
function decodeTimestampsSmall(buf: Uint8Array): BigInt64Array | null {
  const r = new BitReader(buf);
  const n = r.read(32);
  const out = new BigInt64Array(n);
  const u32 = halvesOf(out);
  if (n === 0) return out;
  if (!u32) return null;
  const first = BigInt.asIntN(64, read64(r, 64));
  if (first > smallMax || first < -smallMax) return null;
  let prev = Number(first);
  setInt64(u32, 0, prev);
  let prevDelta = 0;
  const lim = 2 ** 51;
  for (let i = 1; i < n; i++) {
    let ones = 0;
    while (ones < 4 && r.bit()) ones++;
    let dod: number;
    switch (ones) {
      case 0:
        dod = 0;
        break;
      case 1:
        dod = r.read(7) - 63;
        break;
      case 2:
        dod = r.read(9) - 255;
        break;
      case 3:
        dod = r.read(12) - 2047;
        break;
      default: {
        const d = BigInt.asIntN(64, read64(r, 64));
        if (d > smallMax || d < -smallMax) return null;
        dod = Number(d);
      }
    }
    const delta = prevDelta + dod;
    prev += delta;
    if (prev > lim || prev < -lim || delta > lim || delta < -lim) return null;
    setInt64(u32, i, prev);
    prevDelta = delta;
  }
  return out;
}

function decodeTimestampsBig(buf: Uint8Array): BigInt64Array {
  const r = new BitReader(buf);
  const n = r.read(32);
  const out = new BigInt64Array(n);
  if (n === 0) return out;
  let prev = BigInt.asIntN(64, read64(r, 64));
  out[0] = prev;
  let prevDelta = 0n;
  for (let i = 1; i < n; i++) {
    // Prefix code: 0, 10, 110, 1110, 1111 — count the leading ones (at most four).
    let ones = 0;
    while (ones < 4 && r.bit()) ones++;
    let dod: bigint;
    switch (ones) {
      case 0:
        dod = 0n;
        break;
      case 1:
        dod = BigInt(r.read(7)) - 63n;
        break;
      case 2:
        dod = BigInt(r.read(9)) - 255n;
        break;
      case 3:
        dod = BigInt(r.read(12)) - 2047n;
        break;
      default:
        dod = BigInt.asIntN(64, read64(r, 64));
    }
    const delta = prevDelta + dod;
    prev = BigInt.asIntN(64, prev + delta);
    out[i] = prev;
    prevDelta = delta;
  }
  return out;
}

/** |values| up to this are handled with doubles: deltas < 2^51 and zigzags < 2^52 stay exact. */
const smallMax = 2n ** 50n;

/** Delta + zigzag + frame-of-reference bit packing of int64 values. */
export function encodeInt64(vals: BigInt64Array): Uint8Array {
  // Read through the 32-bit halves: reading a BigInt64Array element allocates a BigInt, which
  // made this check and the encoder below the largest cost of sealing a block (bench:ingest profile).
  const u32 = halvesOf(vals);
  if (!u32) return encodeInt64Big(vals);
  for (let i = 0; i < vals.length; i++) {
    const hi = (u32[2 * i + 1] as number) | 0;
    // hi in [-2^18, 2^18): the value is in [-2^50, 2^50), within smallMax.
    if (hi >= 0x40000 || hi < -0x40000) return encodeInt64Big(vals);
  }
  return encodeInt64Small(vals, u32);
}

/** encodeInt64 for values within ±2^50, in doubles; writes exactly the bits encodeInt64Big would. */
function encodeInt64Small(vals: BigInt64Array, u32: Uint32Array): Uint8Array {
  const w = new BitWriter(16 + vals.length);
  w.write(vals.length >>> 0, 32);
  if (vals.length === 0) return w.finish();
  write64(w, vals[0] as bigint, 64);
  let prev = ((u32[1] as number) | 0) * 4294967296 + (u32[0] as number);
  const zz = new Float64Array(framesValues);
  for (let start = 1; start < vals.length; start += framesValues) {
    const end = Math.min(vals.length, start + framesValues);
    let maxZ = 0;
    for (let i = start; i < end; i++) {
      const cur = ((u32[2 * i + 1] as number) | 0) * 4294967296 + (u32[2 * i] as number);
      const d = cur - prev;
      prev = cur;
      const z = d >= 0 ? d * 2 : -d * 2 - 1;
      zz[i - start] = z;
      if (z > maxZ) maxZ = z;
    }
    let maxBits = 0;
    while (maxBits < 53 && 2 ** maxBits <= maxZ) maxBits++;
    w.write(maxBits, 7);
    if (maxBits <= 32) {
      for (let i = start; i < end; i++) w.write(zz[i - start] as number, maxBits);
    } else {
      for (let i = start; i < end; i++) {
        const z = zz[i - start] as number;
        w.write64(Math.floor(z / 2 ** 32), z % 2 ** 32, maxBits);
      }
    }
  }
  return w.finish();
}

/** The all-BigInt encoder: the reference the fast path must match bit for bit (tests), and the path for large values. */
export function encodeInt64Big(vals: BigInt64Array): Uint8Array {
  const w = new BitWriter(16 + vals.length);
  w.write(vals.length >>> 0, 32);
  if (vals.length === 0) return w.finish();
  write64(w, vals[0] as bigint, 64);
  let prev = vals[0] as bigint;
  const zz: bigint[] = new Array<bigint>(framesValues);
  for (let start = 1; start < vals.length; start += framesValues) {
    const end = Math.min(vals.length, start + framesValues);
    let maxBits = 0;
    for (let i = start; i < end; i++) {
      const d = BigInt.asIntN(64, (vals[i] as bigint) - prev);
      prev = vals[i] as bigint;
      const z = BigInt.asUintN(64, zigzag(d));
      zz[i - start] = z;
      const bits = z === 0n ? 0 : z.toString(2).length;
      if (bits > maxBits) maxBits = bits;
    }
    w.write(maxBits, 7);
    for (let i = start; i < end; i++) write64(w, zz[i - start] as bigint, maxBits);
  }
  return w.finish();
}

export function decodeInt64(buf: Uint8Array): BigInt64Array {
  const r = new BitReader(buf);
  const n = r.read(32);
  const out = new BigInt64Array(n);
  const u32 = halvesOf(out);
  if (n === 0) return out;
  let prev = BigInt.asIntN(64, read64(r, 64));
  out[0] = prev;
  for (let start = 1; start < n; start += framesValues) {
    const end = Math.min(n, start + framesValues);
    const bits = r.read(7);
    if (bits <= 32 && prev <= smallMax && prev >= -smallMax) {
      // Doubles while |prev| stays within 2^50 (a frame moves it by at most 128 × 2^31).
      let p = Number(prev);
      for (let i = start; i < end; i++) {
        const z = bits === 0 ? 0 : r.read(bits);
        p += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
        if (u32) setInt64(u32, i, p);
        else out[i] = BigInt(p);
      }
      prev = out[end - 1] as bigint;
      continue;
    }
    for (let i = start; i < end; i++) {
      const z = bits === 0 ? 0n : read64(r, bits);
      prev = BigInt.asIntN(64, prev + unzigzag(z));
      out[i] = prev;
    }
  }
  return out;
}

/** The same scheme for 32-bit integers, in plain numbers (no BigInt on the hot path). */
export function encodeInt32(vals: Int32Array): Uint8Array {
  const w = new BitWriter(16 + vals.length);
  w.write(vals.length >>> 0, 32);
  if (vals.length === 0) return w.finish();
  w.write((vals[0] as number) >>> 0, 32);
  let prev = vals[0] as number;
  const zz = new Float64Array(framesValues);
  for (let start = 1; start < vals.length; start += framesValues) {
    const end = Math.min(vals.length, start + framesValues);
    let maxZ = 0;
    for (let i = start; i < end; i++) {
      const d = (vals[i] as number) - prev; // exact: |d| < 2^33
      prev = vals[i] as number;
      const z = d >= 0 ? d * 2 : -d * 2 - 1;
      zz[i - start] = z;
      if (z > maxZ) maxZ = z;
    }
    const bits = maxZ === 0 ? 0 : Math.floor(Math.log2(maxZ)) + 1;
    w.write(bits, 6);
    for (let i = start; i < end; i++) {
      const z = zz[i - start] as number;
      if (bits > 32) w.write64(Math.floor(z / 4294967296), z >>> 0, bits);
      else w.write(z >>> 0, bits);
    }
  }
  return w.finish();
}

export function decodeInt32(buf: Uint8Array): Int32Array {
  const r = new BitReader(buf);
  const n = r.read(32);
  const out = new Int32Array(n);
  if (n === 0) return out;
  let prev = r.read(32) | 0;
  out[0] = prev;
  for (let start = 1; start < n; start += framesValues) {
    const end = Math.min(n, start + framesValues);
    const bits = r.read(6);
    for (let i = start; i < end; i++) {
      let z = 0;
      if (bits > 32) {
        const [hi, lo] = r.read64(bits);
        z = hi * 4294967296 + lo;
      } else if (bits > 0) z = r.read(bits);
      const d = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      prev = prev + d;
      out[i] = prev;
    }
  }
  return out;
}
