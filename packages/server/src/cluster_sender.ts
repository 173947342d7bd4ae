/**
 * The SQL layer's access to the data in cluster mode: LocalSender's request path, with every
 * request sent to the range's leaseholder wherever it is (the DistSender), and the synchronous
 * reads SQL still makes (catalog, settings, sequences, subqueries drained inside expressions)
 * served by this node's own replica as follower reads:
 *
 *   a transaction's read timestamp comes from the leaseholder (readIndex: below every commit it
 *   has not applied, with its applied index), and the local replica waits until it has applied
 *   that index before the transaction reads — so it holds every commit at or below the
 *   timestamp, exactly what the leaseholder would read. A refresh moves the timestamp the same
 *   way. Reads below the replica's GC threshold are refused (40001) instead of answered with
 *   versions GC removed.
 *
 * Every node holds a replica of the data range (the first range: relational data, the catalog
 * and TS tables that are not split), replicated to every node: voters up to the replication
 * factor, learners beyond; a node without one yet (a new node being seeded by its snapshot)
 * refuses SQL with 57P03. TS tables are split into hash-point ranges at CREATE (ts_ranges.ts in
 * @strata/store): their commands and scans go to each range's leaseholder through the DistSender.
 * Uncertainty intervals are not needed while one range holds all data: every timestamp comes
 * from its leaseholder's clock, so nothing written before a read began can carry a later one.
 */
import { PgError, RangeNotFoundError, ReplicasNotCaughtUpError, SqlState } from '@strata/common';
import type { Timestamp } from '@strata/common';
import type { BatchRequest, BatchResponse } from '@strata/kv';
import type { DistSender } from '@strata/kvclient';
import { LocalSender } from '@strata/store';
import { scanGroup } from '@strata/ts';
import type { TsHeaderSummarizer, TsScanPage, TsScanSpec } from '@strata/ts';
import type { Replica, Store } from '@strata/store';

/** How long a transaction waits for the local replica to catch up to the leaseholder's read index. */
export const followerReadWaitMs = 10_000;

/** The range holding relational data, the catalog and unsplit TS tables (no relational splits yet). */
const dataRangeId = 1;

export class ClusterSender extends LocalSender {
  constructor(
    store: Store,
    private readonly dist: DistSender,
  ) {
    super(store);
  }

  /** The local replica of the data range (initialized: it has applied a snapshot or the log). */
  private local(): Replica {
    const r = this.store.replicas.get(dataRangeId);
    if (!r || !r.isInitialized || r.removed) {
      throw new PgError(SqlState.CannotConnectNow, `node ${this.store.nodeId} holds no replica of the data yet (it is being seeded); retry shortly or connect to another node`);
    }
    return r;
  }

  protected override replicaOf(_key: Uint8Array): Replica {
    return this.local();
  }

  protected override sendBatch(_r: Replica, ba: BatchRequest): Promise<BatchResponse> {
    return this.dist.send({ ...ba, header: { ...ba.header, rangeId: dataRangeId } });
  }

  /** The leaseholder's read index, once the local replica has applied it. */
  protected override async readTimestamp(): Promise<Timestamp> {
    const r = await this.leaseholderReadIndex(dataRangeId);
    const local = this.local();
    if (!(await local.waitApplied(r.appliedIndex, followerReadWaitMs))) {
      throw new PgError(SqlState.SerializationFailure, `restart transaction: node ${this.store.nodeId}'s replica did not catch up to index ${r.appliedIndex} within ${followerReadWaitMs} ms (it is at ${local.appliedIndex})`);
    }
    this.store.clock.update(r.readTs);
    return r.readTs;
  }

  override async sync(): Promise<void> {
    await this.readTimestamp();
  }

  protected override checkLocalRead(_key: Uint8Array, ts: Timestamp): void {
    const r = this.local();
    if (ts <= r.gcThreshold) throw new PgError(SqlState.SerializationFailure, `restart transaction: read timestamp ${ts} is at or below the GC threshold ${r.gcThreshold}`);
  }

  override releaseLocks(txnId: string): void {
    // The lock table lives with the lease; a leaseholder that went away took the locks with it.
    void this.dist
      .send({ header: { rangeId: dataRangeId, timestamp: this.store.clock.now(), txn: { id: txnId, readTs: 0n, uncertaintyLimit: 0n, observed: [] }, now: this.store.clock.now() }, requests: [{ kind: 'releaseLocks' }] })
      .catch(() => {});
  }

  /** KWDB's default: a new TS table starts as 5 ranges of 400 hash points (of 2000). */
  override readonly tsRangesPerTableDefault = 5;

  protected override sendToRange(ba: BatchRequest): Promise<BatchResponse> {
    return this.dist.send(ba);
  }

