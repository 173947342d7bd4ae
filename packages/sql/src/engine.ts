import type { TsSender } from './ts_dml.js';
import { settingDef, settingKey } from './settings.js';
import { PgError, SqlState, logger } from '@strata/common';
import { KeyWriter, KeyspaceSystem, Txn } from '@strata/kv';
import type { KvSender, WriteBatch } from '@strata/kv';
import { Catalog } from './catalog/catalog.js';
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
}

function seqKey(id: number): Buffer {
  return new KeyWriter(24).byte(KeyspaceSystem).string('seq').int(id).finish();
}

/**
 * Sequences: values come from an in-memory counter; the high-water mark is written in the same
 * commit as any transaction that used a value (at its value at commit time), so after a crash
 * counting resumes past every value any committed transaction used. Like PostgreSQL, nextval is
 * not rolled back; values used only by aborted transactions may be reused after a restart.
 */
export class SequenceManager {
  private readonly last = new Map<number, bigint>();

  constructor(private readonly sender: KvSender) {}

  private load(seq: TableDesc): bigint {
    let v = this.last.get(seq.id);
    if (v === undefined) {
      const raw = this.sender.get(seqKey(seq.id), (1n << 63n) - 1n);
      v = raw ? BigInt(raw.toString()) : BigInt((seq.sequence?.start ?? 1) - (seq.sequence?.increment ?? 1));
      this.last.set(seq.id, v);
    }
    return v;
  }

  next(seq: TableDesc, txn: Txn): bigint {
    const inc = BigInt(seq.sequence?.increment ?? 1);
    const v = this.load(seq) + inc;
    if (v > 9223372036854775807n) throw new PgError(SqlState.ObjectNotInPrerequisiteState, `nextval: reached maximum value of sequence "${seq.name}"`);
    this.last.set(seq.id, v);
    this.persistAtCommit(seq.id, txn);
    return v;
  }

  set(seq: TableDesc, v: bigint, txn: Txn): bigint {
    this.load(seq);
    this.last.set(seq.id, v);
    this.persistAtCommit(seq.id, txn);
    return v;
  }

  peek(seq: TableDesc): bigint {
    return this.load(seq);
  }

  private persistAtCommit(id: number, txn: Txn): void {
    txn.onBeforeCommit(() => {
      const cur = this.last.get(id);
      if (cur !== undefined) txn.put(seqKey(id), Buffer.from(cur.toString()));
    });
  }

  forget(id: number): void {
    this.last.delete(id);
  }
}

const descKeyPrefix = new KeyWriter(8).byte(KeyspaceSystem).string('desc').finish();

/** Node-wide SQL state: catalog cache, sequences, server info. Sessions are created from it. */
export class SqlEngine {
  readonly catalog: Catalog;
  readonly sequences: SequenceManager;
  readonly server: ServerInfo;
  readonly log = logger('sql');
  private lastRowId = 0n;
  /** Incremented whenever the catalog changes (plan caches compare it). */
  catalogGeneration = 0;

  constructor(readonly opts: SqlEngineOptions) {
    this.catalog = new Catalog(opts.sender);
    this.sequences = new SequenceManager(opts.sender);
    const startedAt = Date.now() * 1000;
    this.server = {
      version: `PostgreSQL ${pgVersion} (Strata ${strataVersion}) on x86_64-pc-linux-gnu, compiled by TypeScript, 64-bit`,
      nodeId: opts.nodeId,
      startedAt,
      uniqueRowId: () => this.uniqueRowId(),
      engineSizeBytes: opts.engineSizeBytes,
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

  /** Called for every applied write batch: catalog writes invalidate the cache. */
  onApply(b: WriteBatch): void {
    for (const w of b.writes) {
      if (w.key.length >= descKeyPrefix.length && Buffer.compare(Buffer.from(w.key.subarray(0, descKeyPrefix.length)), descKeyPrefix) === 0) {
        this.catalog.invalidate();
        this.catalogGeneration++;
        return;
      }
    }
  }

  async bootstrap(): Promise<void> {
    await this.catalog.bootstrap();
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
