/**
 * Joining a cluster. A node whose store has no identity asks a node of the cluster (one of its
 * --join addresses) to let it in; the node asked allocates the next node id from the cluster's
 * counter (an increment request on /System/idgen/node, through its DistSender: answered once,
 * cluster-wide) and answers it with the cluster id. The joining node writes both into its store
 * (ident.ts) and starts empty: the replicate queues of the ranges' leaseholders give it replicas.
 *
 * The node that ran `init` took id 1; initCounters() sets the counter past it.
 */
import { PgError, SqlState } from '@strata/common';
import type { BatchSender } from '@strata/kv';
import { nodeIdGenKey } from './keys.js';
import type { StoreIdent } from './ident.js';

/** Allocates a node id for a joining node (runs on a node of the cluster). */
export async function allocateNodeId(sender: BatchSender, rangeId: number, now: () => bigint): Promise<number> {
  const res = await sender.send({ header: { rangeId, timestamp: 0n, txn: null, now: now() }, requests: [{ kind: 'increment', key: nodeIdGenKey, delta: 1n }] });
  const r = res.responses[0];
  if (r?.kind !== 'increment') throw new PgError(SqlState.InternalError, 'node id allocation: unexpected response');
  return Number(r.value);
}

/** Run once by the initializing node (id 1) after its first range exists: later joins get 2, 3… */
export async function initCounters(sender: BatchSender, rangeId: number, now: () => bigint): Promise<void> {
  const id = await allocateNodeId(sender, rangeId, now);
  if (id !== 1) throw new PgError(SqlState.ObjectNotInPrerequisiteState, `the cluster's node id counter was already at ${id - 1}: this cluster was initialized before`);
}

/** What a node of the cluster answers a joining node. */
export type JoinResponse = StoreIdent;

/** Checks that a joining node with an identity belongs to this cluster (a restarted node rejoining). */
export function checkRejoin(clusterId: string, ident: StoreIdent): void {
  if (ident.clusterId !== clusterId) {
    throw new PgError(SqlState.InvalidAuthorizationSpecification, `node ${ident.nodeId} belongs to cluster ${ident.clusterId}, not to this cluster (${clusterId}); use an empty --store to join it`);
  }
}
