import { statfsSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WireMetrics } from '@strata/pgwire';
import { maxClockOffsetMs } from '@strata/store';
import type { Store } from '@strata/store';
import { rangeCounts } from './range_counts.js';
import type { LivenessView, RangeView } from './range_counts.js';

/**
 * What a cluster node adds to the metrics (absent in single-node mode): liveness, clock offsets,
 * the Raft transport and peer connections. Read at every scrape.
 */
export interface ClusterMetricsView {
  liveness: LivenessView & { heartbeats: number; heartbeatFailures: number; liveNodes: number };
  /** Latest clock offset per peer node (ms; positive: the peer is ahead), and the maximum offset. */
  clockOffsetsMs: Map<number, number>;
  transport: { messagesSent: number; messagesDropped: number; bytesSent: number };
  /** Range descriptor lookups of the node's DistSender: all, and those the meta range answered. */
  rangeLookups: { total: number; meta: number };
  /** Per peer node: whether a channel to it is ready. */
  peersConnected: Map<number, boolean>;
}

export interface MetricsSources {
  store: Store | null;
  cluster: ClusterMetricsView | null;
  sqlConnections: number;
  /** ts.disk_free_space.alert_threshold in bytes (0: off), as last read. */
  tsFreeSpaceThresholdBytes: number;
}

/** RPC latency buckets: loopback pings take ~0.2 ms, a batch waiting for a commit ~1–50 ms. */
const rpcBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Prometheus metrics of one node, served at /_status/vars.
 *
 * Counters the store, Raft transport and liveness keep as plain numbers (their `stats` objects:
 * the layers below know nothing of Prometheus) are copied into prom-client counters at each
 * scrape by adding what grew since the last one, so they keep counter semantics (`_total`,
 * rate()). Label sets that may not have happened yet (a TS_BATCH snapshot, a failed heartbeat)
 * are created at zero, so every series the dashboards and alert rules name exists from the first
 * scrape (an absent series and a zero look different to PromQL).
 */
