/**
 * The TxnWrite command: what a transaction that writes intents does to a range, as one Raft
 * command every replica applies the same way (it reads only replicated engine state):
 *   - lay intents (putIntents): provisional values at `intents.ts`;
 *   - resolve the intents on `resolve.keys`: committed at `resolve.commitTs`, or aborted (null);
 *   - write `plain` (a commit's buffered writes) as committed versions at their timestamp;
 *   - put the transaction record (a heartbeat) or delete it.
 * Resolution happens first, then intents, then plain writes (later writes of a key win).
 *
 * Body: u8 version (1) | u16 idLength | id | u8 recordOp (0 keep, 1 put, 2 delete) | u64 heartbeat
 *   | u8 resolveOp (0 none, 1 commit, 2 abort) | u64 commitTs
 *   | 3 × (u32 length | write batch (batch.ts)): intents, resolve keys (values unused), plain
 */
import { PgError, SqlState } from '@strata/common';
import type { Timestamp } from '@strata/common';
import { decodeWriteBatch, encodeWriteBatch, mvccPutIntentWrites, mvccResolveIntent, mvccWrites } from '@strata/kv';
import type { Engine, EngineWrite, KvWrite, WriteBatch } from '@strata/kv';
import { txnRecordKey } from '../keys.js';
import { encodeTxnRecord } from './txn_record.js';

export interface TxnWrite {
  txnId: string;
  record: { op: 'keep' } | { op: 'put'; heartbeat: Timestamp } | { op: 'delete' };
  resolve: { keys: Uint8Array[]; commitTs: Timestamp | null } | null;
  intents: WriteBatch | null;
  plain: WriteBatch | null;
}

const version = 1;
const empty: WriteBatch = { ts: 0n, writes: [] };

export function encodeTxnWrite(t: TxnWrite): Buffer {
  const id = Buffer.from(t.txnId, 'utf8');
  const head = Buffer.alloc(1 + 2 + id.length + 1 + 8 + 1 + 8);
  let o = 0;
  head[o++] = version;
  head.writeUInt16BE(id.length, o);
  o += 2;
  id.copy(head, o);
  o += id.length;
  head[o++] = t.record.op === 'keep' ? 0 : t.record.op === 'put' ? 1 : 2;
  head.writeBigUInt64BE(t.record.op === 'put' ? t.record.heartbeat : 0n, o);
  o += 8;
  head[o++] = t.resolve === null ? 0 : t.resolve.commitTs === null ? 2 : 1;
  head.writeBigUInt64BE(t.resolve?.commitTs ?? 0n, o);
  const parts = [t.intents ?? empty, { ts: 0n, writes: (t.resolve?.keys ?? []).map((key) => ({ key, value: null })) }, t.plain ?? empty].map((b) => encodeWriteBatch(b));
  const out: Buffer[] = [head];
  for (const p of parts) {
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(p.length, 0);
    out.push(len, p);
  }
  return Buffer.concat(out);
}

export function decodeTxnWrite(b: Buffer): TxnWrite {
  let o = 0;
  if (b[o++] !== version) throw new PgError(SqlState.DataCorrupted, `unknown TxnWrite version ${b[0]}`);
  const idLen = b.readUInt16BE(o);
  o += 2;
  const txnId = b.subarray(o, o + idLen).toString('utf8');
  o += idLen;
  const recordOp = b[o++];
  const heartbeat = b.readBigUInt64BE(o);
  o += 8;
  const resolveOp = b[o++];
  const commitTs = b.readBigUInt64BE(o);
  o += 8;
  const parts: WriteBatch[] = [];
  for (let i = 0; i < 3; i++) {
    const len = b.readUInt32BE(o);
    parts.push(decodeWriteBatch(b.subarray(o + 4, o + 4 + len)));
    o += 4 + len;
  }
  const [intents, resolveKeys, plain] = parts as [WriteBatch, WriteBatch, WriteBatch];
  return {
    txnId,
    record: recordOp === 1 ? { op: 'put', heartbeat } : recordOp === 2 ? { op: 'delete' } : { op: 'keep' },
    resolve: resolveOp === 0 ? null : { keys: resolveKeys.writes.map((w) => w.key), commitTs: resolveOp === 1 ? commitTs : null },
    intents: intents.writes.length > 0 ? intents : null,
    plain: plain.writes.length > 0 ? plain : null,
  };
}

/**
 * The engine writes of a TxnWrite on a replica whose engine holds every earlier entry's writes,
 * and the committed writes (for the store's caches and GC queue).
 */
export function txnWriteEffects(engine: Engine, rangeId: number, t: TxnWrite): { writes: EngineWrite[]; committed: WriteBatch | null } {
  const writes: EngineWrite[] = [];
  const committed: KvWrite[] = [];
  if (t.resolve) {
    for (const key of t.resolve.keys) {
      const r = mvccResolveIntent(engine, key, t.txnId, t.resolve.commitTs);
      for (const w of r.writes) writes.push(w);
      if (r.committed) committed.push(r.committed);
    }
  }
  if (t.intents) for (const w of t.intents.writes) for (const e of mvccPutIntentWrites(engine, t.txnId, t.intents.ts, w.key, w.value)) writes.push(e);
  if (t.plain) {
    for (const w of mvccWrites(t.plain.ts, t.plain.writes)) writes.push(w);
    for (const w of t.plain.writes) committed.push(w);
  }
  if (t.record.op === 'put') writes.push({ key: txnRecordKey(rangeId, t.txnId), value: encodeTxnRecord({ txnId: t.txnId, heartbeat: t.record.heartbeat }) });
  else if (t.record.op === 'delete') writes.push({ key: txnRecordKey(rangeId, t.txnId), value: null });
  const ts = t.resolve?.commitTs ?? t.plain?.ts ?? null;
  return { writes, committed: committed.length > 0 && ts !== null ? { ts, writes: committed } : null };
}
