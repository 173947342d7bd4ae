/**
 * A replica's persistent state in the engine (keys.ts): replicated (applied index and term,
 * descriptor, lease, GC threshold) and unreplicated (log truncation, tombstone, log format).
 */
import type { Engine } from '@strata/kv';
import { decodeDescriptor, encodeDescriptor } from '@strata/kv';
import type { RangeDescriptor } from '@strata/kv';
import { legacyAppliedKey, legacyDescKey, replicatedKey, replicatedName, unreplicatedKey, unreplicatedName } from '../keys.js';
import { decodeLease, encodeLease } from './lease.js';
import type { Lease } from './lease.js';

export interface IndexTerm {
  index: number;
  term: number;
}

export function encodeIndexTerm(x: IndexTerm): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeDoubleBE(x.index, 0);
  b.writeDoubleBE(x.term, 8);
  return b;
}

export function decodeIndexTerm(b: Buffer | undefined): IndexTerm | null {
  if (!b || b.length < 16) return null;
  return { index: b.readDoubleBE(0), term: b.readDoubleBE(8) };
}

export function encodeU64(v: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(v, 0);
  return b;
}

export function decodeU64(b: Buffer | undefined): bigint {
  return b && b.length >= 8 ? b.readBigUInt64BE(0) : 0n;
}

export function encodeNumber(v: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleBE(v, 0);
  return b;
}

export function decodeNumber(b: Buffer | undefined): number | null {
  return b && b.length >= 8 ? b.readDoubleBE(0) : null;
}

/** Everything a replica reads from the engine when the store opens. */
export interface ReplicaState {
  desc: RangeDescriptor;
  applied: IndexTerm;
  lease: Lease;
  /** [index, seq] of lease changes at or after the log's truncated index (and the last one before). */
  leaseHistory: [number, number][];
  gcThreshold: bigint;
  truncated: IndexTerm;
  /** Entries below this index are in the legacy (pre-envelope) format. */
  envelopeFrom: number;
}

export const appliedKey = (rangeId: number) => replicatedKey(rangeId, replicatedName.applied);
export const descKey = (rangeId: number) => replicatedKey(rangeId, replicatedName.desc);
export const leaseKey = (rangeId: number) => replicatedKey(rangeId, replicatedName.lease);
export const leaseHistoryKey = (rangeId: number) => unreplicatedKey(rangeId, unreplicatedName.leaseHistory);
export const gcThresholdKey = (rangeId: number) => replicatedKey(rangeId, replicatedName.gcThreshold);
export const truncatedKey = (rangeId: number) => unreplicatedKey(rangeId, unreplicatedName.truncated);
export const tombstoneKey = (rangeId: number) => unreplicatedKey(rangeId, unreplicatedName.tombstone);
export const envelopeFromKey = (rangeId: number) => unreplicatedKey(rangeId, unreplicatedName.envelopeFrom);

export function loadReplicaState(engine: Engine, rangeId: number): ReplicaState | null {
  const d = engine.get(descKey(rangeId));
  if (!d) return null;
  const applied = decodeIndexTerm(engine.get(appliedKey(rangeId)));
  if (!applied) return null; // a snapshot was being applied: uninitialized (see Store.open)
  return {
    desc: decodeDescriptor(d),
    applied,
    lease: decodeLease(engine.get(leaseKey(rangeId))),
    leaseHistory: decodeLeaseHistory(engine.get(leaseHistoryKey(rangeId))),
    gcThreshold: decodeU64(engine.get(gcThresholdKey(rangeId))),
    truncated: decodeIndexTerm(engine.get(truncatedKey(rangeId))) ?? applied,
    envelopeFrom: decodeNumber(engine.get(envelopeFromKey(rangeId))) ?? 0,
  };
}

/** The writes that create a range's initial state (bootstrap: an empty snapshot at index 1, term 1). */
export function initialStateWrites(
  desc: RangeDescriptor,
  at: IndexTerm = { index: 1, term: 1 },
): { key: Buffer; value: Buffer }[] {
  return [
    { key: descKey(desc.rangeId), value: encodeDescriptor(desc) },
    { key: appliedKey(desc.rangeId), value: encodeIndexTerm(at) },
    { key: truncatedKey(desc.rangeId), value: encodeIndexTerm(at) },
    { key: leaseKey(desc.rangeId), value: encodeLease({ seq: 0, replicaId: 0, nodeId: 0, start: 0n }) },
  ];
}

/**
 * Stores written before range-local keys existed keep their one range's applied state and
 * descriptor under /Local/applied|desc/<id>: move them, and record that the entries already in the
 * log are in the legacy format. Returns the range ids migrated.
 */
export function migrateLegacyState(engine: Engine, logLastIndex: (rangeId: number) => number): number[] {
  const migrated: number[] = [];
  for (let rangeId = 1; rangeId <= 1; rangeId++) {
    const d = engine.get(legacyDescKey(rangeId));
    const a = engine.get(legacyAppliedKey(rangeId));
    if (!d || !a) continue;
    const desc = decodeDescriptor(d);
    const applied = decodeIndexTerm(a) as IndexTerm;
    engine.write([
      { key: descKey(rangeId), value: encodeDescriptor(desc) },
      { key: appliedKey(rangeId), value: encodeIndexTerm(applied) },
      { key: truncatedKey(rangeId), value: encodeIndexTerm(applied) },
      { key: envelopeFromKey(rangeId), value: encodeNumber(Math.max(applied.index, logLastIndex(rangeId)) + 1) },
      { key: legacyDescKey(rangeId), value: null },
      { key: legacyAppliedKey(rangeId), value: null },
    ]);
    migrated.push(rangeId);
  }
  return migrated;
}

export function encodeLeaseHistory(h: [number, number][]): Buffer {
  return Buffer.from(JSON.stringify(h));
}

export function decodeLeaseHistory(b: Buffer | undefined): [number, number][] {
  return b ? (JSON.parse(b.toString()) as [number, number][]) : [];
}

/** The lease sequence in effect for an entry at `index`, from the history (0: none recorded). */
export function leaseSeqAt(history: [number, number][], index: number): number {
  let seq = 0;
  for (const [i, s] of history) if (i < index) seq = s;
  return seq;
}
