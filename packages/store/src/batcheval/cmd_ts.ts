import { PgError, SqlState } from '@strata/common';
import { KeyWriter, KeyspaceLocal, TsRequestKind } from '@strata/kv';
import type { KvRequest } from '@strata/kv';
import { CommandKind } from '../replica/proposal.js';
import type { RequestCommand } from './command.js';
import { checkDiskSpace } from './disk.js';
import { checkTsSpan } from './ts_span.js';

type TsReq = Extract<KvRequest, { kind: 'ts' }>;

const kindOf: Record<TsRequestKind, CommandKind> = {
  [TsRequestKind.Write]: CommandKind.TsWrite,
  [TsRequestKind.Delete]: CommandKind.TsDelete,
  [TsRequestKind.TagUpdate]: CommandKind.TsTagUpdate,
  [TsRequestKind.Alter]: CommandKind.TsAlter,
  [TsRequestKind.Drop]: CommandKind.TsDrop,
  [TsRequestKind.Retain]: CommandKind.TsRetain,
  [TsRequestKind.Reorganize]: CommandKind.TsReorganize,
};

/** A latch key per TS table (no user key): TS commands of one table order against each other here. */
export function tsLatchKey(tableId: number): Buffer {
  return new KeyWriter(16).byte(KeyspaceLocal).string('ts').int(tableId).finish();
}

/** Bit 0 of a write payload's flags byte (command.ts): ts.dedup.rule = reject. */
function rejectsDuplicates(r: TsReq): boolean {
  return r.op === TsRequestKind.Write && r.payload.length > 1 && ((r.payload[1] as number) & 1) === 1;
}

/**
 * A time-series command for the range's entity groups. Decided here, before proposing, so that
 * every replica applies the same commands: the payload must decode, `reject` duplicates are
 * refused (the write holds its table's latch until it applies, so no other write slips in between
 * the check and the apply), and writes are refused with 53100 when free disk space is below the
 * threshold. Other TS commands take the table's latch shared: they do not order among themselves.
 */
export const tsCommand: RequestCommand<TsReq> = {
  needsLease: true,
  declareLatches: (_h, r) => [{ start: tsLatchKey(r.tableId), end: null, write: rejectsDuplicates(r) || r.op === TsRequestKind.Drop || r.op === TsRequestKind.Alter }],
  evaluate(ctx, _h, r) {
    checkTsSpan(ctx, r.tableId, r.hashSpan);
    if (r.op === TsRequestKind.Write) {
      checkDiskSpace(ctx, r.freeBytesMin, 'time-series write');
      ctx.ts.checkWrite(ctx.rangeId, r.payload);
    } else if (r.op === TsRequestKind.Retain || r.op === TsRequestKind.Drop) {
      if (r.payload.length < 4 || r.payload.readUInt32BE(0) !== r.tableId) throw new PgError(SqlState.InternalError, 'time-series command for another table');
    }
    return { response: { kind: 'ts' }, proposal: { kind: kindOf[r.op], body: r.payload } };
  },
};
