/**
 * Real multi-node clusters for tests: `strata start --join …` processes on loopback, `strata
 * init`, and the CLI's other cluster commands. Each node gets its own store directory and ports
 * chosen free beforehand (the join list must name the RPC ports before the nodes start). The
 * topology (ports, command lines, init, readiness) is deploy/local/topology.ts, shared with
 * `npm run cluster:local`. A secure cluster (`certsDir`: ca.crt, node.crt/key for 127.0.0.1,
 * client.root.crt/key, as qa/harness/secure.ts makes them) runs with --certs-dir: the harness then
 * speaks HTTPS and SQL over TLS (verify-full, root's client certificate) to it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { cliPath, freePort, hostOf, httpGet, initCluster, nodeReady, rpcAddrOf, runCli, securityArgs, sqlUrlOf, startArgs, storeDirOf } from '../../deploy/local/topology.js';
import type { CliResult, NodeSpec } from '../../deploy/local/topology.js';

export { freePort };

export class ClusterNodeProcess implements NodeSpec {
  proc: ChildProcess | null = null;
  log = '';
  /** STRATA_LOG_LEVEL of the process (default: the environment's, else warn). */
  logLevel: string | undefined = process.env.STRATA_LOG_LEVEL;

  constructor(
    readonly id: number,
    readonly dir: string,
    readonly sqlPort: number,
    readonly httpPort: number,
    readonly rpcPort: number,
    readonly join: string[],
    /** Listen address (default loopback). */
    readonly host?: string,
    /** A command the node runs under (e.g. `ip netns exec ns`); it must exec the node in place so signals reach it. */
    readonly wrap: string[] = [],
    /** Secure mode: its certificates directory (a test may give one node another CA's, or none: --insecure). */
    public certsDir?: string,
  ) {}

  /** More flags for `strata start` (set before start()). */
  extraArgs: string[] = [];

  get rpcAddr(): string {
    return rpcAddrOf(this);
  }

  url(db = 'defaultdb'): string {
    return sqlUrlOf(this, db);
  }

  /** Starts the process (it then waits for init or joins; see ready()). */
  start(): void {
    const argv = [...this.wrap, process.execPath, cliPath, ...startArgs(this, this.join), ...this.extraArgs];
    const p = spawn(argv[0] as string, argv.slice(1), { env: { ...process.env, STRATA_LOG_LEVEL: this.logLevel ?? 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    const keep = (d: Buffer) => {
      this.log = (this.log + d.toString()).slice(-20_000);
      if (process.env.STRATA_TEST_ECHO) process.stderr.write(d);
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
  }

  /** Whether /health?ready=1 answers 200. */
  ready(): Promise<boolean> {
    return nodeReady(this.httpPort, hostOf(this), this.certsDir);
  }

  /** GET an HTTP(S) endpoint of the node: its JSON. */
  private async getJson<T>(path: string): Promise<T> {
    const res = await httpGet(hostOf(this), this.httpPort, path, this.certsDir);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.body.slice(0, 200)}`);
    return JSON.parse(res.body) as T;
  }

  /** The sum of a metric's samples on /_status/vars whose labels include `labels` (e.g. `source="meta"`). */
  async metric(name: string, labels = ''): Promise<number> {
    const res = await httpGet(hostOf(this), this.httpPort, '/_status/vars', this.certsDir);
    let sum = 0;
    for (const line of res.body.split('\n')) {
      if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
      if (labels && !line.includes(labels)) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }

  async ranges(): Promise<{ rangeId: number; leaseholderNodeId: number | null; holdsLease: boolean; replicas: string[]; appliedIndex: number }[]> {
    return (await this.getJson<{ ranges: never[] }>('/_status/ranges')).ranges;
  }

  /** The node id the cluster gave this process (ids follow the order of joining, not of starting). */
  async nodeId(): Promise<number> {
    return (await this.getJson<{ nodeId: number }>('/_status/ranges')).nodeId;
  }

  /** SIGKILL, waiting for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
    this.proc = null;
  }

  /** SIGSTOP: the process stays, frozen (a stalled VM, a long GC pause); `resume` continues it. */
  pause(): void {
    if (!this.proc || this.proc.exitCode !== null) throw new Error('pause: the node is not running');
    this.proc.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  /** SIGTERM and wait; the exit code. */
  async stop(): Promise<number | null> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return p?.exitCode ?? null;
    const code = await new Promise<number | null>((resolve) => {
      p.once('exit', (c) => resolve(c));
      p.kill('SIGTERM');
    });
    this.proc = null;
    return code;
  }
}

export class LocalCluster {
  readonly root: string;
  readonly nodes: ClusterNodeProcess[] = [];

  private constructor(
    root: string,
    /** Secure cluster: the certificates directory of its nodes and of the harness's clients. */
    readonly certsDir?: string,
  ) {
    this.root = root;
  }

  /**
   * `n` nodes, each told to join all of them; none is started yet. `hosts[i]` and `wrap(id)` put
   * node i+1 on its own address under a command prefix (qa/harness/netns.ts); `certsDir` makes
   * it a secure cluster.
   */
  static async create(n: number, o: { hosts?: string[]; wrap?: (id: number) => string[]; certsDir?: string } = {}): Promise<LocalCluster> {
    const c = new LocalCluster(mkdtempSync(join(tmpdir(), 'strata-cluster-')), o.certsDir);
    const ports = [];
    for (let i = 0; i < n; i++) ports.push({ sql: await freePort(), http: await freePort(), rpc: await freePort() });
    const joinList = ports.map((p, i) => `${o.hosts?.[i] ?? '127.0.0.1'}:${p.rpc}`);
    ports.forEach((p, i) => c.nodes.push(new ClusterNodeProcess(i + 1, storeDirOf(c.root, i + 1), p.sql, p.http, p.rpc, joinList, o.hosts?.[i], o.wrap?.(i + 1) ?? [], o.certsDir)));
    return c;
  }

  node(i: number): ClusterNodeProcess {
    return this.nodes[i - 1] as ClusterNodeProcess;
  }

  /**
   * One statement through process i on a new connection; the rows. With `statementTimeoutMs`
   * the server bounds it (statement_timeout) and the client gives up 5 s later.
   */
  async query(i: number, sql: string, o: { db?: string; statementTimeoutMs?: number } = {}): Promise<Record<string, unknown>[]> {
    const t = o.statementTimeoutMs;
    const client = new pg.Client({ ...this.connection(i, o.db), ...(t === undefined ? {} : { statement_timeout: t, query_timeout: t + 5_000, connectionTimeoutMillis: 5_000 }) });
    client.on('error', () => {});
    await client.connect();
    try {
      return (await client.query(sql)).rows as Record<string, unknown>[];
    } finally {
      await client.end().catch(() => {});
    }
  }

  /**
   * node-postgres settings for process i as root: plaintext (insecure), or verify-full against
   * the cluster CA with root's client certificate (secure).
   */
  connection(i: number, db = 'defaultdb'): pg.ClientConfig {
    const n = this.node(i);
    if (!this.certsDir) return { connectionString: n.url(db) };
    const file = (f: string) => readFileSync(join(this.certsDir as string, f), 'utf8');
    return { host: hostOf(n), port: n.sqlPort, user: 'root', database: db, ssl: { ca: file('ca.crt'), cert: file('client.root.crt'), key: file('client.root.key'), rejectUnauthorized: true } };
  }

  /** The flag admin commands need for this cluster: --certs-dir=… or --insecure. */
  get securityArgs(): string[] {
    return securityArgs(this.certsDir);
  }

  /** The process among `among` whose node holds the range's lease, asked until exactly one says so (bounded). */
  async leaseholder(rangeId = 1, among = this.nodes.map((n) => n.id)): Promise<number> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const holders: number[] = [];
      for (const i of among) if ((await this.node(i).ranges().catch(() => [])).find((x) => x.rangeId === rangeId)?.holdsLease) holders.push(i);
      if (holders.length === 1) return holders[0] as number;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no single node holds range ${rangeId}'s lease`);
  }

  /** Runs the CLI; resolves with its exit code and output (never rejects on a non-zero exit). */
  cli(args: string[]): Promise<CliResult> {
    return runCli(args);
  }

  /** `strata init` against node i, retried while the node is not listening yet. */
  init(i = 1, timeoutMs = 30_000): Promise<CliResult> {
    return initCluster(this.node(i).rpcAddr, timeoutMs, this.certsDir);
  }

  /** Waits until every running node is ready (bounded). */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(this.nodes.filter((n) => n.proc).map((n) => n.ready()));
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error(`nodes not ready after ${timeoutMs} ms: ${states.map((s, i) => `n${i + 1}=${s}`).join(' ')}\n${this.nodes.map((n) => `--- n${n.id}\n${n.log.slice(-3000)}`).join('\n')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    rmSync(this.root, { recursive: true, force: true });
  }
}
