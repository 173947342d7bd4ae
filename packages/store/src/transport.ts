/**
 * How a store's replicas reach the replicas of other stores: Raft messages addressed by range and
 * replica, and snapshots streamed out of band (KV_BATCH / TS_BATCH chunks) before the MsgSnap that
 * installs them. Implemented in process by the seeded simulated network of the test cluster
 * (packages/store/test) and between processes over gRPC (the cluster issue).
 *
 * INVARIANT: delivery is best effort — messages may be dropped, delayed, duplicated or reordered;
 *   Raft tolerates all of these. A snapshot is either delivered whole (every chunk, in order,
 *   then the final message) or reported failed.
 */
import type { Timestamp } from '@strata/common';
import type { Message } from '@strata/raft';

export interface RaftMessageRequest {
  rangeId: number;
  fromReplicaId: number;
  toReplicaId: number;
  message: Message;
}

/**
 * Everything one store sends another in one Raft round: the messages of all its ranges for that
 * node, heartbeats included — heartbeats are coalesced per node pair (one batch per round, not
 * one message per range), and one clock reading covers the batch.
 */
export interface RaftMessageBatch {
  fromNodeId: number;
  toNodeId: number;
  /** The sender's hybrid clock: the receiver's clock moves past it. */
  now: Timestamp;
  messages: RaftMessageRequest[];
}

/** One chunk of a snapshot stream (snapshot/*.ts define the payloads). */
export type SnapshotChunk =
  | { kind: 'kv'; keys: Buffer[]; values: Buffer[] }
  | { kind: 'tsFile'; path: string; offset: number; data: Buffer; last: boolean };

/** The header of a snapshot stream: what it installs and where. */
export interface SnapshotHeader {
  rangeId: number;
  fromNodeId: number;
  toNodeId: number;
  fromReplicaId: number;
  toReplicaId: number;
  /** The state machine's applied index and term the data is at. */
  index: number;
  term: number;
  /** The MsgSnap Raft produced, its metadata rewritten to index/term and the descriptor's members. */
  message: Message;
  /** The range descriptor at `index` (encoded). */
  descriptor: Buffer;
  /** The sender's hybrid clock. */
  now: Timestamp;
  strategy: 'KV_BATCH+TS_BATCH';
}

export interface RaftTransport {
  /** Sends a batch of Raft messages to one node (fire and forget). */
  send(batch: RaftMessageBatch): void;
  /**
   * Streams a snapshot to another store: resolves once the receiver has staged it and handed the
   * MsgSnap to its replica, rejects if it failed anywhere on the way (then the sender reports the
   * snapshot failed to Raft and a new one is sent later).
   */
  sendSnapshot(header: SnapshotHeader, chunks: AsyncIterable<SnapshotChunk>): Promise<void>;
}

/** The transport of a store that has no peers (single-node mode): nothing is ever sent. */
export const noTransport: RaftTransport = {
  send(batch) {
    throw new Error(`a store without peers was asked to send ${batch.messages.length} raft messages (to node ${batch.toNodeId})`);
  },
  sendSnapshot() {
    return Promise.reject(new Error('a store without peers cannot send snapshots'));
  },
};
