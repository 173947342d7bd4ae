/** Booleans (bit-packed) and strings (dictionary + bit-packed indexes). */
import { BitReader, BitWriter } from './bits.js';

export function encodeBools(vals: Uint8Array): Uint8Array {
  const w = new BitWriter(8 + vals.length / 8);
  w.write(vals.length >>> 0, 32);
  for (let i = 0; i < vals.length; i++) w.write(vals[i] ? 1 : 0, 1);
  return w.finish();
}

export function decodeBools(buf: Uint8Array): Uint8Array {
  const r = new BitReader(buf);
  const n = r.read(32);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = r.read(1);
  return out;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Dictionary encoding: distinct strings once, then each value as a fixed-width index. */
export function encodeStrings(vals: readonly string[]): Uint8Array {
  const dict = new Map<string, number>();
  const idx = new Uint32Array(vals.length);
  vals.forEach((v, i) => {
    let k = dict.get(v);
    if (k === undefined) {
      k = dict.size;
      dict.set(v, k);
    }
    idx[i] = k;
  });
  const entries = [...dict.keys()].map((s) => enc.encode(s));
  const w = new BitWriter(16 + entries.reduce((a, e) => a + e.length + 4, 0) + vals.length);
  w.write(vals.length >>> 0, 32);
  w.write(entries.length >>> 0, 32);
  for (const e of entries) {
    w.write(e.length >>> 0, 32);
    for (const b of e) w.write(b, 8);
  }
  const bits = entries.length <= 1 ? 0 : Math.ceil(Math.log2(entries.length));
  for (let i = 0; i < idx.length; i++) w.write(idx[i] as number, bits);
  return w.finish();
}

export function decodeStrings(buf: Uint8Array): string[] {
  const r = new BitReader(buf);
  const n = r.read(32);
  const nd = r.read(32);
  const dict: string[] = [];
  for (let d = 0; d < nd; d++) {
    const len = r.read(32);
    const bytes = new Uint8Array(len);
    for (let i = 0; i < len; i++) bytes[i] = r.read(8);
    dict.push(dec.decode(bytes));
  }
  const bits = nd <= 1 ? 0 : Math.ceil(Math.log2(nd));
  const out: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = dict[bits === 0 ? 0 : r.read(bits)] as string;
  return out;
}
