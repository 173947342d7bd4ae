/**
 * A statement's interrupts (statement_timeout, CancelRequest) reach the waits on the cluster too.
 * The yield points of a running plan check them (exec/pump.ts), but a statement can also wait on
 * one request for long — a node cut off from its range's quorum waits for a lease it can never
 * get — so the session hands the SQL layer a KvSender and a TsSender whose requests give up when
 * the statement is interrupted:
 * - a read, a lock wait, a refresh or a write ahead of the commit fails with 57014 (the
 *   transaction is then rolled back as after any error; what it wrote ahead is removed);
 * - a commit or a TS write in flight fails with 40003 (statement_completion_unknown): the request
 *   may still apply, so the outcome is unknown — never reported as failed when it may succeed.
 * The request itself is not withdrawn (its result is ignored). Cleanup requests (abort, heartbeat)
 * are never interrupted.
 */
import { PgError, SqlState } from '@strata/common';
import type { Timestamp } from '@strata/common';
import type { CommitRequest, KvSender, KvWrite } from '@strata/kv';
import type { TsHeaderSummarizer, TsScanPage, TsScanSpec } from '@strata/ts';
import type { TsSender } from './ts_dml.js';

/** What the running statement exposes to its requests. */
export interface StatementInterrupts {
  /** When the running statement times out (ms since the epoch), or 0 if it does not. */
  deadlineMs(): number;
  /** Calls `f` once when the statement is cancelled; returns the unsubscribe function. */
  onCancel(f: () => void): () => void;
}

type Outcome = 'failed' | 'unknown';

function interrupted(why: 'timeout' | 'cancel', outcome: Outcome): PgError {
  const what = why === 'timeout' ? 'statement timeout' : 'user request';
  if (outcome === 'unknown') {
    return new PgError(SqlState.StatementCompletionUnknown, `result is ambiguous: the statement was canceled due to ${what} while its write was in flight; it may or may not have been applied`);
  }
  return new PgError(SqlState.QueryCanceled, `canceling statement due to ${what}`);
}

/** `p`, unless the statement is interrupted first. */
export function interruptible<T>(s: StatementInterrupts, p: Promise<T>, outcome: Outcome): Promise<T> {
  const deadline = s.deadlineMs();
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    let settled = false;
    const off = s.onCancel(() => fire('cancel'));
    const done = () => {
      settled = true;
      if (timer) clearTimeout(timer);
      off();
    };
    const fire = (why: 'timeout' | 'cancel') => {
      if (settled) return;
      done();
      p.catch(() => {}); // its outcome no longer matters to anyone
      reject(interrupted(why, outcome));
    };
    if (deadline > 0) timer = setTimeout(() => fire('timeout'), Math.max(0, deadline - Date.now()));
    p.then(
      (v) => {
        if (settled) return;
        done();
        resolve(v);
      },
      (e: unknown) => {
        if (settled) return;
        done();
        reject(e);
      },
    );
  });
}

/** The KvSender a session's statements use. */
export class InterruptibleKv implements KvSender {
  constructor(
    private readonly inner: KvSender,
    private readonly s: StatementInterrupts,
  ) {}

