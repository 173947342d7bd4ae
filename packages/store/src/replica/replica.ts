/**
 * A Replica is one member of one range's Raft group on this store.
 *
 * Requests (send): the lease is checked, latches are taken on the spans the request declares, the
 * request is evaluated against this replica's state (batcheval), and a write's command is
 * proposed → it joins the store's next Raft round (every proposal of one event-loop turn shares
 * one log fsync) → it is committed by a quorum → every replica applies it (apply.ts) → the
 * proposer answers. Reads answer at once from the engine.
 *
 * INVARIANT: the engine holds this range's data only as applying its log (or a snapshot) wrote it:
 *   no request writes the engine directly.
 * INVARIANT: the applied index moves forward by exactly the entries applied, in the same engine
 *   transaction as their writes (so replay after a crash is exact).
 * INVARIANT: a proposal is answered at most once: by its entry's application at the (index, term)
 *   Raft gave it, by AmbiguousResultError when another entry applied at that index, or by an
 *   error that certainly means "not applied" (it never reached the log).
 * INVARIANT: proposals are never forwarded to another node (disableProposalForwarding): a command
 *   evaluated here applies only under the lease it was evaluated under.
 */
import { AmbiguousResultError, NotLeaseholderError, PgError, RangeNotFoundError, ReplicaUnavailableError, SqlState, assert, logger, makeTimestamp, sleep, wallMs } from '@strata/common';
import type { HybridClock, Logger, Timers, Timestamp } from '@strata/common';
import { WriteIntentError, prettyKey } from '@strata/kv';
import type { BatchHeader, BatchRequest, BatchResponse, Engine, KvResponse, WriteBatch } from '@strata/kv';
import { ConfChangeType, MessageType, ProposalDroppedError, RawNode, StateType, message, mulberry32 } from '@strata/raft';
import type { ConfState, Entry, HardState, Message, Ready } from '@strata/raft';
import type { TsEngine } from '@strata/ts';
import { commandFor } from '../batcheval/index.js';
import type { EvalContext } from '../batcheval/index.js';
import { LatchManager } from '../concurrency/latch_manager.js';
import { LockTable } from '../concurrency/lock_table.js';
import { TxnWaitQueue } from '../concurrency/txn_wait_queue.js';
import { readTxnRecord, txnExpired } from '../batcheval/txn_record.js';
import type { StoreKnobs } from '../constants.js';
import { TimestampCache } from '../concurrency/tscache.js';
import { leaseWaitMs, maxClockOffsetMs, proposalQueueMax, raftElectionTicks, raftHeartbeatTicks } from '../constants.js';
import { ReplicaLogStorage } from '../raftlog/storage.js';
import type { LogFile } from '../raftlog/logfile.js';
import { confStateOf, describeRange, encodeDescriptor, replicaById, replicaOnNode } from '@strata/kv';
import type { RangeDescriptor, ReplicaDescriptor } from '@strata/kv';
import { applyEntries } from './apply.js';
import { encodeLease, noLease } from './lease.js';
import type { Lease } from './lease.js';
import { CommandKind, encodeCommand, newProposalId } from './proposal.js';
import type { IndexTerm, ReplicaState } from './state.js';
import type { StagedSnapshot } from '../snapshot/receive.js';

/** What a replica needs from its store. */
export interface ReplicaHost {
  readonly nodeId: number;
  readonly engine: Engine;
  readonly ts: TsEngine;
  readonly log: LogFile;
  readonly clock: HybridClock;
  readonly timers: Timers;
  readonly knobs: StoreKnobs;
  /** Mixed into Raft's randomness (a simulation's seed). */
  readonly raftSeed: number;
  /** The store has work for this replica (a proposal, a message, an unblocked apply). */
  schedule(r: Replica): void;
  /** A relational write batch applied (SQL invalidates caches on catalog writes; GC notes the keys). */
  onApplyBatch(r: Replica, b: WriteBatch): void;
  /** A rewrite finished, a lease changed…: the store's queues may have something to do. */
  onReplicaEvent(r: Replica, event: 'lease' | 'removed' | 'checksum'): void;
  /** Commands were appended to Raft (metrics). */
  noteProposed?(n: number): void;
  /**
   * Brings Raft's ticks up to the wall clock: the lease is counted in ticks, and a process that
   * was paused (SIGSTOP, a VM stall) or an event loop that stalled ticked less than time passed,
   * so its tick-based lease would look valid after it expired everywhere else. Called before a
   * request checks the lease (store.ts). Absent: nothing to do.
   */
  catchUpTicks?(): void;
  freeDiskBytes(): number;
  diskReserveBytes(): number;
  /** Whether applying a split may create this store's replica of new range `d` (none here yet). */
  mayCreateSplitReplica(d: RangeDescriptor): boolean;
  /** A split applied: the new ranges' state is written; their replicas start serving. */
  onSplit(r: Replica, created: RangeDescriptor[]): void;
  /** A dropped TS table's ranges were marked dropped: this store's replicas of them go. */
  onTsRangesDropped(rangeIds: number[]): void;
}

