import { scanGroup } from '@strata/ts';
import type { KvRequest } from '@strata/kv';
import type { RequestCommand } from './command.js';
import { tsLatchKey } from './cmd_ts.js';
import { checkTsSpan } from './ts_span.js';

type TsScan = Extract<KvRequest, { kind: 'tsScan' }>;

/**
 * A page of a scan of a table's entity group in this range (@strata/ts scan_spec.ts), on the
 * leaseholder. TS data is not versioned: the scan sees every write applied before it. It holds
 * the table's latch shared, so a dedup-`reject` write (which holds it exclusively until it
 * applies) is either wholly visible or not at all.
 */
export const tsScan: RequestCommand<TsScan> = {
  needsLease: true,
  declareLatches: (_h, r) => [{ start: tsLatchKey(r.spec.tableId), end: null, write: false }],
  evaluate(ctx, _h, r) {
    checkTsSpan(ctx, r.spec.tableId, r.hashSpan);
    const page = scanGroup(
      ctx.ts.group(r.spec.tableId, ctx.rangeId),
      r.spec,
      r.after,
      r.rowsMax,
      r.summarize ?? null,
    );
    return { response: { kind: 'tsScan', page } };
  },
};
