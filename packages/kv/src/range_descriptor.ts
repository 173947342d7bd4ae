import { KeyspaceSystem, keyMax, keyMin } from './keys.js';

/** The first key of the user keyspace (the /Local keyspace below it belongs to no range's data). */
export const userKeyMin = Buffer.from([KeyspaceSystem]);

/**
 * A range: a contiguous span [startKey, endKey) of the keyspace, replicated as one Raft group.
 * Its descriptor is replicated state (written only by applying the range's log): the span, the
 * replicas and a generation that grows with every change of either.
 *
 * A replica is identified by its replicaId, unique within the range and never reused: a node
 * whose replica was removed and that is added again gets a new id (Raft must never confuse the
 * two: the old one's votes and log belong to a removed member). Raft node ids are replica ids.
 */
export type ReplicaType = 'voter' | 'learner';

export interface ReplicaDescriptor {
  nodeId: number;
  storeId: number;
  replicaId: number;
  type: ReplicaType;
}

export interface RangeDescriptor {
  rangeId: number;
  startKey: Buffer;
  endKey: Buffer;
  replicas: ReplicaDescriptor[];
  /** The replicaId the next added replica gets. */
  nextReplicaId: number;
  /** Grows with every change of span or membership. */
  generation: number;
}

interface DescriptorJson {
  v?: number;
  rangeId: number;
  startKey: string;
  endKey: string;
  replicas: (ReplicaDescriptor | number)[];
  nextReplicaId?: number;
  generation?: number;
}

export function encodeDescriptor(d: RangeDescriptor): Buffer {
  const j: DescriptorJson = {
    v: 2,
    rangeId: d.rangeId,
    startKey: d.startKey.toString('hex'),
    endKey: d.endKey.toString('hex'),
    replicas: d.replicas,
    nextReplicaId: d.nextReplicaId,
    generation: d.generation,
  };
  return Buffer.from(JSON.stringify(j));
}

/** Decodes a descriptor; the single-node layout's (replicas as node ids) reads as replicaId = nodeId. */
export function decodeDescriptor(b: Buffer): RangeDescriptor {
  const o = JSON.parse(b.toString()) as DescriptorJson;
  const replicas = o.replicas.map((r): ReplicaDescriptor => (typeof r === 'number' ? { nodeId: r, storeId: r, replicaId: r, type: 'voter' } : r));
  return {
    rangeId: o.rangeId,
    startKey: Buffer.from(o.startKey, 'hex'),
    endKey: Buffer.from(o.endKey, 'hex'),
    replicas,
    nextReplicaId: o.nextReplicaId ?? Math.max(0, ...replicas.map((r) => r.replicaId)) + 1,
    generation: o.generation ?? 0,
  };
}

/** The first range of a new cluster: the whole keyspace, one voter on the bootstrapping node. */
export function wholeKeyspace(rangeId: number, nodeId: number): RangeDescriptor {
  return { rangeId, startKey: keyMin, endKey: keyMax, replicas: [{ nodeId, storeId: nodeId, replicaId: 1, type: 'voter' }], nextReplicaId: 2, generation: 0 };
}

export function containsKey(d: RangeDescriptor, key: Uint8Array): boolean {
  return Buffer.compare(key, d.startKey) >= 0 && Buffer.compare(key, d.endKey) < 0;
}

/** Whether [start, end) lies within the range. */
export function containsSpan(d: RangeDescriptor, start: Uint8Array, end: Uint8Array): boolean {
  return Buffer.compare(start, d.startKey) >= 0 && Buffer.compare(end, d.endKey) <= 0;
}

/** The range's span of user keys (the local keyspace belongs to no range's data). */
export function userSpanOf(d: RangeDescriptor): [Buffer, Buffer] {
  return [Buffer.compare(d.startKey, userKeyMin) < 0 ? userKeyMin : d.startKey, d.endKey];
}

/** Voter and learner replica ids (Raft's configuration). */
export function confStateOf(d: RangeDescriptor): { voters: number[]; learners: number[] } {
  return {
    voters: d.replicas.filter((r) => r.type === 'voter').map((r) => r.replicaId),
    learners: d.replicas.filter((r) => r.type === 'learner').map((r) => r.replicaId),
  };
}

export function replicaOnNode(d: RangeDescriptor, nodeId: number): ReplicaDescriptor | undefined {
  return d.replicas.find((r) => r.nodeId === nodeId);
}

export function replicaById(d: RangeDescriptor, replicaId: number): ReplicaDescriptor | undefined {
  return d.replicas.find((r) => r.replicaId === replicaId);
}

export function describeRange(d: RangeDescriptor): string {
  return `r${d.rangeId}:gen${d.generation}[${d.replicas.map((r) => `n${r.nodeId}/${r.replicaId}${r.type === 'learner' ? 'L' : ''}`).join(',')}]`;
}
