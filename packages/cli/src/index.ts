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
    .action(async (o: { store: string; listenAddr: { host: string; port: number }; httpAddr: { host: string; port: number }; insecure: boolean }) => {
      if (!o.insecure) throw new Error('secure mode is not implemented yet: pass --insecure to run without TLS and passwords');
      const node = new StrataNode({ storeDir: o.store, listenHost: o.listenAddr.host, listenPort: o.listenAddr.port, httpHost: o.httpAddr.host, httpPort: o.httpAddr.port, insecure: true });
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
