/**
 * Keeps each range this store leads at its replication factor (CockroachDB's replicate queue):
 * on every pass, per range whose lease it holds, at most one membership change:
 *   1. a learner on a leaving node, or stuck longer than learnerTimeoutMs (its snapshot keeps
 *      failing), is removed; one that caught up is promoted to voter if voters are missing;
 *   2. fewer voters on good nodes than min(replication factor, target nodes): a learner is added
 *      on a target node without a replica (the snapshot queue seeds it: KV_BATCH + TS_BATCH);
 *      with non-voters everywhere (cluster_view.ts), every other target node gets one too, and
 *      it stays a learner;
 *   3. a voter on a leaving node (dead past the threshold, or decommissioning), or more voters
 *      than wanted: one is removed — never the leaseholder itself, which first hands its lease
 *      to a voter on a good node;
 *   4. a time-series range or the liveness range at its replication factor whose lease is not
 *      on its preferred node hands the lease there: the live voter nodes in id order, picked by
 *      range id, so the ranges of a table (consecutive ids) spread their leases — and their
 *      writes and scans — over the nodes (KWDB places them round-robin), and the liveness
 *      range's lease (range 2) is apart from the first range's (range 1, which keeps its lease
 *      where it is).
 * Adding before removing keeps the number of good voters from dropping during a replacement.
 * After each pass over a range whose lease it holds, the queue publishes the range's descriptor
 * to the meta range if this store has not published that generation yet (meta_records.ts; in
 * the background: a slow meta range does not hold up the pass).
 * The cluster view (cluster_view.ts) says which nodes are targets and which are leaving; without
 * one (single-node mode) the queue does nothing.
 */
import { KeyspaceNodes, KeyspaceTs } from '@strata/kv';
import type { ReplicaDescriptor } from '@strata/kv';
import type { ClusterView } from '../cluster_view.js';
import type { Replica } from '../replica/replica.js';
import type { Store } from '../store.js';

/** A learner that has not been caught up for this long is removed (a new one is added later). */
const learnerTimeoutMs = 60_000;
/** A quiesced range whose lease this store holds is woken and looked at every this many passes. */
const quiescedCheckPasses = 10;
/**
 * A learner within this many log entries of the leaseholder's applied index counts as caught up:
 * on a busy range (liveness heartbeats write every second) a follower is always a few entries
 * behind, and Raft's appends close such a gap by themselves.
 */
const learnerCaughtUpLagEntries = 64;

export class ReplicateQueue {
  private lastPass: number;
  private running = false;
  /** Passes made (quiesced ranges are looked at every quiescedCheckPasses). */
  private passes = 0;
  /** Since when each learner (`range/replica`) has been behind (now, while it is caught up). */
  private readonly learnerSince = new Map<string, number>();
  /** The descriptor generation of each range this store last published to the meta range. */
  private readonly published = new Map<number, number>();
  /** Ranges whose descriptor is being published. */
  private readonly publishing = new Set<number>();
  /** Membership changes made, by kind (metrics and tests). */
  readonly stats = { added: 0, promoted: 0, removed: 0, leaseTransfers: 0, failures: 0, metaPublished: 0 };

  constructor(
    private readonly store: Store,
    private readonly view: ClusterView | null,
  ) {
    this.lastPass = store.timers.now();
  }

  tick(): void {
    const now = this.store.timers.now();
    if (!this.view || this.running || now - this.lastPass < this.store.knobs.replicateQueueIntervalMs) return;
    this.lastPass = now;
    this.running = true;
    void this.pass().finally(() => (this.running = false));
  }

  async pass(): Promise<void> {
    this.passes++;
    for (const r of [...this.store.replicas.values()]) {
      // A leader without the lease takes it now rather than at its range's first request (a new
      // range's lease can then be moved to its preferred node before the load arrives).
      if (r.isLeader && !r.holdsValidLease() && r.isInitialized && !r.removed && !r.failed) {
        r.requestLease();
        // An idle range quiesces and its lease stops being valid until a request wakes it: every
        // quiescedCheckPasses passes its leader renews it, so an idle range too gets its replicas
        // placed and its lease moved (it quiesces again afterwards).
        if (r.lease.replicaId === r.replicaId && r.lease.seq > 0 && this.passes % quiescedCheckPasses === 0) await r.waitForLease().catch(() => {});
      }
      if (!r.holdsValidLease()) continue;
      try {
        await this.process(r);
      } catch (e) {
        this.stats.failures++;
        r.log.info({ err: e }, 'replicate queue: a membership change failed; the next pass looks again');
      }
      this.publish(r);
    }
  }

