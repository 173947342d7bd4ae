/**
 * Exclusive row locks taken by UPDATE and DELETE before they write (held until the transaction
 * ends), with a FIFO wait queue per key: writers of a hot row queue instead of aborting each other.
 * The table lives on the leaseholder and is not replicated (a lease change forgets it: the
 * transactions' commit-time refresh still guarantees serializability; locks only order them).
 * A wait longer than lockWaitMs fails with 40001 — this also breaks deadlocks.
 */
import { PgError, SqlState } from '@strata/common';
import type { Timers } from '@strata/common';
import { prettyKey } from '@strata/kv';
import { lockWaitMs, lockWaitersMax } from '../constants.js';

interface Lock {
  holder: string;
  waiters: { txnId: string; grant: () => void }[];
}

export class LockTable {
  private readonly locks = new Map<string, Lock>();
  private readonly heldBy = new Map<string, Set<string>>();
  /** Lock waits since the table was created, and waits that timed out. */
  readonly stats = { waits: 0, timeouts: 0 };

  constructor(private readonly timers: Timers) {}

  async acquire(txnId: string, keys: Buffer[]): Promise<void> {
    // A fixed order per call avoids deadlocks between two multi-row statements.
    const sorted = [...new Set(keys.map((k) => k.toString('latin1')))].sort();
    for (const k of sorted) await this.acquireOne(txnId, k);
  }

  private acquireOne(txnId: string, k: string): Promise<void> {
    const l = this.locks.get(k);
    const mine = () => {
      let s = this.heldBy.get(txnId);
      if (!s) this.heldBy.set(txnId, (s = new Set()));
      s.add(k);
    };
    if (!l) {
      this.locks.set(k, { holder: txnId, waiters: [] });
      mine();
      return Promise.resolve();
    }
    if (l.holder === txnId) return Promise.resolve();
    if (l.waiters.length >= lockWaitersMax) {
      return Promise.reject(new PgError(SqlState.SerializationFailure, `restart transaction: too many transactions waiting for ${prettyKey(Buffer.from(k, 'latin1'))}`));
    }
    this.stats.waits++;
    return new Promise<void>((resolve, reject) => {
      const w = {
        txnId,
        grant: () => {
          this.timers.clearTimeout(timer);
          mine();
          resolve();
        },
      };
      const timer = this.timers.setTimeout(() => {
        const i = l.waiters.indexOf(w);
        if (i >= 0) l.waiters.splice(i, 1);
        this.stats.timeouts++;
        reject(new PgError(SqlState.SerializationFailure, `restart transaction: lock wait on ${prettyKey(Buffer.from(k, 'latin1'))} timed out after ${lockWaitMs} ms (possible deadlock)`, { hint: 'retry the transaction' }));
      }, lockWaitMs);
      l.waiters.push(w);
    });
  }

  release(txnId: string): void {
    const keys = this.heldBy.get(txnId);
    if (!keys) return;
    this.heldBy.delete(txnId);
    for (const k of keys) {
      const l = this.locks.get(k);
      if (!l || l.holder !== txnId) continue;
      const next = l.waiters.shift();
      if (next) {
        l.holder = next.txnId;
        next.grant();
      } else this.locks.delete(k);
    }
  }

  /** Drops every lock (the lease moved away): waiters are told to retry. */
  clear(): void {
    for (const l of this.locks.values()) for (const w of l.waiters) w.grant();
    this.locks.clear();
    this.heldBy.clear();
  }
}
