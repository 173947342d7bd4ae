import { entryOverheadBytes } from './constants.js';

/**
 * The data types of the Raft state machine. These are plain data: the library never serializes
 * them; the caller's transport and storage choose an encoding (Strata uses proto/raft.proto).
 */

export const EntryType = { Normal: 0, ConfChange: 1 } as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** The persistent state of Raft (Figure 2): currentTerm, votedFor, plus the commit index. */
export interface HardState {
  term: number;
  vote: number;
  commit: number;
}

export const StateType = {
  Follower: 'Follower',
  Candidate: 'Candidate',
  Leader: 'Leader',
  PreCandidate: 'PreCandidate',
} as const;
export type StateType = (typeof StateType)[keyof typeof StateType];

/** Volatile state worth reporting to the caller when it changes (not persisted). */
export interface SoftState {
  lead: number;
  raftState: StateType;
}

/** Membership: voters decide elections and commitment; learners only receive the log. */
export interface ConfState {
  voters: number[];
  learners: number[];
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

/** The snapshot payload is opaque to Raft: the store fills it (KV_BATCH / TS_BATCH streaming). */
export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

/**
 * Single-step membership changes (Raft thesis §4.1, "one server at a time"). See README §Membership
 * for why single-step and not joint consensus.
 */
export const ConfChangeType = { AddNode: 0, RemoveNode: 1, AddLearner: 2 } as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

export interface ConfChange {
  type: ConfChangeType;
  nodeId: number;
  /** Opaque bytes for the caller (Strata: the proposal envelope with the new range descriptor). */
  context?: Uint8Array;
}

export const MessageType = {
  // Local messages: never sent over the network.
  Hup: 'Hup',
  Beat: 'Beat',
  CheckQuorum: 'CheckQuorum',
  Unreachable: 'Unreachable',
  SnapStatus: 'SnapStatus',
  // Network messages.
  Prop: 'Prop',
  App: 'App',
  AppResp: 'AppResp',
  Vote: 'Vote',
  VoteResp: 'VoteResp',
  PreVote: 'PreVote',
  PreVoteResp: 'PreVoteResp',
  Snap: 'Snap',
  Heartbeat: 'Heartbeat',
  HeartbeatResp: 'HeartbeatResp',
  TransferLeader: 'TransferLeader',
  TimeoutNow: 'TimeoutNow',
  ReadIndex: 'ReadIndex',
  ReadIndexResp: 'ReadIndexResp',
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/**
 * One Raft message. Every field is always present (a monomorphic shape keeps V8 fast); unused
 * fields hold 0, false or empty values.
 */
export interface Message {
  type: MessageType;
  to: number;
  from: number;
  term: number;
  /** MsgApp: term of the entry at `index`. Reject responses: term of the follower's hint entry. */
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  snapshot: Snapshot | null;
  reject: boolean;
  rejectHint: number;
  /** Opaque bytes: ReadIndex request ids carried on heartbeats, or the transfer campaign marker. */
  context: Uint8Array;
  /** Heartbeats: the leader's local tick when sent, echoed back; lease bookkeeping. */
  leaseTick: number;
  /** Heartbeats: the leader asks the group to quiesce (stop ticking) until woken. */
  quiesce: boolean;
}

export const emptyBytes = new Uint8Array(0);

export function message(fields: Partial<Message> & { type: MessageType }): Message {
  return {
    to: 0,
    from: 0,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    snapshot: null,
    reject: false,
    rejectHint: 0,
    context: emptyBytes,
    leaseTick: 0,
    quiesce: false,
    ...fields,
  };
}

/** The result of a ReadIndex request: reads may be served once `applied >= index`. */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

/**
 * What the caller must do next. The contract, in this order:
 *  1. persist `snapshot`, `entries` and `hardState` (fsync if `mustSync`);
 *  2. send `messages` (they may depend on the persisted vote, term and entries);
 *  3. apply `snapshot` then `committedEntries` to the state machine;
 *  4. call `advance(rd)`.
 */
export interface Ready {
  softState: SoftState | null;
  hardState: HardState | null;
  readStates: ReadState[];
  entries: Entry[];
  snapshot: Snapshot | null;
  committedEntries: Entry[];
  messages: Message[];
  mustSync: boolean;
}

export function isLocalMessage(t: MessageType): boolean {
  return (
    t === MessageType.Hup ||
    t === MessageType.Beat ||
    t === MessageType.CheckQuorum ||
    t === MessageType.Unreachable ||
    t === MessageType.SnapStatus
  );
}

export function isResponseMessage(t: MessageType): boolean {
  return (
    t === MessageType.AppResp ||
    t === MessageType.VoteResp ||
    t === MessageType.PreVoteResp ||
    t === MessageType.HeartbeatResp ||
    t === MessageType.Unreachable ||
    t === MessageType.SnapStatus
  );
}

export function voteRespType(t: MessageType): MessageType {
  if (t === MessageType.Vote) return MessageType.VoteResp;
  if (t === MessageType.PreVote) return MessageType.PreVoteResp;
  throw new Error(`not a vote message: ${t}`);
}

export function entryBytes(e: Entry): number {
  return e.data.length + entryOverheadBytes;
}

export function entriesBytes(ents: readonly Entry[]): number {
  let n = 0;
  for (const e of ents) n += e.data.length + entryOverheadBytes;
  return n;
}

export function confStateEquals(a: ConfState, b: ConfState): boolean {
  const eq = (x: number[], y: number[]) => {
    if (x.length !== y.length) return false;
    const xs = [...x].sort((p, q) => p - q);
    const ys = [...y].sort((p, q) => p - q);
    return xs.every((v, i) => v === ys[i]);
  };
  return eq(a.voters, b.voters) && eq(a.learners, b.learners);
}

/** Conf changes travel as entry data: type byte + u32 node id, then the caller's context bytes. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const ctx = cc.context ?? emptyBytes;
  const b = new Uint8Array(5 + ctx.length);
  b[0] = cc.type;
  new DataView(b.buffer).setUint32(1, cc.nodeId, false);
  b.set(ctx, 5);
  return b;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.length < 5) throw new Error(`conf change: want at least 5 bytes, got ${data.length}`);
  const type = data[0] as number;
  if (type !== 0 && type !== 1 && type !== 2) throw new Error(`conf change: unknown type ${type}`);
  const nodeId = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(1, false);
  return data.length === 5 ? { type, nodeId } : { type, nodeId, context: data.subarray(5) };
}
