/**
 * The SQL layer's access to a store whose ranges it can read directly (single-node mode): what
 * SQL calls today (synchronous reads, KvSender; TS commands and the TS engine, TsSender) on top of
 * the replicas' request path. Commits, refreshes, locks and every TS command go through
 * Replica.send (lease, latches, evaluation, proposal); reads go straight to the engine.
 *
 * Reading without latches is correct here because every transaction's read timestamp is below
 * every commit still in flight on the store (readTimestamp()): a commit evaluated later gets a
 * timestamp from the same clock, above it. SQL moves to sending BatchRequests itself (async
 * reads, any node) with the cluster work; this adapter then goes.
 */
import type { Timestamp } from '@strata/common';
import { TsRequestKind, mvccGet, mvccScan, tablePrefix } from '@strata/kv';
import type { BatchRequest, BatchResponse, CommitRequest, KvRequest, KvResponse, KvSender, KvWrite } from '@strata/kv';
import { scanGroup } from '@strata/ts';
import type { TsHeaderSummarizer, TsScanPage, TsScanSpec } from '@strata/ts';
import type { Replica } from './replica/replica.js';
import type { Store } from './store.js';

/** How long COMPRESS waits for rewrites to be switched in. */
const rewritesSettleMs = 120_000;

export class LocalSender implements KvSender {
  constructor(protected readonly store: Store) {}

  /** The replica of the range holding `key` on this store (its range id routes requests). */
  protected replicaOf(key: Uint8Array): Replica {
    return this.store.replicaFor(key);
  }

  private replicaForTable(tableId: number): Replica {
    return this.replicaOf(tablePrefix(tableId));
  }

  /** Sends a batch to the range's leaseholder: here, the local replica (ClusterSender: wherever it is). */
  protected sendBatch(r: Replica, ba: BatchRequest): Promise<BatchResponse> {
    return r.send(ba);
  }

  private async request(r: Replica, req: KvRequest, ts: Timestamp, txnId: string | null = null): Promise<KvResponse> {
    const clock = this.store.clock;
    const ba: BatchRequest = {
      header: { rangeId: r.rangeId, timestamp: ts, txn: txnId ? { id: txnId, readTs: ts, uncertaintyLimit: ts, observed: [] } : null, now: clock.now() },
      requests: [req],
    };
    const res = await this.sendBatch(r, ba);
    return res.responses[0] as KvResponse;
  }

  /** A read timestamp below every commit still in flight on the store (see the class comment). */
  protected readTimestamp(): Promise<Timestamp> {
    let ts = this.store.clock.now();
    for (const r of this.store.replicas.values()) for (const c of r.inflightCommits.keys()) if (c <= ts) ts = c - 1n;
    return Promise.resolve(ts);
  }

  /** Checks that a synchronous local read may be served at `ts` (ClusterSender: a follower's checks). */
  protected checkLocalRead(_key: Uint8Array, _ts: Timestamp): void {}

  // ---- KvSender --------------------------------------------------------------------------------

  beginTxn(): Promise<Timestamp> {
    return this.readTimestamp();
  }

  trackTxn(txnId: string, readTs: Timestamp): void {
    this.store.queues.gc.openTxns.set(txnId, readTs);
  }

  endTxn(txnId: string): void {
    this.store.queues.gc.openTxns.delete(txnId);
  }

  get(key: Uint8Array, ts: Timestamp, txnId: string | null): Buffer | null {
    this.checkLocalRead(key, ts);
    const v = mvccGet(this.store.engine, key, ts, txnId);
    return v ? v.value : null;
  }

  scan(start: Uint8Array, end: Uint8Array, ts: Timestamp, reverse: boolean, txnId: string | null): Iterable<{ key: Buffer; value: Buffer }> {
    this.checkLocalRead(start, ts);
    return mvccScan(this.store.engine, start, end, ts, reverse, ts, txnId);
  }

  async getManyAsync(keys: Buffer[], ts: Timestamp, txnId: string): Promise<(Buffer | null)[]> {
    if (keys.length === 0) return [];
    // One batch per range (one range in single-node mode).
    const byRange = new Map<Replica, number[]>();
    keys.forEach((key, i) => {
      const r = this.replicaOf(key);
      const list = byRange.get(r);
      if (list) list.push(i);
      else byRange.set(r, [i]);
    });
    const out: (Buffer | null)[] = new Array<Buffer | null>(keys.length).fill(null);
    for (const [r, idx] of byRange) {
      const res = await this.sendBatch(r, {
        header: { rangeId: r.rangeId, timestamp: ts, txn: { id: txnId, readTs: ts, uncertaintyLimit: ts, observed: [] }, now: this.store.clock.now() },
        requests: idx.map((i) => ({ kind: 'get' as const, key: keys[i] as Buffer })),
      });
      res.responses.forEach((x, j) => {
        if (x.kind === 'get') out[idx[j] as number] = x.value;
      });
    }
    return out;
  }

  async scanAsync(start: Buffer, end: Buffer, ts: Timestamp, maxKeys: number, txnId: string): Promise<{ rows: { key: Buffer; value: Buffer }[]; resume: Buffer | null }> {
    const r = this.replicaOf(start);
    const res = await this.request(r, { kind: 'scan', key: start, endKey: end, reverse: false, maxKeys }, ts, txnId);
    return res.kind === 'scan' ? { rows: res.rows, resume: res.resume } : { rows: [], resume: null };
  }

