/**
 * Column algebra shared by scans, the write path and reorganization workers: mapping a block's
 * columns to a layout, merging sorted runs, resolving duplicate timestamps, slicing and filtering
 * rows. Pure functions over ColumnData (typed arrays); no file or table state.
 */
import { ColumnType, readColumn } from './block.js';
import type { BlockHeader, ColumnData, ColumnValues } from './block.js';
import { convertColumn, nullColumn, positionsById, zeroColumn } from './schema.js';

/**
 * ts.dedup.rule: how rows of one entity with equal timestamps resolve, in append order:
 * override — the last row wins; merge — each column takes its last non-NULL value; discard —
 * the first row wins; keep — all rows stay.
 */
export type DedupRule = 'override' | 'merge' | 'keep' | 'discard';

function typed(t: ColumnType, src: unknown[]): ColumnValues {
  switch (t) {
    case ColumnType.Timestamp:
    case ColumnType.Int64:
      return BigInt64Array.from(src as bigint[]);
    case ColumnType.Int32:
      return Int32Array.from(src as number[]);
    case ColumnType.Float64:
      return Float64Array.from(src as number[]);
    case ColumnType.Bool:
      return Uint8Array.from(src as number[]);
    case ColumnType.String:
      return src as string[];
  }
}

/**
 * The columns of a block in a layout: by id, converted when the block has another type, NULL
 * when it predates the column; columns outside `wanted` (positions) are zero-filled stand-ins,
 * not decoded.
 */
export function blockColumnsFor(layout: { ids: number[]; types: ColumnType[] }, buf: Buffer, h: BlockHeader, wanted: Set<number> | null): ColumnData[] {
  const pos = blockPositionsFor(layout.ids, h);
  return layout.types.map((t, i) => {
    const p = pos[i] as number;
    if (i !== 0 && wanted && !wanted.has(i)) return zeroColumn(t, h.rows);
    if (p < 0) return nullColumn(t, h.rows);
    const c = readColumn(buf, h, p);
    return c.type === t ? c : convertColumn(c, t);
  });
}

/** For each column id, its position in the block (-1: the block predates it). */
export function blockPositionsFor(ids: number[], h: BlockHeader): number[] {
  let same = h.columns.length >= ids.length;
  for (let i = 0; same && i < ids.length; i++) same = h.columns[i]?.id === ids[i];
  return same ? ids.map((_x, i) => i) : positionsById(h.columns.map((c) => c.id), ids);
}

/** Collapses runs of equal timestamps (rows sorted by timestamp, ties in append order). */
export function dedupRuns(cols: ColumnData[], rule: Exclude<DedupRule, 'keep'>): ColumnData[] {
  const ts = cols[0]?.values as BigInt64Array;
  let dup = false;
  for (let i = 1; i < ts.length && !dup; i++) if (ts[i] === ts[i - 1]) dup = true;
  if (!dup) return cols;
  // For each output row, the input row per column it takes its value from.
  const runs: [number, number][] = [];
  for (let i = 0; i < ts.length; ) {
    let j = i + 1;
    while (j < ts.length && ts[j] === ts[i]) j++;
    runs.push([i, j]);
    i = j;
  }
  return cols.map((c, ci) => {
    const pick = new Int32Array(runs.length);
    runs.forEach(([a, b], k) => {
      if (rule === 'discard') pick[k] = a;
      else if (rule === 'override' || ci === 0) pick[k] = b - 1;
      else {
        // merge: the last non-NULL value of the run (or the last row if all are NULL)
        let at = b - 1;
        if (c.nulls) for (let r = b - 1; r >= a; r--) if (!c.nulls[r]) { at = r; break; }
        pick[k] = at;
      }
    });
    const nulls = c.nulls ? Uint8Array.from(pick, (r) => (c.nulls as Uint8Array)[r] as number) : null;
    let values: ColumnValues;
    if (c.type === ColumnType.String) values = Array.from(pick, (r) => (c.values as string[])[r] as string);
    else {
      const src = c.values as BigInt64Array;
      const Ctor = src.constructor as new (n: number) => BigInt64Array;
      const out = new Ctor(pick.length);
      for (let k = 0; k < pick.length; k++) out[k] = src[pick[k] as number] as bigint;
      values = out as ColumnValues;
    }
    return { type: c.type, values, nulls };
  });
}

/** Rows [from, to) of every column. */
export function sliceColumns(cols: ColumnData[], from: number, to: number): ColumnData[] {
  return cols.map((c) => ({
    type: c.type,
    values: (c.type === ColumnType.String ? (c.values as string[]).slice(from, to) : (c.values as BigInt64Array).slice(from, to)) as ColumnValues,
    nulls: c.nulls ? c.nulls.slice(from, to) : null,
  }));
}

