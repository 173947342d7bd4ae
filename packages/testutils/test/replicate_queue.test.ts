import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeStatusRows, readNodes } from '@strata/cluster';
import { readMetaRecord } from '@strata/store';
import { TestCluster } from '../src/index.js';

// Node liveness + the replicate queue on a five-node simulated cluster: the range grows from one
// voter to three by itself, a node dead past the threshold is replaced, a decommissioned node is
// drained, and the replicas agree afterwards.
const key = (s: string) => Buffer.concat([Buffer.from([3]), Buffer.from(s)]);
const liveness = { heartbeatMs: 500, expiryMs: 1500, timeUntilStoreDeadMs: 5000 };

describe('replicate queue', () => {
  it('up-replicates to three voters, replaces a dead node, drains a decommissioning one', async () => {
    const c = await TestCluster.start({ nodes: 5, seed: 5, dir: mkdtempSync(join(tmpdir(), 'rq-')), liveness });
    try {
      const voters = () => (c.descriptor()?.replicas ?? []).filter((r) => r.type === 'voter').map((r) => r.nodeId).sort();
      const client = c.client();
      const t = client.txn();
      t.put(key('a'), Buffer.from('1'));
      expect((await c.settle(t.commit())).ok).toBe(true);
      expect(await c.waitFor(() => voters().length === 3, 30_000)).toBe(true);
      expect(c.descriptor()?.replicas.length).toBe(3); // no learner left behind
      // The liveness range (range 2) was up-replicated too, and its leaseholder published its
      // descriptor to the meta range: every replica of range 1 has the record, at its generation.
      const metaOf = (n: number) => {
        const st = c.nodes.get(n)?.store;
        return st ? readMetaRecord(st.engine, 2) : null;
      };
      expect(
        await c.waitFor(() => {
          const d = c.descriptor(2);
          return !!d && d.replicas.filter((r) => r.type === 'voter').length === 3 && voters().every((n) => metaOf(n)?.generation === d.generation);
        }, 30_000),
      ).toBe(true);
      expect(metaOf(voters()[0] as number)?.replicas).toEqual(c.descriptor(2)?.replicas);

      // A voter's node dies for good: after the threshold another node takes its place.
      const victim = voters().find((n) => n !== c.leaseholder()) as number;
      c.crash(victim);
      const crashedAt = c.sched.now;
      expect(await c.waitFor(() => voters().length === 3 && !voters().includes(victim), 60_000)).toBe(true);
      expect(c.sched.now - crashedAt).toBeGreaterThan(liveness.timeUntilStoreDeadMs); // not before it was declared dead

      // Decommissioning a voter's node moves its replica away (the leaseholder's too: it hands its lease over first).
      const lh = c.leaseholder() as number;
      const n = c.nodes.get(lh)?.liveness;
      expect((await c.settle(n!.setMembership(lh, 'decommissioning'))).ok).toBe(true);
      expect(await c.waitFor(() => voters().length === 3 && !voters().includes(lh), 60_000)).toBe(true);

      const w = client.txn();
      w.put(key('b'), Buffer.from('2'));
      expect((await c.settle(w.commit())).ok).toBe(true);
      // The registry and liveness records say the same: four nodes live, one decommissioning.
      // (Registry entries are rewritten at each heartbeat: the drained node's count reaches 0 at its next one.)
      let rows: ReturnType<typeof nodeStatusRows> = [];
      for (let attempt = 0; attempt < 20; attempt++) {
        const reader = client.txn(); // (a concurrent heartbeat may fail a read with 40001: try again)
        const got = await c.settle(readNodes(reader));
        if (got.ok === true) rows = nodeStatusRows(got.value, n!.snapshot(), c.nodes.get(lh)!.timers.now());
        if (rows.find((r) => r.id === lh)?.replicas === 0) break;
        await c.waitFor(() => false, liveness.heartbeatMs);
      }
      expect(rows.map((r) => `${r.id}:${r.is_live ? 'live' : 'dead'}:${r.membership}`)).toEqual(
        [1, 2, 3, 4, 5].map((id) => `${id}:${id === victim ? 'dead' : 'live'}:${id === lh ? 'decommissioning' : 'active'}`),
      );
      expect(rows.find((r) => r.id === lh)?.replicas).toBe(0);
      const sums = await c.checksums();
      expect(new Set([...sums.values()].map((s) => s.digest)).size).toBe(1);
      expect([...sums.keys()].sort()).toEqual(voters());
    } finally {
      await c.stop();
    }
  });

  it('keeps non-voting replicas on the other nodes and promotes one when a voter dies', async () => {
    const c = await TestCluster.start({ nodes: 5, seed: 9, dir: mkdtempSync(join(tmpdir(), 'rq-')), liveness: { ...liveness, nonVotersEverywhere: true } });
    try {
      const of = (type: string) => (c.descriptor()?.replicas ?? []).filter((r) => r.type === type).map((r) => r.nodeId).sort();
      const client = c.client();
      const t = client.txn();
      t.put(key('a'), Buffer.from('1'));
      expect((await c.settle(t.commit())).ok).toBe(true);
      expect(await c.waitFor(() => of('voter').length === 3 && of('learner').length === 2, 60_000)).toBe(true);
      const victim = of('voter').find((n) => n !== c.leaseholder()) as number;
      const learnersBefore = of('learner');
      c.crash(victim);
      // A caught-up learner becomes the third voter (no new snapshot needed); the dead one goes.
      expect(await c.waitFor(() => of('voter').length === 3 && !of('voter').includes(victim) && !of('learner').includes(victim), 60_000)).toBe(true);
      expect(of('voter').some((n) => learnersBefore.includes(n))).toBe(true);
      const w = client.txn();
      w.put(key('b'), Buffer.from('2'));
      expect((await c.settle(w.commit())).ok).toBe(true);
      const sums = await c.checksums();
      expect(new Set([...sums.values()].map((s) => s.digest)).size).toBe(1);
      expect(sums.size).toBe(4);
    } finally {
      await c.stop();
    }
  });

  it('keeps a voter whose node is briefly not live (down for less than the dead threshold)', async () => {
    const c = await TestCluster.start({ nodes: 3, seed: 11, dir: mkdtempSync(join(tmpdir(), 'rq-')), liveness });
    try {
      const voters = () => (c.descriptor()?.replicas ?? []).filter((r) => r.type === 'voter').map((r) => r.nodeId).sort();
      const client = c.client();
      const t = client.txn();
      t.put(key('a'), Buffer.from('1'));
      expect((await c.settle(t.commit())).ok).toBe(true);
      expect(await c.waitFor(() => voters().length === 3, 30_000)).toBe(true);
      const down = voters().find((n) => n !== c.leaseholder()) as number;
      c.crash(down);
      // Past its liveness expiry (1.5 s), short of the dead threshold (5 s): the voter stays (a
      // queue counting only live nodes would want two voters and remove a healthy one).
      let removed = false;
      await c.waitFor(() => {
        if (voters().length !== 3) removed = true;
        return removed;
      }, 4_000);
      expect(voters()).toEqual([1, 2, 3]);
      await c.restart(down);
      const w = client.txn();
      w.put(key('b'), Buffer.from('2'));
      expect((await c.settle(w.commit())).ok).toBe(true);
      expect(await c.waitFor(() => false, 3_000)).toBe(false);
      expect(voters()).toEqual([1, 2, 3]);
    } finally {
      await c.stop();
    }
  });
});
