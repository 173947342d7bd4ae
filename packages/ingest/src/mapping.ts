/**
 * How line protocol maps onto time-series tables (KWDB's schemaless write, DESIGN: "schemaless
 * writes"), as pure functions:
 *
 * - a measurement is a table of the request's TS database, created on its first write as
 *   `CREATE TABLE m (k_timestamp TIMESTAMPTZ NOT NULL, <fields>) TAGS (primary_tag VARCHAR(64)
 *   NOT NULL, <tags> VARCHAR) PRIMARY TAGS (primary_tag)`;
 * - a field becomes a column typed by the literal of the first line that has it: float → FLOAT8,
 *   integer (`i`) → INT8, unsigned (`u`) → INT8 (values above 2^63 − 1 are refused), boolean →
 *   BOOL, string → VARCHAR; later lines must give that type (else the line is refused: a field
 *   type conflict, as in InfluxDB);
 * - a tag becomes a nullable VARCHAR tag; `primary_tag` (the device) is the SHA-256 of the line's
 *   tag set, so lines with equal tag sets are one device (KWDB hashes the sorted `key=value` pairs
 *   run together; here each pair is escaped and the pairs are joined by commas — InfluxDB's series
 *   key — so that two different tag sets can never share a device);
 * - tables made by hand take line protocol too: fields and tags are matched by name and converted
 *   if their literal fits the column's type (an integer into INT2/INT4/INT8 within its range, a
 *   string into VARCHAR/CHAR within its length; a tag's text into any tag type it parses as); a
 *   table without a `primary_tag` tag needs its primary tags in every line.
 */
import { createHash } from 'node:crypto';
import type { SqlType } from '@strata/sql';
import type { TsValue } from '@strata/ts';
import { FieldKind, fieldKindNames } from './line_protocol.js';
import type { Series } from './line_protocol.js';

/** The timestamp column of tables created by ingest (KWDB's name). */
export const timeColumn = 'k_timestamp';
/** The synthetic primary tag of tables created by ingest (KWDB's name and type). */
export const primaryTagName = 'primary_tag';
export const primaryTagType = 'VARCHAR(64)';

/** The SQL type a new column gets for a field literal. */
export function columnTypeFor(kind: FieldKind): string {
  switch (kind) {
    case FieldKind.Float:
      return 'FLOAT8';
    case FieldKind.Integer:
    case FieldKind.Unsigned:
      return 'INT8';
    case FieldKind.Boolean:
      return 'BOOL';
    case FieldKind.String:
      return 'VARCHAR';
  }
}

/** The InfluxDB type a column holds, for conflict messages ("already exists as type float"). */
export function influxTypeOf(t: SqlType): string {
  switch (t.kind) {
    case 'float4':
    case 'float8':
      return 'float';
    case 'int2':
    case 'int4':
    case 'int8':
      return 'integer';
    case 'bool':
      return 'boolean';
    case 'varchar':
    case 'bpchar':
    case 'text':
      return 'string';
    default:
      return t.kind;
  }
}

const int64Max = 2n ** 63n - 1n;
const int64Min = -(2n ** 63n);
const float4Max = 3.4028234663852886e38;

/** A field value converted for its column: the value to store, or why the line is refused. */
export type Converted = { ok: true; value: number | bigint | string } | { ok: false; reason: string };

const fail = (reason: string): Converted => ({ ok: false, reason });

/**
 * A field's value for a column of type `t`: numbers for FLOAT/INT2/INT4/BOOL (0/1) and safe
 * INT8 values, bigint for larger INT8 values, strings for VARCHAR.
 */
export function convertField(
  kind: FieldKind,
  v: number | bigint | string,
  t: SqlType,
  field: string,
  measurement: string,
): Converted {
  switch (t.kind) {
    case 'float8':
      return kind === FieldKind.Float
        ? { ok: true, value: v as number }
        : conflict(kind, t, field, measurement);
    case 'float4':
      if (kind !== FieldKind.Float) return conflict(kind, t, field, measurement);
      return Math.abs(v as number) <= float4Max
        ? { ok: true, value: v as number }
        : fail(`value ${v} is out of range for column "${field}" (float4) on measurement "${measurement}"`);
    case 'int8':
    case 'int4':
    case 'int2': {
      if (kind !== FieldKind.Integer && kind !== FieldKind.Unsigned)
        return conflict(kind, t, field, measurement);
      const r = intRanges[t.kind];
      const inRange =
        typeof v === 'bigint' ? v >= r.loBig && v <= r.hiBig : (v as number) >= r.lo && (v as number) <= r.hi;
      if (!inRange)
        return fail(
          `${kind === FieldKind.Unsigned ? 'unsigned integer' : 'integer'} ${v} is out of range for column "${field}" (${t.kind}) on measurement "${measurement}"`,
        );
      return { ok: true, value: v as number | bigint };
    }
    case 'bool':
      return kind === FieldKind.Boolean
        ? { ok: true, value: v as number }
        : conflict(kind, t, field, measurement);
    case 'varchar':
    case 'bpchar':
    case 'text': {
      if (kind !== FieldKind.String) return conflict(kind, t, field, measurement);
      const s = v as string;
      if (t.typmod >= 0 && charLength(s) > t.typmod)
        return fail(
          `string of ${charLength(s)} characters is too long for column "${field}" (${t.kind}(${t.typmod})) on measurement "${measurement}"`,
        );
      return { ok: true, value: s };
    }
    default:
      return conflict(kind, t, field, measurement);
  }
}

