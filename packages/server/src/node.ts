import { createServer } from 'node:http';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { logger } from '@strata/common';
import { PgServer } from '@strata/pgwire';
import { SqlEngine } from '@strata/sql';
import { LocalSender, Store } from '@strata/store';
import { NodeMetrics } from './metrics.js';

export interface NodeOptions {
  storeDir: string;
  listenHost: string;
  listenPort: number;
  httpHost: string;
  httpPort: number;
  insecure: boolean;
  nodeId?: number;
  /** The node's SQL memory budget in bytes (--max-sql-memory); default: the SQL engine's. */
  maxSqlMemoryBytes?: number;
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

  constructor(readonly opts: NodeOptions) {}

  async start(): Promise<void> {
    if (!this.opts.insecure) {
      throw new Error('secure mode (TLS and passwords) is not implemented yet; start with --insecure');
    }
    const started = Date.now();
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
    this.pg = new PgServer({ engine, host: this.opts.listenHost, port: this.opts.listenPort, metrics: this.metrics });
    await this.pg.listen();
    this.http = createServer((req, res) => void this.serveHttp(req.url ?? '/', res));
    await new Promise<void>((resolve, reject) => {
      (this.http as Server).once('error', reject);
      (this.http as Server).listen(this.opts.httpPort, this.opts.httpHost, () => resolve());
    });
    this.serving = true;
    const sql = this.pg.address();
    this.log.info(
      { sql: `${sql.host}:${sql.port}`, http: `${this.opts.httpHost}:${this.httpPort()}`, store: this.opts.storeDir, insecure: true, startupMs: Date.now() - started },
      'node started in INSECURE mode: no TLS, no passwords (trust authentication); do not expose it beyond localhost',
    );
  }

  sqlPort(): number {
    return this.pg?.address().port ?? this.opts.listenPort;
  }

  httpPort(): number {
    const a = this.http?.address();
    return a && typeof a === 'object' ? a.port : this.opts.httpPort;
  }

  private async serveHttp(url: string, res: import('node:http').ServerResponse): Promise<void> {
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
    this.log.info('shutting down');
    await this.pg?.close();
    this.engine?.stopBackgroundJobs();
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
    this.http?.closeAllConnections();
    await this.store?.close();
    this.log.info('stopped');
  }
}
