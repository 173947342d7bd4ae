/**
 * Conversions between protobufjs values and ours, exact in both directions.
 *
 * 64-bit integers: protobufjs hands out Long objects ({low, high}: two 32-bit halves) and accepts
 * any {low, high} object or a JS number when encoding. HLC timestamps and TS values are bigint and
 * cross as such; Raft indexes, terms and range ids are JS numbers on our side and are refused
 * above 2^53 - 1 rather than rounded. Encoding our own values checks them with assertions (a bad
 * value is our bug); decoding the network's values throws WireFormatError (the peer's bug or a
 * version mismatch: the message is refused).
 *
 * Bytes: protobufjs decodes a bytes field to a Buffer viewing the received message (no copy), and
 * an absent non-optional bytes field to an empty array — `bytes()` normalizes both to a Buffer.
 */
import { StrataError, assert } from '@strata/common';

/** A message from the network does not have the shape the .proto files promise. */
export class WireFormatError extends StrataError {
  constructor(what: string) {
    super(`malformed message: ${what}`);
  }
}

/** What protobufjs gives for a 64-bit field: a Long (with the long package) or a number. */
export type Wire64 = { low: number; high: number; unsigned?: boolean } | number;

const two32 = 4294967296;
const u64Max = (1n << 64n) - 1n;
const i64Min = -(1n << 63n);
const i64Max = (1n << 63n) - 1n;

export function isInt64(x: bigint): boolean {
  return x >= i64Min && x <= i64Max;
}

/** A uint64 field from a bigint. */
export function u64(x: bigint, what: string): Wire64 {
  assert(x >= 0n && x <= u64Max, () => `${what}: ${x} does not fit in uint64`);
  return { low: Number(x & 0xffffffffn) | 0, high: Number(x >> 32n) | 0, unsigned: true };
}

/** An int64/sint64 field from a bigint. */
export function i64(x: bigint, what: string): Wire64 {
  assert(isInt64(x), () => `${what}: ${x} does not fit in int64`);
  const u = BigInt.asUintN(64, x);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: false };
}

/** A uint64 field from a JS number (protobufjs encodes safe integers exactly). */
export function u64n(n: number, what: string): number {
  assert(Number.isSafeInteger(n) && n >= 0, () => `${what}: ${n} is not a non-negative safe integer`);
  return n;
}

/** A uint32 field from a JS number. */
export function u32(n: number, what: string): number {
  assert(Number.isInteger(n) && n >= 0 && n <= 0xffffffff, () => `${what}: ${n} does not fit in uint32`);
  return n;
}

/** A uint64 field as a bigint. */
export function bigU64(v: Wire64 | null | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new WireFormatError(`uint64 decoded as the number ${v}`);
    return BigInt(v);
  }
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

/** An int64/sint64 field as a bigint. */
export function bigI64(v: Wire64 | null | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new WireFormatError(`int64 decoded as the number ${v}`);
    return BigInt(v);
  }
  return BigInt.asIntN(64, (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0));
}

/** A bigint carried as decimal text (beyond the 64-bit types). */
export function decimal(s: string, what: string): bigint {
  if (!/^-?[0-9]+$/.test(s)) throw new WireFormatError(`${what}: ${JSON.stringify(s)} is not an integer`);
  return BigInt(s);
}

/** A uint64 field as a JS number; refused above 2^53 - 1. */
export function numU64(v: Wire64 | null | undefined, what: string): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new WireFormatError(`${what}: ${v} is not a non-negative safe integer`);
    return v;
  }
  const hi = v.high >>> 0;
  if (hi > 0x1fffff) throw new WireFormatError(`${what}: ${bigU64(v)} exceeds 2^53 - 1`);
  return hi * two32 + (v.low >>> 0);
}

/** A uint32 field (protobufjs decodes it to a number; absent is 0). */
export function numU32(v: number | null | undefined): number {
  return v ?? 0;
}

/** A bytes field as a Buffer (absent: empty). */
export function bytes(v: Uint8Array | number[] | null | undefined): Buffer {
  if (v === null || v === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) return Buffer.from(v);
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** A bytes field copied out of the received message (for keys a store may keep long after). */
export function bytesCopy(v: Uint8Array | number[] | null | undefined): Buffer {
  return Buffer.from(bytes(v));
}

/** An optional bytes field: null when absent. */
export function optBytes(v: Uint8Array | number[] | null | undefined): Buffer | null {
  return v === null || v === undefined ? null : bytes(v);
}

/** A Uint8Array as a Buffer view (no copy) for encoding. */
export function asBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** An enum value the decoder must know (0, "unspecified", is never valid). */
export function known<T>(table: readonly (T | undefined)[], v: number | null | undefined, what: string): T {
  const out = table[v ?? 0];
  if (out === undefined || (v ?? 0) === 0) throw new WireFormatError(`${what}: unknown value ${v ?? 0}`);
  return out;
}

/** The inverse of an enum table: our value → wire number. */
export function inverse<T extends string | number>(table: readonly (T | undefined)[]): Map<T, number> {
  const m = new Map<T, number>();
  table.forEach((v, i) => {
    if (v !== undefined && i !== 0) m.set(v, i);
  });
  return m;
}

/** Encodes our enum value (assert: every value of our type has a wire number). */
export function wireEnum<T>(m: Map<T, number>, v: T, what: string): number {
  const n = m.get(v);
  assert(n !== undefined, () => `${what}: no wire value for ${String(v)}`);
  return n;
}

/** A required message field (a message type's absence means null only where our type allows it). */
export function need<T>(v: T | null | undefined, what: string): T {
  if (v === null || v === undefined) throw new WireFormatError(`${what} is missing`);
  return v;
}
