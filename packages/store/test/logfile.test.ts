import { describe, expect, it } from 'vitest';
import { EntryType } from '@strata/raft';
import type { Entry } from '@strata/raft';
import { LogFile } from '../src/raftlog/logfile.js';
import { MemLogFs } from '../src/raftlog/log_fs.js';

const ents = (from: number, to: number, term: number, tag = ''): Entry[] =>
  Array.from({ length: to - from + 1 }, (_x, i) => ({ index: from + i, term, type: EntryType.Normal, data: Buffer.from(`${tag}${from + i}@${term}`) }));
const text = (es: Entry[]) => es.map((e) => Buffer.from(e.data).toString());

describe('the store-level Raft log', () => {
  it('replays what Raft last wrote: an overwritten suffix is discarded, also after a restart', async () => {
    const fs = new MemLogFs();
    const { log } = await LogFile.open(fs);
    await log.append([{ kind: 'entries', rangeId: 1, entries: ents(1, 7, 1) }]);
    await log.append([{ kind: 'entries', rangeId: 2, entries: ents(1, 3, 1, 'b') }]); // another range, interleaved
    // A new leader overwrites 5..7@1 with 5..6@2: entry 7@1 must not come back.
    await log.append([{ kind: 'entries', rangeId: 1, entries: ents(5, 6, 2) }]);
    const want = ['1@1', '2@1', '3@1', '4@1', '5@2', '6@2'];
    expect(log.lastIndex(1)).toBe(6);
    expect(text(log.entries(1, 1, 7, 1 << 20))).toEqual(want);
    expect(log.term(1, 5)).toBe(2);
    const again = await LogFile.open(fs);
    expect(again.log.lastIndex(1)).toBe(6);
    expect(text(again.log.entries(1, 1, 7, 1 << 20))).toEqual(want);
    expect(text(again.log.entries(2, 1, 4, 1 << 20))).toEqual(['b1@1', 'b2@1', 'b3@1']);
  });

  it('a reset (snapshot) discards every earlier entry of the range', async () => {
    const fs = new MemLogFs();
    const { log } = await LogFile.open(fs);
    await log.append([{ kind: 'entries', rangeId: 1, entries: ents(1, 9, 1) }]);
    await log.append([
      { kind: 'reset', rangeId: 1, index: 20, term: 3 },
      { kind: 'entries', rangeId: 1, entries: ents(21, 22, 3) },
    ]);
    const { log: again, ranges } = await LogFile.open(fs);
    expect(ranges.get(1)?.reset).toEqual({ index: 20, term: 3 });
    expect(again.firstIndex(1)).toBe(21);
    expect(text(again.entries(1, 21, 23, 1 << 20))).toEqual(['21@3', '22@3']);
  });

  it('a crash loses the unsynced tail (cut short or torn), never a synced record', async () => {
    const fs = new MemLogFs();
    const { log } = await LogFile.open(fs);
    await log.append([{ kind: 'entries', rangeId: 1, entries: ents(1, 3, 1) }]);
    fs.failNextSync = true;
    await expect(log.append([{ kind: 'entries', rangeId: 1, entries: ents(4, 5, 1) }])).rejects.toThrow(/fdatasync failed/);
    fs.crash(11); // the failed append's bytes are not durable; a torn prefix of them survives
    const { log: again, tornBytes } = await LogFile.open(fs);
    expect(tornBytes).toBe(11);
    expect(again.lastIndex(1)).toBe(3);
    expect(text(again.entries(1, 1, 4, 1 << 20))).toEqual(['1@1', '2@1', '3@1']);
  });

  it('serves old entries from the files and deletes a segment only when every range is past it', async () => {
    const fs = new MemLogFs();
    const { log } = await LogFile.open(fs, 200);
    for (let i = 1; i <= 30; i++) await log.append([{ kind: 'entries', rangeId: 1 + (i % 2), entries: ents(Math.ceil(i / 2), Math.ceil(i / 2), 1, `r${1 + (i % 2)}-`) }]);
    expect(log.segmentCount()).toBeGreaterThan(3);
    expect(text(log.entries(1, 1, 4, 1 << 20))).toEqual(['r1-1@1', 'r1-2@1', 'r1-3@1']);
    expect(log.truncate((r) => (r === 1 ? 10 : 1))).toBe(0); // range 2 still needs the first segment
    const removed = log.truncate(() => 10);
    expect(removed).toBeGreaterThan(0);
    expect(text(log.entries(1, 10, 12, 1 << 20))).toEqual(['r1-10@1', 'r1-11@1']);
  });
});
