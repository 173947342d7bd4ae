/**
 * The KV API between the client side (transaction coordinator, range routing, SQL) and the
 * replicas that serve ranges: a BatchRequest names one range and carries requests evaluated there
 * (by the leaseholder) in order; the BatchResponse carries one response per request. This is the
 * unit that crosses the network between nodes (proto/kv.proto mirrors it).
 *
 * Errors are thrown (rejected), not returned: NotLeaseholderError / RangeNotFoundError (route
 * elsewhere: certainly not applied), ReadWithinUncertaintyIntervalError (move the read timestamp),
 * AmbiguousResultError (a write may or may not have applied), PgError (40001 conflicts, 53100 disk
 * full, user errors).
 */
import type { Timestamp } from '@strata/common';
import type { TsHeaderSummarizer, TsScanPage, TsScanSpec } from '@strata/ts';
import type { KvWrite } from './batch.js';

/** A transaction as the replicas see it. */
export interface TxnMeta {
  /** A UUID (16 bytes as 32 hex digits), unique across the cluster. */
  id: string;
  /** The timestamp the transaction reads at (moves forward only through a refresh). */
  readTs: Timestamp;
  /**
   * Values above readTs and at or below this were possibly written before the transaction began
   * (clock offset): reading past one is an uncertainty error. readTs at begin + max clock offset.
   */
  uncertaintyLimit: Timestamp;
  /**
   * Clock readings the transaction has seen from nodes (a response's `now`): a value on that node
   * above its reading was written after the transaction began, so it is not uncertain there.
   */
  observed: { nodeId: number; ts: Timestamp }[];
}

/** The uncertainty limit of a transaction's reads on `nodeId` (its observed timestamp there lowers it). */
export function uncertaintyLimitOn(txn: TxnMeta | null, readTs: Timestamp, nodeId: number): Timestamp {
  if (!txn) return readTs;
  let limit = txn.uncertaintyLimit;
  for (const o of txn.observed) if (o.nodeId === nodeId && o.ts < limit) limit = o.ts;
  return limit < readTs ? readTs : limit;
}

export interface BatchHeader {
  rangeId: number;
  /** The timestamp of the requests (the transaction's read timestamp, or a non-transactional read/write time). */
  timestamp: Timestamp;
  txn: TxnMeta | null;
  /** The sender's clock when sending: the receiver's hybrid clock moves past it. */
  now: Timestamp;
}

/** TS commands by kind (the replica's log carries them as they are). */
export const TsRequestKind = {
  Write: 'write',
  Delete: 'delete',
  TagUpdate: 'tagUpdate',
  Alter: 'alter',
  Drop: 'drop',
  Retain: 'retain',
  Reorganize: 'reorganize',
} as const;
export type TsRequestKind = (typeof TsRequestKind)[keyof typeof TsRequestKind];

