/**
 * A secure three-node cluster of real processes on loopback (`strata start --certs-dir --join`):
 * mutual TLS between nodes with node certificates, HTTPS and SQL over TLS on every node.
 * `strata init` and `strata node status` work with --certs-dir (root's client certificate, or
 * the node certificate), and refuse to guess a mode without --certs-dir or --insecure. A write
 * through node 1 is read through node 3 by a password user over verify-full; a CancelRequest sent
 * to node 2 is forwarded to node 1 over TLS; a fourth node joins and is decommissioned. A node whose
 * certificate comes from another CA cannot join: its calls are refused and both sides' logs say
 * why. A node started with --insecure cannot join either.
 */
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../harness/cluster.js';
import { makeCerts } from '../harness/secure.js';
import type { TestCerts } from '../harness/secure.js';

let c: LocalCluster;
let certs: TestCerts;
let otherCa: TestCerts;

beforeAll(async () => {
  certs = await makeCerts(['root']);
  otherCa = await makeCerts(['root']);
  // Nodes 4 and 5 are started by the tests that need them, with other security settings; node 6 joins to be decommissioned.
  c = await LocalCluster.create(6, { certsDir: certs.dir });
  for (const i of [1, 2, 3]) c.node(i).start();
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

const q = (node: number, sql: string) => c.query(node, sql);

/** `strata node status` as JSON through node i's RPC address, with the given security flags. */
type StatusRow = { id: number; is_live: boolean; rpc_address: string; membership: string };
async function status(i: number, flags: string[]): Promise<StatusRow[]> {
  const r = await c.cli(['node', 'status', ...flags, `--host=${c.node(i).rpcAddr}`, '--format=json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusRow[];
}

/** Waits (bounded) until process i's output matches `re`; the matching line. */
async function logLine(i: number, re: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = c.node(i).log.split('\n').find((l) => re.test(l));
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`n${i} logged nothing matching ${re}:\n${c.node(i).log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Forgets what nodes 1–3 logged so far: what is looked for next must be logged after this. */
function forgetLogs(): void {
  for (const i of [1, 2, 3]) c.node(i).log = '';
}

/** Waits (bounded) until one of the processes `among` logged a line matching `re`. */
async function anyLogLine(among: number[], re: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const i of among) {
      const line = c.node(i).log.split('\n').find((l) => re.test(l));
      if (line) return line;
    }
    if (Date.now() > deadline) throw new Error(`no node logged a line matching ${re}:\n${among.map((i) => `--- n${i}\n${c.node(i).log.slice(-2000)}`).join('\n')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('a secure three-node cluster (mutual TLS between nodes)', () => {
  it('is initialized and inspected over TLS, and serves over TLS through every node what was written through another', async () => {
    const init = await c.init(1);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/Cluster successfully initialized/);
    await c.waitReady();

    // Insecure mode must be explicit, and it contradicts --certs-dir.
    const neither = await c.cli(['node', 'status', `--host=${c.node(1).rpcAddr}`]);
    expect(neither.code).not.toBe(0);
    expect(neither.stderr).toMatch(/pass --certs-dir=DIR to talk to a secure cluster .* or --insecure/);
    const both = await c.cli(['init', '--insecure', `--certs-dir=${certs.dir}`, `--host=${c.node(1).rpcAddr}`]);
    expect(both.stderr).toMatch(/--insecure and --certs-dir contradict each other/);
    const startBoth = await c.cli(['start', '--insecure', `--certs-dir=${certs.dir}`, `--store=${join(c.root, 'never')}`, '--join=127.0.0.1:1']);
    expect(startBoth.stderr).toMatch(/--insecure and --certs-dir contradict each other/);
    const startNeither = await c.cli(['start', `--store=${join(c.root, 'never')}`, '--join=127.0.0.1:1']);
    expect(startNeither.stderr).toMatch(/secure mode is the default and needs certificates: pass --certs-dir=DIR/);
    // A node certificate that does not name the address other nodes dial is refused at start.
    const unnamed = await c.cli(['start', `--certs-dir=${certs.dir}`, `--store=${join(c.root, 'unnamed')}`, '--listen-addr=127.0.0.1:0', '--http-addr=127.0.0.1:0', '--rpc-addr=127.0.0.1:0', '--advertise-rpc-addr=127.0.0.2:27999', `--join=${c.node(1).rpcAddr}`]);
    expect(unnamed.code).not.toBe(0);
    expect(unnamed.stderr).toMatch(/node\.crt is not valid for 127\.0\.0\.2, the RPC address other nodes dial \(its names: IP Address:127\.0\.0\.1, DNS:localhost\); make one that names it: strata cert create-node 127\.0\.0\.2/);
    // A plaintext admin call to a secure node is refused.
    const plaintext = await c.cli(['node', 'status', '--insecure', `--host=${c.node(1).rpcAddr}`]);
    expect(plaintext.code).not.toBe(0);
    expect(plaintext.stderr).toMatch(/closed the plaintext connection: if the cluster runs in secure mode, this side needs --certs-dir/);

    // root's client certificate (as CockroachDB's CLI), and on a node's machine its node certificate.
    const rows = await status(3, c.securityArgs);
    expect(rows.map((r) => [r.id, r.is_live])).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
    expect(new Set(rows.map((r) => r.rpc_address))).toEqual(new Set([1, 2, 3].map((i) => c.node(i).rpcAddr)));
    const nodeOnly = mkdtempSync(join(tmpdir(), 'strata-node-certs-'));
    for (const f of ['ca.crt', 'node.crt', 'node.key']) copyFileSync(join(certs.dir, f), join(nodeOnly, f));
    expect((await status(2, [`--certs-dir=${nodeOnly}`])).length).toBe(3);
    const again = await c.cli(['init', ...c.securityArgs, `--host=${c.node(2).rpcAddr}`]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already been initialized/);

    // Every node holds a voting replica (Raft and snapshots went over TLS).
    for (const i of [1, 2, 3]) expect((await c.node(i).ranges()).find((x) => x.rangeId === 1)?.replicas.length).toBe(3);

    // HTTP is HTTPS only on a secure node.
    await expect(fetch(`http://127.0.0.1:${c.node(1).httpPort}/health`, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();

    // Written through node 1 (root's client certificate), read through node 3 by a password user, verify-full.
    await q(1, "create user alice password 'correct horse battery'");
    await q(1, 'create table acct (id int primary key, balance int)');
    await q(1, 'grant select on acct to alice');
    await q(1, 'insert into acct select g, 10 * g from generate_series(1, 20) g');
    const alice = new pg.Client({
      host: 'localhost',
      port: c.node(3).sqlPort,
      user: 'alice',
      password: 'correct horse battery',
      database: 'defaultdb',
      ssl: { ca: readFileSync(certs.ca, 'utf8'), servername: 'localhost', rejectUnauthorized: true },
    });
    await alice.connect();
    try {
      const r = await alice.query('select count(*)::int as n, sum(balance)::int as s from acct');
      expect(r.rows).toEqual([{ n: 20, s: 2100 }]);
    } finally {
      await alice.end();
    }
    // A plaintext SQL session is refused in secure mode.
    const plain = new pg.Client({ host: '127.0.0.1', port: c.node(2).sqlPort, user: 'alice', password: 'correct horse battery', database: 'defaultdb', ssl: false });
    plain.on('error', () => {});
    await expect(plain.connect()).rejects.toThrow();
  }, 180_000);

  it('forwards a CancelRequest to the node running the query over the inter-node TLS', async () => {
    const client = new pg.Client(c.connection(1));
    await client.connect();
    try {
      const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
      const running = client.query('select pg_sleep(60)').then(
        () => 'completed',
        (e: { code?: string }) => e.code ?? 'error',
      );
      await new Promise((r) => setTimeout(r, 500));
      // PostgreSQL's CancelRequest (length 16, code 80877102, pid, secret) to node 2, in plaintext as libpq sends it.
      const req = Buffer.alloc(16);
      req.writeInt32BE(16, 0);
      req.writeInt32BE(80877102, 4);
      req.writeInt32BE(processID, 8);
      req.writeInt32BE(secretKey, 12);
      await new Promise<void>((resolve, reject) => {
        const sock = net.connect(c.node(2).sqlPort, '127.0.0.1', () => sock.end(req));
        sock.on('close', () => resolve());
        sock.on('error', reject);
      });
      expect(await running).toBe('57014');
    } finally {
      await client.end();
    }
  }, 120_000);

  it('lets a fourth secure node join, then drains and decommissions it with `strata node decommission --certs-dir`', async () => {
    const n6 = c.node(6);
    n6.start();
    await c.waitReady();
    const id = await n6.nodeId();
    expect((await status(1, c.securityArgs)).map((r) => r.id)).toEqual([1, 2, 3, id]);
    const dec = await c.cli(['node', 'decommission', String(id), ...c.securityArgs, `--host=${c.node(1).rpcAddr}`, '--wait=120']);
    expect(dec.code, dec.stderr).toBe(0);
    expect(dec.stdout).toMatch(new RegExp(`node ${id} decommissioned`));
    expect(dec.stdout).toMatch(/replicas left on node/);
    expect((await status(2, c.securityArgs)).map((r) => r.id)).toEqual([1, 2, 3]); // decommissioned nodes are no longer listed
    await n6.kill();
  }, 240_000);

  it('refuses a node whose certificate comes from another CA, and the logs of both sides say why', async () => {
    const n4 = c.node(4);
    n4.certsDir = otherCa.dir;
    n4.logLevel = 'info';
    const before = (await status(1, c.securityArgs)).map((r) => r.id);
    forgetLogs();
    n4.start();
    try {
      // The joining node cannot verify the cluster's certificates...
      expect(await logLine(4, /waiting to join the cluster/)).toMatch(/TLS with 127\.0\.0\.1:\d+ failed: the other side's certificate is not signed by this cluster's CA/);
      // ...and the cluster's nodes see their certificate refused by it.
      expect(await anyLogLine([1, 2, 3], /inter-node TLS handshake with 127\.0\.0\.1 refused: the other side hung up during the handshake \(it likely does not trust the certificate this side presented/)).toBeTruthy();
      expect((await status(1, c.securityArgs)).map((r) => r.id)).toEqual(before);
    } finally {
      await n4.kill();
    }
  }, 120_000);

  it('refuses a node started with --insecure, and the cluster logs that it does not speak TLS', async () => {
    const n5 = c.node(5);
    n5.certsDir = undefined;
    n5.logLevel = 'info';
    const before = (await status(2, c.securityArgs)).map((r) => r.id);
    forgetLogs();
    n5.start();
    try {
      expect(await logLine(5, /waiting to join the cluster/)).toMatch(/closed the plaintext connection: if the cluster runs in secure mode, this side needs --certs-dir/);
      expect(await anyLogLine([1, 2, 3], /inter-node TLS handshake with 127\.0\.0\.1 refused: the other side does not speak TLS/)).toBeTruthy();
      expect((await status(2, c.securityArgs)).map((r) => r.id)).toEqual(before);
    } finally {
      await n5.kill();
    }
    // The cluster still serves.
    expect(await q(2, 'select count(*)::int as n from acct')).toEqual([{ n: 20 }]);
  }, 120_000);
});
