import { PgError, SqlState, assert } from '@strata/common';
import { encodeWriteBatch, mvccNewestTimestamp } from '@strata/kv';
import type { KvRequest } from '@strata/kv';
import { containsKey } from '@strata/kv';
import { CommandKind } from '../replica/proposal.js';
import { keySpan } from './command.js';
import type { RequestCommand } from './command.js';
import { readSetLatches, refreshReads } from './cmd_refresh.js';
import { checkDiskSpace } from './disk.js';

type EndTxn = Extract<KvRequest, { kind: 'endTxn' }>;

/**
 * Commits a transaction whose writes all lie in this range, in one round (1PC). The commit
 * timestamp is the leaseholder's clock, pushed above every read the timestamp cache remembers on
 * the written keys (a write must not change what an earlier reader saw) and above every existing
 * version of them (write-write order). If it ends above the transaction's read timestamp, the
 * read set is refreshed up to it — nothing read may have changed in between, else 40001. Then the
 * writes are proposed as one MVCC write batch at that timestamp.
 *
 * Latches: written keys for writing (held until the batch applies), the read set for reading.
 */
export const endTxn: RequestCommand<EndTxn> = {
  needsLease: true,
  declareLatches: (_h, r) => [...r.writes.map((w) => keySpan(Buffer.from(w.key), true)), ...readSetLatches(r.readKeys, r.readSpans)],
  evaluate(ctx, h, r) {
    assert(r.writes.length > 0, 'a commit without writes');
    for (const w of r.writes) {
      if (!containsKey(ctx.desc, w.key)) throw new PgError(SqlState.FeatureNotSupported, 'transactions spanning ranges are not supported yet');
    }
    checkDiskSpace(ctx, 0, 'write');
    const readTs = h.txn?.readTs ?? h.timestamp;
    let commitTs = ctx.now();
    if (commitTs <= readTs) commitTs = readTs + 1n;
    for (const w of r.writes) {
      const key = Buffer.from(w.key);
      const read = ctx.tscache.get(key);
      if (read >= commitTs) commitTs = read + 1n;
      const newest = mvccNewestTimestamp(ctx.engine, key);
      if (newest !== undefined && newest >= commitTs) commitTs = newest + 1n;
    }
    if (commitTs > readTs) refreshReads(ctx.engine, ctx.tscache, r.readKeys, r.readSpans, readTs, commitTs);
    return {
      response: { kind: 'endTxn', commitTs },
      proposal: { kind: CommandKind.WriteBatch, body: encodeWriteBatch({ ts: commitTs, writes: r.writes }) },
      waitUntil: commitTs,
    };
  },
};
