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
import { RangeKeyMismatchError, RangeNotFoundError } from '@strata/common';
import type { Timestamp } from '@strata/common';
import { TsRequestKind, mvccGet, mvccScan, tablePrefix } from '@strata/kv';
import type {
  BatchRequest,
  BatchResponse,
  CommitRequest,
  KvRequest,
  KvResponse,
  KvSender,
  KvWrite,
  TsRangeEntry,
} from '@strata/kv';
import { hashPointOf, scanGroup, splitTsWrite } from '@strata/ts';
import type { TsHeaderSummarizer, TsScanPage, TsScanSpec } from '@strata/ts';
import type { Replica } from './replica/replica.js';
import type { Store } from './store.js';
import { metaRangeId, readTsRangeMap } from './ts_ranges.js';

/** How long COMPRESS waits for rewrites to be switched in. */
const rewritesSettleMs = 120_000;

export class LocalSender implements KvSender {
  constructor(protected readonly store: Store) {}

  /** The replica of the range holding `key` on this store (its range id routes requests). */
  protected replicaOf(key: Uint8Array): Replica {
    return this.store.replicaFor(key);
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
  //
  // A table split into hash-point ranges (ts_ranges.ts) is written by dividing each write by range
  // (ts route.ts: a device's rows go to the range of its hash point; atomic per range, as in KWDB)
  // and read range after range; every other TS command goes to each of its ranges. A table that
  // is not split lives in the first range.

  /** Ranges each new TS table is split into when ts.ranges_per_table is 0 (ClusterSender: more). */
  readonly tsRangesPerTableDefault: number = 1;

  /** First pages of a split table's ranges, requested at a scan's start (by the scan's spec). */
  private readonly tsPrefetch = new WeakMap<TsScanSpec, Map<number, Promise<TsScanPage>>>();

  /** The maps of split tables (null: not split), read from the first range's replica here. */
  private readonly tsMaps = new Map<number, TsRangeEntry[] | null>();

  protected tsRangeMap(tableId: number): TsRangeEntry[] | null {
    let m = this.tsMaps.get(tableId);
    if (m === undefined) {
      m = readTsRangeMap(this.store.engine, tableId);
      this.tsMaps.set(tableId, m);
    }
    return m;
  }

  /** Sends a TS request to a range (here: the local replica; ClusterSender: its leaseholder). */
  protected sendToRange(ba: BatchRequest): Promise<BatchResponse> {
    return this.store.send(ba);
  }

  private async rangeRequest(rangeId: number, req: KvRequest): Promise<KvResponse> {
    const clock = this.store.clock;
    const res = await this.sendToRange({
      header: { rangeId, timestamp: clock.now(), txn: null, now: clock.now() },
      requests: [req],
    });
    return res.responses[0] as KvResponse;
  }

  /** Waits until this node has applied what the leaseholders have (ClusterSender); nothing here. */
  async sync(): Promise<void> {}

  /**
   * Runs `f` with the table's map; a first range that says the table is split after all (this
   * node had not applied the split yet) makes it catch up and run `f` once more. Only a request
   * sent without a map is retried: a split table's requests went to the ranges of a map that
   * never changes.
   */
  private async withTsMap<T>(tableId: number, f: (map: TsRangeEntry[] | null) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const map = this.tsRangeMap(tableId);
      try {
        return await f(map);
      } catch (e) {
        if (!(e instanceof RangeKeyMismatchError) || map !== null || attempt >= tsMapRetriesMax) throw e;
        this.tsMaps.delete(tableId);
        await this.sync();
      }
    }
  }

  private ts(tableId: number, op: TsRequestKind, payload: Buffer, freeBytesMin = 0): Promise<void> {
    return this.withTsMap(tableId, async (map) => {
      if (!map) {
        await this.rangeRequest(metaRangeId, { kind: 'ts', op, tableId, payload, freeBytesMin });
        return;
      }
      if (op !== TsRequestKind.Write) {
        await Promise.all(
          map.map((e) =>
            this.rangeRequest(e.rangeId, {
              kind: 'ts',
              op,
              tableId,
              payload,
              freeBytesMin,
              hashSpan: [e.hashStart, e.hashEnd],
            }),
          ),
        );
        return;
      }
      const hashNum = (map[map.length - 1] as TsRangeEntry).hashEnd;
      const parts = splitTsWrite(payload, hashNum, (h) => rangeIndexOf(map, h));
      await Promise.all(
        [...parts].map(([i, part]) => {
          const e = map[i] as TsRangeEntry;
          return this.rangeRequest(e.rangeId, {
            kind: 'ts',
            op,
            tableId,
            payload: part,
            freeBytesMin,
            hashSpan: [e.hashStart, e.hashEnd],
          });
        }),
      );
    });
  }

