/**
 * Range leases: which replica serves reads and evaluates writes, and from which HLC time.
 *
 * Strata uses **leader leases**: the lease holder is the Raft leader, and its lease is valid while
 * Raft's tick lease holds (raft README "Leader leases": a quorum acknowledged a heartbeat within
 * the last election timeout minus the drift margin, so no other leader can exist) and the
 * replicated Lease record names it. A replica that becomes leader proposes a Lease with the next
 * sequence number (compare-and-swap on the previous one at apply, so two contenders cannot both
 * win a sequence). Its HLC interval starts at `start`, and the new holder's timestamp cache starts
 * at start + max clock offset: every read the previous holder served happened before this leader
 * could be elected (its tick lease expired first), at a timestamp at most its clock, which was at
 * most one max offset ahead of ours (see Replica.leaseApplied); when the previous holder was the
 * same node (a restart or re-election), its own clock bounds them and the start suffices — this
 * assumes a node's wall clock does not step back across a restart by more than the time the
 * restart took. Writes that the raised low-water
 * mark pushes into the future wait for the local clock to pass their timestamp before they are
 * acknowledged (commit wait), so no later reader can miss them.
 *
 * Every command carries the lease sequence it was evaluated under and applies only if that is
 * still the range's lease (proposal.ts).
 *
 *   u32 seq | u32 replicaId | u32 nodeId | u64 start
 */
import type { Timestamp } from '@strata/common';

export interface Lease {
  /** 0: no lease yet. Grows by one with every new holder. */
  seq: number;
  replicaId: number;
  nodeId: number;
  /** The HLC time the lease starts. */
  start: Timestamp;
}

export const noLease: Lease = { seq: 0, replicaId: 0, nodeId: 0, start: 0n };

export function encodeLease(l: Lease): Buffer {
  const b = Buffer.allocUnsafe(20);
  b.writeUInt32BE(l.seq, 0);
  b.writeUInt32BE(l.replicaId, 4);
  b.writeUInt32BE(l.nodeId, 8);
  b.writeBigUInt64BE(l.start, 12);
  return b;
}

export function decodeLease(b: Buffer | undefined): Lease {
  if (!b || b.length < 20) return noLease;
  return { seq: b.readUInt32BE(0), replicaId: b.readUInt32BE(4), nodeId: b.readUInt32BE(8), start: b.readBigUInt64BE(12) };
}
