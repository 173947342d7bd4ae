import {
  NONE,
  clockDriftTicksMaxDefault,
  committedEntriesBytesPerReadyMaxDefault,
  electionTicksDefault,
  heartbeatTicksDefault,
  inflightBytesMaxDefault,
  inflightMsgsMaxDefault,
  msgBytesMaxDefault,
  readIndexRequestsMax,
  uncommittedEntriesBytesMaxDefault,
} from './constants.js';
import {
  CompactedError,
  ProposalDroppedError,
  SnapshotTemporarilyUnavailableError,
  UnavailableError,
  assert,
} from './errors.js';
import { RaftLog } from './log.js';
import { ProgressState } from './progress.js';
import type { Progress } from './progress.js';
import { ReadOnly } from './read_only.js';
import type { Storage } from './storage.js';
import { ProgressTracker, VoteResult, quorumValue } from './tracker.js';
import type { ConfChange, ConfState, Entry, HardState, Message, ReadState, Snapshot, SoftState } from './types.js';
import {
  ConfChangeType,
  EntryType,
  MessageType,
  StateType,
  decodeConfChange,
  emptyBytes,
  entriesBytes,
  message,
  voteRespType,
} from './types.js';

export type ReadOnlyOption = 'safe' | 'lease-based';

export interface RaftLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

const silentLogger: RaftLogger = { debug() {}, info() {}, warn() {} };

export interface RaftConfig {
  /** This node's id; never 0 and never reused after removal. */
  id: number;
  storage: Storage;
  /** A seeded source of uniform numbers in [0, 1): the only randomness Raft uses. */
  random: () => number;
  electionTicks?: number;
  heartbeatTicks?: number;
  /** The last applied index when restarting (entries <= applied are not handed out again). */
  applied?: number;
  msgBytesMax?: number;
  inflightMsgsMax?: number;
  inflightBytesMax?: number;
  uncommittedEntriesBytesMax?: number;
  committedEntriesBytesPerReadyMax?: number;
  /** A leader steps down if it has not heard from a quorum within an election timeout. */
  checkQuorum?: boolean;
  /** Candidates first ask whether they could win (thesis §9.6) so partitioned nodes do not disrupt. */
  preVote?: boolean;
  /** 'lease-based' answers ReadIndex from a valid leader lease without a heartbeat round. */
  readOnlyOption?: ReadOnlyOption;
  clockDriftTicksMax?: number;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  logger?: RaftLogger;
}

/** Marker in a Vote's context: the campaign follows a leadership transfer and may break leases. */
const campaignTransferCtx = new Uint8Array([1]);

const CampaignType = { PreElection: 0, Election: 1, Transfer: 2 } as const;
type CampaignType = (typeof CampaignType)[keyof typeof CampaignType];

type StepResult = undefined | ProposalDroppedError;

/**
 * One node's Raft state machine. Pure: no timers, sockets, disk or clock. Driven by `tick` and
 * `step`; its outputs (messages, entries to persist, entries to apply) are collected by RawNode.
 *
 * INVARIANT: at most one vote per term (`vote` only changes together with `term`, §5.2).
 * INVARIANT: a leader never overwrites or deletes entries in its log (Leader Append-Only, §5.3).
 * INVARIANT: a leader only commits by counting replicas for entries of its own term (§5.4.2).
 */
export class Raft {
  readonly id: number;
  term = 0;
  vote = NONE;
  readStates: ReadState[] = [];
  readonly raftLog: RaftLog;
  trk: ProgressTracker;
  state: StateType = StateType.Follower;
  msgs: Message[] = [];
  lead = NONE;
  /** The node we are handing leadership to, if any. */
  leadTransferee = NONE;
  /** Index of the last conf change entry appended by this leader; only one may be unapplied. */
  pendingConfIndex = 0;
  uncommittedBytes = 0;
  readOnly = new ReadOnly();
  /** ReadIndex requests that arrived before this leader committed an entry of its own term. */
  private pendingReadIndexMessages: Message[] = [];

  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  /** Monotonic count of ticks seen by this node since start: the lease clock. */
  tickCount = 0;
  /**
   * After a (re)start, a node does not know whether it was recently in contact with a leader whose
   * lease is still running; with lease-based reads it refuses votes for one election timeout.
   */
  private startupQuietTicks: number;
  /** Set once this leader sent TimeoutNow in this term: its lease can no longer be trusted. */
  private leaseRevoked = false;
  /** This node applied its own removal; it never votes or campaigns again. */
  removed = false;
  quiesced = false;

  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly readOnlyOption: ReadOnlyOption;
  readonly clockDriftTicksMax: number;
  readonly disableProposalForwarding: boolean;
  readonly msgBytesMax: number;
  readonly uncommittedBytesMax: number;
  private readonly random: () => number;
  readonly logger: RaftLogger;

