/**
 * Transaction records. A transaction that writes intents in a range has a record there (a
 * replicated range-local key, txnRecordKey), created by its first putIntents and removed by its
 * end: committing resolves every intent and removes the record in one command, aborting or being
 * aborted by a pusher likewise. So a record exists exactly while the transaction is PENDING with
 * intents in the range, and a coordinator that finds its record gone knows it was aborted.
 *
 * Value: u8 version (1) | u64 heartbeat (HLC timestamp of the leaseholder at its last heartbeat)
 *   | transaction id (UTF-8).
 *
 * INVARIANT: a key holds an intent of transaction T only while T's record exists in the range.
 */
import { PgError, SqlState, makeTimestamp } from '@strata/common';
import type { Timestamp } from '@strata/common';
import type { Engine } from '@strata/kv';
import { txnExpiryMs } from '../constants.js';
import { txnRecordKey, txnRecordSpan } from '../keys.js';

export interface TxnRecord {
  txnId: string;
  heartbeat: Timestamp;
}

const version = 1;

export function encodeTxnRecord(r: TxnRecord): Buffer {
  const id = Buffer.from(r.txnId, 'utf8');
  const b = Buffer.allocUnsafe(9 + id.length);
  b[0] = version;
  b.writeBigUInt64BE(r.heartbeat, 1);
  id.copy(b, 9);
  return b;
}

export function decodeTxnRecord(b: Buffer): TxnRecord {
  if (b[0] !== version) throw new PgError(SqlState.DataCorrupted, `unknown transaction record version ${b[0]}`);
  return { heartbeat: b.readBigUInt64BE(1), txnId: b.subarray(9).toString('utf8') };
}

/** The records of the range whose coordinators are presumed dead at `now`. */
export function expiredTxnRecords(engine: Engine, rangeId: number, now: Timestamp, expiryMs: number): TxnRecord[] {
  const [start, end] = txnRecordSpan(rangeId);
  const out: TxnRecord[] = [];
  for (const { value } of engine.scan(start, end)) {
    const r = decodeTxnRecord(value);
    if (txnExpired(r, now, expiryMs)) out.push(r);
  }
  return out;
}

export function readTxnRecord(engine: Engine, rangeId: number, txnId: string): TxnRecord | null {
  const v = engine.get(txnRecordKey(rangeId, txnId));
  return v ? decodeTxnRecord(v) : null;
}

/** Whether a record's coordinator is presumed dead at `now` (no heartbeat for txnExpiryMs). */
export function txnExpired(r: TxnRecord, now: Timestamp, expiryMs = txnExpiryMs): boolean {
  return r.heartbeat + makeTimestamp(expiryMs, 0) < now;
}

/** The transaction's record is gone: a pusher aborted it (its intents are gone too). */
export function transactionAborted(txnId: string): PgError {
  return new PgError(SqlState.SerializationFailure, `restart transaction: TransactionAbortedError: transaction ${txnId} was aborted while it waited or idled (its record expired and a writer pushed it)`, {
    hint: 'retry the transaction',
  });
}
