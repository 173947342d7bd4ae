import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { logger } from '@strata/common';
import { Txn } from '@strata/kv';
import { PgServer, pgTls } from '@strata/pgwire';
import { SqlEngine, deliverRemoteTo, dropOrphanTempSchemas } from '@strata/sql';
import { LineProtocolHttp } from '@strata/ingest';
import { LocalSender, Store, systemRangeZones, tsTableOfRange } from '@strata/store';
import { databaseZone, tableZone } from '@strata/cluster';
import { ClusterMember } from './cluster_node.js';
import type { ClusterOptions } from './cluster_node.js';
import { ClusterSender } from './cluster_sender.js';
import { NodeMetrics } from './metrics.js';
import { checkInsecureAddresses } from './exposure.js';
import { HeapTrimmer } from './heap_trim.js';
import { loadNodeCerts } from './node_certs.js';
import { nodeRpcCredentials } from './node_tls.js';
import type { NodeCerts } from './node_certs.js';

/** How often the metrics re-read ts.disk_free_space.alert_threshold (a KV read; settings change rarely). */
const tsThresholdReadMs = 10_000;

export interface NodeOptions {
  storeDir: string;
  listenHost: string;
  listenPort: number;
  httpHost: string;
  httpPort: number;
  /** Insecure mode: no TLS, trust authentication, loopback only. Else certsDir is required. */
  insecure: boolean;
  /** Secure mode: ca.crt, node.crt, node.key (CockroachDB's layout, made by `strata cert`). */
  certsDir?: string;
  nodeId?: number;
  /** The node's SQL memory budget in bytes (--max-sql-memory); default: the SQL engine's. */
  maxSqlMemoryBytes?: number;
  /** max_connections (default: pgwire's connectionsMaxDefault). */
  maxConnections?: number;
  /** authentication_timeout: a connection must finish startup within this long. */
  startupTimeoutMs?: number;
  /** Insecure mode may listen on non-loopback addresses (else it refuses to start). */
  acceptInsecureNonLoopback?: boolean;
  /** Cluster mode (`strata start`): the inter-node RPC address and the nodes to join. Absent: single-node mode. */
  cluster?: ClusterOptions;
}

/**
 * A Node owns a store, the SQL engine over it, the Postgres-wire gateway and the HTTP server.
 * start-single-node is this with one store whose ranges have a single voter.
 */
export class StrataNode {
  private readonly log = logger('node');
  readonly metrics = new NodeMetrics();
  private store: Store | null = null;
  private engine: SqlEngine | null = null;
  private pg: PgServer | null = null;
  private http: Server | null = null;
  private serving = false;
  private readonly heapTrimmer = new HeapTrimmer(() => this.metrics.clientBytes);
  private member: ClusterMember | null = null;
  private sender: LocalSender | null = null;
  /** InfluxDB line-protocol writes (/write, /api/v2/write, /ping): once the SQL engine exists. */
  private ingest: LineProtocolHttp | null = null;

  constructor(readonly opts: NodeOptions) {}

