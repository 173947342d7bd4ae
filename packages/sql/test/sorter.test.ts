/**
 * The run sorter and the tournament merge (exec/sorter.ts): every merge gives the rows of a
 * stable sort, for run counts that are and are not powers of two, with exhausted and empty runs;
 * and the merge yields a yield point (null) every yieldEveryRows items, so a sort never holds the
 * event loop for longer than one run's sort.
 */
import { describe, expect, it } from 'vitest';
import { yieldEveryRows } from '../src/exec/context.js';
import { ArrayCursor, RunSorter, mergeItems, mergeRuns } from '../src/exec/sorter.js';
import type { SortItem } from '../src/exec/sorter.js';
import type { Value } from '../src/types/types.js';

const cmp = (a: Value[], b: Value[]) => (a[0] as number) - (b[0] as number);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('sorter', () => {
  it.each([1, 2, 3, 7, 16, 33, 100])('merging %i runs gives a stable sort', (k) => {
    const r = rng(k);
    const all: SortItem[] = [];
    const runs: SortItem[][] = [];
    let seq = 0;
    for (let i = 0; i < k; i++) {
      const n = Math.floor(r() * 50); // some runs empty
      const run = Array.from({ length: n }, () => ({ k: [Math.floor(r() * 20)], r: [seq++] }));
      run.sort((a, b) => cmp(a.k, b.k));
      runs.push(run);
      all.push(...run);
    }
    const expected = [...all].sort((a, b) => cmp(a.k, b.k) || (a.r[0] as number) - (b.r[0] as number));
    const got: SortItem[] = [];
    for (const x of mergeItems(
      runs.map((x) => new ArrayCursor([...x])),
      cmp,
    ))
      if (x) got.push(x);
    expect(got.map((x) => x.r[0])).toEqual(expected.map((x) => x.r[0]));
  });

  it('RunSorter + mergeRuns sort 50,000 rows, yielding every yieldEveryRows rows of the merge', () => {
    const r = rng(7);
    const sorter = new RunSorter(cmp);
    let sealed = 0;
    for (let i = 0; i < 50_000; i++) {
      if (!sorter.push({ k: [Math.floor(r() * 1000)], r: [i] })) continue;
      sorter.sealRun();
      sealed++;
    }
    expect(sealed).toBeGreaterThan(5); // the input was cut into runs (each sorted on its own)
    const out: number[] = [];
    let yields = 0;
    let sinceYield = 0;
    let maxBetween = 0;
    for (const b of mergeRuns(sorter.finish(), cmp)) {
      if (b.length === 0) {
        yields++;
        maxBetween = Math.max(maxBetween, sinceYield);
        sinceYield = 0;
        continue;
      }
      sinceYield += b.length;
      for (const row of b) out.push(row[0] as number);
    }
    expect(out).toHaveLength(50_000);
    expect(yields).toBeGreaterThanOrEqual(Math.floor(50_000 / yieldEveryRows) - 1);
    expect(maxBetween).toBeLessThanOrEqual(yieldEveryRows);
  });
});
