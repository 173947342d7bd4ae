/**
 * meta.json, a TS table's record of what flush() made durable: the applied log index it covers
 * and every file's synced length, with the table state that must survive a restart (deletes,
 * reorganized partitions, last changes, the schema after ALTER). TsTable.open() keeps exactly
 * what it lists, so replaying the Raft log from `durableIndex` + 1 never duplicates a row.
 *
 * INVARIANT: meta.json is replaced atomically (write a temporary file, fsync, rename), so a crash
 * leaves either the old or the new one, never a mix.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ColumnType } from './block.js';
import type { TombstoneMeta } from './tombstone.js';

/** A schema change recorded in meta.json (it replaces the schema the table was created with). */
export interface MetaSchema {
  version: number;
  columns: ColumnType[];
  columnIds: number[];
  tags: ColumnType[];
  tagIds: number[];
  primaryTags: number[];
}

/** meta.json: what flush() made durable. */
export interface TableMeta {
  durableIndex: number;
  /** Synced bytes of tags.log. */
  tagBytes?: number;
  /** Partition directory → segment file → synced bytes. */
  partitions?: Record<string, Record<string, number>>;
  /** Partition directories rewritten by reorganization and not written to since. */
  clean?: string[];
  /** Partition start → log index of the last command that changed its rows (write, DELETE, ALTER). */
  changed?: Record<string, number>;
  /** The schema after the last ALTER (absent: the one the table was created with). */
  schema?: MetaSchema;
  /** The tag file (a schema change of tags rewrites it under a new name). */
  tagFile?: string;
  /** Deleted time ranges (timestamps as decimal strings). */
  deletes?: TombstoneMeta[];
}

/** The table directory's meta.json, or null when nothing was ever flushed. */
export function readTableMeta(dir: string): TableMeta | null {
  const metaPath = join(dir, 'meta.json');
  return existsSync(metaPath) ? (JSON.parse(readFileSync(metaPath, 'utf8')) as TableMeta) : null;
}

/** Replaces the table directory's meta.json: write, fsync, rename. */
export function writeTableMeta(dir: string, meta: TableMeta): void {
  const tmp = join(dir, 'meta.json.tmp');
  const fd = openSync(tmp, 'w');
  writeSync(fd, JSON.stringify(meta));
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, join(dir, 'meta.json'));
}
