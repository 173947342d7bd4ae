import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AmbiguousResultError } from '@strata/common';
import { allocateNodeId, initCounters } from '@strata/cluster';
import { mvccGet } from '@strata/kv';
import type { KvResponse } from '@strata/kv';
import type { Replica } from '@strata/store';
import { TestCluster } from '../src/index.js';

const key = (s: string) => Buffer.concat([Buffer.from([3]), Buffer.from(s)]);

describe('TestCluster', () => {
  it('replicates to three voters, fails over when the leaseholder crashes, and replicas agree', async () => {
    const c = await TestCluster.start({ nodes: 3, seed: 1, dir: mkdtempSync(join(tmpdir(), 'tc-')) });
    try {
      await c.addVoter(2);
      await c.addVoter(3);
      expect(c.descriptor()?.replicas.map((r) => `${r.nodeId}:${r.type}`)).toEqual(['1:voter', '2:voter', '3:voter']);
      const client = c.client();
      for (let i = 0; i < 20; i++) {
        const t = client.txn();
        t.put(key(`k${i}`), Buffer.from(`v${i}`));
        const r = await c.settle(t.commit());
        expect(r.ok).toBe(true);
      }
      const lh = c.leaseholder() as number;
      c.crash(lh);
      const t = client.txn();
      const got = await c.settle(t.get(key('k7')));
      expect(got).toEqual({ ok: true, value: Buffer.from('v7') });
      expect(c.leaseholder()).not.toBe(lh);
      const w = client.txn();
      w.put(key('after'), Buffer.from('x'));
      expect((await c.settle(w.commit())).ok).toBe(true);
      await c.restart(lh);
      const sums = await c.checksums();
      expect(sums.size).toBe(3);
      expect(new Set([...sums.values()].map((s) => s.digest)).size).toBe(1);
    } finally {
      await c.stop();
    }
  });

  it('hands out every counter value once (increment) across clients and a leaseholder crash', async () => {
    const c = await TestCluster.start({ nodes: 3, seed: 3, dir: mkdtempSync(join(tmpdir(), 'tc-')) });
    try {
      await c.addVoter(2);
      await c.addVoter(3);
      const counter = Buffer.from([2, 0x40, 0x63, 0x00]);
      const got: bigint[] = [];
      let ambiguous = 0;
      const clients = [c.client(), c.client()];
      const run = async (i: number) => {
        for (let k = 0; k < 15; ) {
          try {
            const res = await clients[i % 2]!.request(1, { kind: 'increment', key: counter, delta: 1n });
            const r = res.responses[0];
            if (r?.kind === 'increment') got.push(r.value);
            k++;
          } catch (e) {
            // The crash made the outcome unknown: try again (the value may be burnt, never repeated).
            if (!(e instanceof AmbiguousResultError)) throw e;
            ambiguous++;
          }
        }
      };
      const all = Promise.all([run(0), run(1), run(2)]);
      await c.runFor(50);
      c.crash(c.leaseholder() as number);
      const done = await c.settle(all, 60_000);
      expect(done.ok).toBe(true);
      // Every acknowledged value is distinct (an ambiguous attempt may burn a value; none is repeated).
      expect(new Set(got).size).toBe(got.length);
      expect(got.length).toBe(45);
      expect(got.every((v) => v >= 1n && v <= 45n + BigInt(ambiguous))).toBe(true);
    } finally {
      await c.stop();
    }
  });

  it('allocates node ids for joining nodes once each (the initializing node has 1)', async () => {
    const c = await TestCluster.start({ nodes: 3, seed: 4, dir: mkdtempSync(join(tmpdir(), 'tc-')) });
    try {
      await c.addVoter(2);
      await c.addVoter(3);
      const sender = c.client().sender;
      const now = () => c.clientClock.now();
      expect((await c.settle(initCounters(sender, 1, now))).ok).toBe(true);
      const again = await c.settle(initCounters(sender, 1, now));
      expect(again.ok === false && String(again.error)).toMatch(/initialized before/);
      const ids = await c.settle(Promise.all([2, 3, 4, 5].map(() => allocateNodeId(sender, 1, now))));
      expect(ids.ok === true && [...ids.value].sort()).toEqual([3, 4, 5, 6]); // 2 was burnt by the second init
    } finally {
      await c.stop();
    }
  });

  it('serves follower reads: after the read index is applied, a follower reads what the leaseholder would', async () => {
    const c = await TestCluster.start({ nodes: 3, seed: 6, dir: mkdtempSync(join(tmpdir(), 'tc-')) });
    try {
      await c.addVoter(2);
      await c.addVoter(3);
      const client = c.client();
      for (let i = 0; i < 30; i++) {
        const t = client.txn();
        t.put(key('f'), Buffer.from(`v${i}`));
        expect((await c.settle(t.commit())).ok).toBe(true);
        const ri = await c.settle(client.request(1, { kind: 'readIndex' }));
        expect(ri.ok).toBe(true);
        const r = (ri as { value: { responses: KvResponse[] } }).value.responses[0] as Extract<KvResponse, { kind: 'readIndex' }>;
        for (const n of [1, 2, 3]) {
          const rep = c.replica(n, 1) as Replica;
          expect((await c.settle(rep.waitApplied(r.appliedIndex, 5000))).ok).toBe(true);
          expect(mvccGet(rep.host.engine, key('f'), r.readTs)?.value?.toString()).toBe(`v${i}`);
        }
      }
    } finally {
      await c.stop();
    }
  });
});
