import { assert } from '@strata/common';
import type { KvRequest } from '@strata/kv';
import type { RequestCommand } from './command.js';

type Acquire = Extract<KvRequest, { kind: 'acquireLocks' }>;
type Release = Extract<KvRequest, { kind: 'releaseLocks' }>;

/** Waits for exclusive row locks in the leaseholder's lock table (lock_table.ts). */
export const acquireLocks: RequestCommand<Acquire> = {
  needsLease: true,
  declareLatches: () => [],
  async evaluate(ctx, h, r) {
    assert(h.txn !== null, 'locks without a transaction');
    await ctx.locks.acquire(h.txn.id, r.keys);
    return { response: { kind: 'acquireLocks' } };
  },
};

/** Releases a transaction's row locks (its end). Answered by any replica: the lock table of one that lost the lease is empty anyway. */
export const releaseLocks: RequestCommand<Release> = {
  needsLease: false,
  declareLatches: () => [],
  evaluate(ctx, h) {
    assert(h.txn !== null, 'locks without a transaction');
    ctx.locks.release(h.txn.id);
    return { response: { kind: 'releaseLocks' } };
  },
};
