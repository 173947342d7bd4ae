/**
 * The time-series part of proto/kv.proto ⇄ packages/ts scan_spec.ts: scan specs, TS values, and
 * scan pages of column batches. Fixed-width columns cross as their typed arrays' bytes (one copy
 * on each side, no per-value objects); decoded columns get their own aligned buffers.
 */
import { ColumnType } from '@strata/ts';
import type { ColumnData, DedupRule, TsPruneOp, TsScanBatch, TsScanPage, TsScanSpec, TsValue } from '@strata/ts';
import { WireFormatError, asBuffer, bigI64, bytes, decimal, i64, inverse, isInt64, known, need, numU32, u32, wireEnum } from './wire.js';
import type { Wire64 } from './wire.js';

const columnTypes: readonly (ColumnType | undefined)[] = [
  undefined,
  ColumnType.Timestamp,
  ColumnType.Int32,
  ColumnType.Int64,
  ColumnType.Float64,
  ColumnType.Bool,
  ColumnType.String,
];
const columnTypeWire = inverse(columnTypes);

const pruneOps: readonly (TsPruneOp | undefined)[] = [undefined, '>', '>=', '<', '<=', '='];
const pruneOpWire = inverse(pruneOps);

const dedupRules: readonly (DedupRule | undefined)[] = [undefined, 'override', 'merge', 'keep', 'discard'];
const dedupRuleWire = inverse(dedupRules);

/** Bytes per value of the fixed-width column types (STRING: none). */
function valueBytes(t: ColumnType): number {
  switch (t) {
    case ColumnType.Timestamp:
    case ColumnType.Int64:
    case ColumnType.Float64:
      return 8;
    case ColumnType.Int32:
      return 4;
    case ColumnType.Bool:
      return 1;
    case ColumnType.String:
      return 0;
  }
}

// ---- decoded shapes ---------------------------------------------------------------------------

export interface PbTsValue {
  value?: string;
  nullValue?: boolean | null;
  intValue?: Wire64 | null;
  floatValue?: number | null;
  boolValue?: boolean | null;
  stringValue?: string | null;
  bigInt?: string | null;
}
interface PbLayout {
  ids: number[];
  types: number[];
}
interface PbColumnData {
  type: number;
  fixed: Uint8Array;
  strings: string[];
  nulls: Uint8Array | null;
}
interface PbBatch {
  entityId: number;
  tags: PbTsValue[];
  columns: PbColumnData[];
}
export interface PbTsScanPage {
  layout: PbLayout | null;
  batches: PbBatch[];
  resumeAfter: number | null;
}
export interface PbTsScanSpec {
  tableId: number;
  lo: Wire64;
  hi: Wire64;
  tagIds: number[];
  tagTypes: number[];
  entities: { entities: { values: PbTsValue[] }[] } | null;
  tagFilters: { tagId: number; allowed: PbTsValue[] }[];
  tagIndex: { ids: number[] } | null;
  columnIds: { ids: number[] } | null;
  columnLayout: PbLayout | null;
  prune: { columnId: number; op: number; value: number }[];
  dedup: number;
  latestOnly: boolean;
}

// ---- values ------------------------------------------------------------------------------------

export function tsValueToWire(v: TsValue): PbTsValue {
  if (v === null) return { nullValue: true };
  switch (typeof v) {
    case 'bigint':
      return isInt64(v) ? { intValue: i64(v, 'ts value') } : { bigInt: v.toString() };
    case 'number':
      return { floatValue: v };
    case 'boolean':
      return { boolValue: v };
    case 'string':
      return { stringValue: v };
  }
}

export function tsValueFromWire(p: PbTsValue): TsValue {
  switch (p.value) {
    case 'nullValue':
      return null;
    case 'intValue':
      return bigI64(p.intValue);
    case 'floatValue':
      return p.floatValue ?? 0;
    case 'boolValue':
      return p.boolValue === true;
    case 'stringValue':
      return p.stringValue ?? '';
    case 'bigInt':
      return decimal(p.bigInt ?? '', 'ts value big_int');
    default:
      throw new WireFormatError('ts value without a value');
  }
}

// ---- spec --------------------------------------------------------------------------------------

function layoutToWire(l: { ids: number[]; types: ColumnType[] }): PbLayout {
  return { ids: l.ids.map((id) => u32(id, 'column id')), types: l.types.map((t) => wireEnum(columnTypeWire, t, 'column type')) };
}

function layoutFromWire(p: PbLayout): { ids: number[]; types: ColumnType[] } {
  if (p.ids.length !== p.types.length) throw new WireFormatError(`column layout with ${p.ids.length} ids and ${p.types.length} types`);
  return { ids: p.ids.slice(), types: p.types.map((t) => known(columnTypes, t, 'column type')) };
}

