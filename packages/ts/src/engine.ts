/**
 * TsEngine: the time-series engine of one store. Its unit is the **entity group**: the rows of
 * one TS table that one range holds (KWDB's entity group), in `t<table>/r<range>/` — a TsTable
 * with its own tag table (entity ids local to the group), partitions, manifest (meta.json) and
 * durable index. Two ranges of one table on one store never share an index space, ids or files.
 *
 * Every method that changes data is the apply of one replicated command of range `rangeId` at
 * log index `index`, and is a pure function of the commands applied before it (same log → same
 * logical content on every replica). Nothing here looks at the clock, free disk space or worker
 * timing to decide what a command does: refusals that depend on the data (dedup `reject`, bad
 * payloads) are made by the leaseholder before proposing (checkWrite); a reorganization's rewrite
 * runs in worker threads but is switched in by its own replicated commit (commitReorganize).
 * An exception thrown by an apply method is therefore a local fault (EIO, ENOSPC): the store stops
 * the replica instead of skipping the command.
 *
 * Crash safety: the Raft log is the WAL. Each group records in its meta.json the highest applied
 * index its files hold (TsTable.durableIndex). On start the store replays the range's TS commands
 * from replayFrom(rangeId); a group skips a command at or below its durableIndex, so nothing is
 * applied twice. The store keeps the log entries a dirty group still needs (dirtyDurableIndex).
 *
 * INVARIANT: every TS command applied to a group at an index above its durableIndex either is
 *   reflected in the group's synced files or the group counts it as unflushed (dirty).
 */
import { existsSync, fsyncSync, linkSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { Piscina } from 'piscina';
import { PgError, SqlState, assert, logger } from '@strata/common';
import { ByteWriter, decodeTsAlter, decodeTsDelete, decodeTsReorganize, decodeTsReorganizeCommit, decodeTsTagUpdate, decodeTsWrite, fullSchema, reorganizeThreadsDefault, writeValue } from './command.js';
import type { FullTsSchema, TsSchema, TsValue, TsWriteGroups } from './command.js';
import { TsTable } from './table.js';
import type { BlockReads } from './table.js';
import { convertValue } from './schema.js';
import type { RewriteJob, RewriteResult } from './reorganize.js';
import { ColumnType } from './block.js';
import type { ColumnData } from './block.js';
import type { DedupRule } from './columns.js';
import type { SegmentOptions } from './segment.js';

export interface TsEngineOptions {
  rowsPerBlock?: number;
  segment?: SegmentOptions;
  /** Worker threads for rewrites (immediate_compression.threads, a node-local setting). */
  reorganizeThreads?: () => number;
  /**
   * Runs a rewrite job (default: in the engine's worker-thread pool). The cluster simulation runs
   * them in process, completing on its virtual clock, so a seed replays exactly.
   */
  runRewrite?: (job: RewriteJob) => Promise<RewriteResult>;
}

/** Where the worker entry is: next to this module when running compiled, else in dist/. */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'reorganize_worker.js');
  return join(dirname(here), '..', 'dist', 'src', 'reorganize_worker.js');
}

/** A rewrite that finished on this replica and waits for the leaseholder to propose its commit. */
export interface FinishedRewrite {
  tableId: number;
  start: bigint;
  planIndex: number;
  dedup: DedupRule;
}

const groupKey = (tableId: number, rangeId: number) => `${tableId}/${rangeId}`;

export class TsEngine {
  private readonly log = logger('ts');
  /** Entity groups by `${tableId}/${rangeId}`. */
  private readonly groups = new Map<string, { tableId: number; rangeId: number; table: TsTable }>();
  /** Worker threads for reorganization, created on first use. */
  private pool: Piscina | null = null;
  private poolThreads = 0;
  private readonly running = new Set<Promise<void>>();
  /** Partition rewrites planned / finished in a worker / failed there. */
  readonly rewriteStats = { planned: 0, finished: 0, failed: 0 };
  /** Blocks every group's scans read since the engine opened: skipped by min/max, answered by header, decoded. */
  readonly reads: BlockReads = { skipped: 0, headers: 0, decoded: 0 };
  /** Called when a rewrite job finishes on this replica (the leaseholder then proposes its commit). */
  onRewriteFinished: (rangeId: number) => void = () => {};

