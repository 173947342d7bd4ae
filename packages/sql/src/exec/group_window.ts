/**
 * KWDB's group windows — GROUP BY COUNT_WINDOW(n) | STATE_WINDOW(expr) | SESSION_WINDOW(ts, gap)
 * | EVENT_WINDOW(start, end) | TIME_WINDOW(ts, width): rows are ordered by time within each
 * partition (the other GROUP BY keys), each row gets the id of the window it falls in (appended
 * as the last column), and the usual aggregation groups by that id. EVENT_WINDOW drops rows
 * outside any window. Sliding windows — COUNT_WINDOW(n, s): a window of n rows starts every s
 * rows; TIME_WINDOW(ts, width, s): a window [k·s, k·s + width) for every k — overlap, so a row is
 * emitted once per window it falls in. All rows are held in memory while windows are assigned.
 */
import { hashKey } from '../types/types.js';
import type { SqlType, Value } from '../types/types.js';
import { batchRowsMax, drain } from './context.js';
import type { MemoryAccount } from './memory.js';
import { RunSorter, mergeRuns } from './sorter.js';
import type { Batches, Column, ExecCtx, Operator, Row } from './context.js';
import type { Ev } from './operators.js';

export type GroupWindowSpec =
  | { kind: 'count'; rows: number; slide: number }
  | { kind: 'state'; ev: Ev; type: SqlType }
  | { kind: 'session'; gapUs: number }
  | { kind: 'event'; start: Ev; end: Ev }
  | { kind: 'time'; widthUs: number; slideUs: number };

export class GroupWindowAssign implements Operator {
  constructor(
    readonly input: Operator,
    readonly columns: Column[],
    readonly spec: GroupWindowSpec,
    /** The time column (row position) that orders rows within a partition. */
    readonly tsIdx: number,
    readonly partition: { ev: Ev; type: SqlType }[],
  ) {}

  *exec(ctx: ExecCtx): Batches {
    const acct = ctx.memory.account('group window (partition rows)');
    try {
      yield* this.run(ctx, acct);
    } finally {
      acct.clear();
    }
  }

  private *run(ctx: ExecCtx, acct: MemoryAccount): Batches {
    const rows = yield* drain(this.input, ctx, [], acct);
    const keys = rows.map((r) => this.partition.map((p) => hashKey(p.ev(r, ctx), p.type)).join('\u0001'));
    const tsOf = (i: number) => (rows[i] as Row)[this.tsIdx] as number;
    // Rows by (partition key, time, arrival), sorted in runs (sorter.ts) with yield points.
    const cmp = (a: Value[], b: Value[]) => {
      const x = a[0] as string;
      const y = b[0] as string;
      return x < y ? -1 : x > y ? 1 : (a[1] as number) - (b[1] as number) || (a[2] as number) - (b[2] as number);
    };
    const sorter = new RunSorter(cmp);
    for (let i = 0; i < rows.length; i++) {
      if (sorter.push({ k: [keys[i] as string, tsOf(i), i], r: [i] })) {
        sorter.sealRun();
        yield [];
      }
    }
    const order: number[] = [];
    for (const b of mergeRuns(sorter.finish(), cmp)) {
      if (b.length === 0) yield b;
      else for (const x of b) order.push(x[0] as number);
    }
    const out: Row[] = [];
    let id = 0;
    let prevKey: string | null = null;
    let count = 0;
    let prevTs = 0;
    let prevState: string | null = null;
    let open = false;
    let index = 0; // row position within the partition
    const spec = this.spec;
    for (const i of order) {
      const r = rows[i] as Row;
      const ts = tsOf(i);
      const fresh = keys[i] !== prevKey;
      prevKey = keys[i] as string;
      index = fresh ? 0 : index + 1;
      let w: number | null;
      switch (spec.kind) {
        case 'count':
          if (spec.slide !== spec.rows) {
            // Windows j = 0, 1, … start at row j·slide; this row is in those with j·slide <= index < j·slide + rows.
            if (fresh) {
              id += count + 1; // a fresh id range per partition
              count = 0;
            }
            count = Math.max(count, Math.floor(index / spec.slide));
            for (let j = Math.max(0, Math.floor((index - spec.rows) / spec.slide) + 1); j * spec.slide <= index; j++) out.push([...r, BigInt(id + j)]);
            if (out.length >= batchRowsMax) yield out.splice(0);
            prevTs = ts;
            continue;
          }
          if (fresh || count === spec.rows) {
            id++;
            count = 0;
          }
          count++;
          w = id;
          break;
        case 'state': {
          const st = hashKey(spec.ev(r, ctx), spec.type);
          if (fresh || st !== prevState) id++;
          prevState = st;
          w = id;
          break;
        }
        case 'session':
          if (fresh || ts - prevTs > spec.gapUs) id++;
          w = id;
          break;
        case 'event':
          if (fresh) open = false;
          if (!open && spec.start(r, ctx) === true) {
            open = true;
            id++;
          }
          w = open ? id : null;
          if (open && spec.end(r, ctx) === true) open = false;
          break;
        case 'time':
          if (spec.slideUs !== spec.widthUs) {
            // Windows [k·slide, k·slide + width) holding ts: k from ⌊(ts − width)/slide⌋ + 1 to ⌊ts/slide⌋.
            for (let k = Math.floor((ts - spec.widthUs) / spec.slideUs) + 1; k * spec.slideUs <= ts; k++) out.push([...r, BigInt(k * spec.slideUs)]);
            if (out.length >= batchRowsMax) yield out.splice(0);
            prevTs = ts;
            continue;
          }
          w = Math.floor(ts / spec.widthUs) * spec.widthUs;
          break;
      }
      prevTs = ts;
      if (w === null) continue;
      out.push([...r, BigInt(w)]);
      if (out.length >= batchRowsMax) yield out.splice(0);
    }
    if (out.length > 0) yield out;
  }

  explain() {
    return { label: `group window (${this.spec.kind})`, children: [this.input] };
  }
}
