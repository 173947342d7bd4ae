/**
 * LISTEN/NOTIFY across a real two-node cluster: a listener on one node hears what sessions on
 * the other node notify when their transactions commit — in commit order, with the notifying
 * session's pid (which names its node), once per transaction for repeated pairs — and nothing of
 * a transaction that rolled back; UNLISTEN stops it; listeners on the notifying node hear it too.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../harness/cluster.js';

let c: LocalCluster;

beforeAll(async () => {
  c = await LocalCluster.create(2);
  for (const n of c.nodes) n.start();
  const init = await c.init(1);
  expect(init.code, init.stderr).toBe(0);
  await c.waitReady();
}, 120_000);

afterAll(async () => {
  await c?.stop();
});

async function client(node: number): Promise<pg.Client> {
  const cl = new pg.Client(c.node(node).url());
  await cl.connect();
  return cl;
}

async function until(what: string, ok: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('LISTEN/NOTIFY across nodes', () => {
  it('delivers committed notifications to listeners on every node, in commit order', async () => {
    const far = await client(2);
    const near = await client(1);
    const notifier = await client(1);
    const heard: { node: number; channel: string; payload: string | undefined; pid: number }[] = [];
    far.on('notification', (m) => heard.push({ node: 2, channel: m.channel, payload: m.payload, pid: m.processId }));
    near.on('notification', (m) => heard.push({ node: 1, channel: m.channel, payload: m.payload, pid: m.processId }));
    await far.query('listen events');
    await near.query('listen events');
    const pid = (await notifier.query('select pg_backend_pid() as pid')).rows[0].pid as number;

    for (let i = 0; i < 50; i++) await notifier.query(`notify events, 'n${i}'`);
    await notifier.query('begin');
    await notifier.query("notify events, 'rolled back'");
    await notifier.query('rollback');
    await notifier.query('begin');
    await notifier.query("select pg_notify('events', 'twice'), pg_notify('events', 'twice'), pg_notify('other', 'x')");
    await notifier.query('commit');

    const want = [...Array.from({ length: 50 }, (_, i) => `n${i}`), 'twice'];
    await until('both listeners to hear everything', () => heard.filter((h) => h.node === 2).length >= want.length && heard.filter((h) => h.node === 1).length >= want.length);
    await new Promise((r) => setTimeout(r, 300)); // nothing more arrives
    for (const node of [1, 2]) {
      const got = heard.filter((h) => h.node === node);
      expect(got.map((h) => h.payload)).toEqual(want);
      expect(new Set(got.map((h) => `${h.channel}/${h.pid}`))).toEqual(new Set([`events/${pid}`]));
    }

    // UNLISTEN on the far node: it hears nothing more; the near one still does.
    await far.query('unlisten events');
    heard.length = 0;
    await notifier.query("notify events, 'after unlisten'");
    await until('the near listener', () => heard.length >= 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(heard.map((h) => [h.node, h.payload])).toEqual([[1, 'after unlisten']]);

    // And the other way round: a session on node 2 notifies a listener on node 1.
    heard.length = 0;
    const n2 = await client(2);
    await n2.query("notify events, 'from n2'");
    await until('the near listener', () => heard.length >= 1);
    expect(heard.map((h) => [h.node, h.payload])).toEqual([[1, 'from n2']]);
    for (const cl of [far, near, notifier, n2]) await cl.end();
  }, 60_000);
});
