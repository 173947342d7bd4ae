/**
 * Every bound the Raft library uses, named with its unit last (TIGER_STYLE). Defaults only: a
 * caller overrides them through `RaftConfig`.
 */

/** Node id 0 means "no node": no leader known, no vote cast. Real node ids start at 1. */
export const NONE = 0;

/**
 * A follower that hears nothing from a leader for this many ticks starts an election. The actual
 * timeout is randomized in [electionTicks, 2 * electionTicks) (Raft §5.2) so split votes resolve.
 * 10 ticks of 100 ms gives a 1–2 s failover, CockroachDB's order of magnitude.
 */
export const electionTicksDefault = 10;

/** A leader sends heartbeats every this many ticks; must be well below electionTicks. */
export const heartbeatTicksDefault = 1;

/**
 * Upper bound on the entry bytes in one MsgApp. Large enough to amortize per-message cost, small
 * enough that one slow follower does not hold megabytes per message in flight.
 */
export const msgBytesMaxDefault = 1024 * 1024;

/** How many MsgApp may be unacknowledged to one follower in replicate state. */
export const inflightMsgsMaxDefault = 256;

/** How many entry bytes may be unacknowledged to one follower (0 = no byte limit). */
export const inflightBytesMaxDefault = 32 * 1024 * 1024;

/**
 * A leader drops proposals once this many bytes of entries are appended but not yet committed,
 * so a leader that cannot commit (lost quorum) does not grow its log without bound.
 */
export const uncommittedEntriesBytesMaxDefault = 64 * 1024 * 1024;

/** Upper bound on the bytes of committed entries handed out in one Ready. */
export const committedEntriesBytesPerReadyMaxDefault = 8 * 1024 * 1024;

/**
 * Leader leases assume that no node's clock runs faster than another's by more than this many
 * ticks over one election timeout. The lease is shortened by this margin (see `Raft.leaseValid`).
 */
export const clockDriftTicksMaxDefault = 2;

/** Per-entry overhead counted in byte accounting (index, term, type), so empty entries cost too. */
export const entryOverheadBytes = 24;

/** Pending ReadIndex requests a leader keeps before dropping new ones. */
export const readIndexRequestsMax = 4096;
