/**
 * Node liveness (CockroachDB's, without epoch-based leases: Strata's leases are leader leases).
 * Every node keeps a record at /Nodes/liveness/<nodeId> (in the liveness range) — epoch, expiration, membership —
 * renewed by a heartbeat transaction every livenessHeartbeatMs to now + livenessExpiryMs (its
 * own clock); an expired record's next heartbeat starts a new epoch (the node restarted or was
 * cut off). With each heartbeat the node also reads every record and every zone configuration
 * (a range's replication factor: replicationFactor), and answers the store's ClusterView from that snapshot:
 *   live     — the record has not expired;
 *   dead     — it expired more than server.time_until_store_dead ago;
 *   targets  — live and `active`;
 *   leaving  — dead, or `decommissioning`/`decommissioned`.
 *
 * INVARIANT: only the node itself moves its expiration forward; membership changes (decommission)
 *   go through the same transactional read-modify-write, so neither overwrites the other (a
 *   conflict fails one with 40001 and it tries again at its next round).
 */
import { logger } from '@strata/common';
import type { Logger, TimerHandle, Timers } from '@strata/common';
import type { KvTxn } from '@strata/kvclient';
import type { ClusterView } from '@strata/store';
import { livenessExpiryMs, livenessHeartbeatMs, replicationFactorDefault, timeUntilStoreDeadMsDefault } from './constants.js';
import { decodeZoneConfig, livenessKey, secondsSettingMs, spanOf, timeUntilStoreDeadSettingKey, zoneOfKey, zoneSpan } from './keys.js';
import type { ZoneConfig } from './keys.js';

export type Membership = 'active' | 'decommissioning' | 'decommissioned';

export interface LivenessRecord {
  nodeId: number;
  epoch: number;
  /** Wall-clock milliseconds (the heartbeating node's clock) when the record expires. */
  expirationMs: number;
  membership: Membership;
}

export function encodeLiveness(r: LivenessRecord): Buffer {
  return Buffer.from(JSON.stringify(r));
}

export function decodeLiveness(b: Buffer | null): LivenessRecord | null {
  return b ? (JSON.parse(b.toString()) as LivenessRecord) : null;
}

export interface NodeLivenessOptions {
  nodeId: number;
  /** A new KV transaction through the cluster (a DistSender-backed KvTxn). */
  txn: () => KvTxn;
  timers: Timers;
  /** server.time_until_store_dead in milliseconds (a cluster setting; read on every use). */
  timeUntilStoreDeadMs?: () => number;
  /** Writes done in the heartbeat transaction too (the node registry entry). */
  onHeartbeat?: (t: KvTxn) => void | Promise<void>;
  heartbeatMs?: number;
  expiryMs?: number;
  /** Keep a non-voting replica of every range on every other node (ClusterView.nonVotersEverywhere). */
  nonVotersEverywhere?: boolean;
  /**
   * The zones that apply to a range, most specific first (e.g. `table/57`, `database/52`); the
   * default zone comes after them. Absent: every range follows the default zone.
   */
  zonesOf?: (rangeId: number) => string[];
}

export class NodeLiveness implements ClusterView {
  private readonly log: Logger;
  private records = new Map<number, LivenessRecord>();
  /** Zone configurations by zone name (keys.ts), as last read. */
  private zones = new Map<string, ZoneConfig>();
  /** server.time_until_store_dead as last read (null: unset, the default applies). */
  private deadSettingMs: number | null = null;
  private timer: TimerHandle | null = null;
  private stopped = false;
  /** Heartbeats that committed, and those that failed (metrics). */
  readonly stats = { heartbeats: 0, failures: 0 };

  constructor(private readonly o: NodeLivenessOptions) {
    this.log = logger('liveness').child({ n: o.nodeId });
  }

  private get heartbeatMs(): number {
    return this.o.heartbeatMs ?? livenessHeartbeatMs;
  }

  /** Heartbeats now and then every heartbeatMs until stop(). */
  start(): void {
    const loop = () => {
      if (this.stopped) return;
      void this.round().finally(() => {
        if (!this.stopped) this.timer = this.o.timers.setTimeout(loop, this.heartbeatMs);
      });
    };
    loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.o.timers.clearTimeout(this.timer);
  }

