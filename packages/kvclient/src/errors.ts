import { StrataError, UnavailableError } from '@strata/common';

/**
 * A request could not be delivered or its answer did not come back (network error, timeout, the
 * node went away). `maybeApplied`: the request may have reached the node — for a write the
 * outcome is then unknown.
 */
export class SendFailedError extends StrataError {
  constructor(
    readonly nodeId: number,
    readonly maybeApplied: boolean,
    why: string,
  ) {
    super(`sending to node ${nodeId} failed: ${why}`);
  }
}

/** No replica of a range could serve a request before the deadline (no quorum, or every node unreachable). */
export class RangeUnavailableError extends UnavailableError {
  constructor(
    readonly rangeId: number,
    why: string,
  ) {
    super(`range ${rangeId} is unavailable: ${why}`);
  }
}
