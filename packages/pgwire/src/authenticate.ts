/**
 * Client authentication on a connection that sent its startup packet (PostgreSQL's
 * ClientAuthentication): picks the method from the host-based rules (secure mode) and runs its
 * message exchange — SCRAM-SHA-256[-PLUS] (AuthenticationSASL/SASLContinue/SASLFinal), a
 * cleartext password (AuthenticationCleartextPassword), a client certificate (no messages), or
 * trust (insecure mode). Every failure is FATAL; a wrong password, an unknown role and a role
 * without a password all give the same 28P01 after the same exchange.
 *
 * Pure of sockets: the connection supplies a transport that sends Authentication messages and
 * reads password messages.
 */
import { PgError, SqlState } from '@strata/common';
import { ScramServer, checkPassword, matchHba, mockVerifier, parseVerifier, scramMechanism, scramPlusMechanism } from '@strata/sql';
import type { HbaMethod, LoginSnapshot } from '@strata/sql';
import { MessageReader } from './reader.js';

export interface AuthTransport {
  /** Sends AuthenticationXXX (code and payload) and flushes. */
  sendAuth(code: number, payload?: Buffer): void;
  /** The body of the client's next message, which must be a password message ('p'). */
  passwordMessage(kind: 'password' | 'SASL'): Promise<Buffer>;
}

export interface PeerCertificate {
  /** Verified against the cluster CA (chain, validity period). */
  authorized: boolean;
  error: string | null;
  commonName: string | null;
}

export interface AuthRequest {
  user: string;
  database: string;
  remote: string;
  ssl: boolean;
  secure: boolean;
  /** The client's certificate, if it presented one. */
  peer: PeerCertificate | null;
  channelBinding: Buffer | null;
  snapshot: LoginSnapshot;
  mockSecret: Buffer;
}

/** A refused login: what the client is told, and why (for the audit log only). */
export class LoginRefused extends Error {
  constructor(
    readonly error: PgError,
    readonly reason: string,
    readonly method: string | null,
  ) {
    super(error.message);
  }
}

function fatal(code: (typeof SqlState)[keyof typeof SqlState], message: string): PgError {
  return new PgError(code, message, { severity: 'FATAL' });
}

const authOk = 0;
const authCleartextPassword = 3;
const authSasl = 10;
const authSaslContinue = 11;
const authSaslFinal = 12;

/** Authenticates; returns the method that succeeded, or throws LoginRefused. */
export async function authenticate(req: AuthRequest, t: AuthTransport): Promise<string> {
  const enc = req.ssl ? 'SSL encryption' : 'no encryption';
  const where = `host "${req.remote}", user "${req.user}", database "${req.database}", ${enc}`;
  if (req.peer && !req.peer.authorized) {
    throw new LoginRefused(fatal(SqlState.InvalidAuthorizationSpecification, `client certificate verification failed: ${req.peer.error ?? 'not signed by the cluster CA'}`), `invalid client certificate (${req.peer.error})`, 'cert');
  }
  let method: HbaMethod = 'trust';
  let clientcert: 'verify-ca' | 'verify-full' | null = null;
  if (req.secure) {
    // Secure mode serves sessions over TLS only, whatever the rules say (a password or a query
    // in plain text would cross the network readable).
    const rule = req.ssl ? matchHba(req.snapshot.hba ?? [], { ssl: req.ssl, address: req.remote, database: req.database, user: req.user, memberOf: (r) => memberOf(req, r) }) : null;
    if (!rule) throw new LoginRefused(fatal(SqlState.InvalidAuthorizationSpecification, `no pg_hba.conf entry for ${where}`), req.ssl ? 'no matching rule' : 'plaintext connection in secure mode', null);
    method = rule.method;
    clientcert = rule.clientcert;
  }
  const certFor = (who: string) => req.peer !== null && req.peer.authorized && req.peer.commonName === who;
  if (clientcert === 'verify-ca' && !req.peer) throw new LoginRefused(fatal(SqlState.InvalidAuthorizationSpecification, 'connection requires a valid client certificate'), 'no client certificate (clientcert=verify-ca)', method);
  if (clientcert === 'verify-full' && !certFor(req.user)) throw new LoginRefused(fatal(SqlState.InvalidAuthorizationSpecification, `certificate authentication failed for user "${req.user}"`), 'certificate does not name the user (clientcert=verify-full)', method);
  switch (method) {
    case 'reject':
      throw new LoginRefused(fatal(SqlState.InvalidAuthorizationSpecification, `pg_hba.conf rejects connection for ${where}`), 'rejected by rule', method);
    case 'trust':
      break;
    case 'cert':
      if (!req.peer) throw new LoginRefused(fatal(SqlState.InvalidAuthorizationSpecification, 'connection requires a valid client certificate'), 'no client certificate', method);
      if (!certFor(req.user)) throw new LoginRefused(fatal(SqlState.InvalidAuthorizationSpecification, `certificate authentication failed for user "${req.user}"`), `certificate is for "${req.peer.commonName}"`, method);
      break;
    case 'cert-password':
      if (certFor(req.user)) {
        t.sendAuth(authOk);
        return 'cert';
      }
      await scram(req, t);
      t.sendAuth(authOk);
      return 'scram-sha-256';
    case 'scram-sha-256':
      await scram(req, t);
      break;
    case 'password':
      await cleartext(req, t);
      break;
  }
  t.sendAuth(authOk);
  return method;
}

