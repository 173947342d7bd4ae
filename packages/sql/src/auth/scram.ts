/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it (sasl-authentication.html):
 * password verifiers in PostgreSQL's stored format, and the server side of the exchange, with
 * tls-server-end-point channel binding (RFC 5929) for SCRAM-SHA-256-PLUS. Pure: the wire layer
 * feeds it the client's messages and sends what it returns.
 *
 * The server never sees the password during a login, and stores only
 * SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> (base64), so the stored verifier
 * cannot be replayed as a password.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { PgError, SqlState } from '@strata/common';
import { passwordBytesMax, scramIterations, scramIterationsMax, scramIterationsMin, scramNonceBytes, scramSaltBytes } from './constants.js';

export const scramMechanism = 'SCRAM-SHA-256';
export const scramPlusMechanism = 'SCRAM-SHA-256-PLUS';

export interface ScramVerifier {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

const hmac = (key: Buffer, data: string | Buffer) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

/**
 * SASLprep (RFC 4013) as PostgreSQL applies it: NFKC normalization with spaces mapped and
 * "mapped to nothing" characters removed. Like PostgreSQL, a password that is not valid for
 * SASLprep is used as is (libpq does the same on the client side).
 */
export function saslPrep(password: string): string {
  let mapped = '';
  for (const ch of password) {
    const c = ch.codePointAt(0) as number;
    // RFC 3454 C.1.2 non-ASCII spaces → space; B.1 "commonly mapped to nothing" → removed.
    if (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200b) || c === 0x202f || c === 0x205f || c === 0x3000) mapped += ' ';
    else if (c === 0xad || c === 0x34f || c === 0x1806 || (c >= 0x180b && c <= 0x180d) || c === 0x200c || c === 0x200d || c === 0x2060 || (c >= 0xfe00 && c <= 0xfe0f) || c === 0xfeff) continue;
    else mapped += ch;
  }
  const n = mapped.normalize('NFKC');
  // Prohibited output (controls, private use, non-characters): use the raw password.
  for (const ch of n) {
    const c = ch.codePointAt(0) as number;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0xe000 && c <= 0xf8ff) || (c >= 0xfff9 && c <= 0xfffd)) return password;
  }
  return n;
}

/** Derives a verifier from a password (PBKDF2 off the event loop). */
export async function makeVerifier(password: string, iterations = scramIterations, salt: Buffer = randomBytes(scramSaltBytes)): Promise<string> {
  if (Buffer.byteLength(password) > passwordBytesMax) throw new PgError(SqlState.InvalidParameterValue, `password is too long (at most ${passwordBytesMax} bytes)`);
  const salted = await new Promise<Buffer>((res, rej) => pbkdf2(Buffer.from(saslPrep(password)), salt, iterations, 32, 'sha256', (e, k) => (e ? rej(e) : res(k))));
  const clientKey = hmac(salted, 'Client Key');
  const storedKey = sha256(clientKey);
  const serverKey = hmac(salted, 'Server Key');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Parses a stored verifier; null if the text is not one (then it is a plain password). */
export function parseVerifier(text: string): ScramVerifier | null {
  const m = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) return null;
  const iterations = Number(m[1]);
  const salt = Buffer.from(m[2] as string, 'base64');
  const storedKey = Buffer.from(m[3] as string, 'base64');
  const serverKey = Buffer.from(m[4] as string, 'base64');
  if (!(iterations >= scramIterationsMin && iterations <= scramIterationsMax) || storedKey.length !== 32 || serverKey.length !== 32 || salt.length === 0) return null;
  return { iterations, salt, storedKey, serverKey };
}

/** Whether a cleartext password matches a verifier (the `password` method). */
export async function checkPassword(password: string, verifierText: string): Promise<boolean> {
  const v = parseVerifier(verifierText);
  if (!v) return false;
  const again = parseVerifier(await makeVerifier(password, v.iterations, v.salt)) as ScramVerifier;
  return timingSafeEqual(again.storedKey, v.storedKey);
}

/**
 * A verifier for a role that does not exist or has no password: the exchange runs to the end
 * and fails like a wrong password, so a client cannot tell which it was (PostgreSQL's "mock
 * authentication"). The salt is derived from the name and a per-node secret, so asking twice
 * for the same name gives the same salt, as for a real role.
 */
export function mockVerifier(user: string, secret: Buffer): ScramVerifier {
  return { iterations: scramIterations, salt: hmac(secret, `salt:${user}`).subarray(0, scramSaltBytes), storedKey: randomBytes(32), serverKey: randomBytes(32) };
}

function authError(message: string): PgError {
  return new PgError(SqlState.InvalidAuthorizationSpecification, message, { severity: 'FATAL' });
}

function malformed(detail: string): PgError {
  return new PgError(SqlState.ProtocolViolation, 'malformed SCRAM message', { severity: 'FATAL', detail });
}

