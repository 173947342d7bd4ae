/**
 * Reorganization of one partition (DESIGN.md "TS engine": sort, deduplicate, drop deleted rows,
 * pack full compressed blocks) as a self-contained job, so it runs in a worker thread
 * (reorganize_worker.ts) while the event loop goes on serving queries and applying writes.
 *
 * The job reads only the blocks listed in it (segments are append-only, so they do not change
 * under it) and writes a new partition directory that nothing refers to yet. The table switches
 * to it at its next flush, in one meta.json write, unless the partition changed since the job
 * was planned (a write or DELETE arrived) — then the result is thrown away and the next pass
 * tries again (TsTable.finishRewrites).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { readBlockHeader } from './block.js';
import type { ColumnType, Compression } from './block.js';
import { encodeBlock } from './block.js';
import { Partition } from './partition.js';
import type { SegmentOptions } from './segment.js';
import { blockColumnsFor, dedupRuns, keepRows, mergeSortedColumns, sliceColumns } from './columns.js';
import type { DedupRule } from './columns.js';

export interface RewriteJob {
  /** Segment file paths of the partition, by position (seq). */
  segments: string[];
  entities: { id: number; blocks: { seq: number; offset: number; length: number }[] }[];
  /** Deletes that hide rows of listed blocks: blocks before `mark` (seq, offset) of these entities (all if null). */
  tombstones: { entities: number[] | null; lo: bigint; hi: bigint; mark: [number, number] }[];
  layout: { ids: number[]; types: ColumnType[] };
  dedup: DedupRule;
  rowsPerBlock: number;
  compression: Compression | boolean;
  destDir: string;
  start: bigint;
  end: bigint;
  segment: SegmentOptions;
}

export interface RewriteResult {
  /** Segment file → bytes written (and synced). */
  lengths: Record<string, number>;
  rows: number;
  blocks: number;
}

export function runRewrite(job: RewriteJob): RewriteResult {
  const fds = job.segments.map((p) => openSync(p, 'r'));
  const fresh = Partition.open(job.destDir, job.start, job.end, job.segment);
  let rows = 0;
  let blocks = 0;
  try {
    for (const e of job.entities) {
      const parts = e.blocks.map((b) => {
        const buf = Buffer.alloc(b.length);
        readSync(fds[b.seq] as number, buf, 0, b.length, b.offset);
        const cols = blockColumnsFor(job.layout, buf, readBlockHeader(buf), null);
        const dead = job.tombstones.filter((d) => (!d.entities || d.entities.includes(e.id)) && (b.seq < d.mark[0] || (b.seq === d.mark[0] && b.offset < d.mark[1])));
        return dead.length > 0 ? keepRows(cols, (ts) => !dead.some((d) => ts >= d.lo && ts <= d.hi)) : cols;
      });
      const merged = mergeSortedColumns(parts, job.layout.types, job.start, job.end - 1n);
      if (!merged) continue;
      const cols = job.dedup === 'keep' ? merged : dedupRuns(merged, job.dedup);
      const n = cols[0]?.values.length ?? 0;
      for (let at = 0; at < n; at += job.rowsPerBlock) {
        fresh.append(e.id, encodeBlock(sliceColumns(cols, at, Math.min(n, at + job.rowsPerBlock)), job.compression, job.layout.ids));
        blocks++;
      }
      rows += n;
    }
    fresh.sync();
    return { lengths: fresh.segmentLengths(), rows, blocks };
  } finally {
    fresh.close();
    for (const fd of fds) closeSync(fd);
  }
}
