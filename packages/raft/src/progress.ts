import { assert } from './errors.js';

/**
 * A bounded window of MsgApp sent to one follower and not yet acknowledged (flow control).
 * Bounded both in messages and in entry bytes.
 */
export class Inflights {
  private readonly indexes: number[] = [];
  private readonly sizes: number[] = [];
  private bytes = 0;

  constructor(
    readonly msgsMax: number,
    readonly bytesMax: number,
  ) {}

  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), 'cannot add into a full inflights');
    this.indexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** Frees every inflight message whose last index is <= to (they were acknowledged). */
  freeLE(to: number): void {
    let n = 0;
    while (n < this.indexes.length && (this.indexes[n] as number) <= to) {
      this.bytes -= this.sizes[n] as number;
      n++;
    }
    if (n > 0) {
      this.indexes.splice(0, n);
      this.sizes.splice(0, n);
    }
  }

  freeFirstOne(): void {
    if (this.indexes.length === 0) return;
    this.freeLE(this.indexes[0] as number);
  }

  full(): boolean {
    return this.indexes.length >= this.msgsMax || (this.bytesMax > 0 && this.bytes >= this.bytesMax);
  }

  count(): number {
    return this.indexes.length;
  }

  reset(): void {
    this.indexes.length = 0;
    this.sizes.length = 0;
    this.bytes = 0;
  }
}

export const ProgressState = { Probe: 'Probe', Replicate: 'Replicate', Snapshot: 'Snapshot' } as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

/**
 * The leader's view of one follower.
 *  - Probe: we do not know the follower's last index; send one MsgApp per heartbeat interval and
 *    wait for the answer before sending more.
 *  - Replicate: the follower is caught up to `match`; stream optimistically up to the inflight bound.
 *  - Snapshot: the follower needs a snapshot; send nothing until it is reported applied or failed.
 * INVARIANT: match < next.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** In Snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from since the last CheckQuorum. */
  recentActive = false;
  /** Probe state: a MsgApp is out and we wait before sending another. */
  msgAppFlowPaused = false;
  readonly inflights: Inflights;
  isLearner: boolean;
  /** The highest leader tick echoed back by this follower on a heartbeat response (leases). */
  leaseAckTick = Number.NEGATIVE_INFINITY;

  constructor(next: number, inflights: Inflights, isLearner: boolean) {
    this.next = next;
    this.inflights = inflights;
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // Coming back from a snapshot, resume right after it (the snapshot index is known applied if
    // successful; if not, the follower's reject hint corrects us).
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** A MsgApp with `entries` entries (`bytes` bytes) ending at `next-1+entries` was sent. */
  sentEntries(entries: number, bytes: number): void {
    if (this.state === ProgressState.Replicate) {
      if (entries > 0) {
        this.next += entries;
        this.inflights.add(this.next - 1, bytes);
      }
      // An empty append in replicate state (commit-only) is not flow-controlled.
    } else if (this.state === ProgressState.Probe) {
      this.msgAppFlowPaused = true;
    } else {
      assert(false, `sending append in unhandled state ${this.state}`);
    }
  }

  /** An acknowledgement for index n arrived; returns false if it was stale. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * The follower rejected a MsgApp at index `rejected`, hinting that its log may match at
   * `matchHint`. Returns false if the rejection is stale (out of order).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // In replicate state everything <= match is acknowledged: a rejection at or below it is stale.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe state only the MsgApp at next-1 is outstanding; anything else is stale.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.msgAppFlowPaused;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
    }
  }

  toString(): string {
    return `${this.state} match=${this.match} next=${this.next}${this.isLearner ? ' learner' : ''}${
      this.state === ProgressState.Snapshot ? ` pendingSnap=${this.pendingSnapshot}` : ''
    }${this.msgAppFlowPaused ? ' paused' : ''} inflight=${this.inflights.count()}`;
  }
}
