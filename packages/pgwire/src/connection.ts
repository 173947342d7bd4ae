/**
 * One client connection: the protocol state machine over a socket.
 *
 * INVARIANT: messages are handled strictly one at a time, in order, by one async loop (run) that
 *   takes them from the inbox; a running COPY FROM STDIN takes its CopyData from the same inbox,
 *   so data pipelined behind the COPY is never lost or reordered.
 * INVARIANT: after an error in the extended protocol, messages are skipped until Sync.
 * INVARIANT: memory is bounded: at most one incomplete message (framer), inboxBytesMax of
 *   complete ones (the socket is paused beyond it), and outputBackpressureBytes of unread output
 *   (statements and the message loop wait for the client beyond it).
 * INVARIANT: the session is closed exactly once, after the loop has stopped (no statement runs
 *   on a closed session).
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { PgError, SqlState, decodeUtf8Strict, logger, toPgError } from '@strata/common';
import type { Logger } from '@strata/common';
import type { Notice } from '@strata/sql';
import { Session, auditLogin, auditLoginFailed, authorizeSession, decodeBinary, encodeBinary, fixedBinaryBytes, formatValue, loginSnapshot, parseDurationMs, parseValue, reportedSettings, settingDisplayName, typeFromOid, typeLen, typeOid } from '@strata/sql';
import type { Backend, BackendActivity, Column, Portal, Prepared, SqlEngine, SqlType, Value } from '@strata/sql';
import {
  backpressureRecheckMs,
  bindParamsMax,
  cancelRequestCode,
  gssEncRequestCode,
  inboxBytesMax,
  outputBackpressureBytes,
  outputFlushBytes,
  protocolVersion3,
  resultColumnsMax,
  sslRequestCode,
} from './constants.js';
import { MessageFramer, StartupCommError } from './framer.js';
import { parseStartupOptions } from './startup_options.js';
import { functionCallSql, parseFunctionCall } from './function_call.js';
import type { Frame } from './framer.js';
import { Inbox } from './inbox.js';
import { Output } from './output.js';
import { MessageReader, malformed } from './reader.js';
import { LoginRefused, authenticate } from './authenticate.js';
import type { AuthTransport, PeerCertificate } from './authenticate.js';
import { verifyClientCertificate } from './tls.js';
import type { PgTls } from './tls.js';

export interface WireMetrics {
  statement(kind: string, seconds: number, error: string | null): void;
  bytesIn(n: number): void;
  bytesOut(n: number): void;
}

export interface ConnectionHost {
  engine: SqlEngine;
  metrics: WireMetrics;
  messageBytesMax: number;
  /** Settings fixed at server start that sessions show (max_connections, authentication_timeout). */
  serverSettings: Record<string, string>;
  /** Startup finished: a session slot and backend key, or FATAL 53300 when all slots are taken. */
  register(c: Connection): { pid: number; secret: number };
  cancel(pid: number, secret: number): void;
  /** The connection's socket closed (called once). */
  connectionClosed(c: Connection): void;
  log: Logger;
  /** Secure mode: TLS (sessions only over it) and authentication by the hba rules; null: insecure mode. */
  tls: PgTls | null;
  /** Per-process secret for SCRAM mock authentication (unknown roles). */
  mockSecret: Buffer;
}

type ExecPortal = Portal & { resultFormats: number[] };

function protocolFatal(msg: string): PgError {
  return new PgError(SqlState.ProtocolViolation, msg, { severity: 'FATAL' });
}

function queryCanceled(): PgError {
  return new PgError(SqlState.QueryCanceled, 'canceling statement due to user request');
}

/** pg_terminate_backend's end of a session (PostgreSQL's ProcessInterrupts). */
function adminTerminated(): PgError {
  return new PgError(SqlState.AdminShutdown, 'terminating connection due to administrator command', { severity: 'FATAL' });
}

function connectionClosed(): PgError {
  return new PgError(SqlState.ConnectionException, 'connection to client lost', { severity: 'FATAL' });
}

/** CopyInResponse / CopyOutResponse body: the overall format (0 text/CSV, 1 binary), the same for every column. */
function copyResponse(columns: number, format: 0 | 1 = 0): Buffer {
  const b = Buffer.alloc(3 + 2 * columns);
  b.writeUInt8(format, 0);
  b.writeUInt16BE(columns, 1);
  if (format === 1) for (let i = 0; i < columns; i++) b.writeUInt16BE(1, 3 + 2 * i);
  return b;
}

export class Connection {
  private phase: 'startup' | 'auth' | 'ready' | 'closed' = 'startup';
  /** The socket messages travel on: the TCP socket, or the TLS socket over it after SSLRequest. */
  socket: Socket;
  private tlsSocket: TLSSocket | null = null;
  private closedNotified = false;
  private readonly listeners = {
    data: (d: Buffer) => this.onData(d),
    end: () => this.onEnd(),
    error: (e: Error) => this.log.debug({ err: e.message }, 'socket error'),
    close: () => this.onClose(),
  };
  private readonly framer: MessageFramer;
  private readonly inbox: Inbox;
  private readonly out = new Output();
  session: Session | null = null;
  pid = 0;
  secret = 0;
  private readonly prepared = new Map<string, Prepared>();
  private readonly portals = new Map<string, ExecPortal>();
  private skipUntilSync = false;
  /** An error struck in the middle of a message exchange (COPY): the connection cannot go on. */
  private syncLost = false;
  private loopRunning = false;
  private finished = false;
  /** A frontend message is being handled (a statement may be running). */
  private handling = false;
  /** pg_terminate_backend asked this session to end. */
  private terminateRequested = false;
  /** This session in the node's backend registry (backends.ts). */
  private backend: Backend | null = null;
  /** How many times output went to the socket (handle() knows whether a statement's did). */
  private flushes = 0;
  /** The text of the statement running or last run (pg_stat_activity.query). */
  private lastQuery = '';
  /** The last message sent was ReadyForQuery: waiting now is idling (the idle timers apply). */
  private readySent = false;
  private idleTimer: NodeJS.Timeout | null = null;
  private startupTimer: NodeJS.Timeout | null;
  /** Wakes a statement waiting for the client to read (cancel, close). */
  private wakeWriter: (() => void) | null = null;
  /** A 'drain' listener is waiting to send the rest of the notification queue. */
  private drainArmed = false;
  private logger: Logger | null = null;

