/**
 * proto/raft.proto ⇄ packages/raft and packages/store transport types: Raft messages with their
 * entries and snapshot metadata, and the per-node-pair RaftMessageBatch.
 */
import { MessageType } from '@strata/raft';
import type { ConfState, Entry, EntryType, Message, Snapshot } from '@strata/raft';
import type { RaftMessageBatch, RaftMessageRequest } from '@strata/store';
import { protoType } from '../proto.js';
import { WireFormatError, asBuffer, bigU64, bytes, inverse, known, need, numU32, numU64, u32, u64, u64n, wireEnum } from './wire.js';
import type { Wire64 } from './wire.js';

/** raft.proto MessageType numbers, index = wire value. */
const messageTypes: readonly (MessageType | undefined)[] = [
  undefined,
  MessageType.Hup,
  MessageType.Beat,
  MessageType.CheckQuorum,
  MessageType.Unreachable,
  MessageType.SnapStatus,
  MessageType.Prop,
  MessageType.App,
  MessageType.AppResp,
  MessageType.Vote,
  MessageType.VoteResp,
  MessageType.PreVote,
  MessageType.PreVoteResp,
  MessageType.Snap,
  MessageType.Heartbeat,
  MessageType.HeartbeatResp,
  MessageType.TransferLeader,
  MessageType.TimeoutNow,
  MessageType.ReadIndex,
  MessageType.ReadIndexResp,
];
const messageTypeWire = inverse(messageTypes);

// ---- decoded shapes (what protobufjs returns for these messages) -----------------------------

interface PbEntry {
  term: Wire64;
  index: Wire64;
  type: number;
  data: Uint8Array;
}
interface PbConfState {
  voters: number[];
  learners: number[];
}
interface PbSnapshot {
  metadata: { index: Wire64; term: Wire64; confState: PbConfState | null } | null;
  data: Uint8Array;
}
export interface PbMessage {
  type: number;
  to: number;
  from: number;
  term: Wire64;
  logTerm: Wire64;
  index: Wire64;
  entries: PbEntry[];
  commit: Wire64;
  snapshot: PbSnapshot | null;
  reject: boolean;
  rejectHint: Wire64;
  context: Uint8Array;
  leaseTick: Wire64;
  quiesce: boolean;
}
interface PbRaftMessageRequest {
  rangeId: Wire64;
  fromReplicaId: number;
  toReplicaId: number;
  message: PbMessage | null;
}
interface PbRaftMessageBatch {
  fromNodeId: number;
  toNodeId: number;
  now: Wire64;
  messages: PbRaftMessageRequest[];
}

// ---- encode ------------------------------------------------------------------------------------

function entryToWire(e: Entry): PbEntry {
  return { term: u64n(e.term, 'entry term'), index: u64n(e.index, 'entry index'), type: e.type, data: asBuffer(e.data) };
}

function confStateToWire(c: ConfState): PbConfState {
  return { voters: c.voters.map((v) => u32(v, 'voter')), learners: c.learners.map((v) => u32(v, 'learner')) };
}

function snapshotToWire(s: Snapshot): PbSnapshot {
  return {
    metadata: { index: u64n(s.metadata.index, 'snapshot index'), term: u64n(s.metadata.term, 'snapshot term'), confState: confStateToWire(s.metadata.confState) },
    data: asBuffer(s.data),
  };
}

export function messageToWire(m: Message): PbMessage {
  return {
    type: wireEnum(messageTypeWire, m.type, 'raft message type'),
    to: u32(m.to, 'to'),
    from: u32(m.from, 'from'),
    term: u64n(m.term, 'term'),
    logTerm: u64n(m.logTerm, 'logTerm'),
    index: u64n(m.index, 'index'),
    entries: m.entries.map(entryToWire),
    commit: u64n(m.commit, 'commit'),
    snapshot: m.snapshot ? snapshotToWire(m.snapshot) : null,
    reject: m.reject,
    rejectHint: u64n(m.rejectHint, 'rejectHint'),
    context: asBuffer(m.context),
    leaseTick: u64n(m.leaseTick, 'leaseTick'),
    quiesce: m.quiesce,
  };
}

function requestToWire(r: RaftMessageRequest): PbRaftMessageRequest {
  return { rangeId: u64n(r.rangeId, 'rangeId'), fromReplicaId: u32(r.fromReplicaId, 'fromReplicaId'), toReplicaId: u32(r.toReplicaId, 'toReplicaId'), message: messageToWire(r.message) };
}

/** Encodes a whole batch (one stream message). */
export function encodeRaftMessageBatch(b: RaftMessageBatch): Buffer {
  const wire: PbRaftMessageBatch = { fromNodeId: u32(b.fromNodeId, 'fromNodeId'), toNodeId: u32(b.toNodeId, 'toNodeId'), now: u64(b.now, 'now'), messages: b.messages.map(requestToWire) };
  return asBuffer(protoType('strata.raft.RaftMessageBatch').encode(wire).finish());
}

/** Encodes one request alone (the transport sizes messages to split an oversized batch). */
export function encodedRequestBytes(r: RaftMessageRequest): number {
  return protoType('strata.raft.RaftMessageRequest').encode(requestToWire(r)).finish().length;
}

// ---- decode ------------------------------------------------------------------------------------

function entryFromWire(p: PbEntry): Entry {
  const type = p.type ?? 0;
  if (type !== 0 && type !== 1) throw new WireFormatError(`entry type ${type}`);
  return { term: numU64(p.term, 'entry term'), index: numU64(p.index, 'entry index'), type: type as EntryType, data: bytes(p.data) };
}

function confStateFromWire(p: PbConfState | null): ConfState {
  const c = need(p, 'snapshot conf state');
  return { voters: c.voters.slice(), learners: c.learners.slice() };
}

function snapshotFromWire(p: PbSnapshot): Snapshot {
  const md = need(p.metadata, 'snapshot metadata');
  return { metadata: { index: numU64(md.index, 'snapshot index'), term: numU64(md.term, 'snapshot term'), confState: confStateFromWire(md.confState) }, data: bytes(p.data) };
}

export function messageFromWire(p: PbMessage): Message {
  return {
    type: known(messageTypes, p.type, 'raft message type'),
    to: numU32(p.to),
    from: numU32(p.from),
    term: numU64(p.term, 'term'),
    logTerm: numU64(p.logTerm, 'logTerm'),
    index: numU64(p.index, 'index'),
    entries: p.entries.map(entryFromWire),
    commit: numU64(p.commit, 'commit'),
    snapshot: p.snapshot ? snapshotFromWire(p.snapshot) : null,
    reject: p.reject === true,
    rejectHint: numU64(p.rejectHint, 'rejectHint'),
    context: bytes(p.context),
    leaseTick: numU64(p.leaseTick, 'leaseTick'),
    quiesce: p.quiesce === true,
  };
}

function requestFromWire(p: PbRaftMessageRequest): RaftMessageRequest {
  return { rangeId: numU64(p.rangeId, 'rangeId'), fromReplicaId: numU32(p.fromReplicaId), toReplicaId: numU32(p.toReplicaId), message: messageFromWire(need(p.message, 'raft message')) };
}

export function decodeRaftMessageBatch(buf: Uint8Array): RaftMessageBatch {
  const p = protoType('strata.raft.RaftMessageBatch').decode(buf) as unknown as PbRaftMessageBatch;
  return { fromNodeId: numU32(p.fromNodeId), toNodeId: numU32(p.toNodeId), now: bigU64(p.now), messages: p.messages.map(requestFromWire) };
}
