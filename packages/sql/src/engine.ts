import { dedupRuleOf } from './ts_dml.js';
import { NotificationHub } from './notify.js';
import { BackendRegistry } from './backends.js';
import type { Notification } from './notify.js';
import type { TsSender } from './ts_dml.js';
import { encodeTsReorganize } from '@strata/ts';
import { settingDef, settingKey, tsStorageOf } from './settings.js';
import { getHeapStatistics } from 'node:v8';
import { totalmem } from 'node:os';
import { logger } from '@strata/common';
import { MemoryPool } from './exec/memory.js';
import { resetTempDir } from './exec/spill.js';
import { maxSqlMemoryHeapFraction, workMemMaxBytes, workMemMinBytes, workMemShareOfNode } from './constants.js';
import { KeyWriter, KeyspaceSystem, Txn } from '@strata/kv';
import type { KvSender, WriteBatch } from '@strata/kv';
import { Catalog } from './catalog/catalog.js';
import { SequenceManager } from './sequences.js';
import type { RangeInfo } from './show_ranges.js';
import { AuthStore } from './auth/store.js';
import type { ServerInfo } from './exec/context.js';
import type { TableDesc } from './catalog/descriptors.js';

export const pgVersion = '15.4';
export const strataVersion = '0.1.0';

export interface SqlEngineOptions {
  sender: KvSender;
  nodeId: number;
  engineSizeBytes: () => number;
  /** The store's time-series engine; without it time-series tables cannot hold rows. */
  ts?: TsSender;
  /**
   * The node's SQL memory budget in bytes (--max-sql-memory); default: half the V8 heap limit,
   * at most a quarter of the machine's memory.
   */
  maxSqlMemoryBytes?: number;
  /**
   * Whether this node holds the lease of the range holding table `tableId`'s data: background
   * jobs (retention, reorganization) run for a table only there, so a cluster runs each once.
   * Absent (single node): always.
   */
  holdsLeaseFor?: (tableId: number) => boolean;
  /** The ranges this node has replicas of (SHOW RANGES); none listed without it. */
  ranges?: () => RangeInfo[];
  /** Where statements spill (<store>/tmp); emptied at start. Without it, over-budget sorts and aggregations fail with 53200. */
  tempDir?: string;
}

/** The node's SQL memory budget when none is given (maxSqlMemoryHeapFraction of the V8 heap, ≤ 25% of RAM). */
export function defaultMaxSqlMemoryBytes(): number {
  return Math.floor(Math.min(getHeapStatistics().heap_size_limit * maxSqlMemoryHeapFraction, totalmem() / 4));
}

/** How often the background retention pass runs (KWDB's auto vacuum runs periodically too). */
export const tsRetentionIntervalMs = 60_000;

const descKeyPrefix = new KeyWriter(8).byte(KeyspaceSystem).string('desc').finish();

/** Node-wide SQL state: catalog cache, sequences, server info. Sessions are created from it. */
export class SqlEngine {
  readonly catalog: Catalog;
  /** Users, roles, memberships and ACLs (auth/store.ts). */
  readonly auth: AuthStore;
  readonly sequences: SequenceManager;
  readonly server: ServerInfo;
  /** This node's sessions by pid (pg_cancel_backend, pg_terminate_backend; backends.ts). */
  readonly backends = new BackendRegistry();
  readonly log = logger('sql');
  private lastRowId = 0n;
  /** Incremented whenever the catalog changes (plan caches compare it). */
  catalogGeneration = 0;
  /** Every statement's memory together (--max-sql-memory). */
  readonly memory: MemoryPool;
  /** A new session's work_mem: the node's budget / workMemShareOfNode, clamped. */
  readonly defaultWorkMemBytes: number;
  /** LISTEN/NOTIFY between this node's sessions (notify.ts). */
  readonly notifications = new NotificationHub();
  /**
   * Sends a committed transaction's notifications to the cluster's other nodes (set by a cluster
   * node; null on a single node): called after they were delivered here.
   */
  broadcastNotifications: ((notes: Notification[]) => void) | null = null;

  constructor(readonly opts: SqlEngineOptions) {
    this.memory = new MemoryPool(opts.maxSqlMemoryBytes ?? defaultMaxSqlMemoryBytes());
    const share = Math.floor(this.memory.limitBytes / workMemShareOfNode / (1024 * 1024)) * 1024 * 1024;
    this.defaultWorkMemBytes = Math.min(workMemMaxBytes, Math.max(workMemMinBytes, share));
    if (opts.tempDir) resetTempDir(opts.tempDir);
    this.catalog = new Catalog(opts.sender);
    this.auth = new AuthStore(opts.sender);
    this.auth.tempObjectIds = (txn) => this.catalog.tempObjectIds(txn);
    this.sequences = new SequenceManager(opts.sender);
    const startedAt = Date.now() * 1000;
    this.server = {
      version: `PostgreSQL ${pgVersion} (Strata ${strataVersion}) on x86_64-pc-linux-gnu, compiled by TypeScript, 64-bit`,
      nodeId: opts.nodeId,
      startedAt,
      uniqueRowId: () => this.uniqueRowId(),
      engineSizeBytes: opts.engineSizeBytes,
      backends: this.backends,
    };
  }

