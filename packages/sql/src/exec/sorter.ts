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

class ArrayCursor implements RunCursor {
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
 * Merges sorted cursors, yielding batches of rows and an empty batch (a yield point) every
 * yieldEveryRows rows. Ties go to the lower cursor index.
 */
export function* mergeRuns(cursors: RunCursor[], cmp: KeyCompare): Generator<Row[], void, undefined> {
  // Heap of cursor indexes ordered by (head key, index).
  const heap: number[] = [];
  const less = (a: number, b: number): boolean => {
    const c = cmp(
      (cursors[a] as RunCursor).head()?.k as Value[],
      (cursors[b] as RunCursor).head()?.k as Value[],
    );
    return c < 0 || (c === 0 && a < b);
  };
  const down = (i: number): void => {
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      let m = l;
      if (l + 1 < n && less(heap[l + 1] as number, heap[l] as number)) m = l + 1;
      if (!less(heap[m] as number, heap[i] as number)) return;
      [heap[i], heap[m]] = [heap[m] as number, heap[i] as number];
      i = m;
    }
  };
  for (let i = 0; i < cursors.length; i++) if ((cursors[i] as RunCursor).head() !== null) heap.push(i);
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  let out: Row[] = [];
  let sinceYield = 0;
  while (heap.length > 0) {
    const top = heap[0] as number;
    const c = cursors[top] as RunCursor;
    out.push((c.head() as SortItem).r);
    c.advance();
    if (c.head() === null) {
      heap[0] = heap[heap.length - 1] as number;
      heap.pop();
    }
    if (heap.length > 0) down(0);
    if (out.length >= batchRowsMax) {
      yield out;
      out = [];
    }
    if (++sinceYield >= yieldEveryRows) {
      sinceYield = 0;
      yield [];
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

  /** Seals what is left and returns cursors over every in-memory run, in input order. */
  finish(): RunCursor[] {
    if (this.current.length > 0) this.sealRun();
    return this.runs.splice(0).map((r) => new ArrayCursor(r));
  }
}
