/**
 * npm run qa:drivers -- [--suites a,b] [--strata HOST:PORT] [--pg URL] [--pg-default] [--out DIR]
 *
 * Runs the drivers' own test suites (node-postgres, postgres.js, psycopg2, psycopg 3; see
 * suites.ts) against PostgreSQL 15 and a Strata process side by side, and prints per suite
 * `PG passed, Strata passed, ratio`, where ratio is the share of the tests passing on PostgreSQL
 * that also pass on Strata. Every test that passes on PostgreSQL and not on Strata is listed in
 * DIR/<suite>.diff.txt, and each run's full output in DIR/<suite>.<server>.log (default
 * qa/drivers/out/, git-ignored).
 *
 * The suites are not in this repository: qa/drivers/fetch.sh puts them in qa/drivers/suites/.
 * Without --pg it starts PostgreSQL 15 from Debian's package (as qa/bench does) with
 * max_prepared_transactions = 10, as the drivers' own CI runs them (two-phase commit on: their
 * TPC tests run); --pg-default keeps PostgreSQL's default 0, which is what Strata offers
 * (PREPARE TRANSACTION refused with 55000). Without --strata it starts a single Strata node from
 * this checkout's built CLI.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPostgres } from '../bench/peers.js';
import type { Peer } from '../bench/peers.js';
import { StrataProcess } from '../pgregress/strata_process.js';
import { allSuites } from './suites.js';
import type { Outcome, Target } from './suites.js';

const { values } = parseArgs({
  options: {
    suites: { type: 'string' },
    strata: { type: 'string' },
    pg: { type: 'string' },
    'pg-default': { type: 'boolean', default: false },
    out: { type: 'string', default: join(import.meta.dirname, 'out') },
    dir: { type: 'string', default: join(import.meta.dirname, 'suites') },
  },
});

const chosen = values.suites ? allSuites.filter((s) => values.suites?.split(',').includes(s.name)) : allSuites;
mkdirSync(values.out, { recursive: true });

async function exec(t: Target, sqls: string[]): Promise<void> {
  const c = new pg.Client({ host: t.host, port: t.port, user: t.user, database: 'postgres' });
  await c.connect();
  try {
    for (const s of sqls) await c.query(s);
  } finally {
    await c.end();
  }
}

let pgPeer: Peer | null = null;
let strata: StrataProcess | null = null;
try {
  const pgUrl = values.pg ?? (pgPeer = await startPostgres(values['pg-default'] ? [] : ['-c', 'max_prepared_transactions=10'])).url;
  const u = new URL(pgUrl);
  const pgTarget: Target = { name: 'PostgreSQL', host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username) || 'postgres' };
  let strataTarget: Target;
  if (values.strata) {
    const [host, port] = values.strata.split(':');
    strataTarget = { name: 'Strata', host: host ?? '127.0.0.1', port: Number(port), user: 'root' };
  } else {
    strata = await StrataProcess.start();
    strataTarget = { name: 'Strata', host: '127.0.0.1', port: strata.port, user: 'root' };
  }

  const rows: string[][] = [];
  for (const suite of chosen) {
    const dir = join(values.dir, suite.name);
    const missing = suite.missing(dir);
    if (missing !== null) {
      console.log(`${suite.name}: not run: ${missing} (see qa/drivers/fetch.sh)`);
      rows.push([suite.name, '-', '-', '-']);
      continue;
    }
    const results: Map<string, Outcome>[] = [];
    for (const t of [pgTarget, strataTarget]) {
      await exec(t, suite.setupSql(t));
      const started = Date.now();
      let log = '';
      const r = suite.run(dir, t, (s) => (log += s));
      writeFileSync(join(values.out, `${suite.name}.${t.name}.log`), log);
      const passed = [...r.values()].filter((o) => o === 'pass').length;
      console.log(`${suite.name} on ${t.name}: ${passed} passed of ${r.size} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      results.push(r);
    }
    const [onPg, onStrata] = results as [Map<string, Outcome>, Map<string, Outcome>];
    const pgPassed = [...onPg].filter(([, o]) => o === 'pass').map(([id]) => id);
    const both = pgPassed.filter((id) => onStrata.get(id) === 'pass');
    const lost = pgPassed.filter((id) => onStrata.get(id) !== 'pass').map((id) => `${id}  [${onStrata.get(id) ?? 'not run'}]`);
    const gained = [...onStrata].filter(([id, o]) => o === 'pass' && onPg.get(id) !== 'pass').map(([id]) => id);
    writeFileSync(
      join(values.out, `${suite.name}.diff.txt`),
      `# ${suite.unit}\n# passed on PostgreSQL 15, not on Strata (${lost.length}):\n${lost.join('\n')}\n# passed on Strata only (${gained.length}):\n${gained.join('\n')}\n`,
    );
    const strataPassed = [...onStrata.values()].filter((o) => o === 'pass').length;
    const ratio = pgPassed.length === 0 ? '-' : `${((100 * both.length) / pgPassed.length).toFixed(1)}%`;
    rows.push([suite.name, String(pgPassed.length), String(strataPassed), ratio]);
  }

  const head = ['suite', 'PG passed', 'Strata passed', 'ratio'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(`\n${fmt(head)}\n${fmt(widths.map((w) => '-'.repeat(w)))}\n${rows.map(fmt).join('\n')}`);
  console.log('ratio: the share of the tests passing on PostgreSQL 15 that pass on Strata too');
  for (const s of chosen) console.log(`  ${s.name}: ${s.unit}`);
} finally {
  strata?.stop(false);
  await pgPeer?.stop();
}
