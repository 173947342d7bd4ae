/**
 * Storage parameters kept as pg_class.reloptions (issue 12), through psql against a Strata
 * process, compared with PostgreSQL 15: reloptions/reloptions.sql gives them at CREATE TABLE
 * (also AS), CREATE INDEX and ALTER TABLE SET/RESET, with a bare name, toast.* and oids, refused
 * values and a rolled-back ALTER, and prints pg_class and psql's \d+ "Options:" line. Recorded
 * from PostgreSQL 15 in an empty database:
 *   psql -X -a DB -f - < reloptions/reloptions.sql > reloptions/reloptions.out 2>&1
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

const dir = join(import.meta.dirname, 'reloptions');
let node: TestNode;
let url: string;

beforeAll(async () => {
  node = await startNode();
  execFileSync('psql', ['-X', '-q', node.url, '-c', 'create database rot']);
  url = node.url.replace(/\/defaultdb$/, '/rot');
});
afterAll(async () => {
  await node.stop();
  node.cleanup();
});

describe('pg_class.reloptions', () => {
  it('keeps storage parameters as PostgreSQL 15 shows them (reloptions/reloptions.sql through psql)', () => {
    const out = execFileSync('sh', ['-c', `psql -X -a "${url}" -f - 2>&1`], { input: readFileSync(join(dir, 'reloptions.sql'), 'utf8'), timeout: 60_000 }).toString();
    expect(out).toBe(readFileSync(join(dir, 'reloptions.out'), 'utf8'));
  });

  it('ALTER INDEX … SET/RESET (storage parameters) as PostgreSQL 15 (reloptions/alter_index.sql, recorded as reloptions.sql)', () => {
    const u = node.url.replace(/\/defaultdb$/, '/roai');
    execFileSync('psql', ['-X', '-q', node.url, '-c', 'create database roai']);
    const out = execFileSync('sh', ['-c', `psql -X -a "${u}" -f - 2>&1`], { input: readFileSync(join(dir, 'alter_index.sql'), 'utf8'), timeout: 60_000 }).toString();
    expect(out).toBe(readFileSync(join(dir, 'alter_index.out'), 'utf8'));
  });

  it('a time-series table keeps them as a relational one does (no PostgreSQL counterpart)', () => {
    const tsUrl = node.url.replace(/\/defaultdb$/, '/rots');
    execFileSync('psql', ['-X', '-q', node.url, '-c', 'create ts database rots']);
    const q = (sql: string) => execFileSync('psql', ['-X', '-At', '-v', 'ON_ERROR_STOP=1', tsUrl, '-c', sql]).toString();
    q('create table m (ts timestamptz not null, v float8) with (fillfactor = 70) tags (dev int4 not null) primary tags (dev)');
    expect(q("select reloptions from pg_class where relname = 'm'")).toBe('{fillfactor=70}\n');
    q('alter table m set (autovacuum_enabled = off)');
    q('alter table m reset (fillfactor)');
    expect(q("select reloptions from pg_class where relname = 'm'")).toBe('{autovacuum_enabled=off}\n');
  });
});