interface Proposal {
  id: string;
  data: Buffer;
  /** A membership change (proposed on its own, as a conf-change entry with `data` as context). */
  confChange: { type: ConfChangeType; replicaId: number } | null;
  /** Where Raft appended it (0 until handed to Raft). */
  index: number;
  term: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** The largest clock offset between nodes, as an HLC interval. */
export const maxOffset: Timestamp = makeTimestamp(maxClockOffsetMs, 0);

export class Replica {
  readonly log: Logger;
  readonly raw: RawNode;
  readonly storage: ReplicaLogStorage;
  desc: RangeDescriptor | null;
  lease: Lease;
  /** [index, seq] of recent lease changes (state.ts): which lease an entry in the log ran under. */
  leaseHistory: [number, number][];
  gcThreshold: Timestamp;
  appliedIndex: number;
  appliedTerm: number;
  /** Applied index known durable in the engine (log entries up to it may be truncated). */
  durableAppliedIndex: number;
  envelopeFrom: number;
  readonly latches = new LatchManager();
  readonly locks: LockTable;
  /** Writers waiting for other transactions' intents (concurrency/txn_wait_queue.ts). */
  readonly txnWaits: TxnWaitQueue;
  readonly tscache = new TimestampCache();
  /** Commit timestamps of transactions evaluated here and not yet applied (→ how many). */
  readonly inflightCommits = new Map<Timestamp, number>();
  /** Digests recorded at ComputeChecksum commands, by log index (bounded: the newest few). */
  readonly checksums = new Map<number, string>();
  /** Set when applying failed with a local fault: the replica serves nothing until a restart. */
  failed: Error | null = null;
  /** Set when this replica applied its own removal (the store destroys it). */
  removed = false;
  /** Committed entries handed over by Raft and not yet applied (apply waits on a rewrite). */
  readonly pendingApply: Entry[] = [];
  applyBlocked: Promise<void> | null = null;
  /** A received snapshot waiting for Raft to accept it (snapshot/receive.ts). */
  staged: StagedSnapshot | null = null;
  /** Set while a snapshot is being installed: the store's rounds and queues leave the replica alone. */
  installing = false;
  lastHardState: HardState;
  /** Ticks since the last request or proposal (the store quiesces a range idle long enough). */
  idleTicks = 0;
  private queue: Proposal[] = [];
  private readonly inflight = new Map<string, Proposal>();
  private leaseRequested = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly host: ReplicaHost,
    readonly rangeId: number,
    readonly replicaId: number,
    state: (ReplicaState & { hardState: HardState | null }) | null,
  ) {
    this.log = logger('replica').child({ r: rangeId, n: host.nodeId });
    this.locks = new LockTable(host.timers);
    this.txnWaits = new TxnWaitQueue(host.timers);
    this.desc = state?.desc ?? null;
    this.lease = state?.lease ?? noLease;
    this.leaseHistory = state?.leaseHistory ?? [];
    this.gcThreshold = state?.gcThreshold ?? 0n;
    const applied: IndexTerm = state?.applied ?? { index: 0, term: 0 };
    this.appliedIndex = applied.index;
    this.appliedTerm = applied.term;
    this.durableAppliedIndex = applied.index;
    this.envelopeFrom = state?.envelopeFrom ?? 0;
    const hs = state?.hardState ?? { term: Math.max(applied.term, 0), vote: 0, commit: applied.index };
    this.storage = new ReplicaLogStorage(rangeId, host.log, {
      hardState: hs,
      confState: this.desc ? confStateOf(this.desc) : { voters: [], learners: [] },
      truncated: state?.truncated ?? applied,
      applied,
    });
    const commit = Math.min(Math.max(hs.commit, applied.index), this.storage.lastIndex());
    this.lastHardState = { ...hs, commit };
    this.storage.hardState = this.lastHardState;
    this.raw = new RawNode({
      id: replicaId,
      storage: this.storage,
      applied: applied.index,
      random: mulberry32((rangeId * 7919 + replicaId * 31 + host.nodeId + host.raftSeed * 104729) >>> 0),
      electionTicks: raftElectionTicks,
      heartbeatTicks: raftHeartbeatTicks,
      checkQuorum: true,
      preVote: true,
      readOnlyOption: 'lease-based',
      disableProposalForwarding: true,
    });
    // A sole voter elects itself at once; groups with peers elect through ticks.
    const voters = this.desc ? confStateOf(this.desc).voters : [];
    if (voters.length === 1 && voters[0] === replicaId) this.raw.campaign();
  }

