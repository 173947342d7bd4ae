/**
 * bench:ingest — issue 14's ingest paths on the same data, in one run: TSBS "devops cpu-only"
 * rows (timestamp, 10 integer usage fields, 10 tags), loaded into
 *   - Strata: text COPY, binary COPY, prepared multi-row INSERT (text and binary parameters) and
 *     the InfluxDB line protocol (HTTP /write, 1.x);
 *   - PostgreSQL 15 (Debian's, default settings): text COPY, binary COPY and the same prepared
 *     INSERTs, into a plain table of the same 21 columns with an index on (hostname, ts) — the
 *     lookup a TS table's device + time order gives Strata;
 *   - InfluxDB 1.x (Debian's `influxd`): the same lines as Strata's line-protocol leg.
 * Every system acknowledges a write only once it is durable (Strata: the replica log's fsync;
 * PostgreSQL: fsync and synchronous_commit on; InfluxDB: its WAL's fsync per write). Each leg
 * writes every row into a fresh table; the row counts are checked afterwards.
 *
 *   npm run bench:ingest [-- --hosts 100 --hours 24 --workers 2 --connections 8 --batch 1000
 *                           --lp-batch 10000 --systems strata,pg,influx
 *                           --legs copy,binary,insert,insert-binary,lp]
 *
 * COPY and the line protocol run `workers` streams at once, the INSERTs `connections` (each a
 * prepared `INSERT INTO t VALUES ($1 … $21), … ` of `batch` rows). Rows are split among streams
 * by host, so one stream's rows of a host stay in time order. All systems run at once; each leg
 * runs on each of them in turn before the next leg (on a shared machine a change of load then
 * hits the numbers compared alike). Prints one table of rows/s with the ratios Strata /
 * PostgreSQL and Strata / InfluxDB, and per Strata leg its server's CPU time per row (from /proc:
 * what the load cost Strata, whatever else the machine was doing).
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startNode } from '../harness/node.js';
import { startInfluxDb, startPostgres } from './peers.js';
import type { Peer } from './peers.js';
import { fields } from './tsbs/data.js';
import { count, cpuSeconds, fieldCols, ingestWorkload, lineLoad, mainThreadCpuSeconds, tagCols } from './ingest_workload.js';

const { values: opt } = parseArgs({
  options: {
    hosts: { type: 'string', default: '100' },
    hours: { type: 'string', default: '24' },
    workers: { type: 'string', default: '2' },
    connections: { type: 'string', default: '8' },
    batch: { type: 'string', default: '1000' },
    'lp-batch': { type: 'string', default: '10000' },
    systems: { type: 'string', default: 'strata,pg,influx' },
    legs: { type: 'string', default: 'copy,binary,insert,insert-binary,lp' },
  },
});
const hostCount = Number(opt.hosts);
const hours = Number(opt.hours);
const workers = Number(opt.workers);
const connections = Number(opt.connections);
const batch = Number(opt.batch);
const lpBatch = Number(opt['lp-batch']);
const systems = new Set((opt.systems as string).split(','));
const legs = new Set((opt.legs as string).split(','));
const out = (s: string) => process.stdout.write(s + '\n');

const {
  rows,
  sqlLegs: allSqlLegs,
  lineChunks,
} = ingestWorkload({
  hosts: hostCount,
  hours,
  workers,
  connections,
  batch,
  lpBatch,
});
const sqlLegs = allSqlLegs.filter((l) => legs.has(l.key));

out(
  `bench:ingest — TSBS cpu-only ${hostCount} hosts × ${hours} h = ${rows.toLocaleString()} rows (${(rows * fields.length).toLocaleString()} metrics), systems ${[...systems].join(', ')} (${new Date().toISOString()})`,
);
/** rows/s per leg and system. */
const results = new Map<string, Record<string, number>>();
const record = (leg: string, system: string, seconds: number, cpu?: number, mainCpu?: number) => {
  const r = results.get(leg) ?? {};
  r[system] = rows / seconds;
  results.set(leg, r);
  const cpuNote =
    cpu === undefined ? '' : `, server CPU ${cpu.toFixed(2)} s (${((cpu / rows) * 1e6).toFixed(1)} µs/row; event loop ${((mainCpu ?? 0) / rows * 1e6).toFixed(1)} µs/row)`;
  out(
    `  ${system} ${leg}: ${seconds.toFixed(2)} s, ${Math.round(rows / seconds).toLocaleString()} rows/s${cpuNote}`,
  );
};

