import { totalmem } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { logger } from '@strata/common';

function hostPort(flag: string, def: number) {
  return (v: string): { host: string; port: number } => {
    const m = /^(.*):(\d+)$/.exec(v);
    const host = m ? (m[1] as string) : v;
    const port = m ? Number(m[2]) : def;
    if (!host || !(port >= 0 && port < 65536)) throw new InvalidArgumentError(`${flag} must be HOST:PORT`);
    return { host: host.replace(/^\[(.*)\]$/, '$1'), port };
  };
}

/**
 * --max-sql-memory in CockroachDB's syntax: a percentage of the machine's memory ('25%'), or a size
 * ('4GiB', '512MB'; KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024).
 */
function memorySize(v: string): number {
  const pct = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v);
  if (pct) return Math.floor((Number(pct[1]) / 100) * totalmem());
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  const units: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };
  const unit = m ? units[(m[2] as string).toLowerCase()] : undefined;
  const n = m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : 0;
  if (!(n >= 1024 * 1024)) throw new InvalidArgumentError('--max-sql-memory must be a percentage of RAM (25%) or a size of at least 1MiB (2GiB, 512MB)');
  return n;
}

function positiveInt(flag: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`${flag} must be a positive integer`);
    return Number(v);
  };
}

/** A duration in milliseconds: a number with a unit ms, s, min or h (no unit: seconds, as PostgreSQL's authentication_timeout). */
function durationMs(flag: string) {
  return (v: string): number => {
    const m = /^(\d+)\s*(ms|s|min|h)?$/.exec(v.trim());
    if (!m) throw new InvalidArgumentError(`${flag} must be a duration such as 60s, 500ms or 2min`);
    const ms = Number(m[1]) * { ms: 1, s: 1000, min: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'min' | 'h'];
    if (ms < 1) throw new InvalidArgumentError(`${flag} must be positive`);
    return ms;
  };
}

/** `strata cert …` (certs.ts, loaded on use: the server never needs the X.509 library). */
function addCertCommands(program: Command): void {
  const cert = program.command('cert').description('create the certificates of a secure cluster (CockroachDB\'s layout: ca.crt, node.crt/key, client.<user>.crt/key)');
  const common = (c: Command) =>
    c
      .requiredOption('--certs-dir <dir>', 'the certificates directory (ca.crt, node.*, client.*)')
      .requiredOption('--ca-key <file>', "the CA's private key (keep it outside the certs directory, e.g. my-safe-dir/ca.key)")
      .addOption(new Option('--key-type <type>', 'key algorithm of new keys (default: rsa for the CA, the CA\'s type for others)').choices(['rsa', 'ecdsa']))
      .option('--lifetime <days>', 'validity in days (default: CA 3660, others 1830)', positiveInt('--lifetime'))
      .option('--overwrite', 'replace existing files (default: refuse)', false);
  type CertFlags = { certsDir: string; caKey: string; keyType?: 'rsa' | 'ecdsa'; lifetime?: number; overwrite: boolean };
  const opts = (o: CertFlags) => ({ certsDir: o.certsDir, caKey: o.caKey, keyType: o.keyType, lifetimeDays: o.lifetime, overwrite: o.overwrite });
  const done = (files: string[]) => process.stdout.write(files.map((f) => `wrote ${f}\n`).join(''));
  common(cert.command('create-ca').description('create the cluster CA: <certs-dir>/ca.crt and its key at --ca-key')).action(async (o: CertFlags) => {
    const { createCa } = await import('./certs.js');
    done(await createCa(opts(o)));
  });
  common(cert.command('create-node').argument('<hosts...>', 'host names and IP addresses clients and other nodes reach this node by').description('create node.crt/node.key (server and client authentication: SQL, HTTPS, inter-node TLS)')).action(
    async (hosts: string[], o: CertFlags) => {
      const { createNode } = await import('./certs.js');
      done(await createNode({ ...opts(o), hosts }));
    },
  );
  common(cert.command('create-client').argument('<user>', 'the SQL user (the certificate\'s CN)').description('create client.<user>.crt/key for logging in as <user> with a certificate'))
    .option('--also-generate-pkcs8-key', 'also write client.<user>.key.pk8 (PKCS#8 DER, for pgJDBC)', false)
    .action(async (user: string, o: CertFlags & { alsoGeneratePkcs8Key: boolean }) => {
      const { createClient } = await import('./certs.js');
      done(await createClient({ ...opts(o), user, pkcs8: o.alsoGeneratePkcs8Key }));
    });
  cert
    .command('list')
    .description('describe the certificates in a directory')
    .requiredOption('--certs-dir <dir>', 'the certificates directory')
    .action(async (o: { certsDir: string }) => {
      const { describeCert } = await import('./certs.js');
      const { readdirSync } = await import('node:fs');
      const { join } = await import('node:path');
      for (const f of readdirSync(o.certsDir).filter((x) => x.endsWith('.crt')).sort()) process.stdout.write(describeCert(join(o.certsDir, f)) + '\n');
    });
}