export class NodeMetrics implements WireMetrics {
  readonly registry = new Registry();
  private readonly r = [this.registry];
  readonly statements = new Counter({ name: 'strata_sql_statements_total', help: 'SQL statements executed, by statement type', labelNames: ['type'], registers: this.r });
  readonly errors = new Counter({ name: 'strata_sql_errors_total', help: 'SQL statements that failed, by SQLSTATE', labelNames: ['code'], registers: this.r });
  readonly latency = new Histogram({
    name: 'strata_sql_statement_duration_seconds',
    help: 'Statement latency, from receipt to completion',
    labelNames: ['type'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: this.r,
  });
  readonly bytesInTotal = new Counter({ name: 'strata_sql_bytes_in_total', help: 'Bytes received from SQL clients', registers: this.r });
  readonly bytesOutTotal = new Counter({ name: 'strata_sql_bytes_out_total', help: 'Bytes sent to SQL clients', registers: this.r });
  readonly connections = new Gauge({ name: 'strata_sql_connections', help: 'Open SQL connections', registers: this.r });
  readonly engineBytes = new Gauge({ name: 'strata_storage_engine_bytes', help: 'Size of the KV engine file', registers: this.r });
  readonly raftLogBytes = new Gauge({ name: 'strata_raft_log_bytes', help: 'Size of the current raft log segment', registers: this.r });
  readonly raftRounds = new Gauge({ name: 'strata_raft_log_rounds', help: 'Raft rounds (log writes + fsyncs) since start', registers: this.r });
  readonly commits = new Gauge({ name: 'strata_kv_commits', help: 'Committed write transactions since start', registers: this.r });
  readonly tsBlockReads = new Gauge({ name: 'strata_ts_block_reads', help: 'Time-series blocks scans read since start, by how: skipped (header min/max), header (answered from the header), decoded', labelNames: ['how'], registers: this.r });
  readonly conflicts = new Gauge({ name: 'strata_kv_serialization_conflicts', help: 'Transactions refused with 40001 since start', registers: this.r });

  // ---- node and storage ------------------------------------------------------------------------
  readonly nodeId = new Gauge({ name: 'strata_node_id', help: 'This node\'s id in its cluster (1 in single-node mode; 0 before it joined)', registers: this.r });
  readonly diskCapacity = new Gauge({ name: 'strata_store_disk_capacity_bytes', help: 'Size of the file system holding the store', registers: this.r });
  readonly diskAvailable = new Gauge({ name: 'strata_store_disk_available_bytes', help: 'Free bytes of the file system holding the store, available to the node', registers: this.r });
  readonly tsBytes = new Gauge({ name: 'strata_ts_disk_bytes', help: 'Bytes the time-series engine holds on disk (segments are preallocated sparse files: their full size)', registers: this.r });
  readonly tsThreshold = new Gauge({ name: 'strata_ts_disk_free_space_alert_threshold_bytes', help: 'The cluster setting ts.disk_free_space.alert_threshold: TS writes are refused (53100) below this much free disk; 0 = off', registers: this.r });

  // ---- ranges, Raft, snapshots -----------------------------------------------------------------
  readonly replicas = new Gauge({ name: 'strata_replicas', help: 'Initialized replicas on this node (voters and non-voters)', registers: this.r });
  readonly leaseholders = new Gauge({ name: 'strata_replicas_leaseholders', help: 'Replicas on this node holding a valid lease of their range', registers: this.r });
  readonly unavailable = new Gauge({ name: 'strata_ranges_unavailable', help: 'Ranges reported by this node (see range_counts.ts) whose live voters are fewer than a majority', registers: this.r });
  readonly underReplicated = new Gauge({ name: 'strata_ranges_underreplicated', help: 'Ranges reported by this node whose live voters are fewer than the replication factor (capped by the live nodes)', registers: this.r });
  readonly leaderChanges = new Counter({ name: 'strata_raft_leader_changes_total', help: 'Times a replica on this node became the Raft leader of its range', registers: this.r });
  readonly proposals = new Counter({ name: 'strata_raft_proposals_total', help: 'Commands (write batches, membership changes) appended to Raft by leaders on this node', registers: this.r });
  readonly requests = new Counter({ name: 'strata_kv_batch_requests_total', help: 'KV batch requests sent to replicas on this node (reads and writes)', registers: this.r });
  readonly snapshotsSent = new Counter({ name: 'strata_range_snapshots_sent_total', help: 'Snapshots sent to other nodes, by strategy part (every snapshot a KV_BATCH; TS_BATCH when the range holds TS data)', labelNames: ['strategy'], registers: this.r });
  readonly snapshotsApplied = new Counter({ name: 'strata_range_snapshots_applied_total', help: 'Snapshots installed on this node, by strategy part', labelNames: ['strategy'], registers: this.r });
  readonly snapshotsFailed = new Counter({ name: 'strata_range_snapshots_failed_total', help: 'Snapshots that failed, by side: send (this node was sending) or apply (this node was receiving or installing)', labelNames: ['side'], registers: this.r });

  // ---- cluster: liveness, clocks, RPC ----------------------------------------------------------
  readonly heartbeats = new Counter({ name: 'strata_liveness_heartbeats_total', help: 'Node liveness heartbeats of this node, by result (ok, failed)', labelNames: ['result'], registers: this.r });
  readonly liveNodes = new Gauge({ name: 'strata_liveness_live_nodes', help: 'Nodes whose liveness record is current, as this node sees them', registers: this.r });
  readonly clockOffset = new Gauge({ name: 'strata_clock_offset_seconds', help: 'Latest measured clock offset of a peer node from this node (positive: the peer is ahead)', labelNames: ['peer'], registers: this.r });
  readonly maxClockOffset = new Gauge({ name: 'strata_clock_max_offset_seconds', help: 'The maximum clock offset the cluster tolerates; a node beyond 80% of it from a majority stops itself', registers: this.r });
  readonly rpcLatency = new Histogram({ name: 'strata_rpc_duration_seconds', help: 'Inter-node unary RPC latency as the caller sees it, by method (Batch, Ping)', labelNames: ['method'], buckets: rpcBuckets, registers: this.r });
  readonly rpcErrors = new Counter({ name: 'strata_rpc_errors_total', help: 'Inter-node unary RPCs that failed, by method', labelNames: ['method'], registers: this.r });
  readonly peerConnected = new Gauge({ name: 'strata_rpc_peer_connected', help: 'Whether this node has a ready connection to a peer node (1) or not (0)', labelNames: ['peer'], registers: this.r });
  readonly raftMessagesSent = new Counter({ name: 'strata_raft_transport_messages_sent_total', help: 'Raft messages sent to other nodes', registers: this.r });
  readonly raftMessagesDropped = new Counter({ name: 'strata_raft_transport_messages_dropped_total', help: 'Raft messages dropped on the way to an unreachable or backed-up peer (Raft resends)', registers: this.r });
  readonly raftBytesSent = new Counter({ name: 'strata_raft_transport_bytes_sent_total', help: 'Bytes of Raft message batches sent to other nodes', registers: this.r });
  readonly rangeLookups = new Counter({ name: 'strata_range_lookups_total', help: 'Range descriptor lookups, by what answered: the meta range, or the nodes asked when it had nothing newer', labelNames: ['source'], registers: this.r });

  /** What each synced counter held at the last scrape, per label set. */
  private readonly synced = new Map<Counter<string>, Map<string, number>>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'strata_process_' });
    for (const strategy of ['kv_batch', 'ts_batch']) {
      this.snapshotsSent.inc({ strategy }, 0);
      this.snapshotsApplied.inc({ strategy }, 0);
    }
    for (const side of ['send', 'apply']) this.snapshotsFailed.inc({ side }, 0);
    for (const result of ['ok', 'failed']) this.heartbeats.inc({ result }, 0);
    this.maxClockOffset.set(maxClockOffsetMs / 1000);
    for (const method of ['Batch', 'Ping']) {
      this.rpcLatency.zero({ method });
      this.rpcErrors.inc({ method }, 0);
    }
  }

  statement(kind: string, seconds: number, error: string | null): void {
    const type = kind || 'other';
    this.statements.inc({ type });
    this.latency.observe({ type }, seconds);
    if (error) this.errors.inc({ code: error });
  }

  /** Bytes received from and sent to clients since start (a cheap activity signal). */
  clientBytes = 0;

  bytesIn(n: number): void {
    this.clientBytes += n;
    this.bytesInTotal.inc(n);
  }

  bytesOut(n: number): void {
    this.clientBytes += n;
    this.bytesOutTotal.inc(n);
  }

  /** An inter-node call finished (packages/rpc's RpcObserver). */
  rpc(method: string, seconds: number, ok: boolean): void {
    this.rpcLatency.observe({ method }, seconds);
    if (!ok) this.rpcErrors.inc({ method });
  }

  /** Brings a counter up to a total kept elsewhere (see the class comment). */
  private sync(c: Counter<string>, total: number, labels: Record<string, string> = {}): void {
    let seen = this.synced.get(c);
    if (!seen) this.synced.set(c, (seen = new Map()));
    const key = JSON.stringify(labels);
    const last = seen.get(key) ?? 0;
    if (total > last) c.inc(labels, total - last);
    seen.set(key, total);
  }

  /** Reads every value kept outside prom-client; called before each scrape. */
  refresh(src: MetricsSources): void {
    this.connections.set(src.sqlConnections);
    this.tsThreshold.set(src.tsFreeSpaceThresholdBytes);
    const st = src.store;
    if (st) {
      this.nodeId.set(st.nodeId);
      this.engineBytes.set(st.engineSizeBytes());
      this.raftLogBytes.set(st.logSizeBytes());
      this.raftRounds.set(st.stats.logRounds);
      this.commits.set(st.stats.commits);
      this.conflicts.set(st.stats.conflicts);
      const reads = st.ts.reads;
      this.tsBlockReads.set({ how: 'skipped' }, reads.skipped);
      this.tsBlockReads.set({ how: 'header' }, reads.headers);
      this.tsBlockReads.set({ how: 'decoded' }, reads.decoded);
      this.tsBytes.set(st.ts.diskBytes());
      try {
        const fs = statfsSync(st.dir);
        this.diskCapacity.set(Number(fs.blocks) * Number(fs.bsize));
        this.diskAvailable.set(Number(fs.bavail) * Number(fs.bsize));
      } catch {
        // the directory went away (the store is closing): keep the last values
      }
      this.sync(this.leaderChanges, st.stats.leaderChanges);
      this.sync(this.proposals, st.stats.raftProposals);
      this.sync(this.requests, st.stats.proposals);
      const sent = st.queues.snapshots.sent;
      this.sync(this.snapshotsSent, sent.kvBatch, { strategy: 'kv_batch' });
      this.sync(this.snapshotsSent, sent.tsBatch, { strategy: 'ts_batch' });
      this.sync(this.snapshotsApplied, st.stats.snapshotsAppliedKv, { strategy: 'kv_batch' });
      this.sync(this.snapshotsApplied, st.stats.snapshotsAppliedTs, { strategy: 'ts_batch' });
      this.sync(this.snapshotsFailed, sent.failures, { side: 'send' });
      this.sync(this.snapshotsFailed, st.stats.snapshotsFailed, { side: 'apply' });
    }
    const c = src.cluster;
    const view: LivenessView = c?.liveness ?? { nodeId: st?.nodeId ?? 0, isLive: (n) => n === st?.nodeId, replicationFactor: () => 1, activeNodes: 1 };
    const counts = rangeCounts(st ? rangeViews(st) : [], view);
    this.replicas.set(counts.replicas);
    this.leaseholders.set(counts.leaseholders);
    this.unavailable.set(counts.unavailable);
    this.underReplicated.set(counts.underReplicated);
    this.liveNodes.set(c ? c.liveness.liveNodes : st ? 1 : 0);
    this.sync(this.heartbeats, c?.liveness.heartbeats ?? 0, { result: 'ok' });
    this.sync(this.heartbeats, c?.liveness.heartbeatFailures ?? 0, { result: 'failed' });
    if (c) {
      this.clockOffset.reset();
      for (const [peer, ms] of c.clockOffsetsMs) this.clockOffset.set({ peer: String(peer) }, ms / 1000);
      this.peerConnected.reset();
      for (const [peer, up] of c.peersConnected) this.peerConnected.set({ peer: String(peer) }, up ? 1 : 0);
      this.sync(this.raftMessagesSent, c.transport.messagesSent);
      this.sync(this.raftMessagesDropped, c.transport.messagesDropped);
      this.sync(this.raftBytesSent, c.transport.bytesSent);
      this.sync(this.rangeLookups, c.rangeLookups.meta, { source: 'meta' });
      this.sync(this.rangeLookups, c.rangeLookups.total - c.rangeLookups.meta, { source: 'nodes' });
    }
  }
}

/** The store's initialized replicas as range_counts.ts sees them. */
function rangeViews(st: Store): RangeView[] {
  const out: RangeView[] = [];
  for (const r of st.replicas.values()) {
    const d = r.desc;
    if (!d || !r.isInitialized || r.removed) continue;
    out.push({
      rangeId: r.rangeId,
      voters: d.replicas.filter((x) => x.type === 'voter').map((x) => x.nodeId),
      learners: d.replicas.filter((x) => x.type !== 'voter').map((x) => x.nodeId),
      holdsLease: r.holdsValidLease(),
      leaseRecordNodeId: r.lease.seq > 0 ? r.lease.nodeId : null,
    });
  }
  return out;
}
