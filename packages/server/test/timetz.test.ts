/**
 * time with time zone (issue 12) through real clients against a Strata process, compared with
 * PostgreSQL 15: psql runs timetz/timetz.sql (offsets, abbreviations, zone names with a date, the
 * session zone, 24:00:00, errors, timetz_cmp ordering, casts to and from time, timestamptz and
 * text, a table, GROUP BY, COPY, \d); COPY … (FORMAT binary) writes PostgreSQL's bytes; psycopg 3
 * reads and sends datetime.time values with tzinfo in binary. Recorded from PostgreSQL 15 in an
 * empty database (no case depends on today's date):
 *   psql -X -a DB -f - < timetz/timetz.sql > timetz/timetz.out 2>&1
 *   psql -X DB -c "copy tz to stdout (format binary)" | xxd -p | tr -d '\n' > timetz/timetz_copy.hex
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

const dir = join(import.meta.dirname, 'timetz');
let node: TestNode;
let url: string;

beforeAll(async () => {
  node = await startNode();
  execFileSync('psql', ['-X', '-q', node.url, '-c', 'create database tzt']);
  url = node.url.replace(/\/defaultdb$/, '/tzt');
});
afterAll(async () => {
  await node.stop();
  node.cleanup();
});

describe('timetz', () => {
  it('reads, prints, orders and casts as PostgreSQL 15 (timetz/timetz.sql through psql)', () => {
    const out = execFileSync('sh', ['-c', `psql -X -a "${url}" -f - 2>&1`], { input: readFileSync(join(dir, 'timetz.sql'), 'utf8'), timeout: 60_000 }).toString();
    expect(out).toBe(readFileSync(join(dir, 'timetz.out'), 'utf8'));
  });

  it('COPY (FORMAT binary) writes PostgreSQL 15 bytes', () => {
    const bin = execFileSync('psql', ['-X', url, '-c', 'copy tz to stdout (format binary)']);
    expect(bin.toString('hex')).toBe(readFileSync(join(dir, 'timetz_copy.hex'), 'utf8'));
  });

  it('psycopg 3 reads and sends time values with a zone in the binary format', () => {
    const py = `
import psycopg, sys, datetime
with psycopg.connect(sys.argv[1]) as c:
    print(c.execute('select t, u, %s::timetz from tz where id = 1', [datetime.time(1, 2, 3, 500000, tzinfo=datetime.timezone(datetime.timedelta(hours=-3)))], binary=True).fetchone())
`;
    const out = execFileSync('/usr/bin/python3', ['-c', py, url], { encoding: 'utf8', timeout: 60_000 });
    // What the same program prints against PostgreSQL 15.
    expect(out).toBe(
      '(datetime.time(12, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=7200))), datetime.time(23, 59, 59, 999999, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=43200))), datetime.time(1, 2, 3, 500000, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=75600))))\n',
    );
  });
});
