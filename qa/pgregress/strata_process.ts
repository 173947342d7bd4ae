/**
 * A Strata node for the conformance runner: `strata start-single-node` from a given CLI (this
 * checkout's by default, or another build's, to compare versions), on OS-chosen loopback ports
 * with a temporary store. The runner restarts it when a statement leaves it unresponsive.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const defaultCli = resolve(import.meta.dirname, '..', '..', 'packages', 'cli', 'bin', 'strata.js');

export class StrataProcess {
  stderr = '';
  private constructor(
    private readonly proc: ChildProcess,
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(cli = defaultCli): Promise<StrataProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'strata-pgregress-'));
    const p = spawn(process.execPath, [cli, 'start-single-node', `--store=${dir}`, '--listen-addr=127.0.0.1:0', '--http-addr=127.0.0.1:0', '--insecure'], {
      env: { ...process.env, STRATA_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    p.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-20_000);
    });
    const port = await new Promise<number>((res, rej) => {
      let out = '';
      const timer = setTimeout(() => rej(new Error(`strata did not start in 60 s: ${stderr}`)), 60_000);
      p.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /strata: ready sql=[\d.]+:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          res(Number(m[1]));
        }
      });
      p.once('exit', (code) => {
        clearTimeout(timer);
        rej(new Error(`strata exited with ${code} before ready: ${stderr}`));
      });
    });
    const sp = new StrataProcess(p, port, dir);
    p.stderr?.on('data', (d: Buffer) => {
      sp.stderr = (sp.stderr + d.toString()).slice(-20_000);
    });
    return sp;
  }

  alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Stops the node (SIGKILL when `kill`, else SIGTERM) and removes its store. */
  stop(kill: boolean): void {
    if (this.alive()) this.proc.kill(kill ? 'SIGKILL' : 'SIGTERM');
    const dir = this.dir;
    this.proc.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
}
