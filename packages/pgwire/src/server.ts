import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { randomInt } from 'node:crypto';
import { PgError, SqlState, logger } from '@strata/common';
import type { SqlEngine } from '@strata/sql';
import { Connection } from './connection.js';
import type { ConnectionHost, WireMetrics } from './connection.js';
import { connectionsMaxDefault, messageBytesMaxDefault } from './constants.js';

export interface PgServerOptions {
  engine: SqlEngine;
  host: string;
  port: number;
  metrics?: WireMetrics;
  messageBytesMax?: number;
  connectionsMax?: number;
}

const noMetrics: WireMetrics = { statement() {}, bytesIn() {}, bytesOut() {} };

/**
 * The Postgres-wire gateway: accepts connections, assigns backend keys, routes CancelRequests.
 * INVARIANT: one connection's failure (bad bytes, a crash in its statement) never affects another.
 */
export class PgServer implements ConnectionHost {
  readonly log = logger('pgwire');
  readonly engine: SqlEngine;
  readonly metrics: WireMetrics;
  readonly messageBytesMax: number;
  private readonly connectionsMax: number;
  private readonly server: Server;
  private readonly conns = new Map<number, Connection>();
  private readonly sockets = new Set<Socket>();
  private nextPid = 1000;

  constructor(private readonly opts: PgServerOptions) {
    this.engine = opts.engine;
    this.metrics = opts.metrics ?? noMetrics;
    this.messageBytesMax = opts.messageBytesMax ?? messageBytesMaxDefault;
    this.connectionsMax = opts.connectionsMax ?? connectionsMaxDefault;
    this.server = createServer((socket) => this.accept(socket));
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  private accept(socket: Socket): void {
    if (this.sockets.size >= this.connectionsMax) {
      // Refuse politely: an ErrorResponse the client can read, then close.
      const msg = Buffer.from(`SFATAL\0VFATAL\0C${SqlState.TooManyConnections}\0Msorry, too many clients already\0\0`);
      const h = Buffer.alloc(5);
      h[0] = 'E'.charCodeAt(0);
      h.writeInt32BE(msg.length + 4, 1);
      socket.end(Buffer.concat([h, msg]));
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    new Connection(socket, this);
  }

  register(c: Connection): { pid: number; secret: number } {
    const pid = this.nextPid++;
    const secret = randomInt(1, 2 ** 31 - 1);
    this.conns.set(pid, c);
    return { pid, secret };
  }

  unregister(c: Connection): void {
    if (this.conns.get(c.pid) === c) this.conns.delete(c.pid);
  }

  cancel(pid: number, secret: number): void {
    const c = this.conns.get(pid);
    if (c && c.secret === secret && c.session) {
      c.session.cancelRequested = true;
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
      for (const s of this.sockets) s.destroy();
    });
  }
}

export { PgError };
