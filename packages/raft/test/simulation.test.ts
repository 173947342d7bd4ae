/**
 * The deterministic cluster simulation (sim/cluster.ts) over a fixed set of seeds. Each run checks
 * election safety, log matching, leader completeness, that committed entries never change, that
 * every node applies the same sequence, liveness after healing, and linearizability of the
 * clients' register history. `npm run qa:raft-sim -- --seeds N` runs as many seeds as asked.
 */
import { describe, expect, it } from 'vitest';
import { RaftLog } from '../src/log.js';
import { SimFailure, runSimulation } from '../sim/cluster.js';
import { checkRegisterHistory } from '../sim/linearizability.js';

const seedsPerConfig = 60;

describe.each([3, 5, 7])('simulation with %i voters', (nodes) => {
  it.each(['safe', 'lease-based'] as const)('reads %s: invariants hold over seeded runs', (readOnlyOption) => {
    let committed = 0;
    let snapshots = 0;
    let confChanges = 0;
    let reads = 0;
    for (let seed = 1; seed <= seedsPerConfig; seed++) {
      const r = runSimulation({ seed: seed * 101 + nodes, nodes, ticks: 800, readOnlyOption });
      committed += r.committed;
      snapshots += r.snapshotsSent;
      confChanges += r.confChanges;
      reads += r.ops.reads;
    }
    // The runs must actually exercise replication, snapshots, membership and reads.
    expect(committed).toBeGreaterThan(seedsPerConfig * 50);
    expect(snapshots).toBeGreaterThan(0);
    expect(confChanges).toBeGreaterThan(0);
    expect(reads).toBeGreaterThan(seedsPerConfig * 20);
  });
});

describe('the simulation detects real bugs', () => {
  it('catches a Raft that grants votes without the §5.4.1 up-to-date check, printing the seed', () => {
    const original = RaftLog.prototype.isUpToDate;
    RaftLog.prototype.isUpToDate = () => true;
    let failure: unknown;
    try {
      for (let seed = 1; seed <= 40 && !failure; seed++) {
        try {
          runSimulation({ seed, nodes: 5, ticks: 600 });
        } catch (e) {
          failure = e;
        }
      }
    } finally {
      RaftLog.prototype.isUpToDate = original;
    }
    expect(failure).toBeInstanceOf(SimFailure);
    expect((failure as Error).message).toMatch(/replay: npm run qa:raft-sim -- --seed \d+ --nodes 5/);
  });
});

describe('linearizability checker', () => {
  const w = (v: number, a: number, b: number) => ({ client: 1, kind: 'write' as const, value: v, invokeTime: a, returnTime: b });
  const r = (v: number, a: number, b: number) => ({ client: 2, kind: 'read' as const, value: v, invokeTime: a, returnTime: b });
  it.each([
    ['sequential write then read', [w(1, 0, 1), r(1, 2, 3)], true],
    ['stale read after a completed write', [w(1, 0, 1), r(0, 2, 3)], false],
    ['reads concurrent with a write may see either value', [w(1, 0, 5), r(0, 1, 2), r(1, 3, 4)], true],
    ['a write of unknown outcome may never take effect', [w(1, 0, Infinity), r(0, 1, 2), r(0, 3, 4)], true],
    ['a write of unknown outcome may take effect late', [w(1, 0, Infinity), r(0, 1, 2), r(1, 3, 4)], true],
    ['a value cannot flip back', [w(1, 0, Infinity), r(1, 1, 2), r(0, 3, 4)], false],
  ] as const)('%s', (_name, ops, ok) => {
    expect(checkRegisterHistory(ops, 0).ok).toBe(ok);
  });
});
