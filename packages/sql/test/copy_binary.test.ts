/**
 * The binary COPY parser alone (pure: bytes in, rows out): any split of the input into CopyData
 * chunks gives the same rows and the same errors as the whole input, and a large tuple arriving in
 * small chunks is not re-joined per chunk.
 */
import { PgError } from '@strata/common';
import { describe, expect, it } from 'vitest';
import { BinaryCopyParser, binaryCopyRow, copyBinaryHeader, copyBinaryTrailer } from '../src/copy_binary.js';
import { T } from '../src/types/types.js';
import type { SqlType, Value, ValueContext } from '../src/types/types.js';

const vctx = { timeZone: 'UTC' } as unknown as ValueContext;
const types: SqlType[] = [T.int4, T.text, T.float8];
const names = ['a', 'b', 'c'];

function int4(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
function float8(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return b;
}

function file(rows: number, textBytes = 5): Buffer {
  const parts = [copyBinaryHeader()];
  for (let i = 0; i < rows; i++)
    parts.push(
      binaryCopyRow([int4(i), i % 7 === 0 ? null : Buffer.from('x'.repeat(textBytes) + i), float8(i / 4)]),
    );
  parts.push(copyBinaryTrailer);
  return Buffer.concat(parts);
}

/** Feeds data in chunks cut at the given offsets; returns the rows (with their numbers) or the error. */
function run(
  data: Buffer,
  cuts: number[],
): { rows: Value[][]; lines: number[] } | { code: string; message: string; detail: string | undefined } {
  const p = new BinaryCopyParser(types, names, 'r');
  const rows: Value[][] = [];
  const lines: number[] = [];
  try {
    let at = 0;
    for (const cut of [...cuts, data.length]) {
      rows.push(...p.push(data.subarray(at, cut), vctx));
      lines.push(...p.lineOf);
      at = cut;
    }
    p.end();
    return { rows, lines };
  } catch (e) {
    if (!(e instanceof PgError)) throw e;
    return { code: e.code, message: e.message, detail: e.fields.detail };
  }
}

/** A small seeded generator (mulberry32), so a failure names its seed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('BinaryCopyParser', () => {
  it('gives the same rows whatever the chunking', () => {
    const data = file(200);
    const whole = run(data, []);
    expect('rows' in whole && whole.rows.length).toBe(200);
    expect('rows' in whole && whole.rows[7]).toEqual([7, null, 1.75]);
    expect('rows' in whole && whole.lines.slice(0, 3)).toEqual([1, 2, 3]);
    for (let seed = 1; seed <= 50; seed++) {
      const r = rng(seed);
      const cuts: number[] = [];
      for (let at = 0; ;) {
        at += 1 + Math.floor(r() * 40);
        if (at >= data.length) break;
        cuts.push(at);
      }
      expect(run(data, cuts), `seed ${seed}`).toEqual(whole);
    }
  });

  it('gives the same error whatever the chunking', () => {
    const good = file(2);
    // A third tuple whose int4 has 3 bytes: 08P01 on line 3, column a.
    const bad = Buffer.concat([
      good.subarray(0, good.length - 2),
      Buffer.from([0, 3, 0, 0, 0, 3, 1, 2, 3]),
      int4(-1),
      int4(-1),
      copyBinaryTrailer,
    ]);
    const whole = run(bad, []);
    expect(whole).toEqual({
      code: '08P01',
      message: 'insufficient data left in message',
      detail: 'COPY r, line 3, column a',
    });
    for (let cut = 1; cut < bad.length; cut += 3) expect(run(bad, [cut]), `cut at ${cut}`).toEqual(whole);
  });

  it('refuses a tuple longer than copyRowBytesMax as soon as its field length says so', () => {
    const big = Buffer.alloc(2 + 4 + 4 + 4);
    big.writeInt16BE(3, 0);
    big.writeInt32BE(4, 2);
    big.writeInt32BE(0x7fff0000, 10); // the text field claims ~2 GiB
    const r = run(Buffer.concat([copyBinaryHeader(), big]), []);
    expect(r).toEqual({
      code: '54000',
      message: 'COPY row exceeds 67108864 bytes',
      detail: 'COPY r, line 1, column b',
    });
  });

  it('buffers an incomplete tuple without re-joining it for every chunk', () => {
    const data = file(1, 1_000_000);
    const p = new BinaryCopyParser(types, names, 'r');
    const concat = Buffer.concat;
    let joins = 0;
    Buffer.concat = ((list: readonly Uint8Array[], n?: number) => {
      joins++;
      return concat(list, n);
    }) as typeof Buffer.concat;
    try {
      let rows = 0;
      for (let at = 0; at < data.length; at += 1000)
        rows += p.push(data.subarray(at, at + 1000), vctx).length;
      p.end();
      expect(rows).toBe(1);
      // Joins happen when a length field completes or the tuple does, not once per 1000-byte chunk.
      expect(joins).toBeLessThan(10);
    } finally {
      Buffer.concat = concat;
    }
  });
});
