/**
 * Gorilla XOR compression of float64 values (Pelkonen et al. 2015, §4.1.2): each value is XORed
 * with the previous one; identical values cost one bit, values sharing sign/exponent/high
 * mantissa bits cost only their differing middle bits. Works on the raw IEEE bits, so NaN, -0 and
 * infinities round-trip exactly.
 */
import { BitReader, BitWriter } from './bits.js';

function clz32(x: number): number {
  return Math.clz32(x);
}

function ctz32(x: number): number {
  if (x === 0) return 32;
  return 31 - Math.clz32(x & -x);
}

export function encodeFloat64(vals: Float64Array): Uint8Array {
  const w = new BitWriter(16 + vals.length * 2);
  w.write(vals.length >>> 0, 32);
  if (vals.length === 0) return w.finish();
  const u32 = new Uint32Array(vals.buffer, vals.byteOffset, vals.length * 2);
  // Little-endian hosts: u32[2i] is the low half, u32[2i+1] the high half.
  let prevHi = u32[1] as number;
  let prevLo = u32[0] as number;
  w.write(prevHi, 32);
  w.write(prevLo, 32);
  let prevLead = -1;
  let prevTrail = 0;
  for (let i = 1; i < vals.length; i++) {
    const hi = u32[2 * i + 1] as number;
    const lo = u32[2 * i] as number;
    const xh = (hi ^ prevHi) >>> 0;
    const xl = (lo ^ prevLo) >>> 0;
    prevHi = hi;
    prevLo = lo;
    if (xh === 0 && xl === 0) {
      w.write(0, 1);
      continue;
    }
    w.write(1, 1);
    const lead = xh !== 0 ? clz32(xh) : 32 + clz32(xl);
    const trail = xl !== 0 ? ctz32(xl) : 32 + ctz32(xh);
    if (prevLead >= 0 && lead >= prevLead && trail >= prevTrail) {
      w.write(0, 1);
      const m = 64 - prevLead - prevTrail;
      writeMeaningful(w, xh, xl, prevTrail, m);
    } else {
      const l = Math.min(lead, 31);
      const m = 64 - l - trail;
      w.write(1, 1);
      w.write(l, 5);
      w.write(m === 64 ? 0 : m, 6);
      writeMeaningful(w, xh, xl, trail, m);
      prevLead = l;
      prevTrail = trail;
    }
  }
  return w.finish();
}

/** Writes bits [trail, trail + m) of the 64-bit value (xh:xl). */
function writeMeaningful(w: BitWriter, xh: number, xl: number, trail: number, m: number): void {
  // Shift right by `trail` across the two halves.
  let hi = xh;
  let lo = xl;
  if (trail >= 32) {
    lo = hi >>> (trail - 32);
    hi = 0;
  } else if (trail > 0) {
    lo = ((lo >>> trail) | (hi << (32 - trail))) >>> 0;
    hi = hi >>> trail;
  }
  w.write64(hi, lo, m);
}

export function decodeFloat64(buf: Uint8Array): Float64Array {
  const r = new BitReader(buf);
  const n = r.read(32);
  const out = new Float64Array(n);
  if (n === 0) return out;
  const u32 = new Uint32Array(out.buffer);
  let hi = r.read(32);
  let lo = r.read(32);
  u32[1] = hi;
  u32[0] = lo;
  let lead = 0;
  let trail = 0;
  for (let i = 1; i < n; i++) {
    if (r.bit()) {
      let m: number;
      if (r.bit()) {
        lead = r.read(5);
        m = r.read(6);
        if (m === 0) m = 64;
        trail = 64 - lead - m;
      } else m = 64 - lead - trail;
      const [mh, ml] = r.read64(m);
      // Shift (mh:ml) left by `trail` to get the XOR.
      let xh = mh;
      let xl = ml;
      if (trail >= 32) {
        xh = ml << (trail - 32);
        xl = 0;
      } else if (trail > 0) {
        xh = ((mh << trail) | (ml >>> (32 - trail))) >>> 0;
        xl = (ml << trail) >>> 0;
      }
      hi = (hi ^ xh) >>> 0;
      lo = (lo ^ xl) >>> 0;
    }
    u32[2 * i + 1] = hi;
    u32[2 * i] = lo;
  }
  return out;
}