  /** One heartbeat and one refresh of the view; failures are logged (the next round retries). */
  async round(): Promise<void> {
    try {
      await this.heartbeat();
      this.stats.heartbeats++;
    } catch (e) {
      this.stats.failures++;
      this.log.debug({ err: e }, 'liveness heartbeat failed');
    }
    try {
      await this.refresh();
    } catch (e) {
      this.log.debug({ err: e }, 'reading liveness records failed');
    }
  }

  async heartbeat(): Promise<LivenessRecord> {
    const t = this.o.txn();
    const key = livenessKey(this.o.nodeId);
    try {
      const prev = decodeLiveness(await t.get(key));
      const now = this.o.timers.now();
      const rec: LivenessRecord = {
        nodeId: this.o.nodeId,
        epoch: !prev ? 1 : prev.expirationMs < now ? prev.epoch + 1 : prev.epoch,
        expirationMs: now + (this.o.expiryMs ?? livenessExpiryMs),
        membership: prev?.membership ?? 'active',
      };
      t.put(key, encodeLiveness(rec));
      await this.o.onHeartbeat?.(t);
      await t.commit();
      this.records.set(rec.nodeId, rec);
      return rec;
    } catch (e) {
      await t.rollback();
      throw e;
    }
  }

  /** Reads every liveness record and every zone configuration. */
  async refresh(): Promise<void> {
    const t = this.o.txn();
    const [start, end] = spanOf('liveness');
    const rows = await t.scan(start, end);
    const zones = await t.scan(...zoneSpan());
    const dead = await t.get(timeUntilStoreDeadSettingKey);
    await t.commit();
    const next = new Map<number, LivenessRecord>();
    for (const r of rows) {
      const rec = decodeLiveness(r.value);
      if (rec) next.set(rec.nodeId, rec);
    }
    this.records = next;
    const nextZones = new Map<string, ZoneConfig>();
    for (const z of zones) {
      const name = zoneOfKey(z.key);
      if (name !== null) nextZones.set(name, decodeZoneConfig(z.value));
    }
    this.zones = nextZones;
    this.deadSettingMs = secondsSettingMs(dead);
  }

  /** Sets a node's membership (decommission: 'decommissioning', then 'decommissioned'). */
  async setMembership(nodeId: number, membership: Membership): Promise<void> {
    const t = this.o.txn();
    try {
      const prev = decodeLiveness(await t.get(livenessKey(nodeId)));
      if (!prev) throw new Error(`node ${nodeId} has no liveness record`);
      t.put(livenessKey(nodeId), encodeLiveness({ ...prev, membership }));
      await t.commit();
      this.records.set(nodeId, { ...prev, membership });
    } catch (e) {
      await t.rollback();
      throw e;
    }
  }

  /** The records as of the last refresh. */
  snapshot(): LivenessRecord[] {
    return [...this.records.values()].sort((a, b) => a.nodeId - b.nodeId);
  }

  isLive(nodeId: number): boolean {
    const r = this.records.get(nodeId);
    return !!r && r.expirationMs > this.o.timers.now();
  }

  // ---- ClusterView ---------------------------------------------------------------------------

  targets(): number[] {
    const now = this.o.timers.now();
    return this.snapshot()
      .filter((r) => r.expirationMs > now && r.membership === 'active')
      .map((r) => r.nodeId);
  }

  leaving(): Set<number> {
    const now = this.o.timers.now();
    const dead = this.o.timeUntilStoreDeadMs?.() ?? this.deadSettingMs ?? timeUntilStoreDeadMsDefault;
    return new Set(this.snapshot().filter((r) => r.membership !== 'active' || r.expirationMs + dead < now).map((r) => r.nodeId));
  }

  /** Voters a range should have: num_replicas of the most specific zone that sets it (the default zone's without a range). */
  replicationFactor(rangeId?: number): number {
    const chain = rangeId === undefined ? [] : (this.o.zonesOf?.(rangeId) ?? []);
    for (const z of [...chain, 'default']) {
      const n = this.zones.get(z)?.num_replicas;
      if (n !== undefined) return n;
    }
    return replicationFactorDefault;
  }

  nonVotersEverywhere(): boolean {
    return this.o.nonVotersEverywhere ?? false;
  }
}
