import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import { PgError, SqlState, assert, logger } from '@strata/common';
import type { SqlEngine } from '@strata/sql';
import { Connection } from './connection.js';
import type { ConnectionHost, WireMetrics } from './connection.js';
import type { PgTls } from './tls.js';
import { connectionsMaxDefault, messageBytesMaxDefault, startupConnectionsMax, startupTimeoutMsDefault } from './constants.js';

export interface PgServerOptions {
  engine: SqlEngine;
  host: string;
  port: number;
  metrics?: WireMetrics;
  messageBytesMax?: number;
  /** max_connections: sessions served at once. */
  connectionsMax?: number;
  /** authentication_timeout: how long a connection may take to finish startup. */
  startupTimeoutMs?: number;
  /**
   * Secure mode: TLS after SSLRequest, sessions only over TLS, authentication by the host-based
   * rules (SCRAM-SHA-256[-PLUS], client certificates). Absent: insecure mode (trust, no TLS).
   */
  tls?: PgTls | null;
  /** This node's id: it goes into every backend pid, so a CancelRequest can reach its node. */
  nodeId?: number;
  /** Sends a CancelRequest for a session of another node there (cluster mode); absent: ignored. */
  forwardCancel?: (nodeId: number, pid: number, secret: number) => void;
}

/**
 * Backend pids carry the node: pid = nodeId × 2^pidNodeShift + a per-node counter, so any node
 * that receives a CancelRequest knows where the session runs (the client may send it anywhere
 * behind a load balancer). Node ids up to 2047 keep pids positive int32s.
 */
const pidNodeShift = 20;
const pidCounterMask = (1 << pidNodeShift) - 1;
export const pidNodeOf = (pid: number): number => Math.floor(pid / (1 << pidNodeShift));

const noMetrics: WireMetrics = { statement() {}, bytesIn() {}, bytesOut() {} };

/** A duration as PostgreSQL shows it: in the largest unit that divides it exactly. */
export function formatDurationMs(ms: number): string {
  for (const [unit, n] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= n && ms % n === 0) return `${ms / n}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * The Postgres-wire gateway: accepts connections, assigns backend keys, routes CancelRequests.
 * INVARIANT: one connection's failure (bad bytes, a crash in its statement) never affects another.
 * INVARIANT: every open socket is either starting up (in `starting`, at most
 *   startupConnectionsMax, closed after the startup timeout) or a session (in `sessions`, at
 *   most connectionsMax); a connection in startup never takes a session slot.
 */
export class PgServer implements ConnectionHost {
  readonly log = logger('pgwire');
  readonly engine: SqlEngine;
  readonly metrics: WireMetrics;
  readonly messageBytesMax: number;
  readonly serverSettings: Record<string, string>;
  readonly tls: PgTls | null;
  readonly mockSecret = randomBytes(32);
  private readonly connectionsMax: number;
  private readonly startupTimeoutMs: number;
  private readonly server: Server;
  /** Connections still in startup, oldest first (a Set keeps insertion order). */
  private readonly starting = new Set<Connection>();
  private readonly sessions = new Map<number, Connection>();
  private readonly connections = new Set<Connection>();
  private nextPid = 1000;
  private readonly nodeId: number;

  constructor(private readonly opts: PgServerOptions) {
    this.engine = opts.engine;
    this.metrics = opts.metrics ?? noMetrics;
    this.messageBytesMax = opts.messageBytesMax ?? messageBytesMaxDefault;
    this.connectionsMax = opts.connectionsMax ?? connectionsMaxDefault;
    this.startupTimeoutMs = opts.startupTimeoutMs ?? startupTimeoutMsDefault;
    this.tls = opts.tls ?? null;
    this.nodeId = opts.nodeId ?? 0;
    assert(this.nodeId >= 0 && this.nodeId < 2048, `node id ${this.nodeId} does not fit in a backend pid`);
    assert(this.connectionsMax >= 1, 'max_connections must be at least 1');
    assert(this.startupTimeoutMs >= 1, 'the startup timeout must be positive');
    this.serverSettings = { max_connections: String(this.connectionsMax), authentication_timeout: formatDurationMs(this.startupTimeoutMs) };
    // Half-open: a client's EOF is seen after the messages it sent before it (as PostgreSQL does).
    this.server = createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  /** Sessions (connections that finished startup). */
  get connectionCount(): number {
    return this.sessions.size;
  }

  /** Connections that have not finished startup. */
  get startingCount(): number {
    return this.starting.size;
  }

  private accept(socket: Socket): void {
    const c = new Connection(socket, this, this.startupTimeoutMs);
    this.connections.add(c);
    this.starting.add(c);
    if (this.starting.size > startupConnectionsMax) {
      const oldest = this.starting.values().next().value as Connection;
      this.starting.delete(oldest);
      this.log.debug('too many connections in startup: closing the oldest');
      oldest.closeQuietly();
    }
  }

  connectionClosed(c: Connection): void {
    this.connections.delete(c);
    this.starting.delete(c);
    if (this.sessions.get(c.pid) === c) this.sessions.delete(c.pid);
  }

  register(c: Connection): { pid: number; secret: number } {
    this.starting.delete(c);
    if (this.sessions.size >= this.connectionsMax) {
      throw new PgError(SqlState.TooManyConnections, 'sorry, too many clients already', { severity: 'FATAL' });
    }
    let pid: number;
    do {
      pid = this.nodeId * (1 << pidNodeShift) + (this.nextPid++ & pidCounterMask);
    } while (this.sessions.has(pid) || (pid & pidCounterMask) === 0);
    const secret = randomInt(1, 2 ** 31 - 1);
    this.sessions.set(pid, c);
    return { pid, secret };
  }

  cancel(pid: number, secret: number): void {
    const owner = pidNodeOf(pid);
    if (owner !== this.nodeId && this.opts.forwardCancel) {
      this.log.info({ pid, node: owner }, 'query cancel requested for another node: forwarded');
      this.opts.forwardCancel(owner, pid, secret);
      return;
    }
    const c = this.sessions.get(pid);
    if (c && c.secret === secret) {
      c.cancel();
      this.log.info({ pid }, 'query cancel requested');
    }
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  address(): { host: string; port: number } {
    const a = this.server.address();
    if (a && typeof a === 'object') return { host: a.address, port: a.port };
    return { host: this.opts.host, port: this.opts.port };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const c of this.connections) c.destroy();
    });
  }
}

export { PgError };
