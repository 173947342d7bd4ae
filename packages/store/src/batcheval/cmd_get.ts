import { ReadWithinUncertaintyIntervalError } from '@strata/common';
import { UncertainValue, mvccGetChecked, prettyKey, uncertaintyLimitOn } from '@strata/kv';
import type { KvRequest } from '@strata/kv';
import { keySpan } from './command.js';
import type { RequestCommand } from './command.js';

type Get = Extract<KvRequest, { kind: 'get' }>;

/** A point read at the header timestamp (uncertainty-checked for transactions). */
export const get: RequestCommand<Get> = {
  needsLease: true,
  declareLatches: (_h, r) => [keySpan(r.key, false)],
  evaluate(ctx, h, r) {
    const limit = uncertaintyLimitOn(h.txn, h.timestamp, ctx.nodeId);
    const v = mvccGetChecked(ctx.engine, r.key, h.timestamp, limit, h.txn?.id ?? null);
    if (v instanceof UncertainValue) throw new ReadWithinUncertaintyIntervalError(h.timestamp, v.ts, prettyKey(v.key));
    ctx.tscache.addKey(r.key, h.timestamp);
    return { response: { kind: 'get', value: v?.value ? Buffer.from(v.value) : null } };
  },
};
