/**
 * The store's maintenance queues. Each looks at replicas on the store's tick and does its part;
 * work that changes replicated state goes through the range's log, proposed by the leaseholder
 * (GC, rewrite commits), so it happens once per range, not once per node.
 */
import type { WriteBatch } from '@strata/kv';
import type { Message } from '@strata/raft';
import type { ReplicaDescriptor } from '@strata/kv';
import type { Replica } from '../replica/replica.js';
import type { Store } from '../store.js';
import { GcQueue } from './gc_queue.js';
import { RaftLogQueue } from './raft_log_queue.js';
import { TsQueue } from './ts_queue.js';
import { SnapshotQueue } from './snapshot_queue.js';
import { ReplicateQueue } from './replicate_queue.js';

export class Queues {
  readonly gc: GcQueue;
  readonly raftLog: RaftLogQueue;
  readonly ts: TsQueue;
  readonly snapshots: SnapshotQueue;
  readonly replicate: ReplicateQueue;

  constructor(private readonly store: Store) {
    this.gc = new GcQueue(store);
    this.raftLog = new RaftLogQueue(store);
    this.ts = new TsQueue(store);
    this.snapshots = new SnapshotQueue(store);
    this.replicate = new ReplicateQueue(store, store.cluster);
  }

  start(): void {}

  stop(): void {}

  /** Every Raft tick. */
  tick(): void {
    if (this.store.isClosed) return;
    this.ts.tick();
    this.raftLog.tick();
    this.gc.tick();
    this.replicate.tick();
  }

  written(r: Replica, b: WriteBatch): void {
    this.gc.written(r, b);
  }

  leaseChanged(r: Replica): void {
    if (r.holdsValidLease()) this.ts.proposeRewriteCommits(r);
  }

  tsRewriteFinished(rangeId: number): void {
    const r = this.store.replicas.get(rangeId);
    if (r) this.ts.proposeRewriteCommits(r);
  }

  flushTs(r: Replica): void {
    this.ts.flush(r);
  }

  sendSnapshot(r: Replica, m: Message, to: ReplicaDescriptor): void {
    this.snapshots.send(r, m, to);
  }
}
