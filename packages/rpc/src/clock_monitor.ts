/**
 * The remote clock monitor (CockroachDB's RemoteClockMonitor). Leases and uncertainty intervals
 * assume no two clocks differ by more than the maximum offset (500 ms); nothing else checks it.
 * Each node pings its peers every pingIntervalMs and estimates each peer's clock offset from the
 * round trip (Cristian's algorithm):
 *
 *   offset      = remote − (sent + received) / 2     (positive: the peer's clock is ahead)
 *   uncertainty = (received − sent) / 2              (the true offset is within offset ± this)
 *
 * keeping the latest measurement per peer (for clockOffsetTtlMs). A peer is out of tolerance when
 * its offset is certainly beyond clockOffsetToleranceFraction × maxOffset in either direction
 * (|offset| − uncertainty > tolerance). When a strict majority of the peers measured are out of
 * tolerance, the problem is this node's clock (one bad peer among good ones is that peer's
 * problem, and it stops itself): check() reports fatal and the caller stops the node — before
 * the real bound can be crossed and a stale read served.
 *
 * ClockOffsets is the pure part (measurements in, verdict out; unit-tested with made-up clocks);
 * RemoteClockMonitor adds the pings.
 */
import * as grpc from '@grpc/grpc-js';
import { logger, realTimers } from '@strata/common';
import type { HybridClock, TimerHandle, Timers } from '@strata/common';
import { decodePingResponse, encodePingRequest } from './codec/node.js';
import { clockOffsetTtlMs, clockOffsetToleranceFraction, pingIntervalMs, pingTimeoutMs } from './constants.js';
import { isNotConnected } from './connections.js';
import type { Connections } from './connections.js';
import type { RpcObserver } from './dialer.js';
import { Services, rpcMethod } from './proto.js';

export interface OffsetMeasurement {
  offsetMs: number;
  uncertaintyMs: number;
  /** When it was taken (this node's wall clock, ms since the epoch). */
  measuredAtMs: number;
}

/** The offset of a remote clock from one round trip (see the file comment). */
export function estimateOffset(sentMs: number, receivedMs: number, remoteMs: number): { offsetMs: number; uncertaintyMs: number } {
  return { offsetMs: remoteMs - (sentMs + receivedMs) / 2, uncertaintyMs: Math.max(0, (receivedMs - sentMs) / 2) };
}

export interface ClockCheck {
  /** This node's clock is out of tolerance with a majority of the peers measured: stop the node. */
  fatal: boolean;
  /** Peers with a current measurement. */
  measured: number;
  /** Those certainly beyond the tolerance. */
  outOfTolerance: { nodeId: number; offsetMs: number; uncertaintyMs: number }[];
  toleranceMs: number;
  /** A sentence for the log. */
  message: string;
}

/** The measurements and the verdict, without I/O. */
export class ClockOffsets {
  private readonly latest = new Map<number, OffsetMeasurement>();
  readonly toleranceMs: number;

  constructor(
    readonly maxOffsetMs: number,
    readonly ttlMs: number = clockOffsetTtlMs,
    toleranceFraction: number = clockOffsetToleranceFraction,
  ) {
    this.toleranceMs = maxOffsetMs * toleranceFraction;
  }

  record(nodeId: number, m: OffsetMeasurement): void {
    const prev = this.latest.get(nodeId);
    if (!prev || prev.measuredAtMs <= m.measuredAtMs) this.latest.set(nodeId, m);
  }

  forget(nodeId: number): void {
    this.latest.delete(nodeId);
  }

  get(nodeId: number): OffsetMeasurement | undefined {
    return this.latest.get(nodeId);
  }

  /** Measurements younger than the TTL at `nowMs`. */
  current(nowMs: number): Map<number, OffsetMeasurement> {
    const out = new Map<number, OffsetMeasurement>();
    for (const [id, m] of this.latest) if (nowMs - m.measuredAtMs <= this.ttlMs) out.set(id, m);
    return out;
  }

  isOutOfTolerance(m: OffsetMeasurement): boolean {
    return m.offsetMs - m.uncertaintyMs > this.toleranceMs || m.offsetMs + m.uncertaintyMs < -this.toleranceMs;
  }

  check(nowMs: number): ClockCheck {
    const cur = this.current(nowMs);
    const bad: ClockCheck['outOfTolerance'] = [];
    for (const [nodeId, m] of cur) if (this.isOutOfTolerance(m)) bad.push({ nodeId, offsetMs: m.offsetMs, uncertaintyMs: m.uncertaintyMs });
    const fatal = cur.size > 0 && bad.length * 2 > cur.size;
    const list = bad.map((b) => `n${b.nodeId} ${b.offsetMs >= 0 ? '+' : ''}${b.offsetMs.toFixed(1)} ms ±${b.uncertaintyMs.toFixed(1)}`).join(', ');
    const message = fatal
      ? `this node's clock is off from ${bad.length} of ${cur.size} peers by more than ${this.toleranceMs} ms (${clockOffsetToleranceFraction * 100}% of the maximum offset ${this.maxOffsetMs} ms): ${list}; the node must stop (fix its clock synchronization, then restart it)`
      : bad.length > 0
        ? `${bad.length} of ${cur.size} peers' clocks are off by more than ${this.toleranceMs} ms: ${list}`
        : `clock offsets within ${this.toleranceMs} ms of ${cur.size} peers`;
    return { fatal, measured: cur.size, outOfTolerance: bad, toleranceMs: this.toleranceMs, message };
  }
}

