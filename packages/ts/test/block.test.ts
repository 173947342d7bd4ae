import { describe, expect, it } from 'vitest';
import { ColumnType, blockRowsMax, encodeBlock, readBlockHeader, readColumn } from '../src/block.js';
import type { ColumnData } from '../src/block.js';

let seed = 99;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);

/** A TSBS "cpu" block for one host: timestamp + 10 integer usage_* random walks. */
function cpuBlock(rows: number): ColumnData[] {
  const ts = BigInt64Array.from({ length: rows }, (_, i) => 1_451_606_400_000n + BigInt(i) * 10_000n);
  const cols: ColumnData[] = [{ type: ColumnType.Timestamp, values: ts, nulls: null }];
  for (let c = 0; c < 10; c++) {
    let v = Math.floor(rand() * 100);
    cols.push({ type: ColumnType.Int64, values: BigInt64Array.from({ length: rows }, () => BigInt((v = Math.max(0, Math.min(100, v + Math.floor(rand() * 11) - 5))))), nulls: null });
  }
  return cols;
}

describe('columnar blocks', () => {
  it('round-trips every column type with nulls, and the header carries the aggregates', () => {
    const rows = 5;
    const cols: ColumnData[] = [
      { type: ColumnType.Timestamp, values: BigInt64Array.from([10n, 20n, 15n, 40n, 50n]), nulls: null },
      { type: ColumnType.Float64, values: Float64Array.from([1.5, 0, -2, 4, 8]), nulls: Uint8Array.from([0, 1, 0, 0, 0]) },
      { type: ColumnType.Int32, values: Int32Array.from([1, 2, 3, 4, 5]), nulls: null },
      { type: ColumnType.Int64, values: BigInt64Array.from([7n, 7n, 7n, 7n, 7n]), nulls: null },
      { type: ColumnType.Bool, values: Uint8Array.from([1, 0, 1, 1, 0]), nulls: null },
      { type: ColumnType.String, values: ['a', 'b', '', 'a', 'a'], nulls: Uint8Array.from([0, 0, 1, 0, 0]) },
    ];
    const b = encodeBlock(cols, true);
    const h = readBlockHeader(b);
    expect(h.rows).toBe(rows);
    expect(h.ordered).toBe(false); // 20 then 15
    expect([h.firstTs, h.lastTs, h.minTs, h.maxTs]).toEqual([10n, 50n, 10n, 50n]);
    expect(h.columns[1]).toMatchObject({ nonNull: 4, min: -2, max: 8, sum: 11.5 });
    expect(h.columns[2]).toMatchObject({ nonNull: 5, min: 1, max: 5, sum: 15 });
    expect(h.columns[5]).toMatchObject({ nonNull: 4 });
    for (let i = 0; i < cols.length; i++) {
      const c = readColumn(b, h, i);
      const want = cols[i] as ColumnData;
      expect(c.type).toBe(want.type);
      expect(c.nulls ? [...c.nulls] : null).toEqual(want.nulls ? [...want.nulls] : null);
      const vals = Array.isArray(c.values) ? c.values : [...c.values];
      const wantVals = Array.isArray(want.values) ? want.values : [...want.values];
      vals.forEach((v, j) => {
        if (want.nulls?.[j]) return;
        expect(v).toEqual(wantVals[j]);
      });
    }
  });

  it('detects corruption by checksum', () => {
    const b = encodeBlock(cpuBlock(100), true);
    b[b.length - 10] = (b[b.length - 10] as number) ^ 0xff;
    expect(() => readBlockHeader(b)).toThrow(/checksum/);
  });

  it('refuses more rows than blockRowsMax', () => {
    expect(() => encodeBlock(cpuBlock(blockRowsMax + 1), true)).toThrow(/exceed/);
  });

  it('stores TSBS cpu data in under one byte per metric once compressed', () => {
    const rows = blockRowsMax;
    const b = encodeBlock(cpuBlock(rows), true);
    const metrics = rows * 10;
    // bytes per metric, timestamps and headers included
    expect(b.length / metrics).toBeLessThan(1);
  });
});