  constructor(
    socket: Socket,
    private readonly host: ConnectionHost,
    startupTimeoutMs: number,
  ) {
    this.socket = socket;
    this.framer = new MessageFramer(host.messageBytesMax);
    this.inbox = new Inbox(
      inboxBytesMax,
      () => this.socket.pause(),
      () => this.socket.resume(),
    );
    socket.setNoDelay(true);
    this.attach(socket);
    this.startupTimer = setTimeout(() => this.startupTimedOut(), startupTimeoutMs);
  }

  private attach(socket: Socket): void {
    socket.on('data', this.listeners.data);
    socket.on('end', this.listeners.end);
    socket.on('error', this.listeners.error);
    socket.on('close', this.listeners.close);
  }

  private detach(socket: Socket): void {
    socket.off('data', this.listeners.data);
    socket.off('end', this.listeners.end);
    socket.off('error', this.listeners.error);
    socket.off('close', this.listeners.close);
  }

  /**
   * Answers an SSLRequest with 'S' and continues over TLS: the node's certificate, TLS 1.2 or
   * newer, and a request for the client's certificate (verified against the cluster CA; a client
   * without one may still log in with a password).
   */
  private upgradeToTls(tls: PgTls): void {
    const raw = this.socket;
    this.detach(raw);
    raw.write('S');
    const t = new TLSSocket(raw, { isServer: true, secureContext: tls.context, requestCert: true, rejectUnauthorized: false });
    this.tlsSocket = t;
    this.socket = t;
    this.attach(t);
    t.setNoDelay(true);
  }

  /** The client certificate presented on this connection, if any. */
  private peerCertificate(): PeerCertificate | null {
    const t = this.tlsSocket;
    const tls = this.host.tls;
    if (!t || !tls) return null;
    const c = t.getPeerX509Certificate();
    if (!c) return null;
    const error = verifyClientCertificate(c, tls.cas, Date.now());
    const cn = /(?:^|\n)CN=([^\n]*)/.exec(c.subject)?.[1] ?? null;
    return { authorized: error === null, error, commonName: cn };
  }

  /** The peer's address as PostgreSQL prints it (IPv4-mapped IPv6 as IPv4). */
  private remoteHost(): string {
    const a = this.socket.remoteAddress ?? '';
    return a.startsWith('::ffff:') ? a.slice(7) : a;
  }

  /** Created on first use: most connections never log, and a child logger per connection is garbage. */
  private get log(): Logger {
    this.logger ??= logger('pgwire').child({ remote: `${this.remoteHost()}:${this.socket.remotePort}` });
    return this.logger;
  }

  get started(): boolean {
    return this.session !== null;
  }

  /** A method, not a field test, so TypeScript does not narrow the phase across calls. */
  private isClosed(): boolean {
    return this.phase === 'closed';
  }

  // ---- input -----------------------------------------------------------------------------------

  private onData(d: Buffer): void {
    this.host.metrics.bytesIn(d.length);
    this.clearIdleTimer();
    try {
      this.framer.push(d, (f) => this.onFrame(f));
    } catch (e) {
      if (e instanceof StartupCommError) {
        this.log.info({ reason: e.message }, 'connection refused during startup (nothing sent, as PostgreSQL)');
        this.closeQuietly();
        return;
      }
      this.fatal(e);
    }
  }

  private onFrame(f: Frame): boolean {
    if (this.phase === 'closed') return false;
    if (f.type === 0) {
      const socket = this.socket;
      this.startup(f.body);
      // After a switch to TLS the rest of this read (there is none: checked) is not ours to frame.
      return !this.isClosed() && this.socket === socket;
    }
    this.inbox.push(f);
    return true;
  }

  /** The client will send nothing more: finish what it sent, then close (PostgreSQL sees EOF last). */
  private onEnd(): void {
    this.inbox.close();
    if (!this.loopRunning) this.close();
  }

  private onClose(): void {
    if (!this.closedNotified) {
      this.closedNotified = true;
      this.host.connectionClosed(this);
      if (this.backend) this.host.engine.backends.remove(this.pid, this.backend);
    }
    this.phase = 'closed';
    this.clearIdleTimer();
    if (this.startupTimer) clearTimeout(this.startupTimer);
    this.inbox.close();
    // A running statement stops at its next yield point; the loop then finishes the session.
    if (this.session) this.session.cancelRequested = true;
    this.wakeWriter?.();
    if (!this.loopRunning) this.finish();
  }

