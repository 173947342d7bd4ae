/**
 * LISTEN / NOTIFY / UNLISTEN / pg_notify between sessions of one node, with node-postgres
 * (`client.on('notification')`) and raw protocol scripts. The answers were recorded from
 * PostgreSQL 15: run with COMPAT_PG_URL=postgresql://postgres@127.0.0.1:PORT/postgres (a
 * throwaway PostgreSQL 15) and the same assertions run against it; only the queue bound
 * (Strata's is per listener and small, PostgreSQL's is one 8 GB queue) is `strataOnly`.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import { RawClient } from '../../../qa/harness/rawpg.js';

const pgUrl = process.env.COMPAT_PG_URL ?? null;
let node: TestNode | null = null;
let url = '';

beforeAll(async () => {
  if (pgUrl) {
    url = pgUrl;
    return;
  }
  node = await startNode();
  url = node.url;
});
afterAll(async () => {
  if (node) {
    await node.stop();
    node.cleanup();
  }
});

const strataOnly = pgUrl ? it.skip : it;

interface Heard {
  channel: string;
  payload: string | undefined;
  processId: number;
}

/** A node-postgres client recording the notifications it hears. */
async function listener(): Promise<{ c: pg.Client; heard: Heard[]; pid: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const heard: Heard[] = [];
  c.on('notification', (n) => heard.push({ channel: n.channel, payload: n.payload, processId: n.processId }));
  const pid = (await c.query('select pg_backend_pid() as p')).rows[0].p as number;
  return { c, heard, pid };
}

