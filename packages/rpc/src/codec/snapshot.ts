/**
 * proto/snapshot.proto ⇄ packages/store transport.ts: the messages of one snapshot stream (the
 * header, KV_BATCH and TS_BATCH chunks, the final marker) and the receiver's answer.
 */
import type { SnapshotChunk, SnapshotHeader } from '@strata/store';
import { protoType } from '../proto.js';
import { errorFromWire, errorToWire } from './errors.js';
import type { PbError } from './errors.js';
import { messageFromWire, messageToWire } from './raft.js';
import type { PbMessage } from './raft.js';
import { WireFormatError, asBuffer, bigU64, bytes, need, numU32, numU64, u32, u64, u64n } from './wire.js';
import type { Wire64 } from './wire.js';

/** One message of a snapshot stream. */
export type SnapshotPart = { kind: 'header'; header: SnapshotHeader } | { kind: 'chunk'; chunk: SnapshotChunk } | { kind: 'final' };

interface PbHeader {
  rangeId: Wire64;
  fromNodeId: number;
  toNodeId: number;
  fromReplicaId: number;
  toReplicaId: number;
  index: Wire64;
  term: Wire64;
  message: PbMessage | null;
  descriptor: Uint8Array;
  now: Wire64;
  strategy: number;
}
interface PbSnapshotRequest {
  part?: string;
  header?: PbHeader | null;
  kv?: { keys: Uint8Array[]; values: Uint8Array[] } | null;
  tsFile?: { path: string; offset: Wire64; data: Uint8Array; last: boolean } | null;
  final?: object | null;
}

/** SnapshotStrategy KV_BATCH_TS_BATCH. */
const strategyKvTs = 1;

function headerToWire(h: SnapshotHeader): PbHeader {
  return {
    rangeId: u64n(h.rangeId, 'rangeId'),
    fromNodeId: u32(h.fromNodeId, 'fromNodeId'),
    toNodeId: u32(h.toNodeId, 'toNodeId'),
    fromReplicaId: u32(h.fromReplicaId, 'fromReplicaId'),
    toReplicaId: u32(h.toReplicaId, 'toReplicaId'),
    index: u64n(h.index, 'index'),
    term: u64n(h.term, 'term'),
    message: messageToWire(h.message),
    descriptor: h.descriptor,
    now: u64(h.now, 'now'),
    strategy: strategyKvTs,
  };
}

function headerFromWire(p: PbHeader): SnapshotHeader {
  if (p.strategy !== strategyKvTs) throw new WireFormatError(`snapshot strategy ${p.strategy}`);
  return {
    rangeId: numU64(p.rangeId, 'rangeId'),
    fromNodeId: numU32(p.fromNodeId),
    toNodeId: numU32(p.toNodeId),
    fromReplicaId: numU32(p.fromReplicaId),
    toReplicaId: numU32(p.toReplicaId),
    index: numU64(p.index, 'index'),
    term: numU64(p.term, 'term'),
    message: messageFromWire(need(p.message, 'snapshot message')),
    descriptor: bytes(p.descriptor),
    now: bigU64(p.now),
    strategy: 'KV_BATCH+TS_BATCH',
  };
}

export function encodeSnapshotPart(part: SnapshotPart): Buffer {
  let wire: PbSnapshotRequest;
  if (part.kind === 'header') wire = { header: headerToWire(part.header) };
  else if (part.kind === 'final') wire = { final: {} };
  else {
    const c = part.chunk;
    wire =
      c.kind === 'kv'
        ? { kv: { keys: c.keys, values: c.values } }
        : { tsFile: { path: c.path, offset: u64n(c.offset, 'ts file offset'), data: c.data, last: c.last } };
  }
  return asBuffer(protoType('strata.snapshot.SnapshotRequest').encode(wire).finish());
}

export function decodeSnapshotPart(buf: Uint8Array): SnapshotPart {
  const p = protoType('strata.snapshot.SnapshotRequest').decode(buf) as unknown as PbSnapshotRequest;
  switch (p.part) {
    case 'header':
      return { kind: 'header', header: headerFromWire(need(p.header, 'snapshot header')) };
    case 'kv': {
      const kv = need(p.kv, 'kv chunk');
      if (kv.keys.length !== kv.values.length) throw new WireFormatError(`kv chunk with ${kv.keys.length} keys and ${kv.values.length} values`);
      return { kind: 'chunk', chunk: { kind: 'kv', keys: kv.keys.map(bytes), values: kv.values.map(bytes) } };
    }
    case 'tsFile': {
      const f = need(p.tsFile, 'ts file chunk');
      return { kind: 'chunk', chunk: { kind: 'tsFile', path: f.path ?? '', offset: numU64(f.offset, 'ts file offset'), data: bytes(f.data), last: f.last === true } };
    }
    case 'final':
      return { kind: 'final' };
    default:
      throw new WireFormatError('snapshot message without a part');
  }
}

/** The receiver's answer: ok (null) or the error that stopped it. */
export function encodeSnapshotResponse(error: unknown | null): Buffer {
  const wire: { error: PbError | null } = { error: error === null ? null : errorToWire(error) };
  return asBuffer(protoType('strata.snapshot.SnapshotResponse').encode(wire).finish());
}

export function decodeSnapshotResponse(buf: Uint8Array, fromNodeId: number): Error | null {
  const p = protoType('strata.snapshot.SnapshotResponse').decode(buf) as unknown as { error: PbError | null };
  return p.error ? errorFromWire(p.error, fromNodeId) : null;
}
