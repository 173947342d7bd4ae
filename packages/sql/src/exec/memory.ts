/**
 * Memory accounting for SQL execution, CockroachDB-style: every structure that grows with a
 * statement's input (sort buffers, hash tables, window partitions, aggregate states, materialized
 * CTEs and subqueries) reserves an estimate of its bytes first, from two budgets:
 *
 * - the statement's (`work_mem`, a session setting): all operators of one statement together;
 * - the node's (`--max-sql-memory`): all statements of all sessions together.
 *
 * A reservation that does not fit is refused: operators that can spill (sort, hash aggregation)
 * write to temporary files instead; the others fail with 53200. Nothing grows until the process
 * dies.
 *
 * INVARIANT: pool.used = Σ used of its open statement budgets; a statement's used = Σ of its
 * accounts' used; closing a statement budget returns everything it held.
 *
 * Row sizes are estimated, not measured (measuring the JS heap per row is not possible cheaply):
 * see estimateValueBytes.
 */
import { PgError, SqlState, assert } from '@strata/common';
import { Decimal } from '../types/numeric.js';
import type { Value } from '../types/types.js';
import type { Row } from './context.js';

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** The node's budget: every statement's reservations together. */
export class MemoryPool {
  used = 0;
  constructor(readonly limitBytes: number) {
    assert(limitBytes > 0, 'a memory pool needs a positive limit');
  }

  tryReserve(n: number): boolean {
    if (this.used + n > this.limitBytes) return false;
    this.used += n;
    return true;
  }

  release(n: number): void {
    this.used -= n;
    assert(this.used >= 0, 'memory pool released more than it reserved');
  }

  /** A new statement's budget of limitBytes (work_mem) within this pool. */
  statement(limitBytes: number): StatementMemory {
    return new StatementMemory(this, limitBytes);
  }
}

/** One statement's budget (work_mem), drawn from the node's pool. */
export class StatementMemory {
  used = 0;
  /** The most this statement held at once (EXPLAIN ANALYZE-style reporting, tests). */
  peak = 0;
  private closed = false;

  constructor(
    readonly pool: MemoryPool,
    readonly limitBytes: number,
  ) {}

  /** Reserves n bytes within the statement's and the node's budgets. */
  tryReserve(n: number, overStatementLimit = false): boolean {
    assert(!this.closed, 'memory reserved after the statement ended');
    if (!overStatementLimit && this.used + n > this.limitBytes) return false;
    if (!this.pool.tryReserve(n)) return false;
    this.used += n;
    if (this.used > this.peak) this.peak = this.used;
    return true;
  }

  release(n: number): void {
    this.used -= n;
    this.pool.release(n);
    assert(this.used >= 0, 'statement memory released more than it reserved');
  }

  /** The statement ended: whatever its accounts still hold goes back to the pool. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.release(this.used);
    this.used = 0;
  }

  account(what: string): MemoryAccount {
    return new MemoryAccount(this, what);
  }
}

/**
 * One operator's share. Reserves in chunks of accountChunkBytes so the pools are touched rarely.
 */
export class MemoryAccount {
  used = 0;
  private reserved = 0;

  constructor(
    readonly stmt: StatementMemory,
    readonly what: string,
  ) {}

  /**
   * Grows by n bytes if the budgets allow; false when they do not (the caller spills). Every
   * account may hold accountFloorBytes even when the other operators of its statement took the
   * whole work_mem (a sort above a hash aggregation that is still emitting its groups): a
   * spilling operator then works in small steps instead of failing. The node's budget is never
   * exceeded.
   */
  tryGrow(n: number): boolean {
    if (this.used + n > this.reserved) {
      const want = Math.max(n, accountChunkBytes);
      if (!this.stmt.tryReserve(want)) {
        // A smaller reservation may still fit exactly, or the floor may allow it.
        const floor = this.used + n <= accountFloorBytes;
        if (!this.stmt.tryReserve(n) && !(floor && this.stmt.tryReserve(n, true))) return false;
        this.reserved += n;
      } else this.reserved += want;
    }
    this.used += n;
    return true;
  }

