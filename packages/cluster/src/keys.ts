/**
 * The keys of cluster metadata. Node liveness and the registry are in the /Nodes keyspace, the
 * liveness range's span (store/system_ranges.ts); the rest is in /System, in the first range:
 *
 *   /Nodes/liveness/<nodeId>    the node's liveness record (liveness.ts)
 *   /Nodes/registry/<nodeId>    the node's registry entry: addresses, build, counts (registry.ts)
 *   /System/zone/<zone>         a zone configuration: {"num_replicas": N}; zones are `default`,
 *                               `liveness` (range 2), `system` (range 1: meta, system and
 *                               relational data), `timeseries` (every TS table's ranges),
 *                               `table/<id>` and `database/<id>` (sql zones.ts)
 *   /System/idgen/node          the last node id handed out (increment requests)
 *   /System/idgen/range         the last range id handed out
 */
import { nodesKey, prefixEnd, systemKey } from '@strata/kv';

export const livenessKey = (nodeId: number): Buffer => nodesKey('liveness', nodeId);
export const nodeKey = (nodeId: number): Buffer => nodesKey('registry', nodeId);
export const defaultZoneKey = systemKey('zone', 'default');
/** The zone of a table, of a database. */
export const tableZone = (tableId: number): string => `table/${tableId}`;
export const databaseZone = (databaseId: number): string => `database/${databaseId}`;

/** The key of a zone's configuration (zone names: see the file comment). */
export const zoneKey = (zone: string): Buffer => systemKey('zone', zone);
/** Every zone configuration: [start, end). */
export function zoneSpan(): [Buffer, Buffer] {
  const p = systemKey('zone');
  return [p, prefixEnd(p)];
}
/** The zone a key of zoneSpan names (zone names are ASCII: their key component is the bytes as they are). */
export function zoneOfKey(k: Buffer): string | null {
  const p = systemKey('zone');
  if (k.length < p.length + 3 || !k.subarray(0, p.length).equals(p)) return null;
  // A string component: its tag, the bytes, then 0x00 0x01 (kv/keys.ts).
  return k.subarray(p.length + 1, k.length - 2).toString('latin1');
}
/** The cluster setting server.time_until_store_dead (written by SQL's SET CLUSTER SETTING: sql/src/settings.ts settingKey). */
export const timeUntilStoreDeadSettingKey = systemKey('setting', 'server.time_until_store_dead');

/** The default zone configuration (ALTER RANGE default CONFIGURE ZONE): what is set of it. */
export interface ZoneConfig {
  num_replicas?: number;
}

export function decodeZoneConfig(v: Buffer | null): ZoneConfig {
  if (!v) return {};
  try {
    const j = JSON.parse(v.toString()) as ZoneConfig;
    return Number.isInteger(j.num_replicas) && (j.num_replicas as number) > 0 ? { num_replicas: j.num_replicas } : {};
  } catch {
    return {};
  }
}

export function encodeZoneConfig(z: ZoneConfig): Buffer {
  return Buffer.from(JSON.stringify(z));
}

/** A duration setting's canonical text ("300s") in milliseconds, or null. */
export function secondsSettingMs(v: Buffer | null): number | null {
  const m = v ? /^(\d+)s$/.exec(v.toString()) : null;
  return m ? Number(m[1]) * 1000 : null;
}
export const nodeIdGenKey = systemKey('idgen', 'node');
export const rangeIdGenKey = systemKey('idgen', 'range');

/** Every key of one kind in the /Nodes keyspace. */
export function spanOf(prefix: 'liveness' | 'registry'): [Buffer, Buffer] {
  const p = nodesKey(prefix);
  return [p, prefixEnd(p)];
}