  private constructor(
    readonly dir: string,
    private readonly opts: TsEngineOptions,
  ) {}

  static open(dir: string, opts: TsEngineOptions = {}): TsEngine {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const e = new TsEngine(dir, opts);
    for (const d of readdirSync(dir).filter((x) => /^t\d+$/.test(x))) {
      const tableId = Number(d.slice(1));
      migrateSingleRangeLayout(join(dir, d));
      for (const r of readdirSync(join(dir, d)).filter((x) => /^r\d+$/.test(x))) {
        const schemaPath = join(dir, d, r, 'schema.json');
        if (!existsSync(schemaPath)) {
          rmSync(join(dir, d, r), { recursive: true, force: true }); // created after the last flush: replay recreates it
          continue;
        }
        const rangeId = Number(r.slice(1));
        const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as TsSchema;
        e.groups.set(groupKey(tableId, rangeId), { tableId, rangeId, table: e.openGroup(tableId, rangeId, schema) });
      }
    }
    rmSync(join(dir, 'engine.json'), { force: true }); // the store-wide index of the single-range layout
    e.log.info({ groups: e.groups.size }, 'time-series engine opened');
    return e;
  }

  private groupDir(tableId: number, rangeId: number): string {
    return join(this.dir, `t${tableId}`, `r${rangeId}`);
  }

  private openGroup(tableId: number, rangeId: number, s: TsSchema): TsTable {
    const schema = fullSchema(s);
    return TsTable.open({
      dir: this.groupDir(tableId, rangeId),
      columns: schema.columns.map((type, i) => ({ name: `c${i}`, type })),
      columnIds: schema.columnIds,
      schemaVersion: schema.version,
      partitionInterval: BigInt(Math.max(1, Math.round(schema.partitionIntervalUs))),
      rowsPerBlock: this.opts.rowsPerBlock,
      segment: this.opts.segment,
      tags: { types: schema.tags, primary: schema.primaryTags, ids: schema.tagIds },
      reads: this.reads,
    });
  }