  /** Grows by n bytes or fails the statement with 53200. */
  grow(n: number): void {
    if (!this.tryGrow(n)) throw outOfMemory(this.what, this.stmt);
  }

  shrink(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  /** Returns everything (the operator spilled or finished). */
  clear(): void {
    this.stmt.release(this.reserved);
    this.reserved = 0;
    this.used = 0;
  }
}

/** Reservations are taken from the pools this many bytes at a time. */
export const accountChunkBytes = 64 * 1024;

/** What any one operator may hold even when its statement's work_mem is spent (see tryGrow). */
export const accountFloorBytes = 256 * 1024;

export function outOfMemory(what: string, stmt: StatementMemory): PgError {
  const nodeFull = stmt.pool.used + accountChunkBytes > stmt.pool.limitBytes;
  return new PgError(SqlState.OutOfMemory, 'out of memory', {
    detail: nodeFull
      ? `${what} needs more memory than the node's SQL budget has left (--max-sql-memory ${formatBytes(stmt.pool.limitBytes)}, ${formatBytes(stmt.pool.used)} in use by all statements).`
      : `${what} needs more than this statement's budget (work_mem ${formatBytes(stmt.limitBytes)}).`,
    hint: nodeFull
      ? 'Retry when other statements have finished, or start the node with a larger --max-sql-memory.'
      : 'Raise work_mem (SET work_mem = ...), or reduce the rows this step must hold.',
  });
}

/**
 * The estimated heap bytes of a value. Numbers and booleans are 8 (a slot); strings 16 + 2 per
 * UTF-16 unit (V8 keeps one-byte strings at 1 per char, so this overestimates ASCII, on purpose);
 * bigints 24; Buffers 64 + length; numerics 48; arrays 16 + 8 per slot + their elements; other
 * objects (intervals, json) 64 plus the text length of json. Cheap: O(1) except for arrays.
 */
export function estimateValueBytes(v: Value): number {
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return 8;
  if (typeof v === 'string') return 16 + 2 * v.length;
  if (typeof v === 'bigint') return 24;
  if (Buffer.isBuffer(v)) return 64 + v.length;
  if (v instanceof Decimal) return 48;
  if (Array.isArray(v)) {
    let n = 16 + 8 * v.length;
    for (const x of v) n += typeof x === 'number' || x === null ? 0 : estimateValueBytes(x);
    return n;
  }
  const json = (v as { json?: unknown }).json;
  return 64 + (typeof json === 'string' ? json.length : 0);
}

/** A row: 32 for the array object plus 8 per slot plus its values. */
export function estimateRowBytes(r: Row): number {
  let n = 32;
  for (let i = 0; i < r.length; i++) {
    const v = r[i] as Value;
    n += typeof v === 'number' || v === null || typeof v === 'boolean' ? 8 : 8 + estimateValueBytes(v);
  }
  return n;
}

const pgUnits: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };

/** A memory setting in PostgreSQL's syntax ('64MB', '4096' = kB, 1024-based units) in bytes. */
export function parsePgMemory(name: string, value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m ? pgUnits[(m[2] as string).toLowerCase() || 'kb'] : undefined;
  if (!m || unit === undefined) {
    throw new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "${name}": "${value}"`, {
      hint: 'Valid units for this parameter are "B", "kB", "MB", "GB", and "TB".',
    });
  }
  const n = Math.round(Number(m[1]) * unit);
  if (n < 64 * 1024 || n > 2 * 1024 ** 4)
    throw new PgError(
      SqlState.InvalidParameterValue,
      `${n / 1024} kB is outside the valid range for parameter "${name}" (64 kB .. 2147483647 kB)`,
    );
  return n;
}

/** Bytes in PostgreSQL's SHOW format (the largest unit that divides exactly). */
export function formatPgMemory(n: number): string {
  for (const [u, f] of [
    ['TB', 1024 ** 4],
    ['GB', 1024 ** 3],
    ['MB', 1024 ** 2],
    ['kB', 1024],
  ] as const) {
    if (n % f === 0) return `${n / f}${u}`;
  }
  return `${Math.ceil(n / 1024)}kB`;
}