function conflict(kind: FieldKind, t: SqlType, field: string, measurement: string): Converted {
  return fail(
    `field type conflict: input field "${field}" on measurement "${measurement}" is type ${fieldKindNames[kind]}, already exists as type ${influxTypeOf(t)}`,
  );
}

/** Integer column ranges (number bounds are exact: ±2^63 as doubles compare right with safe integers). */
const intRanges = {
  int8: { lo: -(2 ** 63), hi: 2 ** 63, loBig: int64Min, hiBig: int64Max },
  int4: { lo: -(2 ** 31), hi: 2 ** 31 - 1, loBig: -(2n ** 31n), hiBig: 2n ** 31n - 1n },
  int2: { lo: -(2 ** 15), hi: 2 ** 15 - 1, loBig: -(2n ** 15n), hiBig: 2n ** 15n - 1n },
} as const;

/** Characters (code points), as PostgreSQL counts VARCHAR(n). */
function charLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

/** A tag's text as a value of its tag column's type, or why the line is refused. */
export function convertTag(
  text: string,
  t: SqlType,
  tag: string,
  measurement: string,
): { ok: true; value: TsValue } | { ok: false; reason: string } {
  const bad = () => ({
    ok: false as const,
    reason: `tag "${tag}" on measurement "${measurement}": "${text}" is not a valid ${t.kind}`,
  });
  switch (t.kind) {
    case 'varchar':
    case 'bpchar':
    case 'text':
      if (t.typmod >= 0 && charLength(text) > t.typmod)
        return {
          ok: false,
          reason: `tag "${tag}" on measurement "${measurement}": value of ${charLength(text)} characters is too long for ${t.kind}(${t.typmod})`,
        };
      return { ok: true, value: text };
    case 'int2':
    case 'int4':
    case 'int8': {
      if (!/^-?\d{1,19}$/.test(text)) return bad();
      const big = BigInt(text);
      const bits = t.kind === 'int8' ? 63n : t.kind === 'int4' ? 31n : 15n;
      if (big < -(2n ** bits) || big > 2n ** bits - 1n) return bad();
      return { ok: true, value: t.kind === 'int8' ? big : Number(big) };
    }
    case 'float4':
    case 'float8': {
      if (!/^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return bad();
      const x = Number(text);
      return Number.isFinite(x) ? { ok: true, value: x } : bad();
    }
    case 'bool':
      if (['t', 'T', 'true', 'True', 'TRUE'].includes(text)) return { ok: true, value: true };
      if (['f', 'F', 'false', 'False', 'FALSE'].includes(text)) return { ok: true, value: false };
      return bad();
    default:
      return bad();
  }
}

/** Always quoted: measurement and key names are any text, keywords included. */
function ident(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

function escapeKeyPart(s: string): string {
  return s.replace(/[\\,= ]/g, (c) => '\\' + c);
}

/**
 * The device of a tag set: hex SHA-256 of its `key=value` pairs (escaped as in line protocol,
 * backslashes too) sorted by key and joined by commas. Lines without tags are all one device.
 */
export function primaryTagOf(s: Series): string {
  const order = s.tagKeys
    .map((_k, i) => i)
    .sort((a, b) => {
      const ka = s.tagKeys[a] as string;
      const kb = s.tagKeys[b] as string;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
  const text = order
    .map((i) => `${escapeKeyPart(s.tagKeys[i] as string)}=${escapeKeyPart(s.tagValues[i] as string)}`)
    .join(',');
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** CREATE TABLE for a new measurement (fields and tags in first-seen order). */
export function createTableSql(
  name: string,
  fields: { key: string; kind: FieldKind }[],
  tags: string[],
): string {
  const cols = [
    `${ident(timeColumn)} TIMESTAMPTZ NOT NULL`,
    ...fields.map((f) => `${ident(f.key)} ${columnTypeFor(f.kind)}`),
  ];
  const tagDefs = [
    `${ident(primaryTagName)} ${primaryTagType} NOT NULL`,
    ...tags.map((t) => `${ident(t)} VARCHAR`),
  ];
  return `CREATE TABLE IF NOT EXISTS ${ident(name)} (${cols.join(', ')}) TAGS (${tagDefs.join(', ')}) PRIMARY TAGS (${ident(primaryTagName)})`;
}

export function addColumnSql(table: string, field: string, kind: FieldKind): string {
  return `ALTER TABLE ${ident(table)} ADD COLUMN IF NOT EXISTS ${ident(field)} ${columnTypeFor(kind)}`;
}

export function addTagSql(table: string, tag: string): string {
  return `ALTER TABLE ${ident(table)} ADD TAG IF NOT EXISTS ${ident(tag)} VARCHAR`;
}
