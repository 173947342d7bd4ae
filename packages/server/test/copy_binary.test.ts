/**
 * Binary COPY (FORMAT binary / WITH BINARY) against a real server process: COPY TO output compared
 * byte for byte with PostgreSQL 15's (copy_binary_cases.json, recorded by copy_binary_record.ts),
 * PostgreSQL's own binary output loaded back, malformed input answered with PostgreSQL's errors,
 * chunking, transactions, time-series tables, psycopg 3 and a pgx-style raw-protocol client.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import { RawClient, rawMessage, serialize } from '../../../qa/harness/rawpg.js';
import { copyFromRaw, copyToMessages, copyToRaw, fixtureFile } from './copy_binary_record.js';
import type { Fixture } from './copy_binary_record.js';

const fx = JSON.parse(readFileSync(fixtureFile, 'utf8')) as Fixture;
const pgBytes = Buffer.from(fx.copyToHex, 'hex');
/** Signature, flags 0, no header extension. */
const binaryHeader = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);

let node: TestNode;
let c: pg.Client;
let raw: RawClient;
beforeAll(async () => {
  node = await startNode();
  c = new pg.Client(node.url);
  await c.connect();
  await c.query(fx.ddl);
  for (const r of fx.rows) await c.query(r);
  await c.query(fx.ddl.replace('create table bt ', 'create table bt2 '));
  await c.query(fx.errorDdl);
  raw = await RawClient.connect(node.port);
});
afterAll(async () => {
  raw.end();
  await c.end();
  await node.stop();
  node.cleanup();
});

/** Sends `data` as CopyData messages of `chunk` bytes each, then CopyDone. */
async function copyInChunks(
  cl: RawClient,
  sql: string,
  data: Buffer,
  chunk: number,
): Promise<{ tag?: string; code?: string; message?: string; detail?: string }> {
  cl.write(serialize.query(sql));
  await cl.waitFor('copyInResponse');
  const msgs: Buffer[] = [];
  for (let o = 0; o < data.length; o += chunk) msgs.push(rawMessage('d', data.subarray(o, o + chunk)));
  msgs.push(serialize.copyDone());
  cl.write(Buffer.concat(msgs));
  const ms = await cl.untilReady();
  const err = ms.find((m) => m.name === 'error') as unknown as
    { code: string; message: string; detail?: string } | undefined;
  if (err) return { code: err.code, message: err.message, detail: err.detail };
  return { tag: (ms.find((m) => m.name === 'commandComplete') as unknown as { text: string }).text };
}

