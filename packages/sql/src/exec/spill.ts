/**
 * Temporary files for operators over their memory budget (memory.ts): an external merge sort
 * writes sorted runs, hash aggregation writes the rows of groups that did not fit, partitioned
 * by hash. Files live in `<store>/tmp/`, which the engine empties at start (what a crash left) and
 * each statement empties of its own files when it ends, however it ends.
 *
 * File format: a sequence of records, each a u32 byte length and a value encoded by encodeValue
 * (a tagged, self-describing encoding of every SQL value representation, JSON trees included).
 *
 * Writes are asynchronous when the yield contract allows it (the operator yields the write's
 * promise, the driver awaits it); inside synchronous drains they are synchronous. Reads are
 * synchronous in spillReadBytes chunks (from the page cache right after the write, a fraction
 * of a millisecond each).
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  rmSync,
  unlinkSync,
  write,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ByteWriter, assert } from '@strata/common';
import { spillReadBytes, spillWriteBytes } from '../constants.js';
import { Decimal } from '../types/numeric.js';

// ---- value codec ---------------------------------------------------------------------------------

const enum Tag {
  Null = 0,
  False = 1,
  True = 2,
  Number = 3,
  BigInt = 4,
  String = 5,
  Bytes = 6,
  Decimal = 7,
  Array = 8,
  Object = 9,
  Undefined = 10,
  /** A bigint within 64 bits, as 8 bytes (others go as text). */
  BigInt64 = 11,
}

/** Encodes any value an operator holds: SQL values, rows (arrays) and JSON trees. */
export function encodeValue(w: ByteWriter, v: unknown): void {
  if (v === null) w.u8(Tag.Null);
  else if (v === undefined) w.u8(Tag.Undefined);
  else if (v === false) w.u8(Tag.False);
  else if (v === true) w.u8(Tag.True);
  else if (typeof v === 'number') w.u8(Tag.Number).f64(v);
  else if (typeof v === 'bigint') {
    if (v >= -0x8000000000000000n && v <= 0x7fffffffffffffffn) w.u8(Tag.BigInt64).i64(v);
    else lenString(w.u8(Tag.BigInt), v.toString());
  }
  else if (typeof v === 'string') lenString(w.u8(Tag.String), v);
  else if (Buffer.isBuffer(v)) w.u8(Tag.Bytes).u32(v.length).bytes(v);
  else if (v instanceof Decimal) {
    lenString(w.u8(Tag.Decimal), v.unscaled.toString());
    w.i32(v.scale);
  } else if (Array.isArray(v)) {
    w.u8(Tag.Array).u32(v.length);
    for (const x of v) encodeValue(w, x);
  } else if (typeof v === 'object') {
    const keys = Object.keys(v);
    w.u8(Tag.Object).u32(keys.length);
    for (const k of keys) {
      lenString(w, k);
      encodeValue(w, (v as Record<string, unknown>)[k]);
    }
  } else throw new Error(`cannot spill a value of type ${typeof v}`);
}

function lenString(w: ByteWriter, s: string): void {
  const at = w.len;
  w.u32(0);
  w.utf8(s);
  w.buf.writeUInt32BE(w.len - at - 4, at);
}

export class ValueReader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  private str(): string {
    const n = this.buf.readUInt32BE(this.pos);
    const s = this.buf.toString('utf8', this.pos + 4, this.pos + 4 + n);
    this.pos += 4 + n;
    return s;
  }

  value(): unknown {
    const tag = this.buf[this.pos++] as Tag;
    switch (tag) {
      case Tag.Null:
        return null;
      case Tag.Undefined:
        return undefined;
      case Tag.False:
        return false;
      case Tag.True:
        return true;
      case Tag.Number: {
        const v = this.buf.readDoubleBE(this.pos);
        this.pos += 8;
        return v;
      }
      case Tag.BigInt:
        return BigInt(this.str());
      case Tag.BigInt64: {
        const v = this.buf.readBigInt64BE(this.pos);
        this.pos += 8;
        return v;
      }
      case Tag.String:
        return this.str();
      case Tag.Bytes: {
        const n = this.buf.readUInt32BE(this.pos);
        const b = Buffer.from(this.buf.subarray(this.pos + 4, this.pos + 4 + n));
        this.pos += 4 + n;
        return b;
      }
      case Tag.Decimal: {
        const unscaled = BigInt(this.str());
        const scale = this.buf.readInt32BE(this.pos);
        this.pos += 4;
        return new Decimal(unscaled, scale);
      }
      case Tag.Array: {
        const n = this.buf.readUInt32BE(this.pos);
        this.pos += 4;
        const out: unknown[] = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = this.value();
        return out;
      }
      case Tag.Object: {
        const n = this.buf.readUInt32BE(this.pos);
        this.pos += 4;
        const o: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const k = this.str();
          o[k] = this.value();
        }
        return o;
      }
      default:
        throw new Error(`corrupt spill record (tag ${String(tag)})`);
    }
  }
}

// ---- temporary files -------------------------------------------------------------------------------

let fileSeq = 0;

