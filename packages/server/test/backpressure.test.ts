/**
 * Back-pressure: result production pauses while the socket's outgoing buffer is full, so a
 * client that never reads a 10M-row result costs the server bounded memory — in the simple
 * query protocol, the extended protocol with and without a row limit, COPY TO, and a client
 * that pipelines queries without reading their answers. A stalled client that reads later gets
 * every row; a cancel reaches a statement paused on a full socket.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import { RawClient, sendCancel, serialize } from '../../../qa/harness/rawpg.js';

let node: TestNode;
let bystander: pg.Client;

/** Server RSS may grow at most this much while a client does not read (the output bound is 8 MiB). */
const rssGrowthMaxMiB = 100;
const tenMillion = 'select generate_series(1, 10000000) as n';

beforeAll(async () => {
  node = await startNode();
  bystander = new pg.Client(node.url);
  await bystander.connect();
});

afterAll(async () => {
  await bystander.end();
  await node.stop();
  node.cleanup();
});

/**
 * Watches the server while a client does not read: until the bytes the server has handed to its
 * sockets stop growing (production paused, or finished), returns the peak RSS seen.
 */
async function peakRssWhileStalled(): Promise<{ peakMiB: number; bytesOut: number }> {
  let peak = node.rssMiB();
  let last = -1;
  let still = 0;
  for (let i = 0; i < 600 && still < 8; i++) {
    await new Promise((res) => setTimeout(res, 200));
    peak = Math.max(peak, node.rssMiB());
    const out = await node.metric('strata_sql_bytes_out_total');
    still = out === last ? still + 1 : 0;
    last = out;
  }
  return { peakMiB: peak, bytesOut: last };
}

/** A raw client that stops reading its socket right after startup. */
async function nonReader(): Promise<RawClient> {
  const c = await RawClient.connect(node.port);
  c.socket.pause();
  return c;
}

async function expectBounded(send: (c: RawClient) => void): Promise<void> {
  const baseline = node.rssMiB();
  const sentBefore = await node.metric('strata_sql_bytes_out_total');
  const c = await nonReader();
  send(c);
  const { peakMiB, bytesOut } = await peakRssWhileStalled();
  console.log(`server RSS ${baseline.toFixed(1)} → peak ${peakMiB.toFixed(1)} MiB while the client did not read (${((bytesOut - sentBefore) / 1048576).toFixed(1)} MiB handed to its socket)`);
  expect(peakMiB - baseline).toBeLessThan(rssGrowthMaxMiB);
  // Everyone else is still served while that statement waits for its client.
  expect((await bystander.query('select 1 as one')).rows[0].one).toBe(1);
  c.socket.destroy();
}

describe('a client that never reads costs bounded memory', () => {
  it('simple query returning 10M rows', async () => {
    await expectBounded((c) => c.write(serialize.query(tenMillion)));
  });

  it('extended query returning 10M rows, no row limit', async () => {
    await expectBounded((c) => c.write(Buffer.concat([serialize.parse({ text: tenMillion }), serialize.bind({}), serialize.execute({}), serialize.sync()])));
  });

  it('extended query with row limits (portal suspension), 5M rows per Execute', async () => {
    await expectBounded((c) => c.write(Buffer.concat([serialize.parse({ text: tenMillion }), serialize.bind({}), serialize.execute({ rows: 5_000_000 }), serialize.execute({ rows: 5_000_000 }), serialize.sync()])));
  });

  it('COPY (query) TO STDOUT of 10M rows', async () => {
    await expectBounded((c) => c.write(serialize.query(`copy (${tenMillion}) to stdout`)));
  });

  it('many pipelined queries whose answers are never read', async () => {
    const q = serialize.query("select repeat('x', 2000) from generate_series(1, 20)");
    await expectBounded((c) => {
      // ~200 MB of answers requested by ~2.5 MB of queries.
      for (let i = 0; i < 5000; i++) c.write(q);
    });
  });
});

describe('paused results resume correctly', () => {
  it('a client that stalls, then reads, gets every row in order', async () => {
    const c = await RawClient.connect(node.port);
    c.socket.pause();
    c.write(serialize.query('select generate_series(1, 1000000) as n'));
    await peakRssWhileStalled();
    c.socket.resume();
    const msgs = await c.untilReady();
    const rows = msgs.filter((m) => m.name === 'dataRow').map((m) => Number((m as unknown as { fields: string[] }).fields[0]));
    expect(rows.length).toBe(1000000);
    expect(rows.every((v, i) => v === i + 1)).toBe(true);
    expect(msgs.at(-2)).toMatchObject({ name: 'commandComplete', text: 'SELECT 1000000' });
    c.end();
  });

  it('a CancelRequest reaches a statement paused on a full socket: 57014, and the session goes on', async () => {
    const c = await RawClient.connect(node.port);
    c.socket.pause();
    c.write(serialize.query(tenMillion));
    await peakRssWhileStalled();
    await sendCancel(node.port, c.backendKey as { pid: number; secret: number });
    c.socket.resume();
    const msgs = await c.untilReady();
    expect(msgs.find((m) => m.name === 'error')).toMatchObject({ code: '57014' });
    expect((await c.query('select 42')).some((m) => m.name === 'dataRow')).toBe(true);
    c.end();
  });
});
