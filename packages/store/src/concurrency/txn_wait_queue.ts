/**
 * Writers waiting for other transactions' intents (CockroachDB's txnWaitQueue, on one replica).
 * A write that meets another transaction's intent releases its latches and waits here until
 * that transaction ends (its commit or abort applies on this replica and wakes the waiters), its
 * record expires (the waiter pushes it: pushTxn), or the wait exceeds the intent wait bound
 * (40001). Before waiting, a transactional waiter adds the edge waiter → holder to a waits-for
 * graph; an edge that closes a cycle is a deadlock, and the waiter that closed it fails at once
 * with 40P01 (its rollback frees the others).
 *
 * Not replicated: a lease change empties it (waiters wake and find out where the lease went).
 */
import { PgError, SqlState } from '@strata/common';
import type { Timers } from '@strata/common';
import { intentWaitersMax } from '../constants.js';

export class TxnWaitQueue {
  /** Callbacks waiting for a transaction to end, by its id. */
  private readonly waiting = new Map<string, Set<() => void>>();
  /** Waits-for edges: a waiting transaction → the transaction it waits for. */
  private readonly waitsFor = new Map<string, string>();
  /** Waits since the replica started, pushes of expired transactions, deadlocks found. */
  readonly stats = { waits: 0, pushes: 0, deadlocks: 0 };

  constructor(private readonly timers: Timers) {}

  /**
   * Records that `waiter` (null: not a transaction) waits for `holder`. Throws 40P01 if that
   * closes a cycle of waits. Returns the function that removes the edge.
   */
  enter(waiter: string | null, holder: string): () => void {
    if (waiter === null) return () => {};
    for (let t: string | undefined = holder, hops = 0; t !== undefined && hops <= this.waitsFor.size; t = this.waitsFor.get(t), hops++) {
      if (t === waiter) {
        this.stats.deadlocks++;
        throw new PgError(SqlState.DeadlockDetected, `deadlock detected: transaction ${waiter} waits for ${holder}, which waits (through others) for it`, {
          hint: 'retry the transaction; writing rows in a consistent order avoids this',
        });
      }
    }
    this.waitsFor.set(waiter, holder);
    return () => {
      if (this.waitsFor.get(waiter) === holder) this.waitsFor.delete(waiter);
    };
  }

  /** Resolves when `txnId` ends on this replica or after `ms`, whichever is first. */
  wait(txnId: string, ms: number): Promise<void> {
    let set = this.waiting.get(txnId);
    if (!set) this.waiting.set(txnId, (set = new Set()));
    if (set.size >= intentWaitersMax) {
      return Promise.reject(new PgError(SqlState.SerializationFailure, `restart transaction: too many writers waiting for transaction ${txnId}`));
    }
    this.stats.waits++;
    const waiters = set;
    return new Promise((resolve) => {
      const done = () => {
        this.timers.clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiting.get(txnId) === waiters) this.waiting.delete(txnId);
        resolve();
      };
      const timer = this.timers.setTimeout(done, ms);
      waiters.add(done);
    });
  }

  /** A transaction's end applied here: its waiters re-evaluate. */
  finished(txnId: string): void {
    const set = this.waiting.get(txnId);
    if (!set) return;
    for (const w of [...set]) w();
  }

  /** Wakes everyone (the lease moved: they retry and are redirected). */
  clear(): void {
    for (const set of [...this.waiting.values()]) for (const w of [...set]) w();
    this.waitsFor.clear();
  }
}
