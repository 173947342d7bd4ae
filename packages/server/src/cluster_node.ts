/**
 * A node's membership in a multi-node cluster (`strata start --join`): its identity, its store on
 * the gRPC wire, its liveness heartbeats and registry entry, the clock-offset monitor, and the
 * admin calls it answers (init, join, node status, decommission).
 *
 * Start-up:
 *   1. the RPC server listens at once (init and join calls must reach a node that has no store);
 *   2. the store identity (ident.ts) is read; without one the node waits until either
 *      `strata init` reaches it (it then bootstraps the cluster: node 1, the first range) or one
 *      of its --join addresses lets it in (a node id from the cluster's counter);
 *   3. the store opens on the gRPC transport with this node's liveness as its cluster view: the
 *      replicate queues of the ranges' leaseholders then give it replicas (voters up to the
 *      replication factor, non-voters beyond so every node can serve SQL from its own replica).
 *
 * Node addresses: the join answer carries the addresses the answering node knows; from then on
 * the registry (/Nodes/registry/*, in the liveness range, written by every node with its heartbeats) is read every
 * heartbeat round, and a join answer records the new node's address at once.
 *
 * INVARIANT: a node id is used by one store of the cluster (allocated by increment, or 1 for the
 *   initializing node) and a store never changes cluster.
 */
import { HybridClock, PgError, SqlState, logger, makeTimestamp, realTimers } from '@strata/common';
import type { Logger } from '@strata/common';
import { NodeLiveness, allocateNodeId, initCounters, newClusterIdent, nodeStatusRows, putNode, readIdent, readNodes, writeIdent } from '@strata/cluster';
import type { StoreIdent } from '@strata/cluster';
import type { BatchRequest, BatchResponse } from '@strata/kv';
import { DistSender, KvTxn } from '@strata/kvclient';
import type { NodeDialer } from '@strata/kvclient';
import { Connections, GrpcNodeDialer, GrpcRaftTransport, RemoteClockMonitor, RpcServer, adminClient } from '@strata/rpc';
import type { DecommissionRequest, JoinRequest, JoinResponse, NodeAdmin, NodeStatus, NotifyRequest, RpcCredentials, RpcObserver, RpcServices } from '@strata/rpc';
import { Store, maxClockOffsetMs, metaRangeId, systemRangeOf, systemRangeZones } from '@strata/store';
import type { RaftMessageBatch, SnapshotChunk, SnapshotHeader } from '@strata/store';
import type { ClusterMetricsView } from './metrics.js';

export interface ClusterOptions {
  rpcHost: string;
  rpcPort: number;
  /** The address other nodes reach this one at (default: the bound RPC address). */
  advertiseRpcAddr?: string;
  /** The SQL address the registry shows (`strata node status`; default: the bound SQL address). */
  advertiseSqlAddr?: string;
  /** RPC addresses of nodes of the cluster to join (this node's own is ignored). */
  join: string[];
  /** How the node serves and dials the inter-node RPC (node_tls.ts: mutual TLS); absent: plaintext (--insecure). */
  credentials?: RpcCredentials;
}

/** How long a DistSender request may keep retrying before it fails. */
const requestDeadlineMs = 30_000;
/** A joining node asks its --join addresses again this often. */
const joinRetryMs = 1000;
/** …and logs that it is still waiting this often. */
const joinLogEveryMs = 10_000;
/** How long `init` waits for each --join address to say whether it already belongs to a cluster. */
const initProbeTimeoutMs = 2000;
/** The range that holds everything in the current layout (system and user data). */
const firstRangeId = 1;
/** Batches of notifications queued for one other node at most (beyond: dropped for it, logged). */
const notifyOutboxBatchesMax = 1000;

/** A notification as it travels between nodes (channel, payload, the notifying session's pid). */
type Notification = NotifyRequest['notes'][number];

/** The RPC services of a node whose store appears only once it has an identity. */
class NodeServices implements RpcServices {
  store: Store | null = null;
  admin?: NodeAdmin;
  private readonly ownClock = new HybridClock(() => Date.now());

  /** The store's clock once there is a store (pings before that use one of their own). */
  get clock(): HybridClock {
    return this.store?.clock ?? this.ownClock;
  }

  get nodeId(): number {
    return this.store?.nodeId ?? 0;
  }

