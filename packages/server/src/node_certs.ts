/**
 * The certificates a node serves with in secure mode, from its certs directory (CockroachDB's
 * layout, made by `strata cert`): ca.crt (the cluster CA: client certificates must chain to it),
 * node.crt and node.key (the node's identity for SQL, HTTP and, later, inter-node TLS).
 *
 * Like PostgreSQL, the node refuses a private key that other users may read, and it refuses to
 * start with a certificate that is expired or not yet valid (clients would refuse it anyway, with
 * a less helpful message); it warns when one expires within certificateExpiryWarningDays.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { logger } from '@strata/common';
import { certificateExpiryWarningDays } from './constants.js';

export interface NodeCerts {
  ca: string;
  cert: string;
  key: string;
  dir: string;
}

export class CertificateError extends Error {}

function readPem(path: string, what: string): string {
  if (!existsSync(path)) throw new CertificateError(`${what} ${path} does not exist (create it with \`strata cert\`)`);
  return readFileSync(path, 'utf8');
}

export function loadNodeCerts(dir: string): NodeCerts {
  const caPath = join(dir, 'ca.crt');
  const certPath = join(dir, 'node.crt');
  const keyPath = join(dir, 'node.key');
  const ca = readPem(caPath, 'CA certificate');
  const cert = readPem(certPath, 'node certificate');
  const key = readPem(keyPath, 'node key');
  const mode = statSync(keyPath).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new CertificateError(`private key file ${keyPath} has group or world access (mode ${mode.toString(8)}); it must be 0600 or stricter (chmod 600 ${keyPath})`);
  }
  const log = logger('node');
  const now = Date.now();
  for (const [path, text] of [
    [certPath, cert],
    [caPath, ca],
  ] as const) {
    const c = new X509Certificate(text);
    const from = Date.parse(c.validFrom);
    const to = Date.parse(c.validTo);
    if (now < from) throw new CertificateError(`certificate ${path} is not valid until ${c.validFrom}`);
    if (now > to) throw new CertificateError(`certificate ${path} expired on ${c.validTo}`);
    const days = Math.floor((to - now) / 86_400_000);
    if (days < certificateExpiryWarningDays) log.warn({ certificate: path, validTo: c.validTo, days }, `certificate ${path} expires in ${days} days`);
  }
  const nodeCert = new X509Certificate(cert);
  if (!nodeCert.checkIssued(new X509Certificate(ca))) {
    // A chain through an intermediate is fine; a node certificate from another CA is not.
    const chained = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
    const all = ca.match(chained) ?? [];
    if (!all.some((p) => nodeCert.checkIssued(new X509Certificate(p)))) throw new CertificateError(`${certPath} was not issued by the CA in ${caPath}`);
  }
  return { ca, cert, key, dir };
}
