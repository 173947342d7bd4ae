import { PgError, SqlState } from '@strata/common';
import { WriteIntentError, containsKey, encodeWriteBatch, mvccGet, mvccIntent, mvccNewestTimestamp } from '@strata/kv';
import type { KvRequest } from '@strata/kv';
import { CommandKind } from '../replica/proposal.js';
import { keySpan } from './command.js';
import type { RequestCommand } from './command.js';
import { checkDiskSpace } from './disk.js';

type Increment = Extract<KvRequest, { kind: 'increment' }>;

/** int64 bounds of a counter. */
const int64Max = (1n << 63n) - 1n;
const int64Min = -(1n << 63n);

/**
 * Adds `delta` to the integer at `key` (absent: 0; stored as decimal text) outside any
 * transaction, atomically at the leaseholder, and answers the new value: the cluster-wide
 * allocator of node and range ids and of sequence values. Written at the leaseholder's clock,
 * pushed above reads and versions of the key like a commit (cmd_end_txn.ts); another
 * transaction's intent on the key makes it wait.
 */
export const increment: RequestCommand<Increment> = {
  needsLease: true,
  declareLatches: (_h, r) => [keySpan(r.key, true)],
  evaluate(ctx, _h, r) {
    if (!containsKey(ctx.desc, r.key)) throw new PgError(SqlState.InternalError, 'increment outside the range');
    const i = mvccIntent(ctx.engine, r.key);
    if (i) throw new WriteIntentError(Buffer.from(r.key), i);
    checkDiskSpace(ctx, 0, 'write');
    let ts = ctx.now();
    const read = ctx.tscache.get(r.key);
    if (read >= ts) ts = read + 1n;
    const newest = mvccNewestTimestamp(ctx.engine, r.key);
    if (newest !== undefined && newest >= ts) ts = newest + 1n;
    const cur = mvccGet(ctx.engine, r.key, ts)?.value;
    let v: bigint;
    try {
      v = cur ? BigInt(cur.toString('latin1')) : 0n;
    } catch {
      throw new PgError(SqlState.DataCorrupted, `the counter at ${r.key.toString('hex')} does not hold an integer`);
    }
    const next = v + r.delta;
    if (next > int64Max || next < int64Min) throw new PgError(SqlState.NumericValueOutOfRange, `counter overflow: ${v} + ${r.delta}`);
    return {
      response: { kind: 'increment', value: next },
      proposal: { kind: CommandKind.WriteBatch, body: encodeWriteBatch({ ts, writes: [{ key: r.key, value: Buffer.from(next.toString(), 'latin1') }] }) },
      waitUntil: ts,
    };
  },
};
