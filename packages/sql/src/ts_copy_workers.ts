/**
 * Text COPY into a TS table with its parsing on worker threads (copy_workers.ts): the event loop
 * only cuts the incoming CopyData into chunks of whole lines — one chunk per write command, at
 * most tsRowsPerCommandMax rows, as the event-loop path's commands — sends each chunk's bytes to a
 * worker (transferred), and turns each parsed chunk into its write command (tags resolved, columns
 * copied: copy_chunk.ts, TsCopyBatch.addChunk) in the order the chunks were cut.
 *
 * INVARIANTS
 * - Order: chunks are cut, awaited and proposed in input order (a FIFO of promises; one proposal
 *   in flight at a time, as on the event-loop path), so the rows of one COPY reach the replica
 *   log in the order they were sent.
 * - Durability: nothing is acknowledged here; the COPY's CommandComplete still waits for every
 *   proposal to be applied and fsynced (copyFromTs).
 * - Same answers: a chunk a worker does not take whole comes back as bytes and is parsed by the
 *   event loop's CopyParser and TsCopyBatch, starting at its first line's number, so every error
 *   (SQLSTATE, message, line) is the event-loop path's; a chunk ends a command, so what a failed
 *   COPY leaves stored (the commands before the bad line's) is what that path leaves too.
 * - Bounded memory: at most copyChunksInflightMax chunks of one COPY are cut and not yet proposed
 *   (each at most copyChunkBytesMax bytes); while that many are out, no more CopyData is read,
 *   so the connection's inbox fills and the socket is paused (TCP pushes back on the client).
 */
import { PgError } from '@strata/common';
import type { TsChunk, TsChunkSpec } from './copy_chunk.js';
import type { BinaryCopyParser } from './copy_binary.js';
import type { ChunkResult, CopyWorkerPool } from './copy_workers.js';

/**
 * Chunks of one COPY cut and not yet turned into a proposal. Two keep both workers of a 2-core
 * node busy while the event loop proposes the one before; more would only hold memory.
 */
export const copyChunksInflightMax = 3;

/**
 * A chunk ends at the first line end past this many bytes even before tsRowsPerCommandMax rows
 * (wide rows): bounds the bytes in flight per COPY at copyChunksInflightMax × this (48 MiB) plus
 * one line. A line longer than this is parsed on the event loop (copyRowBytesMax applies there).
 */
export const copyChunkBytesMax = 16 * 1024 * 1024;

/** What the pipeline needs of its COPY (copy_statements.ts copyFromTs). */
export interface ChunkedCopy {
  spec: TsChunkSpec;
  /** Rows per chunk: the write command's row budget. */
  rowsPerChunk: number;
  /** A worker's parsed chunk, its lines counted after `linesBefore`: added to the batch and proposed. */
  addChunk(r: NonNullable<ChunkResult['chunk']>, linesBefore: number): Promise<void>;
  /**
   * Bytes the event loop parses the ordinary way (whole lines, the first after `linesBefore`
   * lines); resolves true when they held the end marker `\.` (what follows is ignored).
   */
  parseHere(bytes: Buffer, linesBefore: number): Promise<boolean>;
  /**
   * The rest of the COPY on the event loop (a line too long for a chunk): the ordinary parser,
   * started after `linesBefore` lines, gets every byte from there on.
   */
  ordinary: { start(linesBefore: number): void; push(data: Buffer): Promise<void> };
}

interface Cut {
  linesBefore: number;
  result: Promise<ChunkResult>;
}