  /**
   * A split TS table's range is read from this node's own replica when it can be (every node
   * keeps one: voters and non-voters): at a scan's first page of the range the leaseholder names
   * its applied index, and once the local replica has applied it, it holds every TS write
   * acknowledged before the scan began (TS data is not versioned: a later page may also see
   * later writes, as on the leaseholder). Local pages keep the TS header summarizer (aggregates
   * from block headers) and cross no wire. A replica that is missing or does not catch up within
   * followerReadWaitMs leaves the range to its leaseholder.
   */
  protected override async scanRangePage(rangeId: number, hashSpan: [number, number] | undefined, spec: TsScanSpec, after: number | null, rowsMax: number, summarize: TsHeaderSummarizer | null): Promise<TsScanPage> {
    const r = this.store.replicas.get(rangeId);
    if (rangeId !== dataRangeId && r && r.isInitialized && !r.removed && !r.failed) {
      let local = this.localScans.get(spec);
      if (!local) this.localScans.set(spec, (local = new Set()));
      const ok = after === null ? r.holdsValidLease() || (await this.catchUp(r)) : local.has(rangeId);
      if (ok) {
        local.add(rangeId);
        return scanGroup(this.store.ts.group(spec.tableId, rangeId), spec, after, rowsMax, summarize);
      }
    }
    return super.scanRangePage(rangeId, hashSpan, spec, after, rowsMax, summarize);
  }

  /** Per scan (its spec): the ranges whose first page was read locally (its later pages are too). */
  private readonly localScans = new WeakMap<TsScanSpec, Set<number>>();

  /** The range's read index: a timestamp below every commit its leaseholder has not applied, and its applied index. */
  private async leaseholderReadIndex(rangeId: number): Promise<{ readTs: Timestamp; appliedIndex: number }> {
    const res = await this.dist.send({ header: { rangeId, timestamp: 0n, txn: null, now: this.store.clock.now() }, requests: [{ kind: 'readIndex' }] });
    const r = res.responses[0];
    if (r?.kind !== 'readIndex') throw new PgError(SqlState.InternalError, 'readIndex: unexpected response');
    return r;
  }

  /** Whether the local replica has applied what the range's leaseholder had when asked. */
  private async catchUp(r: Replica): Promise<boolean> {
    try {
      const x = await this.leaseholderReadIndex(r.rangeId);
      return await r.waitApplied(x.appliedIndex, followerReadWaitMs);
    } catch {
      return false;
    }
  }

  /**
   * A synchronous TS scan (a correlated subquery) reads local replicas: the first range's is
   * caught up at the transaction's start; another range's if it holds the lease or was caught up
   * to its leaseholder during the statement (`caughtUp`). Otherwise ReplicasNotCaughtUpError: the
   * statement catches those replicas up (catchUpRanges) where it can wait and evaluates the row
   * again; where it cannot, the client gets the error (0A000).
   */
  protected override checkLocalTsReads(reads: number[], table: number[], caughtUp: ReadonlySet<number> | null): void {
    const isBehind = (id: number) => {
      const r = this.store.replicas.get(id);
      return !r || !r.isInitialized || r.removed || r.failed || !(r.holdsValidLease() || caughtUp?.has(id));
    };
    if (!reads.some(isBehind)) return;
    // The whole table's ranges at once: a correlated subquery pinned to one device per row goes
    // on to the others' ranges at the next rows.
    const behind = table.filter(isBehind);
    throw new ReplicasNotCaughtUpError(
      `a subquery over a time-series table evaluated inside an expression needs range${behind.length > 1 ? 's' : ''} ${behind.join(', ')} caught up on node ${this.store.nodeId}, and this statement cannot wait for it here`,
      'Rewrite the subquery as a join, or connect to the node holding the leases.',
      () => this.catchUpRanges(behind),
    );
  }

  /** Catches the local replicas of the ranges up to their leaseholders (all at once); rejects if one cannot be. */
  private async catchUpRanges(rangeIds: number[]): Promise<number[]> {
    await Promise.all(
      rangeIds.map(async (id) => {
        const r = this.store.replicas.get(id);
        if (!r || !(await this.catchUp(r))) {
          throw new PgError(SqlState.SerializationFailure, `restart transaction: node ${this.store.nodeId}'s replica of range ${id} ${r ? `did not catch up to its leaseholder within ${followerReadWaitMs} ms` : 'does not exist yet'}`);
        }
      }),
    );
    return rangeIds;
  }

  protected override localTsReplica(rangeId: number): Replica {
    if (rangeId === this.local().rangeId) return this.local();
    const r = this.store.replicas.get(rangeId);
    if (!r) throw new RangeNotFoundError(rangeId, this.store.nodeId);
    return r;
  }
}