  /**
   * The group a command at `index` applies to, created on first sight, with the command's schema
   * applied first when it is newer than the group's (TsTable.alter) and its storage settings.
   */
  private groupFor(tableId: number, rangeId: number, schema: FullTsSchema, index: number): TsTable {
    const g = this.groups.get(groupKey(tableId, rangeId));
    if (g) {
      const t = g.table;
      if (schema.version > t.layout.version && index > t.durableIndex) t.alter(schema, index - 1);
      if (this.opts.rowsPerBlock === undefined) t.setStorage(schema.storage);
      return t;
    }
    const dir = this.groupDir(tableId, rangeId);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = join(dir, 'schema.json.tmp');
    writeFileSync(tmp, JSON.stringify(schema), { mode: 0o600 });
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, join(dir, 'schema.json'));
    const t = this.openGroup(tableId, rangeId, schema);
    if (this.opts.rowsPerBlock === undefined) t.setStorage(schema.storage);
    this.groups.set(groupKey(tableId, rangeId), { tableId, rangeId, table: t });
    return t;
  }

  /** Tag values of a command (in its schema's layout) in the group's tag layout. */
  private static tagsIn(t: TsTable, values: TsValue[], schema: FullTsSchema): TsValue[] {
    const tags = t.tags;
    if (!tags) return values;
    return tags.mapValues(values, schema.tagIds, schema.tags);
  }

  /** The group of table `tableId` that range `rangeId` holds on this store, if it has rows. */
  group(tableId: number, rangeId: number): TsTable | undefined {
    return this.groups.get(groupKey(tableId, rangeId))?.table;
  }

  /** Every group of a table on this store, by range id. */
  groupsOf(tableId: number): { rangeId: number; table: TsTable }[] {
    const out: { rangeId: number; table: TsTable }[] = [];
    for (const g of this.groups.values()) if (g.tableId === tableId) out.push({ rangeId: g.rangeId, table: g.table });
    return out.sort((a, b) => a.rangeId - b.rangeId);
  }

  /** The tables a range has groups of. */
  groupsInRange(rangeId: number): number[] {
    return this.groupsIn(rangeId).map((g) => g.tableId);
  }

  /** Every group of a range, by table id. */
  private groupsIn(rangeId: number): { tableId: number; table: TsTable }[] {
    const out: { tableId: number; table: TsTable }[] = [];
    for (const g of this.groups.values()) if (g.rangeId === rangeId) out.push({ tableId: g.tableId, table: g.table });
    return out.sort((a, b) => a.tableId - b.tableId);
  }

  // ---- evaluation (the leaseholder, before proposing) -------------------------------------

  /**
   * Checks a write command against this replica's state before it is proposed: the payload must
   * decode, and under ts.dedup.rule = reject no row may repeat a device's timestamp (within the
   * command or already stored). The caller holds the range's TS write latch from here until the
   * command applies, so the answer is the one apply would give.
   */
  checkWrite(rangeId: number, payload: Buffer): void {
    const cmd = decodeTsWrite(payload);
    if (!cmd.rejectDuplicates) return;
    checkNoDuplicates(this.group(cmd.tableId, rangeId), cmd);
  }

  // ---- apply (every replica, in log order) ------------------------------------------------

  /** Applies one committed TS write at log index `index` (idempotent for replay). */
  apply(rangeId: number, index: number, payload: Buffer): void {
    const cmd = decodeTsWrite(payload);
    const t = this.groupFor(cmd.tableId, rangeId, cmd.schema, index);
    if (index <= t.durableIndex) return; // already in the group's files
    if (cmd.schema.version !== t.layout.version) {
      // Built under another schema (proposed before an ALTER applied, or replayed): map by id.
      for (const g of cmd.groups) {
        g.tags = TsEngine.tagsIn(t, g.tags, cmd.schema);
        g.columns = t.mapColumns(g, cmd.schema);
      }
    }
    const tags = t.tags;
    assert(tags !== null, 'time-series group without a tag table');
    for (const g of cmd.groups) t.appendColumns(tags.entityFor(g.tags), g.columns, g.rows, index);
  }

  /** Applies a schema change (ALTER TABLE; command.ts encodeTsAlter) at log index `index`. */
  alter(rangeId: number, index: number, payload: Buffer): void {
    const { tableId, schema } = decodeTsAlter(payload);
    this.groupFor(tableId, rangeId, schema, index);
  }

  /** Applies an UPDATE of tags (command.ts) at log index `index`; skipped when the group already holds it. */
  updateTags(rangeId: number, index: number, payload: Buffer): void {
    const u = decodeTsTagUpdate(payload);
    const t = this.group(u.tableId, rangeId);
    if (!t || !t.tags || index <= t.durableIndex) return;
    const tags = t.tags;
    // Changes by tag id, to positions in the group's tag layout (a tag dropped since is ignored).
    const changes = new Map<number, TsValue>();
    for (const [pos, v] of u.changes) {
      const at = tags.ids.indexOf(u.schema.tagIds[pos] as number);
      if (at >= 0) changes.set(at, convertValue(v, u.schema.tags[pos] as ColumnType, tags.types[at] as ColumnType));
    }
    for (const c of u.tagCombos) {
      const id = tags.lookup(TsEngine.tagsIn(t, c, u.schema));
      if (id !== undefined) tags.update(id, changes);
    }
    t.unflushedRows++; // the tag file's new length must reach meta.json
  }

  /** Applies a TS DELETE (command.ts) at log index `index`; skipped when the group already holds it. */
  delete(rangeId: number, index: number, payload: Buffer): void {
    const d = decodeTsDelete(payload);
    const t = this.group(d.tableId, rangeId);
    if (!t || !t.tags || index <= t.durableIndex) return;
    let ids: number[] | null = null;
    if (d.tagCombos) {
      ids = [];
      for (const c of d.tagCombos) {
        const id = t.tags.lookup(TsEngine.tagsIn(t, c, d.schema));
        if (id !== undefined) ids.push(id);
      }
      if (ids.length === 0) return;
    }
    const clamp = (us: number) => (us <= -(2 ** 63) ? -(2n ** 63n) : us >= 2 ** 63 ? 2n ** 63n - 1n : BigInt(Math.trunc(us)));
    t.deleteRange(ids, clamp(d.loUs), clamp(d.hiUs), index);
  }

  /**
   * Retention: drops the group's partitions that end at or before `beforeUs`. Idempotent, so a
   * replay repeats it even when the group's files already cover `index` (a crash in the middle
   * of removing a partition leaves nothing behind after the replay).
   */
  retain(rangeId: number, index: number, tableId: number, beforeUs: number): number {
    const t = this.group(tableId, rangeId);
    if (!t) return 0;
    return t.dropBefore(BigInt(Math.floor(beforeUs)), Math.max(index, t.durableIndex));
  }

  /** Deletes a table's group (an applied DROP TABLE of a time-series table; replay repeats it). */
  dropTable(rangeId: number, tableId: number): void {
    const key = groupKey(tableId, rangeId);
    const g = this.groups.get(key);
    if (g) for (const { start } of g.table.finishedRewrites()) g.table.discardRewrite(start);
    g?.table.close();
    this.groups.delete(key);
    rmSync(this.groupDir(tableId, rangeId), { recursive: true, force: true });
    const tableDir = join(this.dir, `t${tableId}`);
    if (existsSync(tableDir) && readdirSync(tableDir).length === 0) rmSync(tableDir, { recursive: true, force: true });
  }

  /**
   * Plans the reorganization of a group's partitions ending before `beforeUs` (command.ts
   * encodeTsReorganize) at log index `index`, and starts the rewrites in worker threads. Returns
   * the number of partitions planned. The rewrites change nothing until their commits apply.
   */
  reorganize(rangeId: number, index: number, payload: Buffer): number {
    const r = decodeTsReorganize(payload);
    const t = this.group(r.tableId, rangeId);
    if (!t || index <= t.durableIndex) return 0;
    if (r.storage && this.opts.rowsPerBlock === undefined) t.setStorage(r.storage);
    const jobs = t.planReorganize(BigInt(Math.floor(r.beforeUs)), index, r.dedup);
    for (const { start, job } of jobs) this.run(rangeId, t, start, index, job);
    this.rewriteStats.planned += jobs.length;
    return jobs.length;
  }

  /**
   * Applies the replicated commit of a rewrite (command.ts encodeTsReorganizeCommit) at log index
   * `index`: if the partition did not change since the plan, its rewrite is switched in — at once
   * when this replica's job has finished, else when it finishes (the returned promise: the store
   * applies nothing more of this range until it settles). A replica with no job for it (restarted
   * since the plan, or its job failed) rewrites the partition now. If the partition changed, the
   * rewrite is thrown away. Returns null when done synchronously.
   */
  commitReorganize(rangeId: number, index: number, payload: Buffer): Promise<void> | null {
    const c = decodeTsReorganizeCommit(payload);
    const t = this.group(c.tableId, rangeId);
    if (!t || index <= t.durableIndex) return null;
    if (!t.unchangedSince(c.start, c.planIndex)) {
      t.discardRewrite(c.start);
      return null;
    }
    let r = t.pendingRewrite(c.start);
    if (r && r.planIndex !== c.planIndex) {
      t.discardRewrite(c.start);
      r = undefined;
    }
    if (r?.result) {
      t.switchIn(c.start, c.planIndex, index);
      return null;
    }
    const finish = (attempt: number): Promise<void> => {
      const p = t.pendingRewrite(c.start);
      if (p?.result) {
        t.switchIn(c.start, c.planIndex, index);
        return Promise.resolve();
      }
      if (p?.running) return p.running.then(() => finish(attempt));
      // No result here: rewrite the partition again (same rows: it has not changed since the plan).
      if (attempt >= 2) return Promise.reject(new Error(`rewrite of partition ${c.start} of table ${c.tableId} failed twice on this replica`));
      t.discardRewrite(c.start);
      t.flush(Math.max(index - 1, t.durableIndex));
      this.run(rangeId, t, c.start, c.planIndex, t.planRewrite(c.start, c.planIndex, c.dedup));
      return finish(attempt + 1);
    };
    return finish(0);
  }

  /** Runs a rewrite job in the worker pool (recreated when the thread count changes). */
  private run(rangeId: number, t: TsTable, start: bigint, planIndex: number, job: RewriteJob): void {
    const pending = t.pendingRewrite(start);
    const p = (this.opts.runRewrite ?? ((j: RewriteJob) => this.runInPool(j)))(job).then(
      (r) => {
        this.rewriteStats.finished++;
        t.rewriteDone(start, planIndex, r);
      },
      (e: unknown) => {
        this.rewriteStats.failed++;
        this.log.warn({ err: e, partition: String(start) }, 'partition rewrite failed');
        t.rewriteDone(start, planIndex, null);
      },
    );
    const tracked = p.finally(() => {
      this.running.delete(tracked);
      if (pending && pending.running === tracked) pending.running = null;
      this.onRewriteFinished(rangeId);
    });
    if (pending) pending.running = tracked;
    this.running.add(tracked);
  }

  private runInPool(job: RewriteJob): Promise<RewriteResult> {
    const threads = Math.max(1, this.opts.reorganizeThreads?.() ?? reorganizeThreadsDefault);
    if (!this.pool || this.poolThreads !== threads) {
      void this.pool?.close(); // finishes its tasks, then its threads exit
      // Workers load the compiled files: drop a resolution condition that points packages at their
      // TypeScript sources (the test runner's), which plain Node cannot load in a worker.
      const execArgv = process.execArgv.filter((a, i, all) => !a.startsWith('--conditions') && !(i > 0 && all[i - 1] === '--conditions') && a !== '-C');
      this.pool = new Piscina({ filename: workerFile(), maxThreads: threads, minThreads: 0, idleTimeout: 30_000, execArgv, env: { ...process.env, NODE_OPTIONS: (process.env.NODE_OPTIONS ?? '').replace(/--conditions[= ]\S+/g, '') } });
      this.poolThreads = threads;
    }
    return this.pool.run(job) as Promise<RewriteResult>;
  }

  /** Rewrites of a range that finished here and wait for a commit (the leaseholder proposes them). */
  finishedRewrites(rangeId: number): FinishedRewrite[] {
    const out: FinishedRewrite[] = [];
    for (const { tableId, table } of this.groupsIn(rangeId)) for (const r of table.finishedRewrites()) out.push({ tableId, ...r });
    return out;
  }

  /** Whether any rewrite of the range is planned and not yet committed or discarded. */
  hasPendingRewrites(rangeId: number): boolean {
    for (const { table } of this.groupsIn(rangeId)) if (table.hasPendingRewrites()) return true;
    return false;
  }

  /** Resolves when no rewrite job is running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  // ---- durability -------------------------------------------------------------------------

  /** Rows (and other changes) applied since the last flush, in one range or all. */
  unflushedRows(rangeId?: number): number {
    let n = 0;
    for (const g of this.groups.values()) if (rangeId === undefined || g.rangeId === rangeId) n += g.table.unflushedRows;
    return n;
  }

  /** Makes everything the range applied up to `appliedIndex` durable (dirty groups only). */
  flushRange(rangeId: number, appliedIndex: number): void {
    for (const { table } of this.groupsIn(rangeId)) if (table.unflushedRows > 0) table.flush(appliedIndex);
  }

  /**
   * The lowest durable index among the range's groups that hold unflushed changes: the log must
   * keep every entry after it. Null when nothing is unflushed (the TS engine needs no entry).
   */
  dirtyDurableIndex(rangeId: number): number | null {
    let min: number | null = null;
    for (const { table } of this.groupsIn(rangeId)) if (table.unflushedRows > 0 && (min === null || table.durableIndex < min)) min = table.durableIndex;
    return min;
  }

  /**
   * Where replay of a range's TS commands starts after a restart: after the lowest durable index
   * of its groups (each group skips what it already holds). Entries the log no longer has were
   * durable in every group when it was truncated.
   */
  replayFrom(rangeId: number): number {
    let min = Infinity;
    for (const { table } of this.groupsIn(rangeId)) min = Math.min(min, table.durableIndex);
    return min === Infinity ? 0 : min + 1;
  }

  /**
   * A digest of the logical content of a range's groups: per table, every device's tag values and
   * every row in scan order (timestamp, then append order), DELETEs applied, duplicates kept.
   * Equal on replicas at equal applied index, whatever their flush timing or block layout.
   */
  checksum(rangeId: number): string {
    const h = createHash('sha256');
    const w = new ByteWriter(1 << 16);
    const drain = () => {
      h.update(w.finish());
      w.len = 0;
    };
    for (const { tableId, table } of this.groupsIn(rangeId)) {
      w.u32(tableId).u32(table.layout.version);
      const tags = table.tags;
      for (const id of table.entities()) {
        const tv = tags?.tagsOf(id) ?? [];
        w.u32(id);
        tv.forEach((v, i) => writeValue(w, (tags?.types[i] ?? ColumnType.String) as ColumnType, v));
        for (const b of table.scan([id], -(2n ** 63n), 2n ** 63n - 1n, { dedup: 'keep' })) hashColumns(w, b.columns);
        if (w.len > 1 << 20) drain();
      }
    }
    drain();
    return h.digest('hex');
  }

  // ---- snapshots (TS_BATCH) ---------------------------------------------------------------

  /**
   * The files of a range's groups as of `appliedIndex`, for a TS_BATCH snapshot: every group is
   * flushed, then each file its manifest lists (schema, manifest, tag file, segments) is
   * hard-linked under `destDir` as `t<table>/r<range>/…` with the length to send — links, so that a
   * rewrite switched in or a partition dropped while the snapshot streams cannot change them
   * (segments only grow past the listed length; manifests are replaced, never rewritten).
   */
  linkSnapshotFiles(rangeId: number, appliedIndex: number, destDir: string): { path: string; length: number }[] {
    this.flushRange(rangeId, appliedIndex);
    const out: { path: string; length: number }[] = [];
    for (const { tableId } of this.groupsIn(rangeId)) {
      const rel = join(`t${tableId}`, `r${rangeId}`);
      const src = this.groupDir(tableId, rangeId);
      const metaPath = join(src, 'meta.json');
      const files: { rel: string; length: number }[] = [];
      const add = (f: string) => files.push({ rel: f, length: statSync(join(src, f)).size });
      add('schema.json');
      if (existsSync(metaPath)) {
        const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { tagBytes?: number; tagFile?: string; partitions?: Record<string, Record<string, number>> };
        add('meta.json');
        files.push({ rel: meta.tagFile ?? 'tags.log', length: meta.tagBytes ?? 0 });
        for (const [dir, segs] of Object.entries(meta.partitions ?? {})) for (const [seg, len] of Object.entries(segs)) files.push({ rel: join(dir, seg), length: len });
      }
      for (const f of files) {
        const dest = join(destDir, rel, f.rel);
        mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
        if (existsSync(join(src, f.rel))) linkSync(join(src, f.rel), dest);
        else writeFileSync(dest, Buffer.alloc(0), { mode: 0o600 });
        out.push({ path: join(rel, f.rel), length: f.length });
      }
    }
    return out;
  }

  /** Removes every group of a range (its replica is replaced by a snapshot, or destroyed). */
  dropRange(rangeId: number): void {
    for (const tableId of this.groupsInRange(rangeId)) this.dropTable(rangeId, tableId);
  }

  /**
   * Installs a range's groups received in a snapshot: `stagedRoot` holds `t<table>/r<range>/…`
   * (files synced by the caller); they replace the range's groups here.
   */
  installGroups(rangeId: number, stagedRoot: string): void {
    this.dropRange(rangeId);
    if (!existsSync(stagedRoot)) return;
    for (const t of readdirSync(stagedRoot).filter((x) => /^t\d+$/.test(x))) {
      const from = join(stagedRoot, t, `r${rangeId}`);
      if (!existsSync(from)) continue;
      const tableId = Number(t.slice(1));
      mkdirSync(join(this.dir, t), { recursive: true, mode: 0o700 });
      const to = this.groupDir(tableId, rangeId);
      rmSync(to, { recursive: true, force: true });
      renameSync(from, to);
      const schema = JSON.parse(readFileSync(join(to, 'schema.json'), 'utf8')) as TsSchema;
      this.groups.set(groupKey(tableId, rangeId), { tableId, rangeId, table: this.openGroup(tableId, rangeId, schema) });
    }
  }

  diskBytes(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.table.diskBytes();
    return n;
  }

  close(): void {
    for (const g of this.groups.values()) g.table.close();
    this.groups.clear();
    void this.pool?.destroy();
    this.pool = null;
  }
}