  /** Set once the node has its identity (ClusterMember). */
  clusterIdOf: () => string | null = () => null;

  clusterId(): string | null {
    return this.clusterIdOf();
  }

  wallTimeMs(): number {
    return Date.now();
  }

  private need(): Store {
    if (!this.store) throw new PgError(SqlState.CannotConnectNow, 'this node has not joined a cluster yet');
    return this.store;
  }

  handleRaftBatch(batch: RaftMessageBatch): void {
    this.store?.handleRaftBatch(batch);
  }

  receiveSnapshot(header: SnapshotHeader, chunks: AsyncIterable<SnapshotChunk>): Promise<void> {
    return this.need().receiveSnapshot(header, chunks);
  }

  send(ba: BatchRequest): Promise<BatchResponse> {
    return this.need().send(ba);
  }
}

export interface ClusterNodeInfo {
  sqlAddr: () => string;
  httpAddr: () => string;
  build: string;
  /** Told of every inter-node unary call (the RPC latency metrics). */
  observeRpc?: RpcObserver;
}

export class ClusterMember {
  private readonly log: Logger = logger('cluster');
  private readonly services: NodeServices;
  private rpc!: RpcServer;
  private ident: StoreIdent | null = null;
  private initRequested: ((ident: StoreIdent) => void) | null = null;
  private readonly addrBook = new Map<number, string>();
  private advertise = '';
  private conns: Connections | null = null;
  private transport: GrpcRaftTransport | null = null;
  private clockMonitor: RemoteClockMonitor | null = null;
  private registryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  store!: Store;
  dist!: DistSender;
  liveness!: NodeLiveness;
  /**
   * The zones a range follows, most specific first (NodeLiveness.replicationFactor): the system
   * ranges' own; node.ts adds a TS range's table and database once the SQL layer runs.
   */
  zonesOf: (rangeId: number) => string[] = systemRangeZones;

  /** Set when this node initialized the cluster at this start (the SQL layer bootstraps its catalog then). */
  initialized = false;

  constructor(
    private readonly storeDir: string,
    private readonly o: ClusterOptions,
    private readonly info: ClusterNodeInfo,
    /** Called when the node must stop itself (its clock is too far from the others'). */
    private readonly onFatal: (why: string) => void,
  ) {
    this.services = new NodeServices();
    this.services.clusterIdOf = () => (this.store ? (this.ident?.clusterId ?? null) : null);
    this.services.admin = {
      init: () => this.handleInit(),
      join: (req) => this.handleJoin(req),
      status: () => this.handleStatus(),
      decommission: (req) => this.handleDecommission(req),
      cancelQuery: (req) => this.onCancelQuery(req.pid, req.secret),
      notify: (req) => this.onNotify(req.notes),
    };
  }

  get rpcAddress(): string {
    return this.advertise;
  }

  /** Listens, finds or obtains the node's identity, opens its store on the wire. */
  async start(): Promise<void> {
    this.rpc = await RpcServer.start({ services: this.services, host: this.o.rpcHost, port: this.o.rpcPort, credentials: this.o.credentials?.server });
    this.advertise = this.o.advertiseRpcAddr ?? `${this.o.rpcHost}:${this.rpc.port}`;
    this.ident = readIdent(this.storeDir);
    let bootstrap = false;
    if (!this.ident) {
      const got = await this.obtainIdentity();
      this.ident = got.ident;
      bootstrap = got.bootstrap;
    }
    const nodeId = this.ident.nodeId;
    this.addrBook.set(nodeId, this.advertise);
    await this.discoverPeers();
    this.log.info({ nodeId, clusterId: this.ident.clusterId, rpc: this.advertise }, bootstrap ? 'initializing a new cluster' : 'joining the cluster');
    await this.openStore(nodeId, bootstrap);
  }

