/**
 * Real multi-node clusters for tests: `strata start --join …` processes on loopback, `strata
 * init`, and the CLI's other cluster commands. Each node gets its own store directory and ports
 * chosen free beforehand (the join list must name the RPC ports before the nodes start).
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './node.js';

const cli = join(repoRoot, 'packages', 'cli', 'bin', 'strata.js');

/** A TCP port free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = a && typeof a === 'object' ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export class ClusterNodeProcess {
  proc: ChildProcess | null = null;
  log = '';

  constructor(
    readonly id: number,
    readonly dir: string,
    readonly sqlPort: number,
    readonly httpPort: number,
    readonly rpcPort: number,
    readonly join: string[],
  ) {}

  get rpcAddr(): string {
    return `127.0.0.1:${this.rpcPort}`;
  }

  url(db = 'defaultdb'): string {
    return `postgresql://root@127.0.0.1:${this.sqlPort}/${db}`;
  }

  /** Starts the process (it then waits for init or joins; see ready()). */
  start(): void {
    const p = spawn(
      process.execPath,
      [cli, 'start', '--insecure', `--store=${this.dir}`, `--listen-addr=127.0.0.1:${this.sqlPort}`, `--http-addr=127.0.0.1:${this.httpPort}`, `--rpc-addr=${this.rpcAddr}`, `--join=${this.join.join(',')}`],
      { env: { ...process.env, STRATA_LOG_LEVEL: process.env.STRATA_LOG_LEVEL ?? 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc = p;
    const keep = (d: Buffer) => {
      this.log = (this.log + d.toString()).slice(-20_000);
      if (process.env.STRATA_TEST_ECHO) process.stderr.write(d);
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
  }

  /** Whether /health?ready=1 answers 200. */
  async ready(): Promise<boolean> {
    try {
      return (await fetch(`http://127.0.0.1:${this.httpPort}/health?ready=1`)).status === 200;
    } catch {
      return false;
    }
  }

  async ranges(): Promise<{ rangeId: number; leaseholderNodeId: number | null; holdsLease: boolean; replicas: string[]; appliedIndex: number }[]> {
    return ((await (await fetch(`http://127.0.0.1:${this.httpPort}/_status/ranges`)).json()) as { ranges: never[] }).ranges;
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

const storeDirOf = (root: string, i: number) => join(root, `n${i}`);

export class LocalCluster {
  readonly root: string;
  readonly nodes: ClusterNodeProcess[] = [];

  private constructor(root: string) {
    this.root = root;
  }

  /** `n` nodes, each told to join all of them; none is started yet. */
  static async create(n: number): Promise<LocalCluster> {
    const c = new LocalCluster(mkdtempSync(join(tmpdir(), 'strata-cluster-')));
    const ports = [];
    for (let i = 0; i < n; i++) ports.push({ sql: await freePort(), http: await freePort(), rpc: await freePort() });
    const joinList = ports.map((p) => `127.0.0.1:${p.rpc}`);
    ports.forEach((p, i) => c.nodes.push(new ClusterNodeProcess(i + 1, storeDirOf(c.root, i + 1), p.sql, p.http, p.rpc, joinList)));
    return c;
  }

  node(i: number): ClusterNodeProcess {
    return this.nodes[i - 1] as ClusterNodeProcess;
  }

  /** Runs the CLI; resolves with its exit code and output (never rejects on a non-zero exit). */
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [cli, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code as number) : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** `strata init` against node i, retried while the node is not listening yet. */
  async init(i = 1, timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.cli(['init', '--insecure', `--host=${this.node(i).rpcAddr}`]);
      if (r.code === 0 || !/ECONNREFUSED|No connection established/.test(r.stderr) || Date.now() > deadline) return r;
      await new Promise((res) => setTimeout(res, 250));
    }
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
