/**
 * The transaction coordinator on the gateway: buffers a transaction's writes, records what it
 * read, and commits through the store. Serializability (CockroachDB's model, simplified for one
 * node): every read happens at the transaction's read timestamp; at commit the leaseholder checks
 * that nothing the transaction read has changed between its read timestamp and the commit
 * timestamp (a "read refresh"), and applies all writes atomically at the commit timestamp. So
 * every transaction behaves as if it ran alone at its commit timestamp; otherwise 40001.
 *
 * Large transactions: once the buffered writes pass txnFlushBytes, the next asynchronous step
 * (a page of a scan, a batch of prefetched reads, a lock request) writes them ahead as intents
 * (mvcc.ts): provisional values only this transaction sees, which other writers wait for. The
 * transaction then has a record in the range, kept alive by a heartbeat every
 * txnHeartbeatIntervalMs; commit resolves the intents in the same command that applies the rest
 * of the writes; rollback removes them. A savepoint taken before such a flush cannot be rolled
 * back to (0A000): the provisional values carry no savepoint history.
 *
 * INVARIANT: a transaction sees its own writes (reads consult the write buffer first, the store
 *   returns its intents' provisional values).
 * INVARIANT: after commit() or rollback() the transaction accepts no further operations.
 */
import { randomUUID } from 'node:crypto';
import { PgError, SqlState, assert } from '@strata/common';
import type { Timestamp } from '@strata/common';
import type { KvWrite } from './batch.js';
import { keyBytesMax, txnFlushBytes, txnHeartbeatIntervalMs, txnIntentKeyBytesMax, txnReadSetKeysMax, txnWriteBufferBytesMax, valueBytesMax } from './constants.js';

export interface CommitRequest {
  readTs: Timestamp;
  readKeys: Buffer[];
  readSpans: [Buffer, Buffer][];
  writes: KvWrite[];
  /** Keys the transaction wrote ahead as intents (resolved at the commit timestamp). */
  intentKeys: Buffer[];
}

/** What the coordinator needs from the store (implemented by Store). */
export interface KvSender {
  /**
   * Waits for exclusive row locks (FIFO per key), held until the transaction ends. Rejects with
   * 40001 if a lock is not granted within the lock timeout (this also breaks deadlocks).
   */
  acquireLocks(txnId: string, keys: Buffer[]): Promise<void>;
  /** The transaction no longer reads (MVCC versions it could see may be garbage collected). */
  endTxn(txnId: string): void;
  /** The transaction reads at readTs from now on. */
  trackTxn(txnId: string, readTs: Timestamp): void;
  releaseLocks(txnId: string): void;
  /**
   * Read refresh: checks that nothing in the read set changed after readTs and returns a newer
   * read timestamp the transaction may move to; throws 40001 if something changed.
   */
  refresh(req: { txnId: string; readTs: Timestamp; readKeys: Buffer[]; readSpans: [Buffer, Buffer][] }): Promise<Timestamp>;
  /** A read timestamp for a new transaction; resolves once every earlier commit is readable. */
  beginTxn(): Promise<Timestamp>;
  /**
   * Resolves once this node's own replicas reflect every commit acknowledged before the call (a
   * follower's wait in cluster mode; nothing to wait for on a single node).
   */
  sync?(): Promise<void>;
  /** Synchronous local reads (txnId: whose intents' provisional values to see). */
  get(key: Uint8Array, ts: Timestamp, txnId: string | null): Buffer | null;
  scan(start: Uint8Array, end: Uint8Array, ts: Timestamp, reverse: boolean, txnId: string | null): Iterable<{ key: Buffer; value: Buffer }>;
  /**
   * Reads through the leaseholder of the keys' range (lease, latches, timestamp cache): what a
   * statement that can wait uses. The synchronous get/scan above serve the reads that cannot
   * wait (a subquery drained inside an expression) from the local replica.
   */
  getManyAsync(keys: Buffer[], ts: Timestamp, txnId: string): Promise<(Buffer | null)[]>;
  /** One page of [start, end) ascending: at most maxKeys rows; `resume` is where the next page starts. */
  scanAsync(start: Buffer, end: Buffer, ts: Timestamp, maxKeys: number, txnId: string): Promise<{ rows: { key: Buffer; value: Buffer }[]; resume: Buffer | null }>;
  /**
   * Adds `delta` to the integer counter at `key` outside any transaction, atomically at its
   * leaseholder, and resolves with the new value once durable (sequence blocks, id allocation).
   */
  increment(key: Buffer, delta: bigint): Promise<bigint>;
  /** Validates and applies; resolves with the commit timestamp once durable. */
  commit(req: CommitRequest & { txnId: string }): Promise<Timestamp>;
  /** Writes ahead as intents (`first`: creates the transaction record); waits for other writers' intents. */
  putIntents(txnId: string, readTs: Timestamp, writes: KvWrite[], first: boolean): Promise<void>;
  /** Keeps the transaction record of the range holding `anchor` alive (40001 if it was aborted). */
  heartbeatTxn(txnId: string, anchor: Buffer): Promise<void>;
  /** Removes the transaction's intents and record. */
  abortTxn(txnId: string, intentKeys: Buffer[]): Promise<void>;
}