  /** Publishes the range's descriptor to the meta range unless this store already did (that generation). */
  private publish(r: Replica): void {
    const d = r.desc;
    if (!d || this.publishing.has(d.rangeId) || this.published.get(d.rangeId) === d.generation) return;
    this.publishing.add(d.rangeId);
    this.store
      .publishDescriptor(r)
      .then((updated) => {
        this.published.set(d.rangeId, d.generation);
        if (updated) this.stats.metaPublished++;
      })
      .catch((e: unknown) => r.log.debug({ err: e }, 'replicate queue: publishing the descriptor to the meta range failed; the next pass tries again'))
      .finally(() => this.publishing.delete(d.rangeId));
  }

  private async process(r: Replica): Promise<void> {
    const view = this.view as ClusterView;
    const desc = r.desc;
    if (!desc) return;
    const targets = view.targets();
    const leaving = view.leaving();
    const now = this.store.timers.now();
    const good = (x: ReplicaDescriptor) => !leaving.has(x.nodeId);
    const voters = desc.replicas.filter((x) => x.type === 'voter');
    const learners = desc.replicas.filter((x) => x.type === 'learner');

    const goodVoters = voters.filter(good);
    // Nodes that can hold a voter: live targets, and nodes holding one that are only briefly not
    // live (not yet leaving). Counting live nodes alone would shrink the range whenever a voter's
    // node restarts or stalls, and remove a healthy voter to match.
    const placeable = new Set([...targets, ...goodVoters.map((x) => x.nodeId)]);
    const want = Math.max(1, Math.min(view.replicationFactor(desc.rangeId), placeable.size));
    for (const l of learners) {
      const key = `${desc.rangeId}/${l.replicaId}`;
      const match = r.matchOf(l.replicaId);
      const caughtUp = match > 0 && r.appliedIndex - match <= learnerCaughtUpLagEntries;
      // The timeout measures how long it has been behind without a break.
      const since = caughtUp ? now : (this.learnerSince.get(key) ?? now);
      this.learnerSince.set(key, since);
      if (!good(l) || (!caughtUp && now - since > learnerTimeoutMs)) {
        r.log.info({ node: l.nodeId, why: good(l) ? 'did not catch up' : 'its node is leaving' }, 'replicate queue: removing a learner');
        this.learnerSince.delete(key);
        await r.changeReplicas('remove', l.nodeId);
        this.stats.removed++;
        return;
      }
      if (!caughtUp) return; // its snapshot is on the way
      if (goodVoters.length < want) {
        r.log.info({ node: l.nodeId }, 'replicate queue: promoting a caught-up learner');
        this.learnerSince.delete(key);
        await r.changeReplicas('promote', l.nodeId);
        this.stats.promoted++;
        return;
      }
    }

    const candidates = targets.filter((n) => !desc.replicas.some((x) => x.nodeId === n));
    if (candidates.length > 0 && (goodVoters.length < want || view.nonVotersEverywhere?.(desc.rangeId))) {
      // Spread ranges over the candidates (balancing by replica counts comes later).
      const node = candidates[desc.rangeId % candidates.length] as number;
      r.log.info({ node, voters: voters.length, want }, goodVoters.length < want ? 'replicate queue: adding a learner (to become a voter)' : 'replicate queue: adding a non-voting replica');
      await r.changeReplicas('addLearner', node);
      this.stats.added++;
      return;
    }

    const excess = voters.length - want;
    const placed = desc.startKey[0] === KeyspaceTs || desc.startKey[0] === KeyspaceNodes;
    if (excess === 0 && goodVoters.length === voters.length && placed) {
      const live = new Set(targets);
      const nodes = voters
        .map((x) => x.nodeId)
        .filter((n) => live.has(n) || n === this.store.nodeId)
        .sort((a, b) => a - b);
      const to = nodes[desc.rangeId % nodes.length];
      if (
        to !== undefined &&
        to !== this.store.nodeId &&
        r.matchOf((voters.find((x) => x.nodeId === to) as ReplicaDescriptor).replicaId) >= r.appliedIndex
      ) {
        r.log.info({ to }, 'replicate queue: moving the lease of a range to its preferred node');
        r.transferLease(to);
        this.stats.leaseTransfers++;
        return;
      }
    }
    if (excess <= 0 && goodVoters.length === voters.length) return;
    if (goodVoters.length < Math.min(want, voters.length)) return; // replace before removing
    const victim = voters.find((x) => !good(x)) ?? (excess > 0 ? [...voters].reverse().find((x) => x.replicaId !== r.replicaId) : undefined);
    if (!victim) return;
    if (victim.replicaId === r.replicaId) {
      const to = goodVoters.find((x) => x.replicaId !== r.replicaId);
      if (!to) return;
      r.log.info({ to: to.nodeId }, 'replicate queue: moving the lease off a leaving node');
      r.transferLease(to.nodeId);
      this.stats.leaseTransfers++;
      return;
    }
    r.log.info({ node: victim.nodeId, why: good(victim) ? 'more voters than wanted' : 'its node is leaving' }, 'replicate queue: removing a voter');
    await r.changeReplicas('remove', victim.nodeId);
    this.stats.removed++;
  }
}
