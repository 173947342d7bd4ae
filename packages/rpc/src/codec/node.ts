/** proto/node.proto: the clock-offset ping and its answer. */
import type { Timestamp } from '@strata/common';
import { protoType } from '../proto.js';
import { asBuffer, bigU64, numU32, u32, u64 } from './wire.js';
import type { Wire64 } from './wire.js';

export interface Ping {
  /** The sender (PingRequest) or the answering node (PingResponse). */
  nodeId: number;
  /** Its hybrid clock. */
  now: Timestamp;
  /** Its physical wall clock, ms since the epoch. */
  wallTimeMs: number;
}

interface PbPing {
  fromNodeId?: number;
  nodeId?: number;
  now: Wire64;
  wallTimeMs: number;
}

export function encodePingRequest(p: Ping): Buffer {
  const wire: PbPing = { fromNodeId: u32(p.nodeId, 'nodeId'), now: u64(p.now, 'now'), wallTimeMs: p.wallTimeMs };
  return asBuffer(protoType('strata.node.PingRequest').encode(wire).finish());
}

export function decodePingRequest(buf: Uint8Array): Ping {
  const p = protoType('strata.node.PingRequest').decode(buf) as unknown as PbPing;
  return { nodeId: numU32(p.fromNodeId), now: bigU64(p.now), wallTimeMs: p.wallTimeMs ?? 0 };
}

export function encodePingResponse(p: Ping): Buffer {
  const wire: PbPing = { nodeId: u32(p.nodeId, 'nodeId'), now: u64(p.now, 'now'), wallTimeMs: p.wallTimeMs };
  return asBuffer(protoType('strata.node.PingResponse').encode(wire).finish());
}

export function decodePingResponse(buf: Uint8Array): Ping {
  const p = protoType('strata.node.PingResponse').decode(buf) as unknown as PbPing;
  return { nodeId: numU32(p.nodeId), now: bigU64(p.now), wallTimeMs: p.wallTimeMs ?? 0 };
}
