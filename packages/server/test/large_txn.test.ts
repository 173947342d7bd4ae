/**
 * Transactions larger than the write buffer (kv constants txnFlushBytes, 8 MiB) write their rows
 * ahead as intents: other sessions keep reading the committed data without waiting, a writer of
 * one of those rows waits for the transaction, commit makes every row visible at once, ROLLBACK
 * removes them, and a savepoint taken before the rows were written ahead cannot be restored.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

let node: TestNode;
let a: pg.Client;
let b: pg.Client;
const rows = 60_000; // × ~300 bytes: about 18 MiB, two flushes

beforeAll(async () => {
  node = await startNode();
  a = new pg.Client(node.url);
  b = new pg.Client(node.url);
  await a.connect();
  await b.connect();
  await a.query('create table big (id int primary key, pad text)');
});

afterAll(async () => {
  await a.end();
  await b.end();
  await node.stop();
  node.cleanup();
});

const count = async (c: pg.Client) => Number((await c.query('select count(*) as n from big')).rows[0].n);
const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? String(e));

describe('a transaction larger than the write buffer', () => {
  it('commits every row at once; others read the committed data meanwhile and writers of its rows wait', async () => {
    await a.query('begin');
    await a.query(`insert into big select g, repeat('x', 300) from generate_series(1, ${rows}) g`);
    expect(await count(a)).toBe(rows); // its own rows, most of them written ahead
    expect(await count(b)).toBe(0); // not blocked, not visible
    let settled = false;
    const writer = codeOf(b.query(`insert into big values (5, 'b')`)).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 500));
    expect(settled).toBe(false); // waits for the transaction holding row 5
    await a.query('commit');
    // After the commit the insert conflicts: a duplicate key, or a serialization failure (it read row 5 before).
    expect(['23505', '40001']).toContain(await writer);
    expect(await count(b)).toBe(rows);
    expect((await b.query('select pad from big where id = 5')).rows[0].pad).toBe('x'.repeat(300));
  });

  it('ROLLBACK removes the rows written ahead', async () => {
    await a.query('begin');
    await a.query(`insert into big select g, repeat('y', 300) from generate_series(${rows + 1}, ${2 * rows}) g`);
    await a.query('rollback');
    expect(await count(b)).toBe(rows);
    // The same keys can be written again at once (the rollback's cleanup is waited for).
    await b.query(`insert into big values (${rows + 7}, 'again')`);
    expect((await b.query(`select pad from big where id = ${rows + 7}`)).rows[0].pad).toBe('again');
    expect(await count(b)).toBe(rows + 1);
  });

  it('a savepoint from before the rows were written ahead cannot be restored (0A000)', async () => {
    await a.query('begin');
    await a.query('savepoint s');
    await a.query(`insert into big select g, repeat('z', 300) from generate_series(${3 * rows}, ${4 * rows}) g`);
    expect(await codeOf(a.query('rollback to savepoint s'))).toBe('0A000');
    await a.query('rollback');
    expect(await count(b)).toBe(rows + 1);
  });
});
