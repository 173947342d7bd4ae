/**
 * proto/node.proto's admin calls (init, join, node status, decommission): plain messages, the
 * same shapes on both sides. Failures travel as gRPC statuses with the message text (admin.ts).
 */
import { protoType } from '../proto.js';
import { asBuffer } from './wire.js';

export interface JoinRequest {
  rpcAddr: string;
}

export interface NodeAddress {
  nodeId: number;
  rpcAddr: string;
}

export interface JoinResponse {
  clusterId: string;
  nodeId: number;
  nodes: NodeAddress[];
}

export interface InitResponse {
  clusterId: string;
  nodeId: number;
}

export interface NodeStatus {
  id: number;
  rpcAddress: string;
  sqlAddress: string;
  build: string;
  startedAt: string;
  updatedAt: string;
  isLive: boolean;
  replicas: number;
  leaseholders: number;
  membership: string;
}

export interface DecommissionRequest {
  nodeIds: number[];
  done: boolean;
}

export interface CancelQueryRequest {
  pid: number;
  secret: number;
}

export interface NotifyRequest {
  fromNodeId: number;
  notes: { channel: string; payload: string; pid: number }[];
}

/** The admin messages by their proto name (encode/decode with plain objects). */
export const adminTypes = {
  JoinRequest: 'strata.node.JoinRequest',
  JoinResponse: 'strata.node.JoinResponse',
  InitRequest: 'strata.node.InitRequest',
  InitResponse: 'strata.node.InitResponse',
  NodeStatusRequest: 'strata.node.NodeStatusRequest',
  NodeStatusResponse: 'strata.node.NodeStatusResponse',
  DecommissionRequest: 'strata.node.DecommissionRequest',
  DecommissionResponse: 'strata.node.DecommissionResponse',
  CancelQueryRequest: 'strata.node.CancelQueryRequest',
  CancelQueryResponse: 'strata.node.CancelQueryResponse',
  NotifyRequest: 'strata.node.NotifyRequest',
  NotifyResponse: 'strata.node.NotifyResponse',
} as const;

export function encodeAdmin(type: keyof typeof adminTypes, v: object): Buffer {
  const t = protoType(adminTypes[type]);
  const err = t.verify(v);
  if (err) throw new Error(`${type}: ${err}`);
  return asBuffer(t.encode(t.fromObject(v)).finish());
}

export function decodeAdmin<T>(type: keyof typeof adminTypes, buf: Uint8Array): T {
  const t = protoType(adminTypes[type]);
  return t.toObject(t.decode(buf), { defaults: true, arrays: true }) as T;
}