  get isInitialized(): boolean {
    return this.desc !== null;
  }

  get isLeader(): boolean {
    return this.raw.raft.state === StateType.Leader;
  }

  /**
   * Whether the range may quiesce: fully replicated and applied here, nothing in flight (no
   * proposal, no apply waiting, no snapshot being installed) and a single-voter range never does
   * (ticking it is free and its lease needs no heartbeats).
   */
  canQuiesce(): boolean {
    if (!this.desc || this.failed || this.removed || this.installing || this.applyBlocked || this.pendingApply.length > 0) return false;
    if (this.queue.length > 0 || this.inflight.size > 0 || confStateOf(this.desc).voters.length < 2) return false;
    return this.raw.canQuiesce();
  }

  /** Where replicas not (yet) in this replica's descriptor live, learned from their messages. */
  private readonly peers = new Map<number, number>();

  notePeer(replicaId: number, nodeId: number): void {
    this.peers.set(replicaId, nodeId);
  }

  peerOf(replicaId: number): ReplicaDescriptor | undefined {
    const nodeId = this.peers.get(replicaId);
    return nodeId === undefined ? undefined : { nodeId, storeId: nodeId, replicaId, type: 'voter' };
  }

  /** Whether this replica may serve requests that need the lease, now. */
  holdsValidLease(): boolean {
    return this.failed === null && this.desc !== null && !this.removed && this.lease.replicaId === this.replicaId && this.lease.seq > 0 && this.isLeader && this.raw.raft.leaseValid();
  }

  /** The node of the replica that leads the Raft group, as far as this replica knows. */
  leaderNodeId(): number | null {
    const lead = this.raw.raft.lead;
    if (!lead || !this.desc) return null;
    return replicaById(this.desc, lead)?.nodeId ?? null;
  }

  // ---- requests ------------------------------------------------------------------------------

