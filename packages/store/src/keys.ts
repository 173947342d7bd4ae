/**
 * Range-ID-local keys: the per-range state a replica keeps in the engine, outside the user
 * keyspace (the /Local keyspace, 0x01, which no range's user span includes).
 *
 *   /Local/r/<rangeId>/<name>  replicated: written only by applying the range's log, identical on
 *                              every replica at equal applied index, and carried by KV_BATCH
 *                              snapshots (applied state, descriptor, lease, GC threshold,
 *                              transaction records at /Local/r/<rangeId>/txn/<txnId>).
 *   /Local/u/<rangeId>/<name>  unreplicated: this replica's own bookkeeping (log truncation,
 *                              tombstone of a removed replica, log format).
 *
 * These are raw engine keys (no MVCC timestamp suffix).
 */
import { KeyspaceLocal, localKey, prefixEnd } from '@strata/kv';
export { userKeyMin } from '@strata/kv';

export const replicatedName = {
  applied: 'applied',
  desc: 'desc',
  lease: 'lease',
  gcThreshold: 'gc',
} as const;

export const unreplicatedName = {
  truncated: 'truncated',
  tombstone: 'tombstone',
  /**
   * [log index, lease sequence] of the lease changes since the log's truncated index (and the last
   * one before): which lease each entry still in the log ran under, for replaying TS commands.
   * Each replica keeps its own (it depends on its own truncation).
   */
  leaseHistory: 'leases',
  /** Entries at or after this index use the proposal envelope of proposal.ts (older: the legacy format). */
  envelopeFrom: 'envelope',
} as const;

export function replicatedKey(rangeId: number, name: string): Buffer {
  return localKey('r', rangeId, name);
}

export function unreplicatedKey(rangeId: number, name: string): Buffer {
  return localKey('u', rangeId, name);
}

/** The record of a transaction that wrote intents in the range (batcheval/txn_record.ts). */
export function txnRecordKey(rangeId: number, txnId: string): Buffer {
  return localKey('r', rangeId, 'txn', txnId);
}

/** Every transaction record of a range: [start, end). */
export function txnRecordSpan(rangeId: number): [Buffer, Buffer] {
  const p = localKey('r', rangeId, 'txn');
  return [p, prefixEnd(p)];
}

/** Every replicated range-local key of a range: [start, end). */
export function replicatedSpan(rangeId: number): [Buffer, Buffer] {
  const p = localKey('r', rangeId);
  return [p, prefixEnd(p)];
}

export function unreplicatedSpan(rangeId: number): [Buffer, Buffer] {
  const p = localKey('u', rangeId);
  return [p, prefixEnd(p)];
}

/** Every range's replicated keys on the store (scanned at start for descriptors): all of /Local/r/. */
export function allReplicatedSpan(): [Buffer, Buffer] {
  const p = localKey('r');
  return [p, prefixEnd(p)];
}

/** The range id of a replicated key of `name`, or null if the key has another name. */
export function rangeIdOfReplicatedKey(key: Buffer, name: string): number | null {
  const p = localKey('r');
  const want = replicatedKey(0, name).subarray(p.length + 9);
  if (key.length !== p.length + 9 + want.length || !key.subarray(p.length + 9).equals(want)) return null;
  return Number(key.readBigUInt64BE(p.length + 1) ^ (1n << 63n));
}

/** The legacy single-range layout's keys (stores written before range-local keys existed). */
export const legacyAppliedKey = (rangeId: number) => localKey('applied', rangeId);
export const legacyDescKey = (rangeId: number) => localKey('desc', rangeId);

/** The local keyspace ends where the user keyspace starts. */
export const localKeyMax = Buffer.from([KeyspaceLocal + 1]);
