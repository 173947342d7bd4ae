import { assert } from '@strata/common';
import { mvccIntentsOf, userSpanOf } from '@strata/kv';
import type { KvRequest } from '@strata/kv';
import { txnRecordKey } from '../keys.js';
import { CommandKind } from '../replica/proposal.js';
import { keySpan } from './command.js';
import type { RequestCommand } from './command.js';
import { readTxnRecord, transactionAborted, txnExpired } from './txn_record.js';
import { encodeTxnWrite } from './txn_write.js';

type Heartbeat = Extract<KvRequest, { kind: 'heartbeatTxn' }>;
type Push = Extract<KvRequest, { kind: 'pushTxn' }>;

/** The coordinator is alive: the record's heartbeat moves to the leaseholder's clock. */
export const heartbeatTxn: RequestCommand<Heartbeat> = {
  needsLease: true,
  declareLatches: (h) => (h.txn ? [keySpan(txnRecordKey(h.rangeId, h.txn.id), true)] : []),
  evaluate(ctx, h) {
    const txn = h.txn;
    assert(txn !== null, 'a heartbeat without a transaction');
    if (readTxnRecord(ctx.engine, ctx.rangeId, txn.id) === null) throw transactionAborted(txn.id);
    const body = encodeTxnWrite({ txnId: txn.id, record: { op: 'put', heartbeat: ctx.now() }, resolve: null, intents: null, plain: null });
    return { response: { kind: 'heartbeatTxn' }, proposal: { kind: CommandKind.TxnWrite, body } };
  },
};

/**
 * Aborts a transaction presumed dead (its record's heartbeat expired, or it has no record):
 * finds its intents in the range and removes them with the record, in one command. A live
 * transaction is left alone (`pushed: false`). Rare (a coordinator crashed or froze), so it
 * latches the whole range rather than keeping an index of each transaction's intents.
 */
export const pushTxn: RequestCommand<Push> = {
  needsLease: true,
  declareLatches: (h, r) => [keySpan(txnRecordKey(h.rangeId, r.txnId), true), { start: Buffer.alloc(0), end: Buffer.alloc(32, 0xff), write: true }],
  evaluate(ctx, _h, r) {
    const rec = readTxnRecord(ctx.engine, ctx.rangeId, r.txnId);
    if (rec !== null && !txnExpired(rec, ctx.now(), ctx.txnExpiryMs)) return { response: { kind: 'pushTxn', pushed: false } };
    const [start, end] = userSpanOf(ctx.desc);
    const keys = [...mvccIntentsOf(ctx.engine, start, end, r.txnId)];
    if (keys.length === 0 && rec === null) return { response: { kind: 'pushTxn', pushed: true } };
    const body = encodeTxnWrite({ txnId: r.txnId, record: { op: 'delete' }, resolve: { keys, commitTs: null }, intents: null, plain: null });
    return { response: { kind: 'pushTxn', pushed: true }, proposal: { kind: CommandKind.TxnWrite, body } };
  },
};
