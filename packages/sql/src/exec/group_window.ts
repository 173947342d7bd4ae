/**
 * KWDB's group windows — GROUP BY COUNT_WINDOW(n) | STATE_WINDOW(expr) | SESSION_WINDOW(ts, gap)
 * | EVENT_WINDOW(start, end) | TIME_WINDOW(ts, width): rows are ordered by time within each
 * partition (the other GROUP BY keys), each row gets the id of the window it falls in (appended
 * as the last column), and the usual aggregation groups by that id. EVENT_WINDOW drops rows
 * outside any window. All rows are held in memory while windows are assigned.
 */
import { hashKey } from '../types/types.js';
import type { SqlType } from '../types/types.js';
import { batchRowsMax } from './context.js';
import type { Batches, Column, ExecCtx, Operator, Row } from './context.js';
import type { Ev } from './operators.js';

export type GroupWindowSpec =
  | { kind: 'count'; rows: number }
  | { kind: 'state'; ev: Ev; type: SqlType }
  | { kind: 'session'; gapUs: number }
  | { kind: 'event'; start: Ev; end: Ev }
  | { kind: 'time'; widthUs: number };

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
    const rows: Row[] = [];
    for (const b of this.input.exec(ctx)) {
      if (b.length === 0) {
        yield b;
        continue;
      }
      for (const r of b) rows.push(r);
    }
    const keys = rows.map((r) => this.partition.map((p) => hashKey(p.ev(r, ctx), p.type)).join('\u0001'));
    const order = rows.map((_r, i) => i);
    const tsOf = (i: number) => (rows[i] as Row)[this.tsIdx] as number;
    order.sort((a, b) => (keys[a] as string) < (keys[b] as string) ? -1 : (keys[a] as string) > (keys[b] as string) ? 1 : tsOf(a) - tsOf(b) || a - b);
    const out: Row[] = [];
    let id = 0;
    let prevKey: string | null = null;
    let count = 0;
    let prevTs = 0;
    let prevState: string | null = null;
    let open = false;
    const spec = this.spec;
    for (const i of order) {
      const r = rows[i] as Row;
      const ts = tsOf(i);
      const fresh = keys[i] !== prevKey;
      prevKey = keys[i] as string;
      let w: number | null;
      switch (spec.kind) {
        case 'count':
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
