import { statfsSync } from 'node:fs';
import { join } from 'node:path';
import { HybridClock, PgError, SqlState, assert, logger } from '@strata/common';
import type { Timestamp } from '@strata/common';
import { Engine, localKey, tablePrefix, mvccGet, mvccNewestTimestamp, mvccScan, mvccSpanChangedSince, prettyKey, prefixEnd } from '@strata/kv';
import type { CommitRequest, KvSender, WriteBatch } from '@strata/kv';
import type { Entry, HardState } from '@strata/raft';
import { TsEngine } from '@strata/ts';
import { lockWaitMs, lockWaitersMax, raftTickIntervalMs, tsFlushIntervalMs, tsFlushRowsMax } from './constants.js';
import { LogFile } from './logfile.js';
import type { LogRecord } from './logfile.js';
import { containsKey, decodeDescriptor, encodeDescriptor, wholeKeyspace } from './range.js';
import type { RangeDescriptor } from './range.js';
import { Replica, TsCommand, appliedStateKey, decodeAppliedState, descriptorKey, encodeAppliedState, replayTsEntry } from './replica.js';
import type { TsApplier } from './replica.js';

export interface StoreStats {
  proposals: number;
  logRounds: number;
  logBytes: number;
  conflicts: number;
  commits: number;
  lockWaits: number;
}

/**
 * A Store holds the replicas of one node's storage: one engine, one Raft log, many replicas.
 * It runs the Raft rounds (group commit across replicas), ticks, and serves the KV API the SQL
 * layer's transactions use (KvSender).
 *
 * INVARIANT: no two replicas on a store overlap in key span.
 * INVARIANT: only one Raft round is in flight at a time; proposals arriving meanwhile join the next.
 */
export class Store implements KvSender {
  private readonly log = logger('store');
  readonly clock = new HybridClock();
  readonly replicas: Replica[] = [];
  private roundRunning = false;
  private roundWanted = false;
  private ticker: NodeJS.Timeout | null = null;
  private closed = false;
  readonly stats: StoreStats = { proposals: 0, logRounds: 0, logBytes: 0, conflicts: 0, commits: 0, lockWaits: 0 };
  /** Called after every applied write batch (the SQL layer invalidates caches on catalog writes). */
  onApply: (b: WriteBatch) => void = () => {};

  private lastTsFlush = Date.now();
  private readonly tsApplier: TsApplier;

  private constructor(
    readonly dir: string,
    readonly nodeId: number,
    readonly engine: Engine,
    private readonly raftLog: LogFile,
    /** The time-series engine. NOTE: its flushed index is store-wide, which is exact while the store has one range. */
    readonly ts: TsEngine,
  ) {
    this.tsApplier = { write: (i, p) => ts.apply(i, p), drop: (_i, id) => ts.dropTable(id), retain: (i, id, before) => ts.retain(i, id, before), del: (i, p) => ts.delete(i, p), updateTags: (i, p) => ts.updateTags(i, p), reorganize: (i, p) => void ts.reorganize(i, p), alter: (i, p) => ts.alter(i, p) };
  }

