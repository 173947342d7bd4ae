import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LmdbEngine } from '../src/engine.js';
import { KeyWriter } from '../src/keys.js';
import { mvccGcWrites, mvccGet, mvccScan, mvccSpanChangedSince, mvccWrites } from '../src/mvcc.js';

const dir = mkdtempSync(join(tmpdir(), 'mvcc-'));
const engine = new LmdbEngine(dir);
afterAll(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});
const key = (s: string) => new KeyWriter(16).byte(3).string(s).finish();
const put = (ts: bigint, k: string, v: string | null) => engine.write(mvccWrites(ts, [{ key: key(k), value: v === null ? null : Buffer.from(v) }]));
const scanAt = (ts: bigint) => [...mvccScan(engine, key(''), Buffer.from([4]), ts)].map((x) => `${x.value.toString()}`);

describe('MVCC', () => {
  it('reads the newest version at or below the read timestamp; tombstones hide', () => {
    put(10n, 'a', 'a10');
    put(20n, 'a', 'a20');
    put(30n, 'a', null);
    put(15n, 'b', 'b15');
    for (let t = 40n; t < 60n; t++) put(t, 'c', `c${t}`); // many versions: scans must skip them
    expect(mvccGet(engine, key('a'), 5n)).toBeUndefined();
    expect(mvccGet(engine, key('a'), 10n)?.value?.toString()).toBe('a10');
    expect(mvccGet(engine, key('a'), 25n)?.value?.toString()).toBe('a20');
    expect(mvccGet(engine, key('a'), 35n)?.value).toBeNull();
    expect(scanAt(12n)).toEqual(['a10']);
    expect(scanAt(25n)).toEqual(['a20', 'b15']);
    expect(scanAt(45n)).toEqual(['b15', 'c45']);
    expect(scanAt(100n)).toEqual(['b15', 'c59']);
    expect([...mvccScan(engine, key(''), Buffer.from([4]), 45n, true)].map((x) => x.value.toString())).toEqual(['c45', 'b15']);
  });

  it('detects changes in a span after a timestamp', () => {
    expect(mvccSpanChangedSince(engine, key('b'), key('bz'), 15n)).toBe(false);
    expect(mvccSpanChangedSince(engine, key('b'), key('bz'), 14n)).toBe(true);
    expect(mvccSpanChangedSince(engine, key('a'), key('az'), 29n)).toBe(true);
  });

  it('garbage-collects versions no reader can see, keeping what readers at the threshold need', () => {
    engine.write(mvccGcWrites(engine, key('c'), 50n));
    expect(mvccGet(engine, key('c'), 50n)?.value?.toString()).toBe('c50');
    expect(mvccGet(engine, key('c'), 49n)).toBeUndefined(); // older versions are gone
    expect(mvccGet(engine, key('c'), 59n)?.value?.toString()).toBe('c59');
    // A deleted key whose tombstone is below the threshold disappears entirely.
    engine.write(mvccGcWrites(engine, key('a'), 100n));
    expect(mvccGet(engine, key('a'), 100n)).toBeUndefined();
    expect(mvccSpanChangedSince(engine, key('a'), key('az'), 0n)).toBe(false);
  });
});
