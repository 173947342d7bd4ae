import { describe, expect, it } from 'vitest';
import { KeyWriter, prefixEnd } from '../src/keys.js';

/** Byte order of encodings must equal value order (the property index range scans rely on). */
function checkOrder<T>(values: T[], enc: (w: KeyWriter, v: T) => void, cmp: (a: T, b: T) => number): void {
  const encoded = values.map((v) => {
    const w = new KeyWriter(8);
    enc(w, v);
    return { v, k: w.finish() };
  });
  for (let i = 0; i < encoded.length; i++) {
    for (let j = 0; j < encoded.length; j++) {
      const a = encoded[i] as { v: T; k: Buffer };
      const b = encoded[j] as { v: T; k: Buffer };
      expect(Math.sign(Buffer.compare(a.k, b.k)), `${String(a.v)} vs ${String(b.v)}`).toBe(Math.sign(cmp(a.v, b.v)));
    }
  }
}

describe('order-preserving key encoding', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  it('integers', () => {
    const vals = [-(2n ** 63n), -1000n, -1n, 0n, 1n, 255n, 256n, 2n ** 40n, 2n ** 63n - 1n, ...Array.from({ length: 40 }, () => BigInt(Math.floor((rand() - 0.5) * 2 ** 50)))];
    checkOrder(vals, (w, v) => w.int(v), (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  });
  it('floats, including negatives, zero and infinities', () => {
    const vals = [-Infinity, -1e300, -1.5, -1e-300, 0, 1e-300, 0.5, 1, 1e300, Infinity, ...Array.from({ length: 40 }, () => (rand() - 0.5) * 1e6)];
    checkOrder(vals, (w, v) => w.float(v), (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  });
  it('decimals given as sign, digits and exponent', () => {
    const vals = ['-1000', '-12.5', '-12.45', '-1', '-0.001', '0', '0.001', '0.0011', '0.5', '1', '1.0001', '12.45', '12.5', '99', '100', '1000.5'];
    const parts = (s: string) => {
      const neg = s.startsWith('-');
      const [i, f = ''] = s.replace('-', '').split('.') as [string, string?];
      const digits = (i + f).replace(/^0+/, '');
      const lead = (i + f).length - digits.length;
      const exp = (i === '0' ? 0 : i.length) - (i === '0' ? lead - 1 : 0);
      return { sign: (Number(s) === 0 ? 0 : neg ? -1 : 1) as -1 | 0 | 1, digits: digits.replace(/0+$/, ''), exp: i === '0' ? -(lead - 1) : exp };
    };
    checkOrder(vals, (w, v) => { const p = parts(v); w.decimal(p.sign, p.digits, p.exp); }, (a, b) => Number(a) - Number(b));
  });
  it('strings, including embedded zero bytes and prefixes', () => {
    const vals = ['', 'a', 'a\u0000', 'a\u0000b', 'ab', 'abc', 'b', 'ba', '\u00ff', 'é', 'z'.repeat(50)];
    checkOrder(vals, (w, v) => w.string(v), (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  });
  it('composite keys stay ordered by their first differing component', () => {
    const vals: [number, string][] = [[1, 'b'], [1, 'ba'], [2, ''], [2, 'a'], [10, 'a'], [-5, 'zzz']];
    checkOrder(vals, (w, [n, s]) => w.int(n).string(s), (a, b) => a[0] - b[0] || Buffer.compare(Buffer.from(a[1]), Buffer.from(b[1])));
  });
  it('prefixEnd is the smallest key after every key with the prefix', () => {
    const p = Buffer.from([1, 2, 0xff]);
    const e = prefixEnd(p);
    expect(Buffer.compare(Buffer.from([1, 2, 0xff, 0xff, 0xff]), e)).toBeLessThan(0);
    expect(e).toEqual(Buffer.from([1, 3]));
  });
});
