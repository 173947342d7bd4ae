/**
 * A Store holds the replicas of one node's storage: one KV engine, one TS engine and one Raft log
 * shared by all of its replicas.
 *
 * It opens them (bootstrap, recovery from the log), creates and destroys replicas (splits,
 * messages for new replicas, removal, dropped ranges), routes requests to them (send), hands
 * Raft messages and snapshots from other stores to them (snapshot/inbound.ts), and owns what
 * drives them: the Raft scheduler (raft_scheduler.ts: ticks and rounds) and the maintenance
 * queues (queues/: replication, Raft-log truncation, MVCC GC, TS flushes and rewrite commits).
 *
 * INVARIANT: no two replicas on a store overlap in key span.
 * INVARIANT: a replica's replicaId never changes; removal destroys the replica, and a tombstone
 *   keeps messages for it (or any older replica of the range) from recreating it.
 */
import { statfsSync } from 'node:fs';
import { join } from 'node:path';
import { HybridClock, RangeNotFoundError, logger, realTimers } from '@strata/common';
import type { Timers } from '@strata/common';
import { LmdbEngine, prettyKey } from '@strata/kv';
import type { Engine } from '@strata/kv';
import type { BatchRequest, BatchResponse, BatchSender, WriteBatch } from '@strata/kv';
import { TsEngine } from '@strata/ts';
import type { TsEngineOptions } from '@strata/ts';
import { defaultKnobs, diskReserveBytesMin, diskStatsIntervalMs } from './constants.js';
import type { StoreKnobs } from './constants.js';
import { allReplicatedSpan, rangeIdOfReplicatedKey, replicatedName, replicatedSpan, unreplicatedSpan } from './keys.js';
import { LogFile } from './raftlog/logfile.js';
import type { LogFs } from './raftlog/log_fs.js';
import type { LogRecord, RecoveredRange } from './raftlog/logfile.js';
import { containsKey, decodeDescriptor, encodeDescriptor, replicaOnNode, userSpanOf } from '@strata/kv';
import type { RangeDescriptor } from '@strata/kv';
import { Replica } from './replica/replica.js';
import type { ReplicaHost } from './replica/replica.js';
import { replayTsCommands } from './replica/replay.js';
import { initialStateWrites, loadReplicaState, migrateLegacyState, tombstoneKey } from './replica/state.js';
import { noTransport } from './transport.js';
import type { RaftMessageBatch, RaftMessageRequest, RaftTransport, SnapshotChunk, SnapshotHeader } from './transport.js';
import { Queues } from './queues/queues.js';
import type { ClusterView } from './cluster_view.js';
import { receiveSnapshot } from './snapshot/inbound.js';
import { RaftScheduler } from './raft_scheduler.js';
import { bootstrapDescriptors, metaRangeId } from './system_ranges.js';
import { metaRecordWrite } from './meta_records.js';
import { readDroppedTsRanges } from './ts_ranges.js';

export interface StoreOptions {
  nodeId: number;
  /** Create the first ranges (one voter here each: system_ranges.ts) if the store is empty. */
  bootstrap?: boolean;
  /** Bootstrap with the liveness range next to the first one (a cluster: system_ranges.ts). */
  livenessRange?: boolean;
  transport?: RaftTransport;
  clock?: HybridClock;
  /** Free bytes of the store's file system (default: statfs of its directory). */
  freeDiskBytes?: () => number;
  /** Worker threads for TS rewrites (immediate_compression.threads). */
  reorganizeThreads?: () => number;
  /** The wall clock and timers (default: the real ones; the simulation's virtual ones). */
  timers?: Timers;
  /** The KV engine (default: lmdb in the store directory). */
  engine?: Engine;
  /** The Raft log's file system (default: the store directory's raft-log/). */
  logFs?: LogFs;
  /** How TS rewrites run (default: a worker-thread pool). */
  runRewrite?: TsEngineOptions['runRewrite'];
  /** Mixed into each replica's Raft randomness (election timeouts): the simulation's seed. */
  raftSeed?: number;
  knobs?: Partial<StoreKnobs>;
  /** Liveness and placement (the replicate queue); none in single-node mode. */
  cluster?: ClusterView;
}

export interface StoreStats {
  proposals: number;
  logRounds: number;
  logBytes: number;
  conflicts: number;
  commits: number;
  lockWaits: number;
  snapshotsSent: number;
  snapshotsReceived: number;
  snapshotsApplied: number;
  /** Times a range this store leads quiesced. */
  quiesced: number;
  /** Times a replica here became its range's Raft leader (metrics: leader changes). */
  leaderChanges: number;
  /** Commands (write batches, conf changes) appended to Raft by replicas here. */
  raftProposals: number;
  /** Snapshots installed here, by the parts they carried: every one a KV_BATCH, some a TS_BATCH too. */
  snapshotsAppliedKv: number;
  snapshotsAppliedTs: number;
  /** Snapshots that reached this store but could not be staged or installed. */
  snapshotsFailed: number;
}

