/**
 * Host-based authentication rules in pg_hba.conf syntax (client-authentication.html), held in
 * the cluster setting server.host_based_authentication.configuration (CockroachDB's name), so
 * every node applies the same rules and a change takes effect at the next login.
 *
 *   TYPE       DATABASE  USER  [ADDRESS [MASK]]  METHOD  [OPTION=VALUE …]
 *   host | hostssl | hostnossl | local
 *
 * Methods: trust, reject, scram-sha-256, md5 (as PostgreSQL with SCRAM verifiers: SCRAM),
 * password (cleartext over the connection, checked against the verifier), cert, and CockroachDB's
 * cert-password (a valid client certificate for the user, else SCRAM). Option clientcert=
 * verify-ca|verify-full additionally requires a client certificate signed by the cluster CA (and,
 * with verify-full, naming the user). Rules are tried in order; the first whose type, database,
 * user and address match decides.
 *
 * Root can always log in with its client certificate: the rule `hostssl all root all
 * cert-password` goes first whatever the setting says (as CockroachDB does), so no setting can
 * lock every administrator out.
 */
import { isIP } from 'node:net';
import { PgError, SqlState } from '@strata/common';
import { hbaLinesMax } from './constants.js';

export type HbaMethod = 'trust' | 'reject' | 'scram-sha-256' | 'password' | 'cert' | 'cert-password';

export interface HbaRule {
  type: 'host' | 'hostssl' | 'hostnossl' | 'local';
  /** Database names; 'all' matches every one. */
  databases: string[];
  /** User names, '+role' for members of role; 'all' matches every one. */
  users: string[];
  /** null: any address ('all'). */
  address: { bytes: Buffer; maskBits: number } | null;
  method: HbaMethod;
  clientcert: 'verify-ca' | 'verify-full' | null;
  line: number;
  text: string;
}

/** What the secure mode uses when the setting is empty. */
export const defaultHbaConfiguration = 'hostssl all all all cert-password';

const alwaysFirst = 'hostssl all root all cert-password';

function invalid(line: number, message: string): PgError {
  return new PgError(SqlState.InvalidParameterValue, `invalid host-based authentication configuration, line ${line}: ${message}`);
}

/** Splits a line into fields: whitespace separated, "quoted" fields may hold spaces and commas. */
function fields(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"]|"")*)"|([^\s"]+)/g;
  let token = '';
  let last = -1;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    const piece = m[1] !== undefined ? m[1].replace(/""/g, '"') : (m[2] as string);
    // "a",b (no space between) is one field.
    if (m.index === last) token += piece;
    else {
      if (last >= 0) out.push(token);
      token = piece;
    }
    last = re.lastIndex;
  }
  if (last >= 0) out.push(token);
  return out;
}

function parseAddress(lineNo: number, addr: string, mask: string | null): { bytes: Buffer; maskBits: number } | null {
  if (addr === 'all' || addr === '0.0.0.0/0' || addr === '::/0') return null;
  if (addr === 'samehost' || addr === 'samenet') throw invalid(lineNo, `"${addr}" is not supported; give an address range`);
  const [ip, bitsText] = addr.split('/');
  const family = isIP(ip as string);
  if (family === 0) throw invalid(lineNo, `"${addr}" is not an IP address (host names are not supported)`);
  const bytes = ipBytes(ip as string);
  let maskBits: number;
  if (bitsText !== undefined) {
    maskBits = Number(bitsText);
    if (!/^\d+$/.test(bitsText) || maskBits > bytes.length * 8) throw invalid(lineNo, `invalid CIDR mask in address "${addr}"`);
  } else if (mask !== null) {
    if (isIP(mask) !== family) throw invalid(lineNo, `invalid IP mask "${mask}"`);
    const mb = ipBytes(mask);
    maskBits = 0;
    for (const b of mb) for (let i = 7; i >= 0; i--) if (b & (1 << i)) maskBits++;
  } else throw invalid(lineNo, `"${addr}" needs a CIDR mask (e.g. ${addr}/32) or a mask field`);
  return { bytes, maskBits };
}

export function ipBytes(ip: string): Buffer {
  const v4 = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  if (isIP(v4) === 4) return Buffer.from(v4.split('.').map(Number));
  // IPv6: expand "::".
  const [head, tail] = v4.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g || '0', 16), 2 * i));
  return b;
}

