/**
 * SHOW RANGES [FROM TABLE t | FROM DATABASE d]: the ranges this node knows (it holds a replica of
 * each; every node does today, voting or not), their bounds, the kind of data they hold, the
 * leaseholder and the nodes holding replicas. A table's data (relational rows, or a TS table's
 * rows, which are routed by its table prefix) lies in [tablePrefix(id), tablePrefix(id + 1)).
 */
import { PgError, SqlState } from '@strata/common';
import { prettyKey, tablePrefix } from '@strata/kv';
import type { CatalogView } from './catalog/catalog.js';
import type { TableDesc } from './catalog/descriptors.js';
import { T, arrayOf } from './types/types.js';
import type { Column, Row } from './exec/context.js';

/** What the store reports of one range (Store.rangeInfos). */
export interface RangeInfo {
  rangeId: number;
  startKey: Buffer;
  endKey: Buffer;
  leaseholderNodeId: number | null;
  voters: number[];
  nonVoters: number[];
}

export const showRangesColumns: Column[] = [
  { name: 'range_id', type: T.int8 },
  { name: 'start_key', type: T.text },
  { name: 'end_key', type: T.text },
  { name: 'range_type', type: T.text },
  { name: 'lease_holder', type: T.int8 },
  { name: 'replicas', type: arrayOf(T.int8) },
  { name: 'non_voting_replicas', type: arrayOf(T.int8) },
];

const overlaps = (r: RangeInfo, start: Buffer, end: Buffer) => Buffer.compare(r.startKey, end) < 0 && Buffer.compare(start, r.endKey) < 0;

export function showRangesRows(ranges: RangeInfo[], view: CatalogView, only: TableDesc[] | null): Row[] {
  const tables = only ?? [...view.byId.values()].filter((d): d is TableDesc => d.kind === 'table' || d.kind === 'ts');
  const spanOf = (t: TableDesc): [Buffer, Buffer] => [tablePrefix(t.id), tablePrefix(t.id + 1)];
  const rows: Row[] = [];
  for (const r of ranges) {
    const held = tables.filter((t) => overlaps(r, ...spanOf(t)));
    if (only && held.length === 0) continue;
    // 'ts' when every table whose data the range holds is a time-series table.
    const rangeType = held.length > 0 && held.every((t) => t.kind === 'ts') ? 'ts' : 'relational';
    rows.push([
      BigInt(r.rangeId),
      prettyKey(r.startKey),
      prettyKey(r.endKey),
      rangeType,
      r.leaseholderNodeId === null ? null : BigInt(r.leaseholderNodeId),
      r.voters.map(BigInt),
      r.nonVoters.map(BigInt),
    ]);
  }
  return rows;
}

/** The tables of a database (FROM DATABASE d). */
export function tablesOfDatabase(view: CatalogView, name: string): TableDesc[] {
  const db = view.database(name);
  if (!db) throw new PgError(SqlState.InvalidCatalogName, `database "${name}" does not exist`);
  return [...view.byId.values()].filter((d): d is TableDesc => (d.kind === 'table' || d.kind === 'ts') && d.parentId === db.id);
}
