/**
 * One client connection: the protocol state machine over a socket.
 *
 * INVARIANT: messages are handled strictly one at a time, in order (a queue drained by one
 *   async loop), so a slow statement never interleaves with the next message.
 * INVARIANT: after an error in the extended protocol, messages are skipped until Sync.
 */
import type { Socket } from 'node:net';
import { ByteWriter, PgError, SqlState, logger, toPgError } from '@strata/common';
import type { Logger } from '@strata/common';
import { Session, formatValue, parseValue, reportedSettings, settingDisplayName, typeFromOid, typeLen, typeOid } from '@strata/sql';
import type { Column, Portal, Prepared, SqlEngine, SqlType, Value } from '@strata/sql';
import { decodeBinary, encodeBinary } from './binary.js';
import {
  bindParamsMax,
  cancelRequestCode,
  gssEncRequestCode,
  outputBackpressureBytes,
  outputFlushBytes,
  protocolVersion3,
  sslRequestCode,
  startupPacketBytesMax,
} from './constants.js';

export interface WireMetrics {
  statement(kind: string, seconds: number, error: string | null): void;
  bytesIn(n: number): void;
  bytesOut(n: number): void;
}

export interface ConnectionHost {
  engine: SqlEngine;
  metrics: WireMetrics;
  messageBytesMax: number;
  register(c: Connection): { pid: number; secret: number };
  unregister(c: Connection): void;
  cancel(pid: number, secret: number): void;
  log: Logger;
}

/** Builds backend messages into one buffer per flush. */
/**
 * Messages waiting to be written to the socket, laid out in one growable buffer: a row is written
 * in place (no buffer per value, no concatenation per row).
 */
class Out extends ByteWriter {
  constructor() {
    super(outputFlushBytes);
  }

  get size(): number {
    return this.len;
  }

  msg(type: string, body: Buffer | null): void {
    const at = this.begin(type);
    if (body) this.bytes(body);
    this.end(at);
  }

  /** Starts a message of `type`; returns where its length goes (end() fills it in). */
  begin(type: string): number {
    this.u8(type.charCodeAt(0)).u32(0);
    return this.len - 4;
  }

  end(at: number): void {
    this.buf.writeInt32BE(this.len - at, at);
  }

  /** A string's UTF-8 bytes preceded by their int32 length. */
  lengthPrefixedUtf8(s: string): void {
    const at = this.len;
    this.u32(0).utf8(s);
    this.buf.writeInt32BE(this.len - at - 4, at);
  }

  take(): Buffer {
    const b = this.finish();
    this.buf = Buffer.allocUnsafe(outputFlushBytes);
    this.len = 0;
    return b;
  }
}

function cstr(s: string): Buffer {
  return Buffer.from(s + '\0', 'utf8');
}

class Reader {
  o = 0;
  constructor(readonly b: Buffer) {}
  int32(): number {
    if (this.o + 4 > this.b.length) throw protocolError('message too short');
    const v = this.b.readInt32BE(this.o);
    this.o += 4;
    return v;
  }
  int16(): number {
    if (this.o + 2 > this.b.length) throw protocolError('message too short');
    const v = this.b.readInt16BE(this.o);
    this.o += 2;
    return v;
  }
  byte(): number {
    if (this.o >= this.b.length) throw protocolError('message too short');
    return this.b[this.o++] as number;
  }
  cstring(): string {
    const end = this.b.indexOf(0, this.o);
    if (end < 0) throw protocolError('unterminated string in message');
    const s = this.b.toString('utf8', this.o, end);
    this.o = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    if (n < 0 || this.o + n > this.b.length) throw protocolError('insufficient data left in message');
    const v = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return v;
  }
}

/** CopyInResponse / CopyOutResponse body: text format for every column. */
function copyResponse(columns: number): Buffer {
  const b = Buffer.alloc(3 + 2 * columns);
  b[0] = 0;
  b.writeInt16BE(columns, 1);
  return b;
}

/** CopyData buffered ahead of the inserts before the socket is paused. */
const copyInBufferedBytesMax = 16 * 1024 * 1024;

function protocolError(msg: string): PgError {
  return new PgError(SqlState.ProtocolViolation, msg, { severity: 'FATAL' });
}

type Phase = 'startup' | 'ready' | 'closed';