/** Runs a text COPY's data through the workers; returns once every chunk is proposed (not applied). */
export async function copyTextInWorkers(
  chunks: AsyncIterable<Buffer>,
  pool: CopyWorkerPool,
  c: ChunkedCopy,
): Promise<void> {
  /** Pieces of the chunk being cut (views of CopyData bodies). */
  let pieces: Buffer[] = [];
  let pieceBytes = 0;
  let pieceLines = 0;
  /** Lines before the chunk being cut. */
  let lines = 0;
  /** `\.` was read: the rest of the data is read and ignored. */
  let ended = false;
  const queue: Cut[] = [];

  const send = (extraTail: Buffer | null) => {
    if (extraTail) {
      pieces.push(extraTail);
      pieceBytes += extraTail.length;
    }
    if (pieceBytes === 0) return;
    // A buffer of its own (not from Node's shared pool), so it can be transferred to the worker.
    const bytes = Buffer.allocUnsafeSlow(pieceBytes);
    let at = 0;
    for (const p of pieces) {
      p.copy(bytes, at);
      at += p.length;
    }
    const result = pool.run(c.spec, new Uint8Array(bytes.buffer, 0, pieceBytes));
    result.catch(() => undefined); // awaited in order below; a failure after an earlier error is moot
    queue.push({ linesBefore: lines, result });
    lines += pieceLines;
    pieces = [];
    pieceBytes = 0;
    pieceLines = 0;
  };

  /** Proposes the oldest chunk (or parses it here when its worker gave it back). */
  /** A chunk failed (a bad row): nothing after it may be proposed. */
  let failed = false;
  const settleOldest = async () => {
    const cut = queue.shift() as Cut;
    try {
      const r = await cut.result;
      if (ended) return;
      if (r.chunk) await c.addChunk(r.chunk, cut.linesBefore);
      else ended = await c.parseHere(Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength), cut.linesBefore);
    } catch (e) {
      failed = true;
      throw e;
    }
  };

  /** The rest goes to the ordinary parser (after a line longer than a chunk). */
  let here = false;
  try {
    await readAll();
  } catch (e) {
    // The client's CopyFail or a cancel: the chunks cut before it are proposed first, as the
    // event-loop path proposed each command before it read on (the lines being cut are dropped).
    if (failed || here || !(e instanceof PgError)) throw e;
    while (queue.length > 0) await settleOldest();
    throw e;
  }
  if (!ended && !here) send(null);
  while (queue.length > 0) await settleOldest();

  async function readAll(): Promise<void> {
    for await (const data of chunks) {
      if (ended) continue;
      if (here) {
        await c.ordinary.push(data);
        continue;
      }
      let from = 0;
      for (let nl = data.indexOf(0x0a, from); nl >= 0; nl = data.indexOf(0x0a, nl + 1)) {
        pieceLines++;
        if (pieceLines >= c.rowsPerChunk || pieceBytes + (nl + 1 - from) >= copyChunkBytesMax) {
          send(data.subarray(from, nl + 1));
          from = nl + 1;
          while (queue.length >= copyChunksInflightMax) await settleOldest();
          if (ended) break;
        }
      }
      if (from < data.length && !ended) {
        pieces.push(data.subarray(from));
        pieceBytes += data.length - from;
        if (pieceLines === 0 && pieceBytes > copyChunkBytesMax) {
          // One line longer than a chunk: the chunks before it are proposed, then the event loop
          // parses the rest (its row limit, copyRowBytesMax, applies as on the ordinary path).
          while (queue.length > 0) await settleOldest();
          if (ended) continue;
          here = true;
          c.ordinary.start(lines);
          for (const p of pieces) await c.ordinary.push(p);
          pieces = [];
          pieceBytes = 0;
        }
      }
    }
  }
}

/** What the binary pipeline needs of its COPY (copy_statements.ts copyFromTs). */
export interface ChunkedBinaryCopy {
  spec: TsChunkSpec;
  rowsPerChunk: number;
  /** The COPY's own parser: it reads the stream (header, framing, trailer, their errors). */
  parser: BinaryCopyParser;
  /** A worker's parsed chunk, its tuples numbered after `linesBefore`: added and proposed. */
  addChunk(r: TsChunk, linesBefore: number): Promise<void>;
  /** Whole tuples (framing already checked) the event loop decodes the ordinary way, then proposes. */
  parseHere(bytes: Buffer, linesBefore: number): Promise<void>;
}

