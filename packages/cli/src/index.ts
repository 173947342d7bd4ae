import { totalmem } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { logger } from '@strata/common';
import { StrataNode } from '@strata/server';

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

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program.name('strata').description('Strata: a distributed multi-model SQL database (relational + time series) speaking the PostgreSQL wire protocol').version('0.1.0');

  program
    .command('start-single-node')
    .description('start a single-node cluster (replication factor 1) on this machine')
    .option('--store <dir>', 'directory holding the node data', './strata-data')
    .option('--listen-addr <host:port>', 'address for SQL clients (PostgreSQL wire protocol)', hostPort('--listen-addr', 26257), { host: '127.0.0.1', port: 26257 })
    .option('--http-addr <host:port>', 'address for /health and /_status/vars', hostPort('--http-addr', 8080), { host: '127.0.0.1', port: 8080 })
    .option('--insecure', 'run without TLS and passwords (trust authentication); required until secure mode exists', false)
    .option('--max-sql-memory <size>', "memory all SQL statements of the node may hold together (sorts, hash tables, …), as a share of RAM ('25%') or a size ('2GiB'); over it, statements spill to disk or fail with 53200 (default: half the JS heap limit, at most 25% of RAM)", memorySize)
    .action(async (o: { store: string; listenAddr: { host: string; port: number }; httpAddr: { host: string; port: number }; insecure: boolean; maxSqlMemory?: number }) => {
      if (!o.insecure) throw new Error('secure mode is not implemented yet: pass --insecure to run without TLS and passwords');
      const node = new StrataNode({ storeDir: o.store, listenHost: o.listenAddr.host, listenPort: o.listenAddr.port, httpHost: o.httpAddr.host, httpPort: o.httpAddr.port, insecure: true, maxSqlMemoryBytes: o.maxSqlMemory });
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
      process.stdout.write(`strata: ready sql=127.0.0.1:${node.sqlPort()} http=127.0.0.1:${node.httpPort()}\n`);
    });

  await program.parseAsync(argv);
}
