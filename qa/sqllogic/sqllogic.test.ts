/**
 * Runs the sqllogictest corpus (expected outputs recorded from PostgreSQL 15) against a real
 * Strata server process.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../harness/node.js';
import type { TestNode } from '../harness/node.js';
import { parseSlt, runRecords } from './slt.js';

const dir = join(import.meta.dirname, 'cases');
const files = readdirSync(dir).filter((f) => f.endsWith('.slt')).sort();

let node: TestNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node.stop();
  node.cleanup();
});

describe('sqllogictest corpus (expected outputs from PostgreSQL 15)', () => {
  it.each(files)('%s', async (f) => {
    const admin = new pg.Client(node.url);
    await admin.connect();
    const db = 'slt_' + f.replace(/\W/g, '_');
    await admin.query(`create database ${db}`);
    await admin.end();
    const c = new pg.Client(node.url.replace(/\/defaultdb$/, `/${db}`));
    await c.connect();
    const results = await runRecords(c, parseSlt(readFileSync(join(dir, f), 'utf8')));
    await c.end();
    const failures = results
      .filter((r) => !r.ok)
      .map((r) => `${f}:${r.record.line}: ${r.record.sql}\n  expected: ${r.record.expectError !== null ? `error ${r.record.expectError}` : JSON.stringify(r.record.expected)}\n  got:      ${JSON.stringify(r.got)}`);
    expect(failures.join('\n')).toBe('');
  });
});