function hashColumns(w: ByteWriter, cols: ColumnData[]): void {
  const n = cols[0]?.values.length ?? 0;
  w.u32(n);
  for (const c of cols) {
    for (let i = 0; i < n; i++) {
      const isNull = c.nulls !== null && c.nulls[i] === 1;
      w.u8(isNull ? 1 : 0);
      if (isNull) continue;
      const v = c.values[i];
      if (typeof v === 'bigint') w.i64(v);
      else if (typeof v === 'number') w.f64(v);
      else {
        const b = Buffer.from(String(v), 'utf8');
        w.u32(b.length).bytes(b);
      }
    }
  }
}

/**
 * The single-range layout (`t<table>/` holding one table's files, with a store-wide flushed
 * index in engine.json) becomes range 1's entity group: single-node stores had one range.
 */
function migrateSingleRangeLayout(tableDir: string): void {
  if (!existsSync(join(tableDir, 'schema.json'))) return;
  const dest = join(tableDir, 'r1');
  mkdirSync(dest, { recursive: true, mode: 0o700 });
  for (const f of readdirSync(tableDir)) if (!/^r\d+$/.test(f)) renameSync(join(tableDir, f), join(dest, f));
}

/**
 * ts.dedup.rule = reject: fails the whole command (before anything is applied) if a row repeats
 * a timestamp of its device — within the command or already stored in the group.
 */
