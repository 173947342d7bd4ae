import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
});