  /** Waits for `strata init` or for one of the --join addresses to let this node in. */
  private obtainIdentity(): Promise<{ ident: StoreIdent; bootstrap: boolean }> {
    return new Promise((resolve, reject) => {
      let done = false;
      this.initRequested = (ident) => {
        done = true;
        resolve({ ident, bootstrap: true });
      };
      const peers = this.o.join.filter((a) => a !== this.advertise);
      if (peers.length === 0) {
        this.log.info({ rpc: this.advertise }, 'waiting for `strata init` (no --join addresses of other nodes)');
        return;
      }
      const started = Date.now();
      let lastLog = 0;
      const attempt = async (): Promise<void> => {
        for (const addr of peers) {
          if (done || this.stopped) return;
          try {
            const res = await adminClient.join(addr, { rpcAddr: this.advertise }, this.o.credentials?.channel, 5000);
            if (done) return;
            const ident = { clusterId: res.clusterId, nodeId: res.nodeId };
            writeIdent(this.storeDir, ident);
            for (const n of res.nodes) this.addrBook.set(n.nodeId, n.rpcAddr);
            done = true;
            resolve({ ident, bootstrap: false });
            return;
          } catch (e) {
            if (Date.now() - lastLog > joinLogEveryMs) {
              lastLog = Date.now();
              this.log.info({ join: peers, waitedMs: Date.now() - started, lastError: (e as Error).message }, 'waiting to join the cluster (run `strata init` against one node if the cluster is new)');
            }
          }
        }
        if (!done && !this.stopped) setTimeout(() => void attempt().catch(reject), joinRetryMs).unref();
      };
      void attempt().catch(reject);
    });
  }

  private async openStore(nodeId: number, bootstrap: boolean): Promise<void> {
    const conns = new Connections({ nodeId, resolve: (id) => this.addrBook.get(id) ?? null, clusterId: () => this.ident?.clusterId ?? null, credentials: this.o.credentials?.channel });
    this.conns = conns;
    const transport = new GrpcRaftTransport(conns);
    this.transport = transport;
    const grpcDialer = new GrpcNodeDialer(conns, { observe: this.info.observeRpc });
    // Requests for this node go straight to its store (in-process: a TS scan keeps its header summarizer).
    const dialer: NodeDialer = { send: (n, ba) => (n === nodeId ? this.store.send(ba) : grpcDialer.send(n, ba)) };
    const clock = new HybridClock(() => realTimers.now());
    this.dist = new DistSender({ dialer, timers: realTimers, clock, knownNodes: () => [...this.addrBook.keys()], deadlineMs: requestDeadlineMs, metaRangeId });
    const maxOffset = makeTimestamp(maxClockOffsetMs, 0);
    const startedAt = Date.now();
    this.liveness = new NodeLiveness({
      nodeId,
      timers: realTimers,
      txn: () => new KvTxn({ sender: this.dist, clock, maxOffset, rangeOf: systemRangeOf, timers: realTimers }),
      nonVotersEverywhere: true,
      zonesOf: (rangeId) => this.zonesOf(rangeId),
      onHeartbeat: (t) => {
        const replicas = [...this.store.replicas.values()];
        putNode(t, {
          nodeId,
          rpcAddr: this.advertise,
          sqlAddr: this.o.advertiseSqlAddr ?? this.info.sqlAddr(),
          httpAddr: this.info.httpAddr(),
          build: this.info.build,
          startedAt,
          updatedAt: Date.now(),
          replicas: replicas.filter((r) => r.isInitialized).length,
          leaseholders: replicas.filter((r) => r.holdsValidLease()).length,
        });
      },
    });
    this.store = await Store.open(this.storeDir, { nodeId, bootstrap, livenessRange: true, transport, clock, cluster: this.liveness });
    transport.onPeerUnreachable = (n) => this.store.reportUnreachable(n);
    this.store.rangeSender = this.dist; // descriptors are published to the meta range wherever it is
    this.services.store = this.store;
    if (bootstrap) {
      await initCounters(this.dist, firstRangeId, () => clock.now());
      this.initialized = true;
    }
    this.liveness.start();
    this.registryTimer = setInterval(() => void this.refreshAddresses(), 3000);
    this.registryTimer.unref();
    this.clockMonitor = new RemoteClockMonitor({
      conns,
      peers: () => [...this.addrBook.keys()].filter((n) => n !== nodeId),
      clock,
      maxOffsetMs: maxClockOffsetMs,
      observe: this.info.observeRpc,
      onFatal: (c) => this.onFatal(c.message),
    });
    this.clockMonitor.start();
  }

