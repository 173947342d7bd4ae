/**
 * bench:isolation — how much one heavy statement hurts everybody else: a bystander client runs
 * `SELECT 1` in a loop while another client runs each heavy statement of issue 9, on Strata and on
 * PostgreSQL 15 side by side in the same run; prints the bystander's latency (p50/p99/max) during
 * each, and the heavy statement's own time and outcome. Target: bystander p99 under 100 ms.
 *
 *   npm run bench:isolation [-- --scale 1 --timeout 60]
 *
 * --scale multiplies the row counts (1 = the sizes named in the issue: 20M-row array_agg, 5M-row
 * sort, …); every heavy statement runs under statement_timeout = --timeout seconds on both.
 * PostgreSQL runs from Debian's postgresql-15 (qa/bench/peers.ts), default settings.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startNode } from '../harness/node.js';
import { startPostgres } from './peers.js';

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '60' },
    only: { type: 'string', default: '' },
  },
});
const scale = Number(values.scale);
const timeoutS = Number(values.timeout);
const n = (x: number) => Math.max(1, Math.round(x * scale));

interface Heavy {
  name: string;
  sql: () => string;
  /** Session settings for the heavy client on Strata (PostgreSQL keeps its defaults). */
  strataSetup?: string;
}

const heavies: Heavy[] = [
  { name: 'none (baseline)', sql: () => 'select pg_sleep(2)' },
  {
    name: `10 MB statement (VALUES list, ${n(420_000).toLocaleString('en')} rows)`,
    sql: () =>
      'select count(*) from (values ' +
      Array.from({ length: n(420_000) }, (_, i) => `(${i},'v${i % 1000}')`).join(',') +
      ') v(a, b)',
  },
  {
    name: `${n(1_000_000).toLocaleString('en')}-item IN list`,
    sql: () =>
      'select count(*) from generate_series(1, 100000) g where g in (' +
      Array.from({ length: n(1_000_000) }, (_, i) => i * 2).join(',') +
      ')',
  },
  {
    name: `array_agg over ${n(20_000_000).toLocaleString('en')} rows`,
    sql: () => `select array_length(array_agg(g), 1) from generate_series(1, ${n(20_000_000)}) g`,
    strataSetup: "set work_mem = '1GB'",
  },
  {
    name: `array_agg over ${n(5_000_000).toLocaleString('en')} rows, sent to the client`,
    sql: () => `select array_agg(g) from generate_series(1, ${n(5_000_000)}) g`,
  },
  {
    name: 'IN-subquery over a 10,000-row table',
    sql: () => 'select count(*) from t10k a where a.x in (select b.id from t10k b where b.y <> 3)',
  },
  {
    name: 'correlated IN-subquery over a 10,000-row table',
    sql: () =>
      'select count(*) from t10k a where a.x in (select b.x from t10k b where b.y = a.y and b.id > a.id)',
  },
  {
    name: 'regex bomb × 20,000 rows',
    sql: () =>
      "select count(*) from generate_series(1, 20000) g where repeat('a', 40 + g % 7) || '!' ~ '^(a+)+$'",
  },
  {
    name: `${n(5_000_000).toLocaleString('en')}-row sort, every row (counted)`,
    sql: () =>
      `select count(*) from (select g from generate_series(1, ${n(5_000_000)}) g order by (g::int8 * 7919) % ${n(5_000_000)}) s`,
  },
  {
    name: `${n(5_000_000).toLocaleString('en')}-row sort, LIMIT 1`,
    sql: () =>
      `select g from generate_series(1, ${n(5_000_000)}) g order by (g::int8 * 7919) % ${n(5_000_000)} limit 1`,
  },
  {
    name: `hash join ${n(2_000_000).toLocaleString('en')} × ${n(2_000_000).toLocaleString('en')}`,
    sql: () =>
      `select count(*) from generate_series(1, ${n(2_000_000)}) a join generate_series(1, ${n(2_000_000)}) b on a = b`,
    // Hash joins do not spill: with the default work_mem this one fails with 53200 (in 3 s).
    strataSetup: "set work_mem = '1GB'",
  },
];

interface Result {
  p50: number;
  p99: number;
  max: number;
  count: number;
  heavyMs: number;
  outcome: string;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function measure(url: string, h: Heavy, strata: boolean): Promise<Result> {
  const heavy = new pg.Client(url);
  const bystander = new pg.Client(url);
  await heavy.connect();
  await bystander.connect();
  try {
    await heavy.query(`set statement_timeout = ${timeoutS * 1000}`);
    if (strata && h.strataSetup) await heavy.query(h.strataSetup);
    const text = h.sql();
    let done = false;
    const t0 = performance.now();
    const run = heavy.query(text).then(
      () => 'ok',
      (e: unknown) => `error ${(e as { code?: string }).code ?? String(e)}`,
    );
    void run.finally(() => {
      done = true;
    });
    const lat: number[] = [];
    while (!done) {
      const s = performance.now();
      await bystander.query('select 1');
      if (!done) lat.push(performance.now() - s);
    }
    const outcome = await run;
    const heavyMs = performance.now() - t0;
    lat.sort((a, b) => a - b);
    return {
      p50: pct(lat, 50),
      p99: pct(lat, 99),
      max: lat[lat.length - 1] ?? NaN,
      count: lat.length,
      heavyMs,
      outcome,
    };
  } finally {
    await heavy.end();
    await bystander.end();
  }
}

async function setup(url: string): Promise<void> {
  const c = new pg.Client(url);
  await c.connect();
  await c.query('drop table if exists t10k');
  await c.query('create table t10k (id int primary key, x int, y int)');
  await c.query('insert into t10k select g, g % 1000, g % 7 from generate_series(1, 10000) g');
  await c.end();
}

const f = (x: number) => (Number.isNaN(x) ? '–' : x < 10 ? x.toFixed(1) : x.toFixed(0));

process.stdout.write(
  `bench:isolation — scale ${scale}, statement_timeout ${timeoutS} s (${new Date().toISOString()})\n`,
);
const strata = await startNode();
const postgresPeer = await startPostgres();
try {
  await setup(strata.url);
  await setup(postgresPeer.url);
  const rows: string[] = [];
  rows.push(
    '| heavy statement | Strata p50 / p99 / max (ms) | PG 15 p50 / p99 / max (ms) | bystander queries Strata / PG | heavy statement Strata / PG |',
  );
  rows.push('| --- | ---: | ---: | ---: | ---: |');
  for (const h of heavies) {
    if (values.only && !h.name.includes(values.only)) continue;
    const s = await measure(strata.url, h, true);
    const p = await measure(postgresPeer.url, h, false);
    const heavyCell = (r: Result) =>
      `${(r.heavyMs / 1000).toFixed(1)} s${r.outcome === 'ok' ? '' : ` (${r.outcome})`}`;
    const line = `| ${h.name} | ${f(s.p50)} / ${f(s.p99)} / ${f(s.max)} | ${f(p.p50)} / ${f(p.p99)} / ${f(p.max)} | ${s.count} / ${p.count} | ${heavyCell(s)} / ${heavyCell(p)} |`;
    rows.push(line);
    process.stdout.write(line + '\n');
  }
  process.stdout.write('\n' + rows.join('\n') + '\n');
} finally {
  await strata.stop();
  strata.cleanup();
  await postgresPeer.stop();
}