async function until(f: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!f()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Lets notifications that should not arrive have their chance to. */
const settle = () => new Promise((r) => setTimeout(r, 150));

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

function rawPort(): { port: number; user: string; database: string } {
  const u = new URL(url);
  return { port: Number(u.port), user: decodeURIComponent(u.username), database: u.pathname.slice(1) };
}

async function raw(): Promise<RawClient> {
  const { port, user, database } = rawPort();
  return RawClient.connect(port, { user, database });
}

describe('LISTEN / NOTIFY with node-postgres', () => {
  it('delivers to an idle listener, with the sender pid, at commit only, dropped on rollback', async () => {
    const l = await listener();
    const s = await listener();
    await l.c.query('listen t1');
    await s.c.query(`notify t1, 'hello'`);
    await until(() => l.heard.length === 1);
    expect(l.heard).toEqual([{ channel: 't1', payload: 'hello', processId: s.pid }]);

    await s.c.query('begin');
    await s.c.query(`notify t1, 'later'`);
    await s.c.query(`select pg_notify('t1', 'via function')`);
    await settle();
    expect(l.heard.length).toBe(1); // nothing before commit
    await s.c.query('commit');
    await until(() => l.heard.length === 3);
    expect(l.heard.slice(1).map((h) => h.payload)).toEqual(['later', 'via function']);

    await s.c.query('begin');
    await s.c.query(`notify t1, 'rolled back'`);
    await s.c.query('rollback');
    await s.c.query('begin');
    await s.c.query(`notify t1, 'failed'`);
    expect(await code(s.c.query('select 1/0'))).toBe('22012');
    await s.c.query('commit'); // a failed block rolls back
    await s.c.query(`notify t1, 'marker'`);
    await until(() => l.heard.length === 4);
    expect(l.heard[3]?.payload).toBe('marker');

    // Unlistened channels and other channels are not heard; NOTIFY without payload is ''.
    await s.c.query('notify other_channel');
    await s.c.query('notify t1');
    await until(() => l.heard.length === 5);
    expect(l.heard[4]).toEqual({ channel: 't1', payload: '', processId: s.pid });
    await l.c.end();
    await s.c.end();
  });

  it('folds duplicates in one transaction, keeps order across transactions, honours savepoints', async () => {
    const l = await listener();
    const s = await listener();
    await l.c.query('listen t2');
    await s.c.query('begin');
    for (const p of ['a', 'b', 'a', 'c', 'b']) await s.c.query(`notify t2, '${p}'`);
    await s.c.query('savepoint sp');
    await s.c.query(`notify t2, 'in savepoint'`);
    await s.c.query('rollback to savepoint sp');
    await s.c.query(`notify t2, 'd'`);
    await s.c.query('commit');
    // A payload folded away in a rolled-back savepoint may be sent again.
    await s.c.query('begin; savepoint x; notify t2, \'e\'; rollback to x; notify t2, \'e\'; commit');
    await s.c.query(`notify t2, 'a'`); // another transaction: not folded
    await until(() => l.heard.length === 6);
    await settle();
    expect(l.heard.map((h) => h.payload)).toEqual(['a', 'b', 'c', 'd', 'e', 'a']);
    await l.c.end();
    await s.c.end();
  });

  it('a listener in a transaction block hears nothing until the block ends', async () => {
    const l = await listener();
    const s = await listener();
    await l.c.query('listen t3');
    await l.c.query('begin');
    await l.c.query('select 1');
    await s.c.query(`notify t3, 'while busy'`);
    await l.c.query('select 2');
    await settle();
    expect(l.heard).toEqual([]);
    await l.c.query('commit');
    expect(l.heard.map((h) => h.payload)).toEqual(['while busy']); // before COMMIT's ReadyForQuery
    // Also after a ROLLBACK.
    await l.c.query('begin');
    await s.c.query(`notify t3, 'second'`);
    await l.c.query('rollback');
    expect(l.heard.map((h) => h.payload)).toEqual(['while busy', 'second']);
    await l.c.end();
    await s.c.end();
  });

  it('LISTEN and UNLISTEN take effect at commit; pg_listening_channels', async () => {
    const l = await listener();
    const s = await listener();
    const channels = async () => (await l.c.query('select pg_listening_channels() as c')).rows.map((r) => r.c as string);
    await l.c.query('listen a4');
    await l.c.query('begin');
    await l.c.query('listen b4');
    expect(await channels()).toEqual(['a4']);
    await l.c.query('rollback');
    expect(await channels()).toEqual(['a4']);
    await l.c.query('begin; listen "B4"; listen c4; commit');
    expect((await channels()).sort()).toEqual(['B4', 'a4', 'c4']);
    await s.c.query(`notify B4, 'lower'`); // an unquoted name is folded to b4: nobody listens
    await s.c.query(`notify "B4", 'exact'`);
    await until(() => l.heard.length === 1);
    expect(l.heard[0]).toMatchObject({ channel: 'B4', payload: 'exact' });
    await l.c.query('unlisten a4');
    expect((await channels()).sort()).toEqual(['B4', 'c4']);
    await l.c.query('unlisten *');
    expect(await channels()).toEqual([]);
    await l.c.query('unlisten not_listening'); // no error
    await l.c.query('listen d4');
    await l.c.query('discard all'); // includes UNLISTEN *
    expect(await channels()).toEqual([]);
    await s.c.query(`notify c4, 'x'`);
    await settle();
    expect(l.heard.length).toBe(1);
    await l.c.end();
    await s.c.end();
  });

  it('a session hears its own notifications; one transaction may LISTEN and NOTIFY', async () => {
    const l = await listener();
    await l.c.query('begin');
    await l.c.query('listen t5');
    await l.c.query(`notify t5, 'self'`);
    await l.c.query('commit');
    expect(l.heard).toEqual([{ channel: 't5', payload: 'self', processId: l.pid }]);
    // pg_notify with parameters (extended protocol), in autocommit.
    await l.c.query('select pg_notify($1, $2)', ['t5', 'param']);
    expect(l.heard.map((h) => h.payload)).toEqual(['self', 'param']);
    // UNLISTEN before the queued notification is read: it is not delivered.
    const s = await listener();
    await l.c.query('begin');
    await s.c.query(`notify t5, 'dropped'`);
    await l.c.query('unlisten t5');
    await l.c.query('commit');
    await settle();
    expect(l.heard.map((h) => h.payload)).toEqual(['self', 'param']);
    await l.c.end();
    await s.c.end();
  });

  it('checks channel names and payloads as PostgreSQL does', async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    expect(await code(c.query(`select pg_notify('', 'x')`))).toBe('22023');
    expect(await code(c.query(`select pg_notify(null, 'x')`))).toBe('22023');
    expect(await code(c.query(`select pg_notify(repeat('c', 64), 'x')`))).toBe('22023');
    expect(await code(c.query(`select pg_notify(repeat('c', 63), 'x')`))).toBe('no error');
    expect(await code(c.query(`select pg_notify('x', repeat('p', 8000))`))).toBe('22023');
    expect((await c.query(`select pg_notify('x', repeat('p', 7999)) is null as n`)).rows).toEqual([{ n: false }]);
    expect(await code(c.query(`select pg_notify('x', null)`))).toBe('no error');
    expect(await code(c.query(`notify x, 'a' || 'b'`))).toBe('42601');
    expect(await code(c.query(`notify x, 1`))).toBe('42601');
    expect(await code(c.query('unlisten'))).toBe('42601');
    // Allowed in a read-only transaction (PostgreSQL's rule), refused in a failed one.
    await c.query('begin read only');
    expect(await code(c.query('notify x'))).toBe('no error');
    expect(await code(c.query('listen x'))).toBe('no error');
    await c.query('commit');
    await c.query('begin');
    expect(await code(c.query('select 1/0'))).toBe('22012');
    expect(await code(c.query('notify x'))).toBe('25P02');
    await c.query('rollback');
    const notices: string[] = [];
    c.on('notice', (n) => notices.push(`${n.code} ${n.message}`));
    await c.query(`listen ${'a'.repeat(70)}`);
    expect(notices).toEqual([`42622 identifier "${'a'.repeat(70)}" will be truncated to "${'a'.repeat(63)}"`]);
    expect((await c.query('select pg_listening_channels() as c')).rows).toEqual([{ c: 'x' }, { c: 'a'.repeat(63) }]);
    await c.end();
  });
});

