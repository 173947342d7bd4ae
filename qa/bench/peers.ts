/**
 * Peers the benchmarks run side by side with Strata, started from Debian packages in throwaway
 * directories (installed with apt-get when missing and running as root).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const pgBin = '/usr/lib/postgresql/15/bin';

/** Makes sure `cmd` exists, installing Debian's `pkg` if we are root. */
export function need(cmd: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0 || existsSync(cmd)) return;
  if (process.getuid?.() === 0) {
    process.stdout.write(`installing ${pkg}…\n`);
    execFileSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkg} >/dev/null`], { stdio: 'inherit' });
  } else throw new Error(`${cmd} is missing: install Debian's ${pkg}`);
}

export interface Peer {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not start`);
}

function stopProc(proc: ChildProcess, dir: string, signal: NodeJS.Signals): () => Promise<void> {
  return async () => {
    if (proc.exitCode === null) {
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill(signal);
      await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

/** PostgreSQL 15 with default settings (fsync and synchronous_commit on). */
export async function startPostgres(extraArgs: string[] = []): Promise<Peer> {
  need(`${pgBin}/postgres`, 'postgresql-15');
  const dir = mkdtempSync(join(tmpdir(), 'bench-pg-'));
  const asPg = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  if (asPg.length) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const data = join(dir, 'data');
  execFileSync(asPg[0] ?? `${pgBin}/initdb`, [...asPg.slice(1), ...(asPg.length ? [`${pgBin}/initdb`] : []), '-D', data, '-A', 'trust', '-U', 'postgres'], { stdio: 'ignore' });
  const port = 15432 + Math.floor(Math.random() * 1000);
  const args = ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', ...extraArgs];
  const proc = spawn(asPg[0] ?? `${pgBin}/postgres`, [...asPg.slice(1), ...(asPg.length ? [`${pgBin}/postgres`] : []), ...args], { stdio: 'ignore' });
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  await waitFor(() => spawnSync('psql', ['-X', '-q', url, '-c', 'select 1'], { stdio: 'ignore' }).status === 0, 'PostgreSQL');
  return { url, dir, stop: stopProc(proc, dir, 'SIGINT') };
}

/** InfluxDB 1.x (Debian's influxdb) with its WAL fsynced on every write (the default). */
export async function startInfluxDb(): Promise<Peer> {
  need('influxd', 'influxdb');
  const dir = mkdtempSync(join(tmpdir(), 'bench-influx-'));
  for (const d of ['meta', 'data', 'wal']) mkdirSync(join(dir, d));
  const port = 18086 + Math.floor(Math.random() * 1000);
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    `reporting-disabled = true
bind-address = "127.0.0.1:${port + 1000}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
  max-body-size = 0
[monitor]
  store-enabled = false
`,
  );
  const proc = spawn('influxd', ['-config', conf], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    try {
      return (await fetch(`${url}/ping`)).status === 204;
    } catch {
      return false;
    }
  }, 'InfluxDB');
  return { url, dir, stop: stopProc(proc, dir, 'SIGTERM') };
}