function checkNoDuplicates(t: TsTable | undefined, cmd: TsWriteGroups): void {
  for (const g of cmd.groups) {
    const seen = new Set<bigint>();
    let lo: bigint | null = null;
    let hi: bigint | null = null;
    for (const ts of (g.columns[0] as ColumnData).values as BigInt64Array) {
      if (seen.has(ts)) throw duplicate(ts);
      seen.add(ts);
      if (lo === null || ts < lo) lo = ts;
      if (hi === null || ts > hi) hi = ts;
    }
    if (!t?.tags || lo === null || hi === null) continue;
    const tags = cmd.schema.version === t.layout.version ? g.tags : t.tags.mapValues(g.tags, cmd.schema.tagIds, cmd.schema.tags);
    const id = t.tags.lookup(tags);
    if (id === undefined) continue;
    for (const b of t.scan([id], lo, hi, { columns: new Set([0]) })) {
      for (const ts of b.columns[0]?.values as BigInt64Array) if (seen.has(ts)) throw duplicate(ts);
    }
  }
}

function duplicate(tsUs: bigint): PgError {
  return new PgError(SqlState.UniqueViolation, `duplicate timestamp ${new Date(Number(tsUs / 1000n)).toISOString()} for a device: rejected by ts.dedup.rule = reject`, {
    detail: 'No row of this statement was written.',
  });
}
