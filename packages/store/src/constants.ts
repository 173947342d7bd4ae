/** Bounds of the store, with units. */

/** The Raft tick interval. Election timeouts are counted in ticks of this length. */
export const raftTickIntervalMs = 100;

/** A log segment is closed and a new one started past this size. */
export const logSegmentBytesMax = 64 * 1024 * 1024;

/** One log record (one replica's entries of one Ready) may not exceed this. */
export const logRecordBytesMax = 256 * 1024 * 1024;

/** Proposals waiting for the next Raft round on one replica; more are refused (53000). */
export const proposalQueueMax = 100_000;

/**
 * How long a transaction waits for a row lock before giving up with 40001. Bounds deadlocks
 * (which are broken by this timeout, not detected) and queueing behind a stuck client.
 */
export const lockWaitMs = 2000;

/** Transactions that may queue for one row lock; more are refused with 40001. */
export const lockWaitersMax = 10_000;

/**
 * Written keys garbage-collected (old MVCC versions deleted) per apply. Hot rows get collected on
 * every write; bulk loads are not rescanned.
 */
export const gcKeysPerApplyMax = 1024;

/** The TS engine is flushed (blocks written, files synced) at least this often while it holds unflushed rows. */
export const tsFlushIntervalMs = 1000;

/** …and as soon as this many rows are unflushed (bounds replay work and buffer memory). */
export const tsFlushRowsMax = 500_000;
