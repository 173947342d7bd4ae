/**
 * Cuts the byte stream of one connection into protocol messages: first untyped startup-phase
 * packets (startup, SSLRequest, GSSENCRequest, CancelRequest), then typed messages. Pure: no
 * socket, no timers; the connection feeds it socket reads and handles what comes out.
 *
 * INVARIANT: a message is refused on its header alone (type and length), before any of its body
 *   is buffered, when the type is unknown or the length is impossible or above its type's bound.
 * INVARIANT: at most one incomplete message is held; its reads are joined once, when complete
 *   (a large message costs one copy, not one per read).
 */
import { PgError, SqlState } from '@strata/common';
import { smallMessageBytesMax, startupPacketBytesMax } from './constants.js';

export interface Frame {
  /** The type byte; 0 for a startup-phase packet. */
  type: number;
  body: Buffer;
}

/** Messages a client may send, and the largest length (including the length word) each may have. */
// 'p' (password, SASLInitialResponse, SASLResponse) only during authentication; a password is at
// most 1 KiB and a SCRAM message a few hundred bytes, well within the small-message bound.
const smallTypes = new Set(['S', 'H', 'X', 'D', 'C', 'E', 'c', 'f', 'p'].map((c) => c.charCodeAt(0)));
const largeTypes = new Set(['Q', 'P', 'B', 'd', 'F'].map((c) => c.charCodeAt(0)));

function protocolFatal(message: string): PgError {
  return new PgError(SqlState.ProtocolViolation, message, { severity: 'FATAL' });
}

/**
 * A startup-phase failure PostgreSQL only logs (its COMMERROR): the peer may be no client at all
 * (a port scanner, a health check, a client that gave up), so nothing is written to it.
 */
export class StartupCommError extends PgError {
  constructor(message: string) {
    super(SqlState.ProtocolViolation, message, { severity: 'FATAL' });
  }
}

export class MessageFramer {
  private startupPhase = true;
  private buf: Buffer = Buffer.alloc(0);
  private held: Buffer[] = [];
  private heldBytes = 0;
  private needBytes = 0;

  constructor(private readonly messageBytesMax: number) {}

  /** After the startup packet was accepted: from now on every message has a type byte. */
  startupDone(): void {
    this.startupPhase = false;
  }

  /** Bytes held for an incomplete message. */
  get bufferedBytes(): number {
    return this.buf.length + this.heldBytes;
  }

  /**
   * Feeds one socket read; calls `onFrame` for every complete message, in order. `onFrame` may
   * call startupDone() (the rest of the read is then framed as typed messages) or return false to
   * stop (the connection is closing; the rest is dropped). Throws a FATAL PgError on bad framing.
   */
  push(d: Buffer, onFrame: (f: Frame) => boolean): void {
    if (this.needBytes > 0) {
      this.held.push(d);
      this.heldBytes += d.length;
      if (this.heldBytes < this.needBytes) return;
      this.buf = Buffer.concat(this.held, this.heldBytes);
      this.held = [];
      this.heldBytes = this.needBytes = 0;
    } else this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    for (;;) {
      const f = this.next();
      if (f === null) return;
      if (!onFrame(f)) {
        this.buf = Buffer.alloc(0);
        return;
      }
    }
  }

  private next(): Frame | null {
    const b = this.buf;
    if (this.startupPhase) {
      if (b.length < 4) return null;
      const len = b.readInt32BE(0);
      if (len < 8 || len > startupPacketBytesMax) throw new StartupCommError('invalid length of startup packet');
      if (b.length < len) return this.hold(len);
      this.buf = b.subarray(len);
      return { type: 0, body: b.subarray(4, len) };
    }
    if (b.length < 5) return null;
    const type = b[0] as number;
    const len = b.readInt32BE(1);
    if (!smallTypes.has(type) && !largeTypes.has(type)) throw protocolFatal(`invalid frontend message type ${type}`);
    if (len < 4) throw protocolFatal(`invalid message length ${len}`);
    if (smallTypes.has(type) && len > smallMessageBytesMax) throw protocolFatal(`invalid message length ${len}: a ${String.fromCharCode(type)} message is at most ${smallMessageBytesMax} bytes`);
    if (len > this.messageBytesMax) throw protocolFatal(`message of ${len} bytes exceeds the limit of ${this.messageBytesMax} bytes`);
    if (b.length < 1 + len) return this.hold(1 + len);
    this.buf = b.subarray(1 + len);
    return { type, body: b.subarray(5, 1 + len) };
  }

  /** Keeps reading into `held` until `total` bytes are there (joined once). */
  private hold(total: number): null {
    this.held = [this.buf];
    this.heldBytes = this.buf.length;
    this.needBytes = total;
    this.buf = Buffer.alloc(0);
    return null;
  }
}
