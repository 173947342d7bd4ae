/**
 * SQL cursors (DECLARE / FETCH / MOVE / CLOSE) of one session: a cursor is a portal the session
 * keeps by name. Without SCROLL it is read once, forward (no row is kept: a psycopg named cursor
 * over millions of rows costs one batch); with SCROLL the rows read so far are kept for backward
 * moves. WITHOUT HOLD it ends with its transaction; WITH HOLD its remaining rows are read into
 * memory before the transaction commits (bounded by work_mem, else 53200) and it lives until CLOSE
 * or the session's end. A cursor declared in a transaction that rolls back goes with it.
 *
 * The session declares cursors (it plans the query and binds the portal) and tells this registry
 * when transactions end; the registry runs the portals through the session (CursorHost).
 *
 * INVARIANT: 0 <= pos <= pulled + 1, and rows (when kept) holds the first `pulled` rows.
 */
import { PgError, SqlState } from '@strata/common';
import type { Txn } from '@strata/kv';
import type { Column, Row } from './exec/context.js';
import { formatPgMemory } from './exec/memory.js';
import type { Statement } from './parser/ast.js';

/** `P`: the session's portal type (the registry only hands portals back to the session). */
export interface SqlCursor<P> {
  name: string;
  /** The DECLARE statement, for pg_cursors. */
  text: string;
  hold: boolean;
  /**
   * DECLARE … BINARY: a simple-query FETCH sends its rows in binary (format 1), as PostgreSQL's
   * exec_simple_query does; the extended protocol's Bind formats apply as for any statement.
   */
  binary: boolean;
  /** Backward moves allowed (SCROLL, or a WITH HOLD cursor once materialized unless NO SCROLL). */
  scroll: boolean;
  noScroll: boolean;
  /**
   * Scrollable without SCROLL (cursor_scroll.ts): its rows are kept only up to work_mem; past it
   * they are dropped and the cursor becomes forward-only (PostgreSQL, which scans backward
   * instead of keeping rows, has no such bound).
   */
  autoScroll?: boolean;
  keptBytes?: number;
  /** It was auto-scrollable and outgrew work_mem: backward moves are refused with a DETAIL saying so. */
  scrollDropped?: boolean;
  /** Microseconds since the epoch (pg_cursors.creation_time). */
  created: number;
  /** The transaction it was declared in; null once it outlived it (WITH HOLD). */
  txn: Txn | null;
  /** The running query; null once every row was read. */
  portal: P | null;
  columns: Column[];
  /** Rows read so far (SCROLL, or materialized for WITH HOLD); null for forward-only cursors. */
  rows: Row[] | null;
  /** PostgreSQL's position: 0 before the first row, k on row k, pulled + 1 after the last. */
  pos: number;
  /** Rows read from the query so far. */
  pulled: number;
  atEnd: boolean;
}

/** What the registry needs of its session. */
export interface CursorHost<P> {
  /** Runs a portal for up to maxRows more rows (0: all); done once it has no more. */
  run(portal: P, maxRows: number): Promise<{ rows: Row[]; done: boolean }>;
  /** Ends a partly read portal's statement (its memory and spill files go). */
  endStatement(portal: P): void;
  /** The statement memory budget (work_mem) in bytes. */
  workMemBytes(): number;
}

export type FetchHow = Extract<Statement, { kind: 'fetch' }>['how'];

/** Rows a cursor reads from its query per step when it must skip or read to the end. */
const cursorPullRowsMax = 4096;

function forwardOnly(c?: SqlCursor<unknown>): PgError {
  return new PgError(SqlState.ObjectNotInPrerequisiteState, 'cursor can only scan forward', {
    hint: 'Declare it with SCROLL option to enable backward scan.',
    ...(c?.scrollDropped ? { detail: `Declared without SCROLL, cursor "${c.name}" keeps its rows for backward moves only up to work_mem.` } : {}),
  });
}

/** A row's approximate memory (as materialize() counts it). */
function rowBytes(r: Row): number {
  return 32 + 8 * r.length + r.reduce((n: number, v) => n + (typeof v === 'string' ? 2 * v.length : 16), 0);
}

export class SqlCursors<P> {
  private readonly byName = new Map<string, SqlCursor<P>>();

