import type { KvRequest } from '@strata/kv';
import type { RequestCommand } from './command.js';
import { get } from './cmd_get.js';
import { scan } from './cmd_scan.js';
import { refresh } from './cmd_refresh.js';
import { endTxn } from './cmd_end_txn.js';
import { putIntents } from './cmd_put_intents.js';
import { increment } from './cmd_increment.js';
import { readIndex } from './cmd_read_index.js';
import { heartbeatTxn, pushTxn } from './cmd_txn_record.js';
import { acquireLocks, releaseLocks } from './cmd_locks.js';
import { tsCommand } from './cmd_ts.js';
import { gc } from './cmd_gc.js';
import { computeChecksum } from './cmd_compute_checksum.js';
import { rangeDescriptor } from './cmd_range_descriptor.js';
import { tsScan } from './cmd_ts_scan.js';
import { splitTs } from './cmd_split_ts.js';
import { dropTsRanges } from './cmd_drop_ts_ranges.js';
import { metaLookup, updateMeta } from './cmd_meta.js';

/** Every request kind's command: a missing kind is a compile error. */
const registry: { [K in KvRequest['kind']]: RequestCommand<Extract<KvRequest, { kind: K }>> } = {
  get,
  scan,
  refresh,
  endTxn,
  putIntents,
  heartbeatTxn,
  pushTxn,
  increment,
  readIndex,
  acquireLocks,
  releaseLocks,
  ts: tsCommand,
  gc,
  computeChecksum,
  rangeDescriptor,
  tsScan,
  splitTs,
  dropTsRanges,
  metaLookup,
  updateMeta,
};

export function commandFor<R extends KvRequest>(r: R): RequestCommand<R> {
  return registry[r.kind] as unknown as RequestCommand<R>;
}

export type { EvalContext, EvalResult, RequestCommand } from './command.js';
export { decodeGc } from './cmd_gc.js';
export { decodeTxnWrite, txnWriteEffects } from './txn_write.js';
export { expiredTxnRecords, readTxnRecord, txnExpired } from './txn_record.js';
