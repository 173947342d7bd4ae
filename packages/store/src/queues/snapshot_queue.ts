/**
 * Sending snapshots to followers that need one (Raft asked with a MsgSnap): generated from this
 * replica's state and streamed through the transport (snapshot/*.ts).
 */
import type { Message } from '@strata/raft';
import type { ReplicaDescriptor } from '../range.js';
import type { Replica } from '../replica/replica.js';
import type { Store } from '../store.js';

export class SnapshotQueue {
  constructor(private readonly store: Store) {}

  send(r: Replica, m: Message, _to: ReplicaDescriptor): void {
    // Streaming snapshots comes with the transport; until then the follower is probed again.
    void this.store;
    r.raw.reportSnapshot(m.to, 'failure');
  }
}
