/**
 * The pure parts of authentication and authorization, as table tests:
 * - SCRAM-SHA-256 against an independent client (node-postgres's), with and without channel
 *   binding, wrong passwords, mock verifiers, downgrade and tampering refused;
 * - pg_hba rules: parsing (and its refusals) and first-match order;
 * - ACLs in PostgreSQL's aclitem text, GRANT/REVOKE with grant options and cascades;
 * - the grammar of role and privilege statements.
 */
import { createRequire } from 'node:module';
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ScramServer, makeVerifier, mockVerifier, parseVerifier, saslPrep } from '../src/auth/scram.js';
import { effectiveHba, matchHba, parseHba } from '../src/auth/hba.js';
import type { HbaRequest } from '../src/auth/hba.js';
import { Priv, aclGrant, aclItemText, aclPrivileges, aclRevoke, defaultAcl } from '../src/auth/privileges.js';
import type { AclItem } from '../src/auth/privileges.js';
import { parseStatements } from '../src/parser/parser.js';

interface SaslSession {
  mechanism: string;
  response: string;
}
const sasl = createRequire(import.meta.url)('pg/lib/crypto/sasl') as {
  startSession(mechanisms: string[], stream?: unknown): SaslSession;
  continueSession(session: SaslSession, password: string, serverData: string, stream?: unknown): Promise<void>;
  finalizeSession(session: SaslSession, serverData: string): void;
};

/** A real certificate (a test CA's, public; its key was thrown away), for channel-binding hashes. */
const testCertificate = Buffer.from(
  [
    'MIIDGTCCAgGgAwIBAgIQJ5OH0+sn0hh+evdtXgRVJTANBgkqhkiG9w0BAQsFADAlMQ8wDQYDVQQKEwZTdHJhdGExEjAQBgNVBAMT',
    'CVN0cmF0YSBDQTAeFw0yNjEyMDMxMjQ1MjdaFw0zNjEyMTAxMjQ1MjdaMCUxDzANBgNVBAoTBlN0cmF0YTESMBAGA1UEAxMJU3Ry',
    'YXRhIENBMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtyf+Q3gMWV7Mr3QkPj8rqBCjtpNBf2mIFnq4qg2IyQS4j1c9',
    '2COH1fu8ubEDxPbv27TNF/5lGb7qPe9jeh4rMZfg9G+7BYlSlurOv78QBAHHQm/yISRo2EJfvt1y7Qj1IYqx8SD0ehYoFMM9SELP',
    'vyNmYQ384Gzd4gO/7NhFJsWeM8Ee3MnSOfwtmQd8mh0hRT7FhmpYNtcFwqePLvbYDW30BcRbvghwddelS0JfFGys8v6ojtDKkusm',
    'av5vo+SOPoqB5gVP/IZ7C65UaQqI5WFM8hTIreNkuujj5/azE3Z4fl+0ZlnD+bWO2r9MOilkcR5kiP+KfDPJ0wtek1PNLQIDAQAB',
    'o0UwQzASBgNVHRMBAf8ECDAGAQH/AgEBMA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUCCafrcfocESWnpjAHve4IDMnkdswDQYJ',
    'KoZIhvcNAQELBQADggEBAH3syaxrAPmXcKDF3grgVZ+1lj7EBQr6uj8+TiKiR6tTO4OZgmFZ+RLQuOkSuZFA8nUYMpq0IbOAL65c',
    'P86r1bL4SCLQ++HmoazoHV+qjreJyoGCM7mbhNL5dtep6gqVM2bQdLL/iHlQxR4wDbI+9gfljYtyJL6lsfvaiwHYWY4gIF+bx8x0',
    'uGcwDUV/VOKBtP19aAgywLhVPcFSEr2c06hspyiSBs8izSsS6MlvF4DU9s006ILnIT3cBDnRUL3qv3LllYrq+ZZuB4VKQ4b0AAyF',
    'mnYlXBM/GpwOxa3ZOBE0RmUwyXDv2j9vNzt+GGQRP5iYNQfz9nfKWYxq1ASFBrc=',
  ].join(''),
  'base64',
);

