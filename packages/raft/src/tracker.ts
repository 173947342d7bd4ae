import { assert } from './errors.js';
import { Inflights, Progress } from './progress.js';
import type { ConfState } from './types.js';

export const VoteResult = { Pending: 'Pending', Lost: 'Lost', Won: 'Won' } as const;
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

/**
 * The largest value v such that a majority of `ids` have a value >= v (missing ids count as
 * `missing`). With match indexes this is the committed index; with lease ticks it is the start of
 * the lease a quorum has granted.
 */
export function quorumValue(ids: ReadonlySet<number>, get: (id: number) => number | undefined, missing: number): number {
  const n = ids.size;
  if (n === 0) return Number.MAX_SAFE_INTEGER; // an empty config commits everything (joint-consensus convention)
  const vals: number[] = [];
  for (const id of ids) vals.push(get(id) ?? missing);
  vals.sort((a, b) => b - a);
  return vals[Math.floor(n / 2)] as number;
}

/**
 * Membership and per-member replication progress, as seen by this node.
 * INVARIANT: voters and learners are disjoint; every member has a Progress.
 */
export class ProgressTracker {
  voters = new Set<number>();
  learners = new Set<number>();
  readonly progress = new Map<number, Progress>();
  readonly votes = new Map<number, boolean>();

  constructor(
    readonly inflightMsgsMax: number,
    readonly inflightBytesMax: number,
  ) {}

  confState(): ConfState {
    return {
      voters: [...this.voters].sort((a, b) => a - b),
      learners: [...this.learners].sort((a, b) => a - b),
    };
  }

  isSingleton(): boolean {
    return this.voters.size === 1;
  }

  isMember(id: number): boolean {
    return this.voters.has(id) || this.learners.has(id);
  }

  newProgress(next: number, isLearner: boolean): Progress {
    return new Progress(next, new Inflights(this.inflightMsgsMax, this.inflightBytesMax), isLearner);
  }

  /** Ids of all members in ascending order (for deterministic iteration). */
  memberIds(): number[] {
    return [...this.progress.keys()].sort((a, b) => a - b);
  }

  visit(f: (id: number, pr: Progress) => void): void {
    for (const id of this.memberIds()) f(id, this.progress.get(id) as Progress);
  }

  committed(): number {
    return quorumValue(this.voters, (id) => this.progress.get(id)?.match, 0);
  }

  /** True if a quorum of voters was heard from since the last check (CheckQuorum, §6.2 thesis). */
  quorumActive(self: number): boolean {
    let active = 0;
    for (const id of this.voters) {
      const pr = this.progress.get(id);
      if (id === self || (pr && pr.recentActive)) active++;
    }
    return active > Math.floor(this.voters.size / 2);
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: number, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    const q = Math.floor(this.voters.size / 2) + 1;
    let result: VoteResult = VoteResult.Pending;
    if (granted >= q) result = VoteResult.Won;
    else if (this.voters.size - rejected < q) result = VoteResult.Lost;
    return { granted, rejected, result };
  }

  assertValid(): void {
    for (const id of this.voters) assert(!this.learners.has(id), `node ${id} is both voter and learner`);
    for (const id of [...this.voters, ...this.learners]) assert(this.progress.has(id), `member ${id} has no progress`);
    assert(this.progress.size === this.voters.size + this.learners.size, 'progress for a non-member');
  }
}
