/**
 * The range health a node reports (CockroachDB's store-level range counts), computed from its
 * replicas and its view of node liveness, without I/O.
 *
 * Every node reports its own replicas and the leases it holds. A range's availability is reported
 * by one node only, so that a sum over the cluster counts each range once:
 *   - the node holding the range's valid lease, or
 *   - when the lease record names a node that is not live (nobody can be serving the range), the
 *     live voter with the lowest node id that this node sees — this node if that is itself.
 * A range whose lease record names a live node that has in fact lost its lease is counted by
 * nobody until a lease is re-established; the alert on unavailable ranges therefore pairs with
 * the one on dead nodes (which always fires in that situation).
 *
 *   unavailable      live voters < a majority of the voters: no write can commit;
 *   under-replicated live voters < min(replication factor, active nodes): the replicate
 *                    queue has work left (a dead voter not replaced yet, a learner not promoted).
 */

export interface RangeView {
  rangeId: number;
  /** Node ids of the voters, and of the non-voting replicas. */
  voters: number[];
  learners: number[];
  /** This node holds a valid lease on the range. */
  holdsLease: boolean;
  /** The node the replicated lease record names (null: no lease yet). */
  leaseRecordNodeId: number | null;
}

export interface LivenessView {
  nodeId: number;
  isLive: (nodeId: number) => boolean;
  /** Voters a range should have (its zone configuration's num_replicas). */
  replicationFactor: (rangeId: number) => number;
  /**
   * Nodes of the cluster that are not decommissioning or decommissioned, live or not: a dead
   * node's replicas are missing until the replicate queue replaces them (CockroachDB's
   * GetNeededVoters caps the replication factor by this count too).
   */
  activeNodes: number;
}

export interface RangeCounts {
  replicas: number;
  leaseholders: number;
  unavailable: number;
  underReplicated: number;
}

/** Whether this node is the one that reports the range's availability (see the file comment). */
export function reportsRange(r: RangeView, v: LivenessView): boolean {
  if (r.holdsLease) return true;
  if (r.leaseRecordNodeId !== null && v.isLive(r.leaseRecordNodeId)) return false;
  const liveVoters = r.voters.filter((n) => v.isLive(n));
  return liveVoters.length > 0 ? Math.min(...liveVoters) === v.nodeId : r.voters.length > 0 && Math.min(...r.voters) === v.nodeId;
}

export function rangeCounts(ranges: readonly RangeView[], v: LivenessView): RangeCounts {
  const out: RangeCounts = { replicas: ranges.length, leaseholders: 0, unavailable: 0, underReplicated: 0 };
  for (const r of ranges) {
    const want = Math.max(1, Math.min(v.replicationFactor(r.rangeId), v.activeNodes));
    if (r.holdsLease) out.leaseholders++;
    if (!reportsRange(r, v)) continue;
    const live = r.voters.filter((n) => v.isLive(n)).length;
    if (live < Math.floor(r.voters.length / 2) + 1) out.unavailable++;
    if (live < want) out.underReplicated++;
  }
  return out;
}