/** Runs a whole exchange: node-postgres's client against our server. */
async function exchange(password: string, verifier: string, binding: { cert: Buffer } | null, tamper?: (clientFinal: string) => string): Promise<'ok' | 'failed'> {
  const v = parseVerifier(verifier);
  if (!v) throw new Error('bad verifier');
  const stream = binding ? { getPeerCertificate: () => ({ raw: binding.cert }) } : undefined;
  const server = new ScramServer(v, binding ? createHash('sha256').update(binding.cert).digest() : null);
  const mechanisms = binding ? ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'] : ['SCRAM-SHA-256'];
  const session = sasl.startSession(mechanisms, stream);
  const serverFirst = server.first(session.mechanism, session.response);
  await sasl.continueSession(session, password, serverFirst, stream);
  const serverFinal = server.final(tamper ? tamper(session.response) : session.response);
  if (serverFinal === null) return 'failed';
  sasl.finalizeSession(session, serverFinal); // the client checks the server's signature
  return 'ok';
}

describe('SCRAM-SHA-256', () => {
  it("stores PostgreSQL's verifier format and logs in with the right password only", async () => {
    const verifier = await makeVerifier('correct horse');
    expect(verifier).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    expect(await exchange('correct horse', verifier, null)).toBe('ok');
    expect(await exchange('wrong horse', verifier, null)).toBe('failed');
  });

  it('binds to the server certificate (SCRAM-SHA-256-PLUS, tls-server-end-point)', async () => {
    const cert = testCertificate;
    const verifier = await makeVerifier('pw');
    expect(await exchange('pw', verifier, { cert })).toBe('ok');
    // A client that saw another certificate (a man in the middle) fails the binding check.
    const server = new ScramServer(parseVerifier(verifier) as NonNullable<ReturnType<typeof parseVerifier>>, randomBytes(32));
    const session = sasl.startSession(['SCRAM-SHA-256-PLUS'], { getPeerCertificate: () => ({ raw: cert }) });
    const first = server.first(session.mechanism, session.response);
    await sasl.continueSession(session, 'pw', first, { getPeerCertificate: () => ({ raw: cert }) });
    expect(() => server.final(session.response)).toThrow(/channel binding check failed/);
  });

  it('refuses a downgrade, a changed nonce, PLUS without TLS, and malformed messages', async () => {
    const v = parseVerifier(await makeVerifier('pw')) as NonNullable<ReturnType<typeof parseVerifier>>;
    // 'y': the client supports binding but thinks we do not, although we offered it.
    expect(() => new ScramServer(v, randomBytes(32)).first('SCRAM-SHA-256', 'y,,n=,r=abc')).toThrow(/channel binding negotiation/);
    expect(() => new ScramServer(v, null).first('SCRAM-SHA-256-PLUS', 'p=tls-server-end-point,,n=,r=abc')).toThrow(/invalid SASL authentication mechanism/);
    expect(() => new ScramServer(v, null).first('SCRAM-SHA-256', 'x,,n=,r=abc')).toThrow(/malformed/);
    expect(() => new ScramServer(v, null).first('SCRAM-SHA-256', 'n,a=admin,n=,r=abc')).toThrow(/authorization identity/);
    await expect(exchange('pw', await makeVerifier('pw'), null, (m) => m.replace(/,r=([^,]+)/, ',r=$1x'))).rejects.toMatchObject({ code: '08P01', fields: { detail: 'SCRAM nonce mismatch' } });
  });

  it('mock verifiers (unknown roles) fail like a wrong password, with a stable salt per name', async () => {
    const secret = randomBytes(32);
    const a = mockVerifier('nobody', secret);
    expect(mockVerifier('nobody', secret).salt.equals(a.salt)).toBe(true);
    expect(mockVerifier('other', secret).salt.equals(a.salt)).toBe(false);
    const server = new ScramServer(a, null);
    const session = sasl.startSession(['SCRAM-SHA-256']);
    await sasl.continueSession(session, 'anything', server.first(session.mechanism, session.response));
    expect(server.final(session.response)).toBeNull();
  });

  it('normalizes passwords as SASLprep does, and rejects bad stored verifiers', async () => {
    expect(saslPrep('a\u00a0b')).toBe('a b');
    expect(saslPrep('\u2168')).toBe('IX');
    expect(saslPrep('x\u00ady')).toBe('xy');
    expect(await exchange('a b', await makeVerifier('a\u00a0b'), null)).toBe('ok');
    expect(parseVerifier('SCRAM-SHA-256$10:c2FsdA==$AAAA:AAAA')).toBeNull();
    expect(parseVerifier('md5abcdef')).toBeNull();
  });
});