  acquireLocks(txnId: string, keys: Buffer[]): Promise<void> {
    return interruptible(this.s, this.inner.acquireLocks(txnId, keys), 'failed');
  }
  endTxn(txnId: string): void {
    this.inner.endTxn(txnId);
  }
  trackTxn(txnId: string, readTs: Timestamp): void {
    this.inner.trackTxn(txnId, readTs);
  }
  releaseLocks(txnId: string): void {
    this.inner.releaseLocks(txnId);
  }
  refresh(req: { txnId: string; readTs: Timestamp; readKeys: Buffer[]; readSpans: [Buffer, Buffer][] }): Promise<Timestamp> {
    return interruptible(this.s, this.inner.refresh(req), 'failed');
  }
  beginTxn(): Promise<Timestamp> {
    return interruptible(this.s, this.inner.beginTxn(), 'failed');
  }
  sync(): Promise<void> {
    return this.inner.sync ? interruptible(this.s, this.inner.sync(), 'failed') : Promise.resolve();
  }
  get(key: Uint8Array, ts: Timestamp, txnId: string | null): Buffer | null {
    return this.inner.get(key, ts, txnId);
  }
  scan(start: Uint8Array, end: Uint8Array, ts: Timestamp, reverse: boolean, txnId: string | null): Iterable<{ key: Buffer; value: Buffer }> {
    return this.inner.scan(start, end, ts, reverse, txnId);
  }
  getManyAsync(keys: Buffer[], ts: Timestamp, txnId: string): Promise<(Buffer | null)[]> {
    return interruptible(this.s, this.inner.getManyAsync(keys, ts, txnId), 'failed');
  }
  scanAsync(start: Buffer, end: Buffer, ts: Timestamp, maxKeys: number, txnId: string): Promise<{ rows: { key: Buffer; value: Buffer }[]; resume: Buffer | null }> {
    return interruptible(this.s, this.inner.scanAsync(start, end, ts, maxKeys, txnId), 'failed');
  }
  increment(key: Buffer, delta: bigint): Promise<bigint> {
    return interruptible(this.s, this.inner.increment(key, delta), 'failed');
  }
  commit(req: CommitRequest & { txnId: string }): Promise<Timestamp> {
    return interruptible(this.s, this.inner.commit(req), 'unknown');
  }
  putIntents(txnId: string, readTs: Timestamp, writes: KvWrite[], first: boolean): Promise<void> {
    return interruptible(this.s, this.inner.putIntents(txnId, readTs, writes, first), 'failed');
  }
  heartbeatTxn(txnId: string, anchor: Buffer): Promise<void> {
    return this.inner.heartbeatTxn(txnId, anchor);
  }
  abortTxn(txnId: string, intentKeys: Buffer[]): Promise<void> {
    return this.inner.abortTxn(txnId, intentKeys);
  }
}

/** The TsSender a session's statements use. */
export class InterruptibleTs implements TsSender {
  constructor(
    private readonly inner: TsSender,
    private readonly s: StatementInterrupts,
  ) {}

  proposeTs(tableId: number, payload: Buffer, freeBytesMin: number): Promise<void> {
    return interruptible(this.s, this.inner.proposeTs(tableId, payload, freeBytesMin), 'unknown');
  }
  proposeTsDrop(tableId: number): Promise<void> {
    return interruptible(this.s, this.inner.proposeTsDrop(tableId), 'unknown');
  }
  proposeTsRetain(tableId: number, beforeUs: number): Promise<void> {
    return interruptible(this.s, this.inner.proposeTsRetain(tableId, beforeUs), 'unknown');
  }
  proposeTsDelete(tableId: number, payload: Buffer): Promise<void> {
    return interruptible(this.s, this.inner.proposeTsDelete(tableId, payload), 'unknown');
  }
  proposeTsAlter(tableId: number, payload: Buffer): Promise<void> {
    return interruptible(this.s, this.inner.proposeTsAlter(tableId, payload), 'unknown');
  }
  proposeTsTagUpdate(tableId: number, payload: Buffer): Promise<void> {
    return interruptible(this.s, this.inner.proposeTsTagUpdate(tableId, payload), 'unknown');
  }
  proposeTsReorganize(tableId: number, payload: Buffer): Promise<void> {
    return interruptible(this.s, this.inner.proposeTsReorganize(tableId, payload), 'unknown');
  }
  tsReorganized(): Promise<void> {
    return interruptible(this.s, this.inner.tsReorganized(), 'failed');
  }
  tsScan(spec: TsScanSpec, after: number | null, rowsMax: number, summarize: TsHeaderSummarizer | null): Promise<TsScanPage> {
    return interruptible(this.s, this.inner.tsScan(spec, after, rowsMax, summarize), 'failed');
  }
  tsScanSync(spec: TsScanSpec, after: number | null, rowsMax: number, summarize: TsHeaderSummarizer | null, caughtUp: ReadonlySet<number> | null): TsScanPage {
    return this.inner.tsScanSync(spec, after, rowsMax, summarize, caughtUp);
  }
  splitTsTable(tableId: number, hashNum: number, pieces: number): Promise<void> {
    return interruptible(this.s, this.inner.splitTsTable(tableId, hashNum, pieces), 'unknown');
  }
  get tsRangesPerTableDefault(): number {
    return this.inner.tsRangesPerTableDefault;
  }
}
