/**
 * Column-wise row building: typed arrays that grow as values are pushed or runs of rows appended
 * (write commands, COPY, the TS table's per-entity write buffers).
 */
import { ColumnType } from './block.js';
import type { ColumnData, ColumnValues } from './block.js';
import type { TsValue } from './command_header.js';

const twoTo32 = 4294967296;

/**
 * One column being built a value at a time into a typed array that doubles as it fills.
 * 64-bit columns also keep an Int32Array view, so a safe integer given as a number is stored as
 * its two 32-bit halves without a BigInt.
 */
export class ColumnBuilder {
  rows = 0;
  private values: ColumnValues;
  private halves: Int32Array | null = null;
  private nulls: Uint8Array | null = null;

  constructor(
    readonly type: ColumnType,
    private capacity = 16,
  ) {
    this.values = allocValues(type, capacity);
    if (type === ColumnType.Timestamp || type === ColumnType.Int64) this.halves = new Int32Array((this.values as BigInt64Array).buffer);
  }

  /**
   * A builder that starts out holding `c` (its arrays are used as they are, not copied: a column
   * a COPY worker built, sql/src/copy_chunk.ts); pushing more copies them into arrays of its own.
   */
  static of(c: ColumnData): ColumnBuilder {
    const n = c.values.length;
    const b = new ColumnBuilder(c.type, 0);
    b.values = c.values;
    b.capacity = n;
    b.rows = n;
    b.nulls = c.nulls;
    if (b.halves) {
      const v = c.values as BigInt64Array;
      b.halves = new Int32Array(v.buffer, v.byteOffset, 2 * n);
    }
    return b;
  }

  /** Doubles the capacity, or more: to the first doubling that holds `atLeast` rows (one copy, not one per doubling). */
  private grow(atLeast = 0): void {
    let cap = Math.max(16, this.capacity * 2);
    while (cap < atLeast) cap *= 2;
    const next = allocValues(this.type, cap);
    if (Array.isArray(next)) (next as string[]).splice(0, this.rows, ...(this.values as string[]).slice(0, this.rows));
    else (next as Exclude<ColumnValues, string[]>).set(this.values as never);
    this.values = next;
    if (this.halves) this.halves = new Int32Array((next as BigInt64Array).buffer);
    if (this.nulls) {
      const n = new Uint8Array(cap);
      n.set(this.nulls);
      this.nulls = n;
    }
    this.capacity = cap;
  }

  pushNull(): void {
    if (this.rows === this.capacity) this.grow();
    if (!this.nulls) this.nulls = new Uint8Array(this.capacity);
    this.nulls[this.rows] = 1;
    if (this.type === ColumnType.String) (this.values as string[])[this.rows] = '';
    this.rows++;
  }

  /**
   * A number: for Timestamp (microseconds) and Int64 a safe integer, stored without a BigInt;
   * for Int32, Float64 and Bool (0/1) the value itself.
   */
  pushNumber(n: number): void {
    if (this.rows === this.capacity) this.grow();
    const h = this.halves;
    if (h) {
      h[2 * this.rows] = n >>> 0;
      h[2 * this.rows + 1] = Math.floor(n / twoTo32);
    } else (this.values as Int32Array | Float64Array | Uint8Array)[this.rows] = n;
    this.rows++;
  }

  /** Any non-NULL value of the column's type (a timestamp may be a bigint or a number). */
  push(v: Exclude<TsValue, null>): void {
    if (typeof v === 'number' && this.type !== ColumnType.String) {
      if (this.halves && !Number.isSafeInteger(v)) {
        this.pushBig(BigInt(v));
        return;
      }
      this.pushNumber(v);
      return;
    }
    if (typeof v === 'bigint') {
      if (this.halves) this.pushBig(v);
      else this.pushNumber(Number(v));
      return;
    }
    if (typeof v === 'boolean') {
      this.pushNumber(v ? 1 : 0);
      return;
    }
    if (this.rows === this.capacity) this.grow();
    (this.values as string[])[this.rows++] = v as string;
  }

  private pushBig(v: bigint): void {
    if (this.rows === this.capacity) this.grow();
    (this.values as BigInt64Array)[this.rows++] = v;
  }

  /** Rows [from, to) of a column of the same type. */
  append(c: ColumnData, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    if (this.rows + n > this.capacity) this.grow(this.rows + n);
    if (c.nulls) {
      if (!this.nulls) this.nulls = new Uint8Array(this.capacity);
      this.nulls.set(c.nulls.subarray(from, to), this.rows);
    }
    if (Array.isArray(this.values)) {
      const src = c.values as string[];
      for (let i = 0; i < n; i++) this.values[this.rows + i] = src[from + i] as string;
    } else if (n <= 4) {
      // A few values: copied one by one (a subarray per column costs more than the copy).
      const dst = this.values as BigInt64Array;
      const src = c.values as BigInt64Array;
      for (let i = 0; i < n; i++) dst[this.rows + i] = src[from + i] as bigint;
    } else (this.values as BigInt64Array).set((c.values as BigInt64Array).subarray(from, to), this.rows);
    this.rows += n;
  }

  /** The column so far (views of the builder's arrays: push no more after this). */
  finish(): ColumnData {
    const n = this.rows;
    const values = Array.isArray(this.values) ? this.values.slice(0, n) : (this.values as Exclude<ColumnValues, string[]>).subarray(0, n);
    let nulls = this.nulls ? this.nulls.subarray(0, n) : null;
    if (nulls && nulls.indexOf(1) < 0) nulls = null;
    return { type: this.type, values: values as ColumnValues, nulls };
  }
}

/** A zero-filled array of n values of a column type (strings: n empty slots). */
export function allocValues(t: ColumnType, n: number): ColumnValues {
  switch (t) {
    case ColumnType.Timestamp:
    case ColumnType.Int64:
      return new BigInt64Array(n);
    case ColumnType.Int32:
      return new Int32Array(n);
    case ColumnType.Float64:
      return new Float64Array(n);
    case ColumnType.Bool:
      return new Uint8Array(n);
    case ColumnType.String:
      return new Array<string>(n);
  }
}
