import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Codec, ColumnType, readBlockHeader } from '../src/block.js';
import { Segment, segmentBytesFor, segmentBytesMax, segmentBytesMin } from '../src/segment.js';
import type { BlockRef } from '../src/segment.js';
import { ByteWriter, decodeTsWrite, encodeTsAlter, writeSchemaHeader, writeValue, encodeTsDelete, encodeTsReorganize, encodeTsWrite, fullSchema, rowsOfGroup } from '../src/command.js';
import type { TsSchema, TsValue } from '../src/command.js';
import { TsEngine } from '../src/engine.js';

const root = mkdtempSync(join(tmpdir(), 'ts-engine-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const schema: TsSchema = {
  partitionIntervalUs: 3_600_000_000, // 1 hour
  columns: [ColumnType.Timestamp, ColumnType.Float64, ColumnType.Int32, ColumnType.Bool],
  tags: [ColumnType.String, ColumnType.Int64],
  primaryTags: [0],
};

/** n rows for device `dev`, one per second from `from` seconds. */
function rows(dev: string, from: number, n: number): TsValue[][] {
  return Array.from({ length: n }, (_, i) => [BigInt((from + i) * 1_000_000), (from + i) / 2, from + i, i % 2 === 0, dev, 7n]);
}

function cmd(dev: string, from: number, n: number): Buffer {
  return encodeTsWrite({ tableId: 42, schema, rows: rows(dev, from, n) });
}

function count(e: TsEngine): Map<string, number> {
  const t = e.table(42);
  const out = new Map<string, number>();
  if (!t) return out;
  for (const b of t.scan(null, 0n, 2n ** 62n)) {
    const dev = t.tags?.tagsOf(b.entityId)?.[0] as string;
    out.set(dev, (out.get(dev) ?? 0) + (b.columns[0]?.values.length ?? 0));
  }
  return out;
}

describe('TS write command', () => {
  it('round-trips every type, NULLs and non-ASCII strings, grouping rows by tag values', () => {
    const r: TsValue[][] = [
      [-5n, -0.5, -2147483648, true, 'Zürich ✓', -(2n ** 63n)],
      [2n ** 52n, null, null, null, null, null],
      [7, 1.5, 2147483647, false, 'Zürich ✓', -(2n ** 63n)], // a timestamp given as a number
      [8n, 0, 0, true, 'x', -1n],
      [9n, 0, 0, true, 'y', 2n ** 53n + 1n],
    ];
    const d = decodeTsWrite(encodeTsWrite({ tableId: 7, schema, rows: r }));
    expect({ ...d, groups: d.groups.map((g) => ({ tags: g.tags, rows: rowsOfGroup(g) })) }).toEqual({
      tableId: 7,
      schema: fullSchema(schema),
      rejectDuplicates: false,
      groups: [
        { tags: ['Zürich ✓', -(2n ** 63n)], rows: [[-5n, -0.5, -2147483648, true], [7n, 1.5, 2147483647, false]] },
        { tags: [null, null], rows: [[2n ** 52n, null, null, null]] },
        { tags: ['x', -1n], rows: [[8n, 0, 0, true]] },
        { tags: ['y', 2n ** 53n + 1n], rows: [[9n, 0, 0, true]] },
      ],
    });
  });

  it('still decodes version 4 commands (values row by row) that older logs hold', () => {
    const w = new ByteWriter();
    w.u8(4).u8(1);
    writeSchemaHeader(w, 7, schema);
    w.u32(1);
    writeValue(w, ColumnType.String, 'a');
    writeValue(w, ColumnType.Int64, 7n);
    w.u32(2);
    const old: TsValue[][] = [
      [5_000_000, 0.5, 3, true],
      [6_000_000, null, null, false],
    ];
    for (const r of old) r.forEach((v, i) => writeValue(w, schema.columns[i] as ColumnType, v));
    const d = decodeTsWrite(w.finish());
    expect(d.rejectDuplicates).toBe(true);
    expect(d.groups.map((g) => ({ tags: g.tags, rows: rowsOfGroup(g) }))).toEqual([{ tags: ['a', 7n], rows: [[5_000_000n, 0.5, 3, true], [6_000_000n, null, null, false]] }]);
  });

  it('refuses a truncated payload with a clear error instead of reading garbage', () => {
    const b = cmd('a', 0, 3);
    expect(() => decodeTsWrite(b.subarray(0, b.length - 3))).toThrow(/cut short/);
  });
});

describe('TsEngine', () => {
  it('assigns entity ids by first appearance and keeps tag values', () => {
    const e = TsEngine.open(join(root, 'ids'));
    e.apply(1, encodeTsWrite({ tableId: 42, schema, rows: [...rows('b', 0, 2), ...rows('a', 0, 1), ...rows('b', 5, 1)] }));
    const t = e.table(42);
    expect(t?.tags?.lookup(['b', 0n])).toBe(1);
    expect(t?.tags?.lookup(['a', 0n])).toBe(2);
    expect(t?.tags?.tagsOf(1)).toEqual(['b', 7n]);
    expect(count(e)).toEqual(new Map([['b', 3], ['a', 1]]));
    e.close();
  });

  it('replaying the log after a crash restores exactly the applied rows — no loss, no duplicates', () => {
    const dir = join(root, 'crash');
    const e = TsEngine.open(dir, { rowsPerBlock: 10 });
    e.apply(1, cmd('a', 0, 25));
    e.apply(2, cmd('b', 0, 5));
    e.flush(2);
    // Applied after the flush: 35 rows seal 3 blocks into the segment, and a new entity appears.
    const log = new Map<number, Buffer>([[3, cmd('a', 100, 35)], [4, cmd('c', 0, 4)]]);
    for (const [i, p] of log) e.apply(i, p);
    // crash: no flush, no close. Replay what the log holds after flushedIndex.
    const r = TsEngine.open(dir, { rowsPerBlock: 10 });
    expect(r.flushedIndex).toBe(2);
    for (const [i, p] of log) if (i > r.flushedIndex) r.apply(i, p);
    expect(count(r)).toEqual(new Map([['a', 60], ['b', 5], ['c', 4]]));
    expect(r.table(42)?.tags?.lookup(['c', 0n])).toBe(3);
    r.flush(4);
    r.close();
    e.close();
    const again = TsEngine.open(dir, { rowsPerBlock: 10 });
    expect(count(again)).toEqual(new Map([['a', 60], ['b', 5], ['c', 4]]));
    again.close();
  });

  it('skips replayed commands a table already made durable (table flushed, engine meta not)', () => {
    const dir = join(root, 'partial');
    const e = TsEngine.open(dir);
    e.apply(1, cmd('a', 0, 10));
    e.table(42)?.flush(1); // the table's files and meta are durable; engine.json is not written
    const r = TsEngine.open(dir);
    expect(r.flushedIndex).toBe(0);
    r.apply(1, cmd('a', 0, 10));
    expect(count(r)).toEqual(new Map([['a', 10]]));
    r.close();
    e.close();
  });

  it('retention drops whole expired partitions, and replaying it after a crash gives the same rows', () => {
    const dir = join(root, 'retain');
    const hour = 3600; // the schema's partition interval is one hour
    const log = new Map<number, { write?: Buffer; retainBeforeUs?: number }>([
      [1, { write: cmd('a', 0, 10) }], // hour 0
      [2, { write: cmd('a', 2 * hour, 10) }], // hour 2
      [3, { retainBeforeUs: (hour + 1) * 1_000_000 }], // hour 0's partition ends at 1 h: dropped
      [4, { write: cmd('b', 30, 5) }], // back into hour 0 after the retention pass: kept
    ]);
    const play = (e: TsEngine, from: number) => {
      for (const [i, x] of log) {
        if (i <= from) continue;
        if (x.write) e.apply(i, x.write);
        else e.retain(i, 42, x.retainBeforeUs as number);
      }
    };
    const e = TsEngine.open(dir);
    play(e, 0);
    expect(count(e)).toEqual(new Map([['a', 10], ['b', 5]]));
    // crash without a flush: replay everything
    const r = TsEngine.open(dir);
    play(r, r.flushedIndex);
    expect(count(r)).toEqual(new Map([['a', 10], ['b', 5]]));
    r.close();
    e.close();
  });

  it('a command flagged reject fails whole on a repeated timestamp, stored or within itself', () => {
    const e = TsEngine.open(join(root, 'reject'));
    e.apply(1, cmd('a', 0, 5));
    const again = encodeTsWrite({ tableId: 42, schema, rejectDuplicates: true, rows: [...rows('a', 100, 2), ...rows('a', 3, 1)] });
    expect(() => e.apply(2, again)).toThrow(/rejected by ts.dedup.rule = reject/);
    const self = encodeTsWrite({ tableId: 42, schema, rejectDuplicates: true, rows: [...rows('b', 0, 2), ...rows('b', 1, 1)] });
    expect(() => e.apply(3, self)).toThrow(/rejected/);
    expect(count(e)).toEqual(new Map([['a', 5]])); // nothing of either command, not even device b
    e.apply(4, encodeTsWrite({ tableId: 42, schema, rejectDuplicates: true, rows: rows('a', 5, 3) }));
    expect(count(e)).toEqual(new Map([['a', 8]]));
    e.close();
  });

  it('DELETE hides older rows only, survives a crash through replay and a restart through meta', () => {
    const dir = join(root, 'delete');
    const del = (lo: number, hi: number, devs: string[] | null) =>
      encodeTsDelete({ tableId: 42, loUs: lo * 1_000_000, hiUs: hi * 1_000_000, tagCombos: devs ? devs.map((d) => [d, null]) : null, schema });
    const log = new Map<number, { w?: Buffer; d?: Buffer }>([
      [1, { w: cmd('a', 0, 30) }],
      [2, { w: cmd('b', 0, 30) }],
      [3, { d: del(10, 19, ['a', 'zz']) }],
      [4, { w: cmd('a', 15, 1) }], // written after the delete, inside its range: visible
      [5, { d: del(25, 100, null) }],
    ]);
    const play = (e: TsEngine, from: number, to = 99) => {
      for (const [i, x] of log) {
        if (i <= from || i > to) continue;
        if (x.w) e.apply(i, x.w);
        else e.delete(i, x.d as Buffer);
      }
    };
    const e = TsEngine.open(dir, { rowsPerBlock: 8 });
    play(e, 0, 2);
    e.flush(2); // blocks on disk before the deletes
    play(e, 2);
    const want = new Map([['a', 10 + 1 + 5], ['b', 25]]);
    expect(count(e)).toEqual(want);
    const r = TsEngine.open(dir, { rowsPerBlock: 8 }); // crash: replay 3..5
    play(r, r.flushedIndex);
    expect(count(r)).toEqual(want);
    r.flush(5);
    r.close();
    e.close();
    const again = TsEngine.open(dir, { rowsPerBlock: 8 });
    expect(count(again)).toEqual(want);
    again.close();
  });

  it('reorganization (in worker threads) packs, sorts, resolves duplicates and drops deleted rows; results and crash recovery unchanged', async () => {
    const dir = join(root, 'reorg');
    const hour = 3600;
    const e = TsEngine.open(dir, { rowsPerBlock: 50 });
    let i = 0;
    // 20 small out-of-order commands for one device in hour 0, plus duplicates and a delete
    for (let k = 19; k >= 0; k--) e.apply(++i, cmd('a', k * 10, 10));
    e.apply(++i, encodeTsWrite({ tableId: 42, schema, rows: rows('a', 5, 3).map((r): TsValue[] => [r[0] ?? null, 999, r[2] ?? null, r[3] ?? null, r[4] ?? null, r[5] ?? null]) })); // duplicates of 5..7
    e.delete(++i, encodeTsDelete({ tableId: 42, loUs: 100e6, hiUs: 109e6, tagCombos: null, schema }));
    e.apply(++i, cmd('b', 2 * hour, 5)); // hour 2: active, left alone
    e.flush(i);
    const t = e.table(42);
    const before = [...(t?.scan(null, 0n, 2n ** 62n, { dedup: 'override' }) ?? [])].map((b) => b.columns.map((c) => Array.from(c.values as ArrayLike<unknown>)));
    const blocksBefore = t?.blockCount() ?? 0;
    const reorg = encodeTsReorganize({ tableId: 42, beforeUs: 1.5 * hour * 1e6, dedup: 'override', storage: null, threads: 2 }); // partitions ending before 1.5 h: hour 0 only
    expect(e.reorganize(++i, reorg)).toBe(1);
    // A write into the partition while the rewrite runs: the rewrite is thrown away at the switch.
    e.apply(++i, cmd('a', 500, 1));
    await e.idle();
    e.flush(i);
    expect(e.rewriteStats).toEqual({ planned: 1, finished: 1, failed: 0 });
    expect(t?.blockCount()).toBeGreaterThan(blocksBefore); // not switched in (one more block, the new row's)
    e.delete(++i, encodeTsDelete({ tableId: 42, loUs: 500e6, hiUs: 500e6, tagCombos: null, schema })); // and gone again
    expect(e.reorganize(++i, reorg)).toBe(1); // retried
    expect(e.reorganize(++i, reorg)).toBe(0); // one rewrite per partition at a time
    await e.idle();
    e.flush(i);
    const after = [...(t?.scan(null, 0n, 2n ** 62n, { dedup: 'keep' }) ?? [])].map((b) => b.columns.map((c) => Array.from(c.values as ArrayLike<unknown>)));
    expect(after).toEqual(before); // even read with 'keep': duplicates and deleted rows are gone for good
    expect(t?.blockCount()).toBeLessThan(blocksBefore);
    expect(e.reorganize(i + 1, reorg)).toBe(0); // clean until written again
    // a crash right after: reopening finds the reorganized partition
    const r = TsEngine.open(dir, { rowsPerBlock: 50 });
    const reopened = [...(r.table(42)?.scan(null, 0n, 2n ** 62n, { dedup: 'keep' }) ?? [])].map((b) => b.columns.map((c) => Array.from(c.values as ArrayLike<unknown>)));
    expect(reopened).toEqual(before);
    r.close();
    e.close();
  });

  it('drops a table and its files', () => {
    const dir = join(root, 'drop');
    const e = TsEngine.open(dir);
    e.apply(1, cmd('a', 0, 10));
    e.flush(1);
    e.dropTable(42);
    expect(e.table(42)).toBeUndefined();
    e.close();
    expect(TsEngine.open(dir).table(42)).toBeUndefined();
  });
});

describe('storage settings and schema changes carried by commands', () => {
  it('lays new blocks out as the command says: rows per block, blocks per segment, codec', () => {
    const dir = join(root, 'storage');
    const e = TsEngine.open(dir);
    const small = { ...schema, storage: { rowsPerBlock: 10, blocksPerSegment: 3, codec: Codec.Deflate, level: 9 } };
    e.apply(1, encodeTsWrite({ tableId: 42, schema: small, rows: rows('a', 0, 95) }));
    e.flush(1);
    const t = e.table(42);
    expect(t?.blockCount()).toBe(10); // 95 rows / 10 per block
    const files = readdirSync(join(dir, 't42', 'p0')).filter((f) => f.startsWith('seg-'));
    expect(files.length).toBe(4); // 3 blocks per segment at most
    // Preallocated for 3 blocks × 10 rows of these columns (at least segmentBytesMin).
    expect(statSync(join(dir, 't42', 'p0', files[0] as string)).size).toBe(segmentBytesFor(schema.columns, 10, 3));
    expect(segmentBytesFor(schema.columns, 10, 3)).toBe(segmentBytesMin);
    expect(segmentBytesFor([ColumnType.Timestamp, ColumnType.Int64, ColumnType.Float64], 1000, 1000)).toBe(1000 * (12 + 64 + 3 * 40 + 1000 * 24));
    expect(segmentBytesFor([ColumnType.Timestamp, ColumnType.Int64], 4096, 100_000)).toBe(segmentBytesMax);
    const seg = Segment.open(join(dir, 't42', 'p0', files[0] as string));
    const [ref] = seg.chains.get(1) ?? [];
    const h = readBlockHeader(seg.read(ref as BlockRef));
    expect(h.columns.some((c) => c.codec === Codec.Deflate) && !h.columns.some((c) => c.codec === Codec.Lz4)).toBe(true); // deflate where it pays off
    seg.close();
    expect(count(e)).toEqual(new Map([['a', 95]]));
    e.close();
  });

  it('a newer schema version changes the table; older commands are mapped by id; restart keeps it', () => {
    const dir = join(root, 'alter');
    const e = TsEngine.open(dir, { rowsPerBlock: 4 });
    e.apply(1, cmd('a', 0, 6)); // v0: ts, f64 (id 1), i32 (id 2), bool (id 3)
    // v1: drop the float (id 1), widen the int to Int64, add a string column (id 4) and a tag (id 2)
    const v1: TsSchema = {
      ...schema,
      version: 1,
      columns: [ColumnType.Timestamp, ColumnType.Int64, ColumnType.Bool, ColumnType.String],
      columnIds: [0, 2, 3, 4],
      tags: [ColumnType.String, ColumnType.Int64, ColumnType.String],
      tagIds: [0, 1, 2],
    };
    e.alter(2, encodeTsAlter(42, v1));
    e.apply(3, cmd('a', 6, 2)); // proposed under v0, applied after the change
    e.apply(4, encodeTsWrite({ tableId: 42, schema: v1, rows: [[8_000_000n, 80n, true, 'x', 'b', 1n, 'red']] }));
    const read = (x: TsEngine) => {
      const t = x.table(42);
      const out: unknown[][] = [];
      for (const b of t?.scan(null, 0n, 2n ** 62n) ?? []) {
        const n = b.columns[0]?.values.length ?? 0;
        for (let i = 0; i < n; i++) out.push([t?.tags?.tagsOf(b.entityId)?.[2] ?? null, ...b.columns.map((c) => (c.nulls?.[i] ? null : c.values[i]))]);
      }
      return out;
    };
    const want = [
      ...Array.from({ length: 8 }, (_x, i) => [null, BigInt(i * 1_000_000), BigInt(i), i % 2 === 0 ? 1 : 0, null]),
      ['red', 8_000_000n, 80n, 1, 'x'],
    ];
    expect(read(e)).toEqual(want);
    const r = TsEngine.open(dir, { rowsPerBlock: 4 }); // crash: replay after the flushed index
    r.apply(3, cmd('a', 6, 2));
    r.apply(4, encodeTsWrite({ tableId: 42, schema: v1, rows: [[8_000_000n, 80n, true, 'x', 'b', 1n, 'red']] }));
    expect(read(r)).toEqual(want);
    r.flush(4);
    r.close();
    e.close();
    const again = TsEngine.open(dir, { rowsPerBlock: 4 });
    expect(read(again)).toEqual(want);
    again.close();
  });
});

describe('the last-row cache', () => {
  it('answers latest() from memory until the entity is written, deleted from, changed or expired', () => {
    const dir = join(root, 'latest');
    const e = TsEngine.open(dir, { rowsPerBlock: 4 });
    e.apply(1, cmd('a', 0, 10));
    e.apply(2, cmd('b', 0, 3));
    e.flush(2);
    const t = e.table(42);
    const newest = () => new Map([...(t?.latest(null) ?? [])].map((b) => [t?.tags?.tagsOf(b.entityId)?.[0], (b.columns[2]?.values as Int32Array)[0]]));
    expect(newest()).toEqual(new Map([['a', 9], ['b', 2]]));
    expect(newest()).toEqual(new Map([['a', 9], ['b', 2]])); // from the cache
    e.apply(3, cmd('a', 20, 1)); // newer row of a
    e.apply(4, cmd('b', 1, 1)); // an older row of b: b's newest stays
    expect(newest()).toEqual(new Map([['a', 20], ['b', 2]]));
    e.apply(5, encodeTsWrite({ tableId: 42, schema, rows: rows('a', 20, 1).map((r) => [r[0] ?? null, 0.5, 77, true, 'a', 7n]) })); // same timestamp, written later: override
    expect(newest()).toEqual(new Map([['a', 77], ['b', 2]]));
    e.delete(6, encodeTsDelete({ tableId: 42, loUs: 15e6, hiUs: 30e6, tagCombos: null, schema }));
    expect(newest()).toEqual(new Map([['a', 9], ['b', 2]]));
    e.close();
  });
});
