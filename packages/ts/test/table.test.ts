import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ColumnType } from '../src/block.js';
import { TsTable } from '../src/table.js';
import type { TsTableOptions } from '../src/table.js';
import type { TsValue } from '../src/command.js';

const root = mkdtempSync(join(tmpdir(), 'ts-table-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const day = 86_400_000n; // milliseconds
function opts(name: string): TsTableOptions {
  return {
    dir: join(root, name),
    columns: [
      { name: 'ts', type: ColumnType.Timestamp },
      { name: 'v', type: ColumnType.Float64 },
      { name: 'n', type: ColumnType.Int64 },
    ],
    partitionInterval: 10n * day,
    rowsPerBlock: 100,
    segment: { capacityBytes: 1 << 20 },
  };
}

describe('TsTable', () => {
  it('appends out of order across partitions and scans in timestamp order', () => {
    const t = TsTable.open(opts('a'));
    const rows: TsValue[][] = [];
    for (let i = 0; i < 1000; i++) rows.push([BigInt((i * 7919) % 1000) * 3_600_000n, i * 0.5, BigInt(i)]);
    t.appendRows(1, rows);
    t.appendRows(2, [[5n, null, 1n]]);
    expect(t.partitionCount()).toBe(5); // 1000 hours ≈ 41.7 days
    const [b1] = [...t.scan([1], 0n, 10_000_000_000n)];
    const ts = [...(b1?.columns[0]?.values as BigInt64Array)];
    expect(ts).toHaveLength(1000);
    expect(ts).toEqual([...ts].sort((a, b) => (a < b ? -1 : 1)));
    const [b2] = [...t.scan([2], 0n, 10n)];
    expect(b2?.columns[1]?.nulls?.[0]).toBe(1);
    t.close();
  });

  it('scans in-order data by slicing blocks (time-range cuts, NULLs and buffered rows included)', () => {
    const t = TsTable.open(opts('inorder'));
    t.appendRows(3, Array.from({ length: 250 }, (_, i) => [BigInt(i), i % 7 === 0 ? null : i * 1.5, BigInt(i)]));
    t.flush(1);
    t.appendRows(3, Array.from({ length: 10 }, (_, i) => [BigInt(250 + i), 1, BigInt(250 + i)]));
    const [b] = [...t.scan([3], 50n, 255n)];
    expect([...(b?.columns[0]?.values as BigInt64Array)]).toEqual(Array.from({ length: 206 }, (_, i) => BigInt(50 + i)));
    expect([...(b?.columns[2]?.values as BigInt64Array)]).toEqual(Array.from({ length: 206 }, (_, i) => BigInt(50 + i)));
    const nulls = b?.columns[1]?.nulls as Uint8Array;
    expect([...nulls].map((x, i) => (x ? 50 + i : -1)).filter((x) => x >= 0)).toEqual(Array.from({ length: 206 }, (_, i) => 50 + i).filter((x) => x % 7 === 0 && x < 250));
    expect((b?.columns[1]?.values as Float64Array)[1]).toBe(51 * 1.5);
    t.close();
  });

  it('keeps only flushed data across a crash; the durable index says where to replay from', () => {
    const o = opts('b');
    const t = TsTable.open(o);
    t.appendRows(7, Array.from({ length: 250 }, (_, i) => [BigInt(i) * 1000n, i, BigInt(i)]));
    t.flush(42);
    t.appendRows(7, [[999_000n, 1, 1n]]); // buffered only: lost in a crash, replayed from the log
    // crash: no flush, no close
    const r = TsTable.open(o);
    expect(r.durableIndex).toBe(42);
    const [b] = [...r.scan([7], 0n, 10_000_000n)];
    expect(b?.columns[0]?.values.length).toBe(250);
    r.close();
    t.close();
  });

  it('aggregates from block headers when blocks lie inside the range, decoding only the edges', () => {
    const t = TsTable.open(opts('c'));
    t.appendRows(3, Array.from({ length: 1000 }, (_, i) => [BigInt(i) * 1000n, i % 10 === 0 ? null : i, BigInt(i)]));
    t.flush(1);
    const all = t.aggregate(3, 1, 0n, 999_000n);
    expect(all.decodedBlocks).toBe(0);
    expect(all.headerBlocks).toBe(10);
    const want = Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 10 !== 0);
    expect(all.count).toBe(want.length);
    expect(all.sum).toBe(want.reduce((a, b) => a + b, 0));
    expect([all.min, all.max]).toEqual([1, 999]);
    expect([all.firstTs, all.lastTs]).toEqual([0n, 999_000n]);
    // A range cutting two blocks: those two are decoded, the ones inside are not.
    const part = t.aggregate(3, 2, 150_000n, 849_000n);
    expect(part.decodedBlocks).toBe(2);
    expect(part.headerBlocks).toBe(6);
    expect(part.count).toBe(700);
    expect(part.sum).toBe(Array.from({ length: 700 }, (_, i) => i + 150).reduce((a, b) => a + b, 0));
    t.close();
  });

  it('drops whole partitions for retention', () => {
    const t = TsTable.open(opts('d'));
    t.appendRows(1, Array.from({ length: 30 }, (_, i) => [BigInt(i) * day, i, BigInt(i)]));
    expect(t.partitionCount()).toBe(3);
    expect(t.dropBefore(20n * day, 5)).toBe(2);
    const [b] = [...t.scan([1], 0n, 100n * day)];
    expect(b?.columns[0]?.values.length).toBe(10);
    t.close();
  });
});