  /** Evaluates a batch on this replica (the caller routed it here: this store holds the range). */
  async send(ba: BatchRequest): Promise<BatchResponse> {
    this.idleTicks = 0;
    const clock = this.host.clock;
    clock.update(ba.header.now);
    if (ba.header.timestamp > 0n) clock.update(ba.header.timestamp);
    const responses: KvResponse[] = [];
    for (const req of ba.requests) {
      let intentDeadline: number | null = null;
      for (;;) {
        this.checkUsable();
        const cmd = commandFor(req);
        this.host.catchUpTicks?.();
        if (cmd.needsLease) await this.waitForLease();
        const guard = await this.latches.acquire(cmd.declareLatches(ba.header, req));
        let heldUntilApplied = false;
        let conflict: WriteIntentError | null = null;
        try {
          this.checkUsable();
          this.host.catchUpTicks?.(); // the latches may have taken long
          if (cmd.needsLease && !this.holdsValidLease()) throw this.notLeaseholder();
          // After the latches: a GC that held them may have raised the threshold meanwhile.
          if (cmd.needsLease && req.kind !== 'ts' && req.kind !== 'tsScan' && req.kind !== 'computeChecksum' && req.kind !== 'gc' && ba.header.timestamp <= this.gcThreshold && ba.header.timestamp > 0n) {
            throw new PgError(SqlState.SerializationFailure, `restart transaction: batch timestamp ${ba.header.timestamp} must be after replica GC threshold ${this.gcThreshold}`);
          }
          let res: Awaited<ReturnType<typeof cmd.evaluate>>;
          try {
            res = await cmd.evaluate(this.evalContext(), ba.header, req);
          } catch (e) {
            if (!(e instanceof WriteIntentError)) throw e;
            conflict = e;
            continue; // (the finally releases the latches before the wait below)
          }
          let response = res.response;
          if (res.proposal) {
            heldUntilApplied = true;
            const commitTs = res.waitUntil;
            if (commitTs !== undefined) this.inflightCommits.set(commitTs, (this.inflightCommits.get(commitTs) ?? 0) + 1);
            const settled = () => {
              guard.release();
              if (commitTs === undefined) return;
              const n = (this.inflightCommits.get(commitTs) ?? 1) - 1;
              if (n <= 0) this.inflightCommits.delete(commitTs);
              else this.inflightCommits.set(commitTs, n);
            };
            const applied = this.propose(res.proposal.kind, res.proposal.body, this.lease.seq);
            void applied.then(settled, settled);
            const index = await applied;
            if (response.kind === 'computeChecksum') response = { kind: 'computeChecksum', index };
            if (res.waitUntil !== undefined) await commitWait(clock, this.host.timers, res.waitUntil);
          }
          responses.push(response);
        } finally {
          if (!heldUntilApplied) guard.release();
          if (conflict) {
            intentDeadline ??= this.host.timers.now() + this.host.knobs.intentWaitMs;
            await this.waitForIntent(ba.header, conflict, intentDeadline);
          }
        }
        break;
      }
    }
    return { responses, now: clock.now(), nodeId: this.host.nodeId };
  }

  /**
   * A write met another transaction's intent (its latches are released): waits until that
   * transaction ends, pushes it if its record expired (or is gone), or fails with 40001 once the
   * request has waited past `deadline`; 40P01 if the wait would close a cycle (txn_wait_queue.ts).
   * The caller evaluates the request again afterwards.
   */
  private async waitForIntent(h: BatchHeader, e: WriteIntentError, deadline: number): Promise<void> {
    const holder = e.intent.txnId;
    const host = this.host;
    const leave = this.txnWaits.enter(h.txn?.id ?? null, holder);
    try {
      const rec = readTxnRecord(host.engine, this.rangeId, holder);
      if (rec === null || txnExpired(rec, host.clock.now(), host.knobs.txnExpiryMs)) {
        this.txnWaits.stats.pushes++;
        await this.send({ header: { rangeId: this.rangeId, timestamp: 0n, txn: null, now: host.clock.now() }, requests: [{ kind: 'pushTxn', txnId: holder }] });
        return;
      }
      const left = deadline - host.timers.now();
      if (left <= 0) {
        throw new PgError(SqlState.SerializationFailure, `restart transaction: waited ${host.knobs.intentWaitMs} ms for transaction ${holder}, which is still writing ${prettyKey(e.key)}`, {
          hint: 'retry the transaction',
        });
      }
      // Wake at its end, or in time to notice its record expiring.
      await this.txnWaits.wait(holder, Math.min(left, host.knobs.txnExpiryMs / 2));
    } finally {
      leave();
    }
  }

  private evalContext(): EvalContext {
    const host = this.host;
    return {
      rangeId: this.rangeId,
      nodeId: host.nodeId,
      desc: this.desc as RangeDescriptor,
      engine: host.engine,
      ts: host.ts,
      tscache: this.tscache,
      locks: this.locks,
      gcThreshold: this.gcThreshold,
      now: () => host.clock.now(),
      freeDiskBytes: () => host.freeDiskBytes(),
      diskReserveBytes: host.diskReserveBytes(),
      txnExpiryMs: host.knobs.txnExpiryMs,
      inflightCommits: () => this.inflightCommits.keys(),
      appliedIndex: () => this.appliedIndex,
    };
  }

