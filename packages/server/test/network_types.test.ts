/**
 * The network address types inet and cidr (issue 12) through real clients against a Strata
 * process, compared with PostgreSQL 15: psql runs inet/inet.sql (IPv4 and IPv6 input with
 * PostgreSQL's abbreviations and errors, output with `::` compression and embedded IPv4, text and
 * inet↔cidr casts, host/masklen/family/network/broadcast/netmask/hostmask/abbrev/set_masklen,
 * << <<= >> >>= &&, ordering, a table with inet and cidr columns, GROUP BY, joins on
 * containment, COPY); COPY … (FORMAT binary) writes PostgreSQL's bytes; psycopg 3 sends and
 * receives ipaddress objects in binary. Recorded from PostgreSQL 15 in an empty database:
 *   psql -X -a DB -f - < inet/inet.sql > inet/inet.out 2>&1
 *   psql -X DB -c "copy (select id, addr, net from hosts order by id) to stdout (format binary)" | xxd -p | tr -d '\n' > inet/inet_copy.hex
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

const dir = join(import.meta.dirname, 'inet');
let node: TestNode;
let url: string;

beforeAll(async () => {
  node = await startNode();
  execFileSync('psql', ['-X', '-q', node.url, '-c', 'create database inett']);
  url = node.url.replace(/\/defaultdb$/, '/inett');
});
afterAll(async () => {
  await node.stop();
  node.cleanup();
});

describe('inet and cidr', () => {
  it('read, print, compute and fail as PostgreSQL 15 (inet/inet.sql through psql)', () => {
    const out = execFileSync('sh', ['-c', `psql -X -a "${url}" -f - 2>&1`], { input: readFileSync(join(dir, 'inet.sql'), 'utf8'), timeout: 60_000 }).toString();
    expect(out).toBe(readFileSync(join(dir, 'inet.out'), 'utf8'));
  });

  it('COPY (FORMAT binary) writes PostgreSQL 15 bytes', () => {
    const bin = execFileSync('psql', ['-X', url, '-c', 'copy (select id, addr, net from hosts order by id) to stdout (format binary)']);
    expect(bin.toString('hex')).toBe(readFileSync(join(dir, 'inet_copy.hex'), 'utf8'));
  });

  it('psycopg 3 sends and receives ipaddress values in the binary format', () => {
    const py = `
import psycopg, sys, ipaddress
with psycopg.connect(sys.argv[1]) as c:
    print(c.execute('select addr, net, %s::inet, %s::cidr from hosts where id in (2, 3) order by id', [ipaddress.ip_interface('10.1.2.3/8'), ipaddress.ip_network('2001:db8::/32')], binary=True).fetchall())
    print(c.execute('select %s, %s', [ipaddress.ip_address('::1'), ipaddress.ip_network('10.0.0.0/8')]).fetchone())
`;
    const out = execFileSync('/usr/bin/python3', ['-c', py, url], { encoding: 'utf8', timeout: 60_000 });
    // What the same program prints against PostgreSQL 15.
    expect(out).toBe(
      "[(IPv4Interface('192.168.1.20/24'), IPv4Network('192.168.0.0/16'), IPv4Interface('10.1.2.3/8'), IPv6Network('2001:db8::/32')), (IPv6Address('2001:db8::5'), IPv6Network('2001:db8::/48'), IPv4Interface('10.1.2.3/8'), IPv6Network('2001:db8::/32'))]\n(IPv6Address('::1'), IPv4Network('10.0.0.0/8'))\n",
    );
  });
});
