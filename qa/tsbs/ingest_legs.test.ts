/**
 * The seeded CI slice of bench:ingest (qa/bench/ingest_workload.ts): the same TSBS cpu-only rows
 * (10 hosts × 1 h) loaded into Strata through every ingest leg — text COPY, binary COPY, prepared
 * multi-row INSERT with text and with binary parameters (COPY's path, sql/src/ts_insert_bind.ts),
 * InfluxDB line protocol — must read back as the same rows, whatever path wrote them.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../harness/node.js';
import type { TestNode } from '../harness/node.js';
import { fieldCols, ingestWorkload, lineLoad, tagCols } from '../bench/ingest_workload.js';
import { fields, tagNames } from '../bench/tsbs/data.js';

const workload = ingestWorkload({
  hosts: 10,
  hours: 1,
  workers: 2,
  connections: 4,
  batch: 100,
  lpBatch: 1000,
});

let node: TestNode;
let c: pg.Client;
beforeAll(async () => {
  node = await startNode();
  const s = new pg.Client(node.url);
  await s.connect();
  await s.query('create ts database benchmark');
  await s.query('create ts database lp');
  await s.end();
  c = new pg.Client(node.url.replace('/defaultdb', '/benchmark'));
  await c.connect();
});
afterAll(async () => {
  await c.end();
  await node.stop();
  node.cleanup();
});

const columns = ['ts', ...fields, ...tagNames].join(', ');
const readBack = async (cl: pg.Client, table: string, time = 'ts') =>
  (
    await cl.query(
      `select ${columns.replace(/^ts/, `${time}::text as ts`)} from ${table} order by hostname, ${time}`,
    )
  ).rows;

describe('bench:ingest legs (CI slice)', () => {
  it('every SQL leg stores the same rows', async () => {
    expect(workload.rows).toBe(3600);
    const url = node.url.replace('/defaultdb', '/benchmark');
    const stored: Record<string, unknown[]> = {};
    for (const leg of workload.sqlLegs) {
      const table = `cpu_${leg.key.replace('-', '_')}`;
      await c.query(
        `create table ${table} (ts timestamptz not null, ${fieldCols}) tags (${tagCols}) primary tags (hostname)`,
      );
      await leg.run(url, table);
      stored[leg.key] = await readBack(c, table);
    }
    expect(Object.keys(stored)).toEqual(['copy', 'binary', 'insert', 'insert-binary']);
    expect(stored.copy).toHaveLength(workload.rows);
    for (const k of ['binary', 'insert', 'insert-binary']) expect(stored[k], k).toEqual(stored.copy);
  });

  it('the line-protocol leg stores the same readings', async () => {
    await lineLoad(`http://127.0.0.1:${node.httpPort}/write?db=lp&precision=ms`, workload.lineChunks(2));
    const lp = new pg.Client(node.url.replace('/defaultdb', '/lp'));
    await lp.connect();
    try {
      const time = (
        await lp.query(
          "select column_name from information_schema.columns where table_name = 'cpu' order by ordinal_position limit 1",
        )
      ).rows[0].column_name as string;
      expect(await readBack(lp, 'cpu', time)).toEqual(await readBack(c, 'cpu_copy'));
    } finally {
      await lp.end();
    }
  });
});