export class Store implements ReplicaHost, BatchSender {
  private readonly logger = logger('store');
  readonly clock: HybridClock;
  readonly replicas = new Map<number, Replica>();
  /** Drives Raft for the replicas: ticks and rounds (raft_scheduler.ts). */
  readonly raft: RaftScheduler;
  readonly timers: Timers;
  private closed = false;
  readonly stats: StoreStats = { proposals: 0, logRounds: 0, logBytes: 0, conflicts: 0, commits: 0, lockWaits: 0, snapshotsSent: 0, snapshotsReceived: 0, snapshotsApplied: 0, quiesced: 0, leaderChanges: 0, raftProposals: 0, snapshotsAppliedKv: 0, snapshotsAppliedTs: 0, snapshotsFailed: 0 };
  /** Called after every applied write batch (the SQL layer invalidates caches on catalog writes). */
  onApply: (b: WriteBatch) => void = () => {};
  /**
   * Called after a snapshot replaced a replica's data: what onApply would have been told of the
   * commands the snapshot stands for is not known, so caches of replicated data (the SQL catalog,
   * roles) must be dropped whole.
   */
  onSnapshotApplied: (rangeId: number) => void = () => {};
  transport: RaftTransport;
  readonly queues: Queues;
  private freeBytes = { value: Number.MAX_SAFE_INTEGER, at: 0 };
  private readonly diskFree: () => number;
  readonly knobs: StoreKnobs;
  readonly raftSeed: number;
  readonly cluster: ClusterView | null;

  private constructor(
    readonly dir: string,
    readonly nodeId: number,
    readonly engine: Engine,
    readonly log: LogFile,
    readonly ts: TsEngine,
    opts: StoreOptions,
  ) {
    this.timers = opts.timers ?? realTimers;
    this.knobs = { ...defaultKnobs, ...opts.knobs };
    this.raftSeed = opts.raftSeed ?? 0;
    this.cluster = opts.cluster ?? null;
    this.clock = opts.clock ?? new HybridClock(() => this.timers.now());
    this.transport = opts.transport ?? noTransport;
    this.diskFree =
      opts.freeDiskBytes ??
      (() => {
        const fs = statfsSync(dir);
        return Number(fs.bavail) * Number(fs.bsize);
      });
    this.queues = new Queues(this);
    this.raft = new RaftScheduler(this);
    ts.onRewriteFinished = (rangeId) => this.queues.tsRewriteFinished(rangeId);
  }

  static async open(dir: string, opts: StoreOptions): Promise<Store> {
    const engine = opts.engine ?? new LmdbEngine(join(dir, 'engine'));
    const { log, ranges, tornBytes } = await LogFile.open(opts.logFs ?? join(dir, 'raft-log'), opts.knobs?.logSegmentBytesMax ?? defaultKnobs.logSegmentBytesMax);
    const ts = TsEngine.open(join(dir, 'ts'), { reorganizeThreads: opts.reorganizeThreads, runRewrite: opts.runRewrite });
    const store = new Store(dir, opts.nodeId, engine, log, ts, opts);
    const migrated = migrateLegacyState(engine, (id) => log.lastIndex(id));
    if (migrated.length > 0) store.logger.info({ ranges: migrated }, 'migrated the single-node range state to range-local keys');
    const descs = store.scanDescriptors();
    if (descs.length === 0 && opts.bootstrap) {
      const boot = bootstrapDescriptors(opts.nodeId, opts.livenessRange ?? false);
      for (const d of boot) {
        engine.write(initialStateWrites(d));
        descs.push(d);
      }
      engine.write(boot.map(metaRecordWrite)); // the meta range's first records

      store.logger.info({ dir, ranges: descs.map((d) => d.rangeId) }, 'bootstrapped a new store with its first ranges');
    }
    let tsReplayed = 0;
    for (const d of descs) {
      const state = loadReplicaState(engine, d.rangeId);
      const me = replicaOnNode(d, opts.nodeId);
      if (!state || !me) {
        // A snapshot was being applied when the process stopped (no applied state), or this node
        // is not a member: the replica is gone; its data must not linger as a mix.
        store.clearRangeData(d);
        continue;
      }
      const rec: RecoveredRange | undefined = ranges.get(d.rangeId);
      tsReplayed += replayTsCommands(engine, log, ts, d.rangeId, state);
      const r = new Replica(store, d.rangeId, me.replicaId, { ...state, hardState: rec?.hardState ?? null });
      store.replicas.set(d.rangeId, r);
      store.raft.add(r);
    }
    // Replicas of ranges a dropped TS table left (this store applied the first range's drop from
    // a snapshot, or stopped before destroying them) go now.
    const dropped = [...readDroppedTsRanges(engine)].filter((id) => store.replicas.has(id));
    if (dropped.length > 0) store.onTsRangesDropped(dropped);
    log.onRotate = () => [...store.replicas.values()].map((r): LogRecord => ({ kind: 'hardState', rangeId: r.rangeId, hardState: r.lastHardState }));
    store.logger.info({ ranges: store.replicas.size, tsCommandsReplayed: tsReplayed, tornBytes }, 'store opened');
    // Apply whatever the log holds beyond the engine's applied index before serving anything.
    await store.raft.runRounds();
    store.raft.start();
    store.queues.start();
    return store;
  }

