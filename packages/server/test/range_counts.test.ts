/**
 * The range health a node reports (range_counts.ts): each range's availability counted by exactly
 * one node of the cluster, whatever the lease and liveness situation.
 */
import { describe, expect, it } from 'vitest';
import { rangeCounts, reportsRange } from '../src/range_counts.js';
import type { LivenessView, RangeView } from '../src/range_counts.js';

const view = (nodeId: number, live: number[], activeNodes = 3, replicationFactor = 3): LivenessView => ({ nodeId, isLive: (n) => live.includes(n), replicationFactor: () => replicationFactor, activeNodes });
const range = (o: Partial<RangeView>): RangeView => ({ rangeId: 1, voters: [1, 2, 3], learners: [], holdsLease: false, leaseRecordNodeId: null, ...o });

describe('range counts', () => {
  it('counts a healthy range once, on its leaseholder', () => {
    const live = [1, 2, 3];
    const per = [1, 2, 3].map((n) => rangeCounts([range({ holdsLease: n === 2, leaseRecordNodeId: 2 })], view(n, live)));
    expect(per.map((c) => c.replicas)).toEqual([1, 1, 1]);
    expect(per.map((c) => c.leaseholders)).toEqual([0, 1, 0]);
    expect(per.reduce((s, c) => s + c.unavailable + c.underReplicated, 0)).toBe(0);
  });

  it('reports a range with one dead voter as under-replicated (not unavailable), once', () => {
    const live = [1, 2];
    const per = [1, 2].map((n) => rangeCounts([range({ holdsLease: n === 1, leaseRecordNodeId: 1 })], view(n, live)));
    expect(per.map((c) => c.underReplicated)).toEqual([1, 0]);
    expect(per.map((c) => c.unavailable)).toEqual([0, 0]);
  });

  it('does not call a range under-replicated when the cluster has fewer nodes than the replication factor', () => {
    // Two nodes, both voters: min(3, 2) = 2 voters is all the cluster can have.
    const c = rangeCounts([range({ voters: [1, 2], holdsLease: true, leaseRecordNodeId: 1 })], view(1, [1, 2], 2));
    expect(c.underReplicated).toBe(0);
  });

  it('has the lowest live voter report a range whose leaseholder is dead, as unavailable when a majority is gone', () => {
    const r = range({ leaseRecordNodeId: 3 });
    const live = [2];
    expect(reportsRange(r, view(2, live))).toBe(true);
    const c = rangeCounts([r], view(2, live));
    expect(c).toEqual({ replicas: 1, leaseholders: 0, unavailable: 1, underReplicated: 1 });
    // With nodes 1 and 2 live, node 1 reports it (still available: 2 of 3 voters).
    expect(reportsRange(r, view(2, [1, 2]))).toBe(false);
    expect(rangeCounts([r], view(1, [1, 2]))).toEqual({ replicas: 1, leaseholders: 0, unavailable: 0, underReplicated: 1 });
  });

  it('leaves a range whose lease record names a live node to that node, and a non-voter never reports', () => {
    const r = range({ voters: [1, 2, 3], learners: [4], leaseRecordNodeId: 2 });
    expect(reportsRange(r, view(1, [1, 2, 3, 4]))).toBe(false);
    expect(reportsRange(range({ voters: [1, 2, 3], learners: [4], leaseRecordNodeId: null }), view(4, [4, 1]))).toBe(false);
  });
});
