/**
 * The transaction coordinator (CockroachDB's TxnCoordSender, simplified): a transaction reads at
 * its read timestamp through the DistSender, buffers its writes, records what it read (the refresh
 * footprint), and commits them in one EndTxn to the range that holds them (1PC).
 *
 * Uncertainty: a read may meet a value written after the read timestamp but within the clock
 * uncertainty (read timestamp + maximum offset, lowered per node by the clock reading the
 * transaction observed there). The transaction then refreshes what it read so far to that value's
 * timestamp and continues there, or fails with 40001 if something it read changed.
 *
 * Large transactions write ahead (flush) their buffered writes as intents once they pass
 * `flushBytes` (at the next read) or when asked; the transaction record in the range is then kept
 * alive by a heartbeat, the commit resolves the intents, and a failed commit or a rollback
 * removes them (@strata/kv txn.ts says the same for the SQL coordinator).
 *
 * INVARIANT: a transaction sees its own writes (reads consult the write buffer first, the
 *   replicas return its intents' provisional values).
 * INVARIANT: after commit() or rollback() the transaction accepts no further operations.
 */
import { randomUUID } from 'node:crypto';
import { PgError, ReadWithinUncertaintyIntervalError, SqlState, assert } from '@strata/common';
import type { HybridClock, TimerHandle, Timers, Timestamp } from '@strata/common';
import { txnFlushBytes, txnHeartbeatIntervalMs } from '@strata/kv';
import type { BatchSender, KvRequest, KvResponse, KvWrite, TxnMeta } from '@strata/kv';

/** Uncertainty restarts one read may go through before the transaction gives up (40001). */
const uncertaintyRetriesMax = 10;

/** Keys read per Scan request (a page; the scan continues at the resume key). */
export const scanPageKeys = 1000;

type Status = 'open' | 'committed' | 'aborted';

const keyString = (key: Uint8Array) => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');

export interface TxnOptions {
  sender: BatchSender;
  clock: HybridClock;
  /** The maximum clock offset between nodes (HLC units): the uncertainty window. */
  maxOffset: Timestamp;
  /** The range holding a key (the cluster's ranges are found through the range cache). */
  rangeOf: (key: Uint8Array) => number;
  /** Timers for the heartbeat of a transaction with intents. */
  timers: Timers;
  /** Buffered write bytes above which the next read flushes them as intents (default txnFlushBytes). */
  flushBytes?: number;
  /** Heartbeat interval of a transaction with intents (default txnHeartbeatIntervalMs). */
  heartbeatMs?: number;
}

export class KvTxn {
  readonly id: string = randomUUID();
  readTs: Timestamp;
  private readonly uncertaintyLimit: Timestamp;
  private readonly observed = new Map<number, Timestamp>();
  private status: Status = 'open';
  private readonly writes = new Map<string, KvWrite>();
  private readonly readKeys = new Map<string, Buffer>();
  private readonly readSpans: [Buffer, Buffer][] = [];
  private readonly lockedRanges = new Set<number>();
  private writeBytes = 0;
  /** Keys written ahead as intents (all in `intentRange`). */
  private readonly intentKeys = new Map<string, Buffer>();
  private intentRange = 0;
  private heartbeat: TimerHandle | null = null;

  constructor(private readonly o: TxnOptions) {
    this.readTs = o.clock.now();
    this.uncertaintyLimit = this.readTs + o.maxOffset;
  }

  private meta(): TxnMeta {
    return { id: this.id, readTs: this.readTs, uncertaintyLimit: this.uncertaintyLimit, observed: [...this.observed].map(([nodeId, ts]) => ({ nodeId, ts })) };
  }

  private async send(rangeId: number, req: KvRequest, ts = this.readTs): Promise<KvResponse> {
    const res = await this.o.sender.send({ header: { rangeId, timestamp: ts, txn: this.meta(), now: this.o.clock.now() }, requests: [req] });
    if (!this.observed.has(res.nodeId)) this.observed.set(res.nodeId, res.now);
    return res.responses[0] as KvResponse;
  }

