import { PgError, SqlState } from '@strata/common';
import { decodeDescriptor, encodeDescriptor } from '@strata/kv';
import type { KvRequest } from '@strata/kv';
import { metaRecordKey, newerThanRecord, readMetaRecord } from '../meta_records.js';
import { CommandKind } from '../replica/proposal.js';
import { metaRangeId } from '../system_ranges.js';
import { keySpan } from './command.js';
import type { EvalContext, RequestCommand } from './command.js';

type MetaLookup = Extract<KvRequest, { kind: 'metaLookup' }>;
type UpdateMeta = Extract<KvRequest, { kind: 'updateMeta' }>;

function onMetaRange(ctx: EvalContext, what: string): void {
  if (ctx.rangeId !== metaRangeId) throw new PgError(SqlState.InternalError, `${what} is sent to range ${metaRangeId}, not ${ctx.rangeId}`);
}

/** A range's meta record (meta_records.ts), from any replica of the meta range. */
export const metaLookup: RequestCommand<MetaLookup> = {
  needsLease: false,
  declareLatches: () => [],
  evaluate(ctx, _h, r) {
    onMetaRange(ctx, 'a meta lookup');
    const d = readMetaRecord(ctx.engine, r.rangeId);
    return { response: { kind: 'metaLookup', descriptor: d ? encodeDescriptor(d) : null } };
  },
};

/**
 * Publishes a range's descriptor to its meta record if it is newer (meta_records.ts); a current
 * record proposes nothing. Apply checks again (apply.ts): the latch orders updates of one record
 * on this leaseholder, the check at apply orders them across leaseholders.
 */
export const updateMeta: RequestCommand<UpdateMeta> = {
  needsLease: true,
  declareLatches: (_h, r) => [keySpan(metaRecordKey(decodeDescriptor(r.descriptor).rangeId), true)],
  evaluate(ctx, _h, r) {
    onMetaRange(ctx, 'a meta update');
    const d = decodeDescriptor(r.descriptor);
    if (!newerThanRecord(ctx.engine, d)) return { response: { kind: 'updateMeta', updated: false } };
    return {
      response: { kind: 'updateMeta', updated: true },
      proposal: { kind: CommandKind.MetaUpdate, body: encodeDescriptor(d) },
    };
  },
};
