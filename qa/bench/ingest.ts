/**
 * bench:ingest — ingest paths on the same data, in one run. Today: the InfluxDB line protocol
 * (HTTP /write, 1.x) into Strata and into InfluxDB 1.x (Debian's influxd), TSBS "devops cpu-only"
 * rows (10 tags, 10 integer fields), the same lines and batches for both; both acknowledge a
 * write once it is durable (Strata: the replica log's fsync; InfluxDB: its WAL's).
 *
 *   npm run bench:ingest [-- --hosts 100 --hours 24 --workers 2 --batch 10000 --systems strata,influx]
 *
 * Prints rows/s, metrics/s and the ratio Strata / InfluxDB; checks that Strata holds every row.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startNode } from '../harness/node.js';
import { startInfluxDb } from './peers.js';
import { fields, hosts, readings, tagNames } from './tsbs/data.js';

const { values: opt } = parseArgs({
  options: {
    hosts: { type: 'string', default: '100' },
    hours: { type: 'string', default: '24' },
    workers: { type: 'string', default: '2' },
    batch: { type: 'string', default: '10000' },
    systems: { type: 'string', default: 'strata,influx' },
  },
});
const hostCount = Number(opt.hosts);
const hours = Number(opt.hours);
const workers = Number(opt.workers);
const batch = Number(opt.batch);
const systems = new Set((opt.systems as string).split(','));
const out = (s: string) => process.stdout.write(s + '\n');

// Lines as a TSBS/Telegraf writer sends them, split among the workers by host (so a worker's
// lines of one host stay in time order), `batch` lines per request, millisecond timestamps.
const hostTags = hosts(hostCount);
const tagText = hostTags.map((t) => tagNames.map((n, i) => `${n}=${t[i]}`).join(','));
const chunks: Buffer[][] = Array.from({ length: workers }, () => []);
const pending: string[][] = Array.from({ length: workers }, () => []);
let rows = 0;
for (const r of readings(hostCount, hours)) {
  const w = r.host % workers;
  const list = pending[w] as string[];
  list.push(`cpu,${tagText[r.host]} ${fields.map((f, i) => `${f}=${r.values[i]}i`).join(',')} ${r.ms}`);
  if (list.length >= batch) {
    (chunks[w] as Buffer[]).push(Buffer.from(list.join('\n')));
    pending[w] = [];
  }
  rows++;
}
for (let w = 0; w < workers; w++)
  if ((pending[w] as string[]).length)
    (chunks[w] as Buffer[]).push(Buffer.from((pending[w] as string[]).join('\n')));
const bytes = chunks.flat().reduce((n, b) => n + b.length, 0);
out(
  `bench:ingest — line protocol, TSBS cpu-only ${hostCount} hosts × ${hours} h = ${rows.toLocaleString()} rows (${(rows * fields.length).toLocaleString()} metrics, ${(bytes / 1e6).toFixed(1)} MB); ${workers} workers, ${batch} lines per request (${new Date().toISOString()})`,
);

async function load(url: string): Promise<number> {
  const start = performance.now();
  await Promise.all(
    chunks.map(async (list) => {
      for (const body of list) {
        const res = await fetch(url, { method: 'POST', body });
        if (res.status !== 204) throw new Error(`write ${url}: ${res.status} ${await res.text()}`);
      }
    }),
  );
  return (performance.now() - start) / 1000;
}

const results: Record<string, number> = {};
if (systems.has('influx')) {
  const influx = await startInfluxDb();
  try {
    await fetch(`${influx.url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: 'create database benchmark' }),
    });
    const s = await load(`${influx.url}/write?db=benchmark&precision=ms`);
    results.influx = rows / s;
    out(
      `InfluxDB 1.x: ${s.toFixed(2)} s, ${Math.round(rows / s).toLocaleString()} rows/s, ${Math.round((rows * fields.length) / s).toLocaleString()} metrics/s`,
    );
  } finally {
    await influx.stop();
  }
}
if (systems.has('strata')) {
  const node = await startNode();
  try {
    const c = new pg.Client(node.url);
    await c.connect();
    await c.query('create ts database benchmark');
    const s = await load(`http://127.0.0.1:${node.httpPort}/write?db=benchmark&precision=ms`);
    results.strata = rows / s;
    out(
      `Strata: ${s.toFixed(2)} s, ${Math.round(rows / s).toLocaleString()} rows/s, ${Math.round((rows * fields.length) / s).toLocaleString()} metrics/s`,
    );
    await c.query('use benchmark');
    const n = Number((await c.query('select count(*) as n from cpu')).rows[0].n);
    if (n !== rows) throw new Error(`Strata holds ${n} rows, ${rows} were written`);
    await c.end();
  } finally {
    await node.stop();
    node.cleanup();
  }
}
if (results.strata && results.influx)
  out(`ratio Strata / InfluxDB: ${(results.strata / results.influx).toFixed(2)}×`);
