/**
 * Errors of the Raft library. Conditions the caller must handle are typed; broken invariants are
 * `RaftAssertionError`s (bugs, never user errors).
 */

export class RaftError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * The proposal was definitely not appended to any log: no leader is known, forwarding is off, a
 * leadership transfer is in progress, the uncommitted-bytes bound is reached, another conf change
 * is pending, or this node was removed. The caller may retry.
 */
export class ProposalDroppedError extends RaftError {
  constructor(readonly reason: string) {
    super(`raft proposal dropped: ${reason}`);
  }
}

/**
 * The outcome of a proposal cannot be known: it may or may not commit (e.g. it was appended by a
 * leader that then lost leadership, or forwarded and never seen again). The store surfaces this to
 * SQL clients as an AmbiguousResultError; it must never be reported as a failure that can be
 * retried blindly, since a retry could apply the command twice.
 */
export class ResultUnknownError extends RaftError {
  constructor(readonly reason: string) {
    super(`raft proposal result unknown: ${reason}`);
  }
}

/** Storage: the requested index is below the first index (compacted into a snapshot). */
export class CompactedError extends RaftError {
  constructor(index: number, firstIndex: number) {
    super(`requested index ${index} is compacted (first index ${firstIndex})`);
  }
}

/** Storage: the requested index is beyond the last index. */
export class UnavailableError extends RaftError {
  constructor(index: number, lastIndex: number) {
    super(`requested entry at index ${index} is unavailable (last index ${lastIndex})`);
  }
}

/** Storage: a snapshot is being prepared; Raft retries later. */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  constructor() {
    super('snapshot is temporarily unavailable');
  }
}

/** Storage: the snapshot given is older than the one held. */
export class SnapshotOutOfDateError extends RaftError {
  constructor(index: number, have: number) {
    super(`snapshot at ${index} is older than the current snapshot at ${have}`);
  }
}

export class RaftAssertionError extends Error {
  constructor(message: string) {
    super(`raft invariant violated: ${message}`);
    this.name = 'RaftAssertionError';
  }
}

/** Assertions stay on in production: a failure is a bug report, not an error for the user. */
export function assert(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new RaftAssertionError(typeof message === 'string' ? message : message());
}