  static async open(dir: string, nodeId = 1): Promise<Store> {
    const engine = new Engine(join(dir, 'engine'));
    const { log: raftLog, recovered } = await LogFile.open(join(dir, 'raft-log'));
    const ts = TsEngine.open(join(dir, 'ts'));
    const store = new Store(dir, nodeId, engine, raftLog, ts);
    const descs: RangeDescriptor[] = [];
    for (const { value } of engine.scan(localKey('desc'), prefixEnd(localKey('desc')))) descs.push(decodeDescriptor(value));
    if (descs.length === 0) {
      const d = wholeKeyspace(1, nodeId);
      // Bootstrap: the range starts from an empty snapshot at index 1, term 1.
      engine.write([
        { key: descriptorKey(d.rangeId), value: encodeDescriptor(d) },
        { key: appliedStateKey(d.rangeId), value: encodeAppliedState(1, 1) },
      ]);
      descs.push(d);
      store.log.info({ dir }, 'bootstrapped a new store');
    }
    let replayed = 0;
    for (const d of descs) {
      const applied = decodeAppliedState(engine.get(appliedStateKey(d.rangeId))) ?? { index: 1, term: 1 };
      let hs: HardState = { term: 1, vote: 0, commit: applied.index };
      const entries = new Map<number, Entry>();
      for (const r of recovered.records) {
        if (r.rangeId !== d.rangeId) continue;
        if (r.kind === 'hardState') hs = r.hardState;
        else for (const e of r.entries) if (e.index > applied.index) entries.set(e.index, e);
      }
      // Later records overwrite earlier ones at the same index (a new leader's entries), and a
      // suffix after an overwrite is stale: keep the contiguous run from applied + 1.
      const tail: Entry[] = [];
      for (let i = applied.index + 1; entries.has(i); i++) tail.push(entries.get(i) as Entry);
      replayed += tail.length;
      // TS commands the KV engine has applied but the TS engine had not made durable: the log
      // keeps them (truncation respects the TS flushed index); apply them again, in order.
      const tsEntries = new Map<number, Entry>();
      for (const r of recovered.records) {
        if (r.rangeId !== d.rangeId || r.kind !== 'entries') continue;
        for (const e of r.entries) if (e.index > ts.flushedIndex && e.index <= applied.index) tsEntries.set(e.index, e);
      }
      let tsReplayed = 0;
      for (const i of [...tsEntries.keys()].sort((a, b) => a - b)) {
        try {
          if (replayTsEntry(tsEntries.get(i) as Entry, store.tsApplier)) tsReplayed++;
        } catch (e) {
          // Commands fail deterministically (e.g. rejected duplicates): they failed the first time too.
          store.log.info({ index: i, err: (e as Error).message }, 'time-series command failed again on replay, as when first applied');
        }
      }
      if (tsReplayed > 0) store.log.info({ rangeId: d.rangeId, commands: tsReplayed, from: ts.flushedIndex + 1 }, 'replayed time-series commands');
      const rep = new Replica(d, nodeId, engine, applied, hs, tail, (b) => store.applied(b), () => store.gcThreshold(), store.tsApplier);
      store.replicas.push(rep);
    }
    raftLog.onRotate = () => store.replicas.map((r): LogRecord => ({ kind: 'hardState', rangeId: r.rangeId, hardState: r.lastHardState }));
    store.log.info({ ranges: descs.length, replayedEntries: replayed, tornBytes: recovered.tornBytes }, 'store opened');
    // Apply whatever the log holds beyond the engine's applied index before serving anything.
    await store.runRounds();
    store.ticker = setInterval(() => store.tick(), raftTickIntervalMs);
    store.ticker.unref();
    return store;
  }

  private applied(b: WriteBatch): void {
    this.clock.update(b.ts);
    this.onApply(b);
  }

  private tick(): void {
    for (const r of this.replicas) r.raw.tick();
    this.scheduleRound();
    this.maybeFlushTs();
  }

  /** Flushes the TS engine when rows have waited tsFlushIntervalMs or too many are unflushed. */
  private maybeFlushTs(): void {
    const n = this.ts.unflushedRows();
    if (this.ts.hasFinishedRewrites()) return this.flushTs(); // switch reorganized partitions in
    if (n === 0 || (n < tsFlushRowsMax && Date.now() - this.lastTsFlush < tsFlushIntervalMs)) return;
    this.flushTs();
  }

  /** Waits for the TS engine's reorganization jobs, then switches their results in (COMPRESS waits for this). */
  async tsReorganized(): Promise<void> {
    await this.ts.idle();
    this.flushTs();
  }

  private flushTs(): void {
    const r = this.replicas[0];
    if (!r) return;
    try {
      this.ts.flush(r.appliedIndex);
    } catch (e) {
      this.log.error({ err: e }, 'time-series flush failed; will retry');
    }
    this.lastTsFlush = Date.now();
  }

  /** Proposes a time-series command to the range holding the table; resolves once applied. */
  private async proposeTsCommand(tableId: number, kind: TsCommand, body: Buffer): Promise<void> {
    assert(!this.closed, 'store is closed');
    const r = this.replicaFor(tablePrefix(tableId));
    this.stats.proposals++;
    const p = r.proposeTs(kind, body);
    this.scheduleRound();
    await p;
  }

  /** A time-series write (command.ts encodeTsWrite payload). */
  proposeTs(tableId: number, payload: Buffer): Promise<void> {
    return this.proposeTsCommand(tableId, TsCommand.Write, payload);
  }

