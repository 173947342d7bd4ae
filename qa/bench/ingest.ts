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
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import postgres from 'postgres';
import { startNode } from '../harness/node.js';
import { startInfluxDb, startPostgres } from './peers.js';
import type { Peer } from './peers.js';
import { fields, hosts, isoOf, readings, tagNames } from './tsbs/data.js';

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

/** Bytes of COPY data per write to the socket stream. */
const copyChunkBytes = 1 << 20;
const pgEpochMicros = 946_684_800_000_000n;
const columnCount = 1 + fields.length + tagNames.length;
const tagTypes = [
  'varchar(32) not null',
  'varchar(16)',
  'varchar(24)',
  'varchar(8)',
  'varchar(24)',
  'varchar(8)',
  'varchar(8)',
  'varchar(8)',
  'varchar(8)',
  'varchar(16)',
];
const fieldCols = fields.map((f) => `${f} int8`).join(', ');
const tagCols = tagNames.map((n, i) => `${n} ${tagTypes[i]}`).join(', ');

// ---- the data, generated once, compactly (every leg's input is made from it) --------------------

const hostTags = hosts(hostCount);
const readingList = [...readings(hostCount, hours)];
const rows = readingList.length;
/** Per stream: the indexes of its readings (by host, so a host's rows stay in order). */
const split = (streams: number): number[][] => {
  const s: number[][] = Array.from({ length: streams }, () => []);
  readingList.forEach((r, i) => (s[r.host % streams] as number[]).push(i));
  return s;
};

function textChunks(streams: number): Buffer[][] {
  const hostLine = hostTags.map((t) => t.join('\t'));
  return split(streams).map((idx) => {
    const chunks: Buffer[] = [];
    let buf = '';
    for (const i of idx) {
      const r = readingList[i] as (typeof readingList)[number];
      buf += `${isoOf(r.ms)}\t${r.values.join('\t')}\t${hostLine[r.host]}\n`;
      if (buf.length >= copyChunkBytes) {
        chunks.push(Buffer.from(buf));
        buf = '';
      }
    }
    if (buf) chunks.push(Buffer.from(buf));
    return chunks;
  });
}

function binaryChunks(streams: number): Buffer[][] {
  const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
  const tagBytes = hostTags.map((t) => t.map((v) => Buffer.from(v)));
  return split(streams).map((idx) => {
    const chunks: Buffer[] = [];
    let parts: Buffer[] = [header];
    let size = header.length;
    for (const i of idx) {
      const r = readingList[i] as (typeof readingList)[number];
      const tags = tagBytes[r.host] as Buffer[];
      const b = Buffer.alloc(2 + 12 * (1 + fields.length) + tags.reduce((n, t) => n + 4 + t.length, 0));
      let o = b.writeInt16BE(columnCount, 0);
      o = b.writeInt32BE(8, o);
      o = b.writeBigInt64BE(BigInt(r.ms) * 1000n - pgEpochMicros, o);
      for (const v of r.values) {
        o = b.writeInt32BE(8, o);
        o = b.writeBigInt64BE(BigInt(v), o);
      }
      for (const t of tags) {
        o = b.writeInt32BE(t.length, o);
        o += t.copy(b, o);
      }
      parts.push(b);
      size += b.length;
      if (size >= copyChunkBytes) {
        chunks.push(Buffer.concat(parts));
        parts = [];
        size = 0;
      }
    }
    parts.push(Buffer.from([0xff, 0xff]));
    chunks.push(Buffer.concat(parts));
    return chunks;
  });
}

function lineChunks(streams: number): Buffer[][] {
  const tagText = hostTags.map((t) => tagNames.map((n, i) => `${n}=${t[i]}`).join(','));
  return split(streams).map((idx) => {
    const chunks: Buffer[] = [];
    for (let k = 0; k < idx.length; k += lpBatch) {
      const lines = idx.slice(k, k + lpBatch).map((i) => {
        const r = readingList[i] as (typeof readingList)[number];
        return `cpu,${tagText[r.host]} ${fields.map((f, j) => `${f}=${r.values[j]}i`).join(',')} ${r.ms}`;
      });
      chunks.push(Buffer.from(lines.join('\n')));
    }
    return chunks;
  });
}

/**
 * Per connection: the parameter arrays of its statements (text or binary parameters). Equal
 * values share one string or Buffer (usage values are 0–100, timestamps repeat across hosts), so
 * the 18 M parameters fit in memory.
 */