const methods: Record<string, HbaMethod> = {
  trust: 'trust',
  reject: 'reject',
  'scram-sha-256': 'scram-sha-256',
  md5: 'scram-sha-256',
  password: 'password',
  cert: 'cert',
  'cert-password': 'cert-password',
  'cert-scram-sha-256': 'cert-password',
};

/** Parses a configuration; throws 22023 naming the line for anything it cannot honour. */
export function parseHba(text: string): HbaRule[] {
  const rules: HbaRule[] = [];
  const lines = text.split(/\r?\n/);
  if (lines.length > hbaLinesMax) throw invalid(hbaLinesMax + 1, `at most ${hbaLinesMax} lines`);
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const f = fields(line);
    const type = f[0] as string;
    if (!['host', 'hostssl', 'hostnossl', 'local'].includes(type)) throw invalid(lineNo, `invalid connection type "${type}"`);
    let k = 3;
    let address: HbaRule['address'] = null;
    if (type !== 'local') {
      const addr = f[3];
      if (addr === undefined) throw invalid(lineNo, 'end-of-line before IP address specification');
      const maybeMask = f[4] !== undefined && isIP(f[4]) !== 0 && !addr.includes('/') ? f[4] : null;
      address = parseAddress(lineNo, addr, maybeMask);
      k = maybeMask ? 5 : 4;
    }
    const m = f[k];
    if (f[1] === undefined || f[2] === undefined || m === undefined) throw invalid(lineNo, 'end-of-line before authentication method');
    const method = methods[m.toLowerCase()];
    if (!method) throw invalid(lineNo, `invalid authentication method "${m}" (supported: ${Object.keys(methods).join(', ')})`);
    let clientcert: HbaRule['clientcert'] = null;
    for (const opt of f.slice(k + 1)) {
      const [name, value] = opt.split('=');
      if (name === 'clientcert' && (value === 'verify-ca' || value === 'verify-full')) clientcert = value;
      else throw invalid(lineNo, `invalid authentication option "${opt}" (supported: clientcert=verify-ca|verify-full)`);
    }
    const list = (s: string) => s.split(',').filter((x) => x !== '');
    const databases = list(f[1]);
    const users = list(f[2]);
    if (databases.some((d) => d.startsWith('@')) || users.some((u) => u.startsWith('@'))) throw invalid(lineNo, '@file inclusion is not supported');
    rules.push({ type: type as HbaRule['type'], databases, users, address, method, clientcert, line: lineNo, text: raw.trim() });
  });
  return rules;
}

/** The rules in force for a setting's value (the root rule first; empty: the default). */
export function effectiveHba(setting: string): HbaRule[] {
  const configured = setting.trim() === '' ? defaultHbaConfiguration : setting;
  return [...parseHba(alwaysFirst).map((r) => ({ ...r, line: 0 })), ...parseHba(configured)];
}

export interface HbaRequest {
  ssl: boolean;
  address: string;
  database: string;
  user: string;
  /** Whether the user is a member of a role (for +role). */
  memberOf(role: string): boolean;
}

function addressMatches(a: HbaRule['address'], ip: string): boolean {
  if (a === null) return true;
  if (isIP(ip) === 0) return false;
  const b = ipBytes(ip);
  if (b.length !== a.bytes.length) return false;
  for (let bit = 0; bit < a.maskBits; bit++) {
    const byte = bit >> 3;
    const m = 0x80 >> (bit & 7);
    if (((b[byte] as number) & m) !== ((a.bytes[byte] as number) & m)) return false;
  }
  return true;
}

/** The first rule matching a connection, or null (no pg_hba.conf entry). */
export function matchHba(rules: HbaRule[], req: HbaRequest): HbaRule | null {
  for (const r of rules) {
    if (r.type === 'local') continue; // no Unix-domain sockets
    if (r.type === 'hostssl' && !req.ssl) continue;
    if (r.type === 'hostnossl' && req.ssl) continue;
    if (!r.databases.some((d) => d === 'all' || d === req.database || (d === 'sameuser' && req.database === req.user))) continue;
    if (!r.users.some((u) => u === 'all' || u === req.user || (u.startsWith('+') && req.memberOf(u.slice(1))))) continue;
    if (!addressMatches(r.address, req.address)) continue;
    return r;
  }
  return null;
}
