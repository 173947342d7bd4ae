import { keyMax, keyMin } from '@strata/kv';

/**
 * A range: a contiguous span [startKey, endKey) of the keyspace, replicated as one Raft group.
 * In single-node mode one range spans the whole keyspace (splits come with the cluster, which also
 * brings the cross-range atomic commit they require).
 */
export interface RangeDescriptor {
  rangeId: number;
  startKey: Buffer;
  endKey: Buffer;
  /** Node ids of the voters. */
  replicas: number[];
}

export function encodeDescriptor(d: RangeDescriptor): Buffer {
  return Buffer.from(
    JSON.stringify({ rangeId: d.rangeId, startKey: d.startKey.toString('hex'), endKey: d.endKey.toString('hex'), replicas: d.replicas }),
  );
}

export function decodeDescriptor(b: Buffer): RangeDescriptor {
  const o = JSON.parse(b.toString()) as { rangeId: number; startKey: string; endKey: string; replicas: number[] };
  return { rangeId: o.rangeId, startKey: Buffer.from(o.startKey, 'hex'), endKey: Buffer.from(o.endKey, 'hex'), replicas: o.replicas };
}

export function wholeKeyspace(rangeId: number, nodeId: number): RangeDescriptor {
  return { rangeId, startKey: keyMin, endKey: keyMax, replicas: [nodeId] };
}

export function containsKey(d: RangeDescriptor, key: Uint8Array): boolean {
  return Buffer.compare(key, d.startKey) >= 0 && Buffer.compare(key, d.endKey) < 0;
}
