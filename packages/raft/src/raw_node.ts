import { NONE } from './constants.js';
import { ProposalDroppedError, assert } from './errors.js';
import type { Progress } from './progress.js';
import { ProgressState } from './progress.js';
import { CampaignType, Raft } from './raft.js';
import type { RaftConfig } from './raft.js';
import type { ConfChange, ConfState, Entry, HardState, Message, Ready, SoftState } from './types.js';
import { EntryType, MessageType, StateType, encodeConfChange, isLocalMessage, isResponseMessage, message } from './types.js';

export type SnapshotStatus = 'finish' | 'failure';

/** Where a proposal went: appended locally at (index, term), or forwarded to the leader. */
export type ProposalHandle = { kind: 'appended'; index: number; term: number } | { kind: 'forwarded'; to: number };

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  recentActive: boolean;
}

export interface Status {
  id: number;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  leadTransferee: number;
  /** Leader only: per-member replication progress. */
  progress: Map<number, ProgressStatus> | null;
  leaseValid: boolean;
  quiesced: boolean;
  confState: ConfState;
}

/**
 * The caller-facing, thread-unsafe (single event loop) Raft node: etcd's RawNode. Feed it ticks,
 * messages and proposals; drain `ready()`; persist, send, apply in the Ready's order; `advance()`.
 *
 * INVARIANT: between ready() and advance() no other ready() is taken (asserted).
 */
