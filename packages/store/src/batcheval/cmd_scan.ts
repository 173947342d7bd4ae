import { ReadWithinUncertaintyIntervalError, assert } from '@strata/common';
import { UncertainValue, mvccScan, prettyKey, uncertaintyLimitOn } from '@strata/kv';
import type { KvRequest } from '@strata/kv';
import { containsSpan } from '@strata/kv';
import type { RequestCommand } from './command.js';

type Scan = Extract<KvRequest, { kind: 'scan' }>;

/**
 * Key/values in [key, endKey) at the header timestamp, at most maxKeys of them; `resume` is where
 * the next page starts (or ends, reversed). The timestamp cache covers the part actually read.
 */
export const scan: RequestCommand<Scan> = {
  needsLease: true,
  declareLatches: (_h, r) => [{ start: r.key, end: r.endKey, write: false }],
  evaluate(ctx, h, r) {
    assert(containsSpan(ctx.desc, r.key, r.endKey), 'scan outside the range');
    const limit = uncertaintyLimitOn(h.txn, h.timestamp, ctx.nodeId);
    const rows: { key: Buffer; value: Buffer }[] = [];
    let resume: Buffer | null = null;
    let stop: Buffer | null = null;
    try {
      for (const kv of mvccScan(ctx.engine, r.key, r.endKey, h.timestamp, r.reverse, limit, h.txn?.id ?? null)) {
        if (rows.length >= r.maxKeys) {
          stop = Buffer.from(kv.key);
          // Forward: the next page starts at this key. Reverse: it ends after every version of it.
          resume = r.reverse ? Buffer.concat([stop, Buffer.alloc(9, 0xff)]) : stop;
          break;
        }
        rows.push({ key: Buffer.from(kv.key), value: Buffer.from(kv.value) });
      }
    } catch (e) {
      if (e instanceof UncertainValue) throw new ReadWithinUncertaintyIntervalError(h.timestamp, e.ts, prettyKey(e.key));
      throw e;
    }
    // The span read: up to the resume key (exclusive going forward; from it going backward).
    if (stop === null) ctx.tscache.addSpan(r.key, r.endKey, h.timestamp);
    else if (r.reverse) ctx.tscache.addSpan(stop, r.endKey, h.timestamp);
    else ctx.tscache.addSpan(r.key, stop, h.timestamp);
    return { response: { kind: 'scan', rows, resume } };
  },
};