/** The rows (by timestamp and index) a predicate keeps, as new columns. */
export function keepRows(cols: ColumnData[], keep: (ts: bigint, i: number) => boolean): ColumnData[] {
  const ts = cols[0]?.values as BigInt64Array;
  const idx: number[] = [];
  for (let i = 0; i < ts.length; i++) if (keep(ts[i] as bigint, i)) idx.push(i);
  if (idx.length === ts.length) return cols;
  return cols.map((c) => {
    const nulls = c.nulls ? Uint8Array.from(idx, (r) => (c.nulls as Uint8Array)[r] as number) : null;
    if (c.type === ColumnType.String) return { type: c.type, values: idx.map((r) => (c.values as string[])[r] as string), nulls };
    const src = c.values as BigInt64Array;
    const out = new (src.constructor as new (n: number) => BigInt64Array)(idx.length);
    for (let k = 0; k < idx.length; k++) out[k] = src[idx[k] as number] as bigint;
    return { type: c.type, values: out as ColumnValues, nulls };
  });
}


/** Concatenates runs of rows, keeps those in [minTs, maxTs], and sorts by timestamp (stable). */
export function mergeSortedColumns(parts: ColumnData[][], types: ColumnType[], minTs: bigint, maxTs: bigint): ColumnData[] | null {
  return concatInOrder(parts, types, minTs, maxTs) ?? mergeSlow(parts, types, minTs, maxTs);
}

/**
 * The common case: every run ascending and each run starting at or after the previous one's end
 * (data appended in time order). Then the result is the runs' in-range slices, concatenated —
 * no per-row work. Returns undefined when the runs overlap or are unordered.
 */
function concatInOrder(parts: ColumnData[][], types: ColumnType[], minTs: bigint, maxTs: bigint): ColumnData[] | null | undefined {
  const slices: { cols: ColumnData[]; from: number; to: number }[] = [];
  let prevLast: bigint | null = null;
  let total = 0;
  for (const cols of parts) {
    const ts = cols[0]?.values as BigInt64Array;
    if (ts.length === 0) continue;
    for (let i = 1; i < ts.length; i++) if ((ts[i] as bigint) < (ts[i - 1] as bigint)) return undefined;
    if (prevLast !== null && (ts[0] as bigint) < prevLast) return undefined;
    prevLast = ts[ts.length - 1] as bigint;
    let from = 0;
    while (from < ts.length && (ts[from] as bigint) < minTs) from++;
    let to = ts.length;
    while (to > from && (ts[to - 1] as bigint) > maxTs) to--;
    if (to > from) {
      slices.push({ cols, from, to });
      total += to - from;
    }
  }
  if (total === 0) return null;
  if (slices.length === 1) {
    const { cols, from, to } = slices[0] as { cols: ColumnData[]; from: number; to: number };
    if (from === 0 && to === (cols[0]?.values.length ?? 0)) return cols;
  }
  return types.map((t, c) => {
    const anyNull = slices.some((s) => (s.cols[c] as ColumnData).nulls !== null);
    const nulls = anyNull ? new Uint8Array(total) : null;
    let values: ColumnValues;
    if (t === ColumnType.String) {
      const out: string[] = [];
      for (const s of slices) for (let i = s.from; i < s.to; i++) out.push(((s.cols[c] as ColumnData).values as string[])[i] as string);
      values = out;
    } else {
      const first = (slices[0] as { cols: ColumnData[] }).cols[c] as ColumnData;
      const Ctor = (first.values as BigInt64Array).constructor as new (n: number) => BigInt64Array;
      const out = new Ctor(total);
      let o = 0;
      for (const s of slices) {
        out.set(((s.cols[c] as ColumnData).values as BigInt64Array).subarray(s.from, s.to), o);
        o += s.to - s.from;
      }
      values = out as ColumnValues;
    }
    if (nulls) {
      let o = 0;
      for (const s of slices) {
        const n = (s.cols[c] as ColumnData).nulls;
        if (n) nulls.set(n.subarray(s.from, s.to), o);
        o += s.to - s.from;
      }
    }
    return { type: t, values, nulls };
  });
}

function mergeSlow(parts: ColumnData[][], types: ColumnType[], minTs: bigint, maxTs: bigint): ColumnData[] | null {
  const rows: { ts: bigint; part: number; i: number }[] = [];
  parts.forEach((cols, part) => {
    const ts = cols[0]?.values as BigInt64Array;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i] as bigint;
      if (t >= minTs && t <= maxTs) rows.push({ ts: t, part, i });
    }
  });
  if (rows.length === 0) return null;
  let sorted = true;
  for (let k = 1; k < rows.length; k++) if ((rows[k] as { ts: bigint }).ts < (rows[k - 1] as { ts: bigint }).ts) sorted = false;
  if (!sorted) rows.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.part - b.part || a.i - b.i));
  return types.map((t, c) => {
    const vals: unknown[] = new Array(rows.length);
    const nulls = new Uint8Array(rows.length);
    let anyNull = false;
    rows.forEach((r, k) => {
      const col = (parts[r.part] as ColumnData[])[c] as ColumnData;
      vals[k] = col.values[r.i];
      if (col.nulls && col.nulls[r.i]) {
        nulls[k] = 1;
        anyNull = true;
      }
    });
    return { type: t, values: typed(t, vals), nulls: anyNull ? nulls : null };
  });
}
