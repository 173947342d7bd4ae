import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { logger } from '@strata/common';
import { PgServer, pgTls } from '@strata/pgwire';
import { SqlEngine } from '@strata/sql';
import { LocalSender, Store } from '@strata/store';
import { NodeMetrics } from './metrics.js';
import { checkInsecureAddresses } from './exposure.js';
import { HeapTrimmer } from './heap_trim.js';
import { loadNodeCerts } from './node_certs.js';
import type { NodeCerts } from './node_certs.js';

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
          ],
          this.opts.acceptInsecureNonLoopback ?? false,
        )
      : [];
    this.makeStoreDirPrivate();
    this.store = await Store.open(this.opts.storeDir, { nodeId: this.opts.nodeId ?? 1, bootstrap: true });
    const store = this.store;
    const sender = new LocalSender(store);
    const engine = new SqlEngine({
      sender,
      nodeId: this.opts.nodeId ?? 1,
      engineSizeBytes: () => store.engineSizeBytes() + store.ts.diskBytes(),
      maxSqlMemoryBytes: this.opts.maxSqlMemoryBytes,
      tempDir: join(this.opts.storeDir, 'tmp'),
      ts: sender,
    });
    this.engine = engine;
    store.onApply = (b) => engine.onApply(b);
    await engine.bootstrap();
    engine.startBackgroundJobs();
    this.pg = new PgServer({
      engine,
      host: this.opts.listenHost,
      port: this.opts.listenPort,
      metrics: this.metrics,
      connectionsMax: this.opts.maxConnections,
      startupTimeoutMs: this.opts.startupTimeoutMs,
      tls: certs ? pgTls(certs) : null,
    });
    await this.pg.listen();
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.serveHttp(req.url ?? '/', res);
    // Secure mode: the HTTP endpoints are HTTPS only, with the node's certificate.
    this.http = certs ? createHttpsServer({ cert: certs.cert, key: certs.key, ca: certs.ca, minVersion: 'TLSv1.2' }, handler) : createServer(handler);
    await new Promise<void>((resolve, reject) => {
      (this.http as Server).once('error', reject);
      (this.http as Server).listen(this.opts.httpPort, this.opts.httpHost, () => resolve());
    });
    this.serving = true;
    this.heapTrimmer.start();
    const sql = this.pg.address();
    if (certs) {
      this.log.info(
        { sql: `${sql.host}:${sql.port}`, https: `${this.opts.httpHost}:${this.httpPort()}`, store: this.opts.storeDir, certsDir: certs.dir, startupMs: Date.now() - started },
        'node started in secure mode: TLS 1.2+ for SQL and HTTPS, SCRAM-SHA-256 passwords and client certificates',
      );
    } else {
      this.log.info(
        { sql: `${sql.host}:${sql.port}`, http: `${this.opts.httpHost}:${this.httpPort()}`, store: this.opts.storeDir, insecure: true, startupMs: Date.now() - started },
        'node started in INSECURE mode: no TLS, no passwords (trust authentication); do not expose it beyond localhost',
      );
    }
    for (const e of exposed) {
      this.log.warn(
        { flag: e.flag, host: e.host, addresses: e.addresses },
        `INSECURE and EXPOSED: ${e.flag}=${e.host} is not a loopback address (${e.addresses.join(', ')}), accepted by --accept-insecure-non-loopback: anyone who can reach it is superuser, with no TLS and no password`,
      );
    }
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

  private async serveHttp(url: string, res: ServerResponse): Promise<void> {
    const path = url.split('?')[0];
    if (path === '/health') {
      res.writeHead(this.serving ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: this.serving ? 'ok' : 'starting', nodeId: this.opts.nodeId ?? 1 }));
      return;
    }
    if (path === '/_status/vars') {
      const st = this.store;
      if (st) {
        this.metrics.engineBytes.set(st.engineSizeBytes());
        this.metrics.raftLogBytes.set(st.logSizeBytes());
        this.metrics.raftRounds.set(st.stats.logRounds);
        this.metrics.commits.set(st.stats.commits);
        this.metrics.conflicts.set(st.stats.conflicts);
        const r = st.ts.reads;
        this.metrics.tsBlockReads.set({ how: 'skipped' }, r.skipped);
        this.metrics.tsBlockReads.set({ how: 'header' }, r.headers);
        this.metrics.tsBlockReads.set({ how: 'decoded' }, r.decoded);
      }
      this.metrics.connections.set(this.pg?.connectionCount ?? 0);
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
      res.end(await this.metrics.registry.metrics());
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  }

  async stop(): Promise<void> {
    this.serving = false;
    this.heapTrimmer.stop();
    this.log.info('shutting down');
    await this.pg?.close();
    this.engine?.stopBackgroundJobs();
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
    this.http?.closeAllConnections();
    await this.store?.close();
    this.log.info('stopped');
  }
}
