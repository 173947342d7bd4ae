/**
 * Sending snapshots to followers that need one (Raft asked with a MsgSnap): generated from this
 * replica's state at its applied index (snapshot/send.ts) and streamed through the transport. One
 * stream per follower at a time; the outcome is reported to Raft (a failed one is retried when
 * Raft asks again).
 */
import { mkdirSync } from 'node:fs';
import { encodeDescriptor } from '@strata/kv';
import type { ReplicaDescriptor } from '@strata/kv';
import type { Replica } from '../replica/replica.js';
import { generateSnapshot } from '../snapshot/send.js';
import type { Store } from '../store.js';
import { confStateOf } from '@strata/kv';
import type { Message } from '@strata/raft';

export class SnapshotQueue {
  private readonly inFlight = new Set<string>();
  /** Snapshots and bytes sent, by strategy part (metrics): every snapshot has a KV_BATCH part, those of ranges with TS data a TS_BATCH part too. */
  readonly sent = { count: 0, kvBytes: 0, tsBytes: 0, failures: 0, kvBatch: 0, tsBatch: 0 };

  constructor(private readonly store: Store) {}

  send(r: Replica, m: Message, to: ReplicaDescriptor): void {
    const key = `${r.rangeId}/${to.replicaId}`;
    if (this.inFlight.has(key)) return;
    const store = this.store;
    let snap;
    try {
      mkdirSync(store.snapshotDir, { recursive: true, mode: 0o700 });
      snap = generateSnapshot(r, store.snapshotDir);
    } catch (e) {
      r.log.warn({ err: e, to: to.nodeId }, 'could not generate a snapshot');
      r.raw.reportSnapshot(m.to, 'failure');
      return;
    }
    this.inFlight.add(key);
    const message: Message = {
      ...m,
      snapshot: { metadata: { index: snap.index, term: snap.term, confState: confStateOf(snap.desc) }, data: new Uint8Array(0) },
    };
    const header = {
      rangeId: r.rangeId,
      fromNodeId: store.nodeId,
      toNodeId: to.nodeId,
      fromReplicaId: r.replicaId,
      toReplicaId: to.replicaId,
      index: snap.index,
      term: snap.term,
      message,
      descriptor: encodeDescriptor(snap.desc),
      now: store.clock.now(),
      strategy: 'KV_BATCH+TS_BATCH' as const,
    };
    void store.transport
      .sendSnapshot(header, snap.chunks)
      .then(
        () => {
          this.sent.count++;
          this.sent.kvBytes += snap.bytes.kv;
          this.sent.tsBytes += snap.bytes.ts;
          this.sent.kvBatch++;
          if (snap.bytes.ts > 0) this.sent.tsBatch++;
          store.stats.snapshotsSent++;
          r.log.info({ to: to.nodeId, index: snap.index, kvBytes: snap.bytes.kv, tsBytes: snap.bytes.ts }, 'snapshot sent');
          if (!r.removed) r.raw.reportSnapshot(m.to, 'finish');
        },
        (e: unknown) => {
          this.sent.failures++;
          r.log.warn({ err: e, to: to.nodeId }, 'snapshot failed');
          if (!r.removed) r.raw.reportSnapshot(m.to, 'failure');
        },
      )
      .finally(() => {
        snap.release();
        this.inFlight.delete(key);
        store.schedule(r);
      });
  }
}
