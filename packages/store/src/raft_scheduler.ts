/**
 * Drives Raft for the replicas of a store: the ticker (every raftTickIntervalMs: Raft ticks,
 * quiescence of idle ranges, the maintenance queues) and the rounds. Only replicas with work are
 * processed (the pending set: proposals, messages, ticks); one round handles each one's Ready in
 * etcd's order — persist entries and hard states with one log write and one fsync for the whole
 * round, send messages, apply committed entries, advance. A Ready carrying a snapshot is
 * installed on its own (snapshot/inbound.ts) and finished with finishReady.
 *
 * INVARIANT: only one Raft round is in flight at a time; work arriving meanwhile joins the next.
 * INVARIANT: messages of a Ready are sent only after its entries and hard state are durable.
 */
import { logger, sleep } from '@strata/common';
import type { TimerHandle } from '@strata/common';
import { MessageType, StateType } from '@strata/raft';
import type { Ready } from '@strata/raft';
import { quiesceAfterIdleTicks, raftTickIntervalMs, raftTicksCatchUpMax, raftTicksStaleMs, tsFlushRowsMax } from './constants.js';
import { LogSyncError } from './raftlog/log_fs.js';
import type { LogRecord } from './raftlog/logfile.js';
import type { Replica } from './replica/replica.js';
import type { Store } from './store.js';
import type { RaftMessageRequest } from './transport.js';
import { installReadySnapshot } from './snapshot/inbound.js';

export class RaftScheduler {
  private readonly logger = logger('store');
  /** Replicas with work for the next round. */
  private readonly pending = new Set<Replica>();
  private roundRunning = false;
  private roundScheduled = false;
  private ticker: TimerHandle | null = null;
  /** When the last tick ran (timers' clock, ms). */
  private lastTickMs = 0;
  private stopped = false;

  constructor(private readonly store: Store) {}

  /** Starts ticking. */
  start(): void {
    this.ticker = this.store.timers.setInterval(() => this.tick(), raftTickIntervalMs);
    this.ticker.unref?.();
  }

  /** Stops ticking and scheduling rounds; resolves once the round in flight (if any) is over. */
  async stop(): Promise<void> {
    this.halt();
    while (this.roundRunning) await sleep(this.store.timers, 5);
  }

  /** Stops at once (a fatal storage error): no more ticks, rounds or pending work. */
  halt(): void {
    this.stopped = true;
    this.pending.clear();
    if (this.ticker) this.store.timers.clearInterval(this.ticker);
    this.ticker = null;
  }

  /** The replica has work: it joins the next round (scheduled now). */
  schedule(r: Replica): void {
    this.pending.add(r);
    this.scheduleRound();
  }

  /** The replica has work for the next round (scheduled by the caller, or the next tick). */
  add(r: Replica): void {
    this.pending.add(r);
  }

  /** The replica is gone: no round handles it. */
  forget(r: Replica): void {
    this.pending.delete(r);
  }

  /** Ticks now if the last tick is older than raftTicksStaleMs (ReplicaHost.catchUpTicks). */
  catchUpTicks(): void {
    if (this.lastTickMs !== 0 && !this.stopped && this.store.timers.now() - this.lastTickMs > raftTicksStaleMs) this.tick();
  }

  private tick(): void {
    const now = this.store.timers.now();
    // The interval's tick right after a catch-up tick would count the same time twice.
    if (this.lastTickMs !== 0 && now - this.lastTickMs < raftTickIntervalMs / 2) return;
    // Ticks missed while the process was paused or the loop stalled are made up (bounded): a
    // leader that cannot have heard from a quorum meanwhile then steps down (check-quorum)
    // instead of serving on a lease that expired everywhere else.
    const missed = this.lastTickMs === 0 ? 0 : Math.min(raftTicksCatchUpMax, Math.floor((now - this.lastTickMs) / raftTickIntervalMs) - 1);
    this.lastTickMs = now;
    if (missed > 0) {
      if (missed >= 3) this.logger.warn({ missedTicks: missed, stalledMs: missed * raftTickIntervalMs }, 'raft ticks were missed (the process was paused or its event loop stalled): leases count them');
      for (const r of this.store.replicas.values()) {
        if (r.failed || r.installing) continue;
        for (let i = 0; i < missed; i++) r.raw.tick();
        this.pending.add(r);
      }
    }
    for (const r of this.store.replicas.values()) {
      if (r.failed || r.raw.isQuiesced() || r.installing) continue;
      if (++r.idleTicks >= quiesceAfterIdleTicks && r.isLeader && r.canQuiesce() && r.raw.quiesce()) {
        this.store.stats.quiesced++;
        this.pending.add(r); // the final heartbeat tells the followers
        continue;
      }
      r.raw.tick();
      this.pending.add(r);
    }
    this.scheduleRound();
    this.store.queues.tick();
  }

