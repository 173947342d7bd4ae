import { PgError, SqlState, assert } from '@strata/common';
import { WriteIntentError, containsKey, encodeWriteBatch, mvccIntent, mvccNewestTimestamp } from '@strata/kv';
import type { KvRequest } from '@strata/kv';
import { txnRecordKey } from '../keys.js';
import { CommandKind } from '../replica/proposal.js';
import { keySpan } from './command.js';
import type { RequestCommand } from './command.js';
import { readSetLatches, refreshReads } from './cmd_refresh.js';
import { checkDiskSpace } from './disk.js';
import { readTxnRecord, transactionAborted } from './txn_record.js';
import { encodeTxnWrite } from './txn_write.js';

type EndTxn = Extract<KvRequest, { kind: 'endTxn' }>;

/**
 * Ends a transaction whose writes all lie in this range.
 *
 * Commit: the commit timestamp is the leaseholder's clock, pushed above every read the timestamp
 * cache remembers on the written keys and the keys holding its intents (a write must not change
 * what an earlier reader saw) and above every existing version of them (write-write order). If it
 * ends above the transaction's read timestamp, the read set is refreshed up to it — nothing read
 * may have changed in between, else 40001. Then one command applies the buffered writes at that
 * timestamp, resolves the intents there and removes the transaction record: without intents that
 * is a plain MVCC write batch (one round, 1PC). A transaction with intents whose record is gone
 * was aborted by a pusher (40001). Another transaction's intent on a buffered write's key: the
 * replica waits for it (WriteIntentError) and evaluates again.
 *
 * Abort: removes the transaction's intents and record (nothing else to check).
 *
 * Latches: written keys, intent keys and the record for writing, the read set for reading.
 */
export const endTxn: RequestCommand<EndTxn> = {
  needsLease: true,
  declareLatches: (h, r) => [
    ...r.writes.map((w) => keySpan(Buffer.from(w.key), true)),
    ...r.intentKeys.map((k) => keySpan(k, true)),
    ...(h.txn && r.intentKeys.length > 0 ? [keySpan(txnRecordKey(h.rangeId, h.txn.id), true)] : []),
    ...(r.commit ? readSetLatches(r.readKeys, r.readSpans) : []),
  ],
  evaluate(ctx, h, r) {
    const txn = h.txn;
    if (!r.commit) {
      assert(txn !== null && r.intentKeys.length > 0, 'an abort without intents');
      const body = encodeTxnWrite({ txnId: txn.id, record: { op: 'delete' }, resolve: { keys: r.intentKeys, commitTs: null }, intents: null, plain: null });
      return { response: { kind: 'endTxn', commitTs: 0n }, proposal: { kind: CommandKind.TxnWrite, body } };
    }
    assert(r.writes.length + r.intentKeys.length > 0, 'a commit without writes');
    assert(r.intentKeys.length === 0 || txn !== null, 'intents without a transaction');
    for (const w of r.writes) {
      if (!containsKey(ctx.desc, w.key)) throw new PgError(SqlState.FeatureNotSupported, 'transactions spanning ranges are not supported yet');
    }
    if (txn && r.intentKeys.length > 0 && readTxnRecord(ctx.engine, ctx.rangeId, txn.id) === null) throw transactionAborted(txn.id);
    checkDiskSpace(ctx, 0, 'write');
    const readTs = txn?.readTs ?? h.timestamp;
    let commitTs = ctx.now();
    if (commitTs <= readTs) commitTs = readTs + 1n;
    const push = (key: Buffer) => {
      const read = ctx.tscache.get(key);
      if (read >= commitTs) commitTs = read + 1n;
      const newest = mvccNewestTimestamp(ctx.engine, key);
      if (newest !== undefined && newest >= commitTs) commitTs = newest + 1n;
    };
    for (const w of r.writes) {
      const key = Buffer.from(w.key);
      const i = mvccIntent(ctx.engine, key);
      if (i && i.txnId !== txn?.id) throw new WriteIntentError(key, i);
      push(key);
    }
    for (const key of r.intentKeys) push(key);
    if (commitTs > readTs) refreshReads(ctx.engine, ctx.tscache, r.readKeys, r.readSpans, readTs, commitTs);
    const proposal =
      r.intentKeys.length === 0
        ? { kind: CommandKind.WriteBatch, body: encodeWriteBatch({ ts: commitTs, writes: r.writes }) }
        : {
            kind: CommandKind.TxnWrite,
            body: encodeTxnWrite({ txnId: (txn as { id: string }).id, record: { op: 'delete' }, resolve: { keys: r.intentKeys, commitTs }, intents: null, plain: r.writes.length > 0 ? { ts: commitTs, writes: r.writes } : null }),
          };
    return { response: { kind: 'endTxn', commitTs }, proposal, waitUntil: commitTs };
  },
};