function addStartCommand(program: Command, name: string, description: string, cluster: boolean): void {
  const c = program
    .command(name)
    .description(description)
    .option('--store <dir>', 'directory holding the node data', './strata-data')
    .option('--listen-addr <host:port>', 'address for SQL clients (PostgreSQL wire protocol)', hostPort('--listen-addr', 26257), { host: '127.0.0.1', port: 26257 })
    .option('--http-addr <host:port>', 'address for /health and /_status/vars', hostPort('--http-addr', 8080), { host: '127.0.0.1', port: 8080 })
    .option('--certs-dir <dir>', 'secure mode: the directory holding ca.crt, node.crt and node.key (see `strata cert`)')
    .option('--insecure', 'run without TLS and passwords (trust authentication, for development); listens on loopback addresses only', false)
    .option('--accept-insecure-non-loopback', 'let insecure mode listen on non-loopback addresses (e.g. 0.0.0.0): anyone who can reach the port is superuser', false)
    .option('--max-connections <n>', 'max_connections: SQL sessions served at once; more are refused with 53300 (connections still in startup do not count)', positiveInt('--max-connections'), 1000)
    .addOption(
      new Option('--authentication-timeout <duration>', 'authentication_timeout: close connections that have not finished startup within this long (e.g. 60s, 500ms)')
        .argParser(durationMs('--authentication-timeout'))
        .default(60_000, '60s'),
    )
    .option('--max-sql-memory <size>', "memory all SQL statements of the node may hold together (sorts, hash tables, …), as a share of RAM ('25%') or a size ('2GiB'); over it, statements spill to disk or fail with 53200 (default: half the JS heap limit, at most 25% of RAM)", memorySize)
    .addHelpText(
      'after',
      [
        '',
        'Limits and protection: connections in startup are closed after --authentication-timeout and never',
        'take one of the --max-connections slots; idle_in_transaction_session_timeout and',
        'idle_session_timeout are session settings; the store directory and its files are private (0700/0600).',
        '',
        'Secure mode (the default) needs --certs-dir: TLS 1.2+ for SQL (plaintext sessions are refused) and HTTPS,',
        'SCRAM-SHA-256 passwords and client certificates, rules in the cluster setting',
        'server.host_based_authentication.configuration. Start with root\'s client certificate',
        '(strata cert create-client root), then CREATE USER … PASSWORD … and GRANT.',
      ].join('\n'),
    )
  if (cluster) {
    c.option('--rpc-addr <host:port>', 'address other nodes reach this node at (inter-node gRPC)', hostPort('--rpc-addr', 27257), { host: '127.0.0.1', port: 27257 })
      .option('--advertise-rpc-addr <host:port>', 'the RPC address to tell other nodes, if not --rpc-addr (e.g. behind NAT)')
      .option('--advertise-sql-addr <host:port>', 'the SQL address `strata node status` shows, if not --listen-addr (e.g. a container listening on 0.0.0.0)', hostPort('--advertise-sql-addr', 26257))
      .option('--join <addrs>', 'comma-separated RPC addresses of nodes of the cluster (host:port,…); a node without them waits for `strata init`', (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean), []);
  }
  c.action(async (o: { store: string; listenAddr: { host: string; port: number }; httpAddr: { host: string; port: number }; certsDir?: string; insecure: boolean; acceptInsecureNonLoopback: boolean; maxConnections: number; authenticationTimeout: number; maxSqlMemory?: number; rpcAddr?: { host: string; port: number }; advertiseRpcAddr?: string; advertiseSqlAddr?: { host: string; port: number }; join?: string[] }) => {
      if (!o.insecure && !o.certsDir) {
        throw new Error('secure mode is the default and needs certificates: pass --certs-dir=DIR (make them with `strata cert create-ca`, `create-node`, `create-client root`), or pass --insecure to run without TLS and passwords (development only)');
      }
      if (o.insecure && o.certsDir) throw new Error('--insecure and --certs-dir contradict each other: pass one of them');
      // Everything the node creates is private to its user (store directory 0700, files 0600), as
      // PostgreSQL's postmaster does with umask(0077): the umask is the one place that also covers
      // the files lmdb, the raft log and the time-series engine create in native code and workers.
      process.umask(0o077);
      const { StrataNode } = await import('@strata/server');
      const node = new StrataNode({
        storeDir: o.store,
        listenHost: o.listenAddr.host,
        listenPort: o.listenAddr.port,
        httpHost: o.httpAddr.host,
        httpPort: o.httpAddr.port,
        insecure: o.insecure,
        certsDir: o.certsDir,
        acceptInsecureNonLoopback: o.acceptInsecureNonLoopback,
        maxConnections: o.maxConnections,
        startupTimeoutMs: o.authenticationTimeout,
        maxSqlMemoryBytes: o.maxSqlMemory,
        ...(cluster && o.rpcAddr ? { cluster: { rpcHost: o.rpcAddr.host, rpcPort: o.rpcAddr.port, advertiseRpcAddr: o.advertiseRpcAddr, ...(o.advertiseSqlAddr ? { advertiseSqlAddr: `${o.advertiseSqlAddr.host}:${o.advertiseSqlAddr.port}` } : {}), join: o.join ?? [] } } : {}),
      });
      await node.start();
      const log = logger('cli');
      let stopping = false;
      const stop = (sig: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal: sig }, 'received signal, shutting down cleanly');
        node.stop().then(
          () => process.exit(0),
          (e: unknown) => {
            log.error({ err: e }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      // Parent-readable line for scripts and tests.
      const rpc = node.rpcAddress();
      process.stdout.write(`strata: ready sql=127.0.0.1:${node.sqlPort()} http=127.0.0.1:${node.httpPort()}${rpc ? ` rpc=${rpc}` : ''}${node.secure ? ' secure' : ' insecure'}\n`);
    });

}

/** `strata init` and `strata node status|decommission`: admin calls to a node's RPC address. */
function addClusterCommands(program: Command): void {
  const hostOpt = (c: Command) =>
    c
      .requiredOption('--host <host:port>', "a node's RPC address (its --rpc-addr)")
      .option('--certs-dir <dir>', 'secure cluster: mutual TLS with ca.crt and client.root.crt/key (or node.crt/key)')
      .option('--insecure', 'talk to a cluster started with --insecure, without TLS', false);
  type HostFlags = { host: string; certsDir?: string; insecure: boolean };
  const credentials = async (o: HostFlags) => (await import('./admin_credentials.js')).adminCredentials(o);
  hostOpt(program.command('init').description('initialize a new cluster on the node at --host (once; the other nodes join it)')).action(async (o: HostFlags) => {
    const { adminClient } = await import('@strata/rpc');
    const res = await adminClient.init(o.host, await credentials(o));
    process.stdout.write(`Cluster successfully initialized (cluster ${res.clusterId}, node ${res.nodeId})\n`);
  });
  const node = program.command('node').description('inspect and manage the nodes of a cluster');
  hostOpt(node.command('status').description('one row per node: addresses, build, liveness, replicas and leases'))
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
    .action(async (o: HostFlags & { format: 'table' | 'csv' | 'json' }) => {
      const { adminClient } = await import('@strata/rpc');
      const rows = (await adminClient.status(o.host, await credentials(o))).map((r) => ({ id: r.id, rpc_address: r.rpcAddress, sql_address: r.sqlAddress, build: r.build, started_at: r.startedAt, updated_at: r.updatedAt, is_live: r.isLive, replicas: r.replicas, leaseholders: r.leaseholders, membership: r.membership }));
      process.stdout.write(formatRows(rows, o.format));
    });
  hostOpt(node.command('decommission').argument('<ids...>', 'node ids').description('moves every replica off the nodes (progress shown), then marks them decommissioned'))
    .option('--wait <seconds>', 'give up after this long', positiveInt('--wait'), 600)
    .action(async (ids: string[], o: HostFlags & { wait: number }) => {
      const { adminClient } = await import('@strata/rpc');
      const creds = await credentials(o);
      const nodeIds = ids.map((x) => positiveInt('node id')(x));
      await adminClient.decommission(o.host, { nodeIds, done: false }, creds);
      const deadline = Date.now() + o.wait * 1000;
      for (;;) {
        const rows = (await adminClient.status(o.host, creds)).filter((r) => nodeIds.includes(r.id));
        const left = rows.reduce((n, r) => n + r.replicas, 0);
        process.stdout.write(`${new Date().toISOString()} replicas left on node${nodeIds.length > 1 ? 's' : ''} ${nodeIds.join(', ')}: ${left}\n`);
        if (left === 0) break;
        if (Date.now() > deadline) throw new Error(`decommissioning did not finish within ${o.wait} s (${left} replicas left); run the command again to keep waiting`);
        await new Promise((r) => setTimeout(r, 2000));
      }
      await adminClient.decommission(o.host, { nodeIds, done: true }, creds);
      process.stdout.write(`node${nodeIds.length > 1 ? 's' : ''} ${nodeIds.join(', ')} decommissioned\n`);
    });
}

/** Rows as an aligned table, CSV or JSON. */
function formatRows(rows: Record<string, string | number | boolean>[], format: 'table' | 'csv' | 'json'): string {
  if (format === 'json') return JSON.stringify(rows, null, 2) + '\n';
  const cols = rows.length > 0 ? Object.keys(rows[0] as object) : ['id'];
  const cell = (v: unknown) => String(v);
  if (format === 'csv') {
    const q = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    return [cols.join(','), ...rows.map((r) => cols.map((c) => q(cell(r[c]))).join(','))].join('\n') + '\n';
  }
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n') + `\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`;
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program.name('strata').description('Strata: a distributed multi-model SQL database (relational + time series) speaking the PostgreSQL wire protocol').version('0.1.0');

  addStartCommand(program, 'start-single-node', 'start a single-node cluster (replication factor 1) on this machine', false);
  addStartCommand(program, 'start', 'start a node of a multi-node cluster: it joins the nodes at --join, or waits for `strata init` (secure mode: mutual TLS between nodes with node.crt)', true);
  addClusterCommands(program);
  addCertCommands(program);

  await program.parseAsync(argv);
}
