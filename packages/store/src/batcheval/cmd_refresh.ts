import { PgError, SqlState } from '@strata/common';
import type { Timestamp } from '@strata/common';
import { mvccSpanChangedBetween, prettyKey } from '@strata/kv';
import type { Engine, KvRequest } from '@strata/kv';
import type { TimestampCache } from '../concurrency/tscache.js';
import { keySpan } from './command.js';
import type { RequestCommand } from './command.js';

type Refresh = Extract<KvRequest, { kind: 'refresh' }>;

/**
 * Checks that nothing in the read set was written in (from, to] and records the read set in the
 * timestamp cache at `to`: the transaction may then read at `to` as if it had read there all
 * along. Throws 40001 naming the first changed key. The caller holds read latches on the read
 * set, so writes evaluated before it have applied.
 */
export function refreshReads(engine: Engine, tscache: TimestampCache, keys: Buffer[], spans: [Buffer, Buffer][], from: Timestamp, to: Timestamp): void {
  for (const key of keys) {
    const changed = mvccSpanChangedBetween(engine, key, Buffer.concat([key, Buffer.alloc(9, 0xff)]), from, to);
    if (changed) throw conflict(changed);
  }
  for (const [start, end] of spans) {
    const changed = mvccSpanChangedBetween(engine, start, end, from, to);
    if (changed) throw conflict(changed);
  }
  for (const key of keys) tscache.addKey(key, to);
  for (const [start, end] of spans) tscache.addSpan(start, end, to);
}

function conflict(key: Buffer): PgError {
  return new PgError(SqlState.SerializationFailure, `restart transaction: TransactionRetryError: RETRY_SERIALIZABLE: a concurrent transaction changed ${prettyKey(key)} after this transaction read it`, {
    hint: 'retry the transaction',
  });
}

export function readSetLatches(keys: Buffer[], spans: [Buffer, Buffer][]) {
  return [...keys.map((k) => keySpan(k, false)), ...spans.map(([start, end]) => ({ start, end, write: false }))];
}

/** Read refresh (header timestamp = the new read timestamp). */
export const refresh: RequestCommand<Refresh> = {
  needsLease: true,
  declareLatches: (_h, r) => readSetLatches(r.keys, r.spans),
  evaluate(ctx, h, r) {
    refreshReads(ctx.engine, ctx.tscache, r.keys, r.spans, r.from, h.timestamp);
    return { response: { kind: 'refresh' } };
  },
};
