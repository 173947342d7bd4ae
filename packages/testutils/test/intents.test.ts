import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgError } from '@strata/common';
import { mvccIntentsOf } from '@strata/kv';
import { describe, expect, it } from 'vitest';
import { TestCluster } from '../src/index.js';
import type { Client } from '../src/index.js';

// Write intents and transaction records on a three-node simulated cluster (calm network):
// visibility, writers waiting, deadlock detection, pushing a dead coordinator, rollback.
const key = (s: string) => Buffer.concat([Buffer.from([3]), Buffer.from(s)]);
const str = (b: Buffer | null) => b?.toString() ?? null;

async function withCluster(f: (c: TestCluster, client: Client) => Promise<void>): Promise<void> {
  const c = await TestCluster.start({ nodes: 3, seed: 11, dir: mkdtempSync(join(tmpdir(), 'intents-')) });
  try {
    await c.addVoter(2);
    await c.addVoter(3);
    const client = c.client();
    const init = client.txn();
    init.put(key('a'), Buffer.from('a0'));
    init.put(key('b'), Buffer.from('b0'));
    expect((await c.settle(init.commit())).ok).toBe(true);
    await f(c, client);
    // Whatever happened: no intent or transaction record is left, and the replicas agree.
    for (const n of c.nodeIds()) {
      const engine = c.nodes.get(n)?.store?.engine;
      if (!engine) continue;
      const left: string[] = [];
      for (const { key: k, value } of engine.scan(Buffer.from([3]), Buffer.from([4]))) if (value[0] === 2) left.push(k.toString('latin1'));
      expect(left).toEqual([]);
    }
    const sums = await c.checksums();
    expect(new Set([...sums.values()].map((s) => s.digest)).size).toBe(1);
  } finally {
    await c.stop();
  }
}

async function read(c: TestCluster, client: Client, k: string): Promise<string | null> {
  const t = client.txn();
  const r = await c.settle(t.get(key(k)));
  if (r.ok !== true) throw new Error(`read of ${k} failed: ${r.ok === false ? String(r.error) : 'timeout'}`);
  return str(r.value);
}