export type KvRequest =
  /** The value of a key at the header timestamp. */
  | { kind: 'get'; key: Buffer }
  /** Key/values in [key, endKey), at most maxKeys (then `resume` says where to continue). */
  | { kind: 'scan'; key: Buffer; endKey: Buffer; reverse: boolean; maxKeys: number }
  /** Exclusive row locks held until releaseLocks (FIFO wait queues; 40001 after the lock wait timeout). */
  | { kind: 'acquireLocks'; keys: Buffer[] }
  | { kind: 'releaseLocks' }
  /**
   * Read refresh: nothing in keys/spans changed after `from` up to the header timestamp (else
   * 40001); the timestamp cache then covers them at the header timestamp.
   */
  | { kind: 'refresh'; keys: Buffer[]; spans: [Buffer, Buffer][]; from: Timestamp }
  /**
   * Writes ahead part of a large transaction's writes as intents (mvcc.ts): provisional values
   * only the transaction sees, exclusive to it until it ends. `first` creates the transaction
   * record (PENDING, heartbeat now); otherwise the record must exist (else the transaction was
   * aborted by a pusher: 40001). Waits for other transactions' intents on the keys.
   */
  | { kind: 'putIntents'; writes: KvWrite[]; first: boolean }
  /**
   * Ends a transaction whose writes all lie in this range. commit: refreshes the read set up to
   * the commit timestamp, applies the buffered `writes` there and resolves the intents on
   * `intentKeys` there, removing the transaction record, in one command (so in one round when
   * nothing was written ahead: 1PC). Response: the commit timestamp. abort: removes the intents
   * and the record.
   */
  | { kind: 'endTxn'; commit: boolean; writes: KvWrite[]; intentKeys: Buffer[]; readKeys: Buffer[]; readSpans: [Buffer, Buffer][] }
  /**
   * Adds delta to the integer at key (absent: 0) outside any transaction and answers the new
   * value: node, range and sequence ids (non-transactional; never handed out twice).
   */
  | { kind: 'increment'; key: Buffer; delta: bigint }
  /** The coordinator is alive: the record's heartbeat moves to now (40001 if it was aborted). */
  | { kind: 'heartbeatTxn' }
  /**
   * Aborts transaction `txnId` if its record's heartbeat expired (or it has no record): its
   * intents in the range and its record are removed. Sent by a replica whose writer waits on the
   * transaction's intent; `pushed` says whether it was aborted.
   */
  | { kind: 'pushTxn'; txnId: string }
  /** A time-series command for the range's entity groups (payloads: @strata/ts command.ts). */
  | {
      kind: 'ts';
      op: TsRequestKind;
      tableId: number;
      payload: Buffer;
      freeBytesMin: number;
      /**
       * The hash points [from, to) the command is for (a table split into hash-point ranges): the
       * range refuses it unless its span holds them (RangeKeyMismatchError). Absent: the table is
       * not split, and the range holding all of it (the first range) takes it — unless it knows
       * the table was split.
       */
      hashSpan?: [number, number];
    }
  /**
   * Splits time-series table `tableId` into `pieces` ranges of contiguous hash points out of
   * [0, hashNum) (sent to the first range, which records the table's range map; idempotent: a
   * table already split answers its existing map). KWDB's pre-split at CREATE TABLE.
   */
  | { kind: 'splitTs'; tableId: number; hashNum: number; pieces: number }
  /**
   * Drops the ranges of a time-series table whose descriptor and data are gone (sent to the
   * first range, which forgets the table's map; every store then destroys its replicas of those
   * ranges). Idempotent: a table without a map answers no ranges.
   */
  | { kind: 'dropTsRanges'; tableId: number }
  /**
   * The meta record of range `rangeId`: its descriptor as last published to the meta range (the
   * first range), or null. Any replica of the first range answers (the generation says which of
   * two descriptors is newer).
   */
  | { kind: 'metaLookup'; rangeId: number }
  /**
   * Publishes a range's descriptor to the meta range (sent to the first range by the range's
   * leaseholder after a membership change): recorded if its generation is newer than the record's.
   */
  | { kind: 'updateMeta'; descriptor: Buffer }
  /** Records a digest of the range's state on every replica at the command's log index. */
  | { kind: 'computeChecksum' }
  /**
   * MVCC garbage collection of these keys: versions no read at or above `threshold` can see are
   * deleted, and the range's GC threshold rises to it (reads below it are refused from then on).
   */
  | { kind: 'gc'; keys: Buffer[]; threshold: Timestamp }
  /**
   * A timestamp and applied index for a follower read: a replica that has applied up to the
   * index reads at the timestamp what the leaseholder would (cmd_read_index.ts).
   */
  | { kind: 'readIndex' }
  /** The range's descriptor as this replica has applied it (no lease needed). */
  | { kind: 'rangeDescriptor' }
  /**
   * A page of a scan of a table's entity group in the range (@strata/ts scan_spec.ts): devices
   * after `after`, about `rowsMax` rows. `summarize` travels only within a process.
   */
  | {
      kind: 'tsScan';
      spec: TsScanSpec;
      after: number | null;
      rowsMax: number;
      summarize?: TsHeaderSummarizer;
      hashSpan?: [number, number];
    };

/** One range of a time-series table split into hash-point ranges: hash points [hashStart, hashEnd). */
export interface TsRangeEntry {
  rangeId: number;
  hashStart: number;
  hashEnd: number;
}

export type KvResponse =
  | { kind: 'get'; value: Buffer | null }
  | { kind: 'scan'; rows: { key: Buffer; value: Buffer }[]; resume: Buffer | null }
  | { kind: 'acquireLocks' }
  | { kind: 'releaseLocks' }
  | { kind: 'refresh' }
  | { kind: 'putIntents' }
  | { kind: 'endTxn'; commitTs: Timestamp }
  | { kind: 'heartbeatTxn' }
  | { kind: 'pushTxn'; pushed: boolean }
  | { kind: 'increment'; value: bigint }
  | { kind: 'readIndex'; readTs: Timestamp; appliedIndex: number }
  | { kind: 'ts' }
  | { kind: 'computeChecksum'; index: number }
  | { kind: 'gc' }
  | { kind: 'rangeDescriptor'; descriptor: Buffer }
  | { kind: 'tsScan'; page: TsScanPage }
  | { kind: 'splitTs'; ranges: TsRangeEntry[] }
  | { kind: 'dropTsRanges'; rangeIds: number[] }
  | { kind: 'metaLookup'; descriptor: Buffer | null }
  | { kind: 'updateMeta'; updated: boolean };

export interface BatchRequest {
  header: BatchHeader;
  requests: KvRequest[];
}

export interface BatchResponse {
  responses: KvResponse[];
  /** The serving node's clock after the batch (an observed timestamp for uncertainty). */
  now: Timestamp;
  /** The node that served it. */
  nodeId: number;
}

/** Anything that routes and sends batches: a store (local), a node's RPC client, the DistSender. */
export interface BatchSender {
  send(ba: BatchRequest): Promise<BatchResponse>;
}
