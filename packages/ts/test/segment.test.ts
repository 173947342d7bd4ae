import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ColumnType, encodeBlock, readBlockHeader, readColumn } from '../src/block.js';
import { Partition, partitionStart } from '../src/partition.js';
import { Segment, recordHeaderBytes } from '../src/segment.js';

const dir = mkdtempSync(join(tmpdir(), 'ts-seg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function block(startTs: bigint, rows: number, base: number): Buffer {
  return encodeBlock(
    [
      { type: ColumnType.Timestamp, values: BigInt64Array.from({ length: rows }, (_, i) => startTs + BigInt(i) * 10n), nulls: null },
      { type: ColumnType.Float64, values: Float64Array.from({ length: rows }, (_, i) => base + i), nulls: null },
    ],
    true,
  );
}

describe('segments', () => {
  it('appends blocks, chains them per entity, and rebuilds the chains on reopen', () => {
    const p = join(dir, 's1.dat');
    const s = Segment.create(p, { capacityBytes: 1 << 20 });
    expect(statSync(p).size).toBe(1 << 20); // preallocated
    s.append(7, block(0n, 10, 0));
    s.append(8, block(0n, 10, 100));
    s.append(7, block(100n, 10, 10));
    s.sync();
    s.close();
    const r = Segment.open(p);
    expect([...r.chains.keys()].sort()).toEqual([7, 8]);
    const c7 = r.chains.get(7) ?? [];
    expect(c7.map((b) => [b.minTs, b.maxTs, b.rows])).toEqual([[0n, 90n, 10], [100n, 190n, 10]]);
    const b = r.read(c7[1] as NonNullable<(typeof c7)[number]>);
    const h = readBlockHeader(b);
    expect([...(readColumn(b, h, 1).values as Float64Array)].slice(0, 3)).toEqual([10, 11, 12]);
    r.close();
  });

  it('cuts off a torn tail and keeps everything before it; appends continue after it', () => {
    const p = join(dir, 's2.dat');
    const s = Segment.create(p, { capacityBytes: 1 << 20 });
    s.append(1, block(0n, 5, 0));
    const second = s.append(1, block(50n, 5, 5));
    s.sync();
    s.close();
    // Corrupt the second record's block bytes: a torn write.
    const fd = openSync(p, 'r+');
    writeSync(fd, Buffer.from([0xde, 0xad]), 0, 2, second.offset + 20);
    closeSync(fd);
    const r = Segment.open(p);
    expect(r.tornBytes).toBeGreaterThan(0);
    expect(r.chains.get(1)?.length).toBe(1);
    r.append(1, block(60n, 5, 6));
    r.sync();
    r.close();
    const again = Segment.open(p);
    expect(again.tornBytes).toBe(0);
    expect(again.chains.get(1)?.map((b) => b.minTs)).toEqual([0n, 60n]);
    again.close();
  });

  it('a record header promising more bytes than the file has is a torn tail', () => {
    const p = join(dir, 's4.dat');
    const s = Segment.create(p, { capacityBytes: 4096 });
    s.append(3, block(0n, 3, 0));
    const used = s.usedBytes();
    s.sync();
    s.close();
    const fd = openSync(p, 'r+');
    const h = Buffer.alloc(recordHeaderBytes);
    h.writeUInt32BE(1_000_000, 0);
    writeSync(fd, h, 0, h.length, used);
    closeSync(fd);
    const r = Segment.open(p);
    expect(r.tornBytes).toBeGreaterThan(0);
    expect(r.chains.get(3)?.length).toBe(1);
    r.close();
  });
});

describe('partitions', () => {
  it('rolls over to new segments when full and finds blocks by entity and time range', () => {
    const pdir = join(dir, 'p0');
    const part = Partition.open(pdir, 0n, 1_000_000n, { capacityBytes: 4096 });
    for (let i = 0; i < 40; i++) part.append(i % 2, block(BigInt(i) * 1000n, 20, i));
    part.sync();
    expect(part.segmentCount()).toBeGreaterThan(1);
    // A block larger than a whole segment gets a segment of its own size.
    const big = encodeBlock(
      [
        { type: ColumnType.Timestamp, values: BigInt64Array.from({ length: 2000 }, (_, i) => 40_000n + BigInt(i)), nulls: null },
        { type: ColumnType.Float64, values: Float64Array.from({ length: 2000 }, (_, i) => Math.sin(i) * 1e6), nulls: null },
      ],
      false,
    );
    expect(big.length).toBeGreaterThan(4096);
    part.append(0, big);
    expect(part.blocks(0, 0n, 1_000_000n)).toHaveLength(21);
    // Only blocks whose [minTs, maxTs] overlaps the range are returned.
    expect(part.blocks(1, 5000n, 7500n).map((b) => b.minTs)).toEqual([5000n, 7000n]);
    part.close();
    const again = Partition.open(pdir, 0n, 1_000_000n, { capacityBytes: 4096 });
    expect(again.blocks(0, 0n, 1_000_000n)).toHaveLength(21);
    expect([...again.entities()].sort()).toEqual([0, 1]);
    again.drop();
    expect(readdirSync(dir)).not.toContain('p0');
  });

  it('aligns partition starts to the interval, negative timestamps included', () => {
    expect(partitionStart(25n, 10n)).toBe(20n);
    expect(partitionStart(20n, 10n)).toBe(20n);
    expect(partitionStart(-1n, 10n)).toBe(-10n);
    expect(partitionStart(-10n, 10n)).toBe(-10n);
  });
});