describe('write intents', () => {
  it('are seen by their transaction only, and become the committed values at commit', async () => {
    await withCluster(async (c, client) => {
      const t1 = client.txn();
      t1.put(key('a'), Buffer.from('a1'));
      t1.del(key('b'));
      t1.put(key('c'), Buffer.from('c1'));
      expect((await c.settle(t1.flush())).ok).toBe(true);
      // Own reads see the provisional values; others read through them.
      expect(str((await c.settle(t1.get(key('a'))) as { value: Buffer | null }).value)).toBe('a1');
      const own = await c.settle(t1.scan(key(''), key('z')));
      expect(own.ok === true && own.value.map((r) => r.value.toString())).toEqual(['a1', 'c1']);
      expect(await read(c, client, 'a')).toBe('a0');
      expect(await read(c, client, 'b')).toBe('b0');
      expect(await read(c, client, 'c')).toBe(null);
      const other = await c.settle(client.txn().scan(key(''), key('z')));
      expect(other.ok === true && other.value.map((r) => r.value.toString())).toEqual(['a0', 'b0']);
      // A reader that read `a` before the commit and commits after it is ordered before it.
      t1.put(key('d'), Buffer.from('d1')); // and a buffered write beside the intents
      const done = await c.settle(t1.commit());
      expect(done.ok).toBe(true);
      expect(await read(c, client, 'a')).toBe('a1');
      expect(await read(c, client, 'b')).toBe(null);
      expect(await read(c, client, 'c')).toBe('c1');
      expect(await read(c, client, 'd')).toBe('d1');
    });
  });

  it('make other writers wait until the transaction commits; the waiter then commits after it', async () => {
    await withCluster(async (c, client) => {
      const t1 = client.txn();
      t1.put(key('a'), Buffer.from('a1'));
      expect((await c.settle(t1.flush())).ok).toBe(true);
      const t2 = client.txn();
      t2.put(key('a'), Buffer.from('a2'));
      let t2Done = false;
      const p2 = t2.commit().finally(() => (t2Done = true));
      await c.runFor(800);
      expect(t2Done).toBe(false); // waiting on t1's intent (heartbeats keep t1 alive)
      const r1 = await c.settle(t1.commit());
      const r2 = await c.settle(p2);
      expect(r1.ok && r2.ok).toBe(true);
      expect((r2 as { value: bigint }).value).toBeGreaterThan((r1 as { value: bigint }).value);
      expect(await read(c, client, 'a')).toBe('a2');
    });
  });

  it('detect a deadlock between two writers: one fails with 40P01, the other commits', async () => {
    await withCluster(async (c, client) => {
      const t1 = client.txn();
      const t2 = client.txn();
      t1.put(key('a'), Buffer.from('a1'));
      t2.put(key('b'), Buffer.from('b2'));
      expect((await c.settle(t1.flush())).ok).toBe(true);
      expect((await c.settle(t2.flush())).ok).toBe(true);
      t1.put(key('b'), Buffer.from('b1'));
      t2.put(key('a'), Buffer.from('a2'));
      const [r1, r2] = await Promise.all([c.settle(t1.commit()), c.settle(t2.commit())]);
      const outcomes = [r1, r2].map((r) => (r.ok === true ? 'ok' : r.ok === false && r.error instanceof PgError ? r.error.code : String(r.ok === false ? r.error : 'timeout')));
      expect(outcomes.sort()).toEqual(['40P01', 'ok']);
      const winner = r1.ok === true ? '1' : '2';
      await c.runFor(200); // the loser's intents are removed in the background
      expect([await read(c, client, 'a'), await read(c, client, 'b')]).toEqual([`a${winner}`, `b${winner}`]);
    });
  });

  it('of a coordinator that stopped heartbeating are removed by the next writer once its record expires; the coordinator then learns it was aborted', async () => {
    await withCluster(async (c, client) => {
      const zombie = client.txn({ heartbeatMs: 1e9 });
      zombie.put(key('a'), Buffer.from('zombie'));
      expect((await c.settle(zombie.flush())).ok).toBe(true);
      const t2 = client.txn();
      t2.put(key('a'), Buffer.from('a2'));
      const start = c.sched.now;
      const r2 = await c.settle(t2.commit());
      expect(r2.ok === false ? String(r2.error) : r2.ok).toBe(true);
      expect(c.sched.now - start).toBeGreaterThan(1000); // waited for the record to expire (1.5 s)
      expect(await read(c, client, 'a')).toBe('a2');
      const z = await c.settle(zombie.commit());
      expect(z.ok === false && z.error instanceof PgError && z.error.code).toBe('40001');
      expect(String((z as { error: Error }).error.message)).toMatch(/TransactionAbortedError/);
      expect(await read(c, client, 'a')).toBe('a2');
    });
  });

  it('of a dead coordinator that no writer meets are removed by the GC queue once its record expires', async () => {
    await withCluster(async (c, client) => {
      const t = client.txn();
      t.put(key('a'), Buffer.from('never'));
      expect((await c.settle(t.flush())).ok).toBe(true);
      t.abandon();
      await c.runFor(4000); // expiry (1.5 s) + a GC pass (every 1 s); withCluster checks nothing is left
      expect(await read(c, client, 'a')).toBe('a0');
    });
  });

  it('of a coordinator open on the node of the leaseholder are not aborted by its GC queue, however old the record looks', async () => {
    await withCluster(async (c, client) => {
      const t = client.txn();
      t.put(key('a'), Buffer.from('alive'));
      expect((await c.settle(t.flush())).ok).toBe(true);
      t.abandon(); // no heartbeat from here on: the record expires
      // The leaseholder's node says the transaction is open there (its coordinator is local and
      // alive, it only stalled): the GC queue leaves it alone.
      const lh = c.leaseholder() as number;
      const open = c.store(lh).queues.gc.openTxns;
      open.set(t.id, c.store(lh).clock.now());
      await c.runFor(4000); // expiry (1.5 s) + GC passes (every 1 s)
      const rec = [...c.store(lh).engine.scan(Buffer.from([1]), Buffer.from([2]))].filter((x) => x.key.includes(Buffer.from(t.id)));
      expect(rec.length).toBe(1);
      // Once it is no longer open there, the next pass aborts it (withCluster checks nothing is left).
      // (A read wakes the range, quiesced meanwhile: the GC queue works on ranges whose lease is valid.)
      open.delete(t.id);
      await c.runFor(6000); // past the GC TTL (5 s) the threshold the open transaction held back moves on
      expect(await read(c, client, 'b')).toBe('b0');
      await c.runFor(3000);
      expect(await read(c, client, 'a')).toBe('a0');
    });
  });

  it('are removed by a rollback', async () => {
    await withCluster(async (c, client) => {
      const t1 = client.txn();
      for (let i = 0; i < 50; i++) t1.put(key(`r${i}`), Buffer.from('x'));
      expect((await c.settle(t1.flush())).ok).toBe(true);
      const lh = c.leaseholder() as number;
      const intents = [...mvccIntentsOf(c.nodes.get(lh)?.store?.engine as never, key(''), key('z'), t1.id)];
      expect(intents.length).toBe(50);
      expect((await c.settle(t1.rollback())).ok).toBe(true);
      expect(await read(c, client, 'r7')).toBe(null);
    });
  });
});
