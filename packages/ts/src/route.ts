/**
 * Routing devices to hash-point ranges (KWDB's hash router). A device's hash point is the 32-bit
 * FNV-1 hash of its primary tag values' encoded bytes (value_codec.ts writeValue, in the schema's
 * primary-tag order) modulo the table's hashNum; a table split into ranges gives each range a
 * contiguous span of hash points, so a device never spans ranges.
 *
 * A write command is divided into one command per range by its groups (one group per device):
 * each range's command carries the original's header (schema, flags) and that range's groups,
 * re-encoded with the same layout, so a range applies exactly the rows of its own devices and
 * the union over ranges is the original command.
 */
import { ByteWriter, PgError, SqlState } from '@strata/common';
import type { ColumnType } from './block.js';
import {
  ByteReader,
  decodeTsWrite,
  readSchemaHeader,
  tsCommandBytesMax,
  tsCommandVersion,
  writeColumn,
  writeValue,
} from './command.js';
import type { TsSchema, TsValue } from './command.js';

const fnvOffset = 2166136261;
const fnvPrime = 16777619;

/** FNV-1 (multiply, then xor), 32 bits: Go's hash/fnv New32, which KWDB's router uses. */
export function fnv1_32(b: Uint8Array): number {
  let h = fnvOffset;
  for (let i = 0; i < b.length; i++) {
    h = Math.imul(h, fnvPrime) >>> 0;
    h = (h ^ (b[i] as number)) >>> 0;
  }
  return h;
}

/** The encoded primary tag values of a device (tags in the schema's tag layout). */
/** What hashing needs of a schema: the tag types and which tags are primary (in hash order). */
export type HashSchema = Pick<TsSchema, 'tags' | 'primaryTags'>;

export function primaryTagBytes(schema: HashSchema, tags: readonly TsValue[]): Buffer {
  const w = new ByteWriter(32);
  for (const i of schema.primaryTags) writeValue(w, schema.tags[i] as ColumnType, tags[i] ?? null);
  return w.finish();
}

/** The hash point of a device: in [0, hashNum). */
export function hashPointOf(schema: HashSchema, tags: readonly TsValue[], hashNum: number): number {
  return fnv1_32(primaryTagBytes(schema, tags)) % hashNum;
}

/**
 * Divides a write command by range: `rangeOf` maps a hash point to the index of its range.
 * Returns the command of each range index that has rows (the original buffer itself when all of
 * its devices fall in one range).
 */
export function splitTsWrite(
  payload: Buffer,
  hashNum: number,
  rangeOf: (hashPoint: number) => number,
): Map<number, Buffer> {
  const cmd = decodeTsWrite(payload);
  const byRange = new Map<number, number[]>();
  cmd.groups.forEach((g, i) => {
    const r = rangeOf(hashPointOf(cmd.schema, g.tags, hashNum));
    const list = byRange.get(r);
    if (list) list.push(i);
    else byRange.set(r, [i]);
  });
  const out = new Map<number, Buffer>();
  if (byRange.size <= 1) {
    for (const r of byRange.keys()) out.set(r, payload);
    return out;
  }
  // The header (version, flags, schema) as it is: the same bytes in every range's command.
  const hr = new ByteReader(payload);
  hr.u8();
  hr.u8();
  readSchemaHeader(hr);
  const header = payload.subarray(0, hr.o);
  for (const [r, groups] of byRange) {
    const w = new ByteWriter(
      Math.ceil((payload.length * groups.length) / cmd.groups.length) + header.length + 64,
    );
    w.bytes(header);
    w.buf[0] = tsCommandVersion; // groups are written column-wise whatever the original's version
    w.u32(groups.length);
    for (const i of groups) {
      const g = cmd.groups[i] as (typeof cmd.groups)[number];
      cmd.schema.tags.forEach((t, k) => writeValue(w, t, g.tags[k] ?? null));
      w.u32(g.rows);
      for (const c of g.columns) writeColumn(w, c);
    }
    if (w.len > tsCommandBytesMax)
      throw new PgError(
        SqlState.ProgramLimitExceeded,
        `time-series write of ${w.len} bytes exceeds ${tsCommandBytesMax} bytes`,
      );
    out.set(r, w.finish());
  }
  return out;
}