  /** Asks each --join address which node serves it (a restarted node knows no other address yet). */
  private async discoverPeers(): Promise<void> {
    const known = new Set(this.addrBook.values());
    await Promise.all(
      this.o.join
        .filter((a) => a !== this.advertise && !known.has(a))
        .map(async (a) => {
          try {
            const id = await adminClient.whoIs(a, this.o.credentials?.channel);
            if (id > 0 && !this.addrBook.has(id)) this.addrBook.set(id, a);
          } catch {
            // down or not initialized: asked again at the next round
          }
        }),
    );
  }

  /** Reads the node registry: every node's current RPC address. */
  private async refreshAddresses(): Promise<void> {
    await this.discoverPeers();
    const t = this.liveness ? new KvTxn({ sender: this.dist, clock: this.store.clock, maxOffset: 0n, rangeOf: systemRangeOf, timers: realTimers }) : null;
    if (!t) return;
    try {
      for (const n of await readNodes(t)) if (n.rpcAddr) this.addrBook.set(n.nodeId, n.rpcAddr);
      await t.commit();
    } catch {
      await t.rollback();
    }
  }

  // ---- admin calls ---------------------------------------------------------------------------

  private async handleInit(): Promise<{ clusterId: string; nodeId: number }> {
    if (this.ident || !this.initRequested) {
      throw new Error(`cluster has already been initialized${this.ident ? ` (cluster ${this.ident.clusterId}, this is node ${this.ident.nodeId})` : ''}`);
    }
    // A node still waiting to join may be asked after another node was initialized: refuse if
    // any --join address already belongs to a cluster (else there would be two clusters).
    for (const addr of this.o.join.filter((a) => a !== this.advertise)) {
      let member = false;
      try {
        await adminClient.status(addr, this.o.credentials?.channel, initProbeTimeoutMs);
        member = true;
      } catch {
        // not reachable, or not initialized either
      }
      if (member) throw new Error(`cluster has already been initialized (the node at ${addr} belongs to it; this node joins it)`);
    }
    if (this.ident || !this.initRequested) throw new Error('cluster has already been initialized');
    const ident = newClusterIdent();
    writeIdent(this.storeDir, ident);
    const go = this.initRequested;
    this.initRequested = null;
    go(ident);
    return { clusterId: ident.clusterId, nodeId: ident.nodeId };
  }

  private async handleJoin(req: JoinRequest): Promise<JoinResponse> {
    const ident = this.ident;
    if (!ident || !this.dist) throw new Error('this node has not joined a cluster yet; try another --join address');
    const nodeId = await allocateNodeId(this.dist, firstRangeId, () => this.store.clock.now());
    if (req.rpcAddr) this.addrBook.set(nodeId, req.rpcAddr);
    this.log.info({ nodeId, rpc: req.rpcAddr }, 'a node joined the cluster');
    return { clusterId: ident.clusterId, nodeId, nodes: [...this.addrBook].map(([id, rpcAddr]) => ({ nodeId: id, rpcAddr })) };
  }

  /** Ready to serve: the node holds an initialized replica of the data and its liveness record is current. */
  ready(): boolean {
    const r = this.store?.replicas.get(firstRangeId);
    return !!r && r.isInitialized && !r.removed && this.liveness.isLive(this.store.nodeId);
  }

  /** What the metrics read at a scrape; null until the node has its store. */
  metricsView(): ClusterMetricsView | null {
    const { liveness, clockMonitor, transport, conns } = this;
    if (!this.ident || !this.store || !liveness || !clockMonitor || !transport || !conns) return null;
    const nodeId = this.store.nodeId;
    const now = Date.now();
    const offsets = new Map<number, number>();
    for (const [peer, m] of clockMonitor.offsets.current(now)) offsets.set(peer, m.offsetMs);
    const peers = new Map<number, boolean>();
    for (const h of conns.allHealth()) peers.set(h.nodeId, h.state === 'ready');
    const records = liveness.snapshot();
    return {
      liveness: {
        nodeId,
        isLive: (n) => liveness.isLive(n),
        replicationFactor: (rangeId) => liveness.replicationFactor(rangeId),
        activeNodes: records.filter((r) => r.membership === 'active').length,
        liveNodes: records.filter((r) => liveness.isLive(r.nodeId)).length,
        heartbeats: liveness.stats.heartbeats,
        heartbeatFailures: liveness.stats.failures,
      },
      clockOffsetsMs: offsets,
      transport: { messagesSent: transport.stats.messagesSent, messagesDropped: transport.stats.messagesDropped, bytesSent: transport.stats.bytesSent },
      rangeLookups: { total: this.dist?.stats.lookups ?? 0, meta: this.dist?.stats.metaHits ?? 0 },
      peersConnected: peers,
    };
  }

