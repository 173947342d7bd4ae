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
import type { TsChunkSpec } from './copy_chunk.js';
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
export async function copyTextInWorkers(chunks: AsyncIterable<Buffer>, pool: CopyWorkerPool, c: ChunkedCopy): Promise<void> {
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
  const settleOldest = async () => {
    const cut = queue.shift() as Cut;
    const r = await cut.result;
    if (ended) return;
    if (r.chunk) await c.addChunk(r.chunk, cut.linesBefore);
    else ended = await c.parseHere(Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength), cut.linesBefore);
  };

  /** The rest goes to the ordinary parser (after a line longer than a chunk). */
  let here = false;
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
  if (!ended && !here) send(null);
  while (queue.length > 0) await settleOldest();
}