export class Connection {
  private phase: Phase = 'startup';
  private inbuf: Buffer = Buffer.alloc(0);
  /**
   * Socket reads held back while a message is incomplete, and the bytes the message needs in
   * all: joined once it is complete, so a large message costs one copy, not one per read.
   */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private needBytes = 0;
  private readonly queue: { type: number; body: Buffer }[] = [];
  private draining = false;
  private readonly out = new Out();
  session: Session | null = null;
  pid = 0;
  secret = 0;
  private readonly prepared = new Map<string, Prepared>();
  private readonly portals = new Map<string, Portal>();
  private skipUntilSync = false;
  private readonly log: Logger;
  /** Set while a COPY FROM STDIN is receiving data: CopyData/CopyDone/CopyFail go here. */
  private copyIn: { chunks: Buffer[]; bytes: number; done: boolean; failed: string | null; wake: (() => void) | null } | null = null;

  constructor(
    readonly socket: Socket,
    private readonly host: ConnectionHost,
  ) {
    this.log = logger('pgwire').child({ remote: `${socket.remoteAddress}:${socket.remotePort}` });
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.log.debug({ err: e.message }, 'socket error'));
    socket.on('close', () => this.onClose());
  }

  // ---- framing -----------------------------------------------------------------------------

  private onData(d: Buffer): void {
    this.host.metrics.bytesIn(d.length);
    if (this.needBytes > 0) {
      this.held.push(d);
      this.heldBytes += d.length;
      if (this.heldBytes < this.needBytes) return;
      this.inbuf = Buffer.concat(this.held, this.heldBytes);
      this.held = [];
      this.heldBytes = this.needBytes = 0;
    } else this.inbuf = this.inbuf.length === 0 ? d : Buffer.concat([this.inbuf, d]);
    try {
      for (;;) {
        if (this.phase === 'closed') return;
        if (this.phase === 'startup') {
          if (this.inbuf.length < 4) return;
          const len = this.inbuf.readInt32BE(0);
          if (len < 8 || len > startupPacketBytesMax) throw protocolError(`invalid startup packet length ${len}`);
          if (this.inbuf.length < len) return;
          const pkt = this.inbuf.subarray(4, len);
          this.inbuf = this.inbuf.subarray(len);
          this.startup(pkt);
          continue;
        }
        if (this.inbuf.length < 5) return;
        const type = this.inbuf[0] as number;
        const len = this.inbuf.readInt32BE(1);
        if (len < 4) throw protocolError(`invalid message length ${len}`);
        if (len > this.host.messageBytesMax) {
          throw new PgError(SqlState.ProtocolViolation, `message of ${len} bytes exceeds the limit of ${this.host.messageBytesMax} bytes`, { severity: 'FATAL' });
        }
        if (this.inbuf.length < 1 + len) {
          // Keep reading, but never buffer more than one message's worth.
          this.held = [this.inbuf];
          this.heldBytes = this.inbuf.length;
          this.needBytes = 1 + len;
          this.inbuf = Buffer.alloc(0);
          return;
        }
        const body = this.inbuf.subarray(5, 1 + len);
        this.inbuf = this.inbuf.subarray(1 + len);
        const ci = this.copyIn;
        if (ci && (type === 0x64 || type === 0x63 || type === 0x66)) {
          // 'd' CopyData, 'c' CopyDone, 'f' CopyFail: straight to the running COPY.
          if (type === 0x64) {
            ci.chunks.push(body);
            ci.bytes += body.length;
            if (ci.bytes > copyInBufferedBytesMax) this.socket.pause();
          } else if (type === 0x63) ci.done = true;
          else ci.failed = new Reader(body).cstring();
          ci.wake?.();
          continue;
        }
        if (ci) {
          ci.failed = `unexpected message type 0x${type.toString(16)} during COPY from stdin`;
          ci.wake?.();
        }
        this.queue.push({ type, body });
        void this.drain();
      }
    } catch (e) {
      this.fatal(e);
    }
  }

  /** Sends a FATAL error and closes; other connections are unaffected. */
  private fatal(e: unknown): void {
    const err = toPgError(e);
    if (!(e instanceof PgError)) this.log.error({ err: e }, 'connection failed');
    this.sendError(err, 'FATAL');
    this.flush();
    this.close();
  }

  private close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private onClose(): void {
    this.phase = 'closed';
    this.session?.close();
    this.host.unregister(this);
  }

  private flush(): void {
    if (this.out.size === 0) return;
    const b = this.out.take();
    this.host.metrics.bytesOut(b.length);
    if (!this.socket.destroyed) this.socket.write(b);
  }

  // ---- startup -------------------------------------------------------------------------------

  private startup(pkt: Buffer): void {
    const code = pkt.readInt32BE(0);
    if (code === sslRequestCode || code === gssEncRequestCode) {
      // Insecure mode: no TLS or GSSAPI encryption; the client continues in plain text.
      this.socket.write('N');
      return;
    }
    if (code === cancelRequestCode) {
      if (pkt.length >= 12) this.host.cancel(pkt.readInt32BE(4), pkt.readInt32BE(8));
      this.close();
      return;
    }
    if (code !== protocolVersion3) {
      throw new PgError(SqlState.FeatureNotSupported, `unsupported frontend protocol ${code >> 16}.${code & 0xffff}: server supports 3.0 to 3.0`, { severity: 'FATAL' });
    }
    const r = new Reader(pkt.subarray(4));
    const params: Record<string, string> = {};
    for (;;) {
      const k = r.cstring();
      if (k === '') break;
      params[k] = r.cstring();
    }
    const user = params.user;
    if (!user) throw new PgError(SqlState.InvalidAuthorizationSpecification, 'no PostgreSQL user name specified in startup packet', { severity: 'FATAL' });
    const database = params.database || user;
    const engine = this.host.engine;
    const view = engine.catalog.view(null);
    if (!view.database(database)) throw new PgError(SqlState.InvalidCatalogName, `database "${database}" does not exist`, { severity: 'FATAL' });
    const { pid, secret } = this.host.register(this);
    this.pid = pid;
    this.secret = secret;
    const extra: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) if (!['user', 'database', 'application_name', 'options', 'replication'].includes(k)) extra[k] = v;
    if (params.options) {
      for (const m of params.options.matchAll(/-c\s*([\w.]+)=(\S+)/g)) extra[m[1] as string] = m[2] as string;
    }
    this.session = new Session(engine, { database, user, applicationName: params.application_name ?? '', backendPid: pid, settings: extra });
    // Trust authentication (insecure mode).
    const ok = Buffer.alloc(4);
    ok.writeInt32BE(0);
    this.out.msg('R', ok);
    for (const name of reportedSettings) this.parameterStatus(name);
    const kd = Buffer.alloc(8);
    kd.writeInt32BE(pid, 0);
    kd.writeInt32BE(secret, 4);
    this.out.msg('K', kd);
    this.phase = 'ready';
    this.readyForQuery();
    this.flush();
    this.log.debug({ user, database, pid }, 'connection established');
  }

  private parameterStatus(name: string): void {
    const s = this.session as Session;
    const v = s.settings.get(name) ?? '';
    this.out.msg('S', Buffer.concat([cstr(settingDisplayName[name] ?? name), cstr(v)]));
  }

  private readyForQuery(): void {
    this.out.msg('Z', Buffer.from((this.session as Session).status()));
  }

  // ---- message loop ------------------------------------------------------------------------

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0 && this.phase === 'ready') {
        const m = this.queue.shift() as { type: number; body: Buffer };
        try {
          await this.handle(String.fromCharCode(m.type), m.body);
        } catch (e) {
          if (e instanceof PgError && e.fields.severity === 'FATAL') {
            this.fatal(e);
            return;
          }
          throw e;
        }
        if (this.out.size > 0 && this.queue.length === 0) this.flush();
      }
    } catch (e) {
      this.fatal(e);
    } finally {
      this.draining = false;
      this.flush();
    }
  }

  private async handle(type: string, body: Buffer): Promise<void> {
    if (this.skipUntilSync && type !== 'S' && type !== 'X') return;
    switch (type) {
      case 'Q':
        await this.simpleQuery(new Reader(body).cstring());
        return;
      case 'P':
        return this.extended(() => this.parse(body));
      case 'B':
        return this.extended(() => this.bindMsg(body));
      case 'D':
        return this.extended(() => this.describe(body));
      case 'E':
        return this.extended(() => this.execute(body));
      case 'C':
        return this.extended(() => {
          const r = new Reader(body);
          const kind = String.fromCharCode(r.byte());
          const name = r.cstring();
          if (kind === 'S') this.prepared.delete(name);
          else if (kind === 'P') this.portals.delete(name);
          else throw protocolError(`invalid Close message subtype ${kind}`);
          this.out.msg('3', null);
        });
      case 'S':
        this.skipUntilSync = false;
        this.readyForQuery();
        this.flush();
        return;
      case 'H':
        this.flush();
        return;
      case 'X':
        this.close();
        return;
      case 'd':
      case 'c':
      case 'f':
        // COPY data outside COPY: ignored, as PostgreSQL does after a failed COPY.
        return;
      default:
        throw protocolError(`invalid frontend message type ${type.charCodeAt(0)}`);
    }
  }

  private async extended(f: () => void | Promise<void>): Promise<void> {
    try {
      await f();
    } catch (e) {
      const err = toPgError(e);
      if (err.fields.severity === 'FATAL') throw err;
      if (!(e instanceof PgError)) this.log.error({ err: e }, 'internal error');
      this.session?.onError();
      this.sendError(err);
      this.skipUntilSync = true;
    }
  }

  private sendError(err: PgError, severity: 'ERROR' | 'FATAL' = 'ERROR'): void {
    const sev = err.fields.severity ?? severity;
    const parts: Buffer[] = [Buffer.from('S'), cstr(sev), Buffer.from('V'), cstr(sev), Buffer.from('C'), cstr(err.code), Buffer.from('M'), cstr(err.message)];
    const f = err.fields;
    if (f.detail) parts.push(Buffer.from('D'), cstr(f.detail));
    if (f.hint) parts.push(Buffer.from('H'), cstr(f.hint));
    if (f.position) parts.push(Buffer.from('P'), cstr(String(f.position)));
    if (f.schema) parts.push(Buffer.from('s'), cstr(f.schema));
    if (f.table) parts.push(Buffer.from('t'), cstr(f.table));
    if (f.column) parts.push(Buffer.from('c'), cstr(f.column));
    if (f.constraint) parts.push(Buffer.from('n'), cstr(f.constraint));
    parts.push(Buffer.from([0]));
    this.out.msg('E', Buffer.concat(parts));
  }

  private notice(msg: string): void {
    this.out.msg('N', Buffer.concat([Buffer.from('S'), cstr('NOTICE'), Buffer.from('V'), cstr('NOTICE'), Buffer.from('C'), cstr('00000'), Buffer.from('M'), cstr(msg), Buffer.from([0])]));
  }

  private afterStatement(): void {
    const s = this.session as Session;
    for (const name of s.changedSettings) if (reportedSettings.includes(name)) this.parameterStatus(name);
    s.changedSettings.clear();
  }

  // ---- simple query ------------------------------------------------------------------------

  private async simpleQuery(sql: string): Promise<void> {
    const s = this.session as Session;
    const started = process.hrtime.bigint();
    let kind = 'other';
    try {
      s.cancelRequested = false;
      let cols: Column[] = [];
      await s.simpleQuery(sql, {
        rowDescription: (c) => {
          cols = c;
          this.rowDescription(c, []);
        },
        row: (v) => {
          this.dataRow(v, cols, []);
          if (this.out.size > outputFlushBytes) this.flush();
        },
        complete: (tag) => {
          kind = tag.split(' ')[0]?.toLowerCase() || kind;
          this.out.msg('C', cstr(tag));
          this.afterStatement();
          if (this.out.size > outputFlushBytes) this.flush();
        },
        notice: (m) => this.notice(m),
        empty: () => this.out.msg('I', null),
        copyIn: (n) => this.startCopyIn(n),
        copyOut: (n) => this.out.msg('H', copyResponse(n)),
        copyData: (d) => {
          this.out.msg('d', d);
          if (this.out.size > outputFlushBytes) this.flush();
        },
        copyDone: () => this.out.msg('c', null),
      });
      this.host.metrics.statement(kind, Number(process.hrtime.bigint() - started) / 1e9, null);
    } catch (e) {
      const err = toPgError(e);
      if (!(e instanceof PgError)) this.log.error({ err: e }, 'internal error');
      s.onError();
      this.sendError(err);
      this.host.metrics.statement(kind, Number(process.hrtime.bigint() - started) / 1e9, err.code);
    }
    this.readyForQuery();
    this.flush();
  }

  /** Sends CopyInResponse and yields CopyData until CopyDone; CopyFail raises 57014. */
  private async *startCopyIn(columns: number): AsyncGenerator<Buffer> {
    const ci = { chunks: [] as Buffer[], bytes: 0, done: false, failed: null as string | null, wake: null as (() => void) | null };
    this.copyIn = ci;
    this.out.msg('G', copyResponse(columns));
    this.flush();
    try {
      for (;;) {
        if (ci.chunks.length > 0) {
          const c = ci.chunks.shift() as Buffer;
          ci.bytes -= c.length;
          if (ci.bytes <= copyInBufferedBytesMax / 2 && this.socket.isPaused()) this.socket.resume();
          yield c;
          continue;
        }
        if (ci.failed !== null) throw new PgError(SqlState.QueryCanceled, `COPY from stdin failed: ${ci.failed}`);
        if (ci.done) return;
        if (this.phase === 'closed') throw new PgError(SqlState.ConnectionException, 'connection closed during COPY');
        await new Promise<void>((res) => {
          ci.wake = res;
        });
        ci.wake = null;
      }
    } finally {
      if (!ci.done && ci.failed === null) {
        // The COPY stopped early (an error): swallow the rest of the client's data until it ends.
        this.copyIn = { chunks: [], bytes: 0, done: false, failed: null, wake: null };
        const drop = this.copyIn;
        const end = () => {
          if (drop.done || drop.failed !== null) {
            if (this.copyIn === drop) this.copyIn = null;
          } else {
            drop.chunks.length = 0;
            drop.bytes = 0; // swallowed data never counts toward the buffer limit (no pause)
            if (this.socket.isPaused()) this.socket.resume();
          }
        };
        drop.wake = end;
      } else this.copyIn = null;
      if (this.socket.isPaused()) this.socket.resume();
    }
  }

  // ---- extended query ------------------------------------------------------------------------

  private parse(body: Buffer): void {
    const r = new Reader(body);
    const name = r.cstring();
    const sql = r.cstring();
    const n = r.int16();
    if (n < 0 || n > bindParamsMax) throw protocolError(`invalid number of parameter types ${n}`);
    const oids: number[] = [];
    for (let i = 0; i < n; i++) oids.push(r.int32() >>> 0);
    if (name !== '' && this.prepared.has(name)) throw new PgError(SqlState.DuplicatePreparedStatement, `prepared statement "${name}" already exists`);
    const s = this.session as Session;
    const p = s.prepare(sql, oids);
    this.prepared.set(name, p);
    this.out.msg('1', null);
  }

  private bindMsg(body: Buffer): void {
    const r = new Reader(body);
    const portalName = r.cstring();
    const stmtName = r.cstring();
    const p = this.prepared.get(stmtName);
    if (!p) throw new PgError(SqlState.InvalidSqlStatementName, `prepared statement "${stmtName}" does not exist`);
    const nf = r.int16();
    const formats: number[] = [];
    for (let i = 0; i < nf; i++) formats.push(r.int16());
    const np = r.int16();
    if (np !== p.paramTypes.length) {
      throw new PgError(SqlState.ProtocolViolation, `bind message supplies ${np} parameters, but prepared statement "${stmtName}" requires ${p.paramTypes.length}`);
    }
    const s = this.session as Session;
    const vctx = s.vctx();
    const params: Value[] = [];
    for (let i = 0; i < np; i++) {
      const len = r.int32();
      if (len === -1) {
        params.push(null);
        continue;
      }
      const raw = r.bytes(len);
      const fmt = nf === 0 ? 0 : nf === 1 ? formats[0] : formats[i];
      const t = p.paramTypes[i] as SqlType;
      params.push(fmt === 1 ? decodeBinary(raw, t) : parseValue(raw.toString('utf8'), t, vctx));
    }
    const nr = r.int16();
    const rf: number[] = [];
    for (let i = 0; i < nr; i++) rf.push(r.int16());
    const portal = s.bind(p, params) as Portal & { resultFormats: number[] };
    portal.resultFormats = rf;
    this.portals.set(portalName, portal);
    this.out.msg('2', null);
  }

  private describe(body: Buffer): void {
    const r = new Reader(body);
    const kind = String.fromCharCode(r.byte());
    const name = r.cstring();
    if (kind === 'S') {
      const p = this.prepared.get(name);
      if (!p) throw new PgError(SqlState.InvalidSqlStatementName, `prepared statement "${name}" does not exist`);
      const pd = Buffer.alloc(2 + 4 * p.paramTypes.length);
      pd.writeInt16BE(p.paramTypes.length, 0);
      p.paramTypes.forEach((t, i) => pd.writeUInt32BE(typeOid(t), 2 + 4 * i));
      this.out.msg('t', pd);
      if (p.columns) this.rowDescription(p.columns, []);
      else this.out.msg('n', null);
      return;
    }
    if (kind === 'P') {
      const portal = this.portals.get(name) as (Portal & { resultFormats: number[] }) | undefined;
      if (!portal) throw new PgError(SqlState.InvalidCursorName, `portal "${name}" does not exist`);
      if (portal.prepared.columns) this.rowDescription(portal.prepared.columns, portal.resultFormats);
      else this.out.msg('n', null);
      return;
    }
    throw protocolError(`invalid DESCRIBE message subtype ${kind}`);
  }

  private async execute(body: Buffer): Promise<void> {
    const r = new Reader(body);
    const name = r.cstring();
    const maxRows = r.int32();
    const portal = this.portals.get(name) as (Portal & { resultFormats: number[] }) | undefined;
    if (!portal) throw new PgError(SqlState.InvalidCursorName, `portal "${name}" does not exist`);
    const s = this.session as Session;
    if (portal.prepared.stmt.kind === 'empty') {
      this.out.msg('I', null);
      return;
    }
    const started = process.hrtime.bigint();
    const cols = portal.prepared.columns ?? [];
    if (!portal.running) s.cancelRequested = false;
    try {
      const res = await s.execute(portal, Math.max(0, maxRows), {
        row: (v) => {
          this.dataRow(v, cols, portal.resultFormats);
          if (this.out.size > outputFlushBytes) this.flush();
        },
        notice: (m) => this.notice(m),
      });
      if (res.tag === null) {
        this.out.msg('s', null);
        return;
      }
      this.out.msg('C', cstr(res.tag));
      this.afterStatement();
      this.host.metrics.statement(res.tag.split(' ')[0]?.toLowerCase() ?? 'other', Number(process.hrtime.bigint() - started) / 1e9, null);
    } catch (e) {
      const err = toPgError(e);
      this.host.metrics.statement(portal.prepared.stmt.kind, Number(process.hrtime.bigint() - started) / 1e9, err.code);
      throw e;
    }
    if (this.socket.writableLength > outputBackpressureBytes) await new Promise((res) => this.socket.once('drain', res));
  }

  // ---- rows ----------------------------------------------------------------------------------

  private rowDescription(cols: Column[], formats: number[]): void {
    const parts: Buffer[] = [];
    const n = Buffer.alloc(2);
    n.writeInt16BE(cols.length);
    parts.push(n);
    cols.forEach((c, i) => {
      const t = c.type;
      const f = Buffer.alloc(18);
      f.writeUInt32BE(c.tableOid ?? 0, 0);
      f.writeInt16BE(c.columnNum ?? 0, 4);
      f.writeUInt32BE(typeOid(t), 6);
      f.writeInt16BE(typeLen(t), 10);
      f.writeInt32BE(t.typmod >= 0 && (t.kind === 'varchar' || t.kind === 'bpchar' || t.kind === 'numeric') ? t.typmod + 4 : t.typmod, 12);
      f.writeInt16BE(formats.length === 0 ? 0 : formats.length === 1 ? (formats[0] as number) : (formats[i] ?? 0), 16);
      parts.push(cstr(c.name), f);
    });
    this.out.msg('T', Buffer.concat(parts));
  }

  private dataRow(values: Value[], cols: Column[], formats: number[]): void {
    const s = this.session as Session;
    const vctx = s.vctx();
    const out = this.out;
    const at = out.begin('D');
    out.i16(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as Value;
      if (v === null || v === undefined) {
        out.i32(-1);
        continue;
      }
      const t = (cols[i] as Column | undefined)?.type ?? { kind: 'text', typmod: -1 };
      const fmt = formats.length === 0 ? 0 : formats.length === 1 ? formats[0] : formats[i];
      if (fmt === 1) {
        const b = encodeBinary(v, t, vctx);
        out.i32(b.length);
        out.bytes(b);
      } else out.lengthPrefixedUtf8(formatValue(v, t, vctx) ?? '');
    }
    out.end(at);
  }
}

export { typeFromOid };