  constructor(c: RaftConfig) {
    assert(c.id !== NONE, 'cannot use none as id');
    this.id = c.id;
    this.electionTimeout = c.electionTicks ?? electionTicksDefault;
    this.heartbeatTimeout = c.heartbeatTicks ?? heartbeatTicksDefault;
    assert(this.heartbeatTimeout > 0, 'heartbeat tick must be greater than 0');
    assert(this.electionTimeout > this.heartbeatTimeout, 'election tick must be greater than heartbeat tick');
    this.checkQuorum = c.checkQuorum ?? true;
    this.preVote = c.preVote ?? true;
    this.readOnlyOption = c.readOnlyOption ?? 'safe';
    assert(this.readOnlyOption === 'safe' || this.checkQuorum, 'lease-based reads require checkQuorum');
    this.clockDriftTicksMax = c.clockDriftTicksMax ?? clockDriftTicksMaxDefault;
    assert(this.clockDriftTicksMax < this.electionTimeout, 'clock drift bound must be below the election timeout');
    this.disableProposalForwarding = c.disableProposalForwarding ?? false;
    this.msgBytesMax = c.msgBytesMax ?? msgBytesMaxDefault;
    this.uncommittedBytesMax = c.uncommittedEntriesBytesMax ?? uncommittedEntriesBytesMaxDefault;
    this.random = c.random;
    this.logger = c.logger ?? silentLogger;
    // Only leases need the post-restart quiet period; every voter of a group must use the same
    // readOnlyOption for lease reads to be safe.
    this.startupQuietTicks = this.readOnlyOption === 'lease-based' ? this.electionTimeout : 0;

    this.raftLog = new RaftLog(c.storage, c.committedEntriesBytesPerReadyMax ?? committedEntriesBytesPerReadyMaxDefault);
    this.trk = new ProgressTracker(c.inflightMsgsMax ?? inflightMsgsMaxDefault, c.inflightBytesMax ?? inflightBytesMaxDefault);
    const { hardState, confState } = c.storage.initialState();
    this.applyConfState(confState);
    if (confState.voters.length + confState.learners.length > 0 && !this.trk.isMember(this.id)) this.removed = true;
    if (hardState.term !== 0 || hardState.vote !== 0 || hardState.commit !== 0) this.loadState(hardState);
    if (c.applied !== undefined && c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, NONE);
    this.logger.info(`${this.id} newRaft [term: ${this.term}, commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`);
  }

