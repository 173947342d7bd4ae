/**
 * Text COPY into a TS table with its parsing in worker threads (sql/src/ts_copy_workers.ts)
 * answers exactly as the event-loop path does: two real nodes, one with the workers off
 * (STRATA_COPY_WORKERS=0) and one with two, get the same psql `\copy` inputs — clean loads of
 * several 20,000-row chunks with fields only the general parser takes, a bad row in the middle of a
 * chunk, a bad tag, the end marker — and must give the same error text (SQLSTATE message, line)
 * and store the same rows.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

let plain: TestNode;
let workers: TestNode;
const dir = mkdtempSync(join(tmpdir(), 'ts-copy-workers-'));

/** A node with this many COPY worker threads (binary COPY through them too when any). */
async function startWith(threads: string): Promise<TestNode> {
  const env = { STRATA_COPY_WORKERS: threads, STRATA_COPY_BINARY_WORKERS: threads === '0' ? '0' : '1' };
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await startNode();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function sql(n: TestNode, q: string): Promise<pg.QueryResult> {
  const c = new pg.Client(n.url.replace('/defaultdb', '/iot'));
  await c.connect();
  try {
    return await c.query(q);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  [plain, workers] = await Promise.all([startWith('0'), startWith('2')]);
  for (const n of [plain, workers]) {
    const c = new pg.Client(n.url);
    await c.connect();
    await c.query('create ts database iot');
    await c.end();
  }
}, 60_000);

afterAll(async () => {
  for (const n of [plain, workers]) {
    await n?.stop();
    n?.cleanup();
  }
  rmSync(dir, { recursive: true, force: true });
});

let tables = 0;

/**
 * Loads `lines` into a fresh table on both nodes; returns each node's psql stderr and rows.
 * `raw`: through postgres.js instead, which sends the bytes as they are (psql stops at `\.`).
 */
async function loadBoth(lines: string[] | Buffer, raw = false) {
  const table = `t${++tables}`;
  const binary = Buffer.isBuffer(lines);
  const file = join(dir, `${table}.${binary ? 'bin' : 'tsv'}`);
  writeFileSync(file, binary ? lines : lines.join('\n') + '\n');
  const out = [];
  for (const n of [plain, workers]) {
    await sql(n, `create table ${table} (ts timestamptz not null, v int8, f float8 not null) tags (dev varchar(8) not null, site varchar(8)) primary tags (dev)`);
    let r = { status: 0 as number | null, stderr: '' };
    if (raw) {
      const client = postgres(n.url.replace('/defaultdb', '/iot'), { max: 1, onnotice: () => {} });
      try {
        await pipeline(Readable.from([(lines as string[]).join('\n') + '\n']), await client.unsafe(`copy ${table} from stdin`).writable());
      } finally {
        await client.end();
      }
    } else r = spawnSync('psql', ['-X', '-v', 'ON_ERROR_STOP=1', n.url.replace('/defaultdb', '/iot'), '-c', `\\copy ${table} from '${file}'${binary ? ' with (format binary)' : ''}`], { encoding: 'utf8' });
    const rows = (await sql(n, `select ts::text, v::text, f, dev, site from ${table} order by dev, ts`)).rows;
    out.push({ status: r.status, stderr: r.stderr.replace(/^psql:[^:]*:\d+: /gm, ''), rows });
  }
  return { plain: out[0]!, workers: out[1]! };
}

const at = (k: number) => new Date(Date.UTC(2026, 0, 1) + k * 1000).toISOString().replace('T', ' ').replace('.000Z', '+00');
const row = (k: number) => `${at(k)}\t${k}\t${k / 4}\td${k % 7}\t${k % 3 === 0 ? '\\N' : `s${k % 3}`}`;

describe('text COPY into a TS table in worker threads', () => {
  it('loads several chunks, fields the general parser takes among them, into the same rows', async () => {
    const lines: string[] = [];
    for (let k = 0; k < 45_000; k++) lines.push(row(k));
    lines[7] = `${at(7).replace('+00', '')}\t7\t1e3\td0\tx`; // no offset (session time zone), an exponent
    lines[25_000] = `${at(25_000)}\t+25000\t 2.5\td1\t\\x41`; // a sign, a space, an escape
    const r = await loadBoth(lines);
    expect(r.plain.stderr).toBe('');
    expect(r.workers.stderr).toBe('');
    expect(r.plain.rows).toHaveLength(45_000);
    expect(r.workers.rows).toEqual(r.plain.rows);
  });

  it('a bad row in the middle of a chunk: the same error and line, and nothing of the COPY stored', async () => {
    const lines: string[] = [];
    for (let k = 0; k < 15_000; k++) lines.push(row(k));
    lines[9_000] = `${at(9_000)}\t9000\tnope\td1\tx`;
    const r = await loadBoth(lines);
    expect(r.plain.status).not.toBe(0);
    expect(r.plain.stderr).toContain('invalid input syntax for type double precision: "nope"');
    expect(r.plain.stderr).toContain('line 9001');
    expect(r.workers.stderr).toBe(r.plain.stderr);
    expect(r.plain.rows).toEqual([]);
    expect(r.workers.rows).toEqual([]);
  });

  it('a bad row in a later chunk: the same error, the same earlier commands stored', async () => {
    const lines: string[] = [];
    for (let k = 0; k < 45_000; k++) lines.push(row(k));
    lines[30_500] = `${at(30_500)}\t30500\t1\td1\tx\textra`;
    const r = await loadBoth(lines);
    expect(r.plain.stderr).toContain('extra data after last expected column');
    expect(r.plain.stderr).toContain('line 30501');
    expect(r.workers.stderr).toBe(r.plain.stderr);
    expect(r.plain.rows).toHaveLength(20_000);
    expect(r.workers.rows).toEqual(r.plain.rows);
  });

  it('a tag too long, NULL in a NOT NULL column, bad UTF-8: the same errors', async () => {
    for (const bad of [`${at(5)}\t5\t1\tdevice-too-long\tx`, `${at(5)}\t5\t\\N\td1\tx`, `${at(5)}\t5\t1\t\\N\tx`, `${at(5)}\t5\t1\td\\377\tx`]) {
      const lines: string[] = [];
      for (let k = 0; k < 12_000; k++) lines.push(row(k));
      lines[6_000] = bad;
      const r = await loadBoth(lines);
      expect(r.plain.status, bad).not.toBe(0);
      // (A NOT NULL violation names no line on either path: Strata's 23502 has no COPY detail.)
      if (!r.plain.stderr.includes('null value')) expect(r.plain.stderr).toContain('line 6001');
      expect(r.workers.stderr, bad).toBe(r.plain.stderr);
      expect(r.workers.rows).toEqual(r.plain.rows);
    }
  });

  it('the end marker \\. in the middle: what follows it is ignored on both', async () => {
    const lines: string[] = [];
    for (let k = 0; k < 30_000; k++) lines.push(row(k));
    lines[21_000] = '\\.';
    const r = await loadBoth(lines, true);
    expect(r.plain.rows).toHaveLength(21_000);
    expect(r.workers.rows).toEqual(r.plain.rows);
  });

  /** PostgreSQL's binary COPY file of these rows (a row: ts µs since 1970, v, f, dev, site; null: NULL). */
  type BinRow = readonly [number, bigint, number | null, string | null, string | null] | 'short';
  function binaryFile(rows: BinRow[]): Buffer {
    const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)];
    for (const r of rows) {
      const fields: (Buffer | null)[] = [];
      if (r === 'short') {
        parts.push(Buffer.from([0, 4])); // a field count that is not the table's
        continue;
      }
      const ts = Buffer.alloc(8);
      ts.writeBigInt64BE(BigInt(r[0]) - 946_684_800_000_000n);
      fields.push(ts);
      const v = Buffer.alloc(8);
      v.writeBigInt64BE(r[1]);
      fields.push(v);
      if (r[2] === null) fields.push(null);
      else {
        const f = Buffer.alloc(8);
        f.writeDoubleBE(r[2]);
        fields.push(f);
      }
      fields.push(r[3] === null ? null : Buffer.from(r[3]), r[4] === null ? null : Buffer.from(r[4]));
      const head = Buffer.alloc(2);
      head.writeInt16BE(fields.length);
      parts.push(head);
      for (const f of fields) {
        const len = Buffer.alloc(4);
        len.writeInt32BE(f === null ? -1 : f.length);
        parts.push(len);
        if (f) parts.push(f);
      }
    }
    parts.push(Buffer.from([0xff, 0xff]));
    return Buffer.concat(parts);
  }
  const binRow = (k: number): BinRow => [Date.UTC(2026, 0, 1) * 1000 + k * 1_000_000, BigInt(k), k / 4, `d${k % 7}`, k % 3 === 0 ? null : `s${k % 3}`];

  it('binary COPY: several chunks, a value only the general decoder takes, the same rows', async () => {
    const rows = Array.from({ length: 45_000 }, (_, k) => binRow(k));
    rows[100] = [Date.UTC(2026, 0, 1) * 1000 + 100_000_000, 2n ** 60n, 1.5, 'd1', 'x']; // beyond a double's integers
    const r = await loadBoth(binaryFile(rows));
    expect(r.plain.stderr).toBe('');
    expect(r.workers.stderr).toBe('');
    expect(r.plain.rows).toHaveLength(45_000);
    expect(r.workers.rows).toEqual(r.plain.rows);
  });

  it('binary COPY: NULL in NOT NULL mid-chunk, a bad tag, a bad field count in a later chunk — the same errors and rows', async () => {
    const cases: [number, BinRow][] = [
      [9_000, [Date.UTC(2026, 0, 1) * 1000, 1n, null, 'd1', 'x']],
      [9_000, [Date.UTC(2026, 0, 1) * 1000, 1n, 1, 'device-too-long', 'x']],
      [30_500, 'short'],
    ];
    for (const [at, bad] of cases) {
      const rows = Array.from({ length: 45_000 }, (_, k) => binRow(k));
      rows[at] = bad;
      const r = await loadBoth(binaryFile(rows));
      expect(r.plain.status).not.toBe(0);
      expect(r.workers.stderr).toBe(r.plain.stderr);
      expect(r.workers.rows).toEqual(r.plain.rows);
      expect(r.plain.rows).toHaveLength(at < 20_000 ? 0 : 20_000);
    }
  });
});
