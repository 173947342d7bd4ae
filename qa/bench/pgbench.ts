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
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot, startNode } from '../harness/node.js';
import { need, startPostgres } from './peers.js';

const { values } = parseArgs({ options: { scale: { type: 'string', default: '1' }, clients: { type: 'string', default: '8' }, seconds: { type: 'string', default: '20' } } });
const scale = Number(values.scale);
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const initSql = join(repoRoot, 'qa', 'bench', 'pgbench_init.sql');
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
  await pg.stop();
}
