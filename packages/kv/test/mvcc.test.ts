import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LmdbEngine } from '../src/engine.js';
import { KeyWriter } from '../src/keys.js';
import { UncertainValue, mvccGcWrites, mvccGet, mvccGetChecked, mvccIntentsOf, mvccPutIntentWrites, mvccResolveIntent, mvccScan, mvccSpanChangedBetween, mvccSpanChangedSince, mvccWrites } from '../src/mvcc.js';

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

  it('intents: own provisional values are seen, others read through them; commit moves them, abort removes them', () => {
    const k = (x: string) => key(`i${x}`);
    const lo = key('i');
    const hi = key('j');
    const vals = (ts: bigint, txn: string | null, reverse = false) => [...mvccScan(engine, lo, hi, ts, reverse, ts, txn)].map((x) => x.value.toString());
    engine.write(mvccWrites(10n, [{ key: k('a'), value: Buffer.from('a10') }, { key: k('b'), value: Buffer.from('b10') }]));
    engine.write([...mvccPutIntentWrites(engine, 'T', 20n, k('a'), Buffer.from('a-T')), ...mvccPutIntentWrites(engine, 'T', 20n, k('b'), null), ...mvccPutIntentWrites(engine, 'T', 20n, k('c'), Buffer.from('c-T'))]);
    // Others (and non-transactional readers) see the committed data, forward and backward.
    expect(vals(30n, null)).toEqual(['a10', 'b10']);
    expect(vals(30n, 'U', true)).toEqual(['b10', 'a10']);
    expect(mvccGet(engine, k('a'), 30n)?.value?.toString()).toBe('a10');
    expect(mvccGet(engine, k('c'), 30n)).toBeUndefined();
    // The writer sees its own values whatever its read timestamp.
    expect(vals(5n, 'T')).toEqual(['a-T', 'c-T']);
    expect(vals(5n, 'T', true)).toEqual(['c-T', 'a-T']);
    expect(mvccGet(engine, k('b'), 5n, 'T')?.value).toBeNull();
    // Provisional versions are neither uncertain nor changes.
    expect(mvccGetChecked(engine, k('a'), 15n, 25n)).not.toBeInstanceOf(UncertainValue);
    expect(mvccSpanChangedBetween(engine, lo, hi, 15n, 25n)).toBeNull();
    expect(() => [...mvccScan(engine, lo, hi, 15n, false, 25n)]).not.toThrow();
    expect(mvccGcWrites(engine, k('a'), 100n)).toEqual([]);
    expect([...mvccIntentsOf(engine, lo, hi, 'T')].map((b) => b.equals(k('a')) || b.equals(k('b')) || b.equals(k('c')))).toEqual([true, true, true]);
    // Rewriting a key moves its provisional version.
    engine.write(mvccPutIntentWrites(engine, 'T', 22n, k('a'), Buffer.from('a-T2')));
    expect(mvccGet(engine, k('a'), 0n, 'T')?.value?.toString()).toBe('a-T2');
    // Commit at 40: a and b resolve; c is aborted.
    const ca = mvccResolveIntent(engine, k('a'), 'T', 40n);
    const cb = mvccResolveIntent(engine, k('b'), 'T', 40n);
    const cc = mvccResolveIntent(engine, k('c'), 'T', null);
    expect(mvccResolveIntent(engine, k('a'), 'OTHER', 40n).writes).toEqual([]);
    engine.write([...ca.writes, ...cb.writes, ...cc.writes]);
    expect(ca.committed?.value?.toString()).toBe('a-T2');
    expect(vals(39n, null)).toEqual(['a10', 'b10']);
    expect(vals(40n, null)).toEqual(['a-T2']);
    expect(vals(40n, 'T', true)).toEqual(['a-T2']);
    expect(mvccSpanChangedBetween(engine, lo, hi, 30n, 40n)?.equals(k('a'))).toBe(true);
    expect([...mvccIntentsOf(engine, lo, hi, 'T')]).toEqual([]);
  });
});