export interface RemoteClockMonitorOptions {
  conns: Connections;
  /** The peers to measure (the cluster's other nodes). */
  peers: () => number[];
  /** The node's hybrid clock: pings carry it and move it past the peers'. */
  clock: HybridClock;
  /** The physical wall clock being checked, ms since the epoch (default: the timers' now). */
  wallTimeMs?: () => number;
  maxOffsetMs: number;
  /** Called once when check() turns fatal; the caller stops the node (and logs why). */
  onFatal: (c: ClockCheck) => void;
  timers?: Timers;
  intervalMs?: number;
  /** Told of every ping's round trip (the RPC latency metrics). */
  observe?: RpcObserver;
}

export class RemoteClockMonitor {
  private readonly log = logger('rpc');
  private readonly method = rpcMethod(Services.node, 'Ping');
  readonly offsets: ClockOffsets;
  private readonly timers: Timers;
  private readonly wallTimeMs: () => number;
  private ticker: TimerHandle | null = null;
  private fatalReported = false;
  private round: Promise<void> | null = null;
  readonly stats = { pings: 0, failures: 0 };

  constructor(private readonly o: RemoteClockMonitorOptions) {
    this.offsets = new ClockOffsets(o.maxOffsetMs);
    this.timers = o.timers ?? realTimers;
    this.wallTimeMs = o.wallTimeMs ?? (() => this.timers.now());
  }

  start(): void {
    if (this.ticker) return;
    this.ticker = this.timers.setInterval(() => {
      if (!this.round) this.round = this.pingAll().then(
        () => {},
        (e: unknown) => this.log.warn({ err: e }, 'clock offset round failed'),
      ).finally(() => (this.round = null));
    }, this.o.intervalMs ?? pingIntervalMs);
    this.ticker.unref?.();
  }

  stop(): void {
    if (this.ticker) this.timers.clearInterval(this.ticker);
    this.ticker = null;
  }

  /** Pings every peer once, then checks (reporting fatal once). */
  async pingAll(): Promise<ClockCheck> {
    await Promise.all(this.o.peers().map((n) => this.ping(n)));
    const c = this.check();
    if (c.fatal && !this.fatalReported) {
      this.fatalReported = true;
      this.log.fatal({ outOfTolerance: c.outOfTolerance, measured: c.measured }, c.message);
      this.o.onFatal(c);
    } else if (c.outOfTolerance.length > 0) {
      this.log.warn({ outOfTolerance: c.outOfTolerance, measured: c.measured }, c.message);
    }
    return c;
  }

  /** One measurement of a peer's offset (null if it failed: the previous one stands until it expires). */
  async ping(nodeId: number): Promise<OffsetMeasurement | null> {
    const client = await this.o.conns.connected(nodeId, 'default', pingTimeoutMs);
    if (isNotConnected(client)) {
      this.stats.failures++;
      return null;
    }
    const sentMs = this.wallTimeMs();
    const req = encodePingRequest({ nodeId: this.o.conns.nodeId, now: this.o.clock.now(), wallTimeMs: sentMs });
    const res = await new Promise<Buffer | null>((resolve) =>
      client.makeUnaryRequest<Buffer, Buffer>(this.method.path, (b) => b, (b) => b, req, new grpc.Metadata(), { deadline: Date.now() + pingTimeoutMs }, (err, value) => resolve(err ? null : (value ?? null))),
    );
    const receivedMs = this.wallTimeMs();
    this.o.observe?.('Ping', Math.max(0, receivedMs - sentMs) / 1000, res !== null);
    this.stats.pings++;
    if (!res) {
      this.stats.failures++;
      return null;
    }
    let pong;
    try {
      pong = decodePingResponse(res);
    } catch (e) {
      this.stats.failures++;
      this.log.warn({ nodeId, err: e }, 'malformed ping response');
      return null;
    }
    if (pong.nodeId !== nodeId) {
      this.stats.failures++;
      this.log.warn({ expected: nodeId, answered: pong.nodeId }, 'a ping reached the wrong node (stale address?); no measurement');
      return null;
    }
    this.o.clock.update(pong.now);
    const m = { ...estimateOffset(sentMs, receivedMs, pong.wallTimeMs), measuredAtMs: receivedMs };
    this.offsets.record(nodeId, m);
    return m;
  }

  check(): ClockCheck {
    return this.offsets.check(this.wallTimeMs());
  }
}
