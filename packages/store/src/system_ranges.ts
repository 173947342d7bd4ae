/**
 * The ranges a store is bootstrapped with. A cluster starts with two:
 *
 *   r1  the meta and system range: [/Min, /Nodes). The map of split TS tables and the range id
 *       counter (ts_ranges.ts), the catalog, settings, zones, sequences, roles, relational tables
 *       and unsplit TS tables. (Catalog and relational data share it until transactions may span
 *       ranges: a DDL statement writes descriptors and rows in one transaction.)
 *   r2  the liveness range: [/Nodes, /Nodes/Max). Node liveness records and the node registry,
 *       written by every node's heartbeat transaction every second. On its own Raft group and
 *       lease, heartbeats neither wait behind SQL writes on r1 nor add to r1's log, and the
 *       replicate queue places its lease on its preferred node (replicate_queue.ts).
 *
 * Ranges made later (TS splits) take ids from firstSplitRangeId on. A single node has no node
 * liveness and is bootstrapped with r1 alone, spanning the whole keyspace (so are stores
 * bootstrapped before the liveness range existed: /Nodes keys then route to r1).
 *
 * INVARIANT: no transaction writes both /Nodes keys and keys of another keyspace (transactions
 *   are confined to one range: kvclient/txn.ts); systemRangeOf routes the cluster's own
 *   transactions (liveness, registry, decommission, status) accordingly.
 */
import { KeyspaceNodes, keyMin, nodesKeyspaceEnd, nodesKeyspaceStart, wholeKeyspace } from '@strata/kv';
import type { RangeDescriptor } from '@strata/kv';

/** The range that keeps the TS range map and the range id counter (and holds every unsplit table). */
export const metaRangeId = 1;

/** The liveness range of a cluster. */
export const livenessRangeId = 2;

/** The first id handed out to ranges made after bootstrap. */
export const firstSplitRangeId = 3;

/** The descriptors a new store starts with: r1 alone, or r1 and the liveness range (a cluster). */
export function bootstrapDescriptors(nodeId: number, livenessRange: boolean): RangeDescriptor[] {
  const whole = wholeKeyspace(metaRangeId, nodeId);
  if (!livenessRange) return [whole];
  return [
    { ...whole, startKey: keyMin, endKey: nodesKeyspaceStart },
    { ...wholeKeyspace(livenessRangeId, nodeId), startKey: nodesKeyspaceStart, endKey: nodesKeyspaceEnd },
  ];
}

/**
 * The zones (zone configurations: @strata/cluster keys.ts) of the bootstrap ranges: range 2
 * follows `liveness`, range 1 `system` (ALTER RANGE meta|system CONFIGURE ZONE: it holds both),
 * each then the default zone. Other ranges: none here (a TS range follows its table's zones).
 */
export function systemRangeZones(rangeId: number): string[] {
  return rangeId === livenessRangeId ? ['liveness'] : rangeId === metaRangeId ? ['system'] : [];
}

/** The range a key of the cluster's own transactions lives in (a cluster bootstrapped with r2). */
export function systemRangeOf(key: Uint8Array): number {
  return key[0] === KeyspaceNodes ? livenessRangeId : metaRangeId;
}
