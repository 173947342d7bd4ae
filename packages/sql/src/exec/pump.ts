/**
 * The driver of a running statement: pulls row batches from its operator tree and hands rows to
 * the sink, returning to the event loop at the yield points the operators produce (the yield
 * contract in context.ts) and at least every `sliceMs`. At each return it awaits the promise a
 * yield point carries, waits for the sink's back-pressure, and checks for cancellation and the
 * statement timeout.
 */
import { formatSliceElements, sliceMs } from '../constants.js';
import { formatArraySliced } from '../types/types.js';
import { waitOf } from './context.js';
import type { Batches, Column, ExecCtx, Row } from './context.js';
import type { Value } from '../types/types.js';

export interface PumpSink {
  row(values: Value[]): void;
  /**
   * The transport's back-pressure: a promise to wait for before producing more rows (its output
   * buffer is above its bound; it rejects when the statement must stop: cancel, connection
   * closed), or null to go on. Asked at every return to the event loop.
   */
  writable?(): Promise<void> | null;
}

export interface RunningStatement {
  batches: Batches;
  /** The result columns (large array values are formatted ahead in slices), if known. */
  columns?: Column[] | null;
  /** Rows pulled but not yet sent (a portal suspended by a row limit keeps them). */
  buffer: Row[];
  ctx: ExecCtx;
}

/**
 * Result encoding of large arrays (a 20M-element array_agg is ~200 MB of text) in slices: their
 * text is computed ahead, returning to the event loop between slices, and formatValue finds it.
 */
async function formatLargeArrays(row: Row, columns: Column[], ctx: ExecCtx, interrupts: () => void): Promise<void> {
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    const t = columns[i]?.type;
    if (!Array.isArray(v) || v.length <= formatSliceElements || !t || t.kind !== 'array') continue;
    for (const _ of formatArraySliced(v, t, ctx.vctx, formatSliceElements)) {
      await new Promise((res) => setImmediate(res));
      interrupts();
    }
  }
}

/**
 * Sends at most maxRows rows (0 = all). Returns true when the row limit suspended the statement,
 * false when it completed. `interrupts` throws if the statement was cancelled or timed out.
 */
export async function pump(
  run: RunningStatement,
  maxRows: number,
  sink: PumpSink,
  interrupts: () => void,
): Promise<boolean> {
  let sliceStart = Date.now();
  let sent = 0;
  const ctx = run.ctx;
  for (;;) {
    while (run.buffer.length > 0) {
      if (maxRows > 0 && sent >= maxRows) return true;
      const row = run.buffer.shift() as Row;
      if (run.columns) await formatLargeArrays(row, run.columns, ctx, interrupts);
      sink.row(row);
      sent++;
    }
    if (maxRows > 0 && sent >= maxRows) return true;
    const r = run.batches.next();
    if (r.done) return false;
    const batch = r.value;
    for (const row of batch) run.buffer.push(row);
    const wait = waitOf(batch);
    if (wait || ctx.sleepUntil > 0 || Date.now() - sliceStart >= sliceMs) {
      if (wait) await wait;
      if (ctx.sleepUntil > 0) {
        while (Date.now() < ctx.sleepUntil) {
          await new Promise((res) => setTimeout(res, Math.min(50, ctx.sleepUntil - Date.now())));
          interrupts();
        }
        ctx.sleepUntil = 0;
      } else if (!wait) {
        await new Promise((res) => setImmediate(res));
      }
      // Paused while the client does not read: the transport's promise settles when its buffer
      // drained, or after a recheck interval — then the statement checks for a cancel or
      // timeout and, if the buffer is still full, waits again without producing anything.
      for (let bp = sink.writable?.(); bp; bp = sink.writable?.()) {
        await bp;
        interrupts();
      }
      sliceStart = Date.now();
      interrupts();
    }
  }
}
