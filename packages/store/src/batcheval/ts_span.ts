import { RangeKeyMismatchError } from '@strata/common';
import { containsKey, tsRangeKey } from '@strata/kv';
import { metaRangeId, readTsRangeMap } from '../ts_ranges.js';
import type { EvalContext } from './command.js';

/**
 * Whether a TS request reached the range holding what it is for: hash points [from, to) of a
 * split table must lie in the range's span; a request without hash points (an unsplit table)
 * belongs to the first range, which refuses it once the table is split (ts_ranges.ts). A refusal
 * (RangeKeyMismatchError) certainly applied nothing: the sender reloads its map and retries.
 */
export function checkTsSpan(ctx: EvalContext, tableId: number, hashSpan: [number, number] | undefined): void {
  if (hashSpan) {
    const [from, to] = hashSpan;
    if (
      to <= from ||
      !containsKey(ctx.desc, tsRangeKey(tableId, from)) ||
      !containsKey(ctx.desc, tsRangeKey(tableId, to - 1))
    ) {
      throw new RangeKeyMismatchError(
        ctx.rangeId,
        `does not hold hash points [${from}, ${to}) of table ${tableId}`,
      );
    }
    return;
  }
  if (ctx.rangeId !== metaRangeId)
    throw new RangeKeyMismatchError(
      ctx.rangeId,
      `table ${tableId} is not split into hash-point ranges; its data is in range ${metaRangeId}`,
    );
  if (readTsRangeMap(ctx.engine, tableId))
    throw new RangeKeyMismatchError(ctx.rangeId, `table ${tableId} is split into hash-point ranges`);
}
