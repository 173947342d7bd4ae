/**
 * The workload of bench:ingest (qa/bench/ingest.ts) and of its CI slice (qa/tsbs/ingest_legs.test.ts):
 * TSBS "devops cpu-only" rows (qa/bench/tsbs/data.ts, seeded) as the input of each ingest leg —
 * text COPY, binary COPY, prepared multi-row INSERT with text or binary parameters, InfluxDB line
 * protocol — and the clients that load them.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import postgres from 'postgres';
import { fields, hosts, isoOf, readings, tagNames } from './tsbs/data.js';

/** Bytes of COPY data per write to the socket stream. */
const copyChunkBytes = 1 << 20;
const pgEpochMicros = 946_684_800_000_000n;
export const columnCount = 1 + fields.length + tagNames.length;
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
export const fieldCols = fields.map((f) => `${f} int8`).join(', ');
export const tagCols = tagNames.map((n, i) => `${n} ${tagTypes[i]}`).join(', ');

const placeholders = (n: number) =>
  Array.from(
    { length: n },
    (_, r) =>
      '(' + Array.from({ length: columnCount }, (_, c) => `$${r * columnCount + c + 1}`).join(', ') + ')',
  ).join(', ');

// ---- the loads ------------------------------------------------------------------------------------

export async function copyLoad(url: string, sql: string, chunks: Buffer[][]): Promise<number> {
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

export async function insertLoad(url: string, table: string, stmts: unknown[][][]): Promise<number> {
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

export async function lineLoad(url: string, chunks: Buffer[][]): Promise<number> {
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
export function cpuSeconds(pid: number, tid?: number): number {
  const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
  const fieldsAfterName = readFileSync(path, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fieldsAfterName[11]) + Number(fieldsAfterName[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** CPU seconds of a process's main thread (its event loop: the thread whose id is the pid). */
export function mainThreadCpuSeconds(pid: number): number {
  return cpuSeconds(pid, pid);
}

export async function count(url: string, table: string): Promise<number> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return Number((await c.query(`select count(*) as n from ${table}`)).rows[0].n);
  } finally {
    await c.end();
  }
}

export interface IngestOptions {
  hosts: number;
  hours: number;
  /** COPY and line-protocol streams. */
  workers: number;
  /** Prepared-INSERT connections. */
  connections: number;
  /** Rows per prepared INSERT. */
  batch: number;
  /** Lines per line-protocol request. */
  lpBatch: number;
}

export interface Leg {
  key: string;
  title: string;
  /** Loads the rows into `table` of the system at `url`; seconds. */
  run(url: string, table: string): Promise<number>;
}

/** The rows, each SQL leg, and the line-protocol requests (per stream). */
export function ingestWorkload(o: IngestOptions): {
  rows: number;
  sqlLegs: Leg[];
  lineChunks(streams: number): Buffer[][];
} {
  const { hosts: hostCount, hours, workers, connections, batch, lpBatch } = o;

  // the data, generated once, compactly (every leg's input is made from it) --------------------

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
  return { rows, sqlLegs: allSqlLegs, lineChunks };
}
