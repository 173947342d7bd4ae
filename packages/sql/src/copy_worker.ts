/**
 * The entry of a COPY worker thread (copy_workers.ts): parses chunks of a text or binary COPY into
 * a TS table (copy_chunk.ts, copy_binary_chunk.ts) and posts each result back with its buffers transferred, never cloned:
 * the column data of a parsed chunk, or the chunk's own bytes when it bails to the event loop.
 */
import { parentPort } from 'node:worker_threads';
import { parseTsBinaryChunk } from './copy_binary_chunk.js';
import { parseTsChunk } from './copy_chunk.js';
import type { TsChunkSpec } from './copy_chunk.js';

export interface ChunkTask {
  id: number;
  spec: TsChunkSpec;
  bytes: Uint8Array;
  /** Binary COPY tuples (copy_binary_chunk.ts), else text lines (copy_chunk.ts). */
  binary: boolean;
}

const port = parentPort;
if (port) {
  port.on('message', (t: ChunkTask) => {
    try {
      const chunk = t.binary ? parseTsBinaryChunk(t.spec, t.bytes) : parseTsChunk(t.spec, t.bytes);
      if (chunk) port.postMessage({ id: t.id, chunk }, [chunk.data]);
      else port.postMessage({ id: t.id, bytes: t.bytes }, [t.bytes.buffer as ArrayBuffer]);
    } catch (e) {
      port.postMessage({ id: t.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  });
}
