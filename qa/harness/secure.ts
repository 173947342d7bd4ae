/**
 * Secure-mode test nodes: certificates made at run time (nothing secret is committed) with the
 * CLI's own code (`strata cert`), a node started with --certs-dir, and client settings for the
 * drivers under test.
 */
import { mkdtempSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, createClient, createNode } from '@strata/cli/certs';
import type { CertOptions, KeyType } from '@strata/cli/certs';
import { TestNode } from './node.js';

export interface TestCerts {
  /** The certs directory (ca.crt, node.*, client.*). */
  dir: string;
  caKey: string;
  ca: string;
  /** Paths of a user's client certificate, key and PKCS#8 DER key. */
  client(user: string): { cert: string; key: string; pk8: string };
  options(extra?: Partial<CertOptions>): CertOptions;
}

/** A CA, a node certificate for 127.0.0.1 and localhost, and client certificates for `users`. */
export async function makeCerts(users: string[] = ['root'], keyType?: KeyType): Promise<TestCerts> {
  const base = mkdtempSync(join(tmpdir(), 'strata-certs-'));
  const dir = join(base, 'certs');
  const caKey = join(base, 'safe', 'ca.key');
  const options = (extra: Partial<CertOptions> = {}): CertOptions => ({ certsDir: dir, caKey, keyType, ...extra });
  await createCa(options());
  await createNode({ ...options(), hosts: ['127.0.0.1', 'localhost'] });
  for (const user of users) await createClient({ ...options(), user, pkcs8: true });
  return {
    dir,
    caKey,
    ca: join(dir, 'ca.crt'),
    client: (user) => ({ cert: join(dir, `client.${user}.crt`), key: join(dir, `client.${user}.key`), pk8: join(dir, `client.${user}.key.pk8`) }),
    options,
  };
}

/** Starts a node in secure mode with these certificates. */
export async function startSecureNode(certs: TestCerts, args: string[] = []): Promise<TestNode> {
  const n = new TestNode(mkdtempSync(join(tmpdir(), 'strata-test-')), args, certs.dir);
  await n.start();
  return n;
}

/** A libpq connection string (psql, psycopg) for `user` with verify-full and the given extras. */
export function libpqUrl(node: TestNode, certs: TestCerts, user: string, extra: Record<string, string> = {}): string {
  const params: Record<string, string> = { host: 'localhost', port: String(node.port), dbname: 'defaultdb', user, sslmode: 'verify-full', sslrootcert: certs.ca, ...extra };
  return Object.entries(params)
    .map(([k, v]) => `${k}='${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`)
    .join(' ');
}

/** node-postgres settings: verify-full against the cluster CA, a password or a client certificate. */
export function pgClientConfig(node: TestNode, certs: TestCerts, user: string, auth: { password?: string; cert?: boolean; database?: string } = {}) {
  const c = certs.client(user);
  return {
    host: 'localhost',
    port: node.port,
    user,
    database: auth.database ?? 'defaultdb',
    password: auth.password,
    ssl: { ca: readFileSync(certs.ca, 'utf8'), servername: 'localhost', rejectUnauthorized: true, ...(auth.cert ? { cert: readFileSync(c.cert, 'utf8'), key: readFileSync(c.key, 'utf8') } : {}) },
  };
}

/** GET over HTTPS, trusting the cluster CA: status and body. */
export function httpsGet(port: number, path: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: 'localhost', port, path, ca: readFileSync(ca), method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