function memberOf(req: AuthRequest, role: string): boolean {
  const a = req.snapshot.auth;
  const u = a.role(req.user);
  const r = a.role(role);
  return !!u && !!r && a.isMemberOf(u.oid, r.oid);
}

function passwordFailed(req: AuthRequest, reason: string, method: string): LoginRefused {
  return new LoginRefused(fatal(SqlState.InvalidPassword, `password authentication failed for user "${req.user}"`), reason, method);
}

/** The stored verifier, or why there is none (the exchange then runs against a mock). */
function storedVerifier(req: AuthRequest): { text: string | null; reason: string } {
  const role = req.snapshot.auth.role(req.user);
  if (!role) return { text: null, reason: `role "${req.user}" does not exist` };
  if (!role.password) return { text: null, reason: `user "${req.user}" has no password assigned` };
  return { text: role.password, reason: '' };
}

async function scram(req: AuthRequest, t: AuthTransport): Promise<void> {
  const stored = storedVerifier(req);
  const verifier = (stored.text ? parseVerifier(stored.text) : null) ?? mockVerifier(req.user, req.mockSecret);
  const binding = req.ssl ? req.channelBinding : null;
  const mechs = Buffer.from(`${binding ? `${scramPlusMechanism}\0` : ''}${scramMechanism}\0\0`);
  t.sendAuth(authSasl, mechs);
  const first = new MessageReader(await t.passwordMessage('SASL'));
  const mechanism = first.cstring();
  const len = first.int32();
  if (len < 0) throw new LoginRefused(new PgError(SqlState.ProtocolViolation, 'malformed SASL message', { severity: 'FATAL' }), 'no client-first-message', 'scram-sha-256');
  const clientFirst = first.bytes(len).toString('utf8');
  first.end();
  const server = new ScramServer(verifier, binding);
  let serverFinal: string | null;
  try {
    t.sendAuth(authSaslContinue, Buffer.from(server.first(mechanism, clientFirst)));
    const final = (await t.passwordMessage('SASL')).toString('utf8');
    serverFinal = server.final(final);
  } catch (e) {
    if (e instanceof PgError) throw new LoginRefused(e, `SCRAM exchange: ${e.message}`, 'scram-sha-256');
    throw e;
  }
  if (serverFinal === null || !stored.text) throw passwordFailed(req, stored.text ? 'wrong password' : stored.reason, 'scram-sha-256');
  t.sendAuth(authSaslFinal, Buffer.from(serverFinal));
}

async function cleartext(req: AuthRequest, t: AuthTransport): Promise<void> {
  t.sendAuth(authCleartextPassword);
  const r = new MessageReader(await t.passwordMessage('password'));
  const password = r.cstring();
  r.end();
  const stored = storedVerifier(req);
  if (!stored.text) throw passwordFailed(req, stored.reason, 'password');
  if (!(await checkPassword(password, stored.text))) throw passwordFailed(req, 'wrong password', 'password');
}