  private loadState(hs: HardState): void {
    assert(
      hs.commit >= this.raftLog.committed && hs.commit <= this.raftLog.lastIndex(),
      () => `${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
    );
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  /** A node may campaign only if it is a voter that has not been removed. */
  promotable(): boolean {
    return !this.removed && this.trk.voters.has(this.id) && !this.raftLog.unstable.snapshot;
  }

  // ---- sending ---------------------------------------------------------------------------------

  private send(m: Message): void {
    m.from = this.id;
    if (
      m.type === MessageType.Vote ||
      m.type === MessageType.VoteResp ||
      m.type === MessageType.PreVote ||
      m.type === MessageType.PreVoteResp
    ) {
      // Vote messages carry the term they are about, which for pre-votes is a future term.
      assert(m.term !== 0, `term should be set when sending ${m.type}`);
    } else {
      assert(m.term === 0, () => `term should not be set when sending ${m.type} (was ${m.term})`);
      // Proposals and forwarded read requests are local requests relayed, not term-bearing RPCs.
      if (m.type !== MessageType.Prop && m.type !== MessageType.ReadIndex) m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** Sends an append (or a snapshot) to `to` if its flow control allows. */
  sendAppend(to: number): void {
    this.maybeSendAppend(to, true);
  }

  private maybeSendAppend(to: number, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    let prevTerm: number | undefined;
    let ents: Entry[] = [];
    let needSnapshot = false;
    try {
      prevTerm = this.raftLog.term(prevIndex);
      ents = this.raftLog.entries(pr.next, this.msgBytesMax);
    } catch (e) {
      if (!(e instanceof CompactedError || e instanceof UnavailableError)) throw e;
      needSnapshot = true;
    }
    if (needSnapshot) {
      // The entries the follower needs are compacted: send a snapshot instead (§7).
      if (!pr.recentActive) return false;
      let snap: Snapshot;
      try {
        snap = this.raftLog.snapshot();
      } catch (e) {
        if (e instanceof SnapshotTemporarilyUnavailableError) return false;
        throw e;
      }
      assert(snap.metadata.index !== 0, 'need non-empty snapshot');
      pr.becomeSnapshot(snap.metadata.index);
      this.send(message({ type: MessageType.Snap, to, snapshot: snap }));
      return true;
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send(
      message({
        type: MessageType.App,
        to,
        index: prevIndex,
        logTerm: prevTerm as number,
        entries: ents,
        commit: this.raftLog.committed,
      }),
    );
    pr.sentEntries(ents.length, entriesBytes(ents));
    return true;
  }

  private sendHeartbeat(to: number, ctx: Uint8Array, quiesce: boolean): void {
    const pr = this.trk.progress.get(to) as Progress;
    // The follower may not have all committed entries yet; never tell it to commit past its match.
    const commit = Math.min(pr.match, this.raftLog.committed);
    this.send(message({ type: MessageType.Heartbeat, to, commit, context: ctx, leaseTick: this.tickCount, quiesce }));
  }

  bcastAppend(): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendAppend(id);
    });
  }

  bcastHeartbeat(quiesce = false): void {
    const ctx = this.readOnly.lastPendingRequestCtx();
    this.bcastHeartbeatWithCtx(ctx ?? emptyBytes, quiesce);
  }

  private bcastHeartbeatWithCtx(ctx: Uint8Array, quiesce = false): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendHeartbeat(id, ctx, quiesce);
    });
  }

  // ---- commitment and appending --------------------------------------------------------------

  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term);
  }

  /**
   * Appends proposed entries stamped with this term and the next indexes. Entries are copied:
   * a proposal's objects belong to the proposer (and a duplicated message may carry them twice).
   */
  private appendEntry(proposed: readonly Entry[]): boolean {
    let li = this.raftLog.lastIndex();
    const es: Entry[] = new Array<Entry>(proposed.length);
    for (let i = 0; i < proposed.length; i++) {
      const p = proposed[i] as Entry;
      es[i] = { term: this.term, index: li + 1 + i, type: p.type, data: p.data };
    }
    const bytes = entriesBytes(es);
    // An empty leader entry (the no-op after election) is always allowed, so a leader can commit.
    if (this.uncommittedBytes > 0 && bytes > 0 && this.uncommittedBytes + bytes > this.uncommittedBytesMax) {
      return false;
    }
    this.uncommittedBytes += bytes;
    li = this.raftLog.append(es);
    // The leader's own log counts toward the quorum; the driver persists it before sending
    // MsgApp, so any follower ack counted with it arrives after the leader's write is durable.
    (this.trk.progress.get(this.id) as Progress).maybeUpdate(li);
    this.maybeCommit();
    return true;
  }

  reduceUncommittedBytes(ents: readonly Entry[]): void {
    if (this.uncommittedBytes === 0) return;
    const s = entriesBytes(ents);
    this.uncommittedBytes = s > this.uncommittedBytes ? 0 : this.uncommittedBytes - s;
  }

  // ---- state transitions -------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const last = this.raftLog.lastIndex();
    this.trk.visit((id, pr) => {
      const np = this.trk.newProgress(last + 1, pr.isLearner);
      if (id === this.id) np.match = last;
      this.trk.progress.set(id, np);
    });
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
    this.leaseRevoked = false;
  }

  becomeFollower(term: number, lead: number): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
    this.logger.debug(`${this.id} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    assert(this.state !== StateType.Leader, 'invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.Candidate;
    this.logger.debug(`${this.id} became candidate at term ${this.term}`);
  }

  becomePreCandidate(): void {
    assert(this.state !== StateType.Leader, 'invalid transition [leader -> pre-candidate]');
    // A pre-candidate changes neither term nor vote: a pre-vote must not disrupt anyone (§9.6).
    this.trk.resetVotes();
    this.lead = NONE;
    this.state = StateType.PreCandidate;
    this.logger.debug(`${this.id} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    assert(this.state !== StateType.Follower, 'invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    const self = this.trk.progress.get(this.id) as Progress;
    self.becomeReplicate();
    self.recentActive = true;
    // Conservatively treat the whole log as possibly containing an unapplied conf change: no new
    // one until everything up to here is applied (guards single-step changes, thesis §4.1 bug fix).
    this.pendingConfIndex = this.raftLog.lastIndex();
    // Commit a no-op of this term so earlier entries commit and ReadIndex/leases become usable (§8).
    const ok = this.appendEntry([{ term: 0, index: 0, type: EntryType.Normal, data: emptyBytes }]);
    assert(ok, 'empty entry was dropped');
    this.uncommittedBytes = 0;
    this.logger.info(`${this.id} became leader at term ${this.term}`);
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.random() * this.electionTimeout);
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---- ticking -----------------------------------------------------------------------------

  tick(): void {
    this.tickCount++;
    if (this.startupQuietTicks > 0) this.startupQuietTicks--;
    if (this.state === StateType.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(message({ type: MessageType.Hup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(message({ type: MessageType.CheckQuorum, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === StateType.Leader && this.leadTransferee !== NONE) {
        this.abortLeaderTransfer();
        // If TimeoutNow went out, the transferee may still campaign (ignoring leases), so this
        // leader's lease stays revoked for the rest of its term — a leader that can never serve a
        // lease read. Step down instead: the next election gives someone a fresh term and lease.
        if (this.leaseRevoked && this.readOnlyOption === 'lease-based') {
          this.logger.info(`${this.id} steps down: its leadership transfer failed after TimeoutNow (lease revoked for term ${this.term})`);
          this.becomeFollower(this.term, NONE);
          return;
        }
      }
    }
    if (this.state !== StateType.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(message({ type: MessageType.Beat, from: this.id }));
    }
  }

  // ---- elections ---------------------------------------------------------------------------

  private hup(t: CampaignType): void {
    if (this.state === StateType.Leader) return;
    if (!this.promotable()) {
      this.logger.warn(`${this.id} is unpromotable and can not campaign`);
      return;
    }
    // A conf change that is committed but not applied may change who may vote: wait for it.
    if (this.hasUnappliedConfChanges()) {
      this.logger.warn(`${this.id} cannot campaign at term ${this.term} since there are still pending configuration changes to apply`);
      return;
    }
    this.campaign(t);
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.raftLog.applied >= this.raftLog.committed) return false;
    const lo = Math.max(this.raftLog.applied + 1, this.raftLog.firstIndex());
    const ents = this.raftLog.slice(lo, this.raftLog.committed + 1, Number.MAX_SAFE_INTEGER);
    return ents.some((e) => e.type === EntryType.ConfChange);
  }

  campaign(t: CampaignType): void {
    let term: number;
    let voteMsg: MessageType;
    if (t === CampaignType.PreElection) {
      this.becomePreCandidate();
      voteMsg = MessageType.PreVote;
      // A pre-vote asks about the term we would use, without incrementing ours.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.Vote;
      term = this.term;
    }
    // Vote for ourselves first; a singleton config wins at once.
    if (this.poll(this.id, voteRespType(voteMsg), true) === VoteResult.Won) {
      if (t === CampaignType.PreElection) this.campaign(CampaignType.Election);
      else this.becomeLeader();
      return;
    }
    const ids = [...this.trk.voters].sort((a, b) => a - b);
    for (const id of ids) {
      if (id === this.id) continue;
      this.send(
        message({
          type: voteMsg,
          to: id,
          term,
          index: this.raftLog.lastIndex(),
          logTerm: this.raftLog.lastTerm(),
          context: t === CampaignType.Transfer ? campaignTransferCtx : emptyBytes,
        }),
      );
    }
  }

  private poll(id: number, t: MessageType, granted: boolean): VoteResult {
    this.logger.debug(`${this.id} received ${t} ${granted ? '' : 'rejection '}from ${id} at term ${this.term}`);
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes().result;
  }

  /**
   * While it believes a leader is alive, a node refuses to help elect another: this is what makes
   * CheckQuorum and leader leases sound (thesis §6.2, §6.4.1). A transfer campaign is exempt.
   */
  private inLease(): boolean {
    if (!this.checkQuorum) return false;
    if (this.startupQuietTicks > 0) return true;
    return this.lead !== NONE && this.electionElapsed < this.electionTimeout;
  }

  // ---- the message entry point ---------------------------------------------------------------

  step(m: Message): StepResult {
    if (m.term === 0) {
      // local message
    } else if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const force = m.context.length === 1 && m.context[0] === campaignTransferCtx[0];
        if (!force && this.inLease()) {
          this.logger.debug(`${this.id} [term ${this.term}] ignored ${m.type} from ${m.from} at term ${m.term}: lease not expired`);
          return undefined;
        }
      }
      if (m.type === MessageType.PreVote) {
        // Never change our term in response to a pre-vote.
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // A granted pre-vote carries the future term; we bump it when we win the pre-election.
      } else {
        this.logger.debug(`${this.id} [term: ${this.term}] received a ${m.type} message with higher term from ${m.from} [term: ${m.term}]`);
        if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap) {
          this.becomeFollower(m.term, m.from);
        } else {
          this.becomeFollower(m.term, NONE);
        }
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
        // A partitioned old leader keeps sending: tell it our term so it steps down, rather than
        // ignoring it (with check-quorum/pre-vote it could otherwise never learn of the new term).
        this.send(message({ type: MessageType.AppResp, to: m.from }));
      } else if (m.type === MessageType.PreVote) {
        this.send(message({ type: MessageType.PreVoteResp, to: m.from, term: this.term, reject: true }));
      }
      return undefined;
    }

    switch (m.type) {
      case MessageType.Hup:
        this.hup(this.preVote ? CampaignType.PreElection : CampaignType.Election);
        return undefined;
      case MessageType.Vote:
      case MessageType.PreVote: {
        // §5.2: one vote per term, first come first served; repeated requests from the same
        // candidate are granted again. A pre-vote for a future term is always considered.
        const canVote =
          this.vote === m.from ||
          (this.vote === NONE && this.lead === NONE) ||
          (m.type === MessageType.PreVote && m.term > this.term);
        // §5.4.1: only vote for a candidate whose log is at least as up-to-date as ours.
        if (canVote && !this.removed && this.raftLog.isUpToDate(m.index, m.logTerm)) {
          this.send(message({ type: voteRespType(m.type), to: m.from, term: m.term }));
          if (m.type === MessageType.Vote) {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send(message({ type: voteRespType(m.type), to: m.from, term: this.term, reject: true }));
        }
        return undefined;
      }
      default:
        switch (this.state) {
          case StateType.Leader:
            return this.stepLeader(m);
          case StateType.Candidate:
          case StateType.PreCandidate:
            return this.stepCandidate(m);
          case StateType.Follower:
            return this.stepFollower(m);
        }
    }
  }

  private stepLeader(m: Message): StepResult {
    switch (m.type) {
      case MessageType.Beat:
        this.bcastHeartbeat();
        return undefined;
      case MessageType.CheckQuorum:
        if (!this.trk.quorumActive(this.id)) {
          this.logger.warn(`${this.id} stepped down to follower since quorum is not active`);
          this.becomeFollower(this.term, NONE);
        }
        this.trk.visit((id, pr) => {
          if (id !== this.id) pr.recentActive = false;
        });
        return undefined;
      case MessageType.Prop: {
        assert(m.entries.length > 0, `${this.id} stepped empty MsgProp`);
        if (!this.trk.progress.has(this.id)) return new ProposalDroppedError('this leader was removed from the group');
        if (this.leadTransferee !== NONE) return new ProposalDroppedError(`leadership is being transferred to ${this.leadTransferee}`);
        for (let i = 0; i < m.entries.length; i++) {
          const e = m.entries[i] as Entry;
          if (e.type !== EntryType.ConfChange) continue;
          if (this.pendingConfIndex > this.raftLog.applied) {
            return new ProposalDroppedError(`a conf change is already pending (index ${this.pendingConfIndex}, applied ${this.raftLog.applied})`);
          }
          this.pendingConfIndex = this.raftLog.lastIndex() + i + 1;
        }
        if (!this.appendEntry(m.entries)) {
          return new ProposalDroppedError(`too many uncommitted entry bytes (${this.uncommittedBytes} of ${this.uncommittedBytesMax})`);
        }
        this.bcastAppend();
        return undefined;
      }
      case MessageType.ReadIndex: {
        if (this.trk.isSingleton()) {
          const resp = this.responseToReadIndexReq(m, this.raftLog.committed);
          if (resp) this.send(resp);
          return undefined;
        }
        // §6.4: the commit index is only known to be current once we committed in our term.
        if (!this.committedEntryInCurrentTerm()) {
          if (this.pendingReadIndexMessages.length >= readIndexRequestsMax) return new ProposalDroppedError('too many pending read index requests');
          this.pendingReadIndexMessages.push(m);
          return undefined;
        }
        return this.sendMsgReadIndexResponse(m);
      }
    }

    // All further messages need a progress for m.from.
    const pr = this.trk.progress.get(m.from);
    if (!pr) return undefined;
    switch (m.type) {
      case MessageType.AppResp: {
        pr.recentActive = true;
        if (m.reject) {
          let nextProbeIdx = m.rejectHint;
          if (m.logTerm > 0) {
            // Skip every entry of terms the follower cannot have (fast backtracking, §5.3).
            nextProbeIdx = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm);
          }
          if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
            if (pr.state === ProgressState.Replicate) pr.becomeProbe();
            this.sendAppend(m.from);
          }
        } else {
          const oldPaused = pr.isPaused();
          if (pr.maybeUpdate(m.index)) {
            if (pr.state === ProgressState.Probe) {
              pr.becomeReplicate();
            } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= this.raftLog.firstIndex()) {
              // The follower caught up past what we still have in the log: resume normal appends.
              pr.becomeProbe();
              pr.becomeReplicate();
            } else if (pr.state === ProgressState.Replicate) {
              pr.inflights.freeLE(m.index);
            }
            if (this.maybeCommit()) {
              this.releasePendingReadIndexMessages();
              this.bcastAppend();
            } else if (oldPaused) {
              this.sendAppend(m.from);
            }
            // Keep the pipe full up to the flow-control bound.
            while (this.maybeSendAppend(m.from, false)) {
              /* loop */
            }
            if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
              this.sendTimeoutNow(m.from);
            }
          }
        }
        return undefined;
      }
      case MessageType.HeartbeatResp: {
        pr.recentActive = true;
        pr.msgAppFlowPaused = false;
        // If every MsgApp in a full window was lost, no ack will ever free it: let one more
        // message out per heartbeat, which the follower rejects, sending us back to probing.
        if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (m.leaseTick > pr.leaseAckTick) pr.leaseAckTick = m.leaseTick;
        if (pr.match < this.raftLog.lastIndex()) this.sendAppend(m.from);
        if (m.context.length === 0) return undefined;
        const acks = this.readOnly.recvAck(m.from, m.context);
        if (!acks) return undefined;
        let granted = 0;
        for (const id of this.trk.voters) if (acks.has(id)) granted++;
        if (granted <= Math.floor(this.trk.voters.size / 2)) return undefined;
        for (const rs of this.readOnly.advance(m.context)) {
          const resp = this.responseToReadIndexReq(rs.req, rs.index);
          if (resp) this.send(resp);
        }
        return undefined;
      }
      case MessageType.SnapStatus:
        if (pr.state !== ProgressState.Snapshot) return undefined;
        if (m.reject) {
          // The snapshot failed: forget it, probe again, and a new snapshot is sent if needed.
          pr.pendingSnapshot = 0;
        }
        pr.becomeProbe();
        // Wait for the follower's MsgAppResp (or the next heartbeat) before probing further.
        pr.msgAppFlowPaused = true;
        return undefined;
      case MessageType.Unreachable:
        // An unreachable follower may have lost messages: stop optimistic streaming.
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        return undefined;
      case MessageType.TransferLeader: {
        if (pr.isLearner) return undefined;
        const transferee = m.from;
        if (this.leadTransferee !== NONE) {
          if (this.leadTransferee === transferee) return undefined;
          this.abortLeaderTransfer();
        }
        if (transferee === this.id) return undefined;
        // The transfer must finish within an election timeout or it is aborted (thesis §3.10).
        this.electionElapsed = 0;
        this.leadTransferee = transferee;
        if (pr.match === this.raftLog.lastIndex()) this.sendTimeoutNow(transferee);
        else this.sendAppend(transferee);
        return undefined;
      }
    }
    return undefined;
  }

  private sendTimeoutNow(to: number): void {
    // The transferee will campaign ignoring leases: ours can no longer be trusted this term.
    this.leaseRevoked = true;
    this.send(message({ type: MessageType.TimeoutNow, to }));
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0) return;
    if (!this.committedEntryInCurrentTerm()) return;
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.sendMsgReadIndexResponse(m);
  }

  private sendMsgReadIndexResponse(m: Message): StepResult {
    if (this.readOnlyOption === 'lease-based' && this.leaseValid()) {
      const resp = this.responseToReadIndexReq(m, this.raftLog.committed);
      if (resp) this.send(resp);
      return undefined;
    }
    if (this.readOnly.size() >= readIndexRequestsMax) return new ProposalDroppedError('too many pending read index requests');
    const ctx = (m.entries[0] as Entry).data;
    this.readOnly.addRequest(this.raftLog.committed, m);
    this.readOnly.recvAck(this.id, ctx);
    this.bcastHeartbeatWithCtx(ctx);
    return undefined;
  }

  private responseToReadIndexReq(req: Message, readIndex: number): Message | undefined {
    const ctx = (req.entries[0] as Entry).data;
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index: readIndex, requestCtx: ctx });
      return undefined;
    }
    return message({ type: MessageType.ReadIndexResp, to: req.from, index: readIndex, entries: req.entries });
  }

  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrUndefined(this.raftLog.committed) === this.term;
  }

  /**
   * The tick at which this leader's lease started: the latest leader tick t such that a quorum of
   * voters acknowledged a heartbeat sent at or after t. Each of them then refuses to vote for
   * anyone else for an election timeout of its own ticks (see inLease), so no other leader can
   * exist before t + electionTimeout, less the clock drift we allow for.
   */
  leaseStartTick(): number {
    return quorumValue(
      this.trk.voters,
      (id) => (id === this.id ? this.tickCount : this.trk.progress.get(id)?.leaseAckTick),
      Number.NEGATIVE_INFINITY,
    );
  }

  /** True if this leader may serve reads from its state without a quorum round. */
  leaseValid(): boolean {
    if (this.state !== StateType.Leader || !this.checkQuorum) return false;
    if (this.leaseRevoked || this.leadTransferee !== NONE || this.quiesced) return false;
    if (!this.committedEntryInCurrentTerm()) return false;
    const start = this.leaseStartTick();
    return this.tickCount - start < this.electionTimeout - this.clockDriftTicksMax;
  }

  /** Forget every follower's lease acknowledgement; the lease must be renewed by new heartbeats. */
  resetLeaseAcks(): void {
    this.trk.visit((id, pr) => {
      if (id !== this.id) pr.leaseAckTick = Number.NEGATIVE_INFINITY;
    });
  }

  private stepCandidate(m: Message): StepResult {
    // Only handle vote responses matching our candidacy type; stale ones from an earlier
    // pre-campaign must not count.
    const myVoteRespType = this.state === StateType.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.Prop:
        return new ProposalDroppedError(`no leader at term ${this.term}`);
      case MessageType.App:
        this.becomeFollower(m.term, m.from); // §5.2: a valid leader for our term exists
        this.handleAppendEntries(m);
        return undefined;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return undefined;
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return undefined;
      case MessageType.ReadIndex:
        return new ProposalDroppedError(`no leader at term ${this.term}`);
      case MessageType.TimeoutNow:
        return undefined;
      default:
        if (m.type === myVoteRespType) {
          const res = this.poll(m.from, m.type, !m.reject);
          if (res === VoteResult.Won) {
            if (this.state === StateType.PreCandidate) {
              this.campaign(CampaignType.Election);
            } else {
              this.becomeLeader();
              this.bcastAppend();
            }
          } else if (res === VoteResult.Lost) {
            // A pre-candidate that lost stays at its term; its vote reverts to none as followers do.
            this.becomeFollower(this.term, NONE);
          }
        }
        return undefined;
    }
  }

  private stepFollower(m: Message): StepResult {
    switch (m.type) {
      case MessageType.Prop:
        if (this.lead === NONE) return new ProposalDroppedError(`no leader at term ${this.term}`);
        if (this.disableProposalForwarding) return new ProposalDroppedError('proposal forwarding is disabled');
        m.to = this.lead;
        m.term = 0;
        this.send(m);
        return undefined;
      case MessageType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return undefined;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return undefined;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return undefined;
      case MessageType.TransferLeader:
        if (this.lead === NONE) return undefined;
        m.to = this.lead;
        m.term = 0;
        this.send(m);
        return undefined;
      case MessageType.TimeoutNow:
        // Leadership transfer: campaign at once, skipping pre-vote and leases (thesis §3.10).
        this.hup(CampaignType.Transfer);
        return undefined;
      case MessageType.ReadIndex:
        if (this.lead === NONE) return new ProposalDroppedError(`no leader at term ${this.term}`);
        m.to = this.lead;
        m.term = 0;
        this.send(m);
        return undefined;
      case MessageType.ReadIndexResp:
        if (m.entries.length !== 1) return undefined;
        this.readStates.push({ index: m.index, requestCtx: (m.entries[0] as Entry).data });
        return undefined;
    }
    return undefined;
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      this.send(message({ type: MessageType.AppResp, to: m.from, index: this.raftLog.committed }));
      return;
    }
    const last = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (last !== undefined) {
      this.send(message({ type: MessageType.AppResp, to: m.from, index: last }));
      return;
    }
    // Reject, with a hint: the largest index <= min(m.index, lastIndex) whose term is <= m.logTerm.
    // Every entry after the hint certainly mismatches the leader's log, so the leader can skip them.
    let hintIndex = Math.min(m.index, this.raftLog.lastIndex());
    hintIndex = this.raftLog.findConflictByTerm(hintIndex, m.logTerm);
    const hintTerm = this.raftLog.termOrUndefined(hintIndex) ?? 0;
    this.send(
      message({ type: MessageType.AppResp, to: m.from, index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm }),
    );
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(Math.min(m.commit, this.raftLog.lastIndex()));
    this.send(message({ type: MessageType.HeartbeatResp, to: m.from, context: m.context, leaseTick: m.leaseTick }));
    if (m.quiesce && this.raftLog.committed === this.raftLog.lastIndex() && m.commit === this.raftLog.lastIndex()) {
      this.quiesced = true;
    }
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot as Snapshot;
    if (this.restore(s)) {
      this.send(message({ type: MessageType.AppResp, to: m.from, index: this.raftLog.lastIndex() }));
    } else {
      this.send(message({ type: MessageType.AppResp, to: m.from, index: this.raftLog.committed }));
    }
  }

  /** Installs a snapshot if it is newer than what we have committed. */
  private restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false;
    if (this.state !== StateType.Follower) {
      // Defensive: only followers receive snapshots; never install one as a candidate/leader.
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    const cs = s.metadata.confState;
    if (!cs.voters.includes(this.id) && !cs.learners.includes(this.id)) {
      this.logger.warn(`${this.id} attempted to restore snapshot but it is not in the ConfState`);
      return false;
    }
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      // We already have the snapshot's last entry: just fast-forward the commit index.
      this.raftLog.commitTo(s.metadata.index);
      return false;
    }
    this.raftLog.restore(s);
    this.trk = new ProgressTracker(this.trk.inflightMsgsMax, this.trk.inflightBytesMax);
    this.applyConfState(cs);
    this.logger.info(`${this.id} restored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`);
    return true;
  }

  // ---- membership ----------------------------------------------------------------------------

  private applyConfState(cs: ConfState): void {
    const next = this.raftLog.lastIndex() + 1;
    for (const id of cs.voters) {
      this.trk.voters.add(id);
      this.trk.progress.set(id, this.trk.newProgress(next, false));
    }
    for (const id of cs.learners) {
      this.trk.learners.add(id);
      this.trk.progress.set(id, this.trk.newProgress(next, true));
    }
    const self = this.trk.progress.get(this.id);
    if (self) self.match = next - 1;
    this.trk.assertValid();
  }

  /**
   * Applies a committed single-step membership change. The change takes effect when applied, and
   * the leader proposes at most one at a time (pendingConfIndex), which together keep any two
   * consecutive configurations' majorities overlapping (thesis §4.1).
   */
  applyConfChange(cc: ConfChange): ConfState {
    const trk = this.trk;
    const next = this.raftLog.lastIndex() + 1;
    switch (cc.type) {
      case ConfChangeType.AddNode: {
        if (trk.voters.has(cc.nodeId)) break;
        trk.voters.add(cc.nodeId);
        if (trk.learners.delete(cc.nodeId)) {
          (trk.progress.get(cc.nodeId) as Progress).isLearner = false;
        } else {
          const pr = trk.newProgress(next, false);
          // A new node must be contacted (snapshot/probe) even before CheckQuorum hears from it.
          pr.recentActive = true;
          trk.progress.set(cc.nodeId, pr);
        }
        break;
      }
      case ConfChangeType.AddLearner: {
        if (trk.learners.has(cc.nodeId)) break;
        trk.learners.add(cc.nodeId);
        if (trk.voters.delete(cc.nodeId)) {
          (trk.progress.get(cc.nodeId) as Progress).isLearner = true;
        } else {
          const pr = trk.newProgress(next, true);
          pr.recentActive = true;
          trk.progress.set(cc.nodeId, pr);
        }
        break;
      }
      case ConfChangeType.RemoveNode:
        trk.voters.delete(cc.nodeId);
        trk.learners.delete(cc.nodeId);
        trk.progress.delete(cc.nodeId);
        if (cc.nodeId === this.id) this.removed = true;
        break;
    }
    trk.assertValid();
    if (this.state === StateType.Leader) {
      if (!trk.progress.has(this.id) || !trk.voters.has(this.id)) {
        // A removed or demoted leader steps down; the rest elect a new leader.
        this.becomeFollower(this.term, NONE);
        return trk.confState();
      }
      if (this.leadTransferee !== NONE && !trk.voters.has(this.leadTransferee)) this.abortLeaderTransfer();
      // The quorum changed: removing a voter may make more entries committed.
      if (this.maybeCommit()) this.bcastAppend();
      else
        trk.visit((id) => {
          if (id !== this.id) this.maybeSendAppend(id, false);
        });
    }
    return trk.confState();
  }

  /** Decodes conf change entries; used by tests and helpers. */
  static confChangeOf(e: Entry): ConfChange | undefined {
    return e.type === EntryType.ConfChange ? decodeConfChange(e.data) : undefined;
  }
}

export { CampaignType };
