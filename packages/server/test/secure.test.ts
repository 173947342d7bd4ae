/**
 * Secure mode with real clients on a real node: every driver (psql, node-postgres, postgres.js,
 * psycopg2, psycopg 3, pgJDBC) logs in with sslmode=verify-full and SCRAM-SHA-256 (channel
 * binding where the driver offers it) and with a client certificate; a wrong password is 28P01
 * for each and reads the same as an unknown user; plaintext is refused with PostgreSQL's message;
 * expired and wrong-CA certificates are refused; host-based rules in the cluster setting; HTTPS;
 * the CLI's refusals (no mode, open key file) and `strata cert`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@strata/cli/certs';
import { repoRoot } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import { httpsGet, libpqUrl, makeCerts, pgClientConfig, startSecureNode } from '../../../qa/harness/secure.js';
import type { TestCerts } from '../../../qa/harness/secure.js';

const cli = join(repoRoot, 'packages', 'cli', 'bin', 'strata.js');
const jdbcJar = '/usr/share/java/postgresql.jar';
const python = '/usr/bin/python3';
const probeDir = join(import.meta.dirname, 'drivers');

describe('secure mode', () => {
  let node: TestNode;
  let certs: TestCerts;
  let otherCa: TestCerts;
  const password = 'S3cret pass-word';

  const psql = (user: string, extra: Record<string, string>, env: Record<string, string> = {}) =>
    spawnSync('psql', ['-X', '-At', libpqUrl(node, certs, user, extra), '-c', 'select current_user'], { encoding: 'utf8', env: { ...process.env, PGPASSWORD: '', ...env } });
  const certParams = (c: { cert: string; key: string }) => ({ sslcert: c.cert, sslkey: c.key });

  async function rootQuery(sql: string): Promise<pg.QueryResult> {
    const c = new pg.Client(pgClientConfig(node, certs, 'root', { cert: true }));
    await c.connect();
    try {
      return await c.query(sql);
    } finally {
      await c.end();
    }
  }

  beforeAll(async () => {
    // ECDSA P-256 keys here (fast to make; the privilege test uses the default, RSA).
    certs = await makeCerts(['root', 'alice', 'certonly'], 'ecdsa');
    otherCa = await makeCerts(['root'], 'ecdsa');
    // An expired client certificate for alice, from the right CA.
    await createClient({ certsDir: certs.dir, caKey: certs.caKey, user: 'expired', notBefore: new Date(Date.now() - 3 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000), pkcs8: true });
    node = await startSecureNode(certs);
    await rootQuery(`create user alice password '${password}'`);
    await rootQuery('create user certonly');
    await rootQuery('create user expired');
  });

  afterAll(async () => {
    await node.stop();
    node.cleanup();
  });

  it('psql: verify-full + SCRAM-SHA-256-PLUS (channel binding), a client certificate, 28P01 for a wrong password or an unknown user', () => {
    const scram = psql('alice', { channel_binding: 'require' }, { PGPASSWORD: password });
    expect(scram.stderr).toBe('');
    expect(scram.stdout.trim()).toBe('alice');
    expect(psql('alice', { channel_binding: 'disable' }, { PGPASSWORD: password }).stdout.trim()).toBe('alice');
    expect(psql('alice', { sslmode: 'require', sslrootcert: '' }, { PGPASSWORD: password }).stdout.trim()).toBe('alice');
    const cert = psql('certonly', certParams(certs.client('certonly')));
    expect(cert.stderr).toBe('');
    expect(cert.stdout.trim()).toBe('certonly');
    expect(psql('alice', {}, { PGPASSWORD: 'wrong' }).stderr).toMatch(/FATAL: {2}password authentication failed for user "alice"/);
    // An unknown user: the same exchange and the same answer (nothing tells it apart).
    expect(psql('nobody', {}, { PGPASSWORD: 'wrong' }).stderr).toMatch(/FATAL: {2}password authentication failed for user "nobody"/);
    // A user without a password cannot log in with one.
    expect(psql('certonly', {}, { PGPASSWORD: 'anything' }).stderr).toMatch(/password authentication failed for user "certonly"/);
    // A certificate for another user is not a login for this one (it falls back to a password).
    expect(psql('alice', certParams(certs.client('certonly')), { PGPASSWORD: 'wrong' }).stderr).toMatch(/password authentication failed for user "alice"/);
  });

  it('refuses plaintext with PostgreSQL\'s message, and expired or wrong-CA certificates', () => {
    const plain = psql('alice', { sslmode: 'disable' }, { PGPASSWORD: password });
    expect(plain.stderr).toMatch(/FATAL: {2}no pg_hba.conf entry for host "127.0.0.1", user "alice", database "defaultdb", no encryption/);
    const expired = psql('expired', certParams(certs.client('expired')));
    expect(expired.stderr).toMatch(/FATAL: {2}client certificate verification failed: certificate has expired/);
    const wrongCa = psql('root', certParams(otherCa.client('root')));
    expect(wrongCa.stderr).toMatch(/FATAL: {2}client certificate verification failed: certificate is not signed by the cluster CA/);
    // The client checks our certificate too: a client trusting another CA refuses the server.
    const distrust = spawnSync('psql', ['-X', libpqUrl(node, certs, 'alice', { sslrootcert: otherCa.ca }), '-c', 'select 1'], { encoding: 'utf8', env: { ...process.env, PGPASSWORD: password } });
    expect(distrust.stderr).toMatch(/certificate verify failed/);
  });

  it('refuses data sent after SSLRequest before the handshake (CVE-2021-23214)', async () => {
    const s = netConnect(node.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    const ssl = Buffer.alloc(8);
    ssl.writeInt32BE(8, 0);
    ssl.writeInt32BE(80877103, 4);
    const reply = new Promise<Buffer>((r) => {
      let b = Buffer.alloc(0);
      s.on('data', (d: Buffer) => (b = Buffer.concat([b, d])));
      s.on('close', () => r(b));
    });
    s.write(Buffer.concat([ssl, Buffer.from('garbage')]));
    const got = await reply;
    expect(got.toString('latin1')).toMatch(/received unencrypted data after SSL request/);
  });

  it('node-postgres: verify-full + SCRAM-SHA-256-PLUS and plain SCRAM, a client certificate, 28P01', async () => {
    for (const enableChannelBinding of [true, false]) {
      const c = new pg.Client({ ...pgClientConfig(node, certs, 'alice', { password }), enableChannelBinding });
      await c.connect();
      expect((await c.query('select current_user as u')).rows[0].u).toBe('alice');
      await c.end();
    }
    const c = new pg.Client(pgClientConfig(node, certs, 'certonly', { cert: true }));
    await c.connect();
    expect((await c.query('select current_user as u')).rows[0].u).toBe('certonly');
    await c.end();
    await expect(new pg.Client(pgClientConfig(node, certs, 'alice', { password: 'wrong' })).connect()).rejects.toMatchObject({ code: '28P01', message: 'password authentication failed for user "alice"' });
    await expect(new pg.Client(pgClientConfig(node, certs, 'nobody', { password: 'wrong' })).connect()).rejects.toMatchObject({ code: '28P01', message: 'password authentication failed for user "nobody"' });
    await expect(new pg.Client({ host: 'localhost', port: node.port, user: 'alice', password, database: 'defaultdb', ssl: false }).connect()).rejects.toMatchObject({ code: '28000' });
    await expect(new pg.Client(pgClientConfig(node, certs, 'expired', { cert: true })).connect()).rejects.toMatchObject({ code: '28000', message: 'client certificate verification failed: certificate has expired' });
  });

  it('postgres.js: verify-full + SCRAM, a client certificate, 28P01', async () => {
    const ca = readFileSync(certs.ca, 'utf8');
    const sql = postgres({ host: 'localhost', port: node.port, database: 'defaultdb', username: 'alice', password, ssl: { ca, servername: 'localhost', rejectUnauthorized: true }, max: 1 });
    expect((await sql`select current_user as u`)[0]?.u).toBe('alice');
    await sql.end();
    const sqlRequire = postgres({ host: 'localhost', port: node.port, database: 'defaultdb', username: 'alice', password, ssl: 'require', max: 1 });
    expect((await sqlRequire`select current_user as u`)[0]?.u).toBe('alice');
    await sqlRequire.end();
    const cc = certs.client('certonly');
    const sqlCert = postgres({ host: 'localhost', port: node.port, database: 'defaultdb', username: 'certonly', ssl: { ca, servername: 'localhost', cert: readFileSync(cc.cert, 'utf8'), key: readFileSync(cc.key, 'utf8') }, max: 1 });
    expect((await sqlCert`select current_user as u`)[0]?.u).toBe('certonly');
    await sqlCert.end();
    const bad = postgres({ host: 'localhost', port: node.port, database: 'defaultdb', username: 'alice', password: 'wrong', ssl: { ca, servername: 'localhost' }, max: 1 });
    await expect(bad`select 1`).rejects.toMatchObject({ code: '28P01' });
    await bad.end();
  });

  for (const driver of ['psycopg2', 'psycopg']) {
    it(`${driver}: verify-full + SCRAM (channel binding required), a client certificate, a wrong password`, () => {
      if (!existsSync(python)) throw new Error(`${python} is missing: install Debian's python3-psycopg2 and python3-psycopg (.ci/run does)`);
      const probe = (user: string, extra: Record<string, string>) => execFileSync(python, [join(probeDir, 'psycopg_probe.py'), driver, libpqUrl(node, certs, user, extra)], { encoding: 'utf8' }).trim();
      expect(probe('alice', { password, channel_binding: 'require' })).toBe('ok alice');
      expect(probe('alice', { password, sslmode: 'require', sslrootcert: '' })).toBe('ok alice');
      expect(probe('certonly', certParams(certs.client('certonly')))).toBe('ok certonly');
      expect(probe('alice', { password: 'wrong' })).toMatch(/^error .*password authentication failed for user "alice"/);
      expect(probe('alice', { password, sslmode: 'disable' })).toMatch(/^error .*no pg_hba.conf entry for host "127.0.0.1", user "alice", database "defaultdb", no encryption/);
    });
  }

  it('pgJDBC (Debian\'s libpostgresql-jdbc-java): verify-full + SCRAM, a client certificate (PKCS#8 key), 28P01', () => {
    if (!existsSync(jdbcJar)) throw new Error(`${jdbcJar} is missing: install Debian's libpostgresql-jdbc-java (.ci/run does)`);
    const url = (user: string, params: Record<string, string>) => `jdbc:postgresql://localhost:${node.port}/defaultdb?${new URLSearchParams({ user, sslmode: 'verify-full', sslrootcert: certs.ca, ...params }).toString()}`;
    const cc = certs.client('certonly');
    // One JVM for the three logins (starting one costs seconds).
    const out = execFileSync('java', ['-cp', jdbcJar, join(probeDir, 'JdbcProbe.java'), url('alice', { password }), url('certonly', { sslcert: cc.cert, sslkey: cc.pk8 }), url('alice', { password: 'wrong' }), url('alice', { password, sslmode: 'require' })], { encoding: 'utf8' });
    const [scram, cert, wrong, require] = out.trim().split('\n');
    expect(require).toBe('ok alice');
    expect(scram).toBe('ok alice');
    expect(cert).toBe('ok certonly');
    expect(wrong).toMatch(/^error 28P01 .*password authentication failed for user "alice"/);
  }, 60_000);

  it('host-based rules from the cluster setting (root keeps its certificate)', async () => {
    expect(await rootQuery("set cluster setting server.host_based_authentication.configuration = 'hostssl all all 10.0.0.0/8 trust\nfoo bar'").catch((e: { code: string }) => e.code)).toBe('22023');
    await rootQuery(`set cluster setting server.host_based_authentication.configuration = 'hostssl all alice 127.0.0.1/32 reject\nhostssl all all all scram-sha-256'`);
    expect(psql('alice', {}, { PGPASSWORD: password }).stderr).toMatch(/FATAL: {2}pg_hba.conf rejects connection for host "127.0.0.1", user "alice", database "defaultdb", SSL encryption/);
    // scram-sha-256 only: a certificate is no longer enough for certonly …
    expect(psql('certonly', certParams(certs.client('certonly')), { PGPASSWORD: 'x' }).stderr).toMatch(/password authentication failed for user "certonly"/);
    // … but root's certificate always is.
    expect(psql('root', certParams(certs.client('root'))).stdout.trim()).toBe('root');
    await rootQuery(`set cluster setting server.host_based_authentication.configuration = 'hostssl all all all cert'`);
    expect(psql('alice', {}, { PGPASSWORD: password }).stderr).toMatch(/connection requires a valid client certificate/);
    expect(psql('certonly', certParams(certs.client('certonly'))).stdout.trim()).toBe('certonly');
    await rootQuery(`set cluster setting server.host_based_authentication.configuration = 'hostssl all +admin all cert-password\nhostssl all all all password'`);
    // The cleartext-password method (over TLS) works with the stored SCRAM verifier.
    expect(psql('alice', {}, { PGPASSWORD: password }).stdout.trim()).toBe('alice');
    await rootQuery('reset cluster setting server.host_based_authentication.configuration');
    expect(psql('alice', {}, { PGPASSWORD: password }).stdout.trim()).toBe('alice');
  });

  it('a CancelRequest (on its own TLS connection) reaches a running statement', async () => {
    const sql = postgres({ host: 'localhost', port: node.port, database: 'defaultdb', username: 'alice', password, ssl: { ca: readFileSync(certs.ca, 'utf8'), servername: 'localhost' }, max: 1 });
    const q = sql`select pg_sleep(30)`;
    const p = q.execute();
    await new Promise((r) => setTimeout(r, 300));
    q.cancel();
    await expect(p).rejects.toMatchObject({ code: '57014' });
    expect((await sql`select 3 as three`)[0]).toEqual({ three: 3 });
    await sql.end();
  });

  it('serves /health and /_status/vars over HTTPS only', async () => {
    const h = await httpsGet(node.httpPort, '/health', certs.ca);
    expect(h.status).toBe(200);
    expect((await httpsGet(node.httpPort, '/_status/vars', certs.ca)).body).toMatch(/strata_sql_connections/);
    await expect(fetch(`http://127.0.0.1:${node.httpPort}/health`)).rejects.toThrow();
  });

  it('reports password_encryption = scram-sha-256 and is_superuser (neither can be changed), hides the rules from non-superusers', async () => {
    const c = new pg.Client(pgClientConfig(node, certs, 'alice', { password }));
    await c.connect();
    await expect(c.query('set is_superuser = on')).rejects.toMatchObject({ code: '55P02' });
    await expect(c.query("set session_authorization = 'root'")).rejects.toMatchObject({ code: '0A000' });
    await expect(c.query('show cluster setting server.host_based_authentication.configuration')).rejects.toMatchObject({ code: '42501' });
    expect((await c.query('show password_encryption')).rows[0].password_encryption).toBe('scram-sha-256');
    expect((await c.query('show is_superuser')).rows[0].is_superuser).toBe('off');
    await expect(c.query("set password_encryption = 'md5'")).rejects.toMatchObject({ code: '22023' });
    await c.end();
  });
});

describe('strata start-single-node and strata cert', () => {
  it('refuses to start without --certs-dir or --insecure (saying which to pass), with both, or with an open key file', async () => {
    const none = spawnSync(process.execPath, [cli, 'start-single-node', '--store', mkdtempSync(join(tmpdir(), 'strata-test-'))], { encoding: 'utf8' });
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/pass --certs-dir=DIR .* or pass --insecure/);
    const certs = await makeCerts([], 'ecdsa');
    const both = spawnSync(process.execPath, [cli, 'start-single-node', '--insecure', `--certs-dir=${certs.dir}`], { encoding: 'utf8' });
    expect(both.stderr).toMatch(/--insecure and --certs-dir contradict each other/);
    chmodSync(join(certs.dir, 'node.key'), 0o644);
    const open = spawnSync(process.execPath, [cli, 'start-single-node', '--store', mkdtempSync(join(tmpdir(), 'strata-test-')), `--certs-dir=${certs.dir}`, '--listen-addr=127.0.0.1:0', '--http-addr=127.0.0.1:0'], { encoding: 'utf8' });
    expect(open.status).toBe(1);
    expect(open.stderr).toMatch(/node\.key has group or world access/);
  });

  it("creates CockroachDB's layout: keys 0600, node certificate for server and client auth, never overwrites", () => {
    const base = mkdtempSync(join(tmpdir(), 'strata-cert-'));
    const dir = join(base, 'certs');
    const caKey = join(base, 'safe', 'ca.key');
    const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'cert', ...args, `--certs-dir=${dir}`, `--ca-key=${caKey}`], { encoding: 'utf8' });
    expect(run('create-ca').status).toBe(0);
    expect(run('create-node', 'localhost', '127.0.0.1', 'db.example.internal').status).toBe(0);
    expect(run('create-client', 'maria', '--also-generate-pkcs8-key').status).toBe(0);
    for (const f of ['node.key', 'client.maria.key', 'client.maria.key.pk8']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    expect(statSync(caKey).mode & 0o777).toBe(0o600);
    const nodeCert = new X509Certificate(readFileSync(join(dir, 'node.crt')));
    expect(nodeCert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, DNS:db.example.internal');
    expect(nodeCert.keyUsage?.sort()).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // serverAuth, clientAuth
    expect(nodeCert.checkIssued(new X509Certificate(readFileSync(join(dir, 'ca.crt'))))).toBe(true);
    const client = new X509Certificate(readFileSync(join(dir, 'client.maria.crt')));
    expect(client.subject).toMatch(/CN=maria/);
    expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    const before = readFileSync(join(dir, 'ca.crt'));
    const again = run('create-ca');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/refusing to overwrite/);
    expect(readFileSync(join(dir, 'ca.crt')).equals(before)).toBe(true);
    expect(run('create-client', 'maria').stderr).toMatch(/refusing to overwrite/);
    expect(run('create-client', 'bad name').stderr).toMatch(/invalid user name/);
    rmSync(base, { recursive: true, force: true });
  });
});