  constructor(private readonly host: CursorHost<P>) {}

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): SqlCursor<P> | undefined {
    return this.byName.get(name);
  }

  add(c: SqlCursor<P>): void {
    this.byName.set(c.name, c);
  }

  /** The wire result formats of a simple-query FETCH from this cursor: [1] if BINARY, else [] (text). */
  fetchFormats(name: string): number[] {
    return this.byName.get(name)?.binary === true ? [1] : [];
  }

  values(): SqlCursor<P>[] {
    return [...this.byName.values()];
  }

  /** Reads up to n more rows of the cursor's query (fewer at its end). */
  private async pull(c: SqlCursor<P>, n: number): Promise<Row[]> {
    const portal = c.portal;
    if (c.atEnd || !portal) return [];
    const { rows, done } = await this.host.run(portal, Number.isFinite(n) ? n : 0);
    c.pulled += rows.length;
    if (done) {
      c.atEnd = true;
      c.portal = null;
    }
    if (c.rows) for (const row of rows) c.rows.push(row);
    if (c.autoScroll && c.rows) {
      c.keptBytes = (c.keptBytes ?? 0) + rows.reduce((n, r) => n + rowBytes(r), 0);
      if (c.keptBytes > this.host.workMemBytes()) {
        c.rows = null;
        c.scroll = false;
        c.autoScroll = false;
        c.scrollDropped = true;
      }
    }
    return rows;
  }

  /** Row k (1-based) of the cursor's result, or undefined past its end. Forward-only cursors give only rows after the last read. */
  private async row(c: SqlCursor<P>, k: number): Promise<Row | undefined> {
    if (!c.scroll && k <= c.pos) throw forwardOnly(c);
    if (k <= c.pulled) return c.rows?.[k - 1]; // kept: SCROLL, or read ahead for WITH HOLD
    while (c.pulled < k - 1 && !c.atEnd) await this.pull(c, Math.min(k - 1 - c.pulled, cursorPullRowsMax));
    if (c.atEnd) return undefined;
    const next = await this.pull(c, 1);
    return next[0];
  }

  /** The number of rows of the whole result (reads to the end). */
  private async total(c: SqlCursor<P>): Promise<number> {
    while (!c.atEnd) await this.pull(c, cursorPullRowsMax);
    return c.pulled;
  }

  /** FETCH / MOVE: PostgreSQL's positions (0 before the first row, total + 1 after the last). */
  async fetch(c: SqlCursor<P>, how0: FetchHow, count0: number, move: boolean): Promise<{ rows: Row[]; count: number }> {
    let how = how0;
    let count = count0;
    if ((how === 'forward' || how === 'backward') && count < 0) [how, count] = [how === 'forward' ? 'backward' : 'forward', -count];
    // MOVE counts the rows it passes without keeping them (MOVE ALL over millions of rows).
    const out: Row[] = [];
    let moved = 0;
    const take = (r: Row) => {
      moved++;
      if (!move) out.push(r);
    };
    switch (how) {
      case 'forward':
        for (let i = 0; i < count; i++) {
          const r = await this.row(c, c.pos + 1);
          if (r === undefined) {
            c.pos = c.pulled + 1;
            break;
          }
          c.pos++;
          take(r);
        }
        return { rows: out, count: moved };
      case 'backward':
        if (!c.scroll) throw forwardOnly(c);
        for (let i = 0; i < count; i++) {
          if (c.pos <= 1) {
            c.pos = 0;
            break;
          }
          c.pos--;
          take(c.rows?.[c.pos - 1] as Row);
        }
        return { rows: out, count: moved };
      case 'absolute':
      case 'relative': {
        let target: number;
        if (how === 'relative') target = c.pos + count;
        else if (count >= 0) target = count;
        else {
          if (!c.scroll) throw forwardOnly(c);
          target = (await this.total(c)) + 1 + count;
        }
        if (target <= 0) {
          if (!c.scroll && c.pos > 0) throw forwardOnly(c);
          c.pos = 0;
          return { rows: out, count: 0 };
        }
        const r = await this.row(c, target);
        if (r === undefined) {
          c.pos = c.pulled + 1;
          return { rows: out, count: 0 };
        }
        c.pos = target;
        take(r);
        return { rows: out, count: moved };
      }
    }
  }

  /** Reads the rest of a cursor's rows into memory (a WITH HOLD cursor outliving its transaction). */
  async materialize(c: SqlCursor<P>): Promise<void> {
    const budget = this.host.workMemBytes();
    let bytes = 0;
    if (!c.rows) {
      // Rows already read are gone (not kept without SCROLL); positions count from them.
      c.rows = new Array<Row>(c.pulled);
    }
    if (!c.noScroll) c.scroll = true;
    while (!c.atEnd) {
      const rows = await this.pull(c, cursorPullRowsMax);
      for (const r of rows) bytes += 32 + 8 * r.length + r.reduce((n: number, v) => n + (typeof v === 'string' ? 2 * v.length : 16), 0);
      if (bytes > budget) {
        throw new PgError(SqlState.OutOfMemory, 'out of memory', { detail: `WITH HOLD cursor "${c.name}" needs more than work_mem (${formatPgMemory(budget)}) to outlive its transaction.` });
      }
    }
    c.portal = null;
  }

  drop(c: SqlCursor<P>): void {
    this.byName.delete(c.name);
    if (c.portal) this.host.endStatement(c.portal);
    c.portal = null;
  }

  /** Before COMMIT: WITH HOLD cursors of this transaction read their rows (they outlive it). */
  async holdBeforeCommit(txn: Txn): Promise<void> {
    for (const c of this.byName.values()) if (c.hold && c.txn === txn) await this.materialize(c);
  }

  /** The transaction ended: its cursors close, except WITH HOLD ones of a committed one. */
  endTxn(txn: Txn | null, committed: boolean): void {
    for (const c of [...this.byName.values()]) {
      if (c.txn === null) continue; // held from an earlier transaction
      if (c.hold && committed && c.txn === txn) {
        c.txn = null;
        continue;
      }
      this.drop(c);
    }
  }

  /** pg_cursors: name, statement, is_holdable, is_binary, is_scrollable, creation_time. */
  pgCursors(): Row[] {
    return [...this.byName.values()].map((c) => [c.name, c.text, c.hold, c.binary, c.scroll, c.created]);
  }
}