  private checkUsable(): void {
    if (this.failed) throw new ReplicaUnavailableError(this.rangeId, `it stopped after a local fault: ${this.failed.message}`);
    if (this.removed) throw new RangeNotFoundError(this.rangeId, this.host.nodeId);
    if (!this.desc) throw new RangeNotFoundError(this.rangeId, this.host.nodeId);
  }

  /**
   * Why a proposal Raft dropped was not applied (certainly: it never reached the log): leadership
   * moving to another replica sends the request there (the sender retries); otherwise 40001.
   */
  private dropped(e: ProposalDroppedError): Error {
    if (!this.isLeader) return this.notLeaseholder();
    const to = this.raw.raft.leadTransferee;
    const node = to ? this.desc?.replicas.find((x) => x.replicaId === to)?.nodeId : undefined;
    if (node !== undefined) return new NotLeaseholderError(this.rangeId, node);
    return new PgError(SqlState.SerializationFailure, `restart transaction: range ${this.rangeId} cannot accept the write now (${e.message})`);
  }

  notLeaseholder(): NotLeaseholderError {
    const holder = this.lease.seq > 0 && this.lease.replicaId !== this.replicaId ? this.lease.nodeId : null;
    return new NotLeaseholderError(this.rangeId, this.leaderNodeId() ?? holder);
  }

  /**
   * Returns once this replica holds a valid lease; throws NotLeaseholderError if another replica
   * leads (or none emerges within leaseWaitMs). A leader without the lease asks for it.
   */
  async waitForLease(): Promise<void> {
    if (this.holdsValidLease()) return;
    this.host.schedule(this);
    const timers = this.host.timers;
    const deadline = timers.now() + leaseWaitMs;
    for (;;) {
      // Waiting counts as activity: an idle range would otherwise quiesce again at the next tick,
      // before its lease is renewed (the replicate queue wakes idle ranges so).
      this.idleTicks = 0;
      if (this.raw.isQuiesced()) {
        this.raw.wake();
        // A woken leader renews its lease with a heartbeat round now rather than at the next tick.
        if (this.isLeader) this.raw.raft.step(message({ type: MessageType.Beat, from: this.replicaId }));
        this.host.schedule(this);
      }
      this.checkUsable();
      this.host.catchUpTicks?.();
      if (this.holdsValidLease()) return;
      if (this.isLeader) this.requestLease();
      else if (this.raw.raft.lead !== 0) throw this.notLeaseholder(); // someone else leads: go there
      const left = deadline - timers.now();
      if (left <= 0) throw this.notLeaseholder();
      await this.waitForChange(Math.min(left, 100));
    }
  }

  /**
   * Resolves once this replica has applied `index` (a follower read waits so); false if it did
   * not within `ms` (or the replica stopped).
   */
  async waitApplied(index: number, ms: number): Promise<boolean> {
    const deadline = this.host.timers.now() + ms;
    while (this.appliedIndex < index) {
      if (this.failed || this.removed) return false;
      const left = deadline - this.host.timers.now();
      if (left <= 0) return false;
      this.host.schedule(this);
      await this.waitForChange(Math.min(left, 50));
    }
    return true;
  }

  /** Resolves after the next Ready processed for this replica (or the timeout). */
  private waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.host.timers.clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = this.host.timers.setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  /** A leader proposes a lease for itself (compare-and-swap on the current sequence at apply). */
  requestLease(): void {
    if (this.leaseRequested || !this.isLeader || this.failed || this.removed) return;
    if (this.lease.replicaId === this.replicaId && this.lease.seq > 0) return;
    this.leaseRequested = true;
    const next: Lease = { seq: this.lease.seq + 1, replicaId: this.replicaId, nodeId: this.host.nodeId, start: this.host.clock.now() };
    this.propose(CommandKind.Lease, encodeLease(next), this.lease.seq).then(
      () => (this.leaseRequested = false),
      () => (this.leaseRequested = false),
    );
  }

