/**
 * Nothing acknowledged is lost: SIGKILL during a sustained load, restart, every acknowledged
 * write is there; a torn tail of the raft log is detected by its checksum and never applied.
 */
import { appendFileSync, readFileSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

const nodes: TestNode[] = [];
afterAll(async () => {
  for (const n of nodes) {
    await n.kill();
    n.cleanup();
  }
});

function lastSegment(dir: string): string {
  const logDir = join(dir, 'raft-log');
  const segs = readdirSync(logDir).filter((f) => f.endsWith('.log')).sort();
  return join(logDir, segs[segs.length - 1] as string);
}

describe('durability', () => {
  it('keeps every acknowledged write when killed with SIGKILL under load', async () => {
    const node = await startNode();
    nodes.push(node);
    const setup = new pg.Client(node.url);
    await setup.connect();
    await setup.query('create table acked (k int primary key, v text)');
    await setup.end();

    // 8 writers insert as fast as they can; each records the keys whose COMMIT was acknowledged.
    const acked = new Set<number>();
    let next = 0;
    let stop = false;
    const writer = async () => {
      const c = new pg.Client(node.url);
      c.on('error', () => {});
      await c.connect();
      try {
        while (!stop) {
          const k = next++;
          await c.query('insert into acked values ($1, $2)', [k, `v${k}`]);
          acked.add(k);
        }
      } catch {
        // the server died under us: the in-flight insert's fate is unknown, which is fine
      }
    };
    const writers = Array.from({ length: 8 }, writer);
    // Kill once enough commits were acknowledged (however fast this machine is today).
    for (let waited = 0; acked.size <= 200 && waited < 60_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    await node.kill();
    stop = true;
    await Promise.all(writers);
    expect(acked.size).toBeGreaterThan(100);

    await node.start();
    const c = new pg.Client(node.url);
    await c.connect();
    const r = await c.query('select k, v from acked');
    const present = new Map(r.rows.map((x: { k: number; v: string }) => [x.k, x.v]));
    const missing = [...acked].filter((k) => present.get(k) !== `v${k}`);
    expect(missing).toEqual([]);
    // Nothing unacknowledged beyond the ones in flight at the kill (at most one per writer).
    expect(present.size - acked.size).toBeLessThanOrEqual(8);
    await c.end();
  });

  it('ignores a torn tail of the log (bad checksum or cut short) and keeps everything before it', async () => {
    const node = await startNode();
    nodes.push(node);
    const c = new pg.Client(node.url);
    await c.connect();
    await c.query('create table torn (k int primary key)');
    for (let i = 0; i < 20; i++) await c.query('insert into torn values ($1)', [i]);
    await c.end();
    await node.kill();

    // A record cut short: a header promising 1000 bytes, then only a few.
    const seg = lastSegment(node.dir);
    const h = Buffer.alloc(8);
    h.writeUInt32BE(1000, 0);
    h.writeUInt32BE(0xdeadbeef, 4);
    appendFileSync(seg, Buffer.concat([h, Buffer.from('partial write')]));
    await node.start();
    let c2 = new pg.Client(node.url);
    await c2.connect();
    expect((await c2.query('select count(*)::int as n from torn')).rows[0].n).toBe(20);
    await c2.query('insert into torn values (100)');
    await c2.end();
    await node.kill();

    // A complete record whose checksum does not match its payload.
    const seg2 = lastSegment(node.dir);
    const payload = Buffer.from('garbage payload that is not a raft record');
    const h2 = Buffer.alloc(8);
    h2.writeUInt32BE(payload.length, 0);
    h2.writeUInt32BE(12345, 4);
    appendFileSync(seg2, Buffer.concat([h2, payload]));
    const sizeBefore = statSync(seg2).size;
    await node.start();
    expect(node.stderr).toMatch(/torn tail of the raft log ignored/);
    c2 = new pg.Client(node.url);
    await c2.connect();
    const r = await c2.query('select count(*)::int as n, max(k) as m from torn');
    expect(r.rows[0]).toEqual({ n: 21, m: 100 });
    await c2.end();
    // The torn bytes were truncated away (the node has written new records since).
    expect(readFileSync(seg2).includes(payload)).toBe(false);
    expect(sizeBefore).toBeGreaterThan(0);
  });

  it('refuses to start on corruption in the middle of the log (not a torn tail)', async () => {
    const node = await startNode();
    nodes.push(node);
    const c = new pg.Client(node.url);
    await c.connect();
    await c.query('create table mid (k int primary key)');
    await c.query('insert into mid values (1)');
    await c.end();
    await node.stop();
    // Flip bytes inside the first record, then add a valid-looking second segment so the damage
    // is not at the tail of the last segment.
    const seg = lastSegment(node.dir);
    const size = statSync(seg).size;
    truncateSync(seg, Math.max(0, size - 3));
    appendFileSync(seg, Buffer.from([1, 2, 3]));
    appendFileSync(join(node.dir, 'raft-log', '99999999.log'), Buffer.alloc(0));
    await expect(node.start()).rejects.toThrow(/corrupt|exited/);
    node.proc = null;
  });
});
