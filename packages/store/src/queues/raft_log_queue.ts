/**
 * Raft-log truncation. A range's log is truncated up to an index only when nothing needs the
 * entries up to it: the KV engine has made them durable (not merely applied), every TS group of
 * the range has flushed them, and — on the leader — followers that are close behind have them
 * (a follower further behind than raftLogKeepForFollowers* gets a snapshot instead). The
 * truncated state is made durable in the engine before any log segment is deleted.
 *
 * INVARIANT: the log is never truncated past what the engines have made durable.
 */
import type { Replica } from '../replica/replica.js';
import { encodeIndexTerm, truncatedKey } from '../replica/state.js';
import type { Store } from '../store.js';

export class RaftLogQueue {
  private deleting = false;

  constructor(private readonly store: Store) {}

  /** The highest index the replica's log may be truncated to now. */
  truncatableIndex(r: Replica): number {
    let keep = Math.min(r.durableAppliedIndex, r.appliedIndex);
    const dirty = this.store.ts.dirtyDurableIndex(r.rangeId);
    if (dirty !== null) keep = Math.min(keep, dirty);
    if (r.pendingApply.length > 0) keep = Math.min(keep, r.appliedIndex);
    const progress = r.isLeader ? r.raw.status().progress : null;
    if (progress) {
      for (const [id, pr] of progress) {
        if (id === r.replicaId) continue;
        // Keep entries for followers that are close; one further behind gets a snapshot.
        if (r.appliedIndex - pr.match <= this.store.knobs.raftLogKeepForFollowersEntriesMax) keep = Math.min(keep, pr.match);
      }
    }
    return keep;
  }

  tick(): void {
    const store = this.store;
    const writes: { key: Buffer; value: Buffer }[] = [];
    for (const r of store.replicas.values()) {
      if (r.failed || !r.isInitialized) continue;
      const to = this.truncatableIndex(r);
      const from = r.storage.truncated.index;
      if (to - from < store.knobs.raftLogTruncateEntriesMin && !(store.log.segmentCount() > 1 && to > from)) continue;
      r.storage.compact(to);
      writes.push({ key: truncatedKey(r.rangeId), value: encodeIndexTerm(r.storage.truncated) });
    }
    if (writes.length > 0) store.engine.write(writes);
    if (store.log.segmentCount() <= 1 || this.deleting) return;
    this.deleting = true;
    // Segments go only once the truncated states are durable.
    void store.engine
      .flushed()
      .then(() => {
        if (store.isClosed) return;
        store.log.truncate((rangeId) => {
          const r = store.replicas.get(rangeId);
          return r ? r.storage.truncated.index + 1 : Number.POSITIVE_INFINITY;
        });
      })
      .finally(() => (this.deleting = false));
  }
}
