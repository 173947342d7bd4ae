/**
 * Bad input gets the right SQLSTATE and the server keeps serving everyone else.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import { RawClient, rawMessage, serialize } from '../../../qa/harness/rawpg.js';

let node: TestNode;
let bystander: pg.Client;

beforeAll(async () => {
  node = await startNode();
  bystander = new pg.Client(node.url);
  await bystander.connect();
  await bystander.query('create table e (id int primary key, name text not null, n int check (n >= 0))');
  await bystander.query("insert into e values (1, 'one', 1)");
});

afterAll(async () => {
  // The bystander connection survived everything the tests threw at the server.
  expect((await bystander.query('select count(*)::int as n from e')).rows[0].n).toBeGreaterThan(0);
  await bystander.end();
  await node.stop();
  node.cleanup();
});

async function sqlError(sql: string, params: unknown[] = []): Promise<{ code: string; position?: string; message: string }> {
  const c = new pg.Client(node.url);
  await c.connect();
  try {
    await c.query(sql, params);
  } catch (e) {
    return e as { code: string; position?: string; message: string };
  } finally {
    await c.end();
  }
  throw new Error(`no error for ${sql}`);
}

describe('SQL errors carry the right SQLSTATE', () => {
  it.each([
    ['syntax error', 'select * frm e', '42601'],
    ['unknown table', 'select * from nosuch', '42P01'],
    ['unknown column', 'select nosuch from e', '42703'],
    ['duplicate key', "insert into e values (1, 'again', 1)", '23505'],
    ['not null', 'insert into e (id) values (2)', '23502'],
    ['check constraint', "insert into e values (3, 'neg', -1)", '23514'],
    ['bad cast', "select 'abc'::int", '22P02'],
    ['division by zero', 'select 1 / 0', '22012'],
    ['numeric overflow', 'select 2147483647::int + 1', '22003'],
    ['unknown function', 'select nosuchfn(1)', '42883'],
    ['ambiguous column', 'select id from e a, e b', '42702'],
    ['grouping error', 'select id, count(*) from e', '42803'],
    ['string too long', "create table e2 (s varchar(2)); insert into e2 values ('abc')", '22001'],
  ])('%s → %s', async (_name, sql, code) => {
    const e = await sqlError(sql);
    expect(e.code).toBe(code);
  });

  it('syntax errors report the position of the offending token', async () => {
    // "id frm" parses as a column alias, so the error is at "e" (as in PostgreSQL).
    const e = await sqlError('select id frm e');
    expect(e.code).toBe('42601');
    expect(Number(e.position)).toBe(15);
    // PostgreSQL lexes "+*" as one operator: not a syntax error but an unknown operator.
    expect((await sqlError('select 1 +* 2')).code).toBe('42883');
    const e2 = await sqlError('select * from e where');
    expect(e2.message).toMatch(/at end of input/);
  });

  it('a write-write conflict between two serializable transactions is refused with 40001', async () => {
    const a = new pg.Client(node.url);
    const b = new pg.Client(node.url);
    await a.connect();
    await b.connect();
    await a.query('begin');
    await b.query('begin');
    await a.query('select n from e where id = 1');
    await b.query('select n from e where id = 1');
    await a.query('update e set n = n + 1 where id = 1');
    // B's update waits for A's row lock; once A commits, B's earlier read is stale: 40001
    // (PostgreSQL: "could not serialize access due to concurrent update").
    const bUpdate = b.query('update e set n = n + 10 where id = 1');
    await new Promise((r) => setTimeout(r, 100));
    await a.query('commit');
    await expect(bUpdate).rejects.toMatchObject({ code: '40001' });
    await b.query('rollback');
    expect((await a.query('select n from e where id = 1')).rows[0].n).toBe(2);
    await a.end();
    await b.end();
  });

  it('write skew is prevented (serializable, not snapshot isolation)', async () => {
    await bystander.query('create table oncall (doctor text primary key, on_call bool)');
    await bystander.query("insert into oncall values ('alice', true), ('bob', true)");
    const a = new pg.Client(node.url);
    const b = new pg.Client(node.url);
    await a.connect();
    await b.connect();
    await a.query('begin');
    await b.query('begin');
    expect((await a.query('select count(*)::int as n from oncall where on_call')).rows[0].n).toBe(2);
    expect((await b.query('select count(*)::int as n from oncall where on_call')).rows[0].n).toBe(2);
    await a.query("update oncall set on_call = false where doctor = 'alice'");
    await b.query("update oncall set on_call = false where doctor = 'bob'");
    await a.query('commit');
    await expect(b.query('commit')).rejects.toMatchObject({ code: '40001' });
    expect((await bystander.query('select count(*)::int as n from oncall where on_call')).rows[0].n).toBe(1);
    await a.end();
    await b.end();
  });
});

describe('malformed protocol input', () => {
  it('an unknown message type gets 08P01 and the connection is closed', async () => {
    const c = await RawClient.connect(node.port);
    c.write(rawMessage('z', Buffer.from('junk')));
    const err = await c.waitFor('error');
    expect(err).toMatchObject({ code: '08P01', severity: 'FATAL' });
    await c.waitFor('never', 2000).catch(() => undefined);
    expect(c.closed).toBe(true);
  });

  it('an oversized message gets 08P01 before the server buffers it', async () => {
    const c = await RawClient.connect(node.port);
    // Claim a 1 GiB query but send only the header: the server must refuse on the length alone.
    c.write(rawMessage('Q', Buffer.alloc(0), 1024 * 1024 * 1024));
    const err = await c.waitFor('error');
    expect(err).toMatchObject({ code: '08P01' });
    expect((err as unknown as { message: string }).message).toMatch(/exceeds the limit/);
  });

  it('a message with an impossible length gets 08P01', async () => {
    const c = await RawClient.connect(node.port);
    c.write(rawMessage('Q', Buffer.alloc(0), 2));
    expect(await c.waitFor('error')).toMatchObject({ code: '08P01' });
  });

  it('a truncated Bind message gets 08P01', async () => {
    const c = await RawClient.connect(node.port);
    c.write(Buffer.concat([serialize.parse({ text: 'select $1::int' }), rawMessage('B', Buffer.from([0, 0, 0, 1])), serialize.sync()]));
    const err = await c.waitFor('error');
    expect((err as unknown as { code: string }).code).toBe('08P01');
  });

  it('a garbage startup packet is refused without affecting others', async () => {
    const c = await RawClient.connect(node.port, { startup: false });
    const b = Buffer.alloc(8);
    b.writeInt32BE(8, 0);
    b.writeInt32BE(0x12345678, 4);
    c.write(b);
    expect(await c.waitFor('error')).toMatchObject({ code: '0A000' });
    const ok = await bystander.query('select 1 as one');
    expect(ok.rows[0].one).toBe(1);
  });

  it('a bind with the wrong parameter count is an error, and Sync recovers the connection', async () => {
    const c = await RawClient.connect(node.port);
    c.write(Buffer.concat([serialize.parse({ text: 'select $1::int + $2::int' }), serialize.bind({ values: ['1'] }), serialize.execute({}), serialize.sync()]));
    const msgs = await c.untilReady();
    expect(msgs.some((m) => m.name === 'error' && (m as unknown as { code: string }).code === '08P01')).toBe(true);
    const r = await c.query('select 40 + 2');
    expect(r.some((m) => m.name === 'dataRow')).toBe(true);
    c.end();
  });

  it('answers SSLRequest with N in insecure mode, then serves plain text', async () => {
    const c = await RawClient.connect(node.port, { startup: false });
    const ssl = Buffer.alloc(8);
    ssl.writeInt32BE(8, 0);
    ssl.writeInt32BE(80877103, 4);
    const got = new Promise<Buffer>((res) => c.socket.once('data', res));
    c.write(ssl);
    expect((await got).toString()).toBe('N');
    c.end();
  });

  it('reports errors for an unknown database at startup', async () => {
    const c = await RawClient.connect(node.port, { startup: false });
    c.write(serialize.startup({ user: 'root', database: 'nosuchdb' }));
    expect(await c.waitFor('error')).toMatchObject({ code: '3D000' });
  });
});

describe('row locks', () => {
  it('a second writer of a hot row waits for the first instead of failing, and sees its write', async () => {
    await bystander.query('create table counter (id int primary key, n int)');
    await bystander.query('insert into counter values (1, 0)');
    const a = new pg.Client(node.url);
    const b = new pg.Client(node.url);
    await a.connect();
    await b.connect();
    await a.query('begin');
    await a.query('update counter set n = n + 1 where id = 1');
    await b.query('begin');
    const bUpdate = b.query('update counter set n = n + 10 where id = 1');
    await new Promise((r) => setTimeout(r, 100));
    await a.query('commit');
    await bUpdate; // no conflict: B had read nothing stale before waiting
    await b.query('commit');
    expect((await bystander.query('select n from counter where id = 1')).rows[0].n).toBe(11);
    await a.end();
    await b.end();
  });

  it('breaks a deadlock with 40001 after the lock wait timeout', async () => {
    await bystander.query('create table dl (id int primary key, n int)');
    await bystander.query('insert into dl values (1, 0), (2, 0)');
    const a = new pg.Client(node.url);
    const b = new pg.Client(node.url);
    await a.connect();
    await b.connect();
    await a.query('begin');
    await b.query('begin');
    await a.query('update dl set n = 1 where id = 1');
    await b.query('update dl set n = 2 where id = 2');
    const pa = a.query('update dl set n = 1 where id = 2').then(() => 'ok', (e: { code: string }) => e.code);
    const pb = b.query('update dl set n = 2 where id = 1').then(() => 'ok', (e: { code: string }) => e.code);
    const outcomes = await Promise.all([pa, pb]);
    expect(outcomes).toContain('40001');
    await a.query('rollback');
    await b.query('rollback');
    await a.end();
    await b.end();
  });
});
