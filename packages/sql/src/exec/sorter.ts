/**
 * Sorting in bounded slices: rows are gathered into runs of at most sortRunRows, each run is sorted
 * on its own (one bounded synchronous step), and the runs are merged with a binary heap, yielding
 * every yieldEveryRows rows. No step sorts the whole input at once, so a 5M-row ORDER BY never
 * holds the event loop for more than one run's sort. The same runs are what an over-budget sort
 * writes to disk (spill.ts) and merges back.
 *
 * Stability: items that compare equal come out in input order (runs are sorted stably and ties
 * between runs go to the earlier run), as the single Array.prototype.sort did before.
 */
import { sortRunRows } from '../constants.js';
import { batchRowsMax, yieldEveryRows } from './context.js';
import type { Row } from './context.js';
import type { Value } from '../types/types.js';
import type { SpillReader } from './spill.js';

export interface SortItem {
  k: Value[];
  r: Row;
}

/** A sorted sequence read front to back. */
export interface RunCursor {
  /** The current item, or null when exhausted. */
  head(): SortItem | null;
  advance(): void;
}

export class ArrayCursor implements RunCursor {
  private i = 0;
  constructor(private readonly items: SortItem[]) {}
  head(): SortItem | null {
    return this.items[this.i] ?? null;
  }
  advance(): void {
    // Drop references as we go so merged rows can be collected.
    (this.items as (SortItem | undefined)[])[this.i] = undefined;
    this.i++;
  }
}

export type KeyCompare = (a: Value[], b: Value[]) => number;

/**
 * Merges sorted cursors item by item with a tournament (loser) tree: each item costs log2(k)
 * comparisons. Yields each item in order, and null (a yield point) every yieldEveryRows items.
 * Ties go to the lower cursor index (so runs in input order keep the sort stable).
 */
export function* mergeItems(cursors: RunCursor[], cmp: KeyCompare): Generator<SortItem | null, void, undefined> {
  const k = cursors.length;
  if (k === 0) return;
  const heads: (SortItem | null)[] = cursors.map((c) => c.head());
  // beats(a, b): cursor a's head comes before cursor b's (exhausted cursors come last).
  const beats = (a: number, b: number): boolean => {
    const x = heads[a] as SortItem | null;
    const y = heads[b] as SortItem | null;
    if (y === null) return x !== null || a < b;
    if (x === null) return false;
    const c = cmp(x.k, y.k);
    return c < 0 || (c === 0 && a < b);
  };
  // tree[1..k-1] hold the losers of the matches; tree[0] the overall winner. Leaves are k..2k-1.
  const tree = new Int32Array(Math.max(1, k));
  const winners = new Int32Array(2 * k);
  for (let i = 0; i < k; i++) winners[k + i] = i;
  for (let p = k - 1; p >= 1; p--) {
    const a = winners[2 * p] as number;
    const b = winners[2 * p + 1] as number;
    if (beats(a, b)) {
      winners[p] = a;
      tree[p] = b;
    } else {
      winners[p] = b;
      tree[p] = a;
    }
  }
  tree[0] = k === 1 ? 0 : (winners[1] as number);
  let sinceYield = 0;
  for (;;) {
    const w = tree[0] as number;
    const item = heads[w] as SortItem | null;
    if (item === null) return;
    const c = cursors[w] as RunCursor;
    c.advance();
    heads[w] = c.head();
    // Replay w's matches from its leaf to the root.
    let cur = w;
    for (let p = (w + k) >> 1; p >= 1; p >>= 1) {
      const other = tree[p] as number;
      if (beats(other, cur)) {
        tree[p] = cur;
        cur = other;
      }
    }
    tree[0] = cur;
    yield item;
    if (++sinceYield >= yieldEveryRows) {
      sinceYield = 0;
      yield null;
    }
  }
}

/**
 * Merges sorted cursors, yielding batches of rows and an empty batch (a yield point) every
 * yieldEveryRows rows. Ties go to the lower cursor index.
 */
export function* mergeRuns(cursors: RunCursor[], cmp: KeyCompare): Generator<Row[], void, undefined> {
  if (cursors.length === 1) {
    // One run: no heap.
    const c = cursors[0] as RunCursor;
    let out: Row[] = [];
    for (let item = c.head(); item !== null; item = c.head()) {
      out.push(item.r);
      c.advance();
      if (out.length >= batchRowsMax) {
        yield out;
        out = [];
        yield [];
      }
    }
    if (out.length > 0) yield out;
    return;
  }
  let out: Row[] = [];
  for (const item of mergeItems(cursors, cmp)) {
    if (item === null) {
      if (out.length > 0) yield out;
      out = [];
      yield [];
      continue;
    }
    out.push(item.r);
    if (out.length >= batchRowsMax) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}

/**
 * Gathers items into sorted in-memory runs. INVARIANT: `current` holds fewer than sortRunRows
 * items between calls; every sealed run is sorted.
 */
export class RunSorter {
  private current: SortItem[] = [];
  private readonly runs: SortItem[][] = [];

  constructor(private readonly cmp: KeyCompare) {}

  /** Adds an item; returns true when the current run is full and should be sealed (then yield). */
  push(item: SortItem): boolean {
    this.current.push(item);
    return this.current.length >= sortRunRows;
  }

  /** Sorts the current run and keeps it; returns it (a spilling caller may write it out instead). */
  sealRun(): SortItem[] {
    const run = this.current;
    this.current = [];
    const cmp = this.cmp;
    run.sort((a, b) => cmp(a.k, b.k));
    this.runs.push(run);
    return run;
  }

  /** Takes the sealed in-memory runs away (after they were written to disk). */
  takeRuns(): SortItem[][] {
    return this.runs.splice(0);
  }

  get pending(): number {
    return this.current.length;
  }

  get hasRuns(): boolean {
    return this.runs.length > 0;
  }

  /** Seals what is left and returns cursors over every in-memory run, in input order. */
  finish(): RunCursor[] {
    if (this.current.length > 0) this.sealRun();
    return this.runs.splice(0).map((r) => new ArrayCursor(r));
  }
}

/** A run written to a spill file as [key, row] records. */
export class FileCursor implements RunCursor {
  private cur: SortItem | null;

  constructor(private readonly reader: SpillReader) {
    this.cur = this.read();
  }

  head(): SortItem | null {
    return this.cur;
  }

  advance(): void {
    this.cur = this.read();
  }

  private read(): SortItem | null {
    const v = this.reader.next();
    if (v === undefined) return null;
    const [k, r] = v as [Value[], Row];
    return { k, r };
  }
}
