/**
 * The system keys of cluster metadata (in the /System keyspace, replicated like the catalog):
 *
 *   /System/liveness/<nodeId>   the node's liveness record (liveness.ts)
 *   /System/node/<nodeId>       the node's registry entry: addresses, build, counts (registry.ts)
 *   /System/zone/default        the default zone configuration: {"num_replicas": N}
 *   /System/idgen/node          the last node id handed out (increment requests)
 *   /System/idgen/range         the last range id handed out
 */
import { prefixEnd, systemKey } from '@strata/kv';

export const livenessKey = (nodeId: number): Buffer => systemKey('liveness', nodeId);
export const nodeKey = (nodeId: number): Buffer => systemKey('node', nodeId);
export const defaultZoneKey = systemKey('zone', 'default');
export const nodeIdGenKey = systemKey('idgen', 'node');
export const rangeIdGenKey = systemKey('idgen', 'range');

export function spanOf(prefix: string): [Buffer, Buffer] {
  const p = systemKey(prefix);
  return [p, prefixEnd(p)];
}