type TxnStatus = 'open' | 'committed' | 'aborted';

const k = (key: Uint8Array) => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');


export class Txn {
  /** Identifies the transaction in the store's lock table. */
  readonly id: string = randomUUID();
  private status: TxnStatus = 'open';
  private holdsLocks = false;
  private writes = new Map<string, KvWrite>();
  private writeBytes = 0;
  private readonly readKeys = new Map<string, Buffer>();
  private readonly readSpans: [Buffer, Buffer][] = [];
  /** True if this transaction wrote catalog (system) keys; the catalog cache then bypasses. */
  wroteSystem = false;

  constructor(
    private readonly sender: KvSender,
    /** The MVCC snapshot reads use; moves forward only through a successful refresh. */
    public readTs: Timestamp,
  ) {}

  static async begin(sender: KvSender): Promise<Txn> {
    const t = new Txn(sender, await sender.beginTxn());
    sender.trackTxn(t.id, t.readTs);
    return t;
  }

  isOpen(): boolean {
    return this.status === 'open';
  }

  hasWrites(): boolean {
    return this.writes.size > 0 || this.intentKeys.size > 0;
  }

  // ---- intents (large transactions) -------------------------------------------------------

  /** Keys written ahead as intents, and their total size. */
  private readonly intentKeys = new Map<string, Buffer>();
  private intentKeyBytes = 0;
  private flushing: Promise<void> | null = null;
  /** Flushes so far (a savepoint taken before one cannot be restored). */
  private flushes = 0;
  private heartbeat: ReturnType<typeof setInterval> | null = null;