  scheduleRound(): void {
    if (this.roundRunning || this.roundScheduled || this.stopped) return;
    this.roundScheduled = true;
    // setImmediate: every proposal made in this event-loop turn joins the round.
    this.store.timers.setImmediate(() => {
      this.roundScheduled = false;
      void this.runRounds();
    });
  }

  /** Processes replicas with work until none is left. */
  async runRounds(): Promise<void> {
    if (this.roundRunning) return;
    this.roundRunning = true;
    try {
      while (this.pending.size > 0 && !this.stopped) {
        const batch = [...this.pending];
        this.pending.clear();
        await this.round(batch);
      }
    } finally {
      this.roundRunning = false;
    }
    if (this.pending.size > 0) this.scheduleRound();
  }

  private async round(batch: Replica[]): Promise<void> {
    const store = this.store;
    const readies: { r: Replica; rd: Ready }[] = [];
    for (const r of batch) {
      if (r.failed || r.removed || r.installing) continue;
      r.flushProposals();
      if (!r.raw.hasReady()) {
        r.applyQueued();
        continue;
      }
      const rd = r.raw.ready();
      // A soft state comes only with a change; Leader there means this replica just won an election.
      if (rd.softState?.raftState === StateType.Leader) store.stats.leaderChanges++;
      if (rd.snapshot) installReadySnapshot(store, r, rd);
      else readies.push({ r, rd });
    }
    if (readies.length === 0) return;
    // 1. Persist entries and hard states: one write, one fsync for the round.
    const records: LogRecord[] = [];
    for (const { r, rd } of readies) {
      if (rd.entries.length > 0) records.push({ kind: 'entries', rangeId: r.rangeId, entries: rd.entries });
      if (rd.hardState) records.push({ kind: 'hardState', rangeId: r.rangeId, hardState: rd.hardState });
    }
    if (records.length > 0) {
      try {
        await store.log.append(records);
        store.stats.logRounds++;
        store.stats.logBytes = store.log.sizeBytes();
      } catch (e) {
        if (e instanceof LogSyncError) {
          // Earlier writes may be lost with the failed sync: stop, and recover from the log after a restart.
          for (const { r } of readies) r.raw.abandonReady();
          store.stopOnFatal(e);
          return;
        }
        // A failed write (ENOSPC…): nothing of this round is durable; the entries are still
        // unstable in Raft and are written again next round.
        this.logger.error({ err: e }, 'raft log append failed; retrying');
        for (const { r } of readies) {
          r.raw.abandonReady();
          this.pending.add(r);
        }
        await sleep(store.timers, raftTickIntervalMs);
        return;
      }
    }
    for (const { r, rd } of readies) r.persisted(rd);
    // 2. Send messages (they may depend on what was just persisted).
    const out = new Map<number, RaftMessageRequest[]>();
    for (const { r, rd } of readies) this.outgoing(r, rd, out);
    this.sendBatches(out);
    // 3. Apply committed entries, 4. advance.
    for (const { r, rd } of readies) this.applyAndAdvance(r, rd);
    for (const { r } of readies) if (store.ts.unflushedRows(r.rangeId) >= tsFlushRowsMax) store.queues.flushTs(r);
    const applied = readies.map(({ r }) => [r, r.appliedIndex] as const);
    void store.engine.flushed().then(() => {
      for (const [r, i] of applied) if (i > r.durableAppliedIndex) r.durableAppliedIndex = i;
    });
  }

  /** The rest of a Ready whose snapshot was installed: persisted, messages sent, entries applied, advanced. */
  finishReady(r: Replica, rd: Ready): void {
    r.persisted(rd);
    const out = new Map<number, RaftMessageRequest[]>();
    this.outgoing(r, rd, out);
    this.sendBatches(out);
    this.applyAndAdvance(r, rd);
  }

  private sendBatches(out: Map<number, RaftMessageRequest[]>): void {
    const now = this.store.clock.now();
    for (const [toNodeId, messages] of out) this.store.transport.send({ fromNodeId: this.store.nodeId, toNodeId, now, messages });
  }

  /** Groups a Ready's messages by destination node; MsgSnap starts a snapshot stream instead. */
  private outgoing(r: Replica, rd: Ready, out: Map<number, RaftMessageRequest[]>): void {
    for (const m of rd.messages) {
      const to = r.desc?.replicas.find((x) => x.replicaId === m.to) ?? r.peerOf(m.to);
      if (!to) continue;
      if (m.type === MessageType.Snap) {
        this.store.queues.sendSnapshot(r, m, to);
        continue;
      }
      let list = out.get(to.nodeId);
      if (!list) out.set(to.nodeId, (list = []));
      list.push({ rangeId: r.rangeId, fromReplicaId: r.replicaId, toReplicaId: m.to, message: m });
    }
  }

  private applyAndAdvance(r: Replica, rd: Ready): void {
    r.applyCommitted(rd.committedEntries);
    r.raw.advance(rd);
    r.afterReady(rd);
    if (r.removed) this.store.destroyReplica(r, 'removed from the range');
  }
}
