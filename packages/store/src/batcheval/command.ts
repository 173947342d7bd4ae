/**
 * Request evaluation (proposer-evaluated KV, as CockroachDB's batcheval): one file per request
 * kind declares the latches it needs and evaluates the request against the leaseholder's state
 * into a response and, for writes, a command to propose. Commands never talk to Raft; the replica
 * proposes what they return and answers once it has applied.
 */
import type { Timestamp } from '@strata/common';
import type { BatchHeader, Engine, KvRequest, KvResponse } from '@strata/kv';
import type { TsEngine } from '@strata/ts';
import type { LatchSpan } from '../concurrency/latch_manager.js';
import type { LockTable } from '../concurrency/lock_table.js';
import type { TimestampCache } from '../concurrency/tscache.js';
import type { RangeDescriptor } from '@strata/kv';
import type { CommandKind } from '../replica/proposal.js';

/** What a request may read while it is evaluated on the leaseholder. */
export interface EvalContext {
  rangeId: number;
  nodeId: number;
  desc: RangeDescriptor;
  engine: Engine;
  ts: TsEngine;
  tscache: TimestampCache;
  locks: LockTable;
  gcThreshold: Timestamp;
  /** The leaseholder's hybrid clock (already moved past the sender's). */
  now(): Timestamp;
  /** Free bytes on the store's file system (cached statfs) and the space the store keeps free. */
  freeDiskBytes(): number;
  diskReserveBytes: number;
  /** Commit timestamps evaluated on this replica and not yet applied. */
  inflightCommits(): Iterable<Timestamp>;
  appliedIndex(): number;
  /** A transaction record without a heartbeat for this long is presumed dead (store knob). */
  txnExpiryMs: number;
}

export interface EvalResult {
  response: KvResponse;
  /** A command to propose; the response is sent once it has applied. */
  proposal?: { kind: CommandKind; body: Buffer };
  /** Commit wait: answer only once the local clock has passed this timestamp. */
  waitUntil?: Timestamp;
}

export interface RequestCommand<R extends KvRequest> {
  /** Spans the request reads or writes (the latch manager serializes conflicting ones). */
  declareLatches(h: BatchHeader, req: R): LatchSpan[];
  evaluate(ctx: EvalContext, h: BatchHeader, req: R): EvalResult | Promise<EvalResult>;
  /** Whether the command needs a valid lease (false: any replica answers, e.g. its descriptor). */
  needsLease: boolean;
}

/** The latch span of one key. */
export function keySpan(key: Buffer, write: boolean): LatchSpan {
  return { start: key, end: null, write };
}
