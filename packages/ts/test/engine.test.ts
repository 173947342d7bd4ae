import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Codec, ColumnType, readBlockHeader } from '../src/block.js';
import { Segment, segmentBytesFor, segmentBytesMax, segmentBytesMin } from '../src/segment.js';
import type { BlockRef } from '../src/segment.js';
import { ByteWriter, decodeTsWrite, encodeTsAlter, writeSchemaHeader, writeValue, encodeTsDelete, encodeTsReorganize, encodeTsReorganizeCommit, encodeTsWrite, fullSchema, rowsOfGroup } from '../src/command.js';
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
  const t = e.group(42, 1);
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
    e.apply(1, 1, encodeTsWrite({ tableId: 42, schema, rows: [...rows('b', 0, 2), ...rows('a', 0, 1), ...rows('b', 5, 1)] }));
    const t = e.group(42, 1);
    expect(t?.tags?.lookup(['b', 0n])).toBe(1);
    expect(t?.tags?.lookup(['a', 0n])).toBe(2);
    expect(t?.tags?.tagsOf(1)).toEqual(['b', 7n]);
    expect(count(e)).toEqual(new Map([['b', 3], ['a', 1]]));
    e.close();
  });

  it('replaying the log after a crash restores exactly the applied rows — no loss, no duplicates', () => {
    const dir = join(root, 'crash');
    const e = TsEngine.open(dir, { rowsPerBlock: 10 });
    e.apply(1, 1, cmd('a', 0, 25));
    e.apply(1, 2, cmd('b', 0, 5));
    e.flushRange(1, 2);
    // Applied after the flush: 35 rows seal 3 blocks into the segment, and a new entity appears.
    const log = new Map<number, Buffer>([[3, cmd('a', 100, 35)], [4, cmd('c', 0, 4)]]);
    for (const [i, p] of log) e.apply(1, i, p);
    // crash: no flush, no close. Replay what the log holds after flushedIndex.
    const r = TsEngine.open(dir, { rowsPerBlock: 10 });
    expect((r.replayFrom(1) - 1)).toBe(2);
    for (const [i, p] of log) if (i > (r.replayFrom(1) - 1)) r.apply(1, i, p);
    expect(count(r)).toEqual(new Map([['a', 60], ['b', 5], ['c', 4]]));
    expect(r.group(42, 1)?.tags?.lookup(['c', 0n])).toBe(3);
    r.flushRange(1, 4);
    r.close();
    e.close();
    const again = TsEngine.open(dir, { rowsPerBlock: 10 });
    expect(count(again)).toEqual(new Map([['a', 60], ['b', 5], ['c', 4]]));
    again.close();
  });

  it('skips replayed commands a group already made durable, and replays from its durable index', () => {
    const dir = join(root, 'partial');
    const e = TsEngine.open(dir);
    e.apply(1, 1, cmd('a', 0, 10));
    e.group(42, 1)?.flush(1); // the group's files and meta are durable
    e.apply(1, 2, cmd('a', 10, 5)); // not flushed
    expect(e.dirtyDurableIndex(1)).toBe(1); // the log must keep entries after 1
    const r = TsEngine.open(dir);
    expect(r.replayFrom(1)).toBe(2);
    expect(r.replayFrom(7)).toBe(0); // a range with no group needs nothing
    r.apply(1, 1, cmd('a', 0, 10)); // at or below the durable index: skipped
    r.apply(1, 2, cmd('a', 10, 5));
    expect(count(r)).toEqual(new Map([['a', 15]]));
    r.flushRange(1, 2);
    expect(r.dirtyDurableIndex(1)).toBeNull();
    r.close();
    e.close();
  });

  it('keeps the groups of two ranges of one table apart: ids, files and durable indexes', () => {
    const dir = join(root, 'two-ranges');
    const e = TsEngine.open(dir);
    e.apply(1, 5, cmd('a', 0, 10));
    e.apply(2, 3, cmd('b', 0, 4));
    e.flushRange(1, 5);
    // Range 2's command at index 3 is below range 1's flushed index, and still applies.
    e.apply(2, 4, cmd('c', 0, 2));
    expect(e.group(42, 1)?.tags?.lookup(['a', 0n])).toBe(1);
    expect(e.group(42, 2)?.tags?.lookup(['b', 0n])).toBe(1); // ids are local to the group
    expect(e.group(42, 2)?.tags?.lookup(['c', 0n])).toBe(2);
    expect(e.dirtyDurableIndex(1)).toBeNull();
    expect(e.dirtyDurableIndex(2)).toBe(0);
    expect(e.checksum(1)).not.toBe(e.checksum(2));
    const r = TsEngine.open(dir); // crash: range 2 replays from its own index
    expect(r.replayFrom(2)).toBe(1);
    r.apply(2, 3, cmd('b', 0, 4));
    r.apply(2, 4, cmd('c', 0, 2));
    expect(r.checksum(2)).toBe(e.checksum(2));
    expect(r.checksum(1)).toBe(e.checksum(1));
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
        if (x.write) e.apply(1, i, x.write);
        else e.retain(1, i, 42, x.retainBeforeUs as number);
      }
    };
    const e = TsEngine.open(dir);
    play(e, 0);
    expect(count(e)).toEqual(new Map([['a', 10], ['b', 5]]));
    // crash without a flush: replay everything
    const r = TsEngine.open(dir);
    play(r, (r.replayFrom(1) - 1));
    expect(count(r)).toEqual(new Map([['a', 10], ['b', 5]]));
    r.close();
    e.close();
  });

  it('a command flagged reject is refused whole, before proposing, on a repeated timestamp stored or within itself', () => {
    const e = TsEngine.open(join(root, 'reject'));
    e.apply(1, 1, cmd('a', 0, 5));
    const again = encodeTsWrite({ tableId: 42, schema, rejectDuplicates: true, rows: [...rows('a', 100, 2), ...rows('a', 3, 1)] });
    expect(() => e.checkWrite(1, again)).toThrow(/rejected by ts.dedup.rule = reject/);
    const self = encodeTsWrite({ tableId: 42, schema, rejectDuplicates: true, rows: [...rows('b', 0, 2), ...rows('b', 1, 1)] });
    expect(() => e.checkWrite(1, self)).toThrow(/rejected/);
    expect(() => e.checkWrite(2, self)).toThrow(/rejected/); // also where the range has no group yet
    const ok = encodeTsWrite({ tableId: 42, schema, rejectDuplicates: true, rows: rows('a', 5, 3) });
    e.checkWrite(1, ok);
    e.checkWrite(2, again); // another range's group does not hold device a's rows
    e.apply(1, 2, ok);
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
        if (x.w) e.apply(1, i, x.w);
        else e.delete(1, i, x.d as Buffer);
      }
    };
    const e = TsEngine.open(dir, { rowsPerBlock: 8 });
    play(e, 0, 2);
    e.flushRange(1, 2); // blocks on disk before the deletes
    play(e, 2);
    const want = new Map([['a', 10 + 1 + 5], ['b', 25]]);
    expect(count(e)).toEqual(want);
    const r = TsEngine.open(dir, { rowsPerBlock: 8 }); // crash: replay 3..5
    play(r, (r.replayFrom(1) - 1));
    expect(count(r)).toEqual(want);
    r.flushRange(1, 5);
    r.close();
    e.close();
    const again = TsEngine.open(dir, { rowsPerBlock: 8 });
    expect(count(again)).toEqual(want);
    again.close();
  });

  it('reorganization (in worker threads) packs, sorts, resolves duplicates and drops deleted rows, switched in only by its commit', async () => {
    const dir = join(root, 'reorg');
    const hour = 3600;
    const e = TsEngine.open(dir, { rowsPerBlock: 50 });
    let i = 0;
    // 20 small out-of-order commands for one device in hour 0, plus duplicates and a delete
    for (let k = 19; k >= 0; k--) e.apply(1, ++i, cmd('a', k * 10, 10));
    e.apply(1, ++i, encodeTsWrite({ tableId: 42, schema, rows: rows('a', 5, 3).map((r): TsValue[] => [r[0] ?? null, 999, r[2] ?? null, r[3] ?? null, r[4] ?? null, r[5] ?? null]) })); // duplicates of 5..7
    e.delete(1, ++i, encodeTsDelete({ tableId: 42, loUs: 100e6, hiUs: 109e6, tagCombos: null, schema }));
    e.apply(1, ++i, cmd('b', 2 * hour, 5)); // hour 2: active, left alone
    e.flushRange(1, i);
    const t = e.group(42, 1);
    const read = (x: TsEngine, dedup: 'override' | 'keep') => [...(x.group(42, 1)?.scan(null, 0n, 2n ** 62n, { dedup }) ?? [])].map((b) => b.columns.map((c) => Array.from(c.values as ArrayLike<unknown>)));
    const before = read(e, 'override');
    const checksumBefore = e.checksum(1);
    const blocksBefore = t?.blockCount() ?? 0;
    const reorg = encodeTsReorganize({ tableId: 42, beforeUs: 1.5 * hour * 1e6, dedup: 'override', storage: null, threads: 2 }); // partitions ending before 1.5 h: hour 0 only
    const commit = (planIndex: number) => encodeTsReorganizeCommit({ tableId: 42, start: 0n, planIndex, dedup: 'override' });
    let plan = ++i;
    expect(e.reorganize(1, plan, reorg)).toBe(1);
    await e.idle();
    expect(e.rewriteStats).toEqual({ planned: 1, finished: 1, failed: 0 });
    expect(e.finishedRewrites(1)).toEqual([{ tableId: 42, start: 0n, planIndex: plan, dedup: 'override' }]);
    expect(e.checksum(1)).toBe(checksumBefore); // finished, but nothing switched without the commit
    // A write into the partition after the plan: the commit throws the rewrite away.
    e.apply(1, ++i, cmd('a', 500, 1));
    expect(e.commitReorganize(1, ++i, commit(plan))).toBeNull();
    expect(e.finishedRewrites(1)).toEqual([]);
    e.flushRange(1, i);
    expect(t?.blockCount()).toBeGreaterThan(blocksBefore); // not switched in (one more block, the new row's)
    e.delete(1, ++i, encodeTsDelete({ tableId: 42, loUs: 500e6, hiUs: 500e6, tagCombos: null, schema })); // and gone again
    plan = ++i;
    expect(e.reorganize(1, plan, reorg)).toBe(1); // retried
    expect(e.reorganize(1, ++i, reorg)).toBe(0); // one rewrite per partition at a time
    await e.idle();
    expect(e.commitReorganize(1, ++i, commit(plan))).toBeNull(); // finished here: switched at once
    const after = read(e, 'keep');
    expect(after).toEqual(before); // even read with 'keep': duplicates and deleted rows are gone for good
    expect(t?.blockCount()).toBeLessThan(blocksBefore);
    expect(e.reorganize(1, i + 1, reorg)).toBe(0); // clean until written again
    // a crash right after: reopening finds the reorganized partition
    const r = TsEngine.open(dir, { rowsPerBlock: 50 });
    expect(read(r, 'keep')).toEqual(before);
    r.close();
    e.close();
  });

  it('a replica without the rewrite (restarted since the plan) rewrites at the commit and ends up with the same content', async () => {
    const hour = 3600;
    const log: [number, 'w' | 'plan' | 'commit', Buffer][] = [];
    let i = 0;
    for (let k = 9; k >= 0; k--) log.push([++i, 'w', cmd('a', k * 10, 10)]);
    log.push([++i, 'w', cmd('a', 5, 3)]); // duplicates
    const plan = ++i;
    log.push([plan, 'plan', encodeTsReorganize({ tableId: 42, beforeUs: 1.5 * hour * 1e6, dedup: 'discard', storage: null, threads: 1 })]);
    log.push([++i, 'commit', encodeTsReorganizeCommit({ tableId: 42, start: 0n, planIndex: plan, dedup: 'discard' })]);
    const play = async (x: TsEngine, from: number, to: number) => {
      for (const [idx, kind, p] of log) {
        if (idx < from || idx > to) continue;
        if (kind === 'w') x.apply(1, idx, p);
        else if (kind === 'plan') x.reorganize(1, idx, p);
        else await (x.commitReorganize(1, idx, p) ?? Promise.resolve());
      }
    };
    const a = TsEngine.open(join(root, 'reorg-a'), { rowsPerBlock: 8 });
    await play(a, 1, i);
    const b = TsEngine.open(join(root, 'reorg-b'), { rowsPerBlock: 8 });
    await play(b, 1, plan);
    b.flushRange(1, plan); // durable past the plan, then a crash: the plan is not replayed
    b.close();
    const b2 = TsEngine.open(join(root, 'reorg-b'), { rowsPerBlock: 8 });
    expect(b2.replayFrom(1)).toBe(plan + 1);
    await play(b2, plan + 1, i); // the commit finds no job here, rewrites, then switches in
    expect(b2.checksum(1)).toBe(a.checksum(1));
    expect(b2.group(42, 1)?.blockCount()).toBe(a.group(42, 1)?.blockCount());
    a.close();
    b2.close();
  });

  it('drops a table and its files', () => {
    const dir = join(root, 'drop');
    const e = TsEngine.open(dir);
    e.apply(1, 1, cmd('a', 0, 10));
    e.flushRange(1, 1);
    e.dropTable(1, 42);
    expect(e.group(42, 1)).toBeUndefined();
    e.close();
    expect(TsEngine.open(dir).group(42, 1)).toBeUndefined();
  });
});