/**
 * Runs a binary COPY's data through the workers. The event loop's BinaryCopyParser reads the
 * stream as before — it finds each tuple's bounds and raises every framing error — and each
 * tuple's bytes are copied into the chunk being cut (one copy, no decoding); a chunk is cut at
 * rowsPerChunk tuples, or once it holds copyChunkBytesMax bytes after a CopyData message (so a
 * chunk is at most that plus one message's tuples). A framing error first lets the chunks cut
 * before it be proposed, as the event-loop path would have proposed their commands before
 * reading on. Returns once every chunk is proposed (not applied).
 */
export async function copyBinaryInWorkers(
  chunks: AsyncIterable<Buffer>,
  pool: CopyWorkerPool,
  c: ChunkedBinaryCopy,
): Promise<void> {
  let buf = Buffer.allocUnsafeSlow(1 << 20);
  let used = 0;
  let tuples = 0;
  let lines = 0;
  const queue: { linesBefore: number; result: Promise<ChunkResult> }[] = [];
  const n = c.spec.fields;
  /** Tuples of one pushTuples call lie back to back in its data: copied as one run. */
  let runData: Buffer | null = null;
  let runFrom = 0;
  let runTo = 0;
  const copyRun = () => {
    if (!runData || runTo === runFrom) return;
    const len = runTo - runFrom;
    if (used + len > buf.length) {
      let size = buf.length * 2;
      while (size < used + len) size *= 2;
      const next = Buffer.allocUnsafeSlow(size);
      buf.copy(next, 0, 0, used);
      buf = next;
    }
    runData.copy(buf, used, runFrom, runTo);
    used += len;
    runData = null;
  };
  const sink = {
    tuple: (data: Buffer, starts: Int32Array, lengths: Int32Array) => {
      const from = (starts[0] as number) - 6; // the field count (2 bytes) and field 0's length (4)
      const to = (starts[n - 1] as number) + Math.max(0, lengths[n - 1] as number);
      if (runData !== data || from !== runTo) {
        copyRun();
        runData = data;
        runFrom = from;
      }
      runTo = to;
      tuples++;
    },
  };
  const send = () => {
    if (tuples === 0) return;
    // The chunk's own buffer goes to the worker (transferred); the next chunk starts a new one.
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, used);
    const result = pool.run(c.spec, bytes, true);
    result.catch(() => undefined);
    queue.push({ linesBefore: lines, result });
    lines += tuples;
    buf = Buffer.allocUnsafeSlow(Math.max(1 << 20, used));
    used = 0;
    tuples = 0;
  };
  /** A chunk failed (a bad row): nothing after it may be proposed. */
  let failed = false;
  const settleOldest = async () => {
    const cut = queue.shift() as (typeof queue)[0];
    try {
      const r = await cut.result;
      if (r.chunk) await c.addChunk(r.chunk, cut.linesBefore);
      else await c.parseHere(Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength), cut.linesBefore);
    } catch (e) {
      failed = true;
      throw e;
    }
  };
  try {
    for await (const data of chunks) {
      for (let next: Buffer | null = data; ; next = null) {
        const more = c.parser.pushTuples(next, sink, c.rowsPerChunk - tuples);
        copyRun();
        if (tuples >= c.rowsPerChunk || used >= copyChunkBytesMax) {
          send();
          while (queue.length >= copyChunksInflightMax) await settleOldest();
        }
        if (!more) break;
      }
    }
    c.parser.end();
  } catch (e) {
    // A framing error (or the client's CopyFail) at tuple N: the chunks before it are proposed
    // first, as the event-loop path proposes each command before it reads on.
    // The tuples of the chunk being cut are dropped, as the event-loop path drops its unproposed batch.
    if (failed || !(e instanceof PgError)) throw e;
    while (queue.length > 0) await settleOldest();
    throw e;
  }
  send();
  while (queue.length > 0) await settleOldest();
}