  /** Runs a read, moving the read timestamp past uncertain values (refreshing what was read). */
  private async read(rangeId: number, req: KvRequest): Promise<KvResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(rangeId, req);
      } catch (e) {
        if (!(e instanceof ReadWithinUncertaintyIntervalError) || attempt >= uncertaintyRetriesMax) throw e;
        await this.refreshTo(e.valueTs);
      }
    }
  }

  /** Moves the read timestamp to `ts` if nothing read so far changed in between (else 40001). */
  private async refreshTo(ts: Timestamp): Promise<void> {
    if (ts <= this.readTs) return;
    const byRange = new Map<number, { keys: Buffer[]; spans: [Buffer, Buffer][] }>();
    const of = (rangeId: number) => {
      let x = byRange.get(rangeId);
      if (!x) byRange.set(rangeId, (x = { keys: [], spans: [] }));
      return x;
    };
    for (const k of this.readKeys.values()) of(this.o.rangeOf(k)).keys.push(k);
    for (const s of this.readSpans) of(this.o.rangeOf(s[0])).spans.push(s);
    for (const [rangeId, x] of byRange) await this.send(rangeId, { kind: 'refresh', keys: x.keys, spans: x.spans, from: this.readTs }, ts);
    this.readTs = ts;
  }

  private checkOpen(): void {
    assert(this.status === 'open', () => `transaction is ${this.status}`);
  }

  async get(key: Buffer): Promise<Buffer | null> {
    this.checkOpen();
    if (this.writeBytes >= (this.o.flushBytes ?? txnFlushBytes)) await this.flush();
    const own = this.writes.get(keyString(key));
    if (own) return own.value === null ? null : Buffer.from(own.value);
    this.readKeys.set(keyString(key), key);
    const r = await this.read(this.o.rangeOf(key), { kind: 'get', key });
    return r.kind === 'get' ? r.value : null;
  }

  /** Live key/values in [start, end) (the range holding `start` must hold the whole span), own writes merged. */
  async scan(start: Buffer, end: Buffer, limit = Infinity): Promise<{ key: Buffer; value: Buffer }[]> {
    this.checkOpen();
    if (this.writeBytes >= (this.o.flushBytes ?? txnFlushBytes)) await this.flush();
    this.readSpans.push([start, end]);
    const rangeId = this.o.rangeOf(start);
    const rows: { key: Buffer; value: Buffer }[] = [];
    for (let from: Buffer | null = start; from && rows.length < limit; ) {
      const r = await this.read(rangeId, { kind: 'scan', key: from, endKey: end, reverse: false, maxKeys: Math.min(scanPageKeys, limit - rows.length) });
      if (r.kind !== 'scan') break;
      rows.push(...r.rows);
      from = r.resume;
    }
    const merged = new Map(rows.map((kv) => [keyString(kv.key), kv]));
    for (const [k, w] of this.writes) {
      if (Buffer.compare(w.key as Buffer, start) < 0 || Buffer.compare(w.key as Buffer, end) >= 0) continue;
      if (w.value === null) merged.delete(k);
      else merged.set(k, { key: Buffer.from(w.key), value: Buffer.from(w.value) });
    }
    return [...merged.values()].sort((a, b) => Buffer.compare(a.key, b.key)).slice(0, limit === Infinity ? undefined : limit);
  }

  put(key: Buffer, value: Buffer): void {
    this.checkOpen();
    this.writes.set(keyString(key), { key, value });
    this.writeBytes += key.length + value.length;
  }

  del(key: Buffer): void {
    this.checkOpen();
    this.writes.set(keyString(key), { key, value: null });
    this.writeBytes += key.length;
  }

  /** Writes the buffered writes ahead as intents (one range). */
  async flush(): Promise<void> {
    this.checkOpen();
    const writes = [...this.writes.entries()];
    if (writes.length === 0) return;
    const rangeId = this.o.rangeOf((writes[0] as [string, KvWrite])[1].key);
    for (const [, w] of writes) {
      if (this.o.rangeOf(w.key) !== rangeId || (this.intentKeys.size > 0 && rangeId !== this.intentRange)) throw new PgError(SqlState.FeatureNotSupported, 'transactions spanning ranges are not supported yet');
    }
    const first = this.intentKeys.size === 0;
    this.intentRange = rangeId;
    for (const [k, w] of writes) this.intentKeys.set(k, Buffer.from(w.key));
    await this.send(rangeId, { kind: 'putIntents', writes: writes.map(([, w]) => w), first });
    for (const [k, w] of writes) if (this.writes.get(k) === w) this.writes.delete(k);
    this.writeBytes = 0;
    for (const w of this.writes.values()) this.writeBytes += w.key.length + (w.value?.length ?? 0);
    if (first) this.startHeartbeat();
  }

  private startHeartbeat(): void {
    const timers = this.o.timers;
    const beat = () => {
      this.heartbeat = timers.setTimeout(() => {
        if (this.heartbeat === null) return;
        this.send(this.intentRange, { kind: 'heartbeatTxn' }).then(beat, () => (this.heartbeat = null));
      }, this.o.heartbeatMs ?? txnHeartbeatIntervalMs);
    };
    beat();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== null) this.o.timers.clearTimeout(this.heartbeat);
    this.heartbeat = null;
  }

  /**
   * Stops the heartbeat and forgets the transaction without cleaning up (a coordinator that
   * died): its intents stay until a writer pushes it after its record expires.
   */
  abandon(): void {
    this.status = 'aborted';
    this.stopHeartbeat();
  }

  /**
   * Locks rows this transaction is about to modify (waiting behind other holders), then moves the
   * read timestamp to now so the statement reads what those holders committed.
   */
  async lockForWrite(keys: Buffer[]): Promise<void> {
    this.checkOpen();
    if (keys.length === 0) return;
    const rangeId = this.o.rangeOf(keys[0] as Buffer);
    this.lockedRanges.add(rangeId);
    await this.send(rangeId, { kind: 'acquireLocks', keys });
    await this.refreshTo(this.o.clock.now());
  }

  /** Commits: one EndTxn to the range holding the writes. Resolves with the commit timestamp (null: read-only). */
  async commit(): Promise<Timestamp | null> {
    this.checkOpen();
    this.status = 'committed';
    const intentKeys = [...this.intentKeys.values()];
    try {
      if (this.writes.size === 0 && intentKeys.length === 0) return null;
      const writes = [...this.writes.values()];
      const rangeId = intentKeys.length > 0 ? this.intentRange : this.o.rangeOf(writes[0]?.key as Uint8Array);
      for (const w of writes) {
        if (this.o.rangeOf(w.key) !== rangeId) throw new PgError(SqlState.FeatureNotSupported, 'transactions spanning ranges are not supported yet');
      }
      const r = await this.send(rangeId, { kind: 'endTxn', commit: true, writes, intentKeys, readKeys: [...this.readKeys.values()], readSpans: this.readSpans });
      return r.kind === 'endTxn' ? r.commitTs : null;
    } catch (e) {
      // Intents still there are this transaction's and must go (an abort evaluated after an
      // in-flight commit waits for it on the latches and then finds nothing to remove).
      if (intentKeys.length > 0) void this.abortIntents(intentKeys);
      throw e;
    } finally {
      this.stopHeartbeat();
      await this.releaseLocks();
    }
  }

  async rollback(): Promise<void> {
    if (this.status !== 'open') return;
    this.status = 'aborted';
    this.writes.clear();
    this.stopHeartbeat();
    if (this.intentKeys.size > 0) await this.abortIntents([...this.intentKeys.values()]);
    await this.releaseLocks();
  }

  /** Removes the transaction's intents; a failure leaves them to a writer's push after the record expires. */
  private async abortIntents(intentKeys: Buffer[]): Promise<void> {
    try {
      await this.send(this.intentRange, { kind: 'endTxn', commit: false, writes: [], intentKeys, readKeys: [], readSpans: [] });
    } catch {
      // unreachable or aborted already: see above
    }
  }

  private async releaseLocks(): Promise<void> {
    for (const rangeId of this.lockedRanges) {
      try {
        await this.send(rangeId, { kind: 'releaseLocks' });
      } catch {
        // The lock table lives with the lease; a leaseholder that went away took the locks with it.
      }
    }
    this.lockedRanges.clear();
  }
}
