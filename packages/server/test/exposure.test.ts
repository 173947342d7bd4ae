/**
 * Exposure: the store directory and the files the node creates in it are private to the user
 * (0700 / 0600, as PostgreSQL requires of its data directory), and insecure mode (no TLS, no
 * passwords: anyone reaching the port is superuser) listens only on loopback addresses unless
 * --accept-insecure-non-loopback says otherwise, which the log then states loudly.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { repoRoot, startNode } from '../../../qa/harness/node.js';

function walk(dir: string, out: { path: string; mode: number; dir: boolean }[] = []): typeof out {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push({ path: p, mode: statSync(p).mode & 0o777, dir: e.isDirectory() });
    if (e.isDirectory()) walk(p, out);
  }
  return out;
}

describe('the store is private', () => {
  it('a new store directory is 0700 and every file the node writes in it is 0600', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'strata-exp-'));
    const dir = join(parent, 'store');
    const node = await startNode(dir);
    try {
      const c = new pg.Client(node.url);
      await c.connect();
      await c.query('create table x (a int primary key)');
      await c.query('insert into x values (1)');
      await c.query('create ts database expts');
      await c.query('create table expts.r (ts timestamptz not null, v int) tags (d int not null) primary tags (d)');
      await c.query("insert into expts.r values ('2024-01-01 00:00:00+00', 1, 1)");
      await c.end();
      await node.restart(); // flushes the TS buffers to files
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      const entries = walk(dir);
      expect(entries.filter((e) => !e.dir).length).toBeGreaterThan(2);
      for (const e of entries) expect({ path: e.path, mode: (e.mode & 0o077).toString(8) }).toEqual({ path: e.path, mode: '0' });
    } finally {
      await node.stop();
      node.cleanup();
    }
  });

  it('an existing store directory open to others is tightened to 0700', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'strata-exp-')), 'store');
    mkdirSync(dir, { mode: 0o755 });
    const node = await startNode(dir);
    try {
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    } finally {
      await node.stop();
      node.cleanup();
    }
  });
});

describe('insecure mode listens on loopback only', () => {
  it.each([['--listen-addr=0.0.0.0:0'], ['--http-addr=0.0.0.0:0'], ['--listen-addr=[::]:0']])('refuses %s without --accept-insecure-non-loopback', async (flag) => {
    const outcome = await startNode(undefined, { args: [flag] }).then(
      async (n) => {
        await n.stop(); // it should not have started; do not leave it running
        n.cleanup();
        return 'started';
      },
      (e: unknown) => String(e),
    );
    expect(outcome).toMatch(/--accept-insecure-non-loopback/);
  });

  it('listens on a non-loopback address when told to, and says so loudly in the log', async () => {
    const node = await startNode(undefined, { args: ['--listen-addr=0.0.0.0:0', '--accept-insecure-non-loopback'] });
    try {
      const c = new pg.Client(node.url);
      await c.connect();
      expect((await c.query('select 1 as one')).rows[0].one).toBe(1);
      await c.end();
    } finally {
      await node.stop(); // the log is written asynchronously; all of it is out once the node exits
      node.cleanup();
    }
    expect(node.stderr).toMatch(/"level":40.*INSECURE.*0\.0\.0\.0/);
  });

  it('--help documents the new flags', () => {
    const help = execFileSync(process.execPath, [join(repoRoot, 'packages', 'cli', 'bin', 'strata.js'), 'start-single-node', '--help']).toString();
    for (const flag of ['--accept-insecure-non-loopback', '--max-connections', '--authentication-timeout']) expect(help).toContain(flag);
  });
});
