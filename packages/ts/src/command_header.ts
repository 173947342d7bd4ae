/**
 * What every TS command that names rows or devices starts with — u8 version | u8 flags | schema
 * header — and the schema it carries. The command is self-describing, so a replica decodes it with
 * the schema it was built under, whatever schema the table has when it applies (or replays) it.
 *
 * Schema header (big endian):
 *   u32 tableId | f64 partitionIntervalUs | u32 schemaVersion | u16 rowsPerBlock
 *   | u32 blocksPerSegment | u8 codec | u8 level | u16 columns | (u8 type | u16 id) × columns
 *   | u16 tags | (u8 type | u16 id) × tags | u8 primaryTags | u16 tagIndex × primaryTags
 */
import { PgError, SqlState } from '@strata/common';
import type { ByteWriter } from '@strata/common';
import { ColumnType } from './block.js';
import type { ByteReader } from './byte_reader.js';

/** The command version written now (write_command.ts: rows travel column-wise). */
export const tsCommandVersion = 5;

/** The write command version before columns (decoded for replay of older logs). */
export const tsCommandVersionRows = 4;

/** How new blocks and segments of a table are laid out (cluster settings, carried by commands). */
export interface TsStorage {
  /** ts.rows_per_block.max_limit */
  rowsPerBlock: number;
  /** ts.blocks_per_segment.max_limit */
  blocksPerSegment: number;
  /** ts.compression.type as a block codec (block.ts Codec) and ts.compression.level as zlib's. */
  codec: number;
  level: number;
}

export const tsStorageDefault: TsStorage = { rowsPerBlock: 1000, blocksPerSegment: 1000, codec: 1, level: 6 };

export interface TsSchema {
  /** PARTITION INTERVAL in microseconds. */
  partitionIntervalUs: number;
  /** Data columns; columns[0] is the timestamp. */
  columns: ColumnType[];
  tags: ColumnType[];
  /** Positions in `tags` of the primary tags (they identify the entity). */
  primaryTags: number[];
  /**
   * The table descriptor's schema version. A command with a newer version than the table's
   * changes the table's schema first (schema.ts); an older one has its rows mapped by id.
   */
  version?: number;
  /** Stable ids of the columns and tags (default: positions). */
  columnIds?: number[];
  tagIds?: number[];
  storage?: TsStorage;
}

/** A schema with every optional part filled in. */
export type FullTsSchema = Required<TsSchema>;

export function fullSchema(s: TsSchema): FullTsSchema {
  return {
    ...s,
    version: s.version ?? 0,
    columnIds: s.columnIds ?? s.columns.map((_t, i) => i),
    tagIds: s.tagIds ?? s.tags.map((_t, i) => i),
    storage: s.storage ?? tsStorageDefault,
  };
}

/** One row: values of the data columns then of the tags; null for NULL. */
export type TsValue = null | bigint | number | boolean | string;

const validTypes = new Set<number>(Object.values(ColumnType));

/** Writes the schema header (see the layout above). */
export function writeSchemaHeader(w: ByteWriter, tableId: number, schema: TsSchema): void {
  const s = fullSchema(schema);
  w.u32(tableId).f64(s.partitionIntervalUs).u32(s.version).u16(s.storage.rowsPerBlock).u32(s.storage.blocksPerSegment).u8(s.storage.codec).u8(s.storage.level);
  w.u16(s.columns.length);
  s.columns.forEach((t, i) => w.u8(t).u16(s.columnIds[i] as number));
  w.u16(s.tags.length);
  s.tags.forEach((t, i) => w.u8(t).u16(s.tagIds[i] as number));
  w.u8(s.primaryTags.length);
  for (const i of s.primaryTags) w.u16(i);
}

/** Reads a schema header. */
export function readSchemaHeader(r: ByteReader): { tableId: number; schema: FullTsSchema } {
  const tableId = r.u32();
  const partitionIntervalUs = r.f64();
  const version = r.u32();
  const storage: TsStorage = { rowsPerBlock: r.u16(), blocksPerSegment: r.u32(), codec: r.u8(), level: r.u8() };
  const readTyped = (n: number) => {
    const types: ColumnType[] = [];
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = r.u8();
      if (!validTypes.has(t)) throw new PgError(SqlState.DataCorrupted, `unknown time-series column type ${t}`);
      types.push(t as ColumnType);
      ids.push(r.u16());
    }
    return { types, ids };
  };
  const cols = readTyped(r.u16());
  const tags = readTyped(r.u16());
  const primaryTags = Array.from({ length: r.u8() }, () => r.u16());
  return { tableId, schema: { partitionIntervalUs, columns: cols.types, tags: tags.types, primaryTags, version, columnIds: cols.ids, tagIds: tags.ids, storage } };
}

/** Reads the version byte, refusing versions this code cannot decode. */
export function readVersion(r: ByteReader): number {
  const version = r.u8();
  if (version !== tsCommandVersion && version !== tsCommandVersionRows) throw new PgError(SqlState.DataCorrupted, `unknown time-series command version ${version}`);
  return version;
}
