/**
 * Connection hygiene: connections that have not finished startup neither count against
 * max_connections nor lock real clients out, and are closed after the startup timeout
 * (PostgreSQL's authentication_timeout); max_connections is a server setting (53300 past it);
 * idle_in_transaction_session_timeout and idle_session_timeout end sessions as PostgreSQL does
 * (FATAL 25P03 / 57P05, connection closed).
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import { RawClient, serialize } from '../../../qa/harness/rawpg.js';

let node: TestNode;
let limited: TestNode;

beforeAll(async () => {
  [node, limited] = await Promise.all([startNode(), startNode(undefined, { args: ['--max-connections=3', '--authentication-timeout=1s'] })]);
});

afterAll(async () => {
  for (const n of [node, limited]) {
    await n.stop();
    n.cleanup();
  }
});

async function openIdle(port: number, n: number): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, () => {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => undefined);
        return new Promise<Socket>((res) => s.once('connect', () => res(s)));
      }),
    );
    out.push(...batch);
  }
  return out;
}

function closed(s: Socket): Promise<void> {
  return s.destroyed || s.readyState === 'closed' ? Promise.resolve() : new Promise((res) => s.once('close', () => res()));
}

type Msg = { name: string; code?: string; severity?: string; message?: string };

describe('connections that never finish startup', () => {
  it('1,200 idle TCP connections do not stop a real client from connecting', async () => {
    const idle = await openIdle(node.port, 1200);
    try {
      const c = new pg.Client(node.url);
      await c.connect();
      expect((await c.query('select 1 as one')).rows[0].one).toBe(1);
      await c.end();
    } finally {
      for (const s of idle) s.destroy();
    }
  });

  it('idle TCP connections do not count against max_connections', async () => {
    const idle = await openIdle(limited.port, 50);
    const clients: pg.Client[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const c = new pg.Client(limited.url);
        await c.connect();
        clients.push(c);
      }
      expect((await (clients[0] as pg.Client).query('show max_connections')).rows[0].max_connections).toBe('3');
      const extra = new pg.Client(limited.url);
      const err = (await extra.connect().then(
        () => null,
        (e: unknown) => e,
      )) as { code?: string; message?: string } | null;
      expect(err).toMatchObject({ code: '53300', message: 'sorry, too many clients already' });
      // A slot freed is a slot usable again.
      await (clients.pop() as pg.Client).end();
      const again = new pg.Client(limited.url);
      await again.connect();
      clients.push(again);
    } finally {
      for (const c of clients) await c.end();
      for (const s of idle) s.destroy();
    }
  });

  it('max_connections cannot be changed with SET (55P02), as in PostgreSQL', async () => {
    const c = new pg.Client(node.url);
    await c.connect();
    expect((await c.query('show max_connections')).rows[0].max_connections).toBe('1000');
    await expect(c.query('set max_connections = 5')).rejects.toMatchObject({ code: '55P02' });
    await c.query('reset all');
    expect((await c.query('show max_connections')).rows[0].max_connections).toBe('1000');
    await c.end();
  });

  it('closes connections that do not finish startup within the startup timeout; started sessions stay', async () => {
    const c = new pg.Client(limited.url);
    await c.connect();
    const [silent, partial] = await openIdle(limited.port, 2);
    partial?.write(Buffer.from([0, 0, 0, 40, 0, 3, 0, 0])); // a startup packet cut short
    await Promise.all([closed(silent as Socket), closed(partial as Socket)]);
    // The session that finished startup before them is older than the timeout and still serves.
    expect((await c.query('show authentication_timeout')).rows[0].authentication_timeout).toBe('1s');
    await c.end();
  });
});

describe('memory per connection', () => {
  it('500 idle sessions hold little buffer memory (the output buffer is not 256 KiB each)', async () => {
    const external = () => node.metric('strata_process_nodejs_external_memory_bytes');
    const before = await external();
    const clients: RawClient[] = [];
    for (let i = 0; i < 500; i += 50) clients.push(...(await Promise.all(Array.from({ length: 50 }, () => RawClient.connect(node.port)))));
    const grownMiB = ((await external()) - before) / 1024 / 1024;
    for (const c of clients) c.end();
    // Before: every connection allocated a 256 KiB output buffer, and another at each flush.
    expect(grownMiB).toBeLessThan(16);
  });
});

describe('idle timeouts', () => {
  async function fatalAfterIdle(setup: string): Promise<Msg | undefined> {
    const c = await RawClient.connect(node.port);
    c.write(serialize.query(setup));
    await c.untilReady();
    const e = (await c.waitFor('error', 30_000)) as unknown as Msg | undefined;
    await c.waitFor('never', 5000).catch(() => undefined);
    expect(c.closed).toBe(true);
    return e;
  }

  it('idle_in_transaction_session_timeout: FATAL 25P03 and the connection is closed', async () => {
    const c = await RawClient.connect(node.port);
    c.write(serialize.query("set idle_in_transaction_session_timeout = '200ms'"));
    await c.untilReady();
    c.write(serialize.query('begin; select 1'));
    expect((await c.untilReady()).at(-1)).toMatchObject({ status: 'T' });
    expect(await c.waitFor('error', 30_000)).toMatchObject({ code: '25P03', severity: 'FATAL', message: 'terminating connection due to idle-in-transaction timeout' });
    await c.waitFor('never', 5000).catch(() => undefined);
    expect(c.closed).toBe(true);
  });

  it('idle_in_transaction_session_timeout also ends a failed transaction block', async () => {
    const c = await RawClient.connect(node.port);
    c.write(serialize.query('set idle_in_transaction_session_timeout = 200'));
    await c.untilReady();
    c.write(serialize.query('begin'));
    await c.untilReady();
    c.write(serialize.query('select 1 / 0'));
    expect((await c.untilReady()).at(-1)).toMatchObject({ status: 'E' });
    expect(await c.waitFor('error', 30_000)).toMatchObject({ code: '25P03', severity: 'FATAL' });
  });

  it('idle_session_timeout: FATAL 57P05 and the connection is closed', async () => {
    const e = await fatalAfterIdle("set idle_session_timeout = '200ms'");
    expect(e).toMatchObject({ code: '57P05', severity: 'FATAL', message: 'terminating connection due to idle-session timeout' });
  });

  it('outside a transaction only idle_session_timeout applies; inside one only the in-transaction one', async () => {
    // Whichever fires tells which timer ran: the other one is set far shorter.
    const outside = await fatalAfterIdle("set idle_in_transaction_session_timeout = '50ms'; set idle_session_timeout = '1s'");
    expect(outside?.code).toBe('57P05');
    const c = await RawClient.connect(node.port);
    c.write(serialize.query("set idle_session_timeout = '50ms'; set idle_in_transaction_session_timeout = '1s'"));
    await c.untilReady();
    c.write(serialize.query('begin'));
    await c.untilReady();
    expect(await c.waitFor('error', 30_000)).toMatchObject({ code: '25P03' });
  });

  it('the timers count idle time only: a session that keeps talking is not ended', async () => {
    const c = await RawClient.connect(node.port);
    c.write(serialize.query("set idle_session_timeout = '300ms'"));
    await c.untilReady();
    // Each query runs longer than the timeout; the timer starts again after each ReadyForQuery.
    for (let i = 0; i < 2; i++) {
      const r = await c.query('select pg_sleep(0.4)');
      expect(r.some((m) => m.name === 'error')).toBe(false);
    }
    expect(await c.waitFor('error', 30_000)).toMatchObject({ code: '57P05' });
  });

  it('invalid values are refused with 22023, valid ones shown as given', async () => {
    const c = new pg.Client(node.url);
    await c.connect();
    await expect(c.query("set idle_session_timeout = 'abc'")).rejects.toMatchObject({ code: '22023', message: 'invalid value for parameter "idle_session_timeout": "abc"' });
    await expect(c.query("set idle_in_transaction_session_timeout = 'soon'")).rejects.toMatchObject({ code: '22023' });
    await c.query("set idle_session_timeout = '5s'");
    expect((await c.query('show idle_session_timeout')).rows[0].idle_session_timeout).toBe('5s');
    await c.end();
  });
});
