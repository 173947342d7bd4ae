/**
 * `strata cert create-ca | create-node | create-client`: the certificates of a secure cluster, in
 * CockroachDB's layout —
 *
 *   <certs-dir>/ca.crt                 the cluster CA (public; every node and client trusts it)
 *   <ca-key>                           the CA's private key (kept apart, e.g. my-safe-dir/ca.key)
 *   <certs-dir>/node.crt, node.key     a node's certificate: serverAuth and clientAuth, so the
 *                                      same pair serves SQL/HTTP clients and, once the inter-node
 *                                      gRPC exists, mutual TLS between nodes; CN=node, SANs = the
 *                                      hosts it is reached by
 *   <certs-dir>/client.<user>.crt/.key a client certificate for a SQL user (CN=<user>), and with
 *                                      --also-generate-pkcs8-key client.<user>.key.pk8 (DER) for
 *                                      pgJDBC
 *
 * Keys are made by Node's crypto (WebCrypto), certificates by @peculiar/x509; private keys are
 * written 0600, nothing is ever overwritten (the command fails and writes nothing).
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isIP } from 'node:net';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export type KeyType = 'rsa' | 'ecdsa';

/** Lifetimes CockroachDB uses: the CA outlives the certificates it signs. */
export const caLifetimeDays = 3660;
export const certLifetimeDays = 1830;

/** RSA modulus for new keys: 2048 bits, CockroachDB's default and NIST's floor through 2030. */
export const rsaKeyBits = 2048;

const dayMs = 86_400_000;

function algorithm(type: KeyType): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams {
  return type === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: rsaKeyBits } : { name: 'ECDSA', namedCurve: 'P-256' };
}

function signing(type: KeyType): webcrypto.Algorithm | webcrypto.EcdsaParams {
  return type === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5' } : ({ name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams);
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] as number) & 0x7f; // positive
  return b.toString('hex');
}

function pem(label: string, der: ArrayBuffer | Buffer): string {
  const b64 = Buffer.from(der as ArrayBuffer).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)?.join('\n')}\n-----END ${label}-----\n`;
}

async function newKeyPair(type: KeyType): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithm(type), true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privatePem(k: CryptoKey): Promise<{ pem: string; der: Buffer }> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', k));
  return { pem: pem('PRIVATE KEY', der), der };
}

/** Loads the CA's key and certificate for signing. */
async function loadCa(certsDir: string, caKeyPath: string): Promise<{ cert: x509.X509Certificate; key: CryptoKey; type: KeyType }> {
  const caCertPath = join(certsDir, 'ca.crt');
  if (!existsSync(caCertPath)) throw new Error(`${caCertPath} does not exist: run \`strata cert create-ca\` first`);
  if (!existsSync(caKeyPath)) throw new Error(`CA key ${caKeyPath} does not exist`);
  const keyObj = createPrivateKey(readFileSync(caKeyPath));
  const type: KeyType = keyObj.asymmetricKeyType === 'rsa' ? 'rsa' : 'ecdsa';
  const der = keyObj.export({ format: 'der', type: 'pkcs8' });
  const key = await webcrypto.subtle.importKey('pkcs8', der, algorithm(type), false, ['sign']);
  // The first certificate of ca.crt (it may hold older CAs after it, during a rotation).
  const text = readFileSync(caCertPath, 'utf8');
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text);
  if (!first) throw new Error(`${caCertPath} holds no certificate`);
  const cert = new x509.X509Certificate(first[0]);
  if (!new X509Certificate(first[0]).checkPrivateKey(keyObj)) throw new Error(`${caKeyPath} is not the key of ${caCertPath}`);
  return { cert, key, type };
}

/** Fails (before any key is made) if a file to be written exists and overwriting was not asked. */
function refuseExisting(paths: string[], overwrite: boolean): void {
  if (overwrite) return;
  const existing = paths.filter((p) => existsSync(p));
  if (existing.length > 0) throw new Error(`refusing to overwrite ${existing.join(', ')} (remove it first, or pass --overwrite)`);
}

/** Writes files only if none exists yet (all or nothing); keys 0600, certificates 0644. */
function writeAll(files: { path: string; data: string | Buffer; secret: boolean }[], overwrite: boolean): void {
  refuseExisting(
    files.map((f) => f.path),
    overwrite,
  );
  for (const f of files) {
    mkdirSync(dirname(f.path), { recursive: true, mode: 0o700 });
    writeFileSync(f.path, f.data, { mode: f.secret ? 0o600 : 0o644, flag: overwrite ? 'w' : 'wx' });
  }
}

export interface CertOptions {
  certsDir: string;
  caKey: string;
  keyType?: KeyType;
  lifetimeDays?: number;
  overwrite?: boolean;
  /** Explicit validity (tests make expired certificates with it). */
  notBefore?: Date;
  notAfter?: Date;
}

