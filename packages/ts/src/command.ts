/**
 * The TS commands a replica's log carries besides the write (DELETE, tag UPDATE, reorganization
 * and its commit, ALTER), each with its layout, and the one import point for the whole command
 * set: the write command (write_command.ts), the header every command starts with
 * (command_header.ts), values (value_codec.ts), column building (column_builder.ts) and byte
 * reading (byte_reader.ts) are re-exported from here.
 */
import { ByteWriter, PgError, SqlState } from '@strata/common';
import type { ColumnType } from './block.js';
import { ByteReader } from './byte_reader.js';
import { readSchemaHeader, readVersion, tsCommandVersion, writeSchemaHeader } from './command_header.js';
import type { FullTsSchema, TsSchema, TsStorage, TsValue } from './command_header.js';
import { readValue, writeValue } from './value_codec.js';

export { ByteWriter };
export { ByteReader } from './byte_reader.js';
export { tsCommandVersion, tsStorageDefault, fullSchema, writeSchemaHeader, readSchemaHeader } from './command_header.js';
export type { TsStorage, TsSchema, FullTsSchema, TsValue } from './command_header.js';
export { writeValue, readValue } from './value_codec.js';
export { ColumnBuilder, allocValues } from './column_builder.js';
export { tsCommandBytesMax, TsWriteBuilder, writeColumn, rowsOfGroup, encodeTsWrite, decodeTsWrite } from './write_command.js';
export type { TsWrite, TsColumnGroup, TsWriteGroups, TsGroupBuilder } from './write_command.js';

/**
 * A TS DELETE: rows with loUs <= ts <= hiUs of the devices given by their primary tag values
 * (each combination a full tag vector in the schema's tag layout, non-primary positions NULL), or
 * of every device.
 *   u8 version | u8 0 | schema header | f64 loUs | f64 hiUs | u32 combinations (0xffffffff =
 *   every device) | combinations × tag values
 */
export interface TsDelete {
  tableId: number;
  schema: TsSchema;
  loUs: number;
  hiUs: number;
  tagCombos: TsValue[][] | null;
}

export function encodeTsDelete(d: TsDelete): Buffer {
  const w = new ByteWriter(128);
  w.u8(tsCommandVersion).u8(0);
  writeSchemaHeader(w, d.tableId, d.schema);
  w.f64(d.loUs).f64(d.hiUs).u32(d.tagCombos ? d.tagCombos.length : 0xffffffff);
  for (const c of d.tagCombos ?? []) d.schema.tags.forEach((t, i) => writeValue(w, t, c[i] ?? null));
  return w.finish();
}

export function decodeTsDelete(b: Buffer): TsDelete & { schema: FullTsSchema } {
  const r = new ByteReader(b);
  readVersion(r);
  r.u8();
  const { tableId, schema } = readSchemaHeader(r);
  const loUs = r.f64();
  const hiUs = r.f64();
  const n = r.u32();
  const tagCombos = n === 0xffffffff ? null : Array.from({ length: n }, () => schema.tags.map((t) => readValue(r, t)));
  return { tableId, schema, loUs, hiUs, tagCombos };
}

/**
 * An UPDATE of non-primary tags for the devices given by primary tag values:
 *   u8 version | u8 0 | schema header | u32 combinations | combinations × tag values
 *   | u16 changes | changes × (u16 tag position | value)
 */
export interface TsTagUpdate {
  tableId: number;
  schema: TsSchema;
  tagCombos: TsValue[][];
  changes: [number, TsValue][];
}

export function encodeTsTagUpdate(u: TsTagUpdate): Buffer {
  const w = new ByteWriter(128);
  const tagTypes = u.schema.tags;
  w.u8(tsCommandVersion).u8(0);
  writeSchemaHeader(w, u.tableId, u.schema);
  w.u32(u.tagCombos.length);
  for (const c of u.tagCombos) tagTypes.forEach((t, i) => writeValue(w, t, c[i] ?? null));
  w.u16(u.changes.length);
  for (const [i, v] of u.changes) {
    w.u16(i);
    writeValue(w, tagTypes[i] as ColumnType, v);
  }
  return w.finish();
}