  /**
   * A cluster setting's value (its default when unset), read through `txn` so it is exactly what
   * that transaction sees (a point read; not cached — settings are read once per statement).
   */
  clusterSetting(name: string, txn: Txn): string {
    const d = settingDef(name);
    return txn.get(settingKey(d.name))?.toString() ?? d.default;
  }

  private retentionTimer: NodeJS.Timeout | null = null;

  /** Periodic jobs: time-series retention every tsRetentionIntervalMs. */
  startBackgroundJobs(): void {
    this.retentionTimer = setInterval(() => {
      this.runRetention().catch((e: unknown) => this.log.warn({ err: e }, 'time-series retention pass failed; will retry'));
    }, tsRetentionIntervalMs);
    this.retentionTimer.unref();
  }

  stopBackgroundJobs(): void {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.retentionTimer = null;
  }

  /**
   * Time-series retention: for every TS table with RETENTIONS (its own, else its database's),
   * proposes dropping the partitions that end before now − retention. Whole partitions go, so
   * rows up to one PARTITION INTERVAL older than the limit may stay until their partition
   * expires (as in KWDB). Returns the number of tables visited.
   */
  async runRetention(): Promise<number> {
    const ts = this.opts.ts;
    if (!ts) return 0;
    const txn = await Txn.begin(this.opts.sender);
    let n = 0;
    try {
      const view = this.catalog.view(txn);
      const dbs = new Map([...view.databases.values()].map((d) => [d.id, d]));
      const nowUs = Date.now() * 1000;
      const mine = (t: TableDesc) => this.opts.holdsLeaseFor?.(t.id) ?? true;
      for (const t of view.allTables()) {
        if (t.kind !== 'ts' || !t.ts || !mine(t)) continue;
        const seconds = t.ts.retentionSeconds || dbs.get(t.parentId)?.ts?.retentionSeconds || 0;
        if (seconds <= 0) continue;
        await ts.proposeTsRetain(t.id, nowUs - seconds * 1_000_000);
        n++;
      }
      if (this.clusterSetting('ts.auto_vacuum.enabled', txn) === 'true') await this.reorganize(view.allTables().filter((t) => t.kind === 'ts' && mine(t)), txn);
    } finally {
      txn.rollback();
    }
    return n;
  }

  /**
   * Reorganizes (sorts, resolves duplicates, drops deleted rows, packs full compressed blocks) the
   * partitions of these TS tables that ended more than ACTIVETIME ago and changed since their last
   * rewrite — the compression of inactive data. Returns the tables asked.
   */
  async reorganize(tables: TableDesc[], txn: Txn): Promise<number> {
    const ts = this.opts.ts;
    if (!ts) return 0;
    const dedup = dedupRuleOf(this.clusterSetting('ts.dedup.rule', txn));
    const nowUs = Date.now() * 1000;
    const storage = tsStorageOf((name) => this.clusterSetting(name, txn));
    const threads = Number(this.clusterSetting('immediate_compression.threads', txn));
    let n = 0;
    for (const t of tables) {
      if (t.kind !== 'ts' || !t.ts) continue;
      await ts.proposeTsReorganize(t.id, encodeTsReorganize({ tableId: t.id, beforeUs: nowUs - t.ts.activeTimeSeconds * 1_000_000, dedup, storage, threads }));
      n++;
    }
    return n;
  }

  /** Called for every applied write batch: catalog writes invalidate the cache. */
  onApply(b: WriteBatch): void {
    for (const w of b.writes) if (this.auth.touches(w.key)) this.auth.invalidate();
    for (const w of b.writes) {
      if (w.key.length >= descKeyPrefix.length && Buffer.compare(Buffer.from(w.key.subarray(0, descKeyPrefix.length)), descKeyPrefix) === 0) {
        this.catalog.invalidate();
        this.catalogGeneration++;
        return;
      }
    }
  }

  /** A snapshot replaced replicated data wholesale: every cache of it goes (Store.onSnapshotApplied). */
  onDataReplaced(): void {
    this.auth.invalidate();
    this.catalog.invalidate();
    this.catalogGeneration++;
  }

  async bootstrap(): Promise<void> {
    await this.catalog.bootstrap();
    await this.auth.bootstrap();
    this.catalogGeneration++;
  }

  /** CockroachDB's unique_rowid(): time in 10 µs units, shifted, plus the node id; monotonic. */
  uniqueRowId(): bigint {
    let v = (BigInt(Date.now()) * 100n) << 15n;
    v |= BigInt(this.opts.nodeId & 0x7fff);
    if (v <= this.lastRowId) v = this.lastRowId + (1n << 15n);
    this.lastRowId = v;
    return v;
  }
}