  nodeStatus(): Promise<NodeStatus[]> {
    return this.handleStatus();
  }

  private async handleStatus(): Promise<NodeStatus[]> {
    if (!this.ident || !this.dist) throw new Error('this node has not joined a cluster yet');
    const t = new KvTxn({ sender: this.dist, clock: this.store.clock, maxOffset: 0n, rangeOf: systemRangeOf, timers: realTimers });
    const nodes = await readNodes(t);
    await t.commit();
    await this.liveness.refresh();
    return nodeStatusRows(nodes, this.liveness.snapshot(), Date.now()).map((r) => ({
      id: r.id,
      rpcAddress: r.rpc_address,
      sqlAddress: r.sql_address,
      build: r.build,
      startedAt: r.started_at,
      updatedAt: r.updated_at,
      isLive: r.is_live,
      replicas: r.replicas,
      leaseholders: r.leaseholders,
      membership: r.membership,
    }));
  }

  /** Cancels a session of this node (set by the node once its SQL server runs). */
  onCancelQuery: (pid: number, secret: number) => void = () => {};

  /** Sends a CancelRequest that reached this node to the node running the session. */
  forwardCancel(nodeId: number, pid: number, secret: number): void {
    const addr = this.addrBook.get(nodeId);
    if (!addr) {
      this.log.info({ nodeId, pid }, 'cancel request for an unknown node; ignored');
      return;
    }
    adminClient.cancelQuery(addr, { pid, secret }, this.o.credentials?.channel).catch((e: unknown) => this.log.info({ err: e, nodeId, pid }, 'forwarding a cancel request failed'));
  }

  /** Delivers notifications committed on another node to this node's listeners (set by the node). */
  onNotify: (notes: Notification[]) => void = () => {};

  /** Batches of notifications waiting to be sent, per node (each node's in commit order). */
  private readonly notifyOutbox = new Map<number, { pending: number; tail: Promise<void> }>();
  /** Notification batches dropped because a node's outbox was full (it did not keep up). */
  notificationsDropped = 0;

  /**
   * Sends a committed transaction's notifications to every other node, after the commit. Each
   * node's batches go one after another (commit order of this node's transactions); a node that
   * does not answer within the forward timeout loses that batch, and one more than
   * notifyOutboxBatchesMax batches behind loses new ones (logged): delivery to other nodes is
   * best effort, unlike delivery on this node (notify.ts).
   */
  broadcastNotifications(notes: Notification[]): void {
    const me = this.ident?.nodeId;
    for (const [nodeId, addr] of this.addrBook) {
      if (nodeId === me) continue;
      let box = this.notifyOutbox.get(nodeId);
      if (!box) this.notifyOutbox.set(nodeId, (box = { pending: 0, tail: Promise.resolve() }));
      if (box.pending >= notifyOutboxBatchesMax) {
        if (this.notificationsDropped++ % 1000 === 0) this.log.warn({ nodeId, dropped: this.notificationsDropped }, 'notifications for a node that does not keep up are dropped');
        continue;
      }
      const b = box;
      b.pending++;
      b.tail = b.tail
        .then(() => adminClient.notify(addr, { fromNodeId: me ?? 0, notes }, this.o.credentials?.channel))
        .then(
          () => {},
          (e: unknown) => this.log.info({ err: e, nodeId }, 'sending notifications to a node failed; they are dropped for it'),
        )
        .finally(() => b.pending--);
    }
  }

  private async handleDecommission(req: DecommissionRequest): Promise<void> {
    if (!this.ident || !this.liveness) throw new Error('this node has not joined a cluster yet');
    for (const id of req.nodeIds) await this.liveness.setMembership(id, req.done ? 'decommissioned' : 'decommissioning');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.registryTimer) clearInterval(this.registryTimer);
    this.clockMonitor?.stop();
    this.liveness?.stop();
    await this.rpc?.close();
    this.transport?.close();
    this.conns?.close();
  }
}