  /** Called by apply when a new lease applied (`prev`: the lease it replaced). */
  leaseApplied(l: Lease, prev: Lease): void {
    this.lease = l;
    if (l.replicaId === this.replicaId) {
      // Every read the previous holder served was at most its clock then, at most one max offset
      // ahead of ours now (lease.ts): nothing may be written at or below that. When the previous
      // holder was this node (a restart, a re-election), its clock then is behind ours now and
      // no other node held the lease in between: the lease start is enough (so too for the first lease).
      this.host.clock.update(l.start);
      this.tscache.clear(prev.seq === 0 || prev.nodeId === this.host.nodeId ? l.start : l.start + maxOffset);
    } else {
      this.tscache.clear(0n);
      this.locks.clear();
      this.txnWaits.clear();
    }
    this.host.onReplicaEvent(this, 'lease');
  }

  // ---- proposals -----------------------------------------------------------------------------

  /**
   * Queues a command for the next Raft round; resolves with its log index once applied here.
   * `leaseSeq` is the lease it was evaluated under (for a Lease command: the one it replaces).
   */
  propose(kind: CommandKind, body: Uint8Array, leaseSeq: number): Promise<number> {
    if (this.queue.length >= proposalQueueMax) {
      return Promise.reject(new PgError(SqlState.InsufficientResources, `range ${this.rangeId}: too many pending writes (${proposalQueueMax}); retry later`));
    }
    this.idleTicks = 0;
    const id = newProposalId();
    const data = encodeCommand(id, leaseSeq, kind, body);
    const p = new Promise<number>((resolve, reject) => {
      const prop: Proposal = { id: id.toString('hex'), data, confChange: null, index: 0, term: 0, resolve: () => resolve(prop.index), reject };
      this.queue.push(prop);
    });
    this.host.schedule(this);
    return p;
  }

  hasQueuedProposals(): boolean {
    return this.queue.length > 0;
  }

  /** Hands every queued proposal to Raft as one batch (consecutive entries, one MsgApp). */
  flushProposals(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    if (this.failed || this.removed) {
      for (const p of batch) p.reject(this.failed ? new ReplicaUnavailableError(this.rangeId, this.failed.message) : new RangeNotFoundError(this.rangeId, this.host.nodeId));
      return;
    }
    // Runs of normal proposals go as one batch; a membership change goes on its own, in order.
    for (let i = 0; i < batch.length; ) {
      let j = i;
      while (j < batch.length && (batch[j] as Proposal).confChange === null) j++;
      if (j > i) this.appendToRaft(batch.slice(i, j), null);
      if (j < batch.length) this.appendToRaft([batch[j] as Proposal], (batch[j] as Proposal).confChange);
      i = j + 1;
    }
  }

  private appendToRaft(batch: Proposal[], cc: Proposal['confChange']): void {
    try {
      const h = cc ? this.raw.proposeConfChange({ type: cc.type, nodeId: cc.replicaId, context: (batch[0] as Proposal).data }) : this.raw.proposeBatch(batch.map((p) => p.data));
      assert(h.kind === 'appended', 'a proposal was forwarded although forwarding is disabled');
      batch.forEach((p, i) => {
        p.index = h.index - batch.length + 1 + i;
        p.term = h.term;
        this.inflight.set(p.id, p);
      });
      this.host.noteProposed?.(batch.length);
    } catch (e) {
      // Certainly not appended: this replica is not the leader (any more), or Raft refused.
      const err = e instanceof ProposalDroppedError ? this.dropped(e) : e;
      for (const p of batch) p.reject(err);
    }
  }

  // ---- membership and lease transfer (the leaseholder's admin operations) -----------------

