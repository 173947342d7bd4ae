import { PgError, SqlState } from '@strata/common';
import type { KvRequest } from '@strata/kv';
import { CommandKind } from '../replica/proposal.js';
import {
  encodeTsSplit,
  metaRangeId,
  nextRangeIdKey,
  planTsSplit,
  readNextRangeId,
  readTsRangeMap,
  tsRangesPerTableMax,
} from '../ts_ranges.js';
import { keySpan } from './command.js';
import type { RequestCommand } from './command.js';

type SplitTs = Extract<KvRequest, { kind: 'splitTs' }>;

/**
 * Splits a time-series table into hash-point ranges (ts_ranges.ts), on the first range's
 * leaseholder: new range ids come from the first range's counter, the new ranges get the first
 * range's replicas, and every replica of the first range creates its replicas of the new ranges
 * when it applies the command (apply.ts). The counter's latch is held until the command applies,
 * so two splits never hand out the same ids. A table already split answers its map (a retried
 * request after an ambiguous outcome splits nothing twice).
 */
export const splitTs: RequestCommand<SplitTs> = {
  needsLease: true,
  declareLatches: () => [keySpan(nextRangeIdKey, true)],
  evaluate(ctx, _h, r) {
    if (ctx.rangeId !== metaRangeId)
      throw new PgError(
        SqlState.InternalError,
        `a time-series split must be sent to range ${metaRangeId}, not ${ctx.rangeId}`,
      );
    const existing = readTsRangeMap(ctx.engine, r.tableId);
    if (existing) return { response: { kind: 'splitTs', ranges: existing } };
    if (
      !Number.isInteger(r.pieces) ||
      r.pieces < 2 ||
      r.pieces > tsRangesPerTableMax ||
      r.pieces > r.hashNum
    ) {
      throw new PgError(
        SqlState.InvalidParameterValue,
        `a time-series table is split into 2 to ${tsRangesPerTableMax} ranges, at most one per hash point (asked: ${r.pieces} of ${r.hashNum} hash points)`,
      );
    }
    const plan = planTsSplit(ctx.desc, readNextRangeId(ctx.engine), r.tableId, r.hashNum, r.pieces);
    return {
      response: { kind: 'splitTs', ranges: plan.entries },
      proposal: { kind: CommandKind.SplitTs, body: encodeTsSplit(plan) },
    };
  },
};