describe('storage settings and schema changes carried by commands', () => {
  it('lays new blocks out as the command says: rows per block, blocks per segment, codec', () => {
    const dir = join(root, 'storage');
    const e = TsEngine.open(dir);
    const small = { ...schema, storage: { rowsPerBlock: 10, blocksPerSegment: 3, codec: Codec.Deflate, level: 9 } };
    e.apply(1, 1, encodeTsWrite({ tableId: 42, schema: small, rows: rows('a', 0, 95) }));
    e.flushRange(1, 1);
    const t = e.group(42, 1);
    expect(t?.blockCount()).toBe(10); // 95 rows / 10 per block
    const files = readdirSync(join(dir, 't42', 'r1', 'p0')).filter((f) => f.startsWith('seg-'));
    expect(files.length).toBe(4); // 3 blocks per segment at most
    // Preallocated for 3 blocks × 10 rows of these columns (at least segmentBytesMin).
    expect(statSync(join(dir, 't42', 'r1', 'p0', files[0] as string)).size).toBe(segmentBytesFor(schema.columns, 10, 3));
    expect(segmentBytesFor(schema.columns, 10, 3)).toBe(segmentBytesMin);
    expect(segmentBytesFor([ColumnType.Timestamp, ColumnType.Int64, ColumnType.Float64], 1000, 1000)).toBe(1000 * (12 + 64 + 3 * 40 + 1000 * 24));
    expect(segmentBytesFor([ColumnType.Timestamp, ColumnType.Int64], 4096, 100_000)).toBe(segmentBytesMax);
    const seg = Segment.open(join(dir, 't42', 'r1', 'p0', files[0] as string));
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
    e.apply(1, 1, cmd('a', 0, 6)); // v0: ts, f64 (id 1), i32 (id 2), bool (id 3)
    // v1: drop the float (id 1), widen the int to Int64, add a string column (id 4) and a tag (id 2)
    const v1: TsSchema = {
      ...schema,
      version: 1,
      columns: [ColumnType.Timestamp, ColumnType.Int64, ColumnType.Bool, ColumnType.String],
      columnIds: [0, 2, 3, 4],
      tags: [ColumnType.String, ColumnType.Int64, ColumnType.String],
      tagIds: [0, 1, 2],
    };
    e.alter(1, 2, encodeTsAlter(42, v1));
    e.apply(1, 3, cmd('a', 6, 2)); // proposed under v0, applied after the change
    e.apply(1, 4, encodeTsWrite({ tableId: 42, schema: v1, rows: [[8_000_000n, 80n, true, 'x', 'b', 1n, 'red']] }));
    const read = (x: TsEngine) => {
      const t = x.group(42, 1);
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
    r.apply(1, 3, cmd('a', 6, 2));
    r.apply(1, 4, encodeTsWrite({ tableId: 42, schema: v1, rows: [[8_000_000n, 80n, true, 'x', 'b', 1n, 'red']] }));
    expect(read(r)).toEqual(want);
    r.flushRange(1, 4);
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
    e.apply(1, 1, cmd('a', 0, 10));
    e.apply(1, 2, cmd('b', 0, 3));
    e.flushRange(1, 2);
    const t = e.group(42, 1);
    const newest = () => new Map([...(t?.latest(null) ?? [])].map((b) => [t?.tags?.tagsOf(b.entityId)?.[0], (b.columns[2]?.values as Int32Array)[0]]));
    expect(newest()).toEqual(new Map([['a', 9], ['b', 2]]));
    expect(newest()).toEqual(new Map([['a', 9], ['b', 2]])); // from the cache
    e.apply(1, 3, cmd('a', 20, 1)); // newer row of a
    e.apply(1, 4, cmd('b', 1, 1)); // an older row of b: b's newest stays
    expect(newest()).toEqual(new Map([['a', 20], ['b', 2]]));
    e.apply(1, 5, encodeTsWrite({ tableId: 42, schema, rows: rows('a', 20, 1).map((r) => [r[0] ?? null, 0.5, 77, true, 'a', 7n]) })); // same timestamp, written later: override
    expect(newest()).toEqual(new Map([['a', 77], ['b', 2]]));
    e.delete(1, 6, encodeTsDelete({ tableId: 42, loUs: 15e6, hiUs: 30e6, tagCombos: null, schema }));
    expect(newest()).toEqual(new Map([['a', 9], ['b', 2]]));
    e.close();
  });
});