  /** Writes the buffered writes ahead as intents once they pass txnFlushBytes. */
  async flushIfLarge(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.writeBytes < txnFlushBytes || this.status !== 'open') return;
    this.flushing = this.flush().finally(() => (this.flushing = null));
    await this.flushing;
  }

  private async flush(): Promise<void> {
    const entries = [...this.writes.entries()];
    for (let i = 0; i < entries.length; ) {
      const chunk: [string, KvWrite][] = [];
      let bytes = 0;
      while (i < entries.length && (chunk.length === 0 || bytes < txnFlushBytes)) {
        const e = entries[i++] as [string, KvWrite];
        chunk.push(e);
        bytes += e[1].key.length + (e[1].value?.length ?? 0);
      }
      for (const [key, w] of chunk) {
        if (!this.intentKeys.has(key)) this.intentKeyBytes += w.key.length;
      }
      if (this.intentKeyBytes > txnIntentKeyBytesMax) {
        throw new PgError(SqlState.ProgramLimitExceeded, `transaction wrote more than ${txnIntentKeyBytesMax} bytes of keys; split it into smaller transactions`);
      }
      const first = this.intentKeys.size === 0;
      // Recorded before the request: a failed (or ambiguous) flush still leaves them to clean up.
      for (const [key, w] of chunk) this.intentKeys.set(key, Buffer.from(w.key));
      await this.sender.putIntents(this.id, this.readTs, chunk.map(([, w]) => w), first);
      if (first) this.startHeartbeat();
      this.flushes++;
      for (const [key, w] of chunk) {
        if (this.writes.get(key) !== w) continue; // rewritten meanwhile: still buffered
        this.writes.delete(key);
        this.writeBytes -= w.key.length + (w.value?.length ?? 0);
      }
    }
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    const anchor = this.intentKeys.values().next().value as Buffer;
    this.heartbeat = setInterval(() => {
      this.sender.heartbeatTxn(this.id, anchor).catch(() => this.stopHeartbeat()); // aborted, or unreachable: the next write finds out
    }, txnHeartbeatIntervalMs);
    this.heartbeat.unref?.();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private checkOpen(): void {
    assert(this.status === 'open', () => `transaction is ${this.status}`);
  }

  get(key: Buffer): Buffer | null {
    this.checkOpen();
    const w = this.writes.get(k(key));
    if (w) return w.value === null ? null : Buffer.from(w.value);
    const p = this.prefetched.get(k(key));
    if (p !== undefined) return p === null ? null : Buffer.from(p); // read (and recorded) by prefetch()
    if (this.untracked) return this.sender.get(key, this.readTs, this.id);
    if (this.readKeys.size >= txnReadSetKeysMax) {
      throw new PgError(SqlState.ProgramLimitExceeded, `transaction read set exceeds ${txnReadSetKeysMax} keys`);
    }
    this.readKeys.set(k(key), key);
    return this.sender.get(key, this.readTs, this.id);
  }

  /** Values prefetch() read at the current read timestamp (cleared when it moves). */
  private readonly prefetched = new Map<string, Buffer | null>();

  /**
   * Reads keys through the leaseholder ahead of synchronous get()s that will ask for them (a
   * statement's constraint checks for a batch of rows): get() then answers from what was read.
   */
  async prefetch(keys: Buffer[]): Promise<void> {
    await this.flushIfLarge();
    const need = keys.filter((key) => !this.writes.has(k(key)) && !this.prefetched.has(k(key)));
    if (need.length === 0) return;
    const got = await this.getManyAsync(need);
    need.forEach((key, i) => this.prefetched.set(k(key), got[i] ?? null));
  }

  /** Point reads through the leaseholder (KvSender.getManyAsync), own writes first; recorded in the read set. */
  async getManyAsync(keys: Buffer[]): Promise<(Buffer | null)[]> {
    this.checkOpen();
    const out: (Buffer | null)[] = new Array<Buffer | null>(keys.length).fill(null);
    const remote: number[] = [];
    keys.forEach((key, i) => {
      const w = this.writes.get(k(key));
      if (w) out[i] = w.value === null ? null : Buffer.from(w.value);
      else remote.push(i);
    });
    if (!this.untracked) {
      if (this.readKeys.size + remote.length > txnReadSetKeysMax) {
        throw new PgError(SqlState.ProgramLimitExceeded, `transaction read set exceeds ${txnReadSetKeysMax} keys`);
      }
      for (const i of remote) this.readKeys.set(k(keys[i] as Buffer), keys[i] as Buffer);
    }
    if (remote.length > 0) {
      const got = await this.sender.getManyAsync(
        remote.map((i) => keys[i] as Buffer),
        this.readTs,
        this.id,
      );
      remote.forEach((i, j) => (out[i] = got[j] ?? null));
    }
    return out;
  }

  /**
   * One page of the live key/values in [start, end) through the leaseholder, merged with this
   * transaction's own writes in the part of the span the page covers; the span read is recorded
   * in the read set. `resume`: where the next page starts (null: done).
   */
  async scanPage(start: Buffer, end: Buffer, maxKeys: number): Promise<{ rows: { key: Buffer; value: Buffer }[]; resume: Buffer | null }> {
    this.checkOpen();
    await this.flushIfLarge();
    const page = await this.sender.scanAsync(start, end, this.readTs, maxKeys, this.id);
    const covered = page.resume ?? end;
    if (!this.untracked) this.readSpans.push([start, covered]);
    const own: KvWrite[] = [];
    for (const w of this.writes.values()) {
      if (Buffer.compare(w.key as Buffer, start) >= 0 && Buffer.compare(w.key as Buffer, covered) < 0) own.push(w);
    }
    if (own.length === 0) return page;
    const merged = new Map<string, { key: Buffer; value: Buffer } | null>();
    for (const r of page.rows) merged.set(k(r.key), r);
    for (const w of own) merged.set(k(w.key), w.value === null ? null : { key: Buffer.from(w.key), value: Buffer.from(w.value) });
    const rows = [...merged.values()].filter((r): r is { key: Buffer; value: Buffer } => r !== null).sort((a, b) => Buffer.compare(a.key, b.key));
    return { rows, resume: page.resume };
  }

  /** A read that is not recorded in the read set (used only to find rows to lock). */
  getUntracked(key: Buffer): Buffer | null {
    this.checkOpen();
    const w = this.writes.get(k(key));
    if (w) return w.value === null ? null : Buffer.from(w.value);
    return this.sender.get(key, this.readTs, this.id);
  }

  /**
   * Locks rows this transaction is about to modify, waiting behind other holders, then refreshes
   * the read timestamp so the statement reads what those holders committed. Reads made so far
   * must still be valid (else 40001).
   */
  async lockForWrite(keys: Buffer[]): Promise<void> {
    this.checkOpen();
    if (keys.length === 0) return;
    await this.flushIfLarge();
    this.holdsLocks = true;
    await this.sender.acquireLocks(this.id, keys);
    this.readTs = await this.sender.refresh({ txnId: this.id, readTs: this.readTs, readKeys: [...this.readKeys.values()], readSpans: this.readSpans });
    this.prefetched.clear();
    this.sender.trackTxn(this.id, this.readTs);
  }

  private untracked = false;

  /** Runs f with reads not recorded in the read set. */
  withUntrackedReads<T>(f: () => T): T {
    const saved = this.untracked;
    this.untracked = true;
    try {
      return f();
    } finally {
      this.untracked = saved;
    }
  }

  /** Runs async f with reads not recorded in the read set (nothing else may read meanwhile). */
  async withUntrackedReadsAsync<T>(f: () => Promise<T>): Promise<T> {
    const saved = this.untracked;
    this.untracked = true;
    try {
      return await f();
    } finally {
      this.untracked = saved;
    }
  }

  /**
   * Adds spans to the read set without reading them: for a caller that read a wider span
   * untracked and depends on only part of it (the catalog, see Catalog.load).
   */
  recordReadSpans(spans: [Buffer, Buffer][]): void {
    this.checkOpen();
    if (!this.untracked) this.readSpans.push(...spans);
  }

  /** Live key/values in [start, end), merging this transaction's own writes. */
  *scan(start: Buffer, end: Buffer, reverse = false): Generator<{ key: Buffer; value: Buffer }> {
    this.checkOpen();
    if (!this.untracked) this.readSpans.push([start, end]);
    const own: KvWrite[] = [];
    for (const w of this.writes.values()) {
      if (Buffer.compare(w.key as Buffer, start) >= 0 && Buffer.compare(w.key as Buffer, end) < 0) own.push(w);
    }
    const base = this.sender.scan(start, end, this.readTs, reverse, this.id);
    if (own.length === 0) {
      yield* base;
      return;
    }
    const dir = reverse ? -1 : 1;
    own.sort((a, b) => dir * Buffer.compare(a.key as Buffer, b.key as Buffer));
    let i = 0;
    for (const kv of base) {
      while (i < own.length && dir * Buffer.compare((own[i] as KvWrite).key as Buffer, kv.key) < 0) {
        const w = own[i++] as KvWrite;
        if (w.value !== null) yield { key: Buffer.from(w.key), value: Buffer.from(w.value) };
      }
      if (i < own.length && Buffer.compare((own[i] as KvWrite).key as Buffer, kv.key) === 0) {
        const w = own[i++] as KvWrite;
        if (w.value !== null) yield { key: Buffer.from(w.key), value: Buffer.from(w.value) };
        continue;
      }
      yield kv;
    }
    while (i < own.length) {
      const w = own[i++] as KvWrite;
      if (w.value !== null) yield { key: Buffer.from(w.key), value: Buffer.from(w.value) };
    }
  }

  put(key: Buffer, value: Buffer): void {
    this.write(key, value);
  }

  del(key: Buffer): void {
    this.write(key, null);
  }

  private write(key: Buffer, value: Buffer | null): void {
    this.checkOpen();
    if (key.length > keyBytesMax) {
      throw new PgError(SqlState.ProgramLimitExceeded, `key of ${key.length} bytes exceeds the limit of ${keyBytesMax} bytes`);
    }
    if (value && value.length > valueBytesMax) {
      throw new PgError(SqlState.ProgramLimitExceeded, `row of ${value.length} bytes exceeds the limit of ${valueBytesMax} bytes`);
    }
    this.writeBytes += key.length + (value?.length ?? 0);
    if (this.writeBytes > txnWriteBufferBytesMax) {
      throw new PgError(SqlState.ProgramLimitExceeded, `transaction writes exceed ${txnWriteBufferBytesMax} bytes; split it into smaller transactions`);
    }
    if (key[0] === 0x02) this.wroteSystem = true;
    this.writes.set(k(key), { key, value });
  }

  /** Flush count when each savepoint snapshot was taken. */
  private readonly snapshotFlushes = new WeakMap<Map<string, KvWrite>, number>();

  /** The write buffer, for savepoints. */
  snapshotWrites(): Map<string, KvWrite> {
    const s = new Map(this.writes);
    this.snapshotFlushes.set(s, this.flushes);
    return s;
  }

  restoreWrites(s: Map<string, KvWrite>): void {
    if ((this.snapshotFlushes.get(s) ?? this.flushes) !== this.flushes) {
      throw new PgError(SqlState.FeatureNotSupported, 'cannot roll back to a savepoint taken before the transaction wrote its buffered rows ahead (more than 8 MiB of writes since the savepoint)', {
        hint: 'roll back the whole transaction',
      });
    }
    this.writes = new Map(s);
    this.writeBytes = 0;
    for (const w of this.writes.values()) this.writeBytes += w.key.length + (w.value?.length ?? 0);
  }

  private readonly beforeCommit: (() => void)[] = [];

  /**
   * Registers a callback run synchronously at commit, just before the writes are handed to the
   * store (used to persist sequence high-water marks at their value at commit time).
   */
  onBeforeCommit(f: () => void): void {
    this.beforeCommit.push(f);
  }

  async commit(): Promise<Timestamp | null> {
    this.checkOpen();
    while (this.flushing) await this.flushing.catch(() => {});
    for (const f of this.beforeCommit.splice(0)) f();
    this.status = 'committed';
    const intentKeys = [...this.intentKeys.values()];
    try {
      if (this.writes.size === 0 && intentKeys.length === 0) return null; // read-only: nothing to validate (see class comment)
      const writes = [...this.writes.values()];
      return await this.sender.commit({ txnId: this.id, readTs: this.readTs, readKeys: [...this.readKeys.values()], readSpans: this.readSpans, writes, intentKeys });
    } catch (e) {
      // Whatever the commit did: intents still there are this transaction's and must go. (An
      // abort evaluated after an in-flight commit waits for it on the latches and finds nothing.)
      if (intentKeys.length > 0) this.abortIntents(intentKeys);
      throw e;
    } finally {
      this.stopHeartbeat();
      // Locks are released once the writes are applied (or the commit failed).
      if (this.holdsLocks) this.sender.releaseLocks(this.id);
      this.sender.endTxn(this.id);
    }
  }

  rollback(): void {
    this.status = 'aborted';
    this.writes.clear();
    this.stopHeartbeat();
    if (this.intentKeys.size > 0) this.abortIntents([...this.intentKeys.values()]);
    this.intentKeys.clear();
    if (this.holdsLocks) this.sender.releaseLocks(this.id);
    this.sender.endTxn(this.id);
  }

  /** Removes the intents in the background (a failure leaves them to writers' pushes once the record expires). */
  private abortIntents(keys: Buffer[]): void {
    const done = (this.flushing ?? Promise.resolve()).catch(() => {}).then(() => this.sender.abortTxn(this.id, keys));
    done.catch(() => {});
  }
}