  /** Every range descriptor stored here. */
  private scanDescriptors(): RangeDescriptor[] {
    const out: RangeDescriptor[] = [];
    const [start, end] = allReplicatedSpan();
    for (const { key, value } of this.engine.scan(start, end)) {
      if (rangeIdOfReplicatedKey(key, replicatedName.desc) !== null) out.push(decodeDescriptor(value));
    }
    return out;
  }

  /** Deletes everything a range left on this store (its replica is gone or was never whole). */
  clearRangeData(d: RangeDescriptor): void {
    const deletes: { key: Buffer; value: null }[] = [];
    const [us, ue] = userSpanOf(d);
    for (const span of [replicatedSpan(d.rangeId), unreplicatedSpan(d.rangeId), [us, ue] as [Buffer, Buffer]]) {
      for (const { key } of this.engine.scan(span[0], span[1])) {
        if (key.equals(tombstoneKey(d.rangeId))) continue;
        deletes.push({ key: Buffer.from(key), value: null });
        if (deletes.length >= 10_000) this.engine.write(deletes.splice(0));
      }
    }
    this.engine.write(deletes);
    for (const g of this.ts.groupsInRange(d.rangeId)) this.ts.dropTable(d.rangeId, g);
    this.log.dropRange(d.rangeId);
  }

  // ---- ReplicaHost -----------------------------------------------------------------------------

  schedule(r: Replica): void {
    this.raft.schedule(r);
  }

  catchUpTicks(): void {
    this.raft.catchUpTicks();
  }

  onApplyBatch(r: Replica, b: WriteBatch): void {
    this.stats.commits++;
    this.queues.written(r, b);
    this.onApply(b);
  }

  noteProposed(n: number): void {
    this.stats.raftProposals += n;
  }

  mayCreateSplitReplica(d: RangeDescriptor): boolean {
    const me = replicaOnNode(d, this.nodeId);
    if (!me || this.replicas.has(d.rangeId)) return false;
    const tomb = this.engine.get(tombstoneKey(d.rangeId));
    return !tomb || me.replicaId >= tomb.readDoubleBE(0);
  }

  onSplit(r: Replica, created: RangeDescriptor[]): void {
    for (const d of created) {
      const state = loadReplicaState(this.engine, d.rangeId);
      const me = replicaOnNode(d, this.nodeId);
      if (!state || !me) continue;
      const rhs = new Replica(this, d.rangeId, me.replicaId, { ...state, hardState: null });
      this.replicas.set(d.rangeId, rhs);
      this.raft.add(rhs);
      // The first range's leader campaigns for the new ranges at once (CockroachDB does the
      // same): they have a leader without waiting out an election timeout, and the replicate
      // queue then moves their leases to their preferred nodes.
      if (r.isLeader && !rhs.isLeader) rhs.raw.campaign();
    }
    this.logger.info(
      { range: r.rangeId, created: created.map((d) => d.rangeId) },
      'split applied: new ranges created',
    );
    this.raft.scheduleRound();
  }

  onTsRangesDropped(rangeIds: number[]): void {
    for (const id of rangeIds) {
      const r = this.replicas.get(id);
      if (r) this.destroyReplica(r, 'its time-series table was dropped', droppedRangeTombstone);
      else this.engine.write([{ key: tombstoneKey(id), value: tombstoneValue(droppedRangeTombstone) }]);
    }
    if (rangeIds.length > 0) this.logger.info({ ranges: rangeIds }, 'the ranges of a dropped time-series table are gone');
  }

