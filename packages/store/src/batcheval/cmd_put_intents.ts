import { PgError, SqlState, assert } from '@strata/common';
import { WriteIntentError, containsKey, mvccIntent, mvccNewestTimestamp } from '@strata/kv';
import type { KvRequest } from '@strata/kv';
import { txnRecordKey } from '../keys.js';
import { CommandKind } from '../replica/proposal.js';
import { keySpan } from './command.js';
import type { RequestCommand } from './command.js';
import { checkDiskSpace } from './disk.js';
import { readTxnRecord, transactionAborted } from './txn_record.js';
import { encodeTxnWrite } from './txn_write.js';

type PutIntents = Extract<KvRequest, { kind: 'putIntents' }>;

/**
 * Writes part of a transaction's writes ahead as intents (mvcc.ts). The write timestamp W is the
 * leaseholder's clock, above every version of the keys (the provisional version must be the
 * newest); the commit later moves the values to the commit timestamp, which is pushed above every
 * read the timestamp cache remembers on them (cmd_end_txn.ts), so W need not be. Another
 * transaction's intent on a key is a WriteIntentError: the replica waits for that transaction
 * (concurrency/txn_wait_queue.ts) and evaluates the request again.
 *
 * Latches: the keys and the transaction record, for writing.
 */
export const putIntents: RequestCommand<PutIntents> = {
  needsLease: true,
  declareLatches: (h, r) => [...r.writes.map((w) => keySpan(Buffer.from(w.key), true)), ...(h.txn ? [keySpan(txnRecordKey(h.rangeId, h.txn.id), true)] : [])],
  evaluate(ctx, h, r) {
    const txn = h.txn;
    assert(txn !== null, 'intents without a transaction');
    assert(r.writes.length > 0, 'putIntents without writes');
    for (const w of r.writes) {
      if (!containsKey(ctx.desc, w.key)) throw new PgError(SqlState.FeatureNotSupported, 'transactions spanning ranges are not supported yet');
    }
    if (!r.first && readTxnRecord(ctx.engine, ctx.rangeId, txn.id) === null) throw transactionAborted(txn.id);
    checkDiskSpace(ctx, 0, 'write');
    let writeTs = ctx.now();
    for (const w of r.writes) {
      const i = mvccIntent(ctx.engine, w.key);
      if (i && i.txnId !== txn.id) throw new WriteIntentError(Buffer.from(w.key), i);
      const newest = mvccNewestTimestamp(ctx.engine, w.key);
      if (newest !== undefined && newest >= writeTs) writeTs = newest + 1n;
    }
    const body = encodeTxnWrite({ txnId: txn.id, record: { op: 'put', heartbeat: ctx.now() }, resolve: null, intents: { ts: writeTs, writes: r.writes }, plain: null });
    return { response: { kind: 'putIntents' }, proposal: { kind: CommandKind.TxnWrite, body } };
  },
};
