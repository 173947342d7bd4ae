/**
 * The Raft command format for relational writes: an evaluated MVCC write batch (proposer-evaluated
 * KV, as CockroachDB does): commit timestamp plus the key/value writes. Every replica applies it
 * as-is. Binary layout (big endian):
 *   u8 version(1) | u64 ts | u32 count | count × (u32 keyLen | key | i32 valueLen (-1 = delete) | value)
 */
import { PgError, SqlState } from '@strata/common';
import type { Timestamp } from '@strata/common';

export interface KvWrite {
  key: Uint8Array;
  value: Uint8Array | null;
}

export interface WriteBatch {
  ts: Timestamp;
  writes: KvWrite[];
}

const version = 1;

export function encodeWriteBatch(b: WriteBatch): Buffer {
  let size = 1 + 8 + 4;
  for (const w of b.writes) size += 8 + w.key.length + (w.value ? w.value.length : 0);
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  out[o++] = version;
  out.writeBigUInt64BE(b.ts, o);
  o += 8;
  out.writeUInt32BE(b.writes.length, o);
  o += 4;
  for (const w of b.writes) {
    out.writeUInt32BE(w.key.length, o);
    o += 4;
    out.set(w.key, o);
    o += w.key.length;
    if (w.value === null) {
      out.writeInt32BE(-1, o);
      o += 4;
    } else {
      out.writeInt32BE(w.value.length, o);
      o += 4;
      out.set(w.value, o);
      o += w.value.length;
    }
  }
  return out;
}

export function decodeWriteBatch(buf: Uint8Array): WriteBatch {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let o = 0;
  if (b[o++] !== version) throw new PgError(SqlState.DataCorrupted, `unknown write batch version ${b[0]}`);
  const ts = b.readBigUInt64BE(o);
  o += 8;
  const n = b.readUInt32BE(o);
  o += 4;
  const writes: KvWrite[] = new Array<KvWrite>(n);
  for (let i = 0; i < n; i++) {
    const kl = b.readUInt32BE(o);
    o += 4;
    const key = b.subarray(o, o + kl);
    o += kl;
    const vl = b.readInt32BE(o);
    o += 4;
    let value: Buffer | null = null;
    if (vl >= 0) {
      value = b.subarray(o, o + vl);
      o += vl;
    }
    writes[i] = { key, value };
  }
  return { ts, writes };
}
