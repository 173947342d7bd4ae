/**
 * Catalog descriptors, stored as JSON under /System/desc/<id>, with names under
 * /System/ns/<parentId>/<schemaId>/<name> → id. Descriptor ids double as PostgreSQL OIDs and start
 * at 16384 (PostgreSQL's FirstNormalObjectId), so they never collide with built-in type OIDs or the
 * virtual pg_catalog tables.
 */
import type { SqlType } from '../types/types.js';
import type { SequenceInfo } from '../sequence_options.js';

export const firstDescriptorId = 16384;

export interface DatabaseDesc {
  kind: 'database';
  id: number;
  name: string;
  /** Set for KWDB time-series databases (CREATE TS DATABASE). */
  ts?: { retentionSeconds: number; partitionIntervalSeconds: number; comment: string | null };
}

/** A tag of a time-series table: per-device attributes, stored once per entity. */
export interface TagDesc {
  /** Stable id (the TS engine stores tags by id; absent in old descriptors: the position). */
  id?: number;
  name: string;
  type: SqlType;
  nullable: boolean;
  primary: boolean;
}

export interface TsTableInfo {
  tags: TagDesc[];
  /** Primary tag names, in declaration order: they identify the entity (device). */
  primaryTags: string[];
  /** 0 = inherit the database's retention. */
  retentionSeconds: number;
  activeTimeSeconds: number;
  hashNum: number;
  comment: string | null;
  /** The id the next added tag gets. */
  nextTagId?: number;
  /** Tag indexes (CREATE INDEX … ON t (tag, …)): 1–4 non-primary tags each. */
  tagIndexes?: { name: string; tags: string[] }[];
}

export interface SchemaDesc {
  kind: 'schema';
  id: number;
  name: string;
  parentId: number;
}

export interface ColumnDesc {
  id: number;
  name: string;
  type: SqlType;
  nullable: boolean;
  /** DEFAULT expression as SQL text (re-parsed when used). */
  default: string | null;
  /** The hidden rowid column of a table without a primary key. */
  hidden: boolean;
}

export interface IndexDesc {
  id: number;
  name: string;
  columnIds: number[];
  /** Per key column: true if DESC (accepted; ordering is ascending in storage for now). */
  desc: boolean[];
  unique: boolean;
  /** The constraint this index implements, if created by UNIQUE/PRIMARY KEY. */
  constraint: 'primary' | 'unique' | null;
  /** Storage parameters given at CREATE INDEX … WITH, as pg_class.reloptions shows them (storage_params.ts). */
  reloptions?: string[];
}

export interface CheckDesc {
  name: string;
  expr: string;
}

export interface ForeignKeyDesc {
  name: string;
  columnIds: number[];
  refTableId: number;
  refColumnIds: number[];
}

export interface TableDesc {
  kind: 'table' | 'view' | 'sequence' | 'ts';
  id: number;
  name: string;
  parentId: number;
  schemaId: number;
  columns: ColumnDesc[];
  nextColumnId: number;
  primaryIndex: IndexDesc;
  indexes: IndexDesc[];
  nextIndexId: number;
  checks: CheckDesc[];
  foreignKeys: ForeignKeyDesc[];
  /** Views: the defining query text. */
  viewQuery?: string;
  /** Materialized views (matviews.ts): a table whose rows REFRESH recomputes from `query`. */
  matview?: { query: string; populated: boolean; dependsOn?: number[] };
  /** Time-series tables: tags and options (columns[0] is the timestamp). */
  ts?: TsTableInfo;
  /** Sequences: start, increment, type and bounds (sequence_options.ts). */
  sequence?: SequenceInfo;
  /** Storage parameters (CREATE TABLE … WITH, ALTER TABLE … SET/RESET), as pg_class.reloptions shows them (storage_params.ts). */
  reloptions?: string[];
  version: number;
}

export type Descriptor = DatabaseDesc | SchemaDesc | TableDesc;

export function columnById(t: TableDesc, id: number): ColumnDesc {
  const c = t.columns.find((x) => x.id === id);
  if (!c) throw new Error(`table ${t.name} has no column ${id}`);
  return c;
}

export function visibleColumns(t: TableDesc): ColumnDesc[] {
  return t.columns.filter((c) => !c.hidden);
}

export function allIndexes(t: TableDesc): IndexDesc[] {
  return [t.primaryIndex, ...t.indexes];
}
