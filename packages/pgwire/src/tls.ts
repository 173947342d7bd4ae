/**
 * TLS for the Postgres-wire gateway: what the server needs to upgrade a connection after an
 * SSLRequest (a secure context with the node certificate, key and the cluster CA, TLS 1.2 or
 * newer) and the tls-server-end-point channel-binding data of its certificate (RFC 5929), which
 * SCRAM-SHA-256-PLUS binds the login to.
 */
import { createSecureContext } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { tlsServerEndPoint } from '@strata/sql';

export interface PgTls {
  context: SecureContext;
  /** tls-server-end-point data for our certificate; null if its signature's hash is unknown. */
  channelBinding: Buffer | null;
  /** The cluster CA certificates client certificates must be issued by. */
  cas: X509Certificate[];
}

/** extendedKeyUsage clientAuth (RFC 5280 §4.2.1.12). */
const clientAuthOid = '1.3.6.1.5.5.7.3.2';

/**
 * Verifies a client certificate: issued (and signed) by one of the cluster's CA certificates,
 * within its validity period, the CA too, and usable for client authentication (when it lists
 * extended key usages). Returns what is wrong, or null. Chains through intermediate CAs are not
 * followed: `strata cert` issues client certificates from the CA itself.
 */
export function verifyClientCertificate(peer: X509Certificate, cas: readonly X509Certificate[], nowMs: number): string | null {
  const inPeriod = (c: X509Certificate) => (nowMs < Date.parse(c.validFrom) ? 'is not yet valid' : nowMs > Date.parse(c.validTo) ? 'has expired' : null);
  const ca = cas.find((c) => peer.checkIssued(c) && peer.verify(c.publicKey));
  if (!ca) return 'certificate is not signed by the cluster CA';
  const p = inPeriod(peer);
  if (p) return `certificate ${p}`;
  const q = inPeriod(ca);
  if (q) return `the CA certificate ${q}`;
  const eku = peer.keyUsage;
  if (eku && eku.length > 0 && !eku.includes(clientAuthOid)) return 'certificate is not for client authentication';
  return null;
}

/** Signature algorithm OIDs (X.509 signatureAlgorithm) → the hash RFC 5929 binds with. */
const signatureHashes: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'sha256', // md5WithRSAEncryption: MD5 becomes SHA-256
  '1.2.840.113549.1.1.5': 'sha256', // sha1WithRSAEncryption: SHA-1 becomes SHA-256
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.10045.4.1': 'sha256', // ecdsa-with-SHA1
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

/** Reads one DER TLV header at `at`: the content's start and end. */
function tlv(der: Buffer, at: number): { tag: number; start: number; end: number } {
  const tag = der[at] as number;
  let len = der[at + 1] as number;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (der[start + i] as number);
    start += n;
  }
  if (start + len > der.length) throw new Error('truncated DER');
  return { tag, start, end: start + len };
}

function oidText(b: Buffer): string {
  const parts: number[] = [Math.floor((b[0] as number) / 40), (b[0] as number) % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + ((b[i] as number) & 0x7f);
    if (((b[i] as number) & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** The hash of a certificate's signature algorithm (for tls-server-end-point), or null. */
export function signatureHash(der: Buffer): string | null {
  try {
    const cert = tlv(der, 0); // Certificate ::= SEQUENCE {
    const tbs = tlv(der, cert.start); //   tbsCertificate SEQUENCE,
    const alg = tlv(der, tbs.end); //   signatureAlgorithm AlgorithmIdentifier ::= SEQUENCE {
    const oid = tlv(der, alg.start); //     algorithm OBJECT IDENTIFIER, … }
    if (oid.tag !== 0x06) return null;
    return signatureHashes[oidText(der.subarray(oid.start, oid.end))] ?? null;
  } catch {
    return null;
  }
}

/** The gateway's TLS from PEM texts (the node's certificate and key, the cluster CA). */
export function pgTls(pem: { cert: string; key: string; ca: string }): PgTls {
  const context = createSecureContext({ cert: pem.cert, key: pem.key, ca: pem.ca, minVersion: 'TLSv1.2' });
  const der = new X509Certificate(pem.cert).raw;
  const hash = signatureHash(der);
  const cas = (pem.ca.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((c) => new X509Certificate(c));
  return { context, channelBinding: hash ? tlsServerEndPoint(der, hash) : null, cas };
}
