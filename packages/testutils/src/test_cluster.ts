/**
 * TestCluster: N stores in one process on a virtual clock (SimScheduler) and a seeded faulty
 * network (SimNetwork) — the real Store, Replica, Raft, batcheval, snapshot and TS engine code,
 * with in-memory engines and Raft logs that model durability (a crash loses unsynced log bytes;
 * a power cut also loses the engine's unflushed writes). Each node's clock runs at its own rate
 * and offset. Everything random comes from the seed, so a failing seed replays exactly.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HybridClock, assert, makeTimestamp } from '@strata/common';
import type { Timers, Timestamp } from '@strata/common';
import { MemEngine, decodeDescriptor } from '@strata/kv';
import type { BatchRequest, BatchResponse, KvRequest, RangeDescriptor } from '@strata/kv';
import { DistSender, KvTxn } from '@strata/kvclient';
import { mulberry32 } from '@strata/raft';
import { MemLogFs, Store, maxClockOffsetMs, systemRangeOf } from '@strata/store';
import type { Replica, StoreKnobs } from '@strata/store';
import { runRewrite } from '@strata/ts';
import type { RewriteJob, RewriteResult } from '@strata/ts';
import { NodeLiveness, putNode } from '@strata/cluster';
import { SimNetwork, calmNetwork } from './sim_network.js';
import type { NetworkFaults } from './sim_network.js';
import { SimScheduler } from './sim_scheduler.js';

export interface TestClusterOptions {
  nodes: number;
  seed: number;
  /** A directory for the nodes' TS files and snapshot staging (removed by stop()). */
  dir: string;
  faults?: NetworkFaults;
  /** Clock rates within 1 ± this, offsets within ± maxOffset/2 (so any two stay within maxOffset). */
  clockSkew?: number;
  knobs?: Partial<StoreKnobs>;
  /**
   * Run node liveness on every node (heartbeats through the cluster) and give the stores a
   * cluster view: their replicate queues then place replicas by themselves.
   */
  liveness?: { heartbeatMs: number; expiryMs: number; timeUntilStoreDeadMs: number; nonVotersEverywhere?: boolean };
}

export interface SimNode {
  id: number;
  store: Store | null;
  engine: MemEngine;
  logFs: MemLogFs;
  dir: string;
  rate: number;
  offsetMs: number;
  /** Bumped by a crash: timers of an older incarnation do nothing. */
  incarnation: number;
  clock: HybridClock;
  timers: Timers;
  liveness: NodeLiveness | null;
}

/** A simulation's test knobs: small logs so truncation forces snapshots; GC after seconds. */
export const simKnobs: Partial<StoreKnobs> = { raftLogTruncateEntriesMin: 20, raftLogKeepForFollowersEntriesMax: 50, gcTtlMs: 5_000, gcQueueIntervalMs: 1_000, txnExpiryMs: 1_500, intentWaitMs: 4_000 };

/** Heartbeat interval of simulated clients' transactions with intents (a fifth of simKnobs.txnExpiryMs). */
export const simTxnHeartbeatMs = 300;

export class TestCluster {
  readonly sched = new SimScheduler();
  readonly rand: () => number;
  readonly net: SimNetwork;
  readonly nodes = new Map<number, SimNode>();
  /** The clients' clock (node 0): real time of the simulation. */
  readonly clientClock: HybridClock;
  readonly clientTimers: Timers;
  readonly maxOffset: Timestamp = makeTimestamp(maxClockOffsetMs, 0);
  readonly trace: string[] = [];

  private constructor(readonly o: TestClusterOptions) {
    this.rand = mulberry32(o.seed >>> 0);
    this.net = new SimNetwork(this.sched, this.rand, o.faults ?? calmNetwork, (id) => this.nodes.get(id)?.store ?? null);
    this.clientTimers = this.sched.timers(1, 0, () => true);
    this.clientClock = new HybridClock(() => this.clientTimers.now());
  }

  /** Starts the nodes; node 1 bootstraps range 1 with itself as its only voter. */
  static async start(o: TestClusterOptions): Promise<TestCluster> {
    const c = new TestCluster(o);
    rmSync(o.dir, { recursive: true, force: true });
    for (let id = 1; id <= o.nodes; id++) {
      const skew = o.clockSkew ?? 0;
      const rate = 1 + (c.rand() * 2 - 1) * skew;
      const offsetMs = skew > 0 ? (c.rand() * 2 - 1) * (maxClockOffsetMs / 2) * 0.9 : 0;
      const node: SimNode = {
        id,
        store: null,
        engine: new MemEngine(),
        logFs: new MemLogFs(),
        dir: join(o.dir, `n${id}`),
        rate,
        offsetMs,
        incarnation: 0,
        clock: new HybridClock(() => 0),
        timers: c.clientTimers,
        liveness: null,
      };
      mkdirSync(node.dir, { recursive: true });
      c.nodes.set(id, node);
      await c.boot(node, id === 1);
    }
    return c;
  }

