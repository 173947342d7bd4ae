/**
 * SHOW RANGES [FROM TABLE t | FROM DATABASE d]: the ranges this node knows (it holds a replica of
 * each; every node does today, voting or not), their bounds, the kind of data they hold, the
 * leaseholder and the nodes holding replicas. A relational table's rows (and an unsplit TS
 * table's) lie in [tablePrefix(id), tablePrefix(id + 1)); a TS table split into hash-point ranges
 * is held by the ranges in [tsRangeKey(id, 0), tsRangeKey(id + 1, 0)).
 */
import { PgError, SqlState } from '@strata/common';
import { KeyspaceNodes, prettyKey, tablePrefix, tsRangeKey } from '@strata/kv';
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
  const tables =
    only ?? [...view.byId.values()].filter((d): d is TableDesc => d.kind === 'table' || d.kind === 'ts');
  const tsSpan = (t: TableDesc): [Buffer, Buffer] => [tsRangeKey(t.id, 0), tsRangeKey(t.id + 1, 0)];
  const split = new Set(
    tables.filter((t) => t.kind === 'ts' && ranges.some((r) => overlaps(r, ...tsSpan(t)))).map((t) => t.id),
  );
  const spanOf = (t: TableDesc): [Buffer, Buffer] =>
    split.has(t.id) ? tsSpan(t) : [tablePrefix(t.id), tablePrefix(t.id + 1)];
  const rows: Row[] = [];
  for (const r of ranges) {
    const held = tables.filter((t) => overlaps(r, ...spanOf(t)));
    if (only && held.length === 0) continue;
    // 'ts' when every table whose data the range holds is a time-series table; 'system' for the
    // liveness range (node liveness and registry: store/system_ranges.ts).
    const rangeType =
      r.startKey[0] === KeyspaceNodes
        ? 'system'
        : held.length > 0 && held.every((t) => t.kind === 'ts')
          ? 'ts'
          : 'relational';
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
