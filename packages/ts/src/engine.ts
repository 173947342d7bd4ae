/**
 * TsEngine: the time-series engine of one store — every TS table's TsTable (with its tag table),
 * fed by applied TS write commands (command.ts) and flushed together.
 *
 * Crash safety: the Raft log is the WAL. Each table records the highest applied index its files
 * hold (TsTable.durableIndex); after a flush of every table the engine records the applied index
 * they all cover in `engine.json` (`flushedIndex`). On start the store replays the log's TS
 * commands after `flushedIndex`; apply() skips a command a table already holds (index at or below
 * its durableIndex), so nothing is applied twice. The store keeps log entries after
 * `flushedIndex` (log truncation takes the minimum of the KV and TS durable indexes).
 *
 * INVARIANT: flushedIndex <= every table's durableIndex, or the table had no command after it.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { PgError, SqlState, logger } from '@strata/common';
import { decodeTsAlter, decodeTsDelete, decodeTsReorganize, decodeTsTagUpdate, decodeTsWrite, fullSchema } from './command.js';
import type { FullTsSchema, TsSchema, TsValue, TsWriteGroups } from './command.js';
import { TsTable } from './table.js';
import type { BlockReads } from './table.js';
import { convertValue } from './schema.js';
import type { RewriteJob, RewriteResult } from './reorganize.js';
import type { ColumnData, ColumnType } from './block.js';
import type { SegmentOptions } from './segment.js';

export interface TsEngineOptions {
  rowsPerBlock?: number;
  segment?: SegmentOptions;
}

/** Where the worker entry is: next to this module when running compiled, else in dist/. */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'reorganize_worker.js');
  return join(dirname(here), '..', 'dist', 'src', 'reorganize_worker.js');
}

export class TsEngine {
  private readonly log = logger('ts');
  private readonly tables = new Map<number, TsTable>();
  flushedIndex = 0;
  /** Worker threads for reorganization (immediate_compression.threads), created on first use. */
  private pool: Piscina | null = null;
  private poolThreads = 0;
  private readonly running = new Set<Promise<void>>();
  /** Partitions rewritten / rewrites thrown away (a write or DELETE came in meanwhile) / failed. */
  readonly rewriteStats = { planned: 0, finished: 0, failed: 0 };
  /** Blocks every table's scans read since the engine opened: skipped by min/max, answered by header, decoded. */
  readonly reads: BlockReads = { skipped: 0, headers: 0, decoded: 0 };

  private constructor(
    readonly dir: string,
    private readonly opts: TsEngineOptions,
  ) {}

  static open(dir: string, opts: TsEngineOptions = {}): TsEngine {
    mkdirSync(dir, { recursive: true });
    const e = new TsEngine(dir, opts);
    const metaPath = join(dir, 'engine.json');
    if (existsSync(metaPath)) e.flushedIndex = (JSON.parse(readFileSync(metaPath, 'utf8')) as { flushedIndex: number }).flushedIndex;
    for (const d of readdirSync(dir).filter((x) => /^t\d+$/.test(x))) {
      const schemaPath = join(dir, d, 'schema.json');
      if (!existsSync(schemaPath)) continue;
      const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as TsSchema;
      e.tables.set(Number(d.slice(1)), e.openTable(Number(d.slice(1)), schema));
    }
    e.log.info({ tables: e.tables.size, flushedIndex: e.flushedIndex }, 'time-series engine opened');
    return e;
  }

  private openTable(id: number, s: TsSchema): TsTable {
    const schema = fullSchema(s);
    return TsTable.open({
      dir: join(this.dir, `t${id}`),
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
   * The table a command at `index` applies to, created on first sight, with the command's schema
   * applied first when it is newer than the table's (TsTable.alter) and its storage settings.
   */
  private tableFor(id: number, schema: FullTsSchema, index: number): TsTable {
    let t = this.tables.get(id);
    if (t) {
      if (schema.version > t.layout.version && index > t.durableIndex) t.alter(schema, index - 1);
      if (this.opts.rowsPerBlock === undefined) t.setStorage(schema.storage);
      return t;
    }
    const dir = join(this.dir, `t${id}`);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, 'schema.json.tmp');
    writeFileSync(tmp, JSON.stringify(schema));
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, join(dir, 'schema.json'));
    t = this.openTable(id, schema);
    if (this.opts.rowsPerBlock === undefined) t.setStorage(schema.storage);
    this.tables.set(id, t);
    return t;
  }

  /** Tag values of a command (in its schema's layout) in the table's tag layout. */
  private static tagsIn(t: TsTable, values: TsValue[], schema: FullTsSchema): TsValue[] {
    const tags = t.tags;
    if (!tags) return values;
    return tags.mapValues(values, schema.tagIds, schema.tags);
  }

  table(id: number): TsTable | undefined {
    return this.tables.get(id);
  }

  /** Applies one committed TS write at log index `index` (idempotent for replay). */
  apply(index: number, payload: Buffer): void {
    const cmd = decodeTsWrite(payload);
    const t = this.tableFor(cmd.tableId, cmd.schema, index);
    if (index <= t.durableIndex) return; // already in the table's files
    if (cmd.schema.version !== t.layout.version) {
      // Built under another schema (proposed before an ALTER applied, or replayed): map by id.
      for (const g of cmd.groups) {
        g.tags = TsEngine.tagsIn(t, g.tags, cmd.schema);
        g.columns = t.mapColumns(g, cmd.schema);
      }
    }
    applyRows(t, cmd);
  }

  /** Applies a schema change (ALTER TABLE; command.ts encodeTsAlter) at log index `index`. */
  alter(index: number, payload: Buffer): void {
    const { tableId, schema } = decodeTsAlter(payload);
    this.tableFor(tableId, schema, index);
  }

  /** Rows appended since the last flush, over all tables. */
  unflushedRows(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.unflushedRows;
    return n;
  }

  /** Makes everything applied up to `appliedIndex` durable and records it. */
  flush(appliedIndex: number): void {
    for (const t of this.tables.values()) if (t.unflushedRows > 0 || t.hasFinishedRewrites()) t.flush(appliedIndex);
    if (appliedIndex <= this.flushedIndex) return;
    const tmp = join(this.dir, 'engine.json.tmp');
    const fd = openSync(tmp, 'w');
    writeSync(fd, JSON.stringify({ flushedIndex: appliedIndex }));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, join(this.dir, 'engine.json'));
    this.flushedIndex = appliedIndex;
  }