  private async boot(node: SimNode, bootstrap: boolean): Promise<void> {
    const incarnation = ++node.incarnation;
    const alive = () => node.incarnation === incarnation && node.store !== null;
    node.timers = this.sched.timers(node.rate, node.offsetMs, () => node.incarnation === incarnation);
    node.clock = new HybridClock(() => node.timers.now());
    node.engine.autoSync = true;
    node.logFs.defer = (f) => void this.sched.after(1, () => node.incarnation === incarnation && f());
    const lv = this.o.liveness;
    const startedAt = node.timers.now();
    if (lv) {
      const sender = new DistSender({ dialer: this.net.dialer(node.id), timers: node.timers, clock: node.clock, knownNodes: () => this.nodeIds(), deadlineMs: lv.heartbeatMs });
      node.liveness = new NodeLiveness({
        nodeId: node.id,
        timers: node.timers,
        txn: () => new KvTxn({ sender, clock: node.clock, maxOffset: this.maxOffset, rangeOf: systemRangeOf, timers: node.timers }),
        heartbeatMs: lv.heartbeatMs,
        expiryMs: lv.expiryMs,
        timeUntilStoreDeadMs: () => lv.timeUntilStoreDeadMs,
        nonVotersEverywhere: lv.nonVotersEverywhere ?? false,
        onHeartbeat: (t) => {
          const replicas = [...(node.store?.replicas.values() ?? [])];
          putNode(t, {
            nodeId: node.id,
            rpcAddr: `sim:${node.id}`,
            sqlAddr: `sim:${node.id}`,
            httpAddr: `sim:${node.id}`,
            build: 'sim',
            startedAt: startedAt,
            updatedAt: node.timers.now(),
            replicas: replicas.length,
            leaseholders: replicas.filter((r) => r.holdsValidLease()).length,
          });
        },
      });
    }
    const opening = Store.open(node.dir, {
      nodeId: node.id,
      bootstrap,
      livenessRange: lv !== undefined,
      engine: node.engine,
      logFs: node.logFs,
      timers: node.timers,
      clock: node.clock,
      transport: this.net.transportFor(node.id),
      raftSeed: this.o.seed,
      knobs: this.o.knobs ?? simKnobs,
      freeDiskBytes: () => Number.MAX_SAFE_INTEGER,
      ...(node.liveness ? { cluster: node.liveness } : {}),
      runRewrite: (job: RewriteJob) => this.runRewrite(node, incarnation, job),
    });
    const r = await this.sched.settle(opening, 60_000);
    assert(r.ok === true, () => `node ${node.id} did not open: ${r.ok === false ? String(r.error) : 'timeout'}`);
    node.store = r.value;
    node.liveness?.start();
    void alive;
  }