// Every system is started first, then each leg runs on each system in turn (PostgreSQL, InfluxDB,
// Strata), so a change in the shared machine's load hits the legs being compared alike.
const peer: Peer | null = systems.has('pg') && sqlLegs.length > 0 ? await startPostgres() : null;
const influx: Peer | null = systems.has('influx') && legs.has('lp') ? await startInfluxDb() : null;
const node = systems.has('strata') ? await startNode() : null;
try {
  const strataUrl = node?.url.replace('/defaultdb', '/benchmark') ?? '';
  const pid = node?.proc?.pid as number;
  /** Runs `load` on Strata, recording its server's CPU time. */
  const onStrata = async (leg: string, load: () => Promise<number>) => {
    const cpu0 = cpuSeconds(pid);
    const main0 = mainThreadCpuSeconds(pid);
    const seconds = await load();
    record(leg, 'strata', seconds, cpuSeconds(pid) - cpu0, mainThreadCpuSeconds(pid) - main0);
  };
  if (node) {
    const c = new pg.Client(node.url);
    await c.connect();
    await c.query('create ts database benchmark');
    await c.query('create ts database lp');
    await c.end();
  }
  if (influx) {
    await fetch(`${influx.url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: 'create database benchmark' }),
    });
  }
  for (const leg of sqlLegs) {
    const table = `cpu_${leg.key.replace('-', '_')}`;
    if (peer) {
      const c = new pg.Client(peer.url);
      await c.connect();
      await c.query(`create table ${table} (ts timestamptz not null, ${fieldCols}, ${tagCols})`);
      await c.query(`create index on ${table} (hostname, ts)`);
      await c.query('checkpoint');
      await c.end();
      record(leg.key, 'pg', await leg.run(peer.url, table));
      const n = await count(peer.url, table);
      if (n !== rows) throw new Error(`PostgreSQL ${table} holds ${n} rows, ${rows} were written`);
    }
    if (node) {
      const s = new pg.Client(strataUrl);
      await s.connect();
      await s.query(
        `create table ${table} (ts timestamptz not null, ${fieldCols}) tags (${tagCols}) primary tags (hostname)`,
      );
      await s.end();
      await onStrata(leg.key, () => leg.run(strataUrl, table));
      const n = await count(strataUrl, table);
      if (n !== rows) throw new Error(`Strata ${table} holds ${n} rows, ${rows} were written`);
    }
  }
  if (legs.has('lp')) {
    const lines = lineChunks(workers);
    if (influx)
      record('lp', 'influx', await lineLoad(`${influx.url}/write?db=benchmark&precision=ms`, lines));
    if (node) {
      await onStrata('lp', () =>
        lineLoad(`http://127.0.0.1:${node.httpPort}/write?db=lp&precision=ms`, lines),
      );
      const n = await count(node.url.replace('/defaultdb', '/lp'), 'cpu');
      if (n !== rows) throw new Error(`Strata lp.cpu holds ${n} rows, ${rows} were written`);
    }
  }
} finally {
  await peer?.stop();
  await influx?.stop();
  if (node) {
    await node.stop();
    node.cleanup();
  }
}

const titles: Record<string, string> = Object.fromEntries([
  ...sqlLegs.map((l) => [l.key, l.title]),
  ['lp', `line protocol (${workers} streams, ${lpBatch} lines per request)`],
]);
const fmt = (v: number | undefined) => (v === undefined ? '–' : Math.round(v).toLocaleString());
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? '–' : (a / b).toFixed(2) + '×';
out('');
out('| leg | Strata rows/s | PostgreSQL 15 rows/s | InfluxDB rows/s | Strata / PG | Strata / InfluxDB |');
out('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const [leg, r] of results)
  out(
    `| ${titles[leg] ?? leg} | ${fmt(r.strata)} | ${fmt(r.pg)} | ${fmt(r.influx)} | ${ratio(r.strata, r.pg)} | ${ratio(r.strata, r.influx)} |`,
  );
