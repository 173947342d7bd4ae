/**
 * The COPY worker pool: worker threads (copy_worker.ts) that parse chunks of text and binary COPY
 * into TS tables, so that parsing and building the write command's columns (most of a COPY row's cost on
 * the event loop) run on the other cores. Plain worker_threads rather than piscina: each task
 * moves its input and its result as transferred ArrayBuffers, and results must come back as
 * objects holding a transferred buffer, which piscina's return path does not transfer.
 *
 * The pool knows nothing of ordering: a COPY awaits its chunks' promises in the order it sent them
 * (ts_copy_workers.ts), so chunks run in parallel on any worker and are applied in order.
 * A worker that crashes fails the tasks it held (the COPY fails with an internal error) and is
 * replaced at the next task.
 */
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TsChunk, TsChunkSpec } from './copy_chunk.js';
import type { ChunkTask } from './copy_worker.js';

/**
 * Worker threads parsing COPY chunks: STRATA_COPY_WORKERS (0 turns the worker path off: every
 * COPY parses on the event loop, as before). Default: one per core beyond the event loop's, at
 * least one.
 */
export function copyWorkerThreads(): number {
  const env = process.env.STRATA_COPY_WORKERS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 0 && n <= copyWorkerThreadsMax) return n;
  }
  return Math.max(1, Math.min(copyWorkerThreadsMax, availableParallelism() - 1));
}

/**
 * Binary COPY through the workers too: STRATA_COPY_BINARY_WORKERS=1 (off by default). The event
 * loop still walks every tuple to find its bounds (the framing and its errors stay there), which
 * is most of what binary parsing cost it, so moving the rest saves it ~1–1.5 µs a row while the
 * worker spends ~2–4 µs on it: on a 2-core machine the total CPU per row rises (bench:ingest,
 * README "Benchmarks") and the load is not faster.
 */
export function copyBinaryWorkersOn(): boolean {
  return process.env.STRATA_COPY_BINARY_WORKERS === '1';
}

/** More threads than this only add memory: the event loop's own share of a row bounds COPY first. */
const copyWorkerThreadsMax = 16;

/** A parsed chunk, or its bytes back when the event loop must parse it (copy_chunk.ts). */
export type ChunkResult = { chunk: TsChunk; bytes?: undefined } | { chunk?: undefined; bytes: Uint8Array };

interface Pending {
  resolve(r: ChunkResult): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  /** Tasks sent to this worker and not answered. */
  busy: number;
}

/** Where the worker entry is: next to this module when running compiled, else in dist/. */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'copy_worker.js');
  return join(dirname(here), '..', 'dist', 'src', 'copy_worker.js');
}

class CopyWorkerPool {
  private readonly slots: (Slot | null)[];
  private readonly pending = new Map<number, Pending>();
  private readonly owner = new Map<number, Slot>();
  private nextId = 1;

  constructor(readonly threads: number) {
    this.slots = new Array<Slot | null>(threads).fill(null);
  }

  run(spec: TsChunkSpec, bytes: Uint8Array, binary = false): Promise<ChunkResult> {
    const slot = this.leastBusy();
    const id = this.nextId++;
    slot.busy++;
    this.owner.set(id, slot);
    return new Promise<ChunkResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const task: ChunkTask = { id, spec, bytes, binary };
      slot.worker.postMessage(task, [bytes.buffer as ArrayBuffer]);
    });
  }

  private leastBusy(): Slot {
    let best: Slot | null = null;
    for (let i = 0; i < this.slots.length; i++) {
      let s = this.slots[i];
      if (!s) {
        s = this.start(i);
        this.slots[i] = s;
      }
      if (!best || s.busy < best.busy) best = s;
    }
    return best as Slot;
  }

  private start(i: number): Slot {
    // Workers load the compiled files: drop a resolution condition that points packages at their
    // TypeScript sources (the test runner's), which plain Node cannot load in a worker.
    const execArgv = process.execArgv.filter((a, k, all) => !a.startsWith('--conditions') && !(k > 0 && all[k - 1] === '--conditions') && a !== '-C');
    const worker = new Worker(workerFile(), { execArgv, env: { ...process.env, NODE_OPTIONS: (process.env.NODE_OPTIONS ?? '').replace(/--conditions[= ]\S+/g, '') } });
    worker.unref();
    const slot: Slot = { worker, busy: 0 };
    worker.on('message', (m: { id: number; chunk?: TsChunk; bytes?: Uint8Array; error?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      this.owner.delete(m.id);
      slot.busy--;
      if (!p) return;
      if (m.error !== undefined) p.reject(new Error(`COPY worker: ${m.error}`));
      else if (m.chunk) p.resolve({ chunk: m.chunk });
      else p.resolve({ bytes: m.bytes as Uint8Array });
    });
    const fail = (e: Error) => {
      if (this.slots[i] === slot) this.slots[i] = null;
      for (const [id, owner] of this.owner) {
        if (owner !== slot) continue;
        this.owner.delete(id);
        this.pending.get(id)?.reject(e);
        this.pending.delete(id);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`COPY worker exited with code ${code}`)));
    return slot;
  }
}

let pool: CopyWorkerPool | null = null;

/** The node's pool (started at the first chunked COPY), or null when workers are off. */
export function copyWorkers(): CopyWorkerPool | null {
  const threads = copyWorkerThreads();
  if (threads === 0) return null;
  if (!pool || pool.threads !== threads) pool = new CopyWorkerPool(threads);
  return pool;
}

export type { CopyWorkerPool };
