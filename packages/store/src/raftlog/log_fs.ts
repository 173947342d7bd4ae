/**
 * The file operations the Raft log needs, so the log can run on a real directory or on an
 * in-memory file system that simulates crashes (unsynced bytes lost, a torn tail) and fsync
 * failures in tests and the cluster simulation.
 */
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, readdirSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * fdatasync failed: what the log wrote before may not be durable even though earlier syncs
 * succeeded (the kernel may have dropped the dirty pages), so the store stops and recovers from
 * what the log holds after a restart, as PostgreSQL does.
 */
export class LogSyncError extends Error {}

export interface LogFs {
  /** Segment file names, any order. */
  list(): string[];
  size(name: string): number;
  /** Reads `length` bytes at `offset` (the caller stays within the size). */
  read(name: string, offset: number, length: number): Buffer;
  truncate(name: string, length: number): void;
  remove(name: string): void;
  /** Appends and makes durable (write, then fdatasync); rejects if either fails. */
  append(name: string, bufs: Buffer[]): Promise<void>;
  close(): Promise<void>;
}

export class DiskLogFs implements LogFs {
  private tail: { name: string; fh: FileHandle } | null = null;
  private readonly readFds = new Map<string, number>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  list(): string[] {
    return readdirSync(this.dir);
  }

  private fd(name: string): number {
    let fd = this.readFds.get(name);
    if (fd === undefined) {
      fd = openSync(join(this.dir, name), 'r+');
      this.readFds.set(name, fd);
    }
    return fd;
  }

  size(name: string): number {
    return fstatSync(this.fd(name)).size;
  }

  read(name: string, offset: number, length: number): Buffer {
    const b = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd(name), b, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got === length ? b : b.subarray(0, got);
  }

  truncate(name: string, length: number): void {
    ftruncateSync(this.fd(name), length);
  }

  remove(name: string): void {
    const fd = this.readFds.get(name);
    if (fd !== undefined) closeSync(fd);
    this.readFds.delete(name);
    unlinkSync(join(this.dir, name));
  }

  async append(name: string, bufs: Buffer[]): Promise<void> {
    if (this.tail?.name !== name) {
      await this.tail?.fh.close();
      this.tail = { name, fh: await open(join(this.dir, name), 'a', 0o600) };
    }
    await this.tail.fh.writev(bufs);
    try {
      await this.tail.fh.datasync();
    } catch (e) {
      throw new LogSyncError(`fdatasync of raft log segment ${name} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  async close(): Promise<void> {
    await this.tail?.fh.close();
    this.tail = null;
    for (const fd of this.readFds.values()) closeSync(fd);
    this.readFds.clear();
  }
}

/**
 * In-memory files with a durability model: appended bytes are visible at once and durable after
 * the append's sync. crash() drops unsynced bytes (optionally keeping a torn prefix of them);
 * failNextSync makes the next append write its bytes and then fail its sync, as an fsync error does.
 */
export class MemLogFs implements LogFs {
  private readonly files = new Map<string, { data: Buffer; synced: number }>();
  failNextSync = false;
  /** How appends complete: the simulation routes them through its scheduler (default: a microtask). */
  defer: (f: () => void) => void = (f) => queueMicrotask(f);

  list(): string[] {
    return [...this.files.keys()];
  }

  private file(name: string) {
    let f = this.files.get(name);
    if (!f) this.files.set(name, (f = { data: Buffer.alloc(0), synced: 0 }));
    return f;
  }

  size(name: string): number {
    return this.file(name).data.length;
  }

  read(name: string, offset: number, length: number): Buffer {
    return Buffer.from(this.file(name).data.subarray(offset, offset + length));
  }

  truncate(name: string, length: number): void {
    const f = this.file(name);
    f.data = f.data.subarray(0, length);
    f.synced = Math.min(f.synced, length);
  }

  remove(name: string): void {
    this.files.delete(name);
  }

  append(name: string, bufs: Buffer[]): Promise<void> {
    const f = this.file(name);
    f.data = Buffer.concat([f.data, ...bufs]);
    const fail = this.failNextSync;
    this.failNextSync = false;
    return new Promise((resolve, reject) =>
      this.defer(() => {
        if (fail) return reject(new LogSyncError('fdatasync failed (simulated EIO)'));
        f.synced = f.data.length;
        resolve();
      }),
    );
  }

  /** A crash: every file loses its unsynced bytes, except a torn prefix of `keepTornBytes`. */
  crash(keepTornBytes = 0): void {
    for (const f of this.files.values()) f.data = f.data.subarray(0, Math.min(f.data.length, f.synced + keepTornBytes));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