function insertStatements(binary: boolean): unknown[][][] {
  const int8 = (v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    return b;
  };
  const tagParams = hostTags.map((t) => (binary ? t.map((v) => Buffer.from(v)) : t));
  const valueParams = new Map<number, unknown>();
  const valueParam = (v: number) => {
    let p = valueParams.get(v);
    if (p === undefined) valueParams.set(v, (p = binary ? int8(BigInt(v)) : String(v)));
    return p;
  };
  const tsParams = new Map<number, unknown>();
  const tsParam = (ms: number) => {
    let p = tsParams.get(ms);
    if (p === undefined)
      tsParams.set(ms, (p = binary ? int8(BigInt(ms) * 1000n - pgEpochMicros) : isoOf(ms)));
    return p;
  };
  return split(connections).map((idx) => {
    const stmts: unknown[][] = [];
    for (let k = 0; k < idx.length; k += batch) {
      const params: unknown[] = [];
      for (const i of idx.slice(k, k + batch)) {
        const r = readingList[i] as (typeof readingList)[number];
        params.push(tsParam(r.ms));
        for (const v of r.values) params.push(valueParam(v));
        for (const t of tagParams[r.host] as unknown[]) params.push(t);
      }
      stmts.push(params);
    }
    return stmts;
  });
}

const placeholders = (n: number) =>
  Array.from(
    { length: n },
    (_, r) =>
      '(' + Array.from({ length: columnCount }, (_, c) => `$${r * columnCount + c + 1}`).join(', ') + ')',
  ).join(', ');

// ---- the loads ------------------------------------------------------------------------------------

async function copyLoad(url: string, sql: string, chunks: Buffer[][]): Promise<number> {
  const start = performance.now();
  await Promise.all(
    chunks.map(async (list) => {
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
  return (performance.now() - start) / 1000;
}

async function insertLoad(url: string, table: string, stmts: unknown[][][]): Promise<number> {
  const clients = await Promise.all(
    stmts.map(async () => {
      const c = new pg.Client(url);
      await c.connect();
      return c;
    }),
  );
  const start = performance.now();
  try {
    await Promise.all(
      stmts.map(async (list, w) => {
        const c = clients[w] as pg.Client;
        for (const values of list) {
          const n = values.length / columnCount;
          await c.query({
            name: `ins_${table}_${n}`,
            text: `insert into ${table} values ${placeholders(n)}`,
            values,
          });
        }
      }),
    );
    return (performance.now() - start) / 1000;
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

async function lineLoad(url: string, chunks: Buffer[][]): Promise<number> {
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

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fieldsAfterName = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fieldsAfterName[11]) + Number(fieldsAfterName[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

async function count(url: string, table: string): Promise<number> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return Number((await c.query(`select count(*) as n from ${table}`)).rows[0].n);
  } finally {
    await c.end();
  }
}

// ---- run ------------------------------------------------------------------------------------------

interface Leg {
  key: string;
  title: string;
  /** Loads the rows into `table` of the system at `url`; seconds. */
  run(url: string, table: string): Promise<number>;
}
const allSqlLegs: Leg[] = [
  {
    key: 'copy',
    title: `text COPY (${workers} streams)`,
    run: (url, t) => copyLoad(url, `copy ${t} from stdin`, textChunks(workers)),
  },
  {
    key: 'binary',
    title: `binary COPY (${workers} streams)`,
    run: (url, t) => copyLoad(url, `copy ${t} from stdin (format binary)`, binaryChunks(workers)),
  },
  {
    key: 'insert',
    title: `prepared INSERT, text parameters (${batch} rows, ${connections} connections)`,
    run: (url, t) => insertLoad(url, t, insertStatements(false)),
  },
  {
    key: 'insert-binary',
    title: `prepared INSERT, binary parameters (${batch} rows, ${connections} connections)`,
    run: (url, t) => insertLoad(url, t, insertStatements(true)),
  },
];
const sqlLegs = allSqlLegs.filter((l) => legs.has(l.key));

out(
  `bench:ingest — TSBS cpu-only ${hostCount} hosts × ${hours} h = ${rows.toLocaleString()} rows (${(rows * fields.length).toLocaleString()} metrics), systems ${[...systems].join(', ')} (${new Date().toISOString()})`,
);
/** rows/s per leg and system. */
const results = new Map<string, Record<string, number>>();
const record = (leg: string, system: string, seconds: number, cpu?: number) => {
  const r = results.get(leg) ?? {};
  r[system] = rows / seconds;
  results.set(leg, r);
  const cpuNote =
    cpu === undefined ? '' : `, server CPU ${cpu.toFixed(2)} s (${((cpu / rows) * 1e6).toFixed(1)} µs/row)`;
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
    const seconds = await load();
    record(leg, 'strata', seconds, cpuSeconds(pid) - cpu0);
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