  /**
   * Changes the range's members by one replica, through a conf-change entry carrying the new
   * descriptor (single-step membership: raft README). `addLearner` gives the node a new replica id;
   * the learner is caught up by a snapshot; `promote` makes a learner a voter; `remove` takes a
   * replica out (a leaseholder moves its lease away first). Resolves when the change applied here.
   */
  async changeReplicas(op: 'addLearner' | 'promote' | 'remove', nodeId: number): Promise<RangeDescriptor> {
    await this.waitForLease();
    const cur = this.desc as RangeDescriptor;
    const next: RangeDescriptor = { ...cur, replicas: cur.replicas.map((x) => ({ ...x })), generation: cur.generation + 1 };
    let cc: { type: ConfChangeType; replicaId: number };
    const existing = replicaOnNode(cur, nodeId);
    if (op === 'addLearner') {
      if (existing) throw new PgError(SqlState.ObjectNotInPrerequisiteState, `node ${nodeId} already has a replica of range ${this.rangeId}`);
      const replicaId = cur.nextReplicaId;
      next.nextReplicaId = replicaId + 1;
      next.replicas.push({ nodeId, storeId: nodeId, replicaId, type: 'learner' });
      cc = { type: ConfChangeType.AddLearner, replicaId };
    } else if (op === 'promote') {
      if (!existing || existing.type !== 'learner') throw new PgError(SqlState.ObjectNotInPrerequisiteState, `node ${nodeId} has no learner of range ${this.rangeId}`);
      (replicaOnNode(next, nodeId) as ReplicaDescriptor).type = 'voter';
      cc = { type: ConfChangeType.AddNode, replicaId: existing.replicaId };
    } else {
      if (!existing) throw new PgError(SqlState.ObjectNotInPrerequisiteState, `node ${nodeId} has no replica of range ${this.rangeId}`);
      if (existing.replicaId === this.replicaId) throw new PgError(SqlState.ObjectNotInPrerequisiteState, `range ${this.rangeId}: the leaseholder cannot remove itself; transfer the lease first`);
      next.replicas = next.replicas.filter((x) => x.nodeId !== nodeId);
      cc = { type: ConfChangeType.RemoveNode, replicaId: existing.replicaId };
    }
    const id = newProposalId();
    const data = encodeCommand(id, this.lease.seq, CommandKind.ChangeReplicas, encodeDescriptor(next));
    await new Promise<number>((resolve, reject) => {
      const prop: Proposal = { id: id.toString('hex'), data, confChange: cc, index: 0, term: 0, resolve: () => resolve(prop.index), reject };
      this.queue.push(prop);
      this.host.schedule(this);
    });
    if (this.desc?.generation !== next.generation) throw new PgError(SqlState.SerializationFailure, `range ${this.rangeId}: the descriptor changed concurrently; retry the replica change`);
    return this.desc;
  }

  /** The leader's view of how far a replica's log matches its own (0 if unknown or not the leader). */
  matchOf(replicaId: number): number {
    return this.raw.status().progress?.get(replicaId)?.match ?? 0;
  }

  /**
   * Hands the lease (and Raft leadership, which it follows) to the replica on `nodeId`: Raft
   * catches the target up and tells it to campaign; this replica stops serving at once (Raft
   * revokes its tick lease when it sends TimeoutNow), and the target takes a new lease when it leads.
   */
  transferLease(nodeId: number): void {
    const target = this.desc ? replicaOnNode(this.desc, nodeId) : undefined;
    if (!target || target.type !== 'voter') throw new PgError(SqlState.ObjectNotInPrerequisiteState, `node ${nodeId} has no voter of range ${this.rangeId}`);
    this.raw.transferLeader(target.replicaId);
    this.host.schedule(this);
  }

  /** The proposal that produced an entry, if this replica proposed it (removed from tracking). */
  takeProposal(id: string, e: Entry): Proposal | undefined {
    const p = this.inflight.get(id);
    if (!p) return undefined;
    assert(p.index === e.index, () => `proposal ${id} applied at ${e.index}, appended at ${p.index}`);
    this.inflight.delete(id);
    return p;
  }

  /** After applying up to `index`: proposals Raft had placed at or below it and that did not apply were overwritten. */
  failOverwritten(index: number): void {
    for (const [id, p] of this.inflight) {
      if (p.index > index) continue;
      this.inflight.delete(id);
      p.reject(new AmbiguousResultError(`range ${this.rangeId}: the proposal at index ${p.index} (term ${p.term}) was replaced by a new leader's entry`));
    }
  }

  /** Fails every proposal (the replica stops or is removed); queued ones certainly did not apply. */
  private failAllProposals(inflightErr: Error, queuedErr: Error): void {
    for (const p of this.queue) p.reject(queuedErr);
    this.queue = [];
    for (const p of this.inflight.values()) p.reject(inflightErr);
    this.inflight.clear();
  }

  // ---- the Raft driver (called by the store's round, in etcd's order) ------------------------

