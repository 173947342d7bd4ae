/** Bounds of the store, with units. */

/** The Raft tick interval. Election timeouts are counted in ticks of this length. */
export const raftTickIntervalMs = 100;

/** A log segment is closed and a new one started past this size. */
export const logSegmentBytesMax = 64 * 1024 * 1024;

/** One log record (one replica's entries of one Ready) may not exceed this. */
export const logRecordBytesMax = 256 * 1024 * 1024;

/** Proposals waiting for the next Raft round on one replica; more are refused (53000). */
export const proposalQueueMax = 100_000;
