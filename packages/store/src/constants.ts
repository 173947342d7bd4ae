/** Bounds of the store, with units. */

/** The Raft tick interval. Election timeouts are counted in ticks of this length. */
export const raftTickIntervalMs = 100;

/**
 * Raft election timeout in ticks (randomized up to twice this): 10 × 100 ms gives a 1–2 s
 * failover, CockroachDB's order of magnitude. Every node must use the same value (leases).
 */
export const raftElectionTicks = 10;

/**
 * Ticks older than this are brought up to the wall clock before a request checks its lease
 * (three intervals: a loaded event loop fires intervals late; a paused process misses them).
 */
export const raftTicksStaleMs = 3 * raftTickIntervalMs;

/** Missed ticks made up at most at once after a pause: two election timeouts' worth. */
export const raftTicksCatchUpMax = 2 * raftElectionTicks;

/** A leader sends heartbeats every tick: leases are renewed by heartbeat acknowledgements. */
export const raftHeartbeatTicks = 1;

/**
 * A range whose leader saw no request or proposal for this many ticks quiesces (stops ticking
 * and heartbeating, its followers too) when fully replicated: thousands of idle ranges cost
 * nothing. The first request after that waits about one heartbeat round for the lease.
 */
export const quiesceAfterIdleTicks = 20;

/** A log segment is closed and a new one started past this size. */
export const logSegmentBytesMax = 64 * 1024 * 1024;

/** One log record (one replica's entries of one Ready) may not exceed this. */
export const logRecordBytesMax = 256 * 1024 * 1024;

/** Entry bytes read back from the log files in one call (a follower's catch-up batch). */
export const logReadBytesMax = 8 * 1024 * 1024;

/**
 * A replica keeps its newest entries in memory up to this many bytes beyond the applied index
 * (older ones are read back from the log files when a follower needs them).
 */
export const raftEntryCacheBytesMax = 16 * 1024 * 1024;

/** Proposals waiting for the next Raft round on one replica; more are refused (53000). */
export const proposalQueueMax = 100_000;

/**
 * A replica's log is kept back for a lagging follower only while the follower is at most this
 * many entries behind; beyond it, the log is truncated and the follower gets a snapshot.
 */
export const raftLogKeepForFollowersEntriesMax = 10_000;

/** …and at most this many bytes of log (estimated) are kept back for a lagging follower. */
export const raftLogKeepForFollowersBytesMax = 64 * 1024 * 1024;

/** The raft-log queue truncates a range's log once this many entries are applied and durable. */
export const raftLogTruncateEntriesMin = 1000;

/**
 * How long a transaction waits for a row lock before giving up with 40001. Bounds deadlocks
 * (which are broken by this timeout, not detected) and queueing behind a stuck client.
 */
export const lockWaitMs = 2000;

/** Transactions that may queue for one row lock; more are refused with 40001. */
export const lockWaitersMax = 10_000;

/** The TS engine is flushed (blocks written, files synced) at least this often while it holds unflushed rows. */
export const tsFlushIntervalMs = 1000;

/** …and as soon as this many rows are unflushed (bounds replay work and buffer memory). */
export const tsFlushRowsMax = 500_000;

/**
 * MVCC garbage collection: versions shadowed for longer than this are collected (CockroachDB's
 * gc.ttlseconds). Reads below the range's GC threshold (now − this at the last GC) are refused.
 * Ten minutes keeps every reasonable transaction's snapshot while bounding version pile-up on
 * hot rows.
 */
export const gcTtlMs = 10 * 60 * 1000;

/** How often the GC queue looks at the keys written recently on each range it leads. */
export const gcQueueIntervalMs = 10_000;

/** Written keys the GC queue remembers per range between passes (more are dropped; a later sweep finds them). */
export const gcPendingKeysMax = 100_000;

/** Keys one GC request covers (bounds the proposal's size). */
export const gcKeysPerRequestMax = 1024;

/** The maximum clock offset between any two nodes (CockroachDB's --max-offset default). */
export const maxClockOffsetMs = 500;

/** A request waits this long for the range's lease to become usable here before it is redirected. */
export const leaseWaitMs = 3000;

/** Timestamp-cache entries (read spans) a replica keeps; older ones raise its low-water mark. */
export const tsCacheEntriesMax = 64 * 1024;

/** Key/value bytes in one KV_BATCH snapshot chunk. */
export const snapshotChunkBytes = 1024 * 1024;

/**
 * Space a store keeps free on its file system: writes are refused (53100) before free space falls
 * below it, so what is already in flight (Raft proposals, TS buffers being flushed) still fits.
 */
export const diskReserveBytesMin = 32 * 1024 * 1024;

/** How often the store re-reads its file system's free space (statfs). */
export const diskStatsIntervalMs = 250;

/**
 * A transaction record whose heartbeat is older than this (by the leaseholder's clock) belongs
 * to a coordinator presumed dead: a writer waiting on its intents aborts it. Coordinators
 * heartbeat every txnHeartbeatIntervalMs (@strata/kv constants), a fifth of this.
 */
export const txnExpiryMs = 5000;
/**
 * How long a write waits for another transaction's intent on its key before giving up with
 * 40001 (the holder is alive and still running). Deadlocks between two writers are detected at
 * once (40P01); this bounds waiting behind a long transaction.
 */
export const intentWaitMs = 10_000;
/** Writers that may wait on the intents of one transaction; more are refused with 40001. */
export const intentWaitersMax = 10_000;

/** How often the replicate queue looks at the ranges this store leads. */
export const replicateQueueIntervalMs = 1000;

/** Bounds a test or simulation may tighten (defaults: the constants above). */
export interface StoreKnobs {
  raftLogTruncateEntriesMin: number;
  logSegmentBytesMax: number;
  raftLogKeepForFollowersEntriesMax: number;
  gcTtlMs: number;
  gcQueueIntervalMs: number;
  txnExpiryMs: number;
  intentWaitMs: number;
  replicateQueueIntervalMs: number;
}

export const defaultKnobs: StoreKnobs = {
  txnExpiryMs,
  intentWaitMs,
  replicateQueueIntervalMs,
  raftLogTruncateEntriesMin,
  logSegmentBytesMax,
  raftLogKeepForFollowersEntriesMax,
  gcTtlMs,
  gcQueueIntervalMs,
};