export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private outstanding: Ready | null = null;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /** Advances the logical clock by one tick. A quiesced node ignores ticks. */
  tick(): void {
    if (this.raft.quiesced) return;
    this.raft.tick();
  }

  /** Starts an election now (pre-vote first if enabled). */
  campaign(): void {
    this.wake();
    this.raft.step(message({ type: MessageType.Hup, from: this.raft.id }));
  }

  /**
   * Proposes data to be appended to the log. Throws ProposalDroppedError if it certainly will not
   * be (the caller may retry). Acceptance does not mean commitment: watch the applied entries.
   */
  propose(data: Uint8Array): ProposalHandle {
    return this.proposeEntry({ term: 0, index: 0, type: EntryType.Normal, data });
  }

  /**
   * Proposes several commands as one MsgProp: they are appended together and travel in the same
   * MsgApp, so one round trip commits them all. The store batches the proposals that arrive in
   * one event-loop turn this way. Returns the handle of the last entry.
   */
  proposeBatch(datas: readonly Uint8Array[]): ProposalHandle {
    assert(datas.length > 0, 'proposeBatch: empty batch');
    this.wake();
    const r = this.raft;
    const entries = datas.map((data) => ({ term: 0, index: 0, type: EntryType.Normal, data }));
    const err = r.step(message({ type: MessageType.Prop, from: r.id, entries }));
    if (err) throw err;
    if (r.state === StateType.Leader) return { kind: 'appended', index: r.raftLog.lastIndex(), term: r.term };
    return { kind: 'forwarded', to: r.lead };
  }

  /** Proposes a single-step membership change; at most one may be pending at a time. */
  proposeConfChange(cc: ConfChange): ProposalHandle {
    return this.proposeEntry({ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) });
  }

  private proposeEntry(e: Entry): ProposalHandle {
    this.wake();
    const r = this.raft;
    const err = r.step(message({ type: MessageType.Prop, from: r.id, entries: [e] }));
    if (err) throw err;
    if (r.state === StateType.Leader) return { kind: 'appended', index: r.raftLog.lastIndex(), term: r.term };
    return { kind: 'forwarded', to: r.lead };
  }

  /** Applies a committed conf change entry's change; call when applying that entry. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Delivers a message from the network. Local message types are refused. */
  step(m: Message): void {
    assert(!isLocalMessage(m.type), () => `raw node: cannot step local message ${m.type}`);
    // A quiesce heartbeat and the responses to it carry no new work: they must not wake anyone.
    if (!(m.type === MessageType.Heartbeat && m.quiesce) && m.type !== MessageType.HeartbeatResp) this.wake();
    const r = this.raft;
    // Responses from nodes we do not track (removed, or not yet known) are ignored.
    if (isResponseMessage(m.type) && !r.trk.progress.has(m.from)) return;
    const err = r.step(m);
    // A forwarded proposal dropped here cannot be reported to its remote proposer; it times out there.
    if (err && !(err instanceof ProposalDroppedError)) throw err;
  }

  /**
   * Requests a linearizable read: a ReadState with `ctx` appears in a later Ready; the read may be
   * served once the local applied index reaches its index. Throws ProposalDroppedError if no
   * leader is known.
   */
  readIndex(ctx: Uint8Array): void {
    this.wake();
    const r = this.raft;
    const err = r.step(message({ type: MessageType.ReadIndex, from: NONE, entries: [{ term: 0, index: 0, type: EntryType.Normal, data: ctx }] }));
    if (err) throw err;
  }

  /** Asks the leader to hand leadership to `transferee` (thesis §3.10). */
  transferLeader(transferee: number): void {
    this.wake();
    this.raft.step(message({ type: MessageType.TransferLeader, from: transferee }));
  }

  reportUnreachable(id: number): void {
    this.raft.step(message({ type: MessageType.Unreachable, from: id }));
  }

  reportSnapshot(id: number, status: SnapshotStatus): void {
    this.raft.step(message({ type: MessageType.SnapStatus, from: id, reject: status === 'failure' }));
  }

  hasReady(): boolean {
    const r = this.raft;
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.raftState !== this.prevSoftState.raftState) return true;
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) return true;
    if (r.raftLog.unstable.snapshot) return true;
    if (r.msgs.length > 0 || r.raftLog.unstable.entries.length > 0 || r.raftLog.hasNextCommittedEntries()) return true;
    return r.readStates.length > 0;
  }

  ready(): Ready {
    assert(this.outstanding === null, 'ready() called again before advance()');
    const r = this.raft;
    const ss = r.softState();
    const hs = r.hardState();
    const softChanged = ss.lead !== this.prevSoftState.lead || ss.raftState !== this.prevSoftState.raftState;
    const hardChanged = !hardStateEqual(hs, this.prevHardState);
    const entries = r.raftLog.unstableEntries();
    const rd: Ready = {
      softState: softChanged ? ss : null,
      hardState: hardChanged ? hs : null,
      readStates: r.readStates,
      entries,
      snapshot: r.raftLog.unstable.snapshot,
      committedEntries: r.raftLog.nextCommittedEntries(),
      messages: r.msgs,
      mustSync: entries.length > 0 || (hardChanged && (hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote)),
    };
    if (softChanged) this.prevSoftState = ss;
    r.msgs = [];
    r.readStates = [];
    this.outstanding = rd;
    return rd;
  }

  /** The caller has persisted, sent and applied everything in rd. */
  advance(rd: Ready): void {
    assert(this.outstanding === rd, 'advance() with a Ready that is not the outstanding one');
    this.outstanding = null;
    const r = this.raft;
    if (rd.hardState) this.prevHardState = rd.hardState;
    const nCommitted = rd.committedEntries.length;
    if (nCommitted > 0) {
      const last = rd.committedEntries[nCommitted - 1] as Entry;
      r.raftLog.appliedTo(last.index);
      if (r.state === StateType.Leader) r.reduceUncommittedBytes(rd.committedEntries);
    }
    if (rd.entries.length > 0) {
      const e = rd.entries[rd.entries.length - 1] as Entry;
      r.raftLog.stableTo(e.index, e.term);
    }
    if (rd.snapshot) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
  }

  /** Forgets a Ready that was taken but could not be processed (the node is going down). */
  abandonReady(): void {
    this.outstanding = null;
  }

  // ---- quiescence ----------------------------------------------------------------------------

  /**
   * True if this leader's group is idle and fully replicated, so it may quiesce: every member has
   * the whole log, everything is committed and applied, nothing is pending.
   */
  canQuiesce(): boolean {
    const r = this.raft;
    if (r.state !== StateType.Leader || r.quiesced || r.leadTransferee !== NONE) return false;
    if (this.hasReady() || this.outstanding) return false;
    const last = r.raftLog.lastIndex();
    if (r.raftLog.committed !== last || r.raftLog.applied !== last) return false;
    if (r.readOnly.size() > 0) return false;
    let ok = true;
    r.trk.visit((_id, pr: Progress) => {
      if (pr.match !== last) ok = false;
    });
    return ok;
  }

  /**
   * Quiesces an idle group: the leader tells followers to stop ticking and stops itself. Thousands
   * of idle ranges then cost nothing. Any message, proposal or `wake()` resumes ticking.
   */
  quiesce(): boolean {
    if (!this.canQuiesce()) return false;
    const r = this.raft;
    r.bcastHeartbeat(true);
    r.quiesced = true;
    return true;
  }

  /**
   * Resumes ticking. The store calls this when a message arrives for the group or when node
   * liveness says the leader's node is dead (followers then campaign after an election timeout).
   */
  wake(): void {
    const r = this.raft;
    if (!r.quiesced) return;
    r.quiesced = false;
    // Time passed without ticks: lease acknowledgements from before quiescence prove nothing now.
    if (r.state === StateType.Leader) r.resetLeaseAcks();
  }

  isQuiesced(): boolean {
    return this.raft.quiesced;
  }

  status(): Status {
    const r = this.raft;
    let progress: Map<number, ProgressStatus> | null = null;
    if (r.state === StateType.Leader) {
      progress = new Map();
      r.trk.visit((id, pr) => {
        (progress as Map<number, ProgressStatus>).set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          isLearner: pr.isLearner,
          recentActive: pr.recentActive,
        });
      });
    }
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.raftLog.applied,
      leadTransferee: r.leadTransferee,
      progress,
      leaseValid: r.leaseValid(),
      quiesced: r.quiesced,
      confState: r.trk.confState(),
    };
  }
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export { CampaignType };