  async acquireLocks(txnId: string, keys: Buffer[]): Promise<void> {
    const first = keys[0];
    if (!first) return;
    await this.request(this.replicaOf(first), { kind: 'acquireLocks', keys }, this.store.clock.now(), txnId);
  }

  releaseLocks(txnId: string): void {
    for (const r of this.store.replicas.values()) r.locks.release(txnId);
  }

  async refresh(req: { txnId: string; readTs: Timestamp; readKeys: Buffer[]; readSpans: [Buffer, Buffer][] }): Promise<Timestamp> {
    const to = await this.readTimestamp();
    if (to <= req.readTs) return req.readTs;
    const r = this.replicaOf(req.readKeys[0] ?? req.readSpans[0]?.[0] ?? tablePrefix(0));
    await this.request(r, { kind: 'refresh', keys: req.readKeys, spans: req.readSpans, from: req.readTs }, to, req.txnId);
    return to;
  }

  async commit(req: CommitRequest & { txnId: string }): Promise<Timestamp> {
    const r = this.replicaOf((req.writes[0]?.key ?? req.intentKeys[0]) as Uint8Array);
    const res = await this.request(r, { kind: 'endTxn', commit: true, writes: req.writes, intentKeys: req.intentKeys, readKeys: req.readKeys, readSpans: req.readSpans }, req.readTs, req.txnId);
    return res.kind === 'endTxn' ? res.commitTs : req.readTs;
  }

  async increment(key: Buffer, delta: bigint): Promise<bigint> {
    const res = await this.request(this.replicaOf(key), { kind: 'increment', key, delta }, this.store.clock.now());
    if (res.kind !== 'increment') throw new Error(`increment: unexpected response ${res.kind}`);
    return res.value;
  }

  async putIntents(txnId: string, readTs: Timestamp, writes: KvWrite[], first: boolean): Promise<void> {
    const r = this.replicaOf(writes[0]?.key as Uint8Array);
    await this.request(r, { kind: 'putIntents', writes, first }, readTs, txnId);
  }

  async heartbeatTxn(txnId: string, anchor: Buffer): Promise<void> {
    await this.request(this.replicaOf(anchor), { kind: 'heartbeatTxn' }, this.store.clock.now(), txnId);
  }

  async abortTxn(txnId: string, intentKeys: Buffer[]): Promise<void> {
    const first = intentKeys[0];
    if (!first) return;
    await this.request(this.replicaOf(first), { kind: 'endTxn', commit: false, writes: [], intentKeys, readKeys: [], readSpans: [] }, this.store.clock.now(), txnId);
  }

  // ---- TS (the SQL layer's TsSender) --------------------------------------------------------------

  private async ts(tableId: number, op: TsRequestKind, payload: Buffer, freeBytesMin = 0): Promise<void> {
    await this.request(this.replicaForTable(tableId), { kind: 'ts', op, tableId, payload, freeBytesMin }, this.store.clock.now());
  }

  proposeTs(tableId: number, payload: Buffer, freeBytesMin: number): Promise<void> {
    return this.ts(tableId, TsRequestKind.Write, payload, freeBytesMin);
  }

  proposeTsDelete(tableId: number, payload: Buffer): Promise<void> {
    return this.ts(tableId, TsRequestKind.Delete, payload);
  }

  proposeTsTagUpdate(tableId: number, payload: Buffer): Promise<void> {
    return this.ts(tableId, TsRequestKind.TagUpdate, payload);
  }

  proposeTsAlter(tableId: number, payload: Buffer): Promise<void> {
    return this.ts(tableId, TsRequestKind.Alter, payload);
  }

  proposeTsReorganize(tableId: number, payload: Buffer): Promise<void> {
    return this.ts(tableId, TsRequestKind.Reorganize, payload);
  }

  proposeTsRetain(tableId: number, beforeUs: number): Promise<void> {
    const b = Buffer.alloc(12);
    b.writeUInt32BE(tableId, 0);
    b.writeDoubleBE(beforeUs, 4);
    return this.ts(tableId, TsRequestKind.Retain, b);
  }

  proposeTsDrop(tableId: number): Promise<void> {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(tableId, 0);
    return this.ts(tableId, TsRequestKind.Drop, b);
  }

  /** Resolves once reorganization started so far has finished and been switched in (COMPRESS). */
  tsReorganized(): Promise<void> {
    return this.store.queues.ts.settled(rewritesSettleMs);
  }

  /** A page of a TS scan, through the leaseholder of the range holding the table. */
  async tsScan(spec: TsScanSpec, after: number | null, rowsMax: number, summarize: TsHeaderSummarizer | null): Promise<TsScanPage> {
    const r = this.replicaForTable(spec.tableId);
    const res = await this.request(r, { kind: 'tsScan', spec, after, rowsMax, ...(summarize ? { summarize } : {}) }, this.store.clock.now());
    return res.kind === 'tsScan' ? res.page : { layout: null, batches: [], resumeAfter: null };
  }

  /**
   * The same page without waiting, for a scan inside a synchronous drain (a subquery evaluated in
   * an expression): served by the local replica, which must hold the lease.
   */
  tsScanSync(spec: TsScanSpec, after: number | null, rowsMax: number, summarize: TsHeaderSummarizer | null): TsScanPage {
    const r = this.replicaForTable(spec.tableId);
    if (!r.holdsValidLease()) throw r.notLeaseholder();
    return scanGroup(this.store.ts.group(spec.tableId, r.rangeId), spec, after, rowsMax, summarize);
  }
}
