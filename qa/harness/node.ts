/**
 * Starts real Strata server processes for integration tests: `strata start-single-node` from the
 * built CLI, on loopback ports chosen by the OS, with a temporary store directory.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
const cli = join(repoRoot, 'packages', 'cli', 'bin', 'strata.js');

export class TestNode {
  proc: ChildProcess | null = null;
  port = 0;
  httpPort = 0;
  stderr = '';

  /** Extra `start-single-node` flags (e.g. `--max-connections=3`); `certsDir`: secure mode. */
  constructor(
    readonly dir: string,
    readonly args: string[] = [],
    readonly certsDir: string | null = null,
  ) {}

  get url(): string {
    return `postgresql://root@127.0.0.1:${this.port}/defaultdb`;
  }

  async start(): Promise<void> {
    // STRATA_NODE_ARGS: extra node flags for the server (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile a benchmark).
    const nodeArgs = (process.env.STRATA_NODE_ARGS ?? '').split(' ').filter((x) => x.length > 0);
    const mode = this.certsDir ? [`--certs-dir=${this.certsDir}`] : ['--insecure'];
    const p = spawn(process.execPath, [...nodeArgs, cli, 'start-single-node', `--store=${this.dir}`, '--listen-addr=127.0.0.1:0', '--http-addr=127.0.0.1:0', ...mode, ...this.args], {
      env: { ...process.env, STRATA_LOG_LEVEL: process.env.STRATA_LOG_LEVEL ?? 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = p;
    p.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      if (process.env.STRATA_TEST_ECHO) process.stderr.write(d);
    });
    await new Promise<void>((res, rej) => {
      let out = '';
      const timer = setTimeout(() => rej(new Error(`node did not start in 30 s: ${out} ${this.stderr}`)), 30_000);
      p.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /strata: ready sql=[\d.]+:(\d+) http=[\d.]+:(\d+)/.exec(out);
        if (m) {
          this.port = Number(m[1]);
          this.httpPort = Number(m[2]);
          clearTimeout(timer);
          res();
        }
      });
      p.once('exit', (code) => {
        clearTimeout(timer);
        rej(new Error(`node exited with ${code} before ready: ${out} ${this.stderr}`));
      });
    });
  }

  /** The server process's resident set size in MiB (VmRSS from /proc). */
  rssMiB(): number {
    const pid = this.proc?.pid;
    if (pid === undefined) throw new Error('node is not running');
    return processRssMiB(pid);
  }

  /** One Prometheus sample from /_status/vars (the first line of that metric name). */
  async metric(name: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.httpPort}/_status/vars`)).text();
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    if (!m) throw new Error(`no metric ${name}`);
    return Number(m[1]);
  }

  /** SIGTERM and wait for a clean exit; returns the exit code. */
  async stop(): Promise<number | null> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return p?.exitCode ?? null;
    const done = new Promise<number | null>((res) => p.once('exit', (code) => res(code)));
    p.kill('SIGTERM');
    this.proc = null;
    return done;
  }

  /** SIGKILL: the process dies at once, like a power cut for the process. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const done = new Promise<void>((res) => p.once('exit', () => res()));
    p.kill('SIGKILL');
    this.proc = null;
    await done;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** VmRSS of a process in MiB. */
export function processRssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** Starts a node; `extra` is extra `start-single-node` flags (a list, or { args }). */
export async function startNode(dir?: string, extra: string[] | { args?: string[] } = []): Promise<TestNode> {
  const n = new TestNode(dir ?? mkdtempSync(join(tmpdir(), 'strata-test-')), Array.isArray(extra) ? extra : (extra.args ?? []));
  await n.start();
  return n;
}
