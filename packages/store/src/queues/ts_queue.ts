/**
 * TS maintenance: flushing each range's entity groups (every tsFlushIntervalMs while rows wait, or
 * at once past tsFlushRowsMax), and — on the leaseholder — proposing the commit of every rewrite
 * that finished here, so each replica switches it in at the same log index.
 */
import { sleep } from '@strata/common';
import { encodeTsReorganizeCommit } from '@strata/ts';
import { tsFlushIntervalMs, tsFlushRowsMax } from '../constants.js';
import { CommandKind } from '../replica/proposal.js';
import type { Replica } from '../replica/replica.js';
import type { Store } from '../store.js';

export class TsQueue {
  private readonly lastFlush = new Map<number, number>();
  /** Rewrite commits proposed and not yet settled, by `${rangeId}/${tableId}/${start}/${planIndex}`. */
  private readonly proposed = new Set<string>();

  constructor(private readonly store: Store) {}

  tick(): void {
    const now = this.store.timers.now();
    for (const r of this.store.replicas.values()) {
      const rows = this.store.ts.unflushedRows(r.rangeId);
      if (rows > 0 && (rows >= tsFlushRowsMax || now - (this.lastFlush.get(r.rangeId) ?? 0) >= tsFlushIntervalMs)) this.flush(r);
      if (r.holdsValidLease()) this.proposeRewriteCommits(r);
    }
  }

  /** Makes everything the replica applied to its TS groups durable. A failure is retried later. */
  flush(r: Replica): void {
    if (r.failed || !r.isInitialized) return;
    this.lastFlush.set(r.rangeId, this.store.timers.now());
    try {
      this.store.ts.flushRange(r.rangeId, r.appliedIndex);
    } catch (e) {
      // The rows stay in memory and in the log (which keeps them while the group is dirty).
      r.log.error({ err: e }, 'time-series flush failed; will retry');
    }
  }

  /** On the leaseholder: proposes the commit of every rewrite that finished here. */
  proposeRewriteCommits(r: Replica): void {
    if (!r.holdsValidLease()) return;
    for (const f of this.store.ts.finishedRewrites(r.rangeId)) {
      const key = `${r.rangeId}/${f.tableId}/${f.start}/${f.planIndex}`;
      if (this.proposed.has(key)) continue;
      this.proposed.add(key);
      const body = encodeTsReorganizeCommit({ tableId: f.tableId, start: f.start, planIndex: f.planIndex, dedup: f.dedup });
      void r.propose(CommandKind.TsReorganizeCommit, body, r.lease.seq).then(
        () => this.proposed.delete(key),
        () => this.proposed.delete(key),
      );
    }
  }

  /** Resolves once no rewrite of the store's ranges is running or waiting for its commit (COMPRESS). */
  async settled(timeoutMs: number): Promise<void> {
    const timers = this.store.timers;
    const deadline = timers.now() + timeoutMs;
    for (;;) {
      await this.store.ts.idle();
      let pending = false;
      for (const r of this.store.replicas.values()) {
        if (this.store.ts.hasPendingRewrites(r.rangeId)) {
          pending = true;
          this.proposeRewriteCommits(r);
        }
      }
      if (!pending || timers.now() > deadline) return;
      await sleep(timers, 10);
    }
  }
}
