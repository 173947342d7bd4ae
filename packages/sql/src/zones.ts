/**
 * Zone configurations (CockroachDB's, as KWDB has them), num_replicas only: how many voters a
 * range keeps. Zones are kept at /System/zone/<zone> (@strata/cluster keys.ts) and read by every
 * node's liveness refresh; the replicate queue of each range's leaseholder follows the most
 * specific zone that sets num_replicas:
 *
 *   RANGE default               every range
 *   RANGE liveness              range 2 (node liveness and the registry)
 *   RANGE meta | RANGE system   range 1 (the meta and system range: one range here, one zone)
 *   RANGE timeseries            the ranges of every time-series table
 *   DATABASE d                  the ranges of d's time-series tables
 *   TABLE t                     the ranges of time-series table t
 *
 * A relational table's rows are in range 1 with every relational table (relational ranges do not
 * split yet), so a relational table or database has no zone of its own: 0A000, pointing at
 * RANGE system.
 */
import { PgError, SqlState } from '@strata/common';
import { databaseZone, decodeZoneConfig, encodeZoneConfig, replicationFactorDefault, tableZone, zoneKey, zoneOfKey, zoneSpan } from '@strata/cluster';
import type { Txn } from '@strata/kv';
import type { ZoneTarget } from './parser/ast.js';
import type { CatalogView } from './catalog/catalog.js';
import type { TableDesc } from './catalog/descriptors.js';
import type { Row } from './exec/context.js';

/** A zone's name and how SHOW ZONE CONFIGURATION writes it. */
interface ZoneRef {
  zone: string;
  target: string;
  /** A table's database (its zone comes next in the table's chain). */
  databaseId?: number;
}

export interface ZoneEnv {
  view: CatalogView;
  /** The table a name resolves to (the session's search path), or a 42P01 error. */
  table(name: string[]): TableDesc;
}

function rangeRef(name: 'default' | 'liveness' | 'meta' | 'system' | 'timeseries'): ZoneRef {
  const zone = name === 'meta' ? 'system' : name;
  return { zone, target: `RANGE ${zone}` };
}

function databaseRef(view: CatalogView, id: number): ZoneRef {
  return { zone: databaseZone(id), target: `DATABASE ${view.databaseById(id)?.name ?? id}` };
}

function tableRef(view: CatalogView, t: TableDesc): ZoneRef {
  return { zone: tableZone(t.id), target: `TABLE ${view.databaseById(t.parentId)?.name ?? t.parentId}.public.${t.name}`, databaseId: t.parentId };
}

/** The zone a statement names (refusing the relational ones: see the file comment). */
function zoneOf(target: ZoneTarget, env: ZoneEnv): ZoneRef {
  if (target.kind === 'range') return rangeRef(target.name);
  if (target.kind === 'database') {
    const db = env.view.database(target.name);
    if (!db) throw new PgError(SqlState.InvalidCatalogName, `database "${target.name}" does not exist`);
    if (!db.ts) throw relationalZone(`database "${target.name}"`);
    return databaseRef(env.view, db.id);
  }
  const t = env.table(target.name);
  if (t.kind !== 'ts') throw relationalZone(`table "${t.name}"`);
  return tableRef(env.view, t);
}

function relationalZone(what: string): PgError {
  return new PgError(SqlState.FeatureNotSupported, `${what} has no zone of its own: relational rows are all in the first range, which does not split yet`, {
    hint: 'ALTER RANGE system CONFIGURE ZONE sets the replication of the first range (relational data, the catalog and settings).',
  });
}

/** The zones that apply to a target, most specific first (the default zone last). */
function chainOf(target: ZoneTarget, env: ZoneEnv): ZoneRef[] {
  const own = zoneOf(target, env);
  const dflt = rangeRef('default');
  if (own.databaseId !== undefined) return [own, databaseRef(env.view, own.databaseId), rangeRef('timeseries'), dflt];
  if (target.kind === 'database') return [own, rangeRef('timeseries'), dflt];
  return own.zone === 'default' ? [dflt] : [own, dflt];
}

function configSql(target: string, n: number): string {
  return `ALTER ${target} CONFIGURE ZONE USING\n\tnum_replicas = ${n}`;
}

/** ALTER … CONFIGURE ZONE USING num_replicas = n | DISCARD (null). */
export function configureZone(txn: Txn, target: ZoneTarget, numReplicas: number | null, env: ZoneEnv): void {
  const key = zoneKey(zoneOf(target, env).zone);
  if (numReplicas === null) txn.del(key);
  else txn.put(key, encodeZoneConfig({ ...decodeZoneConfig(txn.get(key)), num_replicas: numReplicas }));
}

/**
 * SHOW ZONE CONFIGURATION FOR …: the zone that decides the target's num_replicas (its own, or
 * the one it inherits, as CockroachDB shows it); SHOW ALL ZONE CONFIGURATIONS (target null): the
 * default zone and every zone set.
 */
export function showZoneRows(txn: Txn, target: ZoneTarget | null, env: ZoneEnv): Row[] {
  if (target) {
    for (const z of chainOf(target, env)) {
      const n = decodeZoneConfig(txn.get(zoneKey(z.zone))).num_replicas;
      if (n !== undefined) return [[z.target, configSql(z.target, n)]];
    }
    return [[rangeRef('default').target, configSql(rangeRef('default').target, replicationFactorDefault)]];
  }
  const set = new Map<string, number>();
  for (const { key, value } of txn.scan(...zoneSpan())) {
    const name = zoneOfKey(key);
    const n = decodeZoneConfig(value).num_replicas;
    if (name !== null && n !== undefined) set.set(name, n);
  }
  const rows: Row[] = [['RANGE default', configSql('RANGE default', set.get('default') ?? replicationFactorDefault)]];
  for (const name of ['liveness', 'system', 'timeseries']) {
    const n = set.get(name);
    if (n !== undefined) rows.push([`RANGE ${name}`, configSql(`RANGE ${name}`, n)]);
  }
  const objects = [...set.entries()].filter(([name]) => /^(database|table)\//.test(name));
  for (const [name, n] of objects.sort(([a], [b]) => a.localeCompare(b))) {
    const id = Number(name.slice(name.indexOf('/') + 1));
    const t = env.view.byId.get(id);
    const ref = name.startsWith('database/') ? (env.view.databaseById(id) ? databaseRef(env.view, id) : null) : t && t.kind === 'ts' ? tableRef(env.view, t) : null;
    if (ref) rows.push([ref.target, configSql(ref.target, n)]); // (a dropped object's zone is not shown)
  }
  return rows;
}
