/**
 * InfluxDB line protocol over HTTP against a real node: the 1.x endpoint with lines exactly as
 * Telegraf's outputs.influxdb sends them (escapes, i/u suffixes, booleans, strings, no
 * timestamp), the 2.x endpoint through @influxdata/influxdb-client, read back through SQL
 * (node-postgres) equal to what was sent; schema evolution, type conflicts (partial writes with
 * InfluxDB's answers), malformed lines, gzip, the body limit, durability across SIGKILL, and
 * secure mode's authentication (u/p, Basic, Token) and privileges.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { HttpError, InfluxDB, Point } from '@influxdata/influxdb-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import { makeCerts, pgClientConfig, startSecureNode } from '../../../qa/harness/secure.js';
import type { TestCerts } from '../../../qa/harness/secure.js';

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function post(
  port: number,
  path: string,
  body: Buffer | string,
  headers: Record<string, string> = {},
  tls?: { ca: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    const opts = {
      host: tls ? 'localhost' : '127.0.0.1',
      port,
      path,
      method: 'POST',
      headers: { 'content-length': String(data.length), ...headers },
      ...(tls ? { ca: tls.ca, servername: 'localhost' } : {}),
    };
    const req = (tls ? httpsRequest : httpRequest)(opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          headers: res.headers,
        }),
      );
    });
    req.on('error', reject);
    req.end(data);
  });
}

describe('line protocol (insecure node)', () => {
  let node: TestNode;
  let c: pg.Client;
  const write = (body: Buffer | string, query = 'db=telegraf', headers: Record<string, string> = {}) =>
    post(node.httpPort, `/write?${query}`, body, headers);

  async function rows(sql: string): Promise<Record<string, unknown>[]> {
    return (await c.query(sql)).rows as Record<string, unknown>[];
  }

  beforeAll(async () => {
    node = await startNode();
    c = new pg.Client(node.url);
    await c.connect();
    await c.query('create ts database telegraf');
    await c.query('create database rel');
    await c.query('use telegraf');
  });
  afterAll(async () => {
    await c.end();
    await node.stop();
    node.cleanup();
  });

  it("1.x: Telegraf's lines (escapes, i/u suffixes, booleans, strings, no timestamp) read back equal through SQL", async () => {
    // As telegraf's influx serializer writes them: tags sorted, "\ " "\," "\=" in keys and tag
    // values, strings with \" and \\, integers with i, unsigned with u (influx_uint_support),
    // floats in shortest form; no timestamp (the server's time).
    const body = [
      'cpu,cpu=cpu-total,host=edge\\ gw\\,01 usage_idle=97.4874371859296,usage_user=1.5075376884422111,usage_guest=0',
      'disk,device=sda1,fstype=ext4,host=edge\\ gw\\,01,mode=rw,path\\=x=/ free=41127870464i,inodes_free=2553442u,used_percent=17.86',
      'system,host=edge\\ gw\\,01 load1=0.12,n_cpus=2i,uptime_format="  1:02",uptime=3720u',
      'exec,host=edge\\ gw\\,01 msg="status \\"ok\\" in C:\\\\temp, all = fine",ok=T,failed=F,sure=true,never=False',
      'net,host=edge\\ gw\\,01,interface=eth0 bytes_recv=-1234567890123i,big=9223372036854775807u,err_in=0i',
      '',
    ].join('\n');
    const before = Date.now();
    const a = await write(body);
    const after = Date.now();
    expect(a.status, a.body).toBe(204);
    expect(a.body).toBe('');

    const cpu = await rows(
      'select k_timestamp, usage_idle, usage_user, usage_guest, cpu, host, primary_tag from cpu',
    );
    expect(cpu).toHaveLength(1);
    const r = cpu[0] as Record<string, unknown>;
    expect(r).toMatchObject({
      usage_idle: 97.4874371859296,
      usage_user: 1.5075376884422111,
      usage_guest: 0,
      cpu: 'cpu-total',
      host: 'edge gw,01',
    });
    expect(r.primary_tag).toMatch(/^[0-9a-f]{64}$/);
    const ts = (r.k_timestamp as Date).getTime();
    expect(ts).toBeGreaterThanOrEqual(before - 1);
    expect(ts).toBeLessThanOrEqual(after + 1);

    expect(
      await rows('select free, inodes_free, used_percent, device, fstype, mode, "path=x" from disk'),
    ).toEqual([
      {
        free: '41127870464',
        inodes_free: '2553442',
        used_percent: 17.86,
        device: 'sda1',
        fstype: 'ext4',
        mode: 'rw',
        'path=x': '/',
      },
    ]);
    expect(await rows('select load1, n_cpus, uptime_format, uptime from system')).toEqual([
      { load1: 0.12, n_cpus: '2', uptime_format: '  1:02', uptime: '3720' },
    ]);
    expect(await rows('select msg, ok, failed, sure, never from exec')).toEqual([
      { msg: 'status "ok" in C:\\temp, all = fine', ok: true, failed: false, sure: true, never: false },
    ]);
    expect(await rows('select bytes_recv, big, err_in, interface from net')).toEqual([
      { bytes_recv: '-1234567890123', big: '9223372036854775807', err_in: '0', interface: 'eth0' },
    ]);

    // The table made for a measurement, as SQL shows it (tags after the data columns, as tools see them).
    const cols = await rows(
      "select column_name, data_type from information_schema.columns where table_name = 'disk' order by ordinal_position",
    );
    expect(cols.map((x) => `${x.column_name as string} ${x.data_type as string}`)).toEqual([
      'k_timestamp timestamp with time zone',
      'free bigint',
      'inodes_free bigint',
      'used_percent double precision',
      'primary_tag character varying',
      'device character varying',
      'fstype character varying',
      'host character varying',
      'mode character varying',
      'path=x character varying',
    ]);
    const tags = await rows('show tags from disk');
    expect(tags.map((t) => [t.tag, t.type, t.is_primary])).toEqual([
      ['primary_tag', 'character varying(64)', true],
      ['device', 'character varying', false],
      ['fstype', 'character varying', false],
      ['host', 'character varying', false],
      ['mode', 'character varying', false],
      ['path=x', 'character varying', false],
    ]);
  });

  it('1.x: timestamps in every precision, one device per tag set, ns truncated to µs', async () => {
    const a = await write(
      'prec,dev=a v=1 1700000000123456789\nprec,dev=a v=2 1700000001123456999\nprec,dev=b v=3 1700000002000000000\n',
    );
    expect(a.status, a.body).toBe(204);
    expect((await write('prec,dev=a v=4 1700000003123', 'db=telegraf&precision=ms')).status).toBe(204);
    expect((await write('prec,dev=a v=5 1700000004', 'db=telegraf&precision=s')).status).toBe(204);
    expect((await write('prec,dev=a v=6 1700000005123456', 'db=telegraf&precision=u')).status).toBe(204);
    expect(await rows('select k_timestamp::text as t, v, dev from prec order by k_timestamp')).toEqual([
      { t: '2023-11-14 22:13:20.123456+00', v: 1, dev: 'a' },
      { t: '2023-11-14 22:13:21.123456+00', v: 2, dev: 'a' },
      { t: '2023-11-14 22:13:22+00', v: 3, dev: 'b' },
      { t: '2023-11-14 22:13:23.123+00', v: 4, dev: 'a' },
      { t: '2023-11-14 22:13:24+00', v: 5, dev: 'a' },
      { t: '2023-11-14 22:13:25.123456+00', v: 6, dev: 'a' },
    ]);
    expect(await rows('select count(distinct primary_tag) as n from prec')).toEqual([{ n: '2' }]);
    const bad = await write('prec v=1', 'db=telegraf&precision=xx');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toContain('invalid precision');
  });

  it('schema evolution: new fields and tags become columns and tags; older rows read NULL', async () => {
    expect((await write('evo,host=a temp=20.5 1000000000')).status).toBe(204);
    expect((await write('evo,host=a,rack=r1 temp=21.5,hum=40i,note="x" 2000000000')).status).toBe(204);
    expect(
      await rows('select k_timestamp::text as t, temp, hum, note, host, rack from evo order by k_timestamp'),
    ).toEqual([
      { t: '1970-01-01 00:00:01+00', temp: 20.5, hum: null, note: null, host: 'a', rack: null },
      { t: '1970-01-01 00:00:02+00', temp: 21.5, hum: '40', note: 'x', host: 'a', rack: 'r1' },
    ]);
  });

  it('type conflicts: the line is refused with a clear message, the others written (InfluxDB partial write)', async () => {
    expect((await write('conf,host=a v=1.5 1000000000')).status).toBe(204);
    const a = await write(
      'conf,host=a v=2i 2000000000\nconf,host=b v=2.5 3000000000\nconf,host=c v="s" 4000000000\nconf,host=d v=3.5,w=1i 5000000000\n',
    );
    expect(a.status).toBe(400);
    const err = JSON.parse(a.body).error as string;
    expect(err).toBe(
      'partial write: field type conflict: input field "v" on measurement "conf" is type integer, already exists as type float (line 1)\n' +
        'field type conflict: input field "v" on measurement "conf" is type string, already exists as type float (line 3) dropped=2',
    );
    expect(a.headers['x-influxdb-error']).toContain('partial write: field type conflict');
    expect(await rows('select v, w, host from conf order by k_timestamp')).toEqual([
      { v: 1.5, w: null, host: 'a' },
      { v: 2.5, w: null, host: 'b' },
      { v: 3.5, w: '1', host: 'd' },
    ]);
    // Within one request to a new table the first line decides the type.
    const b = await write('conf2 v=1i 1000\nconf2 v=2 2000\nconf2 v=3i 3000\n');
    expect(b.status).toBe(400);
    expect(JSON.parse(b.body).error).toContain(
      'input field "v" on measurement "conf2" is type float, already exists as type integer (line 2) dropped=1',
    );
    expect(await rows('select v from conf2 order by k_timestamp')).toEqual([{ v: '1' }, { v: '3' }]);
    // An unsigned value beyond INT8 and names the table cannot take.
    const u = await write(
      'conf2 v=18446744073709551615u 4000\nconf2,v=x w=1 5000\nconf2 k_timestamp=1 6000\nconf2 ok=1i 7000\n',
    );
    expect(u.status).toBe(400);
    const msg = JSON.parse(u.body).error as string;
    expect(msg).toContain(
      'unsigned integer 18446744073709551615 is out of range for column "v" (int8) on measurement "conf2" (line 1)',
    );
    expect(msg).toContain(
      'tag "v" on measurement "conf2" has the name of a column of table "conf2" (line 2)',
    );
    expect(msg).toContain(
      'field "k_timestamp" on measurement "conf2" has the name of the time column (line 3)',
    );
    expect(msg).toMatch(/dropped=3$/);
    expect(await rows('select ok from conf2 where ok is not null')).toEqual([{ ok: '1' }]);
  });

  it('malformed lines: 1.x writes the others and names each bad line; all bad: 400 without "partial write"', async () => {
    const a = await write('mal v=1 1000\nbad line\nmal v= 6\nmal v=7 8000\n');
    expect(a.status).toBe(400);
    expect(JSON.parse(a.body).error).toBe(
      "partial write: unable to parse 'bad line': invalid field format: a field needs \"key=value\" (line 2)\nunable to parse 'mal v= 6': missing field value (line 3) dropped=0",
    );
    expect(await rows('select v from mal order by k_timestamp')).toEqual([{ v: 1 }, { v: 7 }]);
    const b = await write('only bad');
    expect(b.status).toBe(400);
    expect(JSON.parse(b.body)).toEqual({
      error: 'unable to parse \'only bad\': invalid field format: a field needs "key=value" (line 1)',
    });
    expect((await write('')).status).toBe(204);
  });

  it('gzip bodies, and the body limit (413) on the decompressed size', async () => {
    const lines = Array.from(
      { length: 5000 },
      (_v, i) => `gz,dev=d${i % 7} v=${i}i,s="row ${i}" ${1_000_000_000 + i * 1000}`,
    ).join('\n');
    const a = await write(gzipSync(lines), 'db=telegraf', { 'content-encoding': 'gzip' });
    expect(a.status, a.body).toBe(204);
    expect(await rows('select count(*) as n, sum(v) as s from gz')).toEqual([
      { n: '5000', s: String((4999 * 5000) / 2) },
    ]);
    // 30 MB of newlines compress to ~30 KB: refused once 25,000,000 bytes are decompressed.
    const bomb = gzipSync(Buffer.alloc(30_000_000, 10));
    const b = await write(bomb, 'db=telegraf', { 'content-encoding': 'gzip' });
    expect(b.status).toBe(413);
    expect(JSON.parse(b.body).error).toContain('exceeds the limit of 25000000 bytes');
    const big = await write(Buffer.alloc(25_000_001, 10));
    expect(big.status).toBe(413);
    const corrupt = await write(Buffer.from('not gzip at all'), 'db=telegraf', {
      'content-encoding': 'gzip',
    });
    expect(corrupt.status).toBe(400);
    expect((await write('x v=1', 'db=telegraf', { 'content-encoding': 'br' })).status).toBe(415);
  });

  it('answers for a missing or relational database, GET and /ping as InfluxDB does', async () => {
    const nodb = await write('m v=1', 'db=nodb');
    expect(nodb.status).toBe(404);
    expect(JSON.parse(nodb.body)).toEqual({ error: 'database not found: "nodb"' });
    expect((await write('m v=1', '')).status).toBe(400);
    const rel = await write('m v=1', 'db=rel');
    expect(rel.status).toBe(400);
    expect(JSON.parse(rel.body).error).toContain('is not a time-series database');
    const get = await fetch(`http://127.0.0.1:${node.httpPort}/write?db=telegraf`);
    expect(get.status).toBe(405);
    const ping = await fetch(`http://127.0.0.1:${node.httpPort}/ping`);
    expect(ping.status).toBe(204);
  });

  it('2.x through @influxdata/influxdb-client: points read back equal; a malformed body writes nothing (400); conflicts 422', async () => {
    const url = `http://127.0.0.1:${node.httpPort}`;
    const client = new InfluxDB({ url, token: 'root:' });
    const w = client.getWriteApi('any-org', 'telegraf', 'ms', { maxRetries: 0, batchSize: 10_000 });
    const t0 = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 2500; i++) {
      w.writePoint(
        new Point('sensor')
          .tag('site', i % 2 ? 'north' : 'south, "west"')
          .tag('id', `s${i % 5}`)
          .floatField('temp', 20 + i / 100)
          .intField('count', -i)
          .uintField('seq', i)
          .booleanField('ok', i % 3 === 0)
          .stringField('note', `n=${i} "q" \\ end`)
          .timestamp(new Date(t0 + i * 1000)),
      );
      // flush() waits only for the batch it sends, not for full batches the client sent on its
      // own: flush every 1,000 points (three requests here) so every one has been answered.
      if (i % 1000 === 999) await w.flush();
    }
    await w.flush();
    const got = await rows(
      'select extract(epoch from k_timestamp) * 1000 as ms, temp, count, seq, ok, note, site, id from sensor order by k_timestamp',
    );
    expect(got).toHaveLength(2500);
    for (let i = 0; i < 2500; i += 97) {
      expect(got[i]).toEqual({
        ms: expect.anything(),
        temp: 20 + i / 100,
        count: String(-i),
        seq: String(i),
        ok: i % 3 === 0,
        note: `n=${i} "q" \\ end`,
        site: i % 2 ? 'north' : 'south, "west"',
        id: `s${i % 5}`,
      });
      expect(Number(got[i]?.ms)).toBe(t0 + i * 1000);
    }
    expect(await rows('select count(distinct primary_tag) as n from sensor')).toEqual([{ n: '10' }]);

    // A malformed line: 400, and no line of the body is written (InfluxDB 2.x's rule).
    const bad = await post(
      node.httpPort,
      '/api/v2/write?bucket=telegraf&org=x&precision=s',
      'v2bad v=1 1\nv2bad v=\nv2bad v=3 3\n',
      { authorization: 'Token root:' },
    );
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toEqual({
      code: 'invalid',
      message: "unable to parse 'v2bad v=': missing field value (line 2)",
    });
    expect(
      await rows("select count(*) as n from information_schema.tables where table_name = 'v2bad'"),
    ).toEqual([{ n: '0' }]);

    // A type conflict: 422 through the client (no retry), the other points written.
    const w2 = client.getWriteApi('any-org', 'telegraf/autogen', 's', { maxRetries: 0 });
    w2.writeRecords(['sensor,site=x,id=y temp=1i 1800000000', 'sensor,site=x,id=y temp=2.5 1800000001']);
    const e = await w2.flush().then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(HttpError);
    expect((e as HttpError).statusCode).toBe(422);
    expect((e as HttpError).body).toContain(
      'field type conflict: input field \\"temp\\" on measurement \\"sensor\\" is type integer, already exists as type float (line 1) dropped=1',
    );
    expect(await rows("select temp from sensor where site = 'x'")).toEqual([{ temp: 2.5 }]);
    await w2.close().catch(() => undefined);
    await w.close();
  });

  it('an answered write survives SIGKILL of the node', async () => {
    const lines = Array.from(
      { length: 3000 },
      (_v, i) => `dur,dev=d${i % 3} v=${i}i ${2_000_000_000_000 + i}`,
    ).join('\n');
    expect((await write(lines, 'db=telegraf&precision=ms')).status).toBe(204);
    await c.end();
    await node.kill();
    await node.restart();
    c = new pg.Client(node.url);
    await c.connect();
    await c.query('use telegraf');
    expect(await rows('select count(*) as n, sum(v) as s from dur')).toEqual([
      { n: '3000', s: String((2999 * 3000) / 2) },
    ]);
  });
});

describe('line protocol (secure node)', () => {
  let node: TestNode;
  let certs: TestCerts;
  let ca: string;
  const password = 'influx pass:word';

  async function rootQuery(sql: string, database = 'defaultdb'): Promise<pg.QueryResult> {
    const c = new pg.Client(pgClientConfig(node, certs, 'root', { cert: true, database }));
    await c.connect();
    try {
      return await c.query(sql);
    } finally {
      await c.end();
    }
  }
  const write = (path: string, body: string, headers: Record<string, string> = {}) =>
    post(node.httpPort, path, body, headers, { ca });

  beforeAll(async () => {
    certs = await makeCerts(['root'], 'ecdsa');
    ca = readFileSync(certs.ca, 'utf8');
    node = await startSecureNode(certs);
    await rootQuery('create ts database iot');
    await rootQuery(`create user writer password '${password}'`);
    await rootQuery(`create user reader password '${password}'`);
    await rootQuery('grant create on schema public to writer', 'iot');
  });
  afterAll(async () => {
    await node.stop();
    node.cleanup();
  });

  it('requires a Strata user and password (u/p, Basic, Token): 401 otherwise; 403 without privileges', async () => {
    const none = await write('/write?db=iot', 'm v=1');
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toEqual({ error: 'unable to parse authentication credentials' });
    expect(none.headers['www-authenticate']).toBe('Basic realm="Strata"');
    const wrong = await write(`/write?db=iot&u=writer&p=nope`, 'm v=1');
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body)).toEqual({ error: 'authorization failed' });
    expect((await write(`/write?db=iot&u=nobody&p=x`, 'm v=1')).status).toBe(401);
    const v2none = await write('/api/v2/write?bucket=iot', 'm v=1');
    expect(v2none.status).toBe(401);
    expect(JSON.parse(v2none.body).code).toBe('unauthorized');

    const ok = await write(
      `/write?db=iot&u=writer&p=${encodeURIComponent(password)}`,
      'm,host=a v=1 1000000000',
    );
    expect(ok.status, ok.body).toBe(204);
    const basic = await write('/write?db=iot', 'm,host=a v=2 2000000000', {
      authorization: `Basic ${Buffer.from(`writer:${password}`).toString('base64')}`,
    });
    expect(basic.status, basic.body).toBe(204);
    const token = await write('/api/v2/write?bucket=iot&precision=s', 'm,host=a v=3 3', {
      authorization: `Token writer:${password}`,
    });
    expect(token.status, token.body).toBe(204);
    expect((await rootQuery('select v from m order by k_timestamp', 'iot')).rows).toEqual([
      { v: 1 },
      { v: 2 },
      { v: 3 },
    ]);

    // reader may log in but not create tables in iot, nor write writer's table.
    const denied = await write(`/write?db=iot&u=reader&p=${encodeURIComponent(password)}`, 'm2 v=1');
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body).error).toContain('permission denied');
    const denied2 = await write(`/write?db=iot&u=reader&p=${encodeURIComponent(password)}`, 'm,host=a v=9');
    expect(denied2.status).toBe(403);
    await rootQuery('grant insert on m to reader', 'iot');
    expect(
      (await write(`/write?db=iot&u=reader&p=${encodeURIComponent(password)}`, 'm,host=a v=4 4000000000'))
        .status,
    ).toBe(204);
    // A changed password takes effect at the next request.
    await rootQuery(`alter user writer password 'changed'`);
    expect(
      (await write(`/write?db=iot&u=writer&p=${encodeURIComponent(password)}`, 'm,host=a v=5')).status,
    ).toBe(401);
    expect((await write(`/write?db=iot&u=writer&p=changed`, 'm,host=a v=5 5000000000')).status).toBe(204);
  });
});
