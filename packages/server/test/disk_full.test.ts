/**
 * A full disk loses nothing (issue 10): a real node on a small tmpfs takes relational and
 * time-series writes until the leaseholder refuses them with 53100 (before space runs out — the
 * store keeps a reserve, and TS writes stop at ts.disk_free_space.alert_threshold); reads keep
 * working; SIGTERM stops the node; after a restart with more space every acknowledged row is there
 * exactly once. Needs root to mount a tmpfs (CI runs as root); skipped otherwise.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { TestNode } from '../../../qa/harness/node.js';

function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'strata-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** Random hex: incompressible, so rows take their size on disk. */
const noise = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');

describe.skipIf(!canMount())('a full disk', () => {
  it('refuses writes with 53100, keeps serving reads, stops on SIGTERM, and loses nothing', async () => {
    const mnt = mkdtempSync(join(tmpdir(), 'strata-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=200m,mode=0700', 'tmpfs', mnt]);
    const storeDir = join(mnt, 'store');
    mkdirSync(storeDir);
    const node = new TestNode(storeDir);
    try {
      await node.start();
      const c = new pg.Client(node.url);
      await c.connect();
      await c.query('create table rel (id int primary key, pad text)');
      await c.query('create ts database iot');
      await c.query("set cluster setting ts.disk_free_space.alert_threshold = '64000000'");
      const ts = new pg.Client(node.url.replace('/defaultdb', '/iot'));
      await ts.connect();
      await ts.query('create table r (ts timestamptz not null, v varchar(1000)) tags (d int4 not null) primary tags (d)');

      // TS rows until the threshold refuses them: 1,000 rows (~1 MB, one command) per INSERT.
      let tsAcked = 0;
      let tsMaybe = 0;
      let tsRefused = 0;
      for (let batch = 0; batch < 400 && tsRefused < 2; batch++) {
        const values = Array.from({ length: 1000 }, (_x, i) => `('2026-01-01 00:00:00+00'::timestamptz + interval '${tsAcked + tsMaybe + i} seconds', '${noise(900)}', ${batch % 7})`).join(',');
        try {
          await ts.query(`insert into r values ${values}`);
          tsAcked += 1000;
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code === '53100') {
            tsRefused++;
            expect((e as Error).message).toMatch(/disk free|alert_threshold/);
          } else if (code === '40003') tsMaybe += 1000;
          else throw e;
        }
      }
      expect(tsRefused).toBeGreaterThan(0);
      expect(tsAcked).toBeGreaterThan(10_000);

      // Relational rows until the store's own reserve refuses them.
      const relAcked: number[] = [];
      let relRefused = false;
      for (let i = 0; i < 100_000 && !relRefused; i++) {
        try {
          await c.query('insert into rel values ($1, $2)', [i, noise(20_000)]);
          relAcked.push(i);
        } catch (e) {
          expect((e as { code?: string }).code).toBe('53100');
          relRefused = true;
        }
      }
      expect(relRefused).toBe(true);

      console.log(`TS rows acknowledged ${tsAcked} (ambiguous ${tsMaybe}, refused ${tsRefused}); relational rows acknowledged ${relAcked.length}`);
      // Reads keep working on the full store.
      expect(Number((await ts.query('select count(*) as n from r')).rows[0].n)).toBe(tsAcked);
      expect(Number((await c.query('select count(*) as n from rel')).rows[0].n)).toBe(relAcked.length);
      await c.end();
      await ts.end();

      // SIGTERM stops the node on a full disk.
      expect(await node.stop()).toBe(0);

      // More space, restart: every acknowledged row, once.
      execFileSync('mount', ['-o', 'remount,size=600m', mnt]);
      await node.start();
      const c2 = new pg.Client(node.url);
      await c2.connect();
      const ids = (await c2.query('select id from rel order by id')).rows.map((r: { id: number }) => r.id);
      expect(ids).toEqual(relAcked);
      await c2.end();
      const ts2 = new pg.Client(node.url.replace('/defaultdb', '/iot'));
      await ts2.connect();
      const n = Number((await ts2.query('select count(*) as n from r')).rows[0].n);
      expect(n).toBeGreaterThanOrEqual(tsAcked);
      expect(n).toBeLessThanOrEqual(tsAcked + tsMaybe);
      expect(Number((await ts2.query('select count(*) as n from (select ts, d from r group by ts, d having count(*) > 1) x')).rows[0].n)).toBe(0);
      // And the store takes writes again.
      await ts2.query(`insert into r values ('2030-01-01', 'after', 1)`);
      await ts2.end();
      await node.stop();
    } finally {
      if (node.proc && node.proc.exitCode === null) node.proc.kill('SIGKILL');
      try {
        execFileSync('umount', ['-l', mnt]);
      } catch {
        // already unmounted
      }
      rmSync(mnt, { recursive: true, force: true });
    }
  });
});
