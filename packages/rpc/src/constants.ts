/** Bounds of the inter-node wire, with units. */
import { logRecordBytesMax } from '@strata/store';

const MiB = 1024 * 1024;

/**
 * One message on a Raft stream (one RaftMessageBatch) at most. A batch carries one round's
 * messages of every range for one node; a MsgApp holds at most the raft library's msgBytesMax
 * of entries unless a single entry is larger, and one replica's entries of one Ready never exceed
 * the store's logRecordBytesMax (256 MiB): so the record limit plus room for the envelope. The
 * transport splits a larger batch into several stream messages.
 */
export const raftStreamMessageBytesMax = logRecordBytesMax + 16 * MiB;

/**
 * Bytes written to one peer's Raft stream that gRPC has not taken yet. Beyond this the peer is
 * not keeping up (or the connection is stalled) and further batches are dropped — Raft resends
 * what matters — instead of queueing without bound. One message may exceed it on an empty queue.
 */
export const raftStreamQueuedBytesMax = 64 * MiB;

/**
 * A unary BatchRequest or BatchResponse at most. A commit carries the keys a transaction wrote
 * ahead (kv txnIntentKeyBytesMax, 64 MiB), its remaining buffered writes (it writes ahead past
 * kv txnFlushBytes, 8 MiB) and its read set; 128 MiB covers that with room. Raft streams get
 * more because one of their messages may carry a whole log record.
 */
export const batchMessageBytesMax = 128 * MiB;

/**
 * One message of a snapshot stream at most: chunks are about the store's snapshotChunkBytes
 * (1 MiB) but a KV chunk ends after the pair that crosses it, and one value may be up to kv
 * valueBytesMax (16 MiB).
 */
export const snapshotMessageBytesMax = 32 * MiB;

/** The largest message any channel receives or sends (gRPC's limit is per channel, not per method). */
export const channelMessageBytesMax = Math.max(raftStreamMessageBytesMax, batchMessageBytesMax, snapshotMessageBytesMax);

/**
 * HTTP/2 keepalive: a ping every keepaliveTimeMs, the connection declared dead when one is not
 * answered within keepaliveTimeoutMs — a stopped or partitioned peer is noticed within about 3 s
 * (Raft fails over in 1–2 s on its own; this frees the streams and fails the calls in flight).
 */
export const keepaliveTimeMs = 1000;
export const keepaliveTimeoutMs = 2000;

/**
 * Reconnect backoff of a channel (gRPC's subchannel backoff, exponential with jitter). The cap is
 * low because peers are few and always wanted: a restarted node is reached again within about a
 * second (gRPC's default cap, 120 s, would keep it out of its ranges for minutes), at the cost of
 * one connection attempt per second per channel to a node that stays down.
 */
export const reconnectBackoffInitialMs = 100;
export const reconnectBackoffMaxMs = 1000;

/** Re-opening a peer's Raft stream after it broke: exponential from …Initial to …Max. */
export const raftStreamBackoffInitialMs = 100;
export const raftStreamBackoffMaxMs = 1000;

/**
 * How long a request waits for a peer's channel to connect before it fails as certainly not sent.
 * A channel already failing (its last connect attempt failed) fails at once.
 */
export const connectTimeoutMs = 2000;

/**
 * A batch request's deadline. Long: a write may wait for another transaction's intent (10 s),
 * a lease (3 s) or a lock; a dead or stopped peer is noticed by keepalive long before this.
 */
export const batchDeadlineMs = 30_000;

/** A snapshot stream is cancelled when it makes no progress (nothing taken, no answer) for this long. */
export const snapshotStallMs = 30_000;

/** Snapshots a server receives at once; more are refused (the sender retries when Raft asks again). */
export const snapshotsReceivingMax = 4;

/** Batch requests a server evaluates at once; more are refused with 53000. */
export const batchesInFlightMax = 10_000;

/** How long a closing server lets calls in flight finish before it cuts them. */
export const serverShutdownGraceMs = 1000;

/** Clock-offset pings: one round to every peer this often (CockroachDB's heartbeat interval). */
export const pingIntervalMs = 1000;

/** A ping not answered within this is a failed measurement (the previous one stands until it expires). */
export const pingTimeoutMs = 2000;

/**
 * A peer's offset measurement counts only while younger than this: a peer we cannot reach stops
 * counting instead of voting with a stale value.
 */
export const clockOffsetTtlMs = 10_000;

/**
 * Fraction of the maximum clock offset beyond which a peer's clock is out of tolerance
 * (CockroachDB's 80%): a node whose clock is that far from a majority of its peers stops before
 * the real bound — which leases and uncertainty rely on — can be crossed.
 */
export const clockOffsetToleranceFraction = 0.8;

/** The gRPC metadata header that carries the caller's cluster id (server.ts refuses other clusters). */
export const clusterIdMetadataKey = 'strata-cluster-id';
