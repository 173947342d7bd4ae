/**
 * Receiving a snapshot: chunks are staged under the store's snapshots/ directory — KV pairs in a
 * length-prefixed file, TS files under ts/ as the sender's groups lay them out — and nothing of
 * the replica changes until Raft hands the snapshot back in a Ready (install.ts).
 */
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, normalize, isAbsolute } from 'node:path';
import { PgError, SqlState } from '@strata/common';
import type { RangeDescriptor } from '@strata/kv';
import type { SnapshotChunk } from '../transport.js';

export interface StagedSnapshot {
  rangeId: number;
  index: number;
  term: number;
  desc: RangeDescriptor;
  dir: string;
  /** Key/value pairs staged (the KV file holds them). */
  kvPairs: number;
}

export const kvFileName = 'kv.data';
export const tsDirName = 'ts';

/** Writes a stream's chunks under `dir`; returns the number of KV pairs. */
export async function stageSnapshot(dir: string, chunks: AsyncIterable<SnapshotChunk>): Promise<number> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, tsDirName), { recursive: true, mode: 0o700 });
  const kvFd = openSync(join(dir, kvFileName), 'w', 0o600);
  let pairs = 0;
  let tsFd = null as { path: string; fd: number } | null;
  try {
    for await (const c of chunks) {
      if (c.kind === 'kv') {
        let size = 0;
        for (let i = 0; i < c.keys.length; i++) size += 8 + (c.keys[i] as Buffer).length + (c.values[i] as Buffer).length;
        const b = Buffer.allocUnsafe(size);
        let o = 0;
        for (let i = 0; i < c.keys.length; i++) {
          const k = c.keys[i] as Buffer;
          const v = c.values[i] as Buffer;
          b.writeUInt32BE(k.length, o);
          k.copy(b, o + 4);
          o += 4 + k.length;
          b.writeUInt32BE(v.length, o);
          v.copy(b, o + 4);
          o += 4 + v.length;
        }
        writeSync(kvFd, b);
        pairs += c.keys.length;
        continue;
      }
      const rel = normalize(c.path);
      if (isAbsolute(rel) || rel.startsWith('..')) throw new PgError(SqlState.DataCorrupted, `snapshot file path ${c.path} escapes the staging directory`);
      const path = join(dir, tsDirName, rel);
      if (tsFd?.path !== path) {
        if (tsFd) closeSync(tsFd.fd);
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        tsFd = { path, fd: openSync(path, c.offset === 0 ? 'w' : 'r+', 0o600) };
      }
      writeSync(tsFd.fd, c.data, 0, c.data.length, c.offset);
      if (c.last) {
        closeSync(tsFd.fd);
        tsFd = null;
      }
    }
  } finally {
    closeSync(kvFd);
    if (tsFd) closeSync(tsFd.fd);
  }
  return pairs;
}

/** Reads the staged KV pairs back in batches of at most `batchBytes`. */
export function* readStagedKv(dir: string, batchBytes: number): Generator<{ key: Buffer; value: Buffer }[]> {
  const fd = openSync(join(dir, kvFileName), 'r');
  const read = (f: number, b: Buffer, pos: number) => readSync(f, b, 0, b.length, pos);
  try {
    let pos = 0;
    let batch: { key: Buffer; value: Buffer }[] = [];
    let size = 0;
    const head = Buffer.allocUnsafe(4);
    const next = (n: number) => {
      const b = Buffer.allocUnsafe(n);
      if (read(fd, b, pos) !== n) throw new PgError(SqlState.DataCorrupted, 'staged snapshot cut short');
      pos += n;
      return b;
    };
    for (;;) {
      if (read(fd, head, pos) === 0) break;
      pos += 4;
      const key = next(head.readUInt32BE(0));
      const vlen = next(4).readUInt32BE(0);
      const value = next(vlen);
      batch.push({ key, value });
      size += key.length + value.length;
      if (size >= batchBytes) {
        yield batch;
        batch = [];
        size = 0;
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    closeSync(fd);
  }
}