  async start(): Promise<void> {
    const started = Date.now();
    let certs: NodeCerts | null = null;
    if (!this.opts.insecure) {
      if (!this.opts.certsDir) throw new Error('secure mode needs a certificates directory (--certs-dir); to run without TLS and passwords pass --insecure');
      certs = loadNodeCerts(this.opts.certsDir);
    }
    const exposed = this.opts.insecure
      ? await checkInsecureAddresses(
          [
            { flag: '--listen-addr', host: this.opts.listenHost },
            { flag: '--http-addr', host: this.opts.httpHost },
            ...(this.opts.cluster ? [{ flag: '--rpc-addr', host: this.opts.cluster.rpcHost }] : []),
          ],
          this.opts.acceptInsecureNonLoopback ?? false,
        )
      : [];
    this.makeStoreDirPrivate();
    let sender: LocalSender;
    let bootstrapSql = true;
    if (this.opts.cluster) {
      // Secure mode: mutual TLS between nodes with the node certificate (node_tls.ts).
      const member = new ClusterMember(
        this.opts.storeDir,
        certs ? { ...this.opts.cluster, credentials: nodeRpcCredentials(certs, this.opts.cluster) } : this.opts.cluster,
        {
          sqlAddr: () => `${this.opts.listenHost}:${this.sqlPort()}`,
          httpAddr: () => `${this.opts.httpHost}:${this.httpPort()}`,
          build: 'strata 0.1.0',
          observeRpc: (method, seconds, ok) => this.metrics.rpc(method, seconds, ok),
        },
        (why) => {
          this.log.fatal({ why }, 'stopping this node: its clock is too far from the other nodes\' clocks (more than 80% of the maximum offset)');
          void this.stop().finally(() => process.exit(1));
        },
      );
      this.member = member;
      await this.startHttp(certs);
      await member.start();
      this.store = member.store;
      sender = new ClusterSender(member.store, member.dist);
      bootstrapSql = member.initialized;
    } else {
      this.store = await Store.open(this.opts.storeDir, { nodeId: this.opts.nodeId ?? 1, bootstrap: true });
      sender = new LocalSender(this.store);
    }
    this.sender = sender;
    const store = this.store;
    const engine = new SqlEngine({
      sender,
      nodeId: store.nodeId,
      engineSizeBytes: () => store.engineSizeBytes() + store.ts.diskBytes(),
      maxSqlMemoryBytes: this.opts.maxSqlMemoryBytes,
      tempDir: join(this.opts.storeDir, 'tmp'),
      ts: sender,
      ranges: () => store.rangeInfos(),
      // The leaseholder of a table's first range drives its retention and reorganization (of
      // every range of the table).
      holdsLeaseFor: (tableId) =>
        store.replicas.get(sender.tsDriverRange(tableId))?.holdsValidLease() ?? false,
    });
    this.engine = engine;
    this.ingest = new LineProtocolHttp({ engine, secure: !this.opts.insecure });
    store.onApply = (b) => engine.onApply(b);
    store.onSnapshotApplied = () => engine.onDataReplaced();
    if (bootstrapSql) {
      await engine.bootstrap();
      // Temporary tables of this node's sessions died with the previous process (temp_schemas.ts).
      await dropOrphanTempSchemas(engine);
    }
    engine.startBackgroundJobs();
    this.pg = new PgServer({
      engine,
      host: this.opts.listenHost,
      port: this.opts.listenPort,
      metrics: this.metrics,
      connectionsMax: this.opts.maxConnections,
      startupTimeoutMs: this.opts.startupTimeoutMs,
      tls: certs ? pgTls(certs) : null,
      nodeId: store.nodeId,
      forwardCancel: this.member ? (n, pid, secret) => this.member?.forwardCancel(n, pid, secret) : undefined,
    });
    const pg = this.pg;
    const member = this.member;
    if (member) {
      // Zones of a TS range: its table's, its database's, then RANGE timeseries (a table's range never changes
      // table; its database can be looked up again at each call: the catalog view is cached).
      const tableOfRange = new Map<number, number | null>();
      member.zonesOf = (rangeId) => {
        const own = systemRangeZones(rangeId);
        if (own.length > 0) return own;
        let t = tableOfRange.get(rangeId);
        if (t === undefined || t === null) tableOfRange.set(rangeId, (t = tsTableOfRange(store.engine, rangeId)));
        if (t === null) return [];
        const d = engine.catalog.view(null).byId.get(t);
        return [tableZone(t), ...(d && 'parentId' in d ? [databaseZone(d.parentId)] : []), 'timeseries'];
      };
      member.onCancelQuery = (pid, secret) => pg.cancel(pid, secret);
      // LISTEN/NOTIFY across the cluster: a commit's notifications go to the other nodes too.
      member.onNotify = (notes) => {
        if (!deliverRemoteTo(engine.notifications, notes)) this.log.warn({ notes: notes.length }, 'notifications from another node dropped: a listener queue here is full');
      };
      engine.broadcastNotifications = (notes) => member.broadcastNotifications(notes);
    }
    await this.pg.listen();
    if (!this.http) await this.startHttp(certs);
    this.serving = true;
    this.heapTrimmer.start();
    const sql = this.pg.address();
    if (certs) {
      this.log.info(
        { sql: `${sql.host}:${sql.port}`, https: `${this.opts.httpHost}:${this.httpPort()}`, store: this.opts.storeDir, certsDir: certs.dir, startupMs: Date.now() - started },
        `node started in secure mode: TLS 1.2+ for SQL and HTTPS, SCRAM-SHA-256 passwords and client certificates${this.member ? ', mutual TLS with node certificates between nodes' : ''}`,
      );
    } else {
      this.log.info(
        { sql: `${sql.host}:${sql.port}`, http: `${this.opts.httpHost}:${this.httpPort()}`, store: this.opts.storeDir, insecure: true, startupMs: Date.now() - started },
        'node started in INSECURE mode: no TLS, no passwords (trust authentication; the line-protocol endpoints /write and /api/v2/write accept unauthenticated writes as root or the user a request names); do not expose it beyond localhost',
      );
    }
    for (const e of exposed) {
      this.log.warn(
        { flag: e.flag, host: e.host, addresses: e.addresses },
        `INSECURE and EXPOSED: ${e.flag}=${e.host} is not a loopback address (${e.addresses.join(', ')}), accepted by --accept-insecure-non-loopback: anyone who can reach it is superuser, with no TLS and no password`,
      );
    }
  }