  /**
   * Splits a new TS table into `pieces` hash-point ranges (before its descriptor commits: the
   * map must be applied before anyone can see the table). pieces <= 1: not split.
   */
  async splitTsTable(tableId: number, hashNum: number, pieces: number): Promise<void> {
    if (pieces <= 1) return;
    const res = await this.rangeRequest(metaRangeId, { kind: 'splitTs', tableId, hashNum, pieces });
    if (res.kind !== 'splitTs') throw new Error(`splitTs: unexpected response ${res.kind}`);
    this.tsMaps.set(tableId, res.ranges);
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

  /** Drops a table's data on each of its ranges, then (a split table) the ranges themselves. */
  async proposeTsDrop(tableId: number): Promise<void> {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(tableId, 0);
    await this.ts(tableId, TsRequestKind.Drop, b);
    if (!this.tsRangeMap(tableId)) return;
    const res = await this.rangeRequest(metaRangeId, { kind: 'dropTsRanges', tableId });
    if (res.kind !== 'dropTsRanges') throw new Error(`dropTsRanges: unexpected response ${res.kind}`);
    this.tsMaps.delete(tableId);
  }

  /** The range whose lease decides which node drives a table's retention and reorganization. */
  tsDriverRange(tableId: number): number {
    return this.tsRangeMap(tableId)?.[0]?.rangeId ?? metaRangeId;
  }

  /** Resolves once reorganization started so far has finished and been switched in (COMPRESS). */
  tsReorganized(): Promise<void> {
    return this.store.queues.ts.settled(rewritesSettleMs);
  }

  /**
   * A page of a TS scan through the leaseholders: an unsplit table's range, or a split table's
   * ranges one after another (the cursor `after` says which range and which device in it).
   */
  tsScan(
    spec: TsScanSpec,
    after: number | null,
    rowsMax: number,
    summarize: TsHeaderSummarizer | null,
  ): Promise<TsScanPage> {
    return this.withTsMap(spec.tableId, async (map) => {
      const fetch = (rangeId: number, hashSpan: [number, number] | undefined, inner: number | null): Promise<TsScanPage> =>
        this.scanRangePage(rangeId, hashSpan, spec, inner, rowsMax, summarize);
      if (!map) return fetch(metaRangeId, undefined, after);
      let { idx, inner } = decodeTsCursor(after);
      const pinned = this.pinnedRanges(spec, map);
      // A scan's first call asks every range for its first page at once (the ranges' leaseholders
      // scan in parallel), and each page taken asks for the next page of its range ahead (the
      // request overlaps the gateway's work on this one). Pages are kept by cursor: at most one
      // page ahead per range (ranges ≤ tsRangesPerTableMax).
      let prefetched = this.tsPrefetch.get(spec);
      if (after === null) {
        prefetched = new Map();
        this.tsPrefetch.set(spec, prefetched);
        for (let i = 1; i < map.length; i++) {
          if (pinned && !pinned.has(i)) continue;
          const e = map[i] as TsRangeEntry;
          prefetched.set(i * tsCursorRangeStride, settleLater(fetch(e.rangeId, [e.hashStart, e.hashEnd], null)));
        }
      }
      for (; idx < map.length; idx++, inner = null) {
        if (pinned && !pinned.has(idx)) continue;
        const e = map[idx] as TsRangeEntry;
        const cursor = idx * tsCursorRangeStride + (inner === null ? 0 : inner + 1);
        const early = prefetched?.get(cursor);
        prefetched?.delete(cursor);
        const page = await (early ?? fetch(e.rangeId, [e.hashStart, e.hashEnd], inner));
        const next = nextTsCursor(idx, page, map.length);
        if (prefetched && page.resumeAfter !== null && next !== null) prefetched.set(next, settleLater(fetch(e.rangeId, [e.hashStart, e.hashEnd], page.resumeAfter)));
        if (page.layout !== null) return { ...page, resumeAfter: next };
      }
      return emptyPage();
    });
  }

  /** A page of one range's scan, from its leaseholder (ClusterSender: or a caught-up local replica). */
  protected async scanRangePage(rangeId: number, hashSpan: [number, number] | undefined, spec: TsScanSpec, after: number | null, rowsMax: number, summarize: TsHeaderSummarizer | null): Promise<TsScanPage> {
    const res = await this.rangeRequest(rangeId, { kind: 'tsScan', spec, after, rowsMax, ...(summarize ? { summarize } : {}), ...(hashSpan ? { hashSpan } : {}) });
    return res.kind === 'tsScan' ? res.page : emptyPage();
  }

  /**
   * The same page without waiting, for a scan inside a synchronous drain (a subquery evaluated in
   * an expression): served by the local replicas, which must hold the leases (ClusterSender: or
   * be in `caughtUp`).
   */
  tsScanSync(
    spec: TsScanSpec,
    after: number | null,
    rowsMax: number,
    summarize: TsHeaderSummarizer | null,
    caughtUp: ReadonlySet<number> | null = null,
  ): TsScanPage {
    const map = this.tsRangeMap(spec.tableId);
    if (!map)
      return scanGroup(
        this.store.ts.group(spec.tableId, this.localTsReplica(metaRangeId).rangeId),
        spec,
        after,
        rowsMax,
        summarize,
      );
    const pinned = this.pinnedRanges(spec, map);
    let { idx, inner } = decodeTsCursor(after);
    if (after === null) this.checkLocalTsReads(map.filter((_, i) => !pinned || pinned.has(i)).map((e) => e.rangeId), map.map((e) => e.rangeId), caughtUp);
    for (; idx < map.length; idx++, inner = null) {
      if (pinned && !pinned.has(idx)) continue;
      const r = this.localTsReplica((map[idx] as TsRangeEntry).rangeId);
      const page = scanGroup(this.store.ts.group(spec.tableId, r.rangeId), spec, inner, rowsMax, summarize);
      if (page.layout !== null) return { ...page, resumeAfter: nextTsCursor(idx, page, map.length) };
    }
    return emptyPage();
  }

  /**
   * The ranges a scan pinned to devices (spec.entities: primary tag values) needs: those of the
   * devices' hash points (null: every range). The hash needs the primary tags' order and types,
   * taken from a group of the table on this store (they never change: primary tags cannot be
   * retyped or dropped); without one, every range is scanned.
   */
  private pinnedRanges(spec: TsScanSpec, map: TsRangeEntry[]): Set<number> | null {
    if (!spec.entities) return null;
    const tags = this.store.ts.groupsOf(spec.tableId)[0]?.table.tags;
    if (!tags) return null;
    const hashNum = (map[map.length - 1] as TsRangeEntry).hashEnd;
    const schema = { tags: tags.types, primaryTags: tags.primary };
    const out = new Set<number>();
    for (const e of spec.entities) out.add(rangeIndexOf(map, hashPointOf(schema, tags.mapValues(e, spec.tagIds, spec.tagTypes), hashNum)));
    return out;
  }

  /**
   * Checks, at a synchronous scan's start, that the local replicas of the ranges it reads may be
   * read (ClusterSender: they hold the leases or were caught up during the statement; the
   * table's other ranges are caught up along with them); here localTsReplica checks the lease.
   */
  protected checkLocalTsReads(_reads: number[], _table: number[], _caughtUp: ReadonlySet<number> | null): void {}

  /** The local replica a synchronous TS scan of a range reads: here, it must hold the lease. */
  protected localTsReplica(rangeId: number): Replica {
    const r = this.store.replicas.get(rangeId);
    if (!r) throw new RangeNotFoundError(rangeId, this.store.nodeId);
    if (!r.holdsValidLease()) throw r.notLeaseholder();
    return r;
  }
}

/** A request a first range refuses for a table it learned is split is retried this often. */
const tsMapRetriesMax = 3;

/** Devices per range in a scan cursor: cursor = range index × this + (device after which to go on) + 1. */
const tsCursorRangeStride = 2 ** 32;

function decodeTsCursor(after: number | null): { idx: number; inner: number | null } {
  if (after === null) return { idx: 0, inner: null };
  const idx = Math.floor(after / tsCursorRangeStride);
  const rest = after - idx * tsCursorRangeStride;
  return { idx, inner: rest === 0 ? null : rest - 1 };
}

/** Where a split table's scan goes on after this page of range `idx` (null: done). */
function nextTsCursor(idx: number, page: TsScanPage, ranges: number): number | null {
  if (page.resumeAfter !== null) return idx * tsCursorRangeStride + page.resumeAfter + 1;
  return idx + 1 < ranges ? (idx + 1) * tsCursorRangeStride : null;
}

/** A prefetched page: awaited later, or never if the scan is abandoned (no unhandled rejection). */
function settleLater(p: Promise<TsScanPage>): Promise<TsScanPage> {
  p.catch(() => {});
  return p;
}

function emptyPage(): TsScanPage {
  return { layout: null, batches: [], resumeAfter: null };
}

/** The index of the range holding hash point `h` (the map covers [0, hashNum) in order). */
function rangeIndexOf(map: TsRangeEntry[], h: number): number {
  let lo = 0;
  let hi = map.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((map[mid] as TsRangeEntry).hashStart <= h) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