  /** A time-series DELETE (command.ts encodeTsDelete payload). */
  /** Proposes a schema change of a TS table (command.ts encodeTsAlter payload). */
  proposeTsAlter(tableId: number, payload: Buffer): Promise<void> {
    return this.proposeTsCommand(tableId, TsCommand.Alter, payload);
  }

  proposeTsDelete(tableId: number, payload: Buffer): Promise<void> {
    return this.proposeTsCommand(tableId, TsCommand.Delete, payload);
  }

  /** An UPDATE of time-series tags (command.ts encodeTsTagUpdate payload). */
  proposeTsTagUpdate(tableId: number, payload: Buffer): Promise<void> {
    return this.proposeTsCommand(tableId, TsCommand.TagUpdate, payload);
  }

  /** Reorganization of a table's inactive partitions (command.ts encodeTsReorganize payload). */
  proposeTsReorganize(tableId: number, payload: Buffer): Promise<void> {
    return this.proposeTsCommand(tableId, TsCommand.Reorganize, payload);
  }

  /** A retention pass: the table's partitions ending at or before `beforeUs` are dropped. */
  proposeTsRetain(tableId: number, beforeUs: number): Promise<void> {
    const b = Buffer.alloc(12);
    b.writeUInt32BE(tableId, 0);
    b.writeDoubleBE(beforeUs, 4);
    return this.proposeTsCommand(tableId, TsCommand.Retain, b);
  }

  /** Deleting a time-series table's data. */
  proposeTsDrop(tableId: number): Promise<void> {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(tableId, 0);
    return this.proposeTsCommand(tableId, TsCommand.Drop, b);
  }

  replicaFor(key: Uint8Array): Replica {
    for (const r of this.replicas) if (containsKey(r.desc, key)) return r;
    throw new PgError(SqlState.InternalError, `no range holds key ${prettyKey(key)}`);
  }

  // ---- Raft rounds -------------------------------------------------------------------------------

  private scheduleRound(): void {
    if (this.roundRunning) {
      this.roundWanted = true;
      return;
    }
    this.roundRunning = true;
    // setImmediate: every proposal made in this event-loop turn joins the round.
    setImmediate(() => void this.runRounds());
  }

  private async runRounds(): Promise<void> {
    this.roundRunning = true;
    try {
      for (;;) {
        this.roundWanted = false;
        for (const r of this.replicas) r.flushProposals();
        const readies = this.replicas.filter((r) => r.raw.hasReady()).map((r) => ({ r, rd: r.raw.ready() }));
        if (readies.length === 0) {
          if (!this.roundWanted && !this.replicas.some((r) => r.hasQueuedProposals())) break;
          continue;
        }
        const records: LogRecord[] = [];
        for (const { r, rd } of readies) {
          if (rd.entries.length > 0) records.push({ kind: 'entries', rangeId: r.rangeId, entries: rd.entries });
          if (rd.hardState) records.push({ kind: 'hardState', rangeId: r.rangeId, hardState: rd.hardState });
        }
        if (records.length > 0) {
          try {
            await this.raftLog.append(records);
            this.stats.logRounds++;
            this.stats.logBytes = this.raftLog.sizeBytes();
          } catch (e) {
            this.log.error({ err: e }, 'raft log append failed');
            for (const { r } of readies) {
              r.raw.abandonReady();
              r.failRound(e);
            }
            // Give the disk a moment; the entries are still unstable and will be written again.
            await new Promise((res) => setTimeout(res, raftTickIntervalMs));
            continue;
          }
        }
        for (const { r, rd } of readies) r.applyReady(rd);
        if (this.ts.unflushedRows() >= tsFlushRowsMax) this.flushTs();
        void this.engine.flushed().then(() => {
          for (const r of this.replicas) r.durableAppliedIndex = Math.max(r.durableAppliedIndex, r.appliedIndex);
        });
      }
    } finally {
      this.roundRunning = false;
    }
    if (this.raftLog.segmentCount() > 1) {
      // With nothing unflushed the TS engine is durable up to the applied index: record that first.
      if (this.ts.unflushedRows() === 0) this.flushTs();
      const byId = new Map(this.replicas.map((r) => [r.rangeId, r]));
      this.raftLog.truncate((id) => Math.min(byId.get(id)?.durableAppliedIndex ?? 0, this.ts.flushedIndex));
    }
  }

