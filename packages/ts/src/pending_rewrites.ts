/**
 * Bookkeeping of a TS table's partition rewrites (reorganization, reorganize.ts) between their
 * plan and their replicated commit: which rewrite is pending for which partition, whether its job
 * finished, and the directory `p<start>_<planIndex>` it writes into. What a commit does with a
 * finished rewrite — switch it in or throw it away — is the table's decision (TsTable.switchIn,
 * TsTable.unchangedSince); this file only keeps the records and removes abandoned directories.
 *
 * INVARIANT: at most one rewrite is pending per partition.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DedupRule } from './columns.js';
import type { RewriteResult } from './reorganize.js';

/** A rewrite planned by a reorganization command, waiting for its replicated commit. */
export interface PendingRewrite {
  /** Log index of the command that planned it (also names its directory `p<start>_<planIndex>`). */
  planIndex: number;
  dedup: DedupRule;
  destDir: string;
  result: RewriteResult | null;
  failed: boolean;
  /** The job while it runs. */
  running: Promise<void> | null;
}

/** The pending rewrites of one table, by partition start. */
export class PendingRewrites {
  private readonly byStart = new Map<bigint, PendingRewrite>();

  /** `dir`: the table's directory, where rewrites write their partitions. */
  constructor(private readonly dir: string) {}

  /** Where the rewrite of partition `start` planned at `planIndex` writes. */
  destDir(start: bigint, planIndex: number): string {
    return join(this.dir, `p${start}_${planIndex}`);
  }

  get(start: bigint): PendingRewrite | undefined {
    return this.byStart.get(start);
  }

  has(start: bigint): boolean {
    return this.byStart.has(start);
  }

  /** Whether any rewrite is planned and not yet committed or discarded. */
  any(): boolean {
    return this.byStart.size > 0;
  }

  /** Records a planned rewrite (its job not yet started). */
  plan(start: bigint, planIndex: number, dedup: DedupRule, destDir: string): void {
    this.byStart.set(start, { planIndex, dedup, destDir, result: null, failed: false, running: null });
  }

  /** Forgets the pending rewrite of a partition (its commit switches it in); its directory stays. */
  take(start: bigint): void {
    this.byStart.delete(start);
  }

  /** Rewrites whose job finished (successfully or not) and that no commit has decided yet. */
  finished(): { start: bigint; planIndex: number; dedup: DedupRule }[] {
    const out: { start: bigint; planIndex: number; dedup: DedupRule }[] = [];
    for (const [start, r] of this.byStart) if (r.result || r.failed) out.push({ start, planIndex: r.planIndex, dedup: r.dedup });
    return out;
  }

  /** Records the outcome of a rewrite job (kept until its commit decides). */
  done(start: bigint, planIndex: number, result: RewriteResult | null): void {
    const r = this.byStart.get(start);
    if (!r || r.planIndex !== planIndex) {
      if (result) rmSync(this.destDir(start, planIndex), { recursive: true, force: true });
      return;
    }
    if (result) r.result = result;
    else r.failed = true;
  }

  /** Throws a pending rewrite away (its commit found the partition changed, or it was superseded). */
  discard(start: bigint): void {
    const r = this.byStart.get(start);
    if (!r) return;
    this.byStart.delete(start);
    if (!r.running) rmSync(r.destDir, { recursive: true, force: true });
    else void r.running.finally(() => rmSync(r.destDir, { recursive: true, force: true }));
  }
}