  onReplicaEvent(r: Replica, event: 'lease' | 'removed' | 'checksum'): void {
    if (event === 'lease') this.queues.leaseChanged(r);
  }

  /** Free bytes on the store's file system (re-read at most every diskStatsIntervalMs). */
  freeDiskBytes(): number {
    const now = this.timers.now();
    if (now - this.freeBytes.at >= diskStatsIntervalMs) this.freeBytes = { value: this.diskFree(), at: now };
    return this.freeBytes.value;
  }

  diskReserveBytes(): number {
    return diskReserveBytesMin;
  }

  // ---- requests --------------------------------------------------------------------------------

  /**
   * Sends a batch to a range wherever it is served (a cluster node sets its DistSender here; on
   * a single node every range is on this store).
   */
  rangeSender: BatchSender = this;

  /**
   * Publishes a range's descriptor to its meta record (meta_records.ts) after a membership change
   * of a range this store holds the lease of (the replicate queue calls it). The first range
   * writes its own record when it applies the change. Returns whether the record was updated.
   */
  async publishDescriptor(r: Replica): Promise<boolean> {
    const d = r.desc;
    if (!d || r.rangeId === metaRangeId) return false;
    const res = await this.rangeSender.send({ header: { rangeId: metaRangeId, timestamp: this.clock.now(), txn: null, now: this.clock.now() }, requests: [{ kind: 'updateMeta', descriptor: encodeDescriptor(d) }] });
    const x = res.responses[0];
    return x?.kind === 'updateMeta' && x.updated;
  }

  /** Evaluates a batch on this store's replica of the range it names. */
  send(ba: BatchRequest): Promise<BatchResponse> {
    const r = this.replicas.get(ba.header.rangeId);
    if (!r || !r.isInitialized) return Promise.reject(new RangeNotFoundError(ba.header.rangeId, this.nodeId));
    this.stats.proposals++;
    return r.send(ba);
  }

  /** The replica whose span holds `key` (single-node routing; the cluster routes by descriptors). */
  replicaFor(key: Uint8Array): Replica {
    for (const r of this.replicas.values()) if (r.desc && containsKey(r.desc, key)) return r;
    throw new RangeNotFoundError(0, this.nodeId);
  }

  // ---- Raft messages ---------------------------------------------------------------------------

  /** A Raft message from another store. */
  /** Each replica's range, lease and members as this store sees them (`/_status/ranges`). */
  /** Every range this store has a replica of, with raw bounds (SHOW RANGES). */
  rangeInfos(): { rangeId: number; startKey: Buffer; endKey: Buffer; leaseholderNodeId: number | null; voters: number[]; nonVoters: number[] }[] {
    return [...this.replicas.values()]
      .filter((r) => r.desc)
      .map((r) => {
        const d = r.desc as RangeDescriptor;
        return {
          rangeId: r.rangeId,
          startKey: Buffer.from(d.startKey),
          endKey: Buffer.from(d.endKey),
          leaseholderNodeId: r.lease.seq > 0 ? r.lease.nodeId : null,
          voters: d.replicas.filter((x) => x.type !== 'learner').map((x) => x.nodeId),
          nonVoters: d.replicas.filter((x) => x.type === 'learner').map((x) => x.nodeId),
        };
      })
      .sort((a, b) => a.rangeId - b.rangeId);
  }

  rangeStatus(): { rangeId: number; startKey: string; endKey: string; leaseholderNodeId: number | null; holdsLease: boolean; replicas: string[]; appliedIndex: number; raftState: string }[] {
    return [...this.replicas.values()]
      .filter((r) => r.desc)
      .map((r) => {
        const d = r.desc as RangeDescriptor;
        return {
          rangeId: r.rangeId,
          startKey: Store.pretty(d.startKey),
          endKey: Store.pretty(d.endKey),
          leaseholderNodeId: r.lease.seq > 0 ? r.lease.nodeId : null,
          holdsLease: r.holdsValidLease(),
          replicas: d.replicas.map((x) => `n${x.nodeId}/${x.replicaId}${x.type === 'learner' ? ' (non-voting)' : ''}`),
          appliedIndex: r.appliedIndex,
          raftState: r.raw.raft.state,
        };
      });
  }

  /**
   * The transport lost its stream to a node: Raft probes that node's replicas instead of filling
   * their in-flight windows (etcd's ReportUnreachable, for every range this store leads).
   */
  reportUnreachable(nodeId: number): void {
    for (const r of this.replicas.values()) {
      const peer = r.desc?.replicas.find((x) => x.nodeId === nodeId);
      if (!peer || r.failed || !r.isLeader) continue;
      r.raw.reportUnreachable(peer.replicaId);
      this.raft.add(r);
    }
    this.raft.scheduleRound();
  }