describe('COPY BINARY', () => {
  it('COPY TO writes every type exactly as PostgreSQL 15 does, in the same messages', async () => {
    const msgs = await copyToMessages(raw, fx.copyTo);
    const got = Buffer.concat(msgs);
    let at = 0;
    while (at < got.length && got[at] === pgBytes[at]) at++;
    // The first difference, with some context, makes a failure readable.
    expect(
      got.subarray(Math.max(0, at - 24), at + 24).toString('hex'),
      `first difference at byte ${at}`,
    ).toBe(pgBytes.subarray(Math.max(0, at - 24), at + 24).toString('hex'));
    expect(got.toString('hex')).toBe(pgBytes.toString('hex'));
    expect(msgs.map((m) => m.length)).toEqual(fx.copyToMessageBytes);
    await c.query('create table bt_empty (a int4)');
    const empty = await copyToMessages(raw, 'copy bt_empty to stdout (format binary)');
    expect(empty.map((m) => m.toString('hex'))).toEqual([fx.emptyHex]);
  });

  it('announces binary format in CopyOutResponse and CopyInResponse', async () => {
    const from = raw.frames.length;
    await raw.query('copy be to stdout with binary');
    const h = raw.frames.slice(from).find((f) => f.type === 'H');
    expect(h?.body.toString('hex')).toBe('01' + '0002' + '0001' + '0001');
    const from2 = raw.frames.length;
    const r = await copyFromRaw(raw, 'copy be from stdin (format binary)', Buffer.alloc(0));
    expect(r).toMatchObject({ code: '22P04' });
    const g = raw.frames.slice(from2).find((f) => f.type === 'G');
    expect(g?.body.toString('hex')).toBe('01' + '0002' + '0001' + '0001');
  });

  it("loads PostgreSQL's binary output and reads back equal, whatever the chunking", async () => {
    const rowCount = ((await c.query('select count(*)::int as n from bt')).rows[0] as { n: number }).n;
    for (const chunk of [pgBytes.length, 1, 7, 100]) {
      await c.query('truncate bt2');
      const r = await copyInChunks(raw, 'copy bt2 from stdin (format binary)', pgBytes, chunk);
      expect(r, `chunks of ${chunk}`).toEqual({ tag: `COPY ${rowCount}` });
      expect((await copyToRaw(raw, 'copy bt2 to stdout (format binary)')).toString('hex')).toBe(
        pgBytes.toString('hex'),
      );
    }
    const a = await c.query('select * from bt order by id');
    const b = await c.query('select * from bt2 order by id');
    expect(b.rows).toEqual(a.rows);
  });

  it('works in the extended query protocol, in and out', async () => {
    const from = raw.frames.length;
    raw.write(
      Buffer.concat([
        serialize.parse({ text: fx.copyTo }),
        serialize.bind(),
        serialize.execute(),
        serialize.sync(),
      ]),
    );
    await raw.untilReady();
    const out = Buffer.concat(
      raw.frames
        .slice(from)
        .filter((f) => f.type === 'd')
        .map((f) => f.body),
    );
    expect(out.toString('hex')).toBe(pgBytes.toString('hex'));
    await c.query('truncate bt2');
    raw.write(
      Buffer.concat([
        serialize.parse({ text: 'copy bt2 from stdin (format binary)' }),
        serialize.bind(),
        serialize.execute(),
      ]),
    );
    await raw.waitFor('copyInResponse');
    raw.write(
      Buffer.concat([
        serialize.copyData(pgBytes.subarray(0, 500)),
        serialize.copyData(pgBytes.subarray(500)),
        serialize.copyDone(),
        serialize.sync(),
      ]),
    );
    const ms = await raw.untilReady();
    expect(ms.find((m) => m.name === 'error')).toBeUndefined();
    expect((await copyToRaw(raw, 'copy bt2 to stdout (format binary)')).toString('hex')).toBe(
      pgBytes.toString('hex'),
    );
  });

  it('COPY (query) TO and a column list, in both directions', async () => {
    const out = await copyToRaw(
      raw,
      'copy (select id, t from bt where id <= 2 order by id) to stdout (format binary)',
    );
    await c.query('create table sub (id int4, t text, extra int4 default 42)');
    expect(await copyFromRaw(raw, 'copy sub (id, t) from stdin with binary', out)).toEqual({ tag: 'COPY 2' });
    expect((await c.query('select id, t, extra from sub order by id')).rows).toEqual([
      { id: 1, t: 'héllo wörld ✓', extra: 42 },
      { id: 2, t: '', extra: 42 },
    ]);
    expect((await copyToRaw(raw, 'copy sub (id, t) to stdout (format binary)')).toString('hex')).toBe(
      out.toString('hex'),
    );
  });

  it("answers malformed input with PostgreSQL 15's errors, naming the tuple and column", async () => {
    for (const e of fx.errors) {
      await c.query('truncate be');
      const got = await copyFromRaw(raw, 'copy be from stdin (format binary)', Buffer.from(e.hex, 'hex'));
      if ('tag' in e.pg) expect(got, e.name).toEqual(e.pg);
      else {
        const g = got as { code: string; message: string };
        expect({ code: g.code, message: g.message }, e.name).toEqual({
          code: e.pg.code,
          message: e.pg.message,
        });
      }
    }
  });

  it("answers malformed numeric fields with numeric_recv's errors, and loads ±Infinity and NaN", async () => {
    await c.query(fx.numericDdl);
    for (const e of fx.numericErrors) {
      await c.query('truncate bn');
      const r = await copyInChunks(raw, 'copy bn from stdin (format binary)', Buffer.from(e.hex, 'hex'), 5);
      if ('tag' in e.pg) expect(r, e.name).toEqual(e.pg);
      else expect(r, e.name).toEqual({ code: e.pg.code, message: e.pg.message, detail: e.pg.where });
    }
  });

  it("answers malformed int4[] fields with array_recv's errors", async () => {
    await c.query(fx.arrayDdl);
    for (const e of fx.arrayErrors) {
      await c.query('truncate ba');
      const r = await copyInChunks(raw, 'copy ba from stdin (format binary)', Buffer.from(e.hex, 'hex'), 5);
      if ('tag' in e.pg) expect(r, e.name).toEqual(e.pg);
      else expect(r, e.name).toEqual({ code: e.pg.code, message: e.pg.message, detail: e.pg.where });
    }
  });

  // PostgreSQL sends the context as CONTEXT (where); Strata sends it as DETAIL, as its text COPY does.
  it('errors carry the context line and column in DETAIL', async () => {
    for (const e of fx.errors) {
      if ('tag' in e.pg || e.pg.where === null) continue;
      const r = await copyInChunks(raw, 'copy be from stdin (format binary)', Buffer.from(e.hex, 'hex'), 3);
      expect({ code: r.code, message: r.message, detail: r.detail }, e.name).toEqual({
        code: e.pg.code,
        message: e.pg.message,
        detail: e.pg.where,
      });
    }
  });

  it('refuses text options in binary mode as PostgreSQL does', async () => {
    const cases: [string, string, string][] = [
      [
        "copy be from stdin (format binary, delimiter ',')",
        '42601',
        'cannot specify DELIMITER in BINARY mode',
      ],
      ["copy be to stdout (format binary, null 'x')", '42601', 'cannot specify NULL in BINARY mode'],
      ['copy be to stdout (format binary, header)', '42601', 'cannot specify HEADER in BINARY mode'],
      ["copy be to stdout (format binary, quote '\"')", '0A000', 'COPY quote available only in CSV mode'],
      ['copy be to stdout (format parquet)', '22023', 'COPY format "parquet" not recognized'],
    ];
    for (const [sql, code, message] of cases)
      await expect(c.query(sql), sql).rejects.toMatchObject({ code, message });
  });

  it('inside BEGIN a failed binary COPY leaves nothing; outside, a large load commits in segments', async () => {
    await c.query('create table big (k int8 primary key, v float8)');
    const rows = 120_000;
    const parts: Buffer[] = [binaryHeader];
    const rowBuf = (k: number) => {
      const b = Buffer.alloc(2 + 4 + 8 + 4 + 8);
      b.writeInt16BE(2, 0);
      b.writeInt32BE(8, 2);
      b.writeBigInt64BE(BigInt(k), 6);
      b.writeInt32BE(8, 14);
      b.writeDoubleBE(k / 2, 18);
      return b;
    };
    for (let k = 0; k < rows; k++) parts.push(rowBuf(k));
    parts.push(Buffer.from([0xff, 0xff]));
    const data = Buffer.concat(parts);
    // A duplicate key in the last row, inside BEGIN: nothing is committed.
    const bad = Buffer.concat([...parts.slice(0, -1), rowBuf(5), Buffer.from([0xff, 0xff])]);
    await raw.query('begin');
    const r = await copyInChunks(raw, 'copy big from stdin (format binary)', bad, 65536);
    expect(r.code).toBe('23505');
    await raw.query('rollback');
    expect((await c.query('select count(*)::int as n from big')).rows[0]).toEqual({ n: 0 });
    const t0 = performance.now();
    expect(await copyInChunks(raw, 'copy big from stdin (format binary)', data, 65536)).toEqual({
      tag: `COPY ${rows}`,
    });
    const ms = performance.now() - t0;
    expect((await c.query('select count(*)::int as n, sum(v)::float8 as s from big')).rows[0]).toEqual({
      n: rows,
      s: ((rows - 1) * rows) / 4,
    });
    process.stdout.write(
      `binary COPY of ${rows} rows (int8, float8): ${Math.round(rows / (ms / 1000))} rows/s\n`,
    );
  }, 120_000);

  it('loads and writes a time-series table', async () => {
    const ts = new pg.Client(node.url);
    await ts.connect();
    await ts.query('create ts database bin_iot');
    await ts.query('use bin_iot');
    await ts.query(
      'create table cpu (ts timestamptz not null, usage float8, n int8, note varchar(8)) tags (host varchar(16) not null, rack int4) primary tags (host)',
    );
    const rtc = await RawClient.connect(node.port, { database: 'bin_iot' });
    // Rows made by PostgreSQL-compatible encoding: Strata's own COPY TO of a relational query.
    await c.query(
      "create table cpu_src as select '2026-01-01 00:00:00+00'::timestamptz + (i * interval '1 second') as ts, i / 3.0::float8 as usage, i::int8 as n, case when i % 5 = 0 then null else 'n' || i end::varchar(8) as note, 'host_' || (i % 3) as host, (i % 3 + 10)::int4 as rack from generate_series(1, 1000) as g(i)",
    );
    const data = await copyToRaw(
      raw,
      'copy (select ts, usage, n, note, host, rack from cpu_src order by ts) to stdout (format binary)',
    );
    expect(
      await copyInChunks(
        rtc,
        'copy cpu (ts, usage, n, note, host, rack) from stdin (format binary)',
        data,
        4096,
      ),
    ).toEqual({ tag: 'COPY 1000' });
    const back = await copyToRaw(
      rtc,
      'copy (select ts, usage, n, note, host, rack from cpu order by ts) to stdout (format binary)',
    );
    let at = 0;
    while (at < data.length && back[at] === data[at]) at++;
    expect({
      at,
      length: back.length,
      around: back.subarray(Math.max(0, at - 40), at + 40).toString('hex'),
    }).toEqual({
      at: data.length,
      length: data.length,
      around: data.subarray(Math.max(0, at - 40), at + 40).toString('hex'),
    });
    const bad = await copyInChunks(
      rtc,
      'copy cpu (ts, usage, n, note, host, rack) from stdin (format binary)',
      Buffer.concat([data.subarray(0, 19), data.subarray(19, 40)]),
      4096,
    );
    expect(bad.code).toBe('22P04');
    // An int8 field of 4 bytes (the fast path gives way to the general one and its error).
    const nAt = 19 + 2 + 4 + 8 + 4 + 8; // header, field count, ts, usage
    const short = Buffer.concat([
      data.subarray(0, nAt),
      Buffer.from([0, 0, 0, 4, 0, 0, 0, 1]),
      data.subarray(nAt + 12),
    ]);
    const e = await copyInChunks(
      rtc,
      'copy cpu (ts, usage, n, note, host, rack) from stdin (format binary)',
      short,
      4096,
    );
    expect(e).toEqual({
      code: '08P01',
      message: 'insufficient data left in message',
      detail: 'COPY cpu, line 1, column n',
    });
    // 50,000 rows in one CopyData: the parser stops at each command's row budget.
    await c.query(
      "create table cpu_big as select '2026-02-01 00:00:00+00'::timestamptz + (i * interval '1 ms') as ts, i::float8 as usage, i::int8 as n, null::varchar(8) as note, 'big_' || (i % 7) as host, 1 as rack from generate_series(1, 50000) as g(i)",
    );
    const big = await copyToRaw(
      raw,
      'copy (select ts, usage, n, note, host, rack from cpu_big) to stdout (format binary)',
    );
    expect(
      await copyInChunks(
        rtc,
        'copy cpu (ts, usage, n, note, host, rack) from stdin (format binary)',
        big,
        big.length,
      ),
    ).toEqual({ tag: 'COPY 50000' });
    const n = await copyToRaw(
      rtc,
      "copy (select count(*), sum(n) from cpu where host like 'big%') to stdout",
    );
    expect(n.toString()).toBe('50000\t1250025000\n');
    rtc.end();
    await ts.end();
  });

  it('psycopg 3 binary copy with set_types and write_row, and read_row back', () => {
    const py = spawnSync('/usr/bin/python3', ['-c', 'import psycopg'], { encoding: 'utf8' });
    if (py.status !== 0) return; // python3-psycopg not installed: nothing to run
    const script = `
import psycopg, datetime, decimal, uuid, sys
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    cur = conn.cursor()
    cur.execute("create table pyb (id int8, f float8, n numeric, t text, b bytea, ts timestamptz, d date, u uuid, ok bool)")
    rows = [(i, i / 4, decimal.Decimal(i) / 8, "row %d é" % i, bytes([i % 256, 0]), datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=i), datetime.date(2026, 1, 1 + i % 28), uuid.UUID(int=i), i % 2 == 0) for i in range(5000)]
    rows.append((None, None, None, None, None, None, None, None, None))
    with cur.copy("COPY pyb FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int8", "float8", "numeric", "text", "bytea", "timestamptz", "date", "uuid", "bool"])
        for r in rows:
            copy.write_row(r)
    got = []
    with cur.copy("COPY (SELECT * FROM pyb ORDER BY id NULLS LAST) TO STDOUT (FORMAT BINARY)") as copy:
        copy.set_types(["int8", "float8", "numeric", "text", "bytea", "timestamptz", "date", "uuid", "bool"])
        while (r := copy.read_row()) is not None:
            got.append(r)
    assert len(got) == len(rows), (len(got), len(rows))
    for a, b in zip(got, rows):
        assert a == b, (a, b)
    print("ok", len(got))
`;
    const r = spawnSync('/usr/bin/python3', ['-c', script, node.url], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok 5001');
  }, 60_000);

  it("a pgx-style CopyFrom: 'copy t ( cols ) from stdin binary;', rows split across 64 KiB CopyData messages", async () => {
    await c.query('create table pgx (id int4, name text, score float8, at timestamptz)');
    // pgx v5 writes the header and rows into one buffer and sends it whenever it passes 64 KiB,
    // so rows straddle messages.
    const rows = 20_000;
    const parts: Buffer[] = [binaryHeader];
    for (let i = 0; i < rows; i++) {
      const name = Buffer.from(`name-${i}`);
      const b = Buffer.alloc(2 + 8 + 4 + name.length + 12 + 12);
      let o = b.writeInt16BE(4, 0);
      o = b.writeInt32BE(4, o);
      o = b.writeInt32BE(i, o);
      o = b.writeInt32BE(name.length, o);
      o += name.copy(b, o);
      o = b.writeInt32BE(8, o);
      o = b.writeDoubleBE(i * 1.25, o);
      o = b.writeInt32BE(8, o);
      b.writeBigInt64BE(BigInt(i) * 1_000_000n, o); // µs since 2000-01-01
      parts.push(b);
    }
    parts.push(Buffer.from([0xff, 0xff]));
    const r = await copyInChunks(
      raw,
      'copy "pgx" ( "id", "name", "score", "at" ) from stdin binary;',
      Buffer.concat(parts),
      65536,
    );
    expect(r).toEqual({ tag: `COPY ${rows}` });
    const s = await c.query(
      "select count(*)::int as n, max(name) as m, sum(score)::float8 as s, max(at) = '2000-01-01 00:00:00+00'::timestamptz + interval '19999 seconds' as at from pgx",
    );
    expect(s.rows[0]).toEqual({ n: rows, m: 'name-9999', s: (1.25 * (rows - 1) * rows) / 2, at: true });
  });
});
