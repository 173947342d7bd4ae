/**
 * Multi-dimensional arrays (issue 12) through real clients against a Strata process, compared
 * with PostgreSQL 15: psql runs arrays/multidim.sql (literals, ARRAY[ARRAY[…]] and ARRAY[[…]],
 * ARRAY(subquery), subscripts, array_dims/array_length/array_upper/cardinality per dimension,
 * unnest, ANY/ALL, ||/array_cat/array_append, @>/&&, to_json, array_agg of arrays, comparison and
 * DISTINCT, a table with int[] and text[][] columns, COPY text and CSV, PostgreSQL's errors);
 * COPY … (FORMAT binary) writes PostgreSQL's bytes and reads them back; psycopg 3 sends and
 * receives nested lists in binary. Recorded from PostgreSQL 15 in an empty database:
 *   psql -X -a DB -f - < arrays/multidim.sql > arrays/multidim.out 2>&1
 *   psql -X DB -c "copy md to stdout (format binary)" | xxd -p | tr -d '\n' > arrays/multidim_copy.hex
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

const dir = join(import.meta.dirname, 'arrays');
let node: TestNode;
let url: string;

beforeAll(async () => {
  node = await startNode();
  execFileSync('psql', ['-X', '-q', node.url, '-c', 'create database mdt']);
  url = node.url.replace(/\/defaultdb$/, '/mdt');
});
afterAll(async () => {
  await node.stop();
  node.cleanup();
});

describe('multi-dimensional arrays', () => {
  it('print, compute and fail as PostgreSQL 15 (arrays/multidim.sql through psql)', () => {
    const out = execFileSync('sh', ['-c', `psql -X -a "${url}" -f - 2>&1`], { input: readFileSync(join(dir, 'multidim.sql'), 'utf8'), timeout: 60_000 }).toString();
    expect(out).toBe(readFileSync(join(dir, 'multidim.out'), 'utf8'));
  });

  it('COPY (FORMAT binary) writes PostgreSQL 15 bytes and reads them back', () => {
    const bin = execFileSync('psql', ['-X', url, '-c', 'copy md to stdout (format binary)']);
    expect(bin.toString('hex')).toBe(readFileSync(join(dir, 'multidim_copy.hex'), 'utf8'));
    execFileSync('psql', ['-X', '-q', url, '-c', 'create table md_bin (id int primary key, a int[], t text[])']);
    execFileSync('psql', ['-X', '-q', url, '-c', 'copy md_bin from stdin (format binary)'], { input: bin });
    const diff = execFileSync('psql', ['-X', '-At', url, '-c', 'select count(*) from md full join md_bin using (id) where md.a is distinct from md_bin.a or md.t is distinct from md_bin.t or md.id is null or md_bin.id is null']);
    expect(diff.toString()).toBe('0\n');
  });

  it('psycopg 3 sends and receives nested lists in the binary format', () => {
    const py = `
import psycopg, sys
with psycopg.connect(sys.argv[1]) as c:
    print(c.execute('select a, t, %s::int[] from md where id = 1', [[[1, 2], [3, 4]]], binary=True).fetchone())
    print(c.execute('select %s::text[], array_dims(%s::text[])', [[['x', None], ['y', 'z']], [['x', None], ['y', 'z']]]).fetchone())
`;
    const out = execFileSync('/usr/bin/python3', ['-c', py, url], { encoding: 'utf8', timeout: 60_000 });
    // What the same program prints against PostgreSQL 15.
    expect(out).toBe("([[1, 2], [3, 4]], [['a', 'b'], ['c', None]], [[1, 2], [3, 4]])\n([['x', None], ['y', 'z']], '[1:2][1:2]')\n");
  });
});