  private async startHttp(certs: NodeCerts | null): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) =>
      void this.serveHttp(req, res).catch((e: unknown) => {
        this.log.error({ err: e }, 'HTTP request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    // Secure mode: the HTTP endpoints are HTTPS only, with the node's certificate.
    this.http = certs ? createHttpsServer({ cert: certs.cert, key: certs.key, ca: certs.ca, minVersion: 'TLSv1.2' }, handler) : createServer(handler);
    await new Promise<void>((resolve, reject) => {
      (this.http as Server).once('error', reject);
      (this.http as Server).listen(this.opts.httpPort, this.opts.httpHost, () => resolve());
    });
  }

  /** The inter-node RPC address (cluster mode). */
  rpcAddress(): string | null {
    return this.member?.rpcAddress ?? null;
  }

  /**
   * The store directory is private to the user, as PostgreSQL requires of its data directory
   * (0700): created so, or tightened if it exists open to others. The files inside are created
   * 0600 by the process umask the CLI sets (077), which also covers the files lmdb, the raft log
   * and the time-series engine create in native code and worker threads.
   */
  private makeStoreDirPrivate(): void {
    const dir = this.opts.storeDir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const mode = statSync(dir).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      chmodSync(dir, 0o700);
      this.log.warn({ store: dir, was: mode.toString(8) }, 'store directory was accessible to other users; changed to 0700');
    }
  }

  sqlPort(): number {
    return this.pg?.address().port ?? this.opts.listenPort;
  }

  httpPort(): number {
    const a = this.http?.address();
    return a && typeof a === 'object' ? a.port : this.opts.httpPort;
  }

  /** Secure mode (TLS, passwords). */
  get secure(): boolean {
    return !this.opts.insecure;
  }

  private async serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const [path, query] = url.split('?') as [string, string | undefined];
    if (LineProtocolHttp.handles(path)) {
      if (!this.ingest || !this.serving) {
        req.resume();
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ error: 'the node is not serving yet' }));
        return;
      }
      await this.ingest.serve(req, res, path, query ?? '');
      return;
    }
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    };
    if (path === '/health') {
      // ?ready=1: 503 until the node serves SQL and (cluster mode) holds its replica of the data and is live.
      const ready = this.serving && (!this.member || this.member.ready());
      const ok = /(^|&)ready=(1|true)(&|$)/.test(query ?? '') ? ready : this.serving;
      json(ok ? 200 : 503, { status: ok ? 'ok' : 'starting', nodeId: this.store?.nodeId ?? null, ready });
      return;
    }
    if (path === '/_status/nodes' && this.member) {
      try {
        json(200, { nodes: await this.member.nodeStatus() });
      } catch (e) {
        json(503, { error: (e as Error).message });
      }
      return;
    }
    if (path === '/_status/ranges' && this.store) {
      json(200, { nodeId: this.store.nodeId, ranges: this.store.rangeStatus() });
      return;
    }
    if (path === '/_status/vars') {
      this.readTsThreshold();
      this.metrics.refresh({
        store: this.store,
        cluster: this.member?.metricsView() ?? null,
        sqlConnections: this.pg?.connectionCount ?? 0,
        tsFreeSpaceThresholdBytes: this.tsThreshold.bytes,
      });
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
      res.end(await this.metrics.registry.metrics());
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  }

  /** ts.disk_free_space.alert_threshold as last read (a scrape starts a read at most every tsThresholdReadMs; the next scrape sees it). */
  private readonly tsThreshold = { bytes: 0, readAtMs: 0, reading: false };

  private readTsThreshold(): void {
    const engine = this.engine;
    const t = this.tsThreshold;
    if (!engine || !this.sender || !this.serving || t.reading || Date.now() - t.readAtMs < tsThresholdReadMs) return;
    t.reading = true;
    const sender = this.sender;
    void (async () => {
      const txn = await Txn.begin(sender);
      try {
        const v = Number(engine.clusterSetting('ts.disk_free_space.alert_threshold', txn));
        t.bytes = Number.isFinite(v) && v > 0 ? v : 0;
      } finally {
        txn.rollback();
      }
    })()
      .catch((e: unknown) => this.log.debug({ err: e }, 'reading ts.disk_free_space.alert_threshold for the metrics failed'))
      .finally(() => {
        t.reading = false;
        t.readAtMs = Date.now();
      });
  }

  async stop(): Promise<void> {
    this.serving = false;
    this.heapTrimmer.stop();
    this.log.info('shutting down');
    await this.pg?.close();
    this.engine?.stopBackgroundJobs();
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
    this.http?.closeAllConnections();
    await this.member?.stop();
    await this.store?.close();
    this.log.info('stopped');
  }
}