/**
 * The server side of one exchange:
 *   first(mechanism, client-first-message) → server-first-message
 *   final(client-final-message)            → server-final-message, or null if the proof is wrong
 * Protocol errors (bad syntax, a channel-binding downgrade) throw a FATAL PgError.
 */
export class ScramServer {
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private gs2Header = '';
  private step: 'first' | 'final' | 'done' = 'first';

  constructor(
    private readonly verifier: ScramVerifier,
    /** The tls-server-end-point binding data (hash of our certificate), or null without TLS. */
    private readonly channelBinding: Buffer | null,
  ) {}

  first(mechanism: string, message: string): string {
    if (this.step !== 'first') throw malformed('unexpected client-first-message');
    if (mechanism !== scramMechanism && !(mechanism === scramPlusMechanism && this.channelBinding)) {
      throw authError('client selected an invalid SASL authentication mechanism');
    }
    // gs2-header: cbind-flag "," [authzid] ","
    const m = /^(n|y|p=([A-Za-z0-9.-]+)),(a=[^,]*)?,(.*)$/s.exec(message);
    if (!m) throw malformed(`unexpected channel-binding flag in "${message.slice(0, 20)}"`);
    const flag = m[1] as string;
    if (m[3]) throw new PgError(SqlState.FeatureNotSupported, 'client uses authorization identity, but it is not supported', { severity: 'FATAL' });
    if (mechanism === scramPlusMechanism) {
      if (!flag.startsWith('p=')) throw malformed('channel binding is required by SCRAM-SHA-256-PLUS');
      if (m[2] !== 'tls-server-end-point') throw malformed(`unsupported SCRAM channel-binding type "${m[2]}"`);
    } else if (flag.startsWith('p=')) {
      throw malformed('the client requires channel binding but selected SCRAM-SHA-256');
    } else if (flag === 'y' && this.channelBinding) {
      // The client supports binding but thinks we do not, although we offered it: a downgrade.
      throw authError('SCRAM channel binding negotiation error');
    }
    this.gs2Header = message.slice(0, message.length - (m[4] as string).length);
    this.clientFirstBare = m[4] as string;
    const attrs = parseAttributes(this.clientFirstBare);
    const clientNonce = attrs.get('r');
    if (!attrs.has('n') || !clientNonce || /[^\x21-\x2b\x2d-\x7e]/.test(clientNonce)) throw malformed('invalid client-first-message');
    if (this.clientFirstBare.startsWith('m=')) throw malformed('extensions are not supported');
    this.nonce = clientNonce + randomBytes(scramNonceBytes).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${this.verifier.salt.toString('base64')},i=${this.verifier.iterations}`;
    this.step = 'final';
    return this.serverFirst;
  }

  final(message: string): string | null {
    if (this.step !== 'final') throw malformed('unexpected client-final-message');
    this.step = 'done';
    const at = message.lastIndexOf(',p=');
    if (at < 0) throw malformed('client-final-message has no proof');
    const withoutProof = message.slice(0, at);
    const attrs = parseAttributes(withoutProof);
    const proof = Buffer.from(message.slice(at + 3), 'base64');
    const binding = Buffer.from(attrs.get('c') ?? '', 'base64');
    const expected = this.gs2Header.startsWith('p=') ? Buffer.concat([Buffer.from(this.gs2Header), this.channelBinding as Buffer]) : Buffer.from(this.gs2Header);
    if (!binding.equals(expected)) throw authError('SCRAM channel binding check failed');
    if (attrs.get('r') !== this.nonce) throw malformed('SCRAM nonce mismatch');
    if (proof.length !== 32) throw malformed('malformed SCRAM proof');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.verifier.storedKey, authMessage);
    const clientKey = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) clientKey[i] = (proof[i] as number) ^ (clientSignature[i] as number);
    if (!timingSafeEqual(sha256(clientKey), this.verifier.storedKey)) return null;
    return `v=${hmac(this.verifier.serverKey, authMessage).toString('base64')}`;
  }
}

function parseAttributes(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of s.split(',')) {
    const eq = part.indexOf('=');
    if (eq !== 1) throw malformed(`malformed attribute "${part.slice(0, 20)}"`);
    m.set(part[0] as string, part.slice(2));
  }
  return m;
}

/**
 * tls-server-end-point (RFC 5929 §4.1): the hash of our certificate, with its signature's hash
 * function, except that MD5 and SHA-1 become SHA-256.
 */
export function tlsServerEndPoint(certDer: Buffer, signatureHash: string): Buffer {
  const h = signatureHash.toLowerCase().replace(/-/g, '');
  const alg = h === 'sha384' ? 'sha384' : h === 'sha512' ? 'sha512' : 'sha256';
  return createHash(alg).update(certDer).digest();
}
