/**
 * bench:pgbench — the real pgbench against Strata and against PostgreSQL 15 on this machine, same
 * scale, clients and duration, printing TPS and the ratio.
 *
 *   npm run bench:pgbench [-- --scale 1 --clients 8 --seconds 30]
 *
 * PostgreSQL runs from Debian's postgresql-15 package in a throwaway data directory (installed
 * with apt-get if missing and running as root), with default settings (fsync and
 * synchronous_commit on, like Strata). Both are loaded by qa/bench/pgbench_init.sql.
 * Strata runs every transaction SERIALIZABLE; PostgreSQL's default is READ COMMITTED — the
 * PostgreSQL numbers are also reported at SERIALIZABLE for a like-for-like comparison.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot, startNode } from '../harness/node.js';

const { values } = parseArgs({ options: { scale: { type: 'string', default: '1' }, clients: { type: 'string', default: '8' }, seconds: { type: 'string', default: '20' } } });
const scale = Number(values.scale);
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const initSql = join(repoRoot, 'qa', 'bench', 'pgbench_init.sql');
const pgBin = '/usr/lib/postgresql/15/bin';

function need(cmd: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0 || existsSync(cmd)) return;
  if (process.getuid?.() === 0) {
    process.stdout.write(`installing ${pkg}…\n`);
    execFileSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkg} >/dev/null`], { stdio: 'inherit' });
  } else throw new Error(`${cmd} is missing: install Debian's ${pkg}`);
}

function runPgbench(url: string, args: string[], env: Record<string, string> = {}): { tps: number; failed: string; retried: string } {
  const out = execFileSync('pgbench', ['-n', '-c', String(clients), '-j', '2', '-T', String(seconds), '-M', 'prepared', ...args, url], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? 'NaN');
  const failed = /number of failed transactions: (\d+ \([\d.]+%\))/.exec(out)?.[1] ?? '0';
  const retried = /number of transactions retried: (\d+ \([\d.]+%\))/.exec(out)?.[1] ?? '0';
  return { tps, failed, retried };
}

function load(url: string): number {
  const t = Date.now();
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', `scale=${scale}`, '-f', initSql, url], { stdio: ['ignore', 'ignore', 'inherit'] });
  return (Date.now() - t) / 1000;
}

async function startPostgres(): Promise<{ url: string; proc: ChildProcess; dir: string }> {
  need(`${pgBin}/postgres`, 'postgresql-15');
  const dir = mkdtempSync(join(tmpdir(), 'pgbench-pg-'));
  const asPg = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  if (asPg.length) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const data = join(dir, 'data');
  execFileSync(asPg[0] ?? `${pgBin}/initdb`, [...asPg.slice(1), ...(asPg.length ? [`${pgBin}/initdb`] : []), '-D', data, '-A', 'trust', '-U', 'postgres'], { stdio: 'ignore' });
  const port = 15432 + Math.floor(Math.random() * 1000);
  const args = ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'];
  const proc = spawn(asPg[0] ?? `${pgBin}/postgres`, [...asPg.slice(1), ...(asPg.length ? [`${pgBin}/postgres`] : []), ...args], { stdio: 'ignore' });
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  for (let i = 0; i < 100; i++) {
    if (spawnSync('psql', ['-X', '-q', url, '-c', 'select 1'], { stdio: 'ignore' }).status === 0) return { url, proc, dir };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('PostgreSQL did not start');
}

need('pgbench', 'postgresql-client-15');
process.stdout.write(`bench:pgbench — scale ${scale}, ${clients} clients, ${seconds} s per run, -M prepared, 2 pgbench threads (${new Date().toISOString()})\n`);

const strata = await startNode();
const pg = await startPostgres();
try {
  const rows: [string, string, string][] = [];
  const sLoad = load(strata.url);
  const pLoad = load(pg.url);
  rows.push(['load (s, lower is better)', sLoad.toFixed(2), pLoad.toFixed(2)]);
  const sSel = runPgbench(strata.url, ['-S']);
  const pSel = runPgbench(pg.url, ['-S']);
  rows.push(['select-only TPS', sSel.tps.toFixed(0), pSel.tps.toFixed(0)]);
  const sTpcb = runPgbench(strata.url, ['--max-tries=50']);
  const pTpcb = runPgbench(pg.url, ['--max-tries=50']);
  rows.push(['TPC-B-like TPS (PostgreSQL read committed)', sTpcb.tps.toFixed(0), pTpcb.tps.toFixed(0)]);
  const pTpcbSer = runPgbench(pg.url, ['--max-tries=50'], { PGOPTIONS: '-c default_transaction_isolation=serializable' });
  rows.push(['TPC-B-like TPS (PostgreSQL serializable)', sTpcb.tps.toFixed(0), pTpcbSer.tps.toFixed(0)]);
  process.stdout.write(`\n${'case'.padEnd(45)}${'Strata'.padStart(10)}${'PG 15'.padStart(10)}${'ratio'.padStart(10)}\n`);
  for (const [name, s, p] of rows) {
    const ratio = name.startsWith('load') ? Number(p) / Number(s) : Number(s) / Number(p);
    process.stdout.write(`${name.padEnd(45)}${s.padStart(10)}${p.padStart(10)}${ratio.toFixed(2).padStart(10)}\n`);
  }
  process.stdout.write(`\nStrata TPC-B: retried ${sTpcb.retried}, failed ${sTpcb.failed}; PostgreSQL serializable TPC-B: retried ${pTpcbSer.retried}, failed ${pTpcbSer.failed}\n`);
  process.stdout.write('ratio = Strata / PostgreSQL (for load time: PostgreSQL time / Strata time); above 1 means Strata is faster.\n');
} finally {
  await strata.stop();
  strata.cleanup();
  pg.proc.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 1000));
  rmSync(pg.dir, { recursive: true, force: true });
}