describe('host-based authentication rules', () => {
  const req = (over: Partial<HbaRequest>): HbaRequest => ({ ssl: true, address: '127.0.0.1', database: 'defaultdb', user: 'alice', memberOf: () => false, ...over });

  it('parses pg_hba.conf lines and refuses what it cannot honour, naming the line', () => {
    const rules = parseHba('# comment\nhostssl all all 10.0.0.0/8 scram-sha-256\n\nhost "my db",other +ops 192.168.1.0 255.255.255.0 cert clientcert=verify-full\nhostnossl all all ::1/128 reject');
    expect(rules.map((r) => [r.type, r.databases, r.users, r.method, r.clientcert, r.line])).toEqual([
      ['hostssl', ['all'], ['all'], 'scram-sha-256', null, 2],
      ['host', ['my db', 'other'], ['+ops'], 'cert', 'verify-full', 4],
      ['hostnossl', ['all'], ['all'], 'reject', null, 5],
    ]);
    expect(rules[1]?.address?.maskBits).toBe(24);
    for (const [text, message] of [
      ['hostssl all all 10.0.0.0/8 ident', /line 1: invalid authentication method "ident"/],
      ['hostsomething all all all trust', /invalid connection type/],
      ['host all all db.example.com trust', /host names are not supported/],
      ['host all all 10.0.0.1 trust', /needs a CIDR mask/],
      ['host all all 10.0.0.0/33 trust', /invalid CIDR mask/],
      ['host all all all', /end-of-line before authentication method/],
      ['host all all all trust map=x', /invalid authentication option/],
      ['host @users all all trust', /@file inclusion/],
    ] as const) {
      expect(() => parseHba(text)).toThrow(message);
    }
  });

  it('takes the first matching rule; root may always use its certificate', () => {
    const rules = effectiveHba('hostssl all alice 10.0.0.0/8 reject\nhostssl all +ops all cert\nhostssl all all all scram-sha-256');
    expect(matchHba(rules, req({ address: '10.1.2.3' }))?.method).toBe('reject');
    expect(matchHba(rules, req({ address: '::ffff:10.1.2.3' }))?.method).toBe('reject');
    expect(matchHba(rules, req({ address: '11.1.2.3' }))?.method).toBe('scram-sha-256');
    expect(matchHba(rules, req({ user: 'bob', memberOf: (r) => r === 'ops' }))?.method).toBe('cert');
    expect(matchHba(rules, req({ ssl: false }))).toBeNull();
    expect(matchHba(rules, req({ user: 'root', address: '10.0.0.1' }))?.method).toBe('cert-password');
    expect(matchHba(effectiveHba(''), req({}))?.method).toBe('cert-password');
    expect(matchHba(effectiveHba('hostssl all all fe80::/10 trust'), req({ address: 'fe80::1' }))?.method).toBe('trust');
  });
});