export function decodeTsTagUpdate(b: Buffer): TsTagUpdate & { schema: FullTsSchema } {
  const r = new ByteReader(b);
  readVersion(r);
  r.u8();
  const { tableId, schema } = readSchemaHeader(r);
  const tagTypes = schema.tags;
  const n = r.u32();
  const tagCombos = Array.from({ length: n }, () => tagTypes.map((t) => readValue(r, t)));
  const changes: [number, TsValue][] = Array.from({ length: r.u16() }, () => {
    const i = r.u16();
    const t = tagTypes[i];
    if (t === undefined) throw new PgError(SqlState.DataCorrupted, `tag position ${i} out of range`);
    return [i, readValue(r, t)];
  });
  return { tableId, schema, tagCombos, changes };
}

/**
 * Reorganization of a table's partitions that end before `beforeUs`:
 *   u32 tableId | f64 beforeUs | u8 dedup rule (0 override, 1 merge, 2 keep, 3 discard)
 *   [| u16 rowsPerBlock | u32 blocksPerSegment | u8 codec | u8 level | u8 worker threads]
 * The optional part says how to write the new blocks and how many threads may do it.
 */
export interface TsReorganize {
  tableId: number;
  beforeUs: number;
  dedup: 'override' | 'merge' | 'keep' | 'discard';
  storage: TsStorage | null;
  threads: number;
}

const dedupCodes = ['override', 'merge', 'keep', 'discard'] as const;

/** Worker threads when the command does not say (immediate_compression.threads' default). */
export const reorganizeThreadsDefault = 3;

export function encodeTsReorganize(r: TsReorganize): Buffer {
  const w = new ByteWriter(32);
  w.u32(r.tableId).f64(r.beforeUs).u8(Math.max(0, dedupCodes.indexOf(r.dedup)));
  if (r.storage) w.u16(r.storage.rowsPerBlock).u32(r.storage.blocksPerSegment).u8(r.storage.codec).u8(r.storage.level).u8(r.threads);
  return w.finish();
}

export function decodeTsReorganize(b: Buffer): TsReorganize {
  const r = new ByteReader(b);
  const tableId = r.u32();
  const beforeUs = r.f64();
  const dedup = dedupCodes[r.u8()] ?? 'override';
  if (r.done()) return { tableId, beforeUs, dedup, storage: null, threads: reorganizeThreadsDefault };
  const storage: TsStorage = { rowsPerBlock: r.u16(), blocksPerSegment: r.u32(), codec: r.u8(), level: r.u8() };
  return { tableId, beforeUs, dedup, storage, threads: Math.max(1, r.u8()) };
}

/**
 * A schema change (ALTER TABLE on a time-series table): the new schema.
 *   u8 version | u8 0 | schema header
 */
export function encodeTsAlter(tableId: number, schema: TsSchema): Buffer {
  const w = new ByteWriter(128);
  w.u8(tsCommandVersion).u8(0);
  writeSchemaHeader(w, tableId, schema);
  return w.finish();
}

export function decodeTsAlter(b: Buffer): { tableId: number; schema: FullTsSchema } {
  const r = new ByteReader(b);
  readVersion(r);
  r.u8();
  return readSchemaHeader(r);
}

/**
 * The replicated commit of a partition rewrite planned by a reorganization command (at log index
 * `planIndex`): every replica switches the rewrite in iff the partition did not change since the
 * plan, at the commit's log index — so the physical switch is a function of the log.
 *   u32 tableId | i64 partition start | f64 planIndex | u8 dedup rule
 */
export interface TsReorganizeCommit {
  tableId: number;
  start: bigint;
  planIndex: number;
  dedup: 'override' | 'merge' | 'keep' | 'discard';
}

export function encodeTsReorganizeCommit(c: TsReorganizeCommit): Buffer {
  const b = Buffer.allocUnsafe(21);
  b.writeUInt32BE(c.tableId, 0);
  b.writeBigInt64BE(c.start, 4);
  b.writeDoubleBE(c.planIndex, 12);
  b.writeUInt8(Math.max(0, dedupCodes.indexOf(c.dedup)), 20);
  return b;
}

export function decodeTsReorganizeCommit(b: Buffer): TsReorganizeCommit {
  if (b.length !== 21) throw new PgError(SqlState.DataCorrupted, `reorganization commit of ${b.length} bytes, want 21`);
  return { tableId: b.readUInt32BE(0), start: b.readBigInt64BE(4), planIndex: b.readDoubleBE(12), dedup: dedupCodes[b.readUInt8(20)] ?? 'override' };
}