  handleRaftBatch(batch: RaftMessageBatch): void {
    if (this.closed) return;
    this.clock.update(batch.now);
    for (const req of batch.messages) this.handleRaftMessage(batch.fromNodeId, req);
  }

  private handleRaftMessage(fromNodeId: number, req: RaftMessageRequest): void {
    let r: Replica | null = this.replicas.get(req.rangeId) ?? null;
    if (!r) {
      r = this.createUninitialized(req.rangeId, req.toReplicaId);
      if (!r) return;
    }
    if (r.replicaId !== req.toReplicaId) {
      if (req.toReplicaId < r.replicaId) return; // for an older replica of ours: stale
      // A newer replica of the range on this store: this one was removed (it just does not know yet).
      this.logger.info({ rangeId: req.rangeId, old: r.replicaId, new: req.toReplicaId }, 'replica superseded by a newer one; removing it');
      this.destroyReplica(r, 'superseded by a newer replica of the range');
      r = this.createUninitialized(req.rangeId, req.toReplicaId);
      if (!r) return;
    }
    r.notePeer(req.fromReplicaId, fromNodeId);
    r.step(req.message);
  }

  /** A replica created by a message from a leader: no data until a snapshot arrives. */
  createUninitialized(rangeId: number, replicaId: number): Replica | null {
    const tomb = this.engine.get(tombstoneKey(rangeId));
    if (tomb && replicaId < tomb.readDoubleBE(0)) return null; // a removed replica's messages
    const r = new Replica(this, rangeId, replicaId, null);
    this.replicas.set(rangeId, r);
    return r;
  }

  /**
   * Removes a replica and its data; messages for it (or older replicas of the range) are dropped
   * from now on — for any replica below `nextReplicaId` (a dropped range's: all of them).
   */
  destroyReplica(r: Replica, why: string, nextReplicaId = r.replicaId + 1): void {
    r.close(why);
    this.replicas.delete(r.rangeId);
    this.raft.forget(r);
    if (r.desc) this.clearRangeData(r.desc);
    this.engine.write([{ key: tombstoneKey(r.rangeId), value: tombstoneValue(nextReplicaId) }]);
    this.logger.info({ rangeId: r.rangeId, replicaId: r.replicaId, why }, 'replica destroyed');
  }

  // ---- snapshots -----------------------------------------------------------------------------

  // ---- snapshots -----------------------------------------------------------------------------

  /** Where snapshots are staged (received) and linked (sent). */
  get snapshotDir(): string {
    return join(this.dir, 'snapshots');
  }

  /** A snapshot stream from another store (snapshot/inbound.ts). */
  receiveSnapshot(h: SnapshotHeader, chunks: AsyncIterable<SnapshotChunk>): Promise<void> {
    return receiveSnapshot(this, h, chunks);
  }

  // ---- life cycle ------------------------------------------------------------------------------

  /** Set when the store stopped on an unrecoverable storage error (fdatasync of the log failed). */
  fatalError: Error | null = null;
  /** Called once the store stopped on a fatal error (the node exits; a restart recovers). */
  onFatal: (e: Error) => void = () => {};

  /** Stops the store on an unrecoverable storage error (the Raft log's fsync failed). */
  stopOnFatal(e: Error): void {
    if (this.fatalError) return;
    this.fatalError = e;
    this.logger.fatal({ err: e }, 'the raft log could not be made durable; the store stops (a restart recovers from the log)');
    for (const r of this.replicas.values()) r.fail(e);
    this.raft.halt();
    this.onFatal(e);
  }

  engineSizeBytes(): number {
    return this.engine.sizeBytes();
  }

  logSizeBytes(): number {
    return this.log.sizeBytes();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.queues.stop();
    await this.raft.stop();
    this.closed = true;
    for (const r of this.replicas.values()) {
      if (!r.failed) this.queues.flushTs(r);
      r.close('the store is closing');
    }
    this.ts.close();
    await this.log.close();
    await this.engine.flushed();
    await this.engine.close();
  }

  /** For tests and the cluster's consistency checks: a key's pretty form. */
  static pretty(k: Uint8Array): string {
    return prettyKey(k);
  }
}

/** The tombstone of a dropped range: no replica of it is ever created again. */
const droppedRangeTombstone = Number.MAX_SAFE_INTEGER;

function tombstoneValue(nextReplicaId: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleBE(nextReplicaId, 0);
  return b;
}