function validity(o: CertOptions, defaultDays: number): { notBefore: Date; notAfter: Date } {
  const notBefore = o.notBefore ?? new Date(Date.now() - 60_000); // a minute back: clock skew
  const notAfter = o.notAfter ?? new Date(notBefore.getTime() + (o.lifetimeDays ?? defaultDays) * dayMs);
  return { notBefore, notAfter };
}

/** create-ca: a new cluster CA (ca.crt in the certs directory, its key at --ca-key). */
export async function createCa(o: CertOptions): Promise<string[]> {
  refuseExisting([join(o.certsDir, 'ca.crt'), o.caKey], o.overwrite ?? false);
  const type = o.keyType ?? 'rsa';
  const keys = await newKeyPair(type);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'O=Strata, CN=Strata CA',
    ...validity(o, caLifetimeDays),
    signingAlgorithm: signing(type),
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const key = await privatePem(keys.privateKey);
  const files = [
    { path: join(o.certsDir, 'ca.crt'), data: cert.toString('pem') + '\n', secret: false },
    { path: o.caKey, data: key.pem, secret: true },
  ];
  writeAll(files, o.overwrite ?? false);
  return files.map((f) => f.path);
}

async function issue(o: CertOptions, subject: string, usages: x509.ExtendedKeyUsage[], sans: x509.JsonGeneralName[], days: number): Promise<{ cert: string; key: { pem: string; der: Buffer } }> {
  const ca = await loadCa(o.certsDir, o.caKey);
  const type = o.keyType ?? ca.type;
  const keys = await newKeyPair(type);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(usages, false),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false),
  ];
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans, false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.cert.subject,
    ...validity(o, days),
    signingAlgorithm: signing(ca.type),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions,
  });
  return { cert: cert.toString('pem') + '\n', key: await privatePem(keys.privateKey) };
}

/** create-node: node.crt/node.key for the given host names and addresses. */
export async function createNode(o: CertOptions & { hosts: string[] }): Promise<string[]> {
  if (o.hosts.length === 0) throw new Error('create-node needs at least one host name or address the node is reached by');
  refuseExisting([join(o.certsDir, 'node.crt'), join(o.certsDir, 'node.key')], o.overwrite ?? false);
  const sans: x509.JsonGeneralName[] = o.hosts.map((h) => (isIP(h.replace(/^\[(.*)\]$/, '$1')) ? { type: 'ip', value: h.replace(/^\[(.*)\]$/, '$1') } : { type: 'dns', value: h }));
  const { cert, key } = await issue(o, 'O=Strata, CN=node', [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], sans, certLifetimeDays);
  const files = [
    { path: join(o.certsDir, 'node.crt'), data: cert, secret: false },
    { path: join(o.certsDir, 'node.key'), data: key.pem, secret: true },
  ];
  writeAll(files, o.overwrite ?? false);
  return files.map((f) => f.path);
}

/** A SQL user name as it may appear in a certificate file name and CN. */
export function checkUserName(user: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_$.-]{0,62}$/.test(user)) throw new Error(`invalid user name "${user}": letters, digits, _ $ . - (starting with a letter or _), at most 63 characters`);
}

/** create-client: client.<user>.crt/key (CN=<user>), and optionally the PKCS#8 DER key for Java. */
export async function createClient(o: CertOptions & { user: string; pkcs8?: boolean }): Promise<string[]> {
  checkUserName(o.user);
  refuseExisting([join(o.certsDir, `client.${o.user}.crt`), join(o.certsDir, `client.${o.user}.key`)], o.overwrite ?? false);
  const { cert, key } = await issue(o, `O=Strata, CN=${o.user}`, [x509.ExtendedKeyUsage.clientAuth], [], certLifetimeDays);
  const base = join(o.certsDir, `client.${o.user}`);
  const files: { path: string; data: string | Buffer; secret: boolean }[] = [
    { path: `${base}.crt`, data: cert, secret: false },
    { path: `${base}.key`, data: key.pem, secret: true },
  ];
  if (o.pkcs8) files.push({ path: `${base}.key.pk8`, data: key.der, secret: true });
  writeAll(files, o.overwrite ?? false);
  return files.map((f) => f.path);
}

/** Describes a certificate file (for `strata cert list`). */
export function describeCert(path: string): string {
  const c = new X509Certificate(readFileSync(path));
  const mode = statSync(path).mode & 0o777;
  return `${path}: ${c.subject.replace(/\n/g, ', ')}; valid ${c.validFrom} to ${c.validTo}${c.subjectAltName ? `; ${c.subjectAltName}` : ''}; mode ${mode.toString(8)}`;
}
