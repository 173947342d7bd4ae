/**
 * Program limits on the wire answer with PostgreSQL's codes instead of crashing or corrupting the
 * protocol: result rows wider than a RowDescription may carry (54011), statements with more
 * parameters than a Bind can carry (54000, behind the SQL layer's 42P02), parameter counts above 32767 (the protocol's counts
 * are unsigned), format counts that disagree with the parameters or columns (08P01, recoverable),
 * and messages longer than their type allows (FATAL 08P01 before the body is buffered).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import { RawClient, rawMessage, serialize } from '../../../qa/harness/rawpg.js';

let node: TestNode;

beforeAll(async () => {
  node = await startNode();
});

afterAll(async () => {
  await node.stop();
  node.cleanup();
});

type Msg = { name: string; code?: string; message?: string; severity?: string; fields?: string[] };

async function exchange(bytes: Buffer): Promise<{ msgs: Msg[]; c: RawClient }> {
  const c = await RawClient.connect(node.port);
  c.write(bytes);
  return { msgs: (await c.untilReady()) as unknown as Msg[], c };
}

describe('program limits', () => {
  it('a select list wider than 1664 columns → 54011, and the connection goes on', async () => {
    const { msgs, c } = await exchange(serialize.query('select ' + Array.from({ length: 1700 }, (_, i) => i).join(',')));
    expect(msgs.find((m) => m.name === 'error')).toMatchObject({ code: '54011', message: 'target lists can have at most 1664 entries' });
    expect(msgs.some((m) => m.name === 'rowDescription')).toBe(false);
    expect((await c.query('select 1')).some((m) => m.name === 'dataRow')).toBe(true);
    c.end();
  });

  it('100,000 columns in a select list → 54011 (not a corrupted RowDescription)', async () => {
    const { msgs, c } = await exchange(serialize.query('select ' + Array.from({ length: 100_000 }, () => '1').join(',')));
    expect(msgs.find((m) => m.name === 'error')?.code).toMatch(/^54/);
    c.end();
  });

  it('a statement referring to $70000 is refused cleanly, and the connection goes on', async () => {
    // (Parse also refuses with 54000 any statement needing more than the 65535 parameters a Bind
    // can carry, should the SQL layer accept one.)
    const { msgs, c } = await exchange(Buffer.concat([serialize.parse({ text: 'select $70000::int' }), serialize.sync()]));
    expect(msgs.find((m) => m.name === 'error')).toMatchObject({ code: '42P02' });
    expect((await c.query('select 1')).some((m) => m.name === 'dataRow')).toBe(true);
    c.end();
  });

  it('40,000 parameters (a count above 32767) are bound and used', async () => {
    const n = 40_000;
    const text = `select $1::int + $${n}::int as s`;
    const types = Array.from({ length: n }, () => 23);
    const values = Array.from({ length: n }, (_, i) => String(i + 1));
    const { msgs, c } = await exchange(Buffer.concat([serialize.parse({ text, types }), serialize.bind({ values }), serialize.execute({}), serialize.sync()]));
    expect(msgs.find((m) => m.name === 'error')).toBeUndefined();
    expect(msgs.find((m) => m.name === 'dataRow')?.fields).toEqual([String(1 + n)]);
    c.end();
  });

  it('Bind with more parameter formats than parameters → 08P01 ERROR; Sync recovers', async () => {
    const bind = rawMessage('B', Buffer.from([0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0x31, 0, 0, 0, 1, 0x32, 0, 0]));
    const { msgs, c } = await exchange(Buffer.concat([serialize.parse({ text: 'select $1::int, $2::int' }), bind, serialize.execute({}), serialize.sync()]));
    expect(msgs.find((m) => m.name === 'error')).toMatchObject({ code: '08P01', severity: 'ERROR', message: 'bind message has 3 parameter formats but 2 parameters' });
    expect((await c.query('select 2')).some((m) => m.name === 'dataRow')).toBe(true);
    c.end();
  });

  it('Bind with more result formats than columns → 08P01 ERROR', async () => {
    const bind = rawMessage('B', Buffer.from([0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0]));
    const { msgs, c } = await exchange(Buffer.concat([serialize.parse({ text: 'select 1' }), bind, serialize.execute({}), serialize.sync()]));
    expect(msgs.find((m) => m.name === 'error')).toMatchObject({ code: '08P01', message: 'bind message has 2 result formats but query has 1 columns' });
    c.end();
  });

  it('garbage in a binary parameter → PostgreSQL\'s error, not an internal error', async () => {
    // An int4[] in binary claiming one dimension, cut short after 8 bytes: array_recv reads past
    // the end (pq_getmsgint), which PostgreSQL 15 reports as 08P01 (recorded in
    // copy_binary_cases.json, arrayErrors 7 and 9) — an ERROR, the session goes on.
    const raw = rawMessage('B', Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 1, 0, 1]), Buffer.from([0, 0, 0, 8]), Buffer.from([0, 0, 0, 1, 0, 0, 0, 0]), Buffer.from([0, 0])]));
    const { msgs, c } = await exchange(Buffer.concat([serialize.parse({ text: 'select $1::int[]', types: [1007] }), raw, serialize.execute({}), serialize.sync()]));
    expect(msgs.find((m) => m.name === 'error')).toMatchObject({ code: '08P01', message: 'insufficient data left in message', severity: 'ERROR' });
    c.end();
  });

  it('a Sync claiming 100,000 bytes is refused on its header (FATAL 08P01), not buffered', async () => {
    const c = await RawClient.connect(node.port);
    c.write(rawMessage('S', Buffer.alloc(0), 100_000));
    expect(await c.waitFor('error')).toMatchObject({ code: '08P01', severity: 'FATAL' });
    await c.waitFor('never', 5000).catch(() => undefined);
    expect(c.closed).toBe(true);
  });

  it('an unknown message type is refused on its header, before its body arrives', async () => {
    const c = await RawClient.connect(node.port);
    c.write(rawMessage('z', Buffer.alloc(0), 50_000_000));
    expect(await c.waitFor('error')).toMatchObject({ code: '08P01', severity: 'FATAL', message: 'invalid frontend message type 122' });
  });
});