  /** Closes the session once; the host learns of the socket's end through its own listener. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.backend) this.host.engine.backends.remove(this.pid, this.backend);
    this.session?.close();
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
    this.clearIdleTimer();
    this.inbox.close();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Closes the connection at once (server shutdown). */
  destroy(): void {
    this.socket.destroy();
  }

  /** The oldest connection still in startup makes room for a new one, or took too long. */
  closeQuietly(): void {
    this.phase = 'closed';
    this.socket.destroy();
  }

  private startupTimedOut(): void {
    this.startupTimer = null;
    if (this.phase !== 'startup') return;
    this.log.debug('startup timeout: closing a connection that did not finish startup');
    this.closeQuietly();
  }

  /**
   * pg_terminate_backend: FATAL 57P01 and close, at once when idle; a running statement is
   * interrupted (as by a cancel) and the connection ends when it returns.
   */
  terminate(): void {
    if (this.phase === 'closed' || this.terminateRequested) return;
    this.terminateRequested = true;
    if (!this.handling) {
      this.fatal(adminTerminated());
      return;
    }
    if (this.session) this.session.cancelRequested = true;
    this.wakeWriter?.();
  }

  /** pg_stat_activity's view of this session. */
  private activity(): BackendActivity {
    const s = this.session as Session;
    const status = s.status();
    const state = this.handling ? 'active' : status === 'I' ? 'idle' : status === 'T' ? 'idle in transaction' : 'idle in transaction (aborted)';
    return { database: s.database, applicationName: s.settings.get('application_name') ?? '', state, query: this.lastQuery };
  }

  /** A CancelRequest for this backend (PgServer checked the key). */
  cancel(): void {
    if (!this.session) return;
    this.session.cancelRequested = true;
    this.wakeWriter?.();
  }

  // ---- output ----------------------------------------------------------------------------------

  private flush(): void {
    if (this.out.size === 0) return;
    this.flushes++;
    const b = this.out.take();
    if (!this.socket.writable) return;
    this.host.metrics.bytesOut(b.length);
    this.socket.write(b);
  }

