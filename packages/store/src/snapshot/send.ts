/**
 * Generating a snapshot of a replica (KV_BATCH then TS_BATCH), streamed in bounded chunks.
 *
 * KV_BATCH: the range's replicated range-local keys, then every engine key/value of its user span
 * (all MVCC versions), read through one engine read view taken at the applied index — the stream
 * may span many event-loop turns while the replica goes on applying. TS_BATCH: the files of the
 * range's entity groups as their manifests list them, flushed at the same applied index and
 * hard-linked aside first, so nothing that happens meanwhile changes what is sent.
 */
import { mkdirSync, openSync, closeSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { assert } from '@strata/common';
import { snapshotChunkBytes } from '../constants.js';
import { replicatedSpan } from '../keys.js';
import { userSpanOf } from '@strata/kv';
import type { RangeDescriptor } from '@strata/kv';
import type { Replica } from '../replica/replica.js';
import type { SnapshotChunk } from '../transport.js';

/** Names link directories apart when one range sends several snapshots at one index. */
let snapshotsGenerated = 0;

export interface OutgoingSnapshot {
  index: number;
  term: number;
  desc: RangeDescriptor;
  chunks: AsyncIterable<SnapshotChunk>;
  /** Bytes sent so far (for metrics). */
  bytes: { kv: number; ts: number };
  /** Releases the read view and the linked files (whether or not the stream was consumed). */
  release(): void;
}

/** Captures the replica's state now (synchronously) and returns the stream of it. */
export function generateSnapshot(r: Replica, scratchDir: string): OutgoingSnapshot {
  const d = r.desc;
  assert(d !== null, 'snapshot of an uninitialized replica');
  const desc: RangeDescriptor = d;
  const index = r.appliedIndex;
  const term = r.appliedTerm;
  const view = r.host.engine.readView();
  const linkDir = join(scratchDir, `out-r${r.rangeId}-${index}-${++snapshotsGenerated}`);
  rmSync(linkDir, { recursive: true, force: true });
  mkdirSync(linkDir, { recursive: true, mode: 0o700 });
  let files: { path: string; length: number }[];
  try {
    files = r.host.ts.linkSnapshotFiles(r.rangeId, index, linkDir);
  } catch (e) {
    view.release();
    rmSync(linkDir, { recursive: true, force: true });
    throw e;
  }
  const bytes = { kv: 0, ts: 0 };
  const release = () => {
    view.release();
    rmSync(linkDir, { recursive: true, force: true });
  };
  async function* chunks(): AsyncGenerator<SnapshotChunk> {
    {
      let keys: Buffer[] = [];
      let values: Buffer[] = [];
      let size = 0;
      for (const [start, end] of [replicatedSpan(desc.rangeId), userSpanOf(desc)]) {
        for (const { key, value } of view.scan(start, end)) {
          keys.push(Buffer.from(key));
          values.push(Buffer.from(value));
          size += key.length + value.length + 8;
          if (size >= snapshotChunkBytes) {
            bytes.kv += size;
            yield { kind: 'kv', keys, values };
            keys = [];
            values = [];
            size = 0;
          }
        }
      }
      if (keys.length > 0) {
        bytes.kv += size;
        yield { kind: 'kv', keys, values };
      }
      view.release();
      for (const f of files) {
        const fd = openSync(join(linkDir, f.path), 'r');
        try {
          let offset = 0;
          do {
            const n = Math.min(snapshotChunkBytes, f.length - offset);
            const data = Buffer.allocUnsafe(n);
            let got = 0;
            while (got < n) {
              const k = readSync(fd, data, got, n - got, offset + got);
              if (k === 0) break;
              got += k;
            }
            assert(got === n, () => `snapshot file ${f.path} is shorter than its manifest says (${offset + got} < ${f.length})`);
            bytes.ts += n;
            yield { kind: 'tsFile', path: f.path, offset, data, last: offset + n >= f.length };
            offset += n;
          } while (offset < f.length);
        } finally {
          closeSync(fd);
        }
      }
    }
  }
  return { index, term, desc, chunks: chunks(), bytes, release };
}
