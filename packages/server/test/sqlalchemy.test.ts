/**
 * SQLAlchemy reflection (Debian's python3-sqlalchemy 1.4 with its psycopg2 dialect, run by
 * /usr/bin/python3; .ci/run installs it) against a Strata process: get_table_names, get_columns,
 * get_pk_constraint, get_foreign_keys, get_indexes, get_unique_constraints,
 * get_check_constraints, get_sequence_names, MetaData.reflect and a Core round trip on a
 * reflected table print what they print on PostgreSQL 15 for the same schema. The expected
 * output was recorded against PostgreSQL 15 with the same program:
 *   psql -f drivers/sqlalchemy_schema.sql DB; python3 drivers/sqlalchemy_reflect.py postgresql+psycopg2://…/DB > drivers/sqlalchemy_reflect.out
 * (SQLAlchemy 1.4 has no psycopg 3 dialect; it came with 2.0, which Debian 12 does not ship.)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

const dir = join(import.meta.dirname, 'drivers');
const python = '/usr/bin/python3';
let node: TestNode;

beforeAll(async () => {
  node = await startNode();
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', node.url, '-c', 'create database sa']);
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', node.url.replace(/\/defaultdb$/, '/sa'), '-f', join(dir, 'sqlalchemy_schema.sql')]);
});
afterAll(async () => {
  await node.stop();
  node.cleanup();
});

describe('SQLAlchemy', () => {
  it('reflects tables, columns, keys, indexes and constraints as on PostgreSQL 15 (psycopg2 dialect)', () => {
    if (!existsSync(python)) throw new Error(`${python} is missing: install Debian's python3-sqlalchemy and python3-psycopg2 (.ci/run does)`);
    const url = node.url.replace(/^postgresql:/, 'postgresql+psycopg2:').replace(/\/defaultdb$/, '/sa');
    const out = execFileSync(python, [join(dir, 'sqlalchemy_reflect.py'), url], { encoding: 'utf8', timeout: 120_000 });
    expect(out).toBe(readFileSync(join(dir, 'sqlalchemy_reflect.out'), 'utf8'));
  }, 180_000);
});
