/**
 * bench:tsbs — TSBS "devops cpu-only" on Strata, PostgreSQL 15 (TSBS's TimescaleDB-style schema
 * on plain PostgreSQL) and InfluxDB 1.x (Debian's), in one run on this machine.
 *
 *   npm run bench:tsbs [-- --hosts 100 --hours 24 --workers 2 --runs 5 --insert-rows 100000]
 *                         [--systems strata,pg,influx] [--queries high-cpu-all,lastpoint]
 *
 * Prints: rows/s loaded with COPY (Strata, PostgreSQL) and the line protocol (InfluxDB), rows/s
 * through prepared multi-row INSERTs, bytes on disk per metric, and each query's median latency
 * over `runs` instances with ratios to each peer; Strata's results are checked against
 * PostgreSQL's for every instance. Every system acknowledges a write only once it is durable.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startNode } from '../harness/node.js';
import { startInfluxDb, startPostgres } from './peers.js';
import { fields, hosts, isoOf, readings, rng, tagNames } from './tsbs/data.js';
import { queryTypes } from './tsbs/queries.js';
import { normalizeRows } from './tsbs/compare.js';
import type { QueryInstance } from './tsbs/queries.js';

const { values: opt } = parseArgs({
  options: {
    hosts: { type: 'string', default: '100' },
    hours: { type: 'string', default: '24' },
    workers: { type: 'string', default: '2' },
    runs: { type: 'string', default: '5' },
    'insert-rows': { type: 'string', default: '100000' },
    systems: { type: 'string', default: 'strata,pg,influx' },
    queries: { type: 'string', default: '' },
  },
});
const hostCount = Number(opt.hosts);
const hours = Number(opt.hours);
const workers = Number(opt.workers);
const runs = Number(opt.runs);
const insertRows = Number(opt['insert-rows']);
const systems = new Set((opt.systems as string).split(','));
const onlyQueries = new Set((opt.queries as string).split(',').filter((q) => q !== ''));
const out = (s: string) => process.stdout.write(s + '\n');

// ---- data, generated once ----------------------------------------------------------------------

const hostTags = hosts(hostCount);
const t0 = Date.now();
/** Per worker: COPY text chunks for Strata (tags inline) and PostgreSQL (tags_id), line protocol for InfluxDB. */
const strataChunks: string[][] = Array.from({ length: workers }, () => []);
const pgChunks: string[][] = Array.from({ length: workers }, () => []);
const influxChunks: string[][] = Array.from({ length: workers }, () => []);
const insertSample: { ms: number; host: number; values: number[] }[] = [];
let rowCount = 0;
{
  const sBuf: string[] = Array.from({ length: workers }, () => '');
  const pBuf: string[] = Array.from({ length: workers }, () => '');
  const iBuf: string[][] = Array.from({ length: workers }, () => []);
  const hostLine = hostTags.map((t) => t.join('\t'));
  const influxTags = hostTags.map((t) => tagNames.map((n, i) => `${n}=${t[i]}`).join(','));
  for (const r of readings(hostCount, hours)) {
    const w = r.host % workers;
    const iso = isoOf(r.ms);
    const vals = r.values.join('\t');
    sBuf[w] += `${iso}\t${vals}\t${hostLine[r.host]}\n`;
    pBuf[w] += `${iso}\t${r.host + 1}\t${vals}\n`;
    (iBuf[w] as string[]).push(`cpu,${influxTags[r.host]} ${fields.map((f, i) => `${f}=${r.values[i]}i`).join(',')} ${r.ms}`);
    if ((sBuf[w] as string).length > 1 << 20) {
      (strataChunks[w] as string[]).push(sBuf[w] as string);
      (pgChunks[w] as string[]).push(pBuf[w] as string);
      sBuf[w] = pBuf[w] = '';
    }
    if ((iBuf[w] as string[]).length >= 10_000) {
      (influxChunks[w] as string[]).push((iBuf[w] as string[]).join('\n'));
      iBuf[w] = [];
    }
    if (insertSample.length < insertRows) insertSample.push(r);
    rowCount++;
  }
  for (let w = 0; w < workers; w++) {
    if (sBuf[w]) (strataChunks[w] as string[]).push(sBuf[w] as string);
    if (pBuf[w]) (pgChunks[w] as string[]).push(pBuf[w] as string);
    if ((iBuf[w] as string[]).length) (influxChunks[w] as string[]).push((iBuf[w] as string[]).join('\n'));
  }
}
const metrics = rowCount * fields.length;
out(`bench:tsbs — devops cpu-only, ${hostCount} hosts × ${hours} h at 10 s = ${rowCount.toLocaleString()} rows (${metrics.toLocaleString()} metrics); ${workers} load workers; ${runs} instances per query (${new Date().toISOString()})`);
out(`generated in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

// ---- helpers -------------------------------------------------------------------------------------

async function copyChunks(url: string, sql: string, chunks: string[][]): Promise<number> {
  const start = Date.now();
  await Promise.all(
    chunks.map(async (list) => {
      const { default: postgres } = await import('postgres');
      const c = postgres(url, { max: 1, onnotice: () => {} });
      try {
        const stream = await c.unsafe(sql).writable();
        for (const chunk of list) if (!stream.write(chunk)) await new Promise((r) => stream.once('drain', r));
        await new Promise<void>((res, rej) => {
          stream.once('error', rej);
          stream.once('finish', res);
          stream.end();
        });
      } finally {
        await c.end();
      }
    }),
  );
  return (Date.now() - start) / 1000;
}

async function insertRowsPrepared(url: string, sql: (n: number) => string, row: (r: (typeof insertSample)[number]) => unknown[]): Promise<number> {
  const perStmt = 100;
  const start = Date.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const c = new pg.Client(url);
      await c.connect();
      try {
        const mine = insertSample.filter((r) => r.host % workers === w);
        for (let i = 0; i < mine.length; i += perStmt) {
          const batch = mine.slice(i, i + perStmt);
          await c.query({ name: `ins${batch.length}`, text: sql(batch.length), values: batch.flatMap(row) });
        }
      } finally {
        await c.end();
      }
    }),
  );
  return (Date.now() - start) / 1000;
}

const placeholders = (rows: number, cols: number) =>
  Array.from({ length: rows }, (_, r) => '(' + Array.from({ length: cols }, (_, c) => `$${r * cols + c + 1}`).join(', ') + ')').join(', ');

function duBytes(path: string): number {
  return Number(execFileSync('du', ['-s', '-B1', path], { encoding: 'utf8' }).split('\t')[0]);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

// ---- run -----------------------------------------------------------------------------------------

const strata = await startNode();
const pgPeer = systems.has('pg') ? await startPostgres() : null;
const influx = systems.has('influx') ? await startInfluxDb() : null;
const strataUrl = strata.url.replace('/defaultdb', '/benchmark');
const report: [string, string, string, string][] = [];
try {
  // Schemas.
  const s0 = new pg.Client(strata.url);
  await s0.connect();
  await s0.query('create ts database benchmark');
  const tagCols = `hostname varchar(32) not null, region varchar(16), datacenter varchar(24), rack varchar(8), os varchar(24), arch varchar(8), team varchar(8), service varchar(8), service_version varchar(8), service_environment varchar(16)`;
  const fieldCols = fields.map((f) => `${f} int8`).join(', ');
  await s0.query(`create table benchmark.cpu (ts timestamptz not null, ${fieldCols}) tags (${tagCols}) primary tags (hostname)`);
  await s0.query(`create table benchmark.cpu_ins (ts timestamptz not null, ${fieldCols}) tags (${tagCols}) primary tags (hostname)`);
  await s0.end();
  const pgc = pgPeer ? new pg.Client(pgPeer.url) : null;
  if (pgc) {
    await pgc.connect();
    await pgc.query(`create table tags (id serial primary key, ${tagNames.map((n) => `${n} text`).join(', ')})`);
    for (const t of hostTags) await pgc.query(`insert into tags (${tagNames.join(', ')}) values (${t.map((_, i) => `$${i + 1}`).join(', ')})`, t);
    for (const tbl of ['cpu', 'cpu_ins']) {
      await pgc.query(`create table ${tbl} (time timestamptz not null, tags_id int, ${fieldCols})`);
      await pgc.query(`create index on ${tbl} (tags_id, time desc)`);
      await pgc.query(`create index on ${tbl} (time desc)`);
    }
  }
  if (influx) await fetch(`${influx.url}/query`, { method: 'POST', body: new URLSearchParams({ q: 'create database benchmark' }) });

  // Loads.
  const sCopy = await copyChunks(strataUrl, 'copy cpu from stdin', strataChunks);
  const pCopy = pgPeer ? await copyChunks(pgPeer.url, `copy cpu (time, tags_id, ${fields.join(', ')}) from stdin`, pgChunks) : NaN;
  let iLoad = NaN;
  if (influx) {
    const start = Date.now();
    await Promise.all(
      influxChunks.map(async (list) => {
        for (const body of list) {
          const res = await fetch(`${influx.url}/write?db=benchmark&precision=ms`, { method: 'POST', body });
          if (res.status !== 204) throw new Error(`influx write: ${res.status} ${await res.text()}`);
        }
      }),
    );
    iLoad = (Date.now() - start) / 1000;
  }
  const rate = (secs: number) => (Number.isNaN(secs) ? 'n/a' : Math.round(rowCount / secs).toLocaleString());
  report.push(['load rows/s (COPY; InfluxDB: line protocol)', rate(sCopy), rate(pCopy), rate(iLoad)]);

  const n = insertSample.length;
  const sIns = await insertRowsPrepared(strataUrl, (k) => `insert into cpu_ins values ${placeholders(k, 21)}`, (r) => [isoOf(r.ms), ...r.values, ...(hostTags[r.host] as string[])]);
  const pIns = pgPeer ? await insertRowsPrepared(pgPeer.url, (k) => `insert into cpu_ins values ${placeholders(k, 12)}`, (r) => [isoOf(r.ms), r.host + 1, ...r.values]) : NaN;
  const insRate = (secs: number) => (Number.isNaN(secs) ? 'n/a' : Math.round(n / secs).toLocaleString());
  report.push([`prepared INSERT rows/s (100 rows per statement, ${n.toLocaleString()} rows)`, insRate(sIns), insRate(pIns), 'n/a']);

  // Disk: wait for Strata's TS flush (every second), then measure what is allocated.
  await new Promise((r) => setTimeout(r, 2000));
  const sBytes = duBytes(join(strata.dir, 'ts'));
  const pBytes = pgc ? Number((await pgc.query("select pg_total_relation_size('cpu') + pg_total_relation_size('tags') as b")).rows[0].b) : NaN;
  const iBytes = influx ? duBytes(join(influx.dir, 'data')) + duBytes(join(influx.dir, 'wal')) : NaN;
  const per = (b: number) => (Number.isNaN(b) ? 'n/a' : (b / metrics).toFixed(2));
  report.push(['bytes on disk per metric (cpu table)', per(sBytes), per(pBytes), per(iBytes)]);

  // Queries.
  const sc = new pg.Client(strataUrl);
  await sc.connect();
  const qrows: string[][] = [];
  let mismatches = 0;
  for (const qt of queryTypes(hostCount, hours)) {
    if (onlyQueries.size > 0 && !onlyQueries.has(qt.name)) continue;
    const r = rng(1000 + qt.name.length * 31 + qt.name.charCodeAt(qt.name.length - 1));
    const instances: QueryInstance[] = Array.from({ length: runs + 1 }, () => qt.make(r));
    const times: Record<string, number[]> = { strata: [], pg: [], influx: [] };
    let match = true;
    for (let i = 0; i < instances.length; i++) {
      const q = instances[i] as QueryInstance;
      const warm = i === 0;
      let t = performance.now();
      const sr = await sc.query(q.strata);
      if (!warm) times.strata?.push(performance.now() - t);
      if (pgc) {
        t = performance.now();
        const pr = await pgc.query(q.pg);
        if (!warm) times.pg?.push(performance.now() - t);
        const a = normalizeRows(sr.rows);
        const b = normalizeRows(pr.rows);
        if (a.length !== b.length || a.some((x, k) => x !== b[k])) {
          match = false;
          if (mismatches++ === 0) out(`MISMATCH in ${qt.name}:\n  strata ${a.slice(0, 3).join(' ; ')}\n  pg     ${b.slice(0, 3).join(' ; ')}`);
        }
      }
      if (influx) {
        t = performance.now();
        const res = await fetch(`${influx.url}/query?db=benchmark&epoch=ms`, { method: 'POST', body: new URLSearchParams({ q: q.influx }) });
        const body = (await res.json()) as { results?: { error?: string }[] };
        if (!warm) times.influx?.push(performance.now() - t);
        const err = body.results?.[0]?.error;
        if (err) throw new Error(`influx ${qt.name}: ${err}`);
      }
    }
    const sm = median(times.strata as number[]);
    const pm = pgc ? median(times.pg as number[]) : NaN;
    const im = influx ? median(times.influx as number[]) : NaN;
    qrows.push([qt.name, sm.toFixed(1), Number.isNaN(pm) ? 'n/a' : pm.toFixed(1), Number.isNaN(im) ? 'n/a' : im.toFixed(1), Number.isNaN(pm) ? 'n/a' : (pm / sm).toFixed(2), Number.isNaN(im) ? 'n/a' : (im / sm).toFixed(2), pgc ? (match ? 'yes' : 'NO') : 'n/a']);
  }
  await sc.end();
  await pgc?.end();

  out('');
  out(`${'measure'.padEnd(62)}${'Strata'.padStart(12)}${'PG 15'.padStart(12)}${'InfluxDB'.padStart(12)}`);
  for (const [name, a, b, c] of report) out(`${name.padEnd(62)}${a.padStart(12)}${b.padStart(12)}${c.padStart(12)}`);
  out('');
  out(`${'query (median ms)'.padEnd(26)}${'Strata'.padStart(10)}${'PG 15'.padStart(10)}${'InfluxDB'.padStart(10)}${'PG/S'.padStart(8)}${'Influx/S'.padStart(10)}${'= PG'.padStart(6)}`);
  for (const [name, a, b, c, d, e, f] of qrows) out(`${(name as string).padEnd(26)}${(a as string).padStart(10)}${(b as string).padStart(10)}${(c as string).padStart(10)}${(d as string).padStart(8)}${(e as string).padStart(10)}${(f as string).padStart(6)}`);
  out('');
  out('ratios = peer time / Strata time: above 1 means Strata is faster. "= PG": Strata returned the same rows as PostgreSQL for every instance.');
  out('Disk: Strata = TS engine files (blocks lz4-compressed as written; the Raft log, truncated after flushes, not counted); PG = table + indexes + tags; InfluxDB = data + WAL right after the load (before TSM compaction).');
  if (mismatches > 0) process.exitCode = 1;
} finally {
  await strata.stop();
  strata.cleanup();
  await pgPeer?.stop();
  await influx?.stop();
}