  // ---- open transactions (MVCC GC threshold) -------------------------------------------------

  private readonly openTxns = new Map<number, Timestamp>();

  trackTxn(txnId: number, readTs: Timestamp): void {
    this.openTxns.set(txnId, readTs);
  }

  endTxn(txnId: number): void {
    this.openTxns.delete(txnId);
  }

  /** Versions older than this are invisible to every open and future transaction. */
  gcThreshold(): Timestamp {
    let t = this.clock.now();
    for (const ts of this.openTxns.values()) if (ts < t) t = ts;
    for (const r of this.replicas) for (const cts of r.inflightCommits.values()) if (cts - 1n < t) t = cts - 1n;
    return t;
  }

  // ---- locks -----------------------------------------------------------------------------------

  /** Exclusive row locks: key → holder and FIFO waiters. */
  private readonly locks = new Map<string, { holder: number; waiters: { txnId: number; grant: () => void }[] }>();
  private readonly heldBy = new Map<number, Set<string>>();

  async acquireLocks(txnId: number, keys: Buffer[]): Promise<void> {
    // A fixed order per call avoids deadlocks between two multi-row statements.
    const sorted = [...new Set(keys.map((k) => k.toString('latin1')))].sort();
    for (const k of sorted) await this.acquireLock(txnId, k);
  }

  private acquireLock(txnId: number, k: string): Promise<void> {
    const l = this.locks.get(k);
    const mine = () => {
      let s = this.heldBy.get(txnId);
      if (!s) this.heldBy.set(txnId, (s = new Set()));
      s.add(k);
    };
    if (!l) {
      this.locks.set(k, { holder: txnId, waiters: [] });
      mine();
      return Promise.resolve();
    }
    if (l.holder === txnId) return Promise.resolve();
    if (l.waiters.length >= lockWaitersMax) {
      return Promise.reject(new PgError(SqlState.SerializationFailure, `restart transaction: too many transactions waiting for ${prettyKey(Buffer.from(k, 'latin1'))}`));
    }
    this.stats.lockWaits++;
    return new Promise<void>((resolve, reject) => {
      const w = {
        txnId,
        grant: () => {
          clearTimeout(timer);
          mine();
          resolve();
        },
      };
      const timer = setTimeout(() => {
        const i = l.waiters.indexOf(w);
        if (i >= 0) l.waiters.splice(i, 1);
        this.stats.conflicts++;
        reject(new PgError(SqlState.SerializationFailure, `restart transaction: lock wait on ${prettyKey(Buffer.from(k, 'latin1'))} timed out after ${lockWaitMs} ms (possible deadlock)`, { hint: 'retry the transaction' }));
      }, lockWaitMs);
      l.waiters.push(w);
    });
  }

  releaseLocks(txnId: number): void {
    const keys = this.heldBy.get(txnId);
    if (!keys) return;
    this.heldBy.delete(txnId);
    for (const k of keys) {
      const l = this.locks.get(k);
      if (!l || l.holder !== txnId) continue;
      const next = l.waiters.shift();
      if (next) {
        l.holder = next.txnId;
        next.grant();
      } else this.locks.delete(k);
    }
  }

  refresh(req: { readTs: Timestamp; readKeys: Buffer[]; readSpans: [Buffer, Buffer][] }): Timestamp {
    const r = this.replicas[0] as Replica;
    this.validateReads(r, req);
    let ts = this.clock.now();
    for (const rep of this.replicas) for (const cts of rep.inflightCommits.values()) if (cts <= ts) ts = cts - 1n;
    return ts > req.readTs ? ts : req.readTs;
  }

  // ---- KvSender ------------------------------------------------------------------------------

  /**
   * A read timestamp for a new transaction. Commits still in flight (evaluated, not yet applied)
   * carry timestamps we must not read above: read just below the oldest of them. Everything at or
   * below that is applied (rounds apply in evaluation order), including every acknowledged
   * commit, so the snapshot is consistent and no one waits.
   */
  async beginTxn(): Promise<Timestamp> {
    assert(!this.closed, 'store is closed');
    let ts = this.clock.now();
    for (const r of this.replicas) for (const cts of r.inflightCommits.values()) if (cts <= ts) ts = cts - 1n;
    return ts;
  }

