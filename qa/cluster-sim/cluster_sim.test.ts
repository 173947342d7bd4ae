/**
 * A short seeded slice of the cluster simulation (npm run qa:cluster-sim runs thousands of seeds):
 * a few three- and five-node runs under every nemesis, each checked for linearizable registers,
 * constant bank totals, exactly-once TS rows and equal replica checksums.
 */
import { describe, expect, it } from 'vitest';
import { runClusterSim } from './sim.js';

describe('cluster simulation (seeded slice)', () => {
  for (const [nodes, seeds] of [
    [3, [1, 2, 3, 4, 5, 6]],
    [5, [1001, 1002]],
  ] as const) {
    it(`${nodes} nodes, seeds ${seeds.join(', ')}`, async () => {
      for (const seed of seeds) {
        const r = await runClusterSim({ seed, nodes, durationMs: 12_000 });
        expect({ seed, failures: r.failures }).toEqual({ seed, failures: [] });
        expect(r.stats['reg.write.ok'] ?? 0).toBeGreaterThan(10);
        expect(r.stats['ts.write.ok'] ?? 0).toBeGreaterThan(10);
      }
    });
  }
});