  /**
   * Reorganization of a table's partitions ending before `beforeUs` (TsTable.planReorganize;
   * payload: command.ts encodeTsReorganize).
   *
   * The rewrites run in worker threads; this returns once they are planned (the number of
   * partitions). Each is switched in by the flush after it finishes (idle() waits for them).
   */
  reorganize(index: number, payload: Buffer): number {
    const r = decodeTsReorganize(payload);
    const t = this.tables.get(r.tableId);
    if (!t || index <= t.durableIndex) return 0;
    if (r.storage && this.opts.rowsPerBlock === undefined) t.setStorage(r.storage);
    const jobs = t.planReorganize(BigInt(Math.floor(r.beforeUs)), index, r.dedup);
    for (const { start, job } of jobs) this.run(t, start, job, r.threads);
    this.rewriteStats.planned += jobs.length;
    return jobs.length;
  }

  /** Runs a rewrite job in the worker pool (recreated when the thread count setting changes). */
  private run(t: TsTable, start: bigint, job: RewriteJob, threads: number): void {
    if (!this.pool || this.poolThreads !== threads) {
      void this.pool?.close(); // finishes its tasks, then its threads exit
      this.pool = new Piscina({ filename: workerFile(), maxThreads: threads, minThreads: 0, idleTimeout: 30_000 });
      this.poolThreads = threads;
    }
    const p = (this.pool.run(job) as Promise<RewriteResult>).then(
      (r) => {
        this.rewriteStats.finished++;
        t.rewriteDone(start, r);
      },
      (e: unknown) => {
        this.rewriteStats.failed++;
        this.log.warn({ err: e, partition: String(start) }, 'partition rewrite failed; the next pass retries');
        t.rewriteDone(start, null);
      },
    );
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /** Resolves when no rewrite is running (their results are switched in by the next flush). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Whether a finished rewrite waits for flush() to switch it in. */
  hasFinishedRewrites(): boolean {
    for (const t of this.tables.values()) if (t.hasFinishedRewrites()) return true;
    return false;
  }

  /** Applies an UPDATE of tags (command.ts) at log index `index`; skipped when the table already holds it. */
  updateTags(index: number, payload: Buffer): void {
    const u = decodeTsTagUpdate(payload);
    const t = this.tables.get(u.tableId);
    if (!t || !t.tags || index <= t.durableIndex) return;
    const tags = t.tags;
    // Changes by tag id, to positions in the table's tag layout (a tag dropped since is ignored).
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

  /** Applies a TS DELETE (command.ts) at log index `index`; skipped when the table already holds it. */
  delete(index: number, payload: Buffer): void {
    const d = decodeTsDelete(payload);
    const t = this.tables.get(d.tableId);
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
    t.deleteRange(ids, clamp(d.loUs), clamp(d.hiUs));
  }

  /**
   * Retention: drops the table's partitions that end at or before `beforeUs`. Idempotent, so a
   * replay repeats it even when the table's files already cover `index` (a crash in the middle
   * of removing a partition leaves nothing behind after the replay).
   */
  retain(index: number, id: number, beforeUs: number): number {
    const t = this.tables.get(id);
    if (!t) return 0;
    return t.dropBefore(BigInt(Math.floor(beforeUs)), Math.max(index, t.durableIndex));
  }

  /** Deletes a table's data (an applied DROP TABLE of a time-series table; replay repeats it). */
  dropTable(id: number): void {
    const t = this.tables.get(id);
    t?.close();
    this.tables.delete(id);
    rmSync(join(this.dir, `t${id}`), { recursive: true, force: true });
  }

  diskBytes(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.diskBytes();
    return n;
  }

  close(): void {
    for (const t of this.tables.values()) t.close();
    this.tables.clear();
    void this.pool?.destroy();
    this.pool = null;
  }
}

/** Appends each group's rows to its entity (created on first sight). */
function applyRows(t: TsTable, cmd: TsWriteGroups): void {
  const tags = t.tags;
  if (!tags) throw new Error('time-series table without a tag table');
  if (cmd.rejectDuplicates) checkNoDuplicates(t, cmd);
  for (const g of cmd.groups) t.appendColumns(tags.entityFor(g.tags), g.columns, g.rows);
}

/**
 * ts.dedup.rule = reject: fails the whole command (before anything is applied) if a row repeats
 * a timestamp of its device — within the command or already stored. Deterministic, so every
 * replica (and a replay) rejects the same commands.
 */
function checkNoDuplicates(t: TsTable, cmd: TsWriteGroups): void {
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
    const id = t.tags?.lookup(g.tags);
    if (id === undefined || lo === null || hi === null) continue;
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