/** Empties (or creates) the temporary directory: at engine start, whatever a crash left behind. */
export function resetTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** The temporary files of one statement. INVARIANT: after cleanup() none of them exists. */
export class TempFiles {
  private readonly files = new Map<string, SpillFile>();
  /** Files created over the statement's life (tests and EXPLAIN-style reporting). */
  created = 0;
  bytesWritten = 0;

  constructor(readonly dir: string) {}

  create(kind: string): SpillFile {
    const path = join(this.dir, `${process.pid}-${++fileSeq}-${kind}.spill`);
    const fd = openSync(path, 'w+', 0o600);
    const f = new SpillFile(this, path, fd);
    this.files.set(path, f);
    this.created++;
    return f;
  }

  forget(path: string): void {
    this.files.delete(path);
  }

  /** Closes and deletes every file of the statement (when it ends, however it ends). */
  cleanup(): void {
    for (const f of [...this.files.values()]) f.remove();
    this.files.clear();
  }

  /** Files of this statement still on disk. */
  get open(): number {
    return this.files.size;
  }
}

export function listTempFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.spill'));
  } catch {
    return [];
  }
}

/**
 * An append-only file of records, then read back front to back (possibly by several cursors at
 * their own offsets). INVARIANT: every write completes before any read (`finishWriting`).
 */
export class SpillFile {
  private w = new ByteWriter(spillWriteBytes + 1024);
  private size = 0;
  private pending: Promise<void> | null = null;
  private writing = true;
  records = 0;

  constructor(
    private readonly files: TempFiles,
    readonly path: string,
    private fd: number,
  ) {}

  /**
   * Appends one record. Returns a promise when a chunk went to disk asynchronously (the caller
   * yields it: waitFor), else null.
   */
  append(v: unknown, allowAsync: boolean): Promise<void> | null {
    assert(this.writing, 'spill file appended after it was finished');
    const w = this.w;
    const at = w.len;
    w.u32(0);
    encodeValue(w, v);
    w.buf.writeUInt32BE(w.len - at - 4, at);
    this.records++;
    if (w.len < spillWriteBytes) return null;
    return this.flush(allowAsync);
  }

  private flush(allowAsync: boolean): Promise<void> | null {
    const chunk = Buffer.from(this.w.finish());
    this.w.len = 0;
    const pos = this.size;
    this.size += chunk.length;
    this.files.bytesWritten += chunk.length;
    const prev = this.pending;
    if (!allowAsync) {
      // Writes must land in order: a synchronous write waits for none pending (see finishWriting).
      assert(prev === null, 'a synchronous spill write while an asynchronous one is pending');
      writeSync(this.fd, chunk, 0, chunk.length, pos);
      return null;
    }
    const p = new Promise<void>((res, rej) => {
      const go = () => write(this.fd, chunk, 0, chunk.length, pos, (err) => (err ? rej(err) : res()));
      if (prev) prev.then(go, rej);
      else go();
    });
    this.pending = p.then(() => {
      if (this.pending === p) this.pending = null;
    });
    return p;
  }

  /** Writes what is buffered; returns a promise to wait for before reading (or null). */
  finishWriting(allowAsync: boolean): Promise<void> | null {
    if (!this.writing) return this.pending;
    const last = this.w.len > 0 ? this.flush(allowAsync) : null;
    this.writing = false;
    this.w = new ByteWriter(16);
    return last ?? this.pending;
  }

  /** A reader over the records from the start. */
  reader(): SpillReader {
    assert(!this.writing, 'spill file read before it was finished');
    return new SpillReader(this.fd, this.size);
  }

  /** Deletes the file now (its records were read). */
  remove(): void {
    try {
      closeSync(this.fd);
    } catch {
      // Already closed.
    }
    this.fd = -1;
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone.
    }
    this.files.forget(this.path);
  }
}

/** Reads records sequentially through a spillReadBytes buffer. */
export class SpillReader {
  private buf = Buffer.alloc(0);
  private at = 0;
  private filePos = 0;

  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {}

  /** The next record's value, or undefined at the end. */
  next(): unknown {
    if (!this.ensure(4)) return undefined;
    const n = this.buf.readUInt32BE(this.at);
    assert(this.ensure(4 + n), 'truncated spill record');
    const r = new ValueReader(this.buf.subarray(this.at + 4, this.at + 4 + n));
    this.at += 4 + n;
    return r.value();
  }

  private ensure(n: number): boolean {
    if (this.buf.length - this.at >= n) return true;
    if (this.filePos >= this.size && this.buf.length - this.at < n) return false;
    const want = Math.max(n, spillReadBytes);
    const next = Buffer.allocUnsafe(this.buf.length - this.at + Math.min(want, this.size - this.filePos));
    this.buf.copy(next, 0, this.at);
    let filled = this.buf.length - this.at;
    while (filled < next.length) {
      const got = readSync(this.fd, next, filled, next.length - filled, this.filePos);
      if (got === 0) break;
      filled += got;
      this.filePos += got;
    }
    this.buf = next.subarray(0, filled);
    this.at = 0;
    return this.buf.length >= n;
  }
}
