/**
 * A raw PostgreSQL protocol client for tests: frontend messages from pg-protocol's serializer (or
 * hand-made bytes), backend messages parsed by pg-protocol's Parser. Lets tests send exact byte
 * sequences, including malformed ones, and see exactly what the server answers.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { parse, serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';

export { serialize };

export class RawClient {
  readonly messages: BackendMessage[] = [];
  /** Every backend frame as raw bytes (type, body), for exact checks such as binary DataRows. */
  readonly frames: { type: string; body: Buffer }[] = [];
  private rawBuf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;
  /** BackendKeyData from startup (for CancelRequests). */
  backendKey: { pid: number; secret: number } | null = null;
  private constructor(readonly socket: Socket) {}

  static async connect(port: number, opts: { startup?: boolean; user?: string; database?: string } = {}): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((res, rej) => {
      socket.once('connect', () => res());
      socket.once('error', rej);
    });
    const c = new RawClient(socket);
    socket.on('data', (d: Buffer) => {
      c.rawBuf = Buffer.concat([c.rawBuf, d]);
      while (c.rawBuf.length >= 5) {
        const len = c.rawBuf.readInt32BE(1);
        if (c.rawBuf.length < 1 + len) break;
        c.frames.push({ type: String.fromCharCode(c.rawBuf[0] as number), body: c.rawBuf.subarray(5, 1 + len) });
        c.rawBuf = c.rawBuf.subarray(1 + len);
      }
    });
    void parse(socket, (m) => {
      if (m.name === 'backendKeyData') {
        const k = m as unknown as { processID: number; secretKey: number };
        c.backendKey = { pid: k.processID, secret: k.secretKey };
      }
      c.messages.push(m);
      for (const w of c.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      c.closed = true;
      for (const w of c.waiters.splice(0)) w();
    });
    if (opts.startup !== false) {
      socket.write(serialize.startup({ user: opts.user ?? 'root', database: opts.database ?? 'defaultdb' }));
      await c.waitFor('readyForQuery');
    }
    return c;
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  /** Waits until a message with this name arrives (or the socket closes); returns it. */
  async waitFor(name: string, timeoutMs = 10_000): Promise<BackendMessage | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.messages.findIndex((m) => m.name === name);
      if (i >= 0) return this.messages.splice(0, i + 1)[i];
      if (this.closed) return undefined;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${name}; have ${this.messages.map((m) => m.name).join(',')}`);
      await new Promise<void>((res) => {
        this.waiters.push(res);
        setTimeout(res, 100);
      });
    }
  }

  /** Drains everything up to and including the next ReadyForQuery. */
  async untilReady(): Promise<BackendMessage[]> {
    const out: BackendMessage[] = [];
    for (;;) {
      while (this.messages.length > 0) {
        const m = this.messages.shift() as BackendMessage;
        out.push(m);
        if (m.name === 'readyForQuery') return out;
      }
      if (this.closed) return out;
      await new Promise<void>((res) => {
        this.waiters.push(res);
        setTimeout(res, 100);
      });
    }
  }

  async query(sql: string): Promise<BackendMessage[]> {
    this.write(serialize.query(sql));
    return this.untilReady();
  }

  end(): void {
    if (!this.closed) this.socket.end(serialize.end());
  }
}

/** A frontend message with an arbitrary type byte and body. */
export function rawMessage(type: string, body: Buffer, lengthOverride?: number): Buffer {
  const h = Buffer.alloc(5);
  h[0] = type.charCodeAt(0);
  h.writeInt32BE(lengthOverride ?? body.length + 4, 1);
  return Buffer.concat([h, body]);
}

/** Splits a DataRow body into its field values (null for SQL NULL). */
export function dataRowFields(body: Buffer): (Buffer | null)[] {
  const n = body.readInt16BE(0);
  let o = 2;
  const out: (Buffer | null)[] = [];
  for (let i = 0; i < n; i++) {
    const len = body.readInt32BE(o);
    o += 4;
    if (len < 0) out.push(null);
    else {
      out.push(body.subarray(o, o + len));
      o += len;
    }
  }
  return out;
}

/** A startup packet (protocol 3.0) with raw parameter bytes, e.g. invalid UTF-8 in a value. */
export function startupPacket(params: Record<string, Buffer | string>): Buffer {
  const parts: Buffer[] = [Buffer.alloc(8)];
  for (const [k, v] of Object.entries(params)) parts.push(Buffer.from(k + '\0'), Buffer.from(v), Buffer.from([0]));
  parts.push(Buffer.from([0]));
  const b = Buffer.concat(parts);
  b.writeInt32BE(b.length, 0);
  b.writeInt32BE(196608, 4);
  return b;
}

/** Sends a CancelRequest for a backend on a new connection (as libpq's PQcancel does). */
export async function sendCancel(port: number, key: { pid: number; secret: number }): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((res, rej) => {
    socket.once('connect', () => res());
    socket.once('error', rej);
  });
  const b = Buffer.alloc(16);
  b.writeInt32BE(16, 0);
  b.writeInt32BE(80877102, 4);
  b.writeInt32BE(key.pid, 8);
  b.writeInt32BE(key.secret, 12);
  socket.end(b);
  await new Promise<void>((res) => socket.once('close', () => res()));
}

/** A Query message whose text is raw bytes (e.g. invalid UTF-8), NUL-terminated. */
export function rawQuery(text: Buffer): Buffer {
  return rawMessage('Q', Buffer.concat([text, Buffer.from([0])]));
}