describe('LISTEN / NOTIFY on the wire', () => {
  it('sends NotificationResponse after CommandComplete, before ReadyForQuery', async () => {
    const c = await raw();
    await c.query('listen w1');
    const msgs = await c.query(`notify w1, 'p'`);
    expect(msgs.map((m) => m.name)).toEqual(['commandComplete', 'notification', 'readyForQuery']);
    const n = msgs[1] as unknown as { processId: number; channel: string; payload: string };
    expect([n.processId, n.channel, n.payload]).toEqual([c.backendKey?.pid, 'w1', 'p']);
    // In a multi-statement query PostgreSQL's implicit transaction ends with the string; a block
    // ended inside the string delivers before the ReadyForQuery.
    const m2 = await c.query(`begin; notify w1, 'q'; commit; select 1`);
    expect(m2.map((m) => m.name)).toEqual(['commandComplete', 'commandComplete', 'commandComplete', 'rowDescription', 'dataRow', 'commandComplete', 'notification', 'readyForQuery']);
    c.end();
  });

  it('an idle listener gets the notification without sending anything', async () => {
    const l = await raw();
    const s = await raw();
    await l.query('listen w2');
    await s.query(`notify w2, 'idle'`);
    const n = (await l.waitFor('notification')) as unknown as { processId: number; payload: string };
    expect([n.processId, n.payload]).toEqual([s.backendKey?.pid, 'idle']);
    l.end();
    s.end();
  });
});

describe('the notification queue bound', () => {
  strataOnly('a full listener queue fails the notifier with 54000, then drains in order', async () => {
    const l = await listener();
    const s = await listener();
    const warnings: string[] = [];
    s.c.on('notice', (n) => warnings.push(`${n.severity} ${n.message} | ${n.detail} | ${n.hint}`));
    await l.c.query('listen q1');
    await l.c.query('begin'); // a listener in a long transaction reads nothing
    const payload = 'x'.repeat(7000);
    let sent = 0;
    let err: string | undefined;
    for (let i = 0; i < 1000; i++) {
      err = await code(s.c.query(`notify q1, '${i} ${payload}'`));
      if (err !== 'no error') break;
      sent++;
    }
    expect(err).toBe('54000');
    // 1 MiB per listener: about 148 notifications of 7 kB.
    expect(sent).toBeGreaterThan(100);
    expect(sent).toBeLessThan(160);
    expect(warnings[0]).toMatch(new RegExp(`^WARNING NOTIFY queue is \\d+% full \\| The server process with PID ${l.pid} is among those with the oldest transactions\\. \\| The NOTIFY queue cannot be emptied`));
    // The failed COMMIT wrote nothing, in a block as well.
    await s.c.query('create table if not exists q1t (a int)');
    await s.c.query('begin');
    await s.c.query('insert into q1t values (1)');
    await s.c.query(`notify q1, 'one more ${payload}'`);
    expect(await code(s.c.query('commit'))).toBe('54000');
    expect((await s.c.query('select count(*)::int as n from q1t')).rows).toEqual([{ n: 0 }]);
    // Other channels and other listeners are unaffected.
    const other = await listener();
    await other.c.query('listen q2');
    await s.c.query(`notify q2, 'fine'`);
    await until(() => other.heard.length === 1);
    await l.c.query('commit');
    await until(() => l.heard.length === sent);
    expect(l.heard.map((h) => Number(h.payload?.split(' ')[0]))).toEqual([...Array(sent).keys()]);
    expect(await code(s.c.query(`notify q1, 'room again'`))).toBe('no error');
    await until(() => l.heard.length === sent + 1);
    for (const x of [l, s, other]) await x.c.end();
  });

  strataOnly('a listener that does not read its socket holds at most its queue', async () => {
    const l = await raw();
    await l.query('listen q3');
    l.socket.pause(); // stops reading: the kernel buffers fill, then Strata's queue
    const s = await listener();
    const payload = 'y'.repeat(7900);
    let err: string | undefined;
    for (let i = 0; i < 5000; i++) {
      err = await code(s.c.query(`notify q3, '${payload}'`));
      if (err !== 'no error') break;
    }
    expect(err).toBe('54000');
    l.socket.resume();
    l.end();
    await settle();
    // The session ended: its queue is gone and notifying works again.
    expect(await code(s.c.query(`notify q3, '${payload}'`))).toBe('no error');
    await s.c.end();
  });
});
