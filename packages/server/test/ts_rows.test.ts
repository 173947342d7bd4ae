/**
 * Rows of time-series tables over the wire: INSERT (multi-row, prepared, column lists, INSERT …
 * SELECT), SELECT with filters, aggregates and GROUP BY tags, joins with relational tables, the
 * errors bad rows get, DROP, and durability (clean restart and SIGKILL under load).
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

let node: TestNode;
let c: pg.Client;

async function connect(): Promise<pg.Client> {
  const cl = new pg.Client(node.url);
  cl.on('error', () => {}); // the restart and kill tests end connections under the client
  await cl.connect();
  await cl.query('use iot');
  return cl;
}

beforeAll(async () => {
  node = await startNode();
  const s = new pg.Client(node.url);
  await s.connect();
  await s.query('create ts database iot');
  await s.query('create table devices (id int primary key, site text)');
  await s.query("insert into devices values (1, 'north'), (2, 'south'), (3, 'east')");
  await s.end();
  c = await connect();
  await c.query(`create table readings (ts timestamptz not null, temp float8, load int4 not null, ok bool)
    tags (device int4 not null, model varchar(16)) primary tags (device)`);
});
afterAll(async () => {
  await c.end();
  await node.stop();
  node.cleanup();
});

async function sqlstate(q: string, params: unknown[] = []): Promise<string> {
  try {
    await c.query(q, params);
  } catch (e) {
    return (e as { code: string }).code;
  }
  throw new Error(`expected an error from: ${q}`);
}

describe('time-series rows', () => {
  it('inserts multi-row, out of order and prepared, and reads back per device in time order', async () => {
    const r = await c.query(`insert into readings values
      ('2026-01-01 00:00:10+00', 20.5, 3, true, 1, 'm1'),
      ('2026-01-01 00:00:00+00', 19.5, 1, false, 1, 'm1'),
      ('2026-01-01 00:00:05+00', null, 2, null, 2, 'm2')`);
    expect(r.rowCount).toBe(3);
    await c.query('insert into readings values ($1, $2, $3, $4, $5, $6)', ['2026-01-01T00:00:20Z', 21.25, 4, true, 1, 'm1']);
    await c.query('insert into readings (ts, load, device) values ($1, $2, $3)', ['2026-01-01T00:00:01Z', 9, 3]);
    const rows = (await c.query("select device, model, load, temp, ok, to_char(ts at time zone 'UTC', 'HH24:MI:SS') as t from readings order by device, ts")).rows;
    expect(rows).toEqual([
      { device: 1, model: 'm1', load: 1, temp: 19.5, ok: false, t: '00:00:00' },
      { device: 1, model: 'm1', load: 3, temp: 20.5, ok: true, t: '00:00:10' },
      { device: 1, model: 'm1', load: 4, temp: 21.25, ok: true, t: '00:00:20' },
      { device: 2, model: 'm2', load: 2, temp: null, ok: null, t: '00:00:05' },
      { device: 3, model: null, load: 9, temp: null, ok: null, t: '00:00:01' },
    ]);
    // SELECT * order: data columns, then tags.
    const star = await c.query('select * from readings limit 1');
    expect(star.fields.map((f) => f.name)).toEqual(['ts', 'temp', 'load', 'ok', 'device', 'model']);
  });

  it('filters, aggregates and groups by tags', async () => {
    const g = await c.query("select device, count(*)::int as n, sum(load)::int as s, max(temp) as mx from readings where ts >= '2026-01-01 00:00:01+00' group by device order by device");
    expect(g.rows).toEqual([
      { device: 1, n: 2, s: 7, mx: 21.25 },
      { device: 2, n: 1, s: 2, mx: null },
      { device: 3, n: 1, s: 9, mx: null },
    ]);
  });

  it('pushes time ranges and primary-tag values into the scan with the same results as a full scan', async () => {
    const plan = (await c.query("explain select * from readings where ts >= '2026-01-01 00:00:05+00' and device in (1, 2)")).rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toContain('ts scan readings (time range, primary tags)');
    const plan2 = (await c.query("explain select * from readings where model = 'm1'")).rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan2).toContain('tag filter');
    const preds = [
      "ts > '2026-01-01 00:00:05+00'",
      "ts >= '2026-01-01 00:00:05+00'",
      "ts < '2026-01-01 00:00:10+00'",
      "ts <= '2026-01-01 00:00:10+00' and ts >= '2026-01-01 00:00:01+00'",
      "ts = '2026-01-01 00:00:10+00'",
      "'2026-01-01 00:00:05+00' < ts",
      'device = 1',
      'device in (2, 3, 99)',
      "device = 1 and ts > '2026-01-01 00:00:00+00'",
      'device = 4000000000', // out of int4 range: no entity, no rows
      "ts > '2026-01-01 00:00:10+00' and ts < '2026-01-01 00:00:05+00'",
      "model = 'm1'",
      "model in ('m2', 'zz')",
      "model = 'm1' and device = 1 and ts >= '2026-01-01 00:00:10+00'",
      "model = 'nope'",
    ];
    for (const p of preds) {
      const pushed = (await c.query(`select device, load from readings where ${p} order by device, load`)).rows;
      // The same predicate on expressions the scan cannot use: filtered above a full scan.
      const full = (await c.query(`select device, load from readings where ${p.replace(/\bts\b/g, "(ts + interval '0 s')").replace(/\bdevice\b/g, '(device + 0)').replace(/\bmodel\b/g, "(model || '')")} order by device, load`)).rows;
      expect(pushed, p).toEqual(full);
    }
    expect((await c.query("select count(*)::int as n from readings where ts > '2026-01-01 00:00:05+00'")).rows[0].n).toBe(2);
  });

  it('decodes only the columns a query refers to, wherever it refers to them', async () => {
    expect((await c.query('select r.temp from readings r where r.device = 1 order by r.ts')).rows.map((x) => x.temp)).toEqual([19.5, 20.5, 21.25]);
    expect((await c.query('select count(*)::int as n from readings where temp is null')).rows[0].n).toBe(2);
    expect((await c.query('select device from readings group by device having max(load) > 3 order by device')).rows.map((x) => x.device)).toEqual([1, 3]);
    expect((await c.query('select device from readings r where exists (select 1 where r.ok) order by device, ts')).rows.map((x) => x.device)).toEqual([1, 1]);
    expect((await c.query('select r.* from readings r where device = 1 order by ts limit 1')).rows[0]).toMatchObject({ temp: 19.5, load: 1, ok: false, model: 'm1' });
  });

  it('answers lastpoint (DISTINCT ON primary tags, newest first) from the newest row per device', async () => {
    const q = 'select distinct on (device) device, ts, load from readings ORDER BY device, ts desc';
    const plan = (await c.query(`explain ${q}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toContain('newest row per entity');
    const fast = (await c.query(q)).rows;
    const full = (await c.query(q.replace('ORDER BY', 'where true order by'))).rows; // WHERE disables the shortcut
    expect(fast).toEqual(full);
    expect(fast.map((r) => [r.device, r.load])).toEqual([[1, 4], [2, 2], [3, 9]]);
  });

  it("KWDB's first/last (non-NULL) and first_row/last_row (NULLs included), by timestamp, and their *ts forms", async () => {
    await c.query('create table fl (ts timestamptz not null, v float8) tags (d int4 not null) primary tags (d)');
    await c.query(`insert into fl values
      ('2026-01-01 00:00:03+00', 3, 1), ('2026-01-01 00:00:01+00', null, 1), ('2026-01-01 00:00:02+00', 2, 1),
      ('2026-01-01 00:00:05+00', null, 1), ('2026-01-01 00:00:01+00', 7, 2)`);
    const r = await c.query('select d, first(v) as f, last(v) as l, first_row(v) as fr, last_row(v) as lr, last(ts)::text as lt from fl group by d order by d');
    expect(r.rows).toEqual([
      { d: 1, f: 2, l: 3, fr: null, lr: null, lt: '2026-01-01 00:00:05+00' },
      { d: 2, f: 7, l: 7, fr: 7, lr: 7, lt: '2026-01-01 00:00:01+00' },
    ]);
    expect((await c.query('select last(v) as l from fl')).rows[0].l).toBe(3);
    const t = await c.query('select d, firstts(v)::text as f, lastts(v)::text as l, first_row_ts(v)::text as fr, last_row_ts(v)::text as lr from fl group by d order by d');
    expect(t.rows[0]).toEqual({ d: 1, f: '2026-01-01 00:00:02+00', l: '2026-01-01 00:00:03+00', fr: '2026-01-01 00:00:01+00', lr: '2026-01-01 00:00:05+00' });
    await expect(c.query('select last(id) from defaultdb.devices')).rejects.toMatchObject({ code: '0A000' });
  });

  it("KWDB's elapsed, twa and diff", async () => {
    await c.query('create table tw (ts timestamptz not null, v int8) tags (d int4 not null) primary tags (d)');
    await c.query("insert into tw values ('2026-07-01 00:00:30+00', 10, 1), ('2026-07-01 00:00:00+00', 0, 1), ('2026-07-01 00:00:10+00', 10, 1), ('2026-07-01 00:00:05+00', 4, 2)");
    const r = await c.query("select d, elapsed(ts) as ms, elapsed(ts, '1s') as s, twa(ts, v) as t from tw group by d order by d");
    expect(r.rows[0]).toMatchObject({ d: 1, ms: 30000, s: 30 });
    expect(r.rows[0].t).toBeCloseTo(250 / 30, 10);
    expect(r.rows[1]).toEqual({ d: 2, ms: 0, s: 0, t: 4 });
    const w = await c.query('select d, v, diff(v) over (partition by d order by ts) as dv from tw order by d, ts');
    expect(w.rows.map((x) => [x.d, Number(x.v), x.dv === null ? null : Number(x.dv)])).toEqual([[1, 0, null], [1, 10, 10], [1, 10, 0], [2, 4, null]]);
    expect(await sqlstate("select elapsed(ts, 'fortnight') from tw")).toBe('22023');
  });

  it('time_bucket_gapfill fills empty buckets and interpolate fills their values', async () => {
    await c.query('create table gf (ts timestamptz not null, v float8) tags (d int4 not null) primary tags (d)');
    // device 1: values at minutes 0, 3 (and two rows in minute 0); device 2: minute 1 only
    await c.query(`insert into gf values ('2026-08-01 00:00:10+00', 1, 1), ('2026-08-01 00:00:20+00', 3, 1),
      ('2026-08-01 00:03:00+00', 8, 1), ('2026-08-01 00:01:00+00', 5, 2)`);
    const q = (mode: string) =>
      c.query(`select d, extract(minute from time_bucket_gapfill(ts, '1m'))::int as m, avg(v) as a, interpolate(avg(v)${mode}) as i
               from gf where ts >= '2026-08-01 00:00:00+00' and ts < '2026-08-01 00:05:00+00' group by d, time_bucket_gapfill(ts, '1m') order by d, m`);
    const lin = (await q(", 'linear'")).rows;
    expect(lin.filter((r) => r.d === 1).map((r) => [r.m, r.a, r.i])).toEqual([[0, 2, 2], [1, null, 4], [2, null, 6], [3, 8, 8], [4, null, null]]);
    expect(lin.filter((r) => r.d === 2).map((r) => [r.m, r.i])).toEqual([[0, null], [1, 5], [2, null], [3, null], [4, null]]);
    const prev = (await q(", 'prev'")).rows.filter((r) => r.d === 1).map((r) => r.i);
    expect(prev).toEqual([2, 2, 2, 8, 8]);
    const next = (await q(", 'next'")).rows.filter((r) => r.d === 1).map((r) => r.i);
    expect(next).toEqual([2, 8, 8, 8, null]);
    const cst = (await q(', 0')).rows.filter((r) => r.d === 1).map((r) => r.i);
    expect(cst).toEqual([2, 0, 0, 8, 0]);
    // TimescaleDB's argument order; no WHERE bounds: from the series' first to last bucket
    const ts = await c.query("select time_bucket_gapfill('1 minute', ts) as b, interpolate(max(v)) as i from gf where d = 1 group by b order by b");
    const want = [3, 14 / 3, 19 / 3, 8];
    expect(ts.rows).toHaveLength(4);
    ts.rows.forEach((r, i) => expect(r.i).toBeCloseTo(want[i] as number, 9));
    expect(await sqlstate('select interpolate(avg(v)) from gf')).toBe('0A000');
  });

  it('group windows: COUNT_WINDOW, STATE_WINDOW, SESSION_WINDOW, EVENT_WINDOW, TIME_WINDOW, sliding COUNT_WINDOW and TIME_WINDOW', async () => {
    await c.query('create table gw (ts timestamptz not null, v int4, st varchar(4)) tags (d int4 not null) primary tags (d)');
    const rows = [
      [0, 1, 'a'], [10, 2, 'a'], [20, 3, 'b'], [30, 4, 'b'], [200, 5, 'b'], [210, 6, 'a'], [220, 7, 'a'],
    ];
    await c.query(`insert into gw values ${rows.map(([s, v, st]) => `('2026-09-01'::timestamptz + interval '${s} seconds', ${v}, '${st}', 1)`).join(', ')}, ('2026-09-01 00:00:05+00', 100, 'z', 2)`);
    const w = async (g: string, extra = '') =>
      (await c.query(`select d, sum(v)::int as s, count(*)::int as n from gw ${extra} group by d, ${g} order by d, min(ts)`)).rows.map((r) => [r.d, r.s, r.n]);
    expect(await w('count_window(3)')).toEqual([[1, 6, 3], [1, 15, 3], [1, 7, 1], [2, 100, 1]]);
    expect(await w('state_window(st)')).toEqual([[1, 3, 2], [1, 12, 3], [1, 13, 2], [2, 100, 1]]);
    expect(await w("session_window(ts, '1m')")).toEqual([[1, 10, 4], [1, 18, 3], [2, 100, 1]]);
    // a window opens on a row meeting the start condition and closes on one meeting the end condition
    // (the same row may do both); rows outside windows are dropped
    expect(await w('event_window(v = 2 or v = 6, v >= 4)')).toEqual([[1, 9, 3], [1, 6, 1]]);
    expect(await w("time_window(ts, '1m')")).toEqual([[1, 10, 4], [1, 18, 3], [2, 100, 1]]);
    expect(await w('count_window(2)', "where ts > '2026-09-01 00:00:05+00'")).toEqual([[1, 5, 2], [1, 9, 2], [1, 13, 2]]);
    // sliding: a window of 3 rows every 2 rows; windows of 1 minute every 30 seconds (a row in each window holding it)
    expect(await w('count_window(3, 2)')).toEqual([[1, 6, 3], [1, 12, 3], [1, 18, 3], [1, 7, 1], [2, 100, 1]]);
    const sorted = (x: unknown[][]) => x.map((r) => JSON.stringify(r)).sort();
    expect(sorted(await w("time_window(ts, '1m', '30s')"))).toEqual(sorted([[1, 6, 3], [1, 10, 4], [1, 4, 1], [1, 5, 1], [1, 18, 3], [1, 13, 2], [2, 100, 1], [2, 100, 1]]));
    expect(await sqlstate('select count(*) from gw group by count_window(2, 3)')).toBe('22023');
    expect(await sqlstate("select count(*) from gw group by time_window(ts, '1m', '2m')")).toBe('22023');
    expect(await sqlstate('select count(*) from defaultdb.devices group by count_window(2)')).toBe('0A000');
  });

  it('SHOW TAG VALUES lists every device once, in primary-tag order', async () => {
    expect((await c.query('show tag values from readings')).rows).toEqual([
      { device: 1, model: 'm1' },
      { device: 2, model: 'm2' },
      { device: 3, model: null },
    ]);
    await expect(c.query('show tag values from defaultdb.devices')).rejects.toMatchObject({ code: '42809' });
  });

  it('joins with a relational table in another database', async () => {
    const j = await c.query('select d.site, count(*)::int as n from readings r join defaultdb.devices d on d.id = r.device group by d.site order by d.site');
    expect(j.rows).toEqual([
      { site: 'east', n: 1 },
      { site: 'north', n: 3 },
      { site: 'south', n: 1 },
    ]);
  });

  it('INSERT … SELECT copies rows between time-series tables', async () => {
    await c.query('create table readings2 (ts timestamptz not null, load int8) tags (device int4 not null) primary tags (device)');
    const r = await c.query('insert into readings2 select ts, load, device from readings where device = 1');
    expect(r.rowCount).toBe(3);
    expect((await c.query('select sum(load)::int as s from readings2')).rows[0].s).toBe(8);
  });

  it('COPY FROM STDIN loads text and CSV into a time-series table, streaming in chunks', async () => {
    await c.query('create table copied (ts timestamptz not null, v float8) tags (dev varchar(8) not null, site varchar(8)) primary tags (dev)');
    const sql = postgres(node.url.replace('/defaultdb', '/iot'), { max: 1, onnotice: () => {} });
    try {
      const n = 45_000; // more than one proposal's worth (tsRowsPerCommandMax)
      async function* lines() {
        for (let i = 0; i < n; i += 1000) {
          let chunk = '';
          for (let k = i; k < i + 1000; k++) chunk += `2026-01-01 00:00:00+00\t${k}\td${k % 10}\t${k % 2 ? '\\N' : 'x'}\n`.replace('00:00:00', `${String(Math.floor(k / 3600) % 24).padStart(2, '0')}:${String(Math.floor(k / 60) % 60).padStart(2, '0')}:${String(k % 60).padStart(2, '0')}`);
          yield chunk;
        }
      }
      await pipeline(Readable.from(lines()), await sql`copy copied from stdin`.writable());
      await pipeline(Readable.from(['ts,v,dev\n2026-02-01 00:00:00+00,1.5,csv1\n']), await sql`copy copied (ts, v, dev) from stdin with (format csv, header)`.writable());
    } finally {
      await sql.end();
    }
    const r = await c.query('select count(*)::int as n, count(distinct dev)::int as d, sum(v)::float8 as s from copied');
    expect(r.rows[0]).toEqual({ n: 45_001, d: 11, s: (45_000 * 44_999) / 2 + 1.5 });
    expect((await c.query("select site from copied where dev = 'd1' limit 1")).rows[0].site).toBe(null);
    expect((await c.query("select site from copied where dev = 'd0' limit 1")).rows[0].site).toBe('x');
  });

  it('COPY reads every field as INSERT does (its fast paths included), and fails the same way', async () => {
    const cols = 'ts timestamptz not null, i2 int2, i4 int4, i8 int8, f8 float8, f4 float4, b bool, s varchar(4), t6 timestamptz(6), tl timestamp';
    await c.query(`create table typed_copy (${cols}) tags (dev int4 not null) primary tags (dev)`);
    await c.query(`create table typed_ins (${cols}) tags (dev int4 not null) primary tags (dev)`);
    const rows = [
      ['2026-01-01 00:00:00.123456+00', '7', '007', '-0', '1.5', '1.5', 't', 'ab', '2026-01-01 00:00:00.123456+00', '2026-01-01 00:00:00.5', '1'],
      ['2026-01-01T00:00:01Z', ' 5', '2147483647', '9223372036854775807', '1e3', '3.4e38', 'false', 'abcd', '2026-01-01T00:00:01.000001Z', '2026-01-01T00:00:01', '1'],
      ['2026-01-01 05:30:02+05:30', '-32768', '-2147483648', '-9223372036854775808', 'NaN', '-0.5', '1', null, '2026-01-01 05:30:02.25+05:30', '1999-12-31 23:59:59', '2'],
      ['2026-01-01 00:00:03', null, '-0', '123456789012345', '0.1', '0.1', null, '', '2026-01-01 00:00:03', '2024-02-29 12:00:00', '2'],
      ['2026-01-01 00:00:04.5-08', '12', '+12', '-123456789012345', '123456789012345.123456789012345', '-1e-3', 'yes', 'x', '2026-01-01 00:00:04.999999-08:00', '0099-01-01 00:00:00', '3'],
      ['2026-01-01 00:00:05.0005+00', '1', '1', '1234567890123456', '-0', '1', 'no', 'y', '2026-01-01 00:00:05.0000005+00', '2026-01-01 00:00:05+00', '3'],
    ];
    const text = rows.map((r) => r.map((v) => (v === null ? '\\N' : v)).join('\t')).join('\n') + '\n';
    const copy = (table: string, input: string) => spawnSync('psql', ['-X', '-v', 'ON_ERROR_STOP=1', node.url.replace('/defaultdb', '/iot'), '-c', `\\copy ${table} from pstdin`], { encoding: 'utf8', input });
    const r = copy('typed_copy', text);
    expect(r.stderr).toBe('');
    for (const row of rows) await c.query(`insert into typed_ins values (${row.map((_, i) => `$${i + 1}`).join(', ')})`, row);
    const all = async (t: string) => (await c.query(`select ts::text, i2, i4, i8::text, f8::text, f4::text, b, s, t6::text, tl::text, dev from ${t} order by ts`)).rows;
    const copied = await all('typed_copy');
    expect(copied).toHaveLength(rows.length);
    expect(copied).toEqual(await all('typed_ins'));
    // Fields the fast paths take but only the general parser may judge: the same error either way.
    const bad: [number, string][] = [[2, '3000000000'], [2, '2147483648'], [1, '32768'], [1, '-32769'], [1, '40000'], [3, '99999999999999999999'], [0, '2026-02-29 00:00:00+00'], [0, '2026-01-01 24:00:01+00'], [4, '1.5.5'], [7, 'abcde'], [10, 'x']];
    for (const [at, v] of bad) {
      const row = rows[0]!.slice();
      row[at] = v;
      let insertError = '';
      try {
        await c.query(`insert into typed_ins values (${row.map((_, i) => `$${i + 1}`).join(', ')})`, row);
      } catch (e) {
        insertError = (e as Error).message;
      }
      expect(insertError, `${v} should fail`).not.toBe('');
      const out = copy('typed_copy', row.map((x) => (x === null ? '\\N' : x)).join('\t') + '\n');
      expect(out.status, v).not.toBe(0);
      expect(out.stderr).toContain(insertError);
    }
    expect((await c.query('select count(*)::int as n from typed_copy')).rows[0].n).toBe(rows.length);
  });

  it('a bad line in the middle of a large COPY fails with its line number; earlier proposals stay; the connection goes on', async () => {
    // psql, because postgres.js's writable stream (against PostgreSQL 15 as well) never settles
    // when the server reports an error while the client is still streaming.
    await c.query('create table copied2 (ts timestamptz not null, v int8) tags (dev int4 not null) primary tags (dev)');
    const dir = mkdtempSync(join(tmpdir(), 'ts-copy-'));
    const file = join(dir, 'rows.tsv');
    const lines: string[] = [];
    const at = (k: number) => new Date(Date.UTC(2026, 0, 1) + k * 1000).toISOString(); // distinct times: no dedup
    for (let k = 0; k < 45_000; k++) lines.push(k === 30_000 ? 'not-a-time\t1\t1' : `${at(k)}\t${k}\t${k % 7}`);
    writeFileSync(file, lines.join('\n') + '\n');
    const r = spawnSync('psql', ['-X', '-v', 'ON_ERROR_STOP=1', node.url.replace('/defaultdb', '/iot'), '-c', `\\copy copied2 from '${file}'`, '-c', 'select 1'], { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/invalid input syntax for type timestamp with time zone: "not-a-time"/);
    expect(r.stderr).toContain('line 30001');
    // What was proposed before the bad line stays: a prefix of the file, at least one 20,000-row proposal.
    const kept = (await c.query('select count(*)::int as n, count(distinct v)::int as d, max(v)::int as mx from copied2')).rows[0];
    expect(kept.n).toBeGreaterThanOrEqual(20_000);
    expect(kept.n).toBeLessThan(30_000);
    expect(kept).toEqual({ n: kept.n, d: kept.n, mx: kept.n - 1 });
  });

  it('refuses bad rows with SQLSTATEs and keeps serving', async () => {
    expect(await sqlstate("insert into readings values (null, 1.0, 1, true, 1, 'm')")).toBe('23502');
    expect(await sqlstate("insert into readings values ('2026-01-01', 1.0, 1, true, null, 'm')")).toBe('23502');
    expect(await sqlstate("insert into readings (ts, temp, device) values ('2026-01-01', 1.0, 1)")).toBe('23502'); // load is NOT NULL
    expect(await sqlstate("insert into readings values ('2026-01-01', 'hot', 1, true, 1, 'm')")).toBe('22P02');
    expect(await sqlstate("insert into readings values ('2026-01-01', 1.0, 1, true, 1, 'a model name that is too long')")).toBe('22001');
    expect(await sqlstate("insert into readings (ts, nope) values ('2026-01-01', 1)")).toBe('42703');
    expect(await sqlstate("insert into readings values ('infinity', 1.0, 1, true, 1, 'm')")).toBe('22008');
    expect(await sqlstate("insert into readings values ('2026-01-01', 1.0, 1, true, 1, 'm') returning ts")).toBe('0A000');
    expect(await sqlstate('update readings set load = 1')).toBe('0A000');
    expect((await c.query('select count(*)::int as n from readings')).rows[0].n).toBe(5);
  });

  it('cluster settings: the free-disk threshold refuses TS writes with 53100 while reads go on', async () => {
    expect((await c.query('show cluster setting ts.disk_free_space.alert_threshold')).rows).toEqual([{ 'ts.disk_free_space.alert_threshold': '0' }]);
    await c.query("set cluster setting ts.disk_free_space.alert_threshold = '1000TiB'");
    expect((await c.query('show cluster setting ts.disk_free_space.alert_threshold')).rows[0]['ts.disk_free_space.alert_threshold']).toBe(String(1000 * 1024 ** 4));
    expect(await sqlstate("insert into readings values ('2026-01-02', 1.0, 1, true, 1, 'm1')")).toBe('53100');
    expect((await c.query('select count(*)::int as n from readings')).rows[0].n).toBe(5); // nothing written, reads fine
    const all = await c.query('show all cluster settings');
    expect(all.rows.find((r) => r.variable === 'ts.disk_free_space.alert_threshold')?.value).toBe(String(1000 * 1024 ** 4));
    expect(await sqlstate("set cluster setting ts.disk_free_space.alert_threshold = '12parsecs'")).toBe('22023');
    expect(await sqlstate('set cluster setting no.such.setting = 1')).toBe('42704');
    await c.query('reset cluster setting ts.disk_free_space.alert_threshold');
    await c.query("insert into readings (ts, load, device) values ('2026-01-01 00:00:30+00', 5, 3)");
    expect((await c.query('select count(*)::int as n from readings')).rows[0].n).toBe(6);
  });

  it('ts.dedup.rule: out-of-order duplicates under override, merge, discard, keep and reject', async () => {
    await c.query('create table dd (ts timestamptz not null, a int4, b int4) tags (d int4 not null) primary tags (d)');
    const t = (s: number) => `'2026-03-01 00:00:0${s}+00'`;
    await c.query(`insert into dd values (${t(1)}, 1, null, 1), (${t(3)}, 3, 30, 1)`);
    await c.query(`insert into dd values (${t(2)}, 2, 20, 1), (${t(1)}, null, 10, 1)`); // t1 again, out of order
    await c.query(`insert into dd values (${t(1)}, 5, null, 1), (${t(3)}, null, 33, 1)`); // t1 and t3 again
    const read = async () => (await c.query("select extract(second from ts)::int as s, a, b from dd order by ts, a nulls first, b nulls first")).rows.map((r) => [r.s, r.a, r.b]);
    const last = async () => (await c.query('select distinct on (d) a, b from dd order by d, ts desc')).rows.map((r) => [r.a, r.b]);
    try {
      await c.query("set cluster setting ts.dedup.rule = 'keep'");
      expect((await read()).length).toBe(6);
      await c.query("set cluster setting ts.dedup.rule = 'override'"); // the default
      expect(await read()).toEqual([[1, 5, null], [2, 2, 20], [3, null, 33]]);
      expect(await last()).toEqual([[null, 33]]);
      await c.query("set cluster setting ts.dedup.rule = 'merge'");
      expect(await read()).toEqual([[1, 5, 10], [2, 2, 20], [3, 3, 33]]);
      expect(await last()).toEqual([[3, 33]]);
      await c.query("set cluster setting ts.dedup.rule = 'discard'");
      expect(await read()).toEqual([[1, 1, null], [2, 2, 20], [3, 3, 30]]);
      expect(await last()).toEqual([[3, 30]]);
      expect((await c.query('select sum(a)::int as s from dd')).rows[0].s).toBe(6); // aggregates see the same rows
      await c.query("set cluster setting ts.dedup.rule = 'reject'");
      expect(await sqlstate(`insert into dd values ('2026-03-01 00:00:09+00', 9, 9, 1), (${t(2)}, 0, 0, 1)`)).toBe('23505'); // repeats stored t2
      expect(await sqlstate(`insert into dd values ('2026-03-01 00:00:08+00', 8, 8, 2), ('2026-03-01 00:00:08+00', 8, 8, 2)`)).toBe('23505'); // repeats itself
      await c.query(`insert into dd values ('2026-03-01 00:00:07+00', 7, 7, 1), ('2026-03-01 00:00:07+00', 7, 7, 2)`); // same time, different devices
      await c.query("set cluster setting ts.dedup.rule = 'keep'");
      expect((await read()).length).toBe(8); // nothing of the rejected statements was written
      expect(await sqlstate("set cluster setting ts.dedup.rule = 'sometimes'")).toBe('22023');
    } finally {
      await c.query('reset cluster setting ts.dedup.rule');
    }
  });

  it('DELETE by time range and primary tags hides stored and buffered rows, not rows written later', async () => {
    await c.query('create table del (ts timestamptz not null, a int4) tags (d int4 not null) primary tags (d)');
    const t = (s: number) => `'2026-04-01 00:00:0${s}+00'`;
    await c.query(`insert into del values ${[1, 2, 3].map((s) => `(${t(s)}, ${s}, 1), (${t(s)}, ${s}, 2)`).join(', ')}`);
    await new Promise((r) => setTimeout(r, 1300)); // flushed into blocks
    await c.query(`insert into del values ${[4, 5].map((s) => `(${t(s)}, ${s}, 1), (${t(s)}, ${s}, 2)`).join(', ')}`); // still buffered
    const r1 = await c.query(`delete from del where ts >= ${t(2)} and ts < ${t(5)} and d = 1`);
    expect(r1.rowCount).toBe(3); // t2, t3 from blocks, t4 from the buffer
    await c.query(`insert into del values (${t(3)}, 33, 1)`); // written after the delete: visible
    const rows = async (d: number) => (await c.query('select a from del where d = $1 order by ts', [d])).rows.map((r) => r.a);
    expect(await rows(1)).toEqual([1, 33, 5]);
    expect(await rows(2)).toEqual([1, 2, 3, 4, 5]);
    expect((await c.query('select distinct on (d) d, a from del order by d, ts desc')).rows).toEqual([{ d: 1, a: 5 }, { d: 2, a: 5 }]);
    expect((await c.query('delete from del where d in (2, 99)')).rowCount).toBe(5);
    expect((await c.query(`delete from del where ts > ${t(4)}`)).rowCount).toBe(1);
    expect(await rows(1)).toEqual([1, 33]);
    expect(await rows(2)).toEqual([]);
    expect(await sqlstate('delete from del where a > 1')).toBe('0A000');
    expect(await sqlstate(`delete from del where d = 1 or ts > ${t(1)}`)).toBe('0A000');
    expect(await sqlstate('delete from del where d = 1 returning a')).toBe('0A000');
  });

  it('UPDATE of non-primary tags by primary tags; the new values show on every row and survive a restart', async () => {
    await c.query('create table upd (ts timestamptz not null, v int4) tags (d int4 not null, site varchar(8), floor int2 not null) primary tags (d)');
    await c.query("insert into upd values ('2026-05-01 00:00:00+00', 1, 1, 'a', 1), ('2026-05-01 00:00:01+00', 2, 1, 'a', 1), ('2026-05-01 00:00:00+00', 3, 2, 'b', 2)");
    expect((await c.query("update upd set site = 'north', floor = 7 where d = 1")).rowCount).toBe(1);
    expect((await c.query('update upd set site = null where d in (2, 99)')).rowCount).toBe(1);
    expect((await c.query('select d, site, floor from upd order by ts, d')).rows).toEqual([
      { d: 1, site: 'north', floor: 7 },
      { d: 2, site: null, floor: 2 },
      { d: 1, site: 'north', floor: 7 },
    ]);
    expect((await c.query('update upd set floor = 1 where d = 42')).rowCount).toBe(0);
    expect(await sqlstate('update upd set d = 5 where d = 1')).toBe('0A000'); // primary tag
    expect(await sqlstate('update upd set v = 5 where d = 1')).toBe('0A000'); // data column
    expect(await sqlstate("update upd set site = 'x'")).toBe('0A000'); // no primary tags named
    expect(await sqlstate("update upd set site = 'x' where d = 1 and ts > now()")).toBe('0A000');
    expect(await sqlstate('update upd set floor = null where d = 1')).toBe('23502');
    expect(await sqlstate("update upd set site = 'much too long' where d = 1")).toBe('22001');
  });

  it('ALTER TABLE renames columns, tags and the table and sets RETENTIONS/ACTIVETIME; data follows', async () => {
    await c.query('create table alt (ts timestamptz not null, v int4) tags (d int4 not null, site varchar(8)) primary tags (d)');
    await c.query("insert into alt values ('2026-06-01 00:00:00+00', 1, 1, 'a')");
    await c.query('alter table alt rename column v to value, rename tag site to place, rename tag d to dev');
    await c.query('alter table alt set retentions = 90d, set activetime = 2d');
    await c.query('alter table alt rename to alt2');
    expect((await c.query('select value, dev, place from alt2')).rows).toEqual([{ value: 1, dev: 1, place: 'a' }]);
    const create = (await c.query('show create table alt2')).rows[0].create_statement as string;
    expect(create).toContain('PRIMARY TAGS(dev)');
    expect(create).toContain('retentions 7776000s');
    expect(create).toContain('activetime 2d');
    expect((await c.query('select count(*)::int as n from alt2 where dev = 1')).rows[0].n).toBe(1); // push-down by the new name
    expect(await sqlstate('alter table alt2 alter column value set default 1')).toBe('0A000');
    expect(await sqlstate('alter table alt2 rename column value to place')).toBe('42701');
    expect(await sqlstate('alter table alt2 rename tag nope to x')).toBe('42703');
  });

  it('COMPRESS TABLE reorganizes inactive partitions; every query answers the same before and after', async () => {
    await c.query('create table cmp (ts timestamptz not null, v int8, w float8) tags (d int4 not null, site varchar(8)) primary tags (d) activetime 1h');
    // 2025 data (inactive): out of order, many small statements, duplicates, a delete
    for (let k = 9; k >= 0; k--) {
      const vals = Array.from({ length: 30 }, (_x, j) => `('2025-01-01'::timestamptz + interval '${k * 30 + j} minutes', ${k * 30 + j}, ${(k * 30 + j) / 4}, ${j % 3}, 's${j % 3}')`);
      await c.query(`insert into cmp values ${vals.join(', ')}`);
    }
    await c.query("insert into cmp values ('2025-01-01 00:06:00+00', 1000, null, 0, 's0')"); // duplicate timestamp of device 0
    await c.query("delete from cmp where ts >= '2025-01-01 02:00:00+00' and ts < '2025-01-01 03:00:00+00' and d = 1");
    await c.query("insert into cmp values (now(), 1, 1, 0, 's0')"); // active data, left alone
    const queries = [
      'select d, count(*)::int as n, sum(v)::text as s, max(w) as m from cmp group by d order by d',
      "select time_bucket(ts, '1h') as h, avg(v)::text as a from cmp where ts < '2026-01-01' group by h order by h",
      'select distinct on (d) d, v from cmp order by d, ts desc',
      "select ts, v, w, site from cmp where d = 2 and ts < '2025-01-01 01:00:00+00' order by ts",
    ];
    const before = await Promise.all(queries.map(async (q) => (await c.query(q)).rows));
    await c.query('compress table cmp');
    await c.query('compress database iot');
    await c.query('compress all databases');
    const after = await Promise.all(queries.map(async (q) => (await c.query(q)).rows));
    expect(after).toEqual(before);
    expect(before[0]).toEqual([
      { d: 0, n: 101, s: String(Array.from({ length: 300 }, (_x, k) => k).filter((k) => k % 30 % 3 === 0).reduce((a, b) => a + b, 0) - 6 + 1000 + 1), m: 74.25 },
      expect.objectContaining({ d: 1, n: 80 }),
      expect.objectContaining({ d: 2, n: 100 }),
    ]);
    expect(await sqlstate('compress table readings_nope')).toBe('42P01');
  });

  it('VACUUM TS DATABASES drops partitions past RETENTIONS (table-level, else database-level)', async () => {
    await c.query('create table ret (ts timestamptz not null, v int8) tags (d int4 not null) primary tags (d) retentions 30d');
    // 2020 rows are years past 30 days; the recent ones are not.
    await c.query(`insert into ret values ('2020-01-01 00:00:00+00', 1, 1), ('2020-01-02 00:00:00+00', 2, 1), (now() - interval '1 hour', 3, 1), (now(), 4, 2)`);
    expect((await c.query('select count(*)::int as n from ret')).rows[0].n).toBe(4);
    await c.query('vacuum ts databases');
    expect((await c.query('select v from ret order by v')).rows.map((r) => Number(r.v))).toEqual([3, 4]);
    // Retention survives a restart: the dropped partition stays dropped.
    await c.query('vacuum ts databases'); // idempotent
    await c.query('begin');
    expect(await sqlstate('vacuum ts databases')).toBe('25001');
    await c.query('rollback');
  });

  it('keeps rows across a clean restart and drops them with the table', async () => {
    await node.restart();
    await c.end().catch(() => {});
    c = await connect();
    expect((await c.query('select count(*)::int as n from readings')).rows[0].n).toBe(6);
    expect((await c.query('select count(*)::int as n from readings2')).rows[0].n).toBe(3);
    expect((await c.query('select count(*)::int as n from ret')).rows[0].n).toBe(2);
    expect((await c.query('select a from del order by ts')).rows.map((r) => r.a)).toEqual([1, 33]); // deletes survive a restart
    expect((await c.query('show tag values from upd')).rows).toEqual([{ d: 1, site: 'north', floor: 7 }, { d: 2, site: null, floor: 2 }]);
    expect((await c.query('select d, count(*)::int as n from cmp group by d order by d')).rows.map((r) => r.n)).toEqual([101, 80, 100]); // reorganized data after a restart
    expect((await c.query('select distinct on (device) device, load from readings order by device, ts desc')).rows.map((r) => r.load)).toEqual([4, 2, 5]);
    await c.query('drop table readings2');
    await c.query('create table readings2 (ts timestamptz not null, load int8) tags (device int4 not null) primary tags (device)');
    expect((await c.query('select count(*)::int as n from readings2')).rows[0].n).toBe(0);
    await c.query('begin');
    expect(await sqlstate('drop table readings2')).toBe('25001');
    await c.query('rollback');
  });

  it('loses no acknowledged row when killed with SIGKILL during a load', async () => {
    await c.query('create table load (ts timestamptz not null, v int8 not null) tags (w int4 not null) primary tags (w)');
    const acked: number[][] = [[], [], [], []];
    let stop = false;
    const writer = async (w: number) => {
      const cl = await connect();
      try {
        for (let i = 0; !stop; i++) {
          // 50 rows per statement, values i*50 .. i*50+49
          const vals: string[] = [];
          for (let k = 0; k < 50; k++) vals.push(`('2026-01-01'::timestamptz + interval '${i * 50 + k} seconds', ${i * 50 + k}, ${w})`);
          await cl.query(`insert into load values ${vals.join(',')}`);
          (acked[w] as number[]).push(i);
        }
      } catch {
        // the server died under us
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await new Promise((r) => setTimeout(r, 2500));
    await node.kill();
    stop = true;
    await Promise.all(writers);
    await c.end().catch(() => {});
    await node.start();
    c = await connect();
    const counts = new Map((await c.query('select w, count(*)::int as n, count(distinct v)::int as d from load group by w')).rows.map((r: { w: number; n: number; d: number }) => [r.w, r]));
    for (let w = 0; w < 4; w++) {
      const statements = (acked[w] as number[]).length;
      const got = counts.get(w) ?? { n: 0, d: 0 };
      expect(statements).toBeGreaterThan(0);
      // every acknowledged statement is there, at most the one in flight beyond, and no duplicates
      expect(got.n).toBeGreaterThanOrEqual(statements * 50);
      expect(got.n).toBeLessThanOrEqual((statements + 1) * 50);
      expect(got.d).toBe(got.n);
    }
  });
});