  /** rd's entries and hard state are durable in the log: record them in the storage. */
  persisted(rd: Ready): void {
    if (rd.entries.length > 0) this.storage.append(rd.entries);
    if (rd.hardState) {
      this.storage.hardState = rd.hardState;
      this.lastHardState = rd.hardState;
    }
  }

  /** Applies committed entries (or queues them behind an apply that waits). */
  applyCommitted(entries: Entry[]): void {
    for (const e of entries) this.pendingApply.push(e);
    this.applyQueued();
  }

  applyQueued(): void {
    if (this.applyBlocked || this.failed || this.pendingApply.length === 0) return;
    try {
      const wait = applyEntries(this, this.pendingApply);
      if (wait) {
        this.applyBlocked = wait.then(
          () => {
            this.applyBlocked = null;
            this.host.schedule(this);
          },
          (e: unknown) => {
            this.applyBlocked = null;
            this.fail(e);
          },
        );
      }
    } catch (e) {
      this.fail(e);
    }
  }

  /**
   * A local fault while applying (EIO, ENOSPC, a failed rewrite): the applied index stays before
   * the failed entry and the replica stops serving; a restart replays the log from there. Nothing
   * acknowledged is skipped.
   */
  fail(e: unknown): void {
    if (this.failed) return;
    this.failed = e instanceof Error ? e : new Error(String(e));
    this.log.error({ err: this.failed, appliedIndex: this.appliedIndex }, 'replica stopped: applying its log failed; it recovers by replaying the log after a restart');
    this.failAllProposals(
      new AmbiguousResultError(`range ${this.rangeId}: applying the log failed on node ${this.host.nodeId} (${this.failed.message})`),
      new ReplicaUnavailableError(this.rangeId, this.failed.message),
    );
    this.notifyWaiters();
  }

  /** After a Ready was processed: leadership changes take or drop the lease; waiters re-check. */
  afterReady(rd: Ready): void {
    if (rd.softState) {
      if (rd.softState.raftState === StateType.Leader) this.requestLease();
      else if (this.lease.replicaId === this.replicaId) {
        this.locks.clear();
        this.txnWaits.clear();
      }
    }
    this.storage.trimCache();
    this.notifyWaiters();
  }

  notifyWaiters(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Messages for the network (after persisting): converted and sent by the store. */
  step(m: Message): void {
    if (this.failed || this.removed) return;
    this.raw.step(m);
    this.host.schedule(this);
  }

  /** The replica is going away (removed, or the store closes). */
  close(why: string): void {
    this.failAllProposals(new AmbiguousResultError(`range ${this.rangeId}: ${why}`), new RangeNotFoundError(this.rangeId, this.host.nodeId));
    this.notifyWaiters();
  }

  /** A snapshot replaced the replica's state (snapshot/install.ts wrote it). */
  snapshotInstalled(state: ReplicaState, confState: ConfState): void {
    this.desc = state.desc;
    this.lease = state.lease;
    this.leaseHistory = state.leaseHistory;
    this.gcThreshold = state.gcThreshold;
    this.envelopeFrom = state.envelopeFrom;
    this.storage.applySnapshot(state.applied.index, state.applied.term, confState);
    this.setApplied(state.applied.index, state.applied.term);
    this.durableAppliedIndex = state.applied.index;
    this.pendingApply.length = 0;
    this.tscache.clear(0n);
    this.locks.clear();
    this.txnWaits.clear();
    this.checksums.clear();
    this.staged = null;
    this.log.info({ index: state.applied.index, desc: describeRange(state.desc) }, 'snapshot installed');
  }

  /** Applied state of the replica (after apply.ts wrote it). */
  setApplied(index: number, term: number): void {
    this.appliedIndex = index;
    this.appliedTerm = term;
    this.storage.setApplied(index, term);
  }
}

/** Waits until the local clock has passed `ts` (commit wait for writes pushed into the future). */
async function commitWait(clock: HybridClock, timers: Timers, ts: Timestamp): Promise<void> {
  while (clock.now() <= ts) await sleep(timers, Math.max(1, Math.min(wallMs(ts) - timers.now(), 50)));
}

export type { BatchHeader };
