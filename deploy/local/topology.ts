/**
 * The local cluster topology shared by `npm run cluster:local` (deploy/local/cluster_local.ts)
 * and the test harness (qa/harness/cluster.ts): which ports and store directory each node gets,
 * the `strata start` command line of a node, `strata init` retried until the node listens, and
 * readiness. Nothing here imports the packages: both callers drive the built CLI as a separate
 * process, as an operator would (and this module imports nothing of theirs, so neither import
 * cycle nor build order arises).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const cliPath = join(repoRoot, 'packages', 'cli', 'bin', 'strata.js');

/** One node of a local cluster: everything on loopback. */
export interface NodeSpec {
  id: number;
  /** The store directory. */
  dir: string;
  sqlPort: number;
  httpPort: number;
  rpcPort: number;
  /** The address it listens on (default loopback; qa/harness/netns.ts gives each node its own). */
  host?: string;
  /** Secure mode: the certificates directory (ca.crt, node.crt/key); absent: --insecure. */
  certsDir?: string;
}

/** The flag that says how a node or an admin command talks: `--certs-dir=DIR` or `--insecure`. */
export const securityArgs = (certsDir: string | undefined): string[] => (certsDir ? [`--certs-dir=${certsDir}`] : ['--insecure']);

export const loopback = '127.0.0.1';

export const hostOf = (n: NodeSpec): string => n.host ?? loopback;
export const rpcAddrOf = (n: NodeSpec): string => `${hostOf(n)}:${n.rpcPort}`;
export const sqlUrlOf = (n: NodeSpec, db = 'defaultdb'): string => `postgresql://root@${hostOf(n)}:${n.sqlPort}/${db}`;
export const storeDirOf = (root: string, id: number): string => join(root, `n${id}`);

/** Node i (from 1) of `count` nodes on consecutive ports from the given bases (the compose file's ports: 26257, 8080, 27257). */
export function consecutiveNodes(root: string, count: number, base: { sql: number; http: number; rpc: number }): NodeSpec[] {
  return Array.from({ length: count }, (_, i) => ({ id: i + 1, dir: storeDirOf(root, i + 1), sqlPort: base.sql + i, httpPort: base.http + i, rpcPort: base.rpc + i }));
}

/** Every node joins every node's RPC address (a node ignores its own). */
export const joinListOf = (nodes: readonly NodeSpec[]): string[] => nodes.map(rpcAddrOf);

/**
 * The arguments after the CLI path that start node `n` (secure with its certificates directory;
 * insecure: loopback only, or a test's private network of namespaces, accepted explicitly).
 */
export function startArgs(n: NodeSpec, join: readonly string[]): string[] {
  const h = hostOf(n);
  const args = ['start', ...securityArgs(n.certsDir), `--store=${n.dir}`, `--listen-addr=${h}:${n.sqlPort}`, `--http-addr=${h}:${n.httpPort}`, `--rpc-addr=${rpcAddrOf(n)}`, `--join=${join.join(',')}`];
  if (h !== loopback && !n.certsDir) args.push('--accept-insecure-non-loopback');
  return args;
}

/**
 * Ports this process handed out: the kernel may offer a just-closed port again, so a cluster's
 * nine ports chosen one after another could repeat (EADDRINUSE at start).
 */
const portsHandedOut = new Set<number>();

/** A TCP port free right now on 127.0.0.1, never one this process handed out before. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const p = await anyFreePort();
    if (!portsHandedOut.has(p)) {
      portsHandedOut.add(p);
      return p;
    }
  }
  throw new Error('no fresh free port after 100 attempts');
}

async function anyFreePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, loopback, () => {
      const a = s.address();
      const port = a && typeof a === 'object' ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

/** Whether a port on 127.0.0.1 can be listened on now. */
export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, loopback, () => s.close(() => res(true)));
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; resolves with its exit code and output (never rejects on a non-zero exit). */
export function runCli(args: readonly string[], timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((res) => {
    execFile(process.execPath, [cliPath, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

/** `strata init` against an RPC address, retried while the node is not listening yet (bounded); with certsDir over TLS. */
export async function initCluster(rpcAddr: string, timeoutMs = 30_000, certsDir?: string): Promise<CliResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await runCli(['init', ...securityArgs(certsDir), `--host=${rpcAddr}`]);
    if (r.code === 0 || !/ECONNREFUSED|No connection established/.test(r.stderr) || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 250));
  }
}

/** Whether `strata init` failed only because the cluster already exists (a restart of a local cluster). */
export const alreadyInitialized = (r: CliResult): boolean => r.code !== 0 && /already been initialized/.test(r.stderr);

/** Whether the node's /health?ready=1 answers 200 (it holds its replica and is live); with certsDir over HTTPS. */
export async function nodeReady(httpPort: number, host = loopback, certsDir?: string): Promise<boolean> {
  try {
    return (await httpGet(host, httpPort, '/health?ready=1', certsDir)).status === 200;
  } catch {
    return false;
  }
}

/** How long one request to a node's HTTP endpoints may take. */
const httpTimeoutMs = 5000;

/** GET from a node's HTTP endpoints: plain HTTP, or HTTPS trusting the cluster CA of certsDir. */
export async function httpGet(host: string, port: number, path: string, certsDir?: string): Promise<{ status: number; body: string }> {
  if (!certsDir) {
    const res = await fetch(`http://${host}:${port}${path}`, { signal: AbortSignal.timeout(httpTimeoutMs) });
    return { status: res.status, body: await res.text() };
  }
  const ca = readFileSync(join(certsDir, 'ca.crt'));
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, ca, method: 'GET', timeout: httpTimeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out after ${httpTimeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
