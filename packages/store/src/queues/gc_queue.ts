/**
 * MVCC garbage collection, on the leaseholder of each range: every gcQueueIntervalMs it sends GC
 * requests for the keys written on the range since the last pass (and for keys a slow sweep of
 * the range finds with old versions), with the threshold now − gcTtlMs, lowered to below the
 * oldest read timestamp of a transaction open on this node. The request goes through the range's
 * log (batcheval/cmd_gc.ts): every replica deletes the same versions and raises the same GC
 * threshold, whatever its clock or its open transactions.
 *
 * Each pass also aborts the transactions whose records expired (a coordinator that died with
 * intents written ahead): their intents would otherwise stay until a writer met them, and GC
 * leaves keys with an intent alone.
 */
import { makeTimestamp } from '@strata/common';
import type { Timestamp } from '@strata/common';
import { splitMvccKey } from '@strata/kv';
import type { WriteBatch } from '@strata/kv';
import { gcKeysPerRequestMax, gcPendingKeysMax } from '../constants.js';
import { userSpanOf } from '@strata/kv';
import type { Replica } from '../replica/replica.js';
import { expiredTxnRecords } from '../batcheval/index.js';
import type { Store } from '../store.js';

/** Engine entries one sweep step reads (a full sweep spans many passes). */
const sweepEntriesPerPass = 20_000;

export class GcQueue {
  private readonly pending = new Map<number, Map<string, Buffer>>();
  private readonly sweepFrom = new Map<number, Buffer>();
  private lastPass: number;
  private running = false;
  /** Read timestamps of transactions open on this node (they must keep seeing their snapshot). */
  readonly openTxns = new Map<string, Timestamp>();

  constructor(private readonly store: Store) {
    this.lastPass = store.timers.now();
  }

  written(r: Replica, b: WriteBatch): void {
    let keys = this.pending.get(r.rangeId);
    if (!keys) this.pending.set(r.rangeId, (keys = new Map()));
    for (const w of b.writes) {
      if (keys.size >= gcPendingKeysMax) return; // the sweep finds the rest
      const k = Buffer.from(w.key);
      keys.set(k.toString('latin1'), k);
    }
  }

  /** The GC threshold this node would use now. */
  threshold(): Timestamp {
    let t = this.store.clock.now() - makeTimestamp(this.store.knobs.gcTtlMs, 0);
    for (const ts of this.openTxns.values()) if (ts - 1n < t) t = ts - 1n;
    return t;
  }

  tick(): void {
    const now = this.store.timers.now();
    if (this.running || now - this.lastPass < this.store.knobs.gcQueueIntervalMs) return;
    this.lastPass = now;
    this.running = true;
    void this.pass().finally(() => (this.running = false));
  }

  /** One pass over the ranges this store leads. */
  async pass(): Promise<number> {
    let sent = 0;
    for (const r of this.store.replicas.values()) {
      // A quiesced leader with keys to collect is woken (the GC request waits for its lease).
      const asleep = r.isLeader && r.raw.isQuiesced() && (this.pending.get(r.rangeId)?.size ?? 0) > 0;
      if (!r.holdsValidLease() && !asleep) continue;
      const threshold = this.threshold();
      if (threshold <= r.gcThreshold) continue;
      await this.pushExpiredTxns(r);
      this.sweep(r, threshold);
      const keys = [...(this.pending.get(r.rangeId)?.values() ?? [])];
      this.pending.delete(r.rangeId);
      for (let i = 0; i < keys.length; i += gcKeysPerRequestMax) {
        try {
          await r.send({
            header: { rangeId: r.rangeId, timestamp: 0n, txn: null, now: this.store.clock.now() },
            requests: [{ kind: 'gc', keys: keys.slice(i, i + gcKeysPerRequestMax), threshold }],
          });
          sent++;
        } catch (e) {
          r.log.debug({ err: e }, 'GC request failed; the keys are looked at again by the sweep');
          break;
        }
      }
    }
    return sent;
  }

  private async pushExpiredTxns(r: Replica): Promise<void> {
    for (const rec of expiredTxnRecords(this.store.engine, r.rangeId, this.store.clock.now(), this.store.knobs.txnExpiryMs)) {
      // A transaction whose coordinator runs on this node is alive: its record only looks expired
      // because this process stalled (a long synchronous step, a paused VM) before its heartbeat
      // timer could run. Its coordinator ends it (and a dead process takes this queue with it).
      if (this.openTxns.has(rec.txnId)) continue;
      try {
        await r.send({ header: { rangeId: r.rangeId, timestamp: 0n, txn: null, now: this.store.clock.now() }, requests: [{ kind: 'pushTxn', txnId: rec.txnId }] });
      } catch (e) {
        r.log.debug({ err: e, txn: rec.txnId }, 'aborting an expired transaction failed; the next pass tries again');
        return;
      }
    }
  }

  /** Reads the next stretch of the range's span and notes keys with versions older than the threshold. */
  private sweep(r: Replica, threshold: Timestamp): void {
    if (!r.desc) return;
    const [start, end] = userSpanOf(r.desc);
    let from = this.sweepFrom.get(r.rangeId) ?? start;
    if (Buffer.compare(from, start) < 0) from = start;
    let keys = this.pending.get(r.rangeId);
    if (!keys) this.pending.set(r.rangeId, (keys = new Map()));
    let seen = 0;
    let last: Buffer | null = null;
    let versions = 0;
    for (const { key } of this.store.engine.scan(from, end)) {
      if (++seen > sweepEntriesPerPass || keys.size >= gcPendingKeysMax) {
        this.sweepFrom.set(r.rangeId, Buffer.from(key));
        return;
      }
      const v = splitMvccKey(key);
      if (last && v.key.equals(last)) {
        if (++versions === 1 && v.ts <= threshold) keys.set(last.toString('latin1'), Buffer.from(last));
        continue;
      }
      last = Buffer.from(v.key);
      versions = 0;
    }
    this.sweepFrom.delete(r.rangeId);
  }
}