  /** TS rewrites run in process and finish a little later on the virtual clock. */
  private runRewrite(node: SimNode, incarnation: number, job: RewriteJob): Promise<RewriteResult> {
    return new Promise((resolve, reject) => {
      this.sched.after(5 + this.rand() * 20, () => {
        if (node.incarnation !== incarnation) return reject(new Error('node crashed'));
        try {
          resolve(runRewrite(job));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  log(msg: string): void {
    this.trace.push(`${this.sched.now.toFixed(1)} ${msg}`);
  }

  nodeIds(): number[] {
    return [...this.nodes.keys()];
  }

  store(id: number): Store {
    const s = this.nodes.get(id)?.store;
    assert(s, `node ${id} is down`);
    return s;
  }

  liveNodes(): number[] {
    return this.nodeIds().filter((id) => this.nodes.get(id)?.store);
  }

  /** The replica of a range on a node, if it is up and has one. */
  replica(nodeId: number, rangeId = 1): Replica | undefined {
    return this.nodes.get(nodeId)?.store?.replicas.get(rangeId);
  }

  /** The node whose replica holds a valid lease, if any. */
  leaseholder(rangeId = 1): number | null {
    for (const id of this.liveNodes()) if (this.replica(id, rangeId)?.holdsValidLease()) return id;
    return null;
  }

  /** The range's descriptor as the most up-to-date live replica has it. */
  descriptor(rangeId = 1): RangeDescriptor | null {
    let best: RangeDescriptor | null = null;
    for (const id of this.liveNodes()) {
      const d = this.replica(id, rangeId)?.desc;
      if (d && (!best || d.generation > best.generation)) best = d;
    }
    return best;
  }

  /** Runs the simulation for `ms` virtual milliseconds. */
  runFor(ms: number): Promise<void> {
    return this.sched.run(this.sched.now + ms);
  }

  /** Runs until `p` settles or `timeoutMs` of virtual time pass. */
  settle<T>(p: Promise<T>, timeoutMs = 30_000) {
    return this.sched.settle(p, timeoutMs);
  }

  /** Waits (virtual time) until `cond` holds; false if it did not within `timeoutMs`. */
  async waitFor(cond: () => boolean, timeoutMs = 30_000): Promise<boolean> {
    const deadline = this.sched.now + timeoutMs;
    while (!cond()) {
      if (this.sched.now >= deadline) return false;
      await this.sched.run(this.sched.now + 50, cond);
    }
    return true;
  }

  // ---- faults ----------------------------------------------------------------------------------

  /**
   * Kills a node: its Raft log loses unsynced bytes (and, with `powerCut`, its engine loses what it
   * had not flushed). Its timers stop; messages to it are lost until restart().
   */
  crash(nodeId: number, powerCut = false): void {
    const node = this.nodes.get(nodeId);
    if (!node?.store) return;
    this.log(`crash n${nodeId}${powerCut ? ' (power cut)' : ''}`);
    const store = node.store;
    node.store = null;
    node.incarnation++;
    node.liveness?.stop();
    node.logFs.crash(Math.floor(this.rand() * 3) * 7);
    if (powerCut) node.engine.powerCut();
    store.ts.close();
  }

  async restart(nodeId: number): Promise<void> {
    const node = this.nodes.get(nodeId);
    assert(node && !node.store, `node ${nodeId} is not down`);
    this.log(`restart n${nodeId}`);
    await this.boot(node, false);
  }

  // ---- membership ------------------------------------------------------------------------------

  /** Runs an admin operation on the range's leaseholder (waiting for one). */
  private async onLeaseholder<T>(rangeId: number, f: (r: Replica) => Promise<T> | T, timeoutMs = 20_000): Promise<T> {
    const ok = await this.waitFor(() => this.leaseholder(rangeId) !== null, timeoutMs);
    assert(ok, `range ${rangeId} has no leaseholder`);
    const r = this.replica(this.leaseholder(rangeId) as number, rangeId) as Replica;
    const out = await this.settle(Promise.resolve(f(r)), timeoutMs);
    if (out.ok === true) return out.value;
    throw out.ok === false ? out.error : new Error('admin operation timed out');
  }

  /** Adds a voter on `nodeId`: a learner first, caught up by a snapshot, then promoted. */
  async addVoter(nodeId: number, rangeId = 1): Promise<void> {
    this.log(`add voter n${nodeId}`);
    await this.onLeaseholder(rangeId, (r) => r.changeReplicas('addLearner', nodeId));
    const caughtUp = await this.waitFor(() => {
      const lh = this.leaseholder(rangeId);
      const r = lh === null ? undefined : this.replica(lh, rangeId);
      const learner = r?.desc?.replicas.find((x) => x.nodeId === nodeId);
      return !!(r && learner && r.matchOf(learner.replicaId) >= r.appliedIndex);
    });
    assert(caughtUp, `the learner on n${nodeId} did not catch up`);
    await this.onLeaseholder(rangeId, (r) => r.changeReplicas('promote', nodeId));
  }

  async removeReplica(nodeId: number, rangeId = 1): Promise<void> {
    this.log(`remove n${nodeId}`);
    if (this.leaseholder(rangeId) === nodeId) await this.transferLease(this.descriptor(rangeId)?.replicas.find((x) => x.nodeId !== nodeId && x.type === 'voter')?.nodeId ?? 0, rangeId);
    await this.onLeaseholder(rangeId, (r) => r.changeReplicas('remove', nodeId));
  }

  async transferLease(toNodeId: number, rangeId = 1): Promise<void> {
    this.log(`transfer lease to n${toNodeId}`);
    await this.onLeaseholder(rangeId, (r) => r.transferLease(toNodeId));
    await this.waitFor(() => this.leaseholder(rangeId) === toNodeId, 5_000);
  }

  // ---- clients ---------------------------------------------------------------------------------

  /** A KV client (DistSender) outside the cluster, reaching nodes through the network. */
  client(deadlineMs = 10_000): Client {
    const sender = new DistSender({ dialer: this.net.dialer(0), timers: this.clientTimers, clock: this.clientClock, knownNodes: () => this.nodeIds(), deadlineMs });
    return new Client(this, sender);
  }

  /**
   * Digests of every live replica of a range at one log index: a checksum command is proposed and
   * each replica records its digest when it applies it. A replica that skipped the command (a
   * snapshot took it past the index) has none, so the command is proposed again, a few times.
   */
  async checksums(rangeId = 1): Promise<Map<number, { index: number; digest: string }>> {
    let out = new Map<number, { index: number; digest: string }>();
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await this.settle(this.client().request(rangeId, { kind: 'computeChecksum' }), 30_000);
      assert(res.ok === true, () => `checksum command failed: ${res.ok === false ? String(res.error) : 'timeout'}`);
      const r0 = res.value.responses[0];
      const index = r0?.kind === 'computeChecksum' ? r0.index : 0;
      const members = (this.descriptor(rangeId)?.replicas ?? []).map((x) => x.nodeId);
      await this.waitFor(() => members.every((n) => !this.nodes.get(n)?.store || (this.replica(n, rangeId)?.appliedIndex ?? 0) >= index), 30_000);
      out = new Map();
      for (const n of members) {
        const d = this.replica(n, rangeId)?.checksums.get(index);
        if (d) out.set(n, { index, digest: d });
      }
      if (out.size === members.length) break;
    }
    return out;
  }

  /** One line per node: its replica's Raft and lease state (for traces of failing seeds). */
  describe(rangeId = 1): string[] {
    return this.nodeIds().map((n) => {
      const r = this.replica(n, rangeId);
      if (!this.nodes.get(n)?.store) return `n${n}: down`;
      if (!r) return `n${n}: no replica`;
      const st = r.raw.status();
      const prog = st.progress ? [...st.progress].map(([id, p]) => `${id}:${p.match}/${p.next}${p.state[0]}${p.recentActive ? '' : '!'}`).join(' ') : '';
      return `n${n}: r${r.replicaId} ${st.softState.raftState} term ${st.hardState.term} lead ${st.softState.lead} commit ${st.hardState.commit} applied ${r.appliedIndex} last ${r.storage.lastIndex()} first ${r.storage.firstIndex()} lease #${r.lease.seq}@r${r.lease.replicaId} valid ${r.holdsValidLease()} raftLease ${st.leaseValid} failed ${r.failed?.message ?? '-'} pending ${r.pendingApply.length} blocked ${r.applyBlocked !== null} conf ${JSON.stringify(st.confState)} ${prog}`;
    });
  }

  async stop(): Promise<void> {
    for (const node of this.nodes.values()) {
      const s = node.store;
      node.store = null;
      node.incarnation++;
      node.liveness?.stop();
      s?.ts.close();
    }
    rmSync(this.o.dir, { recursive: true, force: true });
  }
}

/** A client of the simulated cluster: raw requests and transactions through a DistSender. */
export class Client {
  constructor(
    readonly cluster: TestCluster,
    readonly sender: DistSender,
  ) {}

  request(rangeId: number, req: KvRequest, ts: Timestamp = 0n): Promise<BatchResponse> {
    const ba: BatchRequest = { header: { rangeId, timestamp: ts || this.cluster.clientClock.now(), txn: null, now: this.cluster.clientClock.now() }, requests: [req] };
    return this.sender.send(ba);
  }

  txn(opts: { flushBytes?: number; heartbeatMs?: number } = {}): KvTxn {
    return new KvTxn({ sender: this.sender, clock: this.cluster.clientClock, maxOffset: this.cluster.maxOffset, rangeOf: systemRangeOf, timers: this.cluster.clientTimers, heartbeatMs: simTxnHeartbeatMs, ...opts });
  }

  async descriptor(rangeId = 1): Promise<RangeDescriptor | null> {
    const res = await this.request(rangeId, { kind: 'rangeDescriptor' });
    const r = res.responses[0];
    return r?.kind === 'rangeDescriptor' ? decodeDescriptor(r.descriptor) : null;
  }
}
