/**
 * DECLARE … BINARY CURSOR against a real server process: FETCH over the simple protocol answers
 * with RowDescription format codes 1 and DataRow values in binary send format, compared byte for
 * byte with PostgreSQL 15's (binary_cursor_cases.json, recorded by binary_cursor_record.ts);
 * the extended protocol's Bind formats still decide there, as in PostgreSQL. node-postgres then
 * reads a binary cursor's rows with its own binary parsers.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import { RawClient } from '../../../qa/harness/rawpg.js';
import { fixtureFile, runStep } from './binary_cursor_record.js';
import type { Fixture } from './binary_cursor_record.js';

const fx = JSON.parse(readFileSync(fixtureFile, 'utf8')) as Fixture;

let node: TestNode;
let c: pg.Client;
let raw: RawClient;
beforeAll(async () => {
  node = await startNode();
  c = new pg.Client(node.url);
  await c.connect();
  await c.query(fx.ddl);
  for (const r of fx.rows) await c.query(r);
  raw = await RawClient.connect(node.port);
});
afterAll(async () => {
  raw.end();
  await c.end();
  await node.stop();
  node.cleanup();
});

describe('BINARY cursors', () => {
  it('answers every step with PostgreSQL 15 messages, byte for byte', async () => {
    for (const { step, frames } of fx.steps) {
      const got = await runStep(raw, step);
      // pg_cursors is a view in PostgreSQL (its RowDescription names the view's columns); only
      // its rows are compared.
      const rowsOnly = (fs: typeof frames) => (step.includes('pg_cursors') ? fs.filter((f) => f.type !== 'T') : fs);
      expect(rowsOnly(got), step).toEqual(rowsOnly(frames));
    }
  });

  it('node-postgres reads binary cursor rows with its binary parsers', async () => {
    // Only types whose pg-types binary parsers are right: its int8 and float8 ones misread
    // PostgreSQL 15's own bytes too (checked against PostgreSQL by hand).
    await c.query('begin');
    await c.query('declare nb binary cursor for select id, b, t from bt where id in (1, 2) order by id');
    const r = await c.query('fetch all from nb');
    expect(r.fields.map((f) => f.format)).toEqual(['binary', 'binary', 'binary']);
    expect(r.rows).toEqual([
      { id: 1, b: true, t: 'héllo wörld ✓' },
      { id: 2, b: false, t: '' },
    ]);
    await c.query('commit');
  });
});