  get(key: Uint8Array, ts: Timestamp): Buffer | null {
    const v = mvccGet(this.engine, key, ts);
    return v ? v.value : null;
  }

  scan(start: Uint8Array, end: Uint8Array, ts: Timestamp, reverse: boolean): Iterable<{ key: Buffer; value: Buffer }> {
    return mvccScan(this.engine, start, end, ts, reverse);
  }

  /**
   * Evaluates a commit on the leaseholder: refreshes the read set (nothing read changed after
   * readTs, counting commits still in flight), then proposes the writes at a new commit timestamp.
   * Evaluation is synchronous, so two evaluations never interleave.
   */
  async commit(req: CommitRequest): Promise<Timestamp> {
    assert(!this.closed, 'store is closed');
    assert(req.writes.length > 0, 'commit without writes');
    const r = this.replicaFor(req.writes[0]?.key as Uint8Array);
    for (const w of req.writes) {
      if (!containsKey(r.desc, w.key)) throw new PgError(SqlState.FeatureNotSupported, 'transactions spanning ranges are not supported yet');
    }
    this.validateReads(r, req);
    const ts = this.clock.now();
    const keys = req.writes.map((w) => Buffer.from(w.key.buffer, w.key.byteOffset, w.key.byteLength).toString('latin1'));
    for (const k of keys) r.inflightWrites.set(k, ts);
    this.stats.proposals++;
    const p = r.proposeWriteBatch({ ts, writes: req.writes });
    r.inflightCommits.set(p, ts);
    this.scheduleRound();
    try {
      await p;
      this.stats.commits++;
    } finally {
      r.inflightCommits.delete(p);
      for (const k of keys) if (r.inflightWrites.get(k) === ts) r.inflightWrites.delete(k);
    }
    return ts;
  }

  /** Throws 40001 if anything in the read set changed after readTs (committed or in flight). */
  private validateReads(r: Replica, req: { readTs: Timestamp; readKeys: Buffer[]; readSpans: [Buffer, Buffer][] }): void {
    const conflict = (key: Uint8Array) => {
      this.stats.conflicts++;
      return new PgError(
        SqlState.SerializationFailure,
        `restart transaction: TransactionRetryError: RETRY_SERIALIZABLE: a concurrent transaction changed ${prettyKey(key)} after this transaction read it`,
        { hint: 'retry the transaction' },
      );
    };
    for (const key of req.readKeys) {
      const newest = mvccNewestTimestamp(this.engine, key);
      if (newest !== undefined && newest > req.readTs) throw conflict(key);
      const inflight = r.inflightWrites.get(key.toString('latin1'));
      if (inflight !== undefined && inflight > req.readTs) throw conflict(key);
    }
    for (const [start, end] of req.readSpans) {
      if (mvccSpanChangedSince(this.engine, start, end, req.readTs)) throw conflict(start);
      for (const [k, ts] of r.inflightWrites) {
        if (ts <= req.readTs) continue;
        const kb = Buffer.from(k, 'latin1');
        if (Buffer.compare(kb, start) >= 0 && Buffer.compare(kb, end) < 0) throw conflict(kb);
      }
    }
  }

  /** Writes outside any transaction (sequence high-water marks): a one-write commit. */
  async writeDirect(key: Buffer, value: Buffer | null): Promise<void> {
    await this.commit({ readTs: this.clock.now(), readKeys: [], readSpans: [], writes: [{ key, value }] });
  }

  /** Free bytes on the store directory's file system. */
  freeDiskBytes(): number {
    const fs = statfsSync(this.dir);
    return Number(fs.bavail) * Number(fs.bsize);
  }

  engineSizeBytes(): number {
    return this.engine.sizeBytes();
  }

  logSizeBytes(): number {
    return this.raftLog.sizeBytes();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ticker) clearInterval(this.ticker);
    while (this.roundRunning) await new Promise((res) => setTimeout(res, 5));
    this.flushTs();
    this.ts.close();
    await this.raftLog.close();
    await this.engine.flushed();
    await this.engine.close();
  }
}

