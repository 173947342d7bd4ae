import { describe, expect, it } from 'vitest';
import { BitReader, BitWriter } from '../src/encoding/bits.js';
import { decodeFloat64, encodeFloat64 } from '../src/encoding/floats.js';
import { decodeInt32, decodeInt64, decodeTimestamps, encodeInt32, encodeInt64, encodeInt64Big, encodeTimestamps } from '../src/encoding/integers.js';
import { decodeBools, decodeStrings, encodeBools, encodeStrings } from '../src/encoding/misc.js';

let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);

describe('timestamp encoding (delta-of-delta)', () => {
  it.each([
    ['empty', []],
    ['one', [1_700_000_000_000n]],
    ['regular 10 s', Array.from({ length: 1000 }, (_, i) => 1_700_000_000_000n + BigInt(i) * 10_000n)],
    ['jittered', Array.from({ length: 1000 }, (_, i) => 1_700_000_000_000n + BigInt(i) * 10_000n + BigInt(Math.floor(rand() * 100)))],
    ['out of order and huge jumps', [5n, 3n, 9_000_000_000_000n, -9_000_000_000_000n, 0n, 0n, 9223372036854775807n, -9223372036854775808n]],
  ] as [string, bigint[]][])('%s round-trips', (_n, vals) => {
    const a = BigInt64Array.from(vals);
    expect([...decodeTimestamps(encodeTimestamps(a))]).toEqual(vals);
  });

  it('regular sampling costs about one bit per timestamp', () => {
    const a = BigInt64Array.from(Array.from({ length: 10_000 }, (_, i) => 1_700_000_000_000n + BigInt(i) * 10_000n));
    expect(encodeTimestamps(a).length).toBeLessThan(10_000 / 8 + 32);
  });
});

describe('integer encoding (delta + zigzag + frame of reference)', () => {
  it('int64: the double-precision fast path writes exactly the reference bits and decodes across the 2^50 boundary', () => {
    let x = 0;
    const r = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const scale of [0, 1, 3, 100, 2 ** 7, 2 ** 13, 2 ** 20, 2 ** 29, 2 ** 30, 2 ** 31, 2 ** 40, 2 ** 49]) {
      const vals = BigInt64Array.from(Array.from({ length: 1000 }, () => BigInt(Math.round((r() - 0.5) * 2 * scale))));
      expect(encodeInt64(vals)).toEqual(encodeInt64Big(vals));
      expect([...decodeInt64(encodeInt64(vals))]).toEqual([...vals]);
    }
    const edge = BigInt64Array.from(Array.from({ length: 600 }, (_, i) => 2n ** 50n - 300n + BigInt(i) * 3n)); // crosses 2^50
    expect([...decodeInt64(encodeInt64(edge))]).toEqual([...edge]);
    const neg = BigInt64Array.from([-(2n ** 50n), 2n ** 50n, -(2n ** 50n), 0n, -(2n ** 63n), 2n ** 63n - 1n]);
    expect([...decodeInt64(encodeInt64(neg))]).toEqual([...neg]);
  });

  it('timestamps: the double decoder hands over to the BigInt one when values leave ±2^51', () => {
    const vals = [0n, 10n, 20n, 2n ** 51n - 5n, 2n ** 51n + 5n, 2n ** 62n, -(2n ** 62n), 30n];
    expect([...decodeTimestamps(encodeTimestamps(BigInt64Array.from(vals)))]).toEqual(vals);
    const regular = Array.from({ length: 5000 }, (_, i) => 1_451_606_400_000_000n + BigInt(i) * 10_000_000n - (i % 7 === 0 ? 3n : 0n));
    expect([...decodeTimestamps(encodeTimestamps(BigInt64Array.from(regular)))]).toEqual(regular);
  });

  it('int64 round-trips, extremes included', () => {
    const vals = [0n, -1n, 1n, 9223372036854775807n, -9223372036854775808n, 42n, ...Array.from({ length: 500 }, () => BigInt(Math.floor((rand() - 0.5) * 2 ** 40)))];
    expect([...decodeInt64(encodeInt64(BigInt64Array.from(vals)))]).toEqual(vals);
  });
  it('int32 round-trips, extremes included', () => {
    const vals = [0, -1, 2147483647, -2147483648, 5, ...Array.from({ length: 700 }, () => Math.floor((rand() - 0.5) * 2 ** 32))];
    expect([...decodeInt32(encodeInt32(Int32Array.from(vals)))]).toEqual(vals);
    expect([...decodeInt32(encodeInt32(new Int32Array(0)))]).toEqual([]);
  });
  it('a random walk in 0..100 takes a few bits per value', () => {
    let v = 50;
    const walk = Int32Array.from({ length: 10_000 }, () => (v = Math.max(0, Math.min(100, v + Math.floor(rand() * 11) - 5))));
    const bytes = encodeInt32(walk).length;
    expect(bytes / walk.length).toBeLessThan(0.6);
    expect([...decodeInt32(encodeInt32(walk))]).toEqual([...walk]);
  });
});

describe('float encoding (Gorilla XOR)', () => {
  it('round-trips exactly, special values included', () => {
    const vals = [0, -0, 1.5, NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE, 0.1, 0.1, 0.1, 1e-300, ...Array.from({ length: 500 }, () => (rand() - 0.5) * 1e6)];
    const out = decodeFloat64(encodeFloat64(Float64Array.from(vals)));
    vals.forEach((v, i) => expect(Object.is(out[i], v), `index ${i}: ${v} vs ${out[i]}`).toBe(true));
  });
  it('repeated values cost one bit each', () => {
    const a = new Float64Array(8000).fill(23.5);
    expect(encodeFloat64(a).length).toBeLessThan(8000 / 8 + 16);
  });
});

describe('booleans and strings', () => {
  it('round-trip', () => {
    const b = Uint8Array.from({ length: 1001 }, () => (rand() > 0.5 ? 1 : 0));
    expect([...decodeBools(encodeBools(b))]).toEqual([...b]);
    const s = Array.from({ length: 300 }, (_, i) => ['host_1', 'host_2', 'héllo', ''][i % 4] as string);
    expect(decodeStrings(encodeStrings(s))).toEqual(s);
    expect(decodeStrings(encodeStrings([]))).toEqual([]);
    expect(decodeStrings(encodeStrings(['only']))).toEqual(['only']);
  });
});

describe('bit streams', () => {
  it('read back every width 0–32 at every bit offset, up to the last byte', () => {
    const items: [number, number][] = [];
    for (let k = 0; k < 5000; k++) {
      const n = k % 33;
      items.push([n, n === 0 ? 0 : Math.floor(rand() * 2 ** n)]);
    }
    const w = new BitWriter(64);
    for (const [n, v] of items) w.write(v, n);
    const r = new BitReader(w.finish());
    for (const [n, v] of items) expect(r.read(n)).toBe(v);
    expect(() => r.read(8 + 1)).toThrow(/exhausted/);
  });
});
