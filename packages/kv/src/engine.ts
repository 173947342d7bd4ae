import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import type { Database, RootDatabase } from 'lmdb';

export interface EngineEntry {
  key: Buffer;
  value: Buffer;
}

export interface EngineWrite {
  key: Uint8Array;
  /** null deletes the key. */
  value: Uint8Array | null;
}

/**
 * A store's ordered key-value engine. Reads are synchronous; write() applies a batch atomically
 * and makes it visible at once; it becomes durable later (flushed()): the Raft log, fsynced before
 * anything is acknowledged, is the write-ahead log, so the store truncates the log only past what
 * flushed() has confirmed.
 */
export interface Engine {
  get(key: Uint8Array): Buffer | undefined;
  /** Keys in [start, end) ascending (or (end, start] descending when reverse). */
  scan(start: Uint8Array, end: Uint8Array, reverse?: boolean, limit?: number): Iterable<EngineEntry>;
  /** Applies writes atomically; visible to reads when this returns. */
  write(writes: readonly EngineWrite[]): void;
  /** Resolves when everything written so far is durable. */
  flushed(): Promise<void>;
  /**
   * A consistent read view (lmdb: one read transaction) for reads that span event-loop turns,
   * such as streaming a snapshot. Long-lived views pin old pages: release() promptly.
   */
  readView(): EngineReadView;
  sizeBytes(): number;
  close(): Promise<void>;
}

export interface EngineReadView {
  get(key: Uint8Array): Buffer | undefined;
  scan(start: Uint8Array, end: Uint8Array): Iterable<EngineEntry>;
  release(): void;
}

/**
 * The local ordered key-value engine: lmdb (a copy-on-write B+tree, via lmdb-js). Reads are
 * synchronous and zero-copy from the memory map; writes are applied in synchronous transactions
 * by the replica's apply loop. With overlappingSync, a transaction is visible when committed and
 * durable a little later (`flushed()`): the Raft log, fsynced before acknowledging, is the WAL.
 *
 * Why lmdb: see packages/kv/bench/engines.ts (point reads, range scans and batched writes
 * against LevelDB via classic-level) and the README's dependency section.
 */
export class LmdbEngine implements Engine {
  private readonly root: RootDatabase<Buffer, Buffer>;
  private readonly db: Database<Buffer, Buffer>;
  readonly dir: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.dir = dir;
    this.root = open<Buffer, Buffer>({
      path: join(dir, 'data.mdb'),
      encoding: 'binary',
      keyEncoding: 'binary',
      compression: false,
      overlappingSync: true,
      // 64 GiB of address space; lmdb grows the file as needed.
      mapSize: 64 * 1024 * 1024 * 1024,
    });
    this.db = this.root;
  }

  get(key: Uint8Array): Buffer | undefined {
    return this.db.getBinary(key as Buffer) as Buffer | undefined;
  }

  /** Keys in [start, end) ascending (or (end, start] descending when reverse). */
  scan(start: Uint8Array, end: Uint8Array, reverse = false, limit?: number): Iterable<EngineEntry> {
    const opts: { start: Buffer; end: Buffer; reverse: boolean; limit?: number } = reverse
      ? { start: end as Buffer, end: start as Buffer, reverse: true }
      : { start: start as Buffer, end: end as Buffer, reverse: false };
    if (limit !== undefined) opts.limit = limit;
    return this.db.getRange(opts) as Iterable<EngineEntry>;
  }

  /** Applies writes atomically; visible to reads when this returns. */
  write(writes: readonly EngineWrite[]): void {
    this.db.transactionSync(() => {
      for (const w of writes) {
        if (w.value === null) this.db.removeSync(w.key as Buffer);
        else this.db.putSync(w.key as Buffer, w.value as Buffer);
      }
    });
  }

  readView(): EngineReadView {
    const txn = this.db.useReadTransaction();
    let released = false;
    return {
      get: (key) => this.db.get(key as Buffer, { transaction: txn }),
      scan: (start, end) => this.db.getRange({ start: start as Buffer, end: end as Buffer, transaction: txn }) as Iterable<EngineEntry>,
      release: () => {
        if (released) return;
        released = true;
        txn.done();
      },
    };
  }

  /** Resolves when everything committed so far is durable on disk. */
  flushed(): Promise<void> {
    return this.root.flushed as unknown as Promise<void>;
  }

  sizeBytes(): number {
    try {
      return statSync(join(this.dir, 'data.mdb')).size;
    } catch {
      return 0;
    }
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