describe('access control lists', () => {
  const names: Record<number, string> = { 10: 'root', 20: 'alice', 30: 'Bob Smith', 40: 'carol' };
  const text = (acl: AclItem[]) => acl.map((it) => aclItemText(it, (o) => names[o] ?? '?'));

  it("prints PostgreSQL's aclitem text, defaults included", () => {
    expect(text(defaultAcl('database', 10, false))).toEqual(['root=CTc/root', '=Tc/root']);
    expect(text(defaultAcl('schema', 10, true))).toEqual(['root=UC/root', '=U/root']);
    expect(text(defaultAcl('table', 10, false))).toEqual(['root=arwdDxt/root']);
    expect(text(defaultAcl('sequence', 10, false))).toEqual(['root=rwU/root']);
    expect(text(aclGrant(defaultAcl('table', 10, false), 30, 10, Priv.SELECT | Priv.INSERT, true))).toEqual(['root=arwdDxt/root', '"Bob Smith"=a*r*/root']);
  });

  it('grants and revokes, with grant options passed on and revoked in cascade', () => {
    const holds = (acl: readonly AclItem[], role: number) => (role === 10 ? 0xffff : aclPrivileges(acl, new Set([role])).grantable);
    let acl = aclGrant(defaultAcl('table', 10, false), 20, 10, Priv.SELECT, true);
    acl = aclGrant(acl, 40, 20, Priv.SELECT, false); // alice passes SELECT on to carol
    expect(text(acl)).toEqual(['root=arwdDxt/root', 'alice=r*/root', 'carol=r/alice']);
    expect(() => aclRevoke(acl, 20, 10, Priv.SELECT, true, false, holds)).toThrow(/dependent privileges exist/);
    expect(text(aclRevoke(acl, 20, 10, Priv.SELECT, true, true, holds))).toEqual(['root=arwdDxt/root', 'alice=r/root']);
    expect(text(aclRevoke(acl, 20, 10, Priv.SELECT, false, true, holds))).toEqual(['root=arwdDxt/root']);
    expect(aclPrivileges(acl, new Set([40])).privs).toBe(Priv.SELECT);
  });
});

describe('the grammar of role and privilege statements', () => {
  const parse = (sql: string) => {
    const [s] = parseStatements(sql);
    if (!s || s.stmt.kind !== 'auth') throw new Error(`not an auth statement: ${sql}`);
    return s.stmt.stmt;
  };

  it('parses what PostgreSQL 15 accepts (and CockroachDB’s additions)', () => {
    expect(parse("create user if not exists u with password 'p' createdb nologin")).toEqual({ kind: 'createRole', name: 'u', isUser: true, ifNotExists: true, options: [{ kind: 'password', value: 'p' }, { kind: 'createdb', value: true }, { kind: 'login', value: false }] });
    expect(parse('alter role current_user with password null')).toMatchObject({ kind: 'alterRole', role: { kind: 'current_user' }, options: [{ kind: 'password', value: null }] });
    expect(parse('alter user a rename to b')).toMatchObject({ kind: 'alterRole', renameTo: 'b' });
    expect(parse('drop role if exists a, "B"')).toEqual({ kind: 'dropRole', names: ['a', 'B'], isUser: false, ifExists: true });
    expect(parse('grant select, insert on table s.t, u to a, public with grant option')).toEqual({ kind: 'grant', privileges: ['select', 'insert'], target: { kind: 'table', names: [['s', 't'], ['u']] }, grantees: [{ kind: 'name', name: 'a' }, { kind: 'public' }], grantOption: true });
    expect(parse('grant all privileges on all tables in schema s to r')).toMatchObject({ kind: 'grant', privileges: 'all', target: { kind: 'allTablesInSchema', schemas: ['s'] } });
    expect(parse('revoke grant option for connect on database d from r cascade')).toMatchObject({ kind: 'revoke', grantOptionOnly: true, cascade: true, target: { kind: 'database', names: ['d'] } });
    expect(parse('grant admin, readers to u with admin option')).toEqual({ kind: 'grantRole', roles: ['admin', 'readers'], members: [{ kind: 'name', name: 'u' }], adminOption: true });
    expect(parse('revoke admin option for r from u')).toMatchObject({ kind: 'revokeRole', adminOptionOnly: true });
    expect(parse('show grants on table t for u')).toEqual({ kind: 'showGrants', target: { kind: 'table', names: [['t']] }, forRoles: [{ kind: 'name', name: 'u' }] });
    expect(parse('show grants on role r')).toEqual({ kind: 'showGrants', target: { kind: 'role', names: ['r'] }, forRoles: null });
    expect(parse('show users')).toEqual({ kind: 'showRoles' });
  });

  it('refuses what it does not support, with SQLSTATEs', () => {
    const codeOf = (sql: string) => {
      try {
        parseStatements(sql);
        return 'ok';
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(codeOf('create role public')).toBe('42939');
    expect(codeOf('create user u superuser')).toBe('0A000');
    expect(codeOf('grant select (a) on t to u')).toBe('0A000');
    expect(codeOf('grant execute on function f() to u')).toBe('0A000');
    expect(codeOf('grant select on t u')).toBe('42601');
    expect(codeOf("create user u unencrypted password 'x'")).toBe('0A000');
  });
});
