/**
 * Routing devices to hash-point ranges: the hash is Go's FNV-1 (KWDB's router), and a write
 * divided by range holds, range by range, exactly the devices of that range with all their rows.
 */
import { describe, expect, it } from 'vitest';
import { ColumnType } from '../src/block.js';
import { decodeTsWrite, encodeTsWrite, rowsOfGroup } from '../src/command.js';
import type { TsSchema, TsValue } from '../src/command.js';
import { fnv1_32, hashPointOf, splitTsWrite } from '../src/route.js';

const schema: TsSchema = {
  partitionIntervalUs: 3_600_000_000,
  columns: [
    ColumnType.Timestamp,
    ColumnType.Float64,
    ColumnType.Int32,
    ColumnType.Bool,
    ColumnType.String,
    ColumnType.Int64,
  ],
  tags: [ColumnType.Int64, ColumnType.String, ColumnType.String],
  primaryTags: [1, 0],
};

describe('hash-point routing', () => {
  it('hashes as FNV-1 (32 bits)', () => {
    // Reference values of the FNV-1 32-bit hash (Go hash/fnv New32).
    expect(fnv1_32(Buffer.from(''))).toBe(0x811c9dc5);
    expect(fnv1_32(Buffer.from('a'))).toBe(0x050c5d7e);
    expect(fnv1_32(Buffer.from('foobar'))).toBe(0x31f0b262);
  });

  it('divides a write by range: each part holds its range devices whole, the parts make the write', () => {
    const rows: TsValue[][] = [];
    for (let d = 0; d < 60; d++) {
      for (let i = 0; i < 1 + (d % 7); i++) {
        rows.push([
          BigInt(i * 1000 + d),
          d % 5 === 0 ? null : d / 3,
          i - d,
          i % 2 === 0,
          d % 4 === 0 ? null : `s${d}-${i}`,
          BigInt(d) * 10_000_000_000n,
          BigInt(d % 3),
          `dev${d}`,
          d % 2 ? 'x' : null,
        ]);
      }
    }
    const payload = encodeTsWrite({ tableId: 9, schema, rows });
    const hashNum = 2000;
    const bounds = [0, 500, 1000, 1500, 2000];
    const rangeOf = (h: number) => bounds.findIndex((b, i) => h >= b && h < (bounds[i + 1] as number));
    const parts = splitTsWrite(payload, hashNum, rangeOf);
    expect(parts.size).toBeGreaterThan(1);
    const whole = decodeTsWrite(payload);
    const key = (tags: TsValue[]) =>
      JSON.stringify(tags, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    const want = new Map(whole.groups.map((g) => [key(g.tags), rowsOfGroup(g)]));
    const got = new Map<string, TsValue[][]>();
    for (const [r, part] of parts) {
      const d = decodeTsWrite(part);
      expect(d.tableId).toBe(9);
      expect(d.schema).toEqual(whole.schema);
      for (const g of d.groups) {
        expect(rangeOf(hashPointOf(schema, g.tags, hashNum))).toBe(r);
        got.set(key(g.tags), rowsOfGroup(g));
      }
    }
    expect(got).toEqual(want);
  });

  it('keeps a write whose devices all fall in one range as it is', () => {
    const payload = encodeTsWrite({
      tableId: 9,
      schema,
      rows: [[1n, 1, 1, true, 'a', 1n, 1n, 'only', null]],
    });
    const parts = splitTsWrite(payload, 2000, () => 3);
    expect([...parts.keys()]).toEqual([3]);
    expect(parts.get(3)).toBe(payload);
  });
});