export function tsScanSpecToWire(s: TsScanSpec): PbTsScanSpec {
  return {
    tableId: u32(s.tableId, 'tableId'),
    lo: i64(s.lo, 'lo'),
    hi: i64(s.hi, 'hi'),
    tagIds: s.tagIds.map((id) => u32(id, 'tag id')),
    tagTypes: s.tagTypes.map((t) => wireEnum(columnTypeWire, t, 'tag type')),
    entities: s.entities ? { entities: s.entities.map((vs) => ({ values: vs.map(tsValueToWire) })) } : null,
    tagFilters: s.tagFilters.map((f) => ({ tagId: u32(f.tagId, 'tag id'), allowed: f.allowed.map(tsValueToWire) })),
    tagIndex: s.tagIndex ? { ids: s.tagIndex.map((id) => u32(id, 'tag id')) } : null,
    columnIds: s.columnIds ? { ids: s.columnIds.map((id) => u32(id, 'column id')) } : null,
    columnLayout: layoutToWire(s.columnLayout),
    prune: s.prune.map((p) => ({ columnId: u32(p.columnId, 'column id'), op: wireEnum(pruneOpWire, p.op, 'prune op'), value: p.value })),
    dedup: wireEnum(dedupRuleWire, s.dedup, 'dedup rule'),
    latestOnly: s.latestOnly,
  };
}

export function tsScanSpecFromWire(p: PbTsScanSpec): TsScanSpec {
  const tagTypes = p.tagTypes.map((t) => known(columnTypes, t, 'tag type'));
  if (tagTypes.length !== p.tagIds.length) throw new WireFormatError(`scan spec with ${p.tagIds.length} tag ids and ${tagTypes.length} tag types`);
  return {
    tableId: numU32(p.tableId),
    lo: bigI64(p.lo),
    hi: bigI64(p.hi),
    tagIds: p.tagIds.slice(),
    tagTypes,
    entities: p.entities ? p.entities.entities.map((e) => e.values.map(tsValueFromWire)) : null,
    tagFilters: p.tagFilters.map((f) => ({ tagId: numU32(f.tagId), allowed: f.allowed.map(tsValueFromWire) })),
    tagIndex: p.tagIndex ? p.tagIndex.ids.slice() : null,
    columnIds: p.columnIds ? p.columnIds.ids.slice() : null,
    columnLayout: layoutFromWire(need(p.columnLayout, 'scan spec column layout')),
    prune: p.prune.map((x) => ({ columnId: numU32(x.columnId), op: known(pruneOps, x.op, 'prune op'), value: x.value ?? 0 })),
    dedup: known(dedupRules, p.dedup, 'dedup rule'),
    latestOnly: p.latestOnly === true,
  };
}

// ---- pages -------------------------------------------------------------------------------------

function columnToWire(c: ColumnData): PbColumnData {
  const type = wireEnum(columnTypeWire, c.type, 'column type');
  const nulls = c.nulls ? asBuffer(c.nulls) : null;
  if (c.type === ColumnType.String) return { type, fixed: Buffer.alloc(0), strings: c.values as string[], nulls };
  const v = c.values as Exclude<ColumnData['values'], string[]>;
  return { type, fixed: Buffer.from(v.buffer, v.byteOffset, v.byteLength), strings: [], nulls };
}

/** A fresh, aligned copy of `b` (a typed array view needs its byte offset aligned to its element size). */
function aligned(b: Buffer): ArrayBuffer {
  const out = new ArrayBuffer(b.length);
  new Uint8Array(out).set(b);
  return out;
}

function columnFromWire(p: PbColumnData): ColumnData {
  const type = known(columnTypes, p.type, 'column type');
  let values: ColumnData['values'];
  let rows: number;
  if (type === ColumnType.String) {
    values = p.strings.slice();
    rows = values.length;
  } else {
    const b = bytes(p.fixed);
    const width = valueBytes(type);
    if (b.length % width !== 0) throw new WireFormatError(`column of type ${type} with ${b.length} bytes`);
    const ab = aligned(b);
    values = type === ColumnType.Int32 ? new Int32Array(ab) : type === ColumnType.Float64 ? new Float64Array(ab) : type === ColumnType.Bool ? new Uint8Array(ab) : new BigInt64Array(ab);
    rows = values.length;
  }
  let nulls: Uint8Array | null = null;
  if (p.nulls !== null && p.nulls !== undefined) {
    const n = bytes(p.nulls);
    if (n.length !== rows) throw new WireFormatError(`null bitmap of ${n.length} bytes for ${rows} rows`);
    nulls = new Uint8Array(aligned(n));
  }
  return { type, values, nulls };
}

export function tsScanPageToWire(page: TsScanPage): PbTsScanPage {
  return {
    layout: page.layout ? layoutToWire(page.layout) : null,
    batches: page.batches.map((b) => ({ entityId: u32(b.entityId, 'entity id'), tags: b.tags.map(tsValueToWire), columns: b.columns.map(columnToWire) })),
    resumeAfter: page.resumeAfter === null ? null : u32(page.resumeAfter, 'resumeAfter'),
  };
}

export function tsScanPageFromWire(p: PbTsScanPage): TsScanPage {
  return {
    layout: p.layout ? layoutFromWire(p.layout) : null,
    batches: p.batches.map((b): TsScanBatch => ({ entityId: numU32(b.entityId), tags: b.tags.map(tsValueFromWire), columns: b.columns.map(columnFromWire) })),
    resumeAfter: p.resumeAfter ?? null,
  };
}
