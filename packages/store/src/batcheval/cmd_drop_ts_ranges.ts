import { PgError, SqlState } from '@strata/common';
import type { KvRequest } from '@strata/kv';
import { CommandKind } from '../replica/proposal.js';
import { encodeTsDrop, metaRangeId, nextRangeIdKey, readTsRangeMap } from '../ts_ranges.js';
import { keySpan } from './command.js';
import type { RequestCommand } from './command.js';

type DropTsRanges = Extract<KvRequest, { kind: 'dropTsRanges' }>;

/**
 * Drops the hash-point ranges of a time-series table whose descriptor and data are gone, on the
 * first range's leaseholder: the command deletes the table's map and marks its ranges dropped,
 * and every replica of the first range destroys its store's replicas of them when it applies it
 * (apply.ts). It holds the same latch as a split (the counter's), so a split and a drop of the
 * first range's map never interleave. A table without a map (never split, or dropped already:
 * a retry after an ambiguous outcome) answers no ranges and proposes nothing.
 */
export const dropTsRanges: RequestCommand<DropTsRanges> = {
  needsLease: true,
  declareLatches: () => [keySpan(nextRangeIdKey, true)],
  evaluate(ctx, _h, r) {
    if (ctx.rangeId !== metaRangeId)
      throw new PgError(SqlState.InternalError, `dropping a time-series table's ranges is sent to range ${metaRangeId}, not ${ctx.rangeId}`);
    const entries = readTsRangeMap(ctx.engine, r.tableId);
    if (!entries) return { response: { kind: 'dropTsRanges', rangeIds: [] } };
    return {
      response: { kind: 'dropTsRanges', rangeIds: entries.map((e) => e.rangeId) },
      proposal: { kind: CommandKind.DropTsRanges, body: encodeTsDrop({ tableId: r.tableId, entries }) },
    };
  },
};