  /**
   * Back-pressure: null while the client keeps up; else a promise that resolves once the socket
   * has drained (or after backpressureRecheckMs, so the statement can check statement_timeout),
   * and rejects on a cancel (57014) or a closed connection.
   */
  private writable(): Promise<void> | null {
    if (this.out.size >= outputFlushBytes) this.flush();
    if (this.phase === 'closed') return Promise.reject(connectionClosed());
    if (this.session?.cancelRequested) {
      this.session.cancelRequested = false;
      return Promise.reject(queryCanceled());
    }
    if (this.socket.writableLength <= outputBackpressureBytes) return null;
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.socket.off('drain', done);
        this.wakeWriter = null;
        if (this.phase === 'closed') reject(connectionClosed());
        else if (this.session?.cancelRequested) {
          this.session.cancelRequested = false;
          reject(queryCanceled());
        } else resolve();
      };
      const timer = setTimeout(done, backpressureRecheckMs);
      this.socket.once('drain', done);
      this.wakeWriter = done;
    });
  }

  private sendError(err: PgError, severity: 'ERROR' | 'FATAL' = 'ERROR'): void {
    this.out.errorOrNotice('E', err.fields.severity ?? severity, err);
  }

  private notice(n: Notice): void {
    if (typeof n === 'string') this.out.errorOrNotice('N', 'NOTICE', { code: SqlState.SuccessfulCompletion, message: n, fields: {} });
    else this.out.errorOrNotice('N', n.severity, { code: n.code, message: n.message, fields: { ...(n.detail ? { detail: n.detail } : {}), ...(n.hint ? { hint: n.hint } : {}) } });
  }

  private readyForQuery(): void {
    const s = this.session as Session;
    // PostgreSQL sends notifications just before ReadyForQuery, outside a transaction block only.
    if (s.status() === 'I') this.sendNotifications();
    this.out.msg('Z', Buffer.from(s.status()));
    this.readySent = true;
  }

  /**
   * Notifications arrived for this session (notify.ts): sent now if the session is idle outside a
   * transaction block (between statements, waiting for the client), else at the next
   * ReadyForQuery that ends a block.
   */
  private notificationsArrived(): void {
    if (this.phase !== 'ready' || !this.readySent || (this.session as Session).status() !== 'I') return;
    this.sendNotifications();
    this.flush();
  }

  /**
   * NotificationResponses for the queued notifications, while the client keeps reading: beyond
   * outputBackpressureBytes unread the rest stay in the session's bounded queue (where a full
   * queue makes notifiers' COMMITs fail, as in PostgreSQL) and go out when the socket drains.
   */
  private sendNotifications(): void {
    const l = (this.session as Session).notifications;
    while (l.pending > 0) {
      if (this.socket.writableLength + this.out.size > outputBackpressureBytes) {
        if (!this.drainArmed) {
          this.drainArmed = true;
          this.socket.once('drain', () => {
            this.drainArmed = false;
            this.notificationsArrived();
          });
        }
        return;
      }
      const n = l.take();
      if (n === null) return;
      const at = this.out.begin('A');
      this.out.i32(n.pid).cstr(n.channel).cstr(n.payload);
      this.out.end(at);
      if (this.out.size >= outputFlushBytes) this.flush();
    }
  }

  private parameterStatus(name: string): void {
    const s = this.session as Session;
    const at = this.out.begin('S');
    this.out.cstr(settingDisplayName[name] ?? name).cstr(s.settings.get(name) ?? '');
    this.out.end(at);
  }

  private afterStatement(): void {
    const s = this.session as Session;
    for (const name of s.changedSettings) if (reportedSettings.includes(name)) this.parameterStatus(name);
    s.changedSettings.clear();
  }

  // ---- startup ---------------------------------------------------------------------------------

  private startup(pkt: Buffer): void {
    const code = pkt.readInt32BE(0);
    if (code === sslRequestCode || code === gssEncRequestCode) {
      if (pkt.length !== 4) throw new StartupCommError('invalid length of startup packet');
      if (this.tlsSocket) throw protocolFatal(`unsupported frontend protocol ${code >>> 16}.${code & 0xffff}: server supports 3.0 to 3.0`);
      const tls = this.host.tls;
      if (code === sslRequestCode && tls) {
        // The client must wait for our answer before its TLS handshake (CVE-2021-23214).
        if (this.framer.bufferedBytes > 0) throw protocolFatal('received unencrypted data after SSL request');
        this.upgradeToTls(tls);
        return;
      }
      // No GSSAPI encryption, and no TLS in insecure mode: the client goes on in plain text
      // (or, with sslmode=require, gives up).
      this.socket.write('N');
      return;
    }
    if (code === cancelRequestCode) {
      if (pkt.length === 12) this.host.cancel(pkt.readInt32BE(4), pkt.readInt32BE(8));
      this.closeQuietly();
      return;
    }
    if (code !== protocolVersion3) {
      throw new PgError(SqlState.FeatureNotSupported, `unsupported frontend protocol ${code >>> 16}.${code & 0xffff}: server supports 3.0 to 3.0`, { severity: 'FATAL' });
    }
    const params = this.startupParams(pkt.subarray(4));
    const user = params.get('user');
    if (!user) throw new PgError(SqlState.InvalidAuthorizationSpecification, 'no PostgreSQL user name specified in startup packet', { severity: 'FATAL' });
    const database = params.get('database') || user;
    // From here on messages are typed (password messages, then queries).
    this.framer.startupDone();
    this.phase = 'auth';
    void this.login(params, user, database);
  }

  /**
   * Authenticates (authenticate.ts), then checks the role may log in and connect to the
   * database, and starts the session. Every outcome is in the audit log.
   */
  private async login(params: Map<string, string>, user: string, database: string): Promise<void> {
    const ssl = this.tlsSocket !== null;
    const event = { user, database, remote: this.remoteHost(), ssl };
    let method: string | null = null;
    try {
      const engine = this.host.engine;
      const tls = this.host.tls;
      const snapshot = await loginSnapshot(engine, tls !== null);
      const transport: AuthTransport = {
        sendAuth: (code, payload) => {
          const b = Buffer.alloc(4 + (payload?.length ?? 0));
          b.writeInt32BE(code, 0);
          payload?.copy(b, 4);
          this.out.msg('R', b);
          this.flush();
        },
        passwordMessage: (kind) => this.passwordMessage(kind),
      };
      method = await authenticate({ ...event, secure: tls !== null, peer: this.peerCertificate(), channelBinding: tls?.channelBinding ?? null, snapshot, mockSecret: this.host.mockSecret }, transport);
      const role = authorizeSession(engine, snapshot.auth, user, database);
      if (this.isClosed()) return;
      this.beginSession(params, user, database, snapshot.auth.isSuperuser(role.oid), role.oid);
      auditLogin({ ...event, method });
    } catch (e) {
      if (this.isClosed()) {
        this.log.debug({ user }, 'client disconnected during authentication');
        return;
      }
      const refused = e instanceof LoginRefused ? e : null;
      let err = refused ? refused.error : toPgError(e);
      if (err.fields.severity !== 'FATAL') err = new PgError(err.code, err.message, { ...err.fields, severity: 'FATAL' });
      if (!refused && !(e instanceof PgError)) this.log.error({ err: e }, 'login failed');
      auditLoginFailed({ ...event, method: refused?.method ?? method, reason: refused?.reason ?? err.message });
      this.fatal(err);
    }
  }

  /** The client's next password message body ('p'); anything else is FATAL 08P01. */
  private async passwordMessage(kind: 'password' | 'SASL'): Promise<Buffer> {
    for (;;) {
      const f = this.inbox.shift();
      if (f) {
        if (f.type === 0x70) return f.body;
        throw protocolFatal(`expected ${kind} response, got message type ${f.type}`);
      }
      if (this.inbox.isClosed || this.isClosed()) throw connectionClosed();
      this.flush();
      await this.inbox.wait();
    }
  }

  private beginSession(params: Map<string, string>, user: string, database: string, superuser: boolean, roleOid: number): void {
    const engine = this.host.engine;
    const { pid, secret } = this.host.register(this);
    this.pid = pid;
    this.secret = secret;
    // PostgreSQL's order: the `options` switches first (a setting we lack is refused: the user
    // asked for it), then the packet's own parameters (drivers send PostgreSQL settings we may
    // not have: those are ignored; a known one with a bad value is refused).
    const settings: { name: string; value: string; strict: boolean }[] = [];
    const options = params.get('options');
    if (options) for (const [name, value] of parseStartupOptions(options)) settings.push({ name, value, strict: true });
    for (const [k, v] of params) if (!['user', 'database', 'application_name', 'options', 'replication'].includes(k)) settings.push({ name: k, value: v, strict: false });
    this.session = new Session(engine, { database, user, applicationName: params.get('application_name') ?? '', backendPid: pid, settings, serverSettings: this.host.serverSettings, superuser, roleOid });
    this.session.notifications.onArrival = () => this.notificationsArrived();
    this.session.protocolStatements = () => this.prepared;
    this.backend = { user, superuser, activity: () => this.activity(), cancel: () => this.cancel(), terminate: () => this.terminate() };
    engine.backends.add(pid, this.backend);
    if (this.startupTimer) clearTimeout(this.startupTimer);
    this.startupTimer = null;
    for (const name of reportedSettings) this.parameterStatus(name);
    const kd = Buffer.alloc(8);
    kd.writeInt32BE(pid, 0);
    kd.writeInt32BE(secret, 4);
    this.out.msg('K', kd);
    this.phase = 'ready';
    this.readyForQuery();
    this.log.debug({ user, database, pid }, 'connection established');
    void this.run();
  }

  /** Name/value pairs of a startup packet; text must be valid UTF-8 (FATAL 22021). */
  private startupParams(b: Buffer): Map<string, string> {
    const r = new MessageReader(b);
    const params = new Map<string, string>();
    try {
      for (;;) {
        const k = r.cstring();
        if (k === '') break;
        params.set(k, r.cstring());
      }
      r.end();
    } catch (e) {
      if (e instanceof PgError && e.code === SqlState.CharacterNotInRepertoire) throw new PgError(e.code, e.message, { severity: 'FATAL' });
      throw protocolFatal('invalid startup packet layout: expected terminator as last byte');
    }
    return params;
  }

  // ---- message loop ----------------------------------------------------------------------------

  private async run(): Promise<void> {
    this.loopRunning = true;
    try {
      for (;;) {
        const f = await this.nextMessage();
        if (f === null) break;
        this.readySent = false;
        await this.handle(f);
        if (this.phase === 'closed') break;
        // Back-pressure between messages too: a client that pipelines queries without reading
        // their answers is not read any further until it does.
        const w = this.writable();
        if (w) await w.catch(() => undefined);
        if (this.out.size >= outputFlushBytes) this.flush();
      }
    } catch (e) {
      this.fatal(e);
    } finally {
      this.loopRunning = false;
      this.flush();
      if (this.phase !== 'closed' && this.inbox.isClosed) this.close();
      if (this.phase === 'closed') this.finish();
    }
  }

  /** The next message; before waiting for one, flushes output and arms the idle timers. */
  private async nextMessage(): Promise<Frame | null> {
    let f = this.inbox.shift();
    if (f) return f;
    this.flush();
    this.out.shrink();
    if (this.readySent) this.armIdleTimer();
    while ((f = this.inbox.shift()) === null) {
      if (this.inbox.isClosed || this.phase === 'closed') return null;
      await this.inbox.wait();
    }
    this.clearIdleTimer();
    return f;
  }

  private armIdleTimer(): void {
    const s = this.session as Session;
    const inTxn = s.status() !== 'I';
    const name = inTxn ? 'idle_in_transaction_session_timeout' : 'idle_session_timeout';
    const ms = idleTimeoutMs(s, name);
    if (ms <= 0) return;
    this.clearIdleTimer();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.phase === 'closed' || this.inbox.length > 0) return;
      const err = inTxn
        ? new PgError(SqlState.IdleInTransactionSessionTimeout, 'terminating connection due to idle-in-transaction timeout', { severity: 'FATAL' })
        : new PgError(SqlState.IdleSessionTimeout, 'terminating connection due to idle-session timeout', { severity: 'FATAL' });
      this.log.info({ pid: this.pid, setting: name }, err.message);
      this.fatal(err);
    }, ms);
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private async handle(f: Frame): Promise<void> {
    this.handling = true;
    const flushes = this.flushes;
    const mark = this.out.size;
    try {
      await this.dispatch(f);
    } catch (e) {
      if (!this.terminateRequested) throw e;
    } finally {
      this.handling = false;
    }
    if (this.terminateRequested && this.phase !== 'closed') {
      // As PostgreSQL's interrupt: the FATAL replaces what the statement had not yet sent (a
      // session that terminated itself gets no result, only the FATAL).
      if (this.flushes === flushes) this.out.truncate(mark);
      throw adminTerminated();
    }
  }

  private async dispatch(f: Frame): Promise<void> {
    const type = String.fromCharCode(f.type);
    const body = f.body;
    if (this.skipUntilSync && type !== 'S' && type !== 'X') return;
    switch (type) {
      case 'Q':
        return this.simpleQuery(body);
      case 'P':
        return this.extended(() => this.parse(body));
      case 'B':
        return this.extended(() => this.bind(body));
      case 'D':
        return this.extended(() => this.describe(body));
      case 'E':
        return this.extended(() => this.execute(body));
      case 'C':
        return this.extended(() => this.closeMessage(body));
      case 'S':
        this.skipUntilSync = false;
        this.readyForQuery();
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
      case 'F':
        return this.functionCall(body);
      default:
        // The framer lets only known types through.
        throw protocolFatal(`invalid frontend message type ${f.type}`);
    }
  }

  /** After an ERROR: a statement interrupted mid-exchange (COPY) leaves the protocol out of step. */
  private afterError(): void {
    if (this.syncLost) throw protocolFatal('terminating connection because protocol synchronization was lost');
  }

  private async extended(f: () => void | Promise<void>): Promise<void> {
    try {
      await f();
    } catch (e) {
      if (this.terminateRequested) throw adminTerminated();
      const err = toPgError(e);
      if (err.fields.severity === 'FATAL') throw err;
      if (!(e instanceof PgError)) this.log.error({ err: e }, 'internal error');
      this.session?.onError(e);
      this.sendError(err);
      this.skipUntilSync = true;
      this.afterError();
    }
  }

  // ---- simple query ----------------------------------------------------------------------------

  private async simpleQuery(body: Buffer): Promise<void> {
    const s = this.session as Session;
    const started = process.hrtime.bigint();
    let kind = 'other';
    try {
      const r = new MessageReader(body);
      const sql = r.cstring();
      r.end();
      this.lastQuery = sql;
      s.cancelRequested = false;
      let cols: Column[] = [];
      await s.simpleQuery(sql, {
        rowDescription: (c, formats) => {
          cols = c;
          this.rowDescription(c, formats);
        },
        row: (v, _cols, formats) => {
          this.dataRow(v, cols, formats);
          if (this.out.size >= outputFlushBytes) this.flush();
        },
        complete: (tag) => {
          kind = tag.split(' ')[0]?.toLowerCase() || kind;
          this.out.msg('C', Buffer.from(tag + '\0'));
          this.afterStatement();
          if (this.out.size >= outputFlushBytes) this.flush();
        },
        notice: (m) => this.notice(m),
        empty: () => this.out.msg('I', null),
        copyIn: (n, f) => this.copyIn(n, f),
        copyOut: (n, f) => this.out.msg('H', copyResponse(n, f)),
        copyData: (d) => this.copyData(d),
        copyDone: () => this.out.msg('c', null),
        writable: () => this.writable(),
      });
      this.host.metrics.statement(kind, Number(process.hrtime.bigint() - started) / 1e9, null);
    } catch (e) {
      if (this.terminateRequested) throw adminTerminated();
      const err = toPgError(e);
      if (err.fields.severity === 'FATAL') throw err;
      if (!(e instanceof PgError)) this.log.error({ err: e }, 'internal error');
      s.onError(e);
      this.sendError(err);
      // A rolled-back block undoes its SETs: the client learns the values it had again.
      this.afterStatement();
      this.host.metrics.statement(kind, Number(process.hrtime.bigint() - started) / 1e9, err.code);
      this.afterError();
    }
    this.readyForQuery();
  }

  /** FunctionCall (function_call.ts): runs as a one-statement query; answers 'V' then ReadyForQuery. */
  private async functionCall(body: Buffer): Promise<void> {
    const s = this.session as Session;
    try {
      const call = parseFunctionCall(body);
      const vctx = s.vctx();
      const params: Value[] = call.args.map((a, i) => {
        const t = call.argTypes[i] as SqlType;
        if (a.raw === null) return null;
        return a.format === 1 ? binaryParam(a.raw, t, i + 1) : parseValue(decodeUtf8Strict(a.raw), t, vctx);
      });
      s.cancelRequested = false;
      const p = await s.prepareAsync(functionCallSql(call), call.argTypes.map(typeOid));
      let result: Value = null;
      await s.execute(s.bind(p, params), 0, {
        row: (v) => (result = v[0] ?? null),
        notice: (m) => this.notice(m),
        writable: () => this.writable(),
        copyIn: () => {
          throw protocolFatal('COPY in a function call');
        },
        copyOut: () => undefined,
        copyData: () => undefined,
        copyDone: () => undefined,
      });
      const value = result as Value;
      if (value === null) this.out.msg('V', Buffer.from([0xff, 0xff, 0xff, 0xff]));
      else {
        const b = call.resultFormat === 1 ? encodeBinary(value, call.resultType, s.vctx()) : Buffer.from(formatValue(value, call.resultType, s.vctx()) ?? '');
        const m = Buffer.alloc(4 + b.length);
        m.writeInt32BE(b.length, 0);
        b.copy(m, 4);
        this.out.msg('V', m);
      }
      this.afterStatement();
    } catch (e) {
      if (this.terminateRequested) throw adminTerminated();
      const err = toPgError(e);
      if (err.fields.severity === 'FATAL') throw err;
      if (!(e instanceof PgError)) this.log.error({ err: e }, 'internal error');
      s.onError(e);
      this.sendError(err);
      this.afterStatement();
    }
    this.readyForQuery();
  }

  private copyData(d: Buffer): void {
    this.out.msg('d', d);
    if (this.out.size >= outputFlushBytes) this.flush();
  }

  /**
   * COPY FROM STDIN: sends CopyInResponse, then yields the CopyData that follow in the inbox until
   * CopyDone. CopyFail raises 57014; Flush and Sync are ignored (the protocol says so); any other
   * message is 08P01 and ends the connection (as in PostgreSQL: the exchange is out of step).
   */
  private async *copyIn(columns: number, format: 0 | 1 = 0): AsyncGenerator<Buffer> {
    const s = this.session as Session;
    this.out.msg('G', copyResponse(columns, format));
    this.flush();
    for (;;) {
      let f = this.inbox.shift();
      while (f === null) {
        if (this.inbox.isClosed || this.phase === 'closed') throw connectionClosed();
        this.flush();
        await this.inbox.wait();
        f = this.inbox.shift();
      }
      if (s.cancelRequested) {
        s.cancelRequested = false;
        throw queryCanceled();
      }
      switch (f.type) {
        case 0x64: // CopyData
          yield f.body;
          break;
        case 0x63: // CopyDone
          return;
        case 0x66: {
          // CopyFail
          const r = new MessageReader(f.body);
          throw new PgError(SqlState.QueryCanceled, `COPY from stdin failed: ${r.cstring()}`);
        }
        case 0x48: // Flush
        case 0x53: // Sync
          break;
        default:
          this.syncLost = true;
          throw new PgError(SqlState.ProtocolViolation, `unexpected message type 0x${f.type.toString(16).padStart(2, '0')} during COPY from stdin`);
      }
    }
  }

  // ---- extended query --------------------------------------------------------------------------

  private async parse(body: Buffer): Promise<void> {
    const r = new MessageReader(body);
    const name = r.cstring();
    const sql = r.cstring();
    const n = r.uint16();
    const oids: number[] = [];
    for (let i = 0; i < n; i++) oids.push(r.int32() >>> 0);
    r.end();
    if (name !== '' && this.prepared.has(name)) throw new PgError(SqlState.DuplicatePreparedStatement, `prepared statement "${name}" already exists`);
    // prepareAsync: the statement is analyzed against the catalog as of now — in a cluster this
    // node first applies what the leaseholder has (a schema change through another node).
    const p = await (this.session as Session).prepareAsync(sql, oids);
    if (p.paramTypes.length > bindParamsMax) {
      throw new PgError(SqlState.ProgramLimitExceeded, `prepared statement has ${p.paramTypes.length} parameters; a Bind message can carry at most ${bindParamsMax}`);
    }
    if (p.columns) checkColumnCount(p.columns);
    p.preparedAtUs = Date.now() * 1000;
    this.prepared.set(name, p);
    this.out.msg('1', null);
  }

  private bind(body: Buffer): void {
    const r = new MessageReader(body);
    const portalName = r.cstring();
    const stmtName = r.cstring();
    const p = this.prepared.get(stmtName);
    if (!p) throw new PgError(SqlState.InvalidSqlStatementName, `prepared statement "${stmtName}" does not exist`);
    const nf = r.uint16();
    const formats: number[] = [];
    for (let i = 0; i < nf; i++) formats.push(r.int16());
    const np = r.uint16();
    if (nf > 1 && nf !== np) throw malformed(`bind message has ${nf} parameter formats but ${np} parameters`);
    if (np !== p.paramTypes.length) {
      throw malformed(`bind message supplies ${np} parameters, but prepared statement "${stmtName}" requires ${p.paramTypes.length}`);
    }
    const s = this.session as Session;
    // The parameters' places first; then decoded in order (a decoding error comes before a
    // malformed-message error further on, as when each is decoded as it is read).
    const starts = new Int32Array(np);
    const lengths = new Int32Array(np);
    let scanned = 0;
    let scanError: unknown = null;
    try {
      for (; scanned < np; scanned++) {
        const len = r.int32();
        lengths[scanned] = len;
        starts[scanned] = r.offset;
        if (len !== -1) r.skip(len);
      }
    } catch (e) {
      scanError = e;
    }
    const decode = (): Value[] => {
      const vctx = s.vctx();
      const params: Value[] = [];
      for (let i = 0; i < scanned; i++) {
        const len = lengths[i] as number;
        if (len === -1) {
          params.push(null);
          continue;
        }
        const raw = body.subarray(starts[i], (starts[i] as number) + len);
        const fmt = nf === 0 ? 0 : nf === 1 ? (formats[0] as number) : (formats[i] as number);
        const t = p.paramTypes[i] as SqlType;
        if (fmt === 1) params.push(binaryParam(raw, t, i + 1));
        else if (fmt === 0) params.push(parseValue(decodeUtf8Strict(raw), t, vctx));
        else throw new PgError(SqlState.InvalidParameterValue, `unsupported format code: ${fmt}`);
      }
      return params;
    };
    // A prepared TS INSERT of parameter rows: straight into TS write commands (ts_insert_bind.ts).
    const built = scanError === null && np > 0 ? s.bindTsWrite(p, body, starts, lengths, formats) : null;
    const params = built ? [] : decode();
    if (scanError !== null) throw scanError;
    const nr = r.uint16();
    const rf: number[] = [];
    for (let i = 0; i < nr; i++) rf.push(r.int16());
    r.end();
    for (const f of rf) if (f !== 0 && f !== 1) throw new PgError(SqlState.InvalidParameterValue, `unsupported format code: ${f}`);
    const ncols = p.columns?.length ?? 0;
    if (nr > 1 && nr !== ncols) throw malformed(`bind message has ${nr} result formats but query has ${ncols} columns`);
    const portal = s.bind(p, params) as ExecPortal;
    if (built) portal.bound = { ...built, decode };
    portal.resultFormats = rf;
    this.portals.set(portalName, portal);
    this.out.msg('2', null);
  }

  private describe(body: Buffer): void {
    const r = new MessageReader(body);
    const kind = String.fromCharCode(r.byte());
    const name = r.cstring();
    r.end();
    if (kind === 'S') {
      const p = this.prepared.get(name);
      if (!p) throw new PgError(SqlState.InvalidSqlStatementName, `prepared statement "${name}" does not exist`);
      const pd = Buffer.alloc(2 + 4 * p.paramTypes.length);
      pd.writeUInt16BE(p.paramTypes.length, 0);
      p.paramTypes.forEach((t, i) => pd.writeUInt32BE(typeOid(t), 2 + 4 * i));
      this.out.msg('t', pd);
      if (p.columns) this.rowDescription(p.columns, []);
      else this.out.msg('n', null);
      return;
    }
    if (kind === 'P') {
      const portal = this.portals.get(name);
      if (!portal && name !== '') {
        // A SQL cursor is a portal too (PostgreSQL's): psycopg 3 describes its named cursors so.
        const cols = (this.session as Session).cursorColumns(name);
        if (cols) {
          if (cols.length > 0) this.rowDescription(cols, []);
          else this.out.msg('n', null);
          return;
        }
      }
      if (!portal) throw new PgError(SqlState.InvalidCursorName, `portal "${name}" does not exist`);
      if (portal.prepared.columns) this.rowDescription(portal.prepared.columns, portal.resultFormats);
      else this.out.msg('n', null);
      return;
    }
    throw malformed(`invalid DESCRIBE message subtype ${kind.charCodeAt(0)}`);
  }

  private closeMessage(body: Buffer): void {
    const r = new MessageReader(body);
    const kind = String.fromCharCode(r.byte());
    const name = r.cstring();
    r.end();
    if (kind === 'S') this.prepared.delete(name);
    else if (kind === 'P') this.portals.delete(name);
    else throw malformed(`invalid CLOSE message subtype ${kind.charCodeAt(0)}`);
    this.out.msg('3', null);
  }

  private async execute(body: Buffer): Promise<void> {
    const r = new MessageReader(body);
    const name = r.cstring();
    const maxRows = r.int32();
    r.end();
    const portal = this.portals.get(name);
    if (!portal) throw new PgError(SqlState.InvalidCursorName, `portal "${name}" does not exist`);
    const s = this.session as Session;
    if (portal.prepared.stmt.kind === 'empty') {
      this.out.msg('I', null);
      return;
    }
    const started = process.hrtime.bigint();
    const cols = portal.prepared.columns ?? [];
    if (!portal.running) s.cancelRequested = false;
    this.lastQuery = portal.prepared.text;
    try {
      const res = await s.execute(portal, Math.max(0, maxRows), {
        row: (v) => {
          this.dataRow(v, cols, portal.resultFormats);
          if (this.out.size >= outputFlushBytes) this.flush();
        },
        notice: (m) => this.notice(m),
        writable: () => this.writable(),
        copyIn: (n, f) => this.copyIn(n, f),
        copyOut: (n, f) => this.out.msg('H', copyResponse(n, f)),
        copyData: (d) => this.copyData(d),
        copyDone: () => this.out.msg('c', null),
      });
      if (res.tag === null) {
        this.out.msg('s', null);
        return;
      }
      this.out.msg('C', Buffer.from(res.tag + '\0'));
      this.afterStatement();
      this.host.metrics.statement(res.tag.split(' ')[0]?.toLowerCase() ?? 'other', Number(process.hrtime.bigint() - started) / 1e9, null);
    } catch (e) {
      this.host.metrics.statement(portal.prepared.stmt.kind, Number(process.hrtime.bigint() - started) / 1e9, toPgError(e).code);
      throw e;
    }
  }

  // ---- rows ------------------------------------------------------------------------------------

  private rowDescription(cols: Column[], formats: number[]): void {
    checkColumnCount(cols);
    const out = this.out;
    const at = out.begin('T');
    out.i16(cols.length);
    cols.forEach((c, i) => {
      const t = c.type;
      out.cstr(c.name);
      out.u32(c.tableOid ?? 0);
      out.i16(c.columnNum ?? 0);
      out.u32(typeOid(t));
      out.i16(typeLen(t));
      out.i32(t.typmod >= 0 && (t.kind === 'varchar' || t.kind === 'bpchar' || t.kind === 'numeric') ? t.typmod + 4 : t.typmod);
      out.i16(formats.length === 0 ? 0 : formats.length === 1 ? (formats[0] as number) : (formats[i] ?? 0));
    });
    out.end(at);
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

/** A session's idle timeout setting in ms (0: off; SET already refused invalid values). */
function idleTimeoutMs(s: Session, name: string): number {
  try {
    return parseDurationMs(s.settings.get(name) ?? '0', name);
  } catch {
    return 0;
  }
}

/** 54011 past PostgreSQL's column limit (which also keeps the 16-bit column counts exact). */
function checkColumnCount(cols: Column[]): void {
  if (cols.length > resultColumnsMax) throw new PgError(SqlState.TooManyColumns, `target lists can have at most ${resultColumnsMax} entries`);
}

/**
 * A binary-format Bind parameter; bytes that do not decode are 22P03, never an internal error.
 * A fixed-size type given fewer bytes is 08P01, more 22P03 — PostgreSQL's answers (its recv
 * functions read past the value, or leave bytes over).
 */
function binaryParam(raw: Buffer, t: SqlType, n: number): Value {
  const fixed = fixedBinaryBytes(t);
  if (fixed > 0 && raw.length < fixed) throw malformed('insufficient data left in message');
  if (fixed > 0 && raw.length > fixed) throw new PgError(SqlState.InvalidBinaryRepresentation, `incorrect binary data format in bind parameter ${n}`);
  try {
    return decodeBinary(raw, t);
  } catch (e) {
    if (e instanceof PgError) throw e;
    throw new PgError(SqlState.InvalidBinaryRepresentation, `incorrect binary data format in bind parameter ${n}`);
  }
}

export { typeFromOid };
