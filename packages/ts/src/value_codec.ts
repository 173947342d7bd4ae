/**
 * One value in the TS commands' value format (tag values; version 4 write commands carried data
 * values this way too):
 * A tag value: u8 null flag (1 = NULL, then nothing) | payload by type — Timestamp: f64
 * microseconds (the SQL layer's own representation, exact), Int64: i64, Int32: i32, Float64: f64,
 * Bool: u8, String: u32 byte length + UTF-8 bytes.
 */
import type { ByteWriter } from '@strata/common';
import { ColumnType } from './block.js';
import type { ByteReader } from './byte_reader.js';
import type { TsValue } from './command_header.js';

export function writeValue(w: ByteWriter, t: ColumnType, v: TsValue): void {
  if (v === null) {
    w.u8(1);
    return;
  }
  w.u8(0);
  switch (t) {
    case ColumnType.Timestamp:
      w.f64(typeof v === 'bigint' ? Number(v) : (v as number));
      return;
    case ColumnType.Int64: {
      // Same bytes as a BigInt write, without BigInt arithmetic when the value is a safe integer.
      const n = typeof v === 'bigint' ? Number(v) : (v as number);
      if (Number.isSafeInteger(n)) w.u32(Math.floor(n / 4294967296) >>> 0).u32(n >>> 0);
      else w.i64(typeof v === 'bigint' ? v : BigInt(v as number));
      return;
    }
    case ColumnType.Int32:
      w.i32(v as number);
      return;
    case ColumnType.Float64:
      w.f64(v as number);
      return;
    case ColumnType.Bool:
      w.u8(v ? 1 : 0);
      return;
    case ColumnType.String: {
      const b = Buffer.from(v as string, 'utf8');
      w.u32(b.length).bytes(b);
      return;
    }
  }
}

export function readValue(r: ByteReader, t: ColumnType): TsValue {
  if (r.u8() === 1) return null;
  switch (t) {
    case ColumnType.Timestamp:
      return BigInt(r.f64());
    case ColumnType.Int64:
      return r.i64();
    case ColumnType.Int32:
      return r.i32();
    case ColumnType.Float64:
      return r.f64();
    case ColumnType.Bool:
      return r.u8() === 1;
    case ColumnType.String:
      return r.bytes(r.u32()).toString('utf8');
  }
}
