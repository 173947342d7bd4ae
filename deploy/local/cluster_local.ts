/**
 * `npm run cluster:local`: docker-compose.yml's topology as local processes, for machines without
 * a Docker engine — three `strata start --join` nodes on loopback ports (those the compose file
 * publishes: SQL 26257–26259, HTTP 8080–8082, RPC 27257–27259), `strata init` once, and with
 * --prometheus a Prometheus (Debian's binary) scraping them with monitoring/rules loaded.
 *
 *   npm run cluster:local [-- --dir DIR] [--nodes N] [--sql-port P] [--http-port P] [--rpc-port P]
 *                          [--prometheus] [--prometheus-port 9090]
 *   npm run cluster:local -- --status [--dir DIR]
 *   npm run cluster:local -- --stop [--dir DIR] [--clean]
 *
 * The nodes run detached (they outlive this command); their pids, ports and log files are in the
 * state file DIR/cluster.json, which --stop reads: SIGTERM (a clean shutdown), SIGKILL after 30 s.
 * A pid is signalled only while its command line still names this cluster's directory, so a
 * stale state file never kills an unrelated process. Data stays in DIR (default: the repository's
 * git-ignored tmp/cluster-local) across --stop and a new start (the nodes rejoin with their
 * stores; init then reports the cluster exists); --clean deletes it.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { alreadyInitialized, cliPath, consecutiveNodes, initCluster, joinListOf, nodeReady, portIsFree, repoRoot, rpcAddrOf, sqlUrlOf, startArgs } from './topology.js';
import type { NodeSpec } from './topology.js';
import { prometheusConfig, ruleFiles, startPrometheus, waitPrometheusReady, which } from './prometheus.js';

/** How long a start waits for every node to be ready, and --stop for a clean exit before SIGKILL. */
const readyTimeoutMs = 90_000;
const stopTimeoutMs = 30_000;
/** A local cluster is small: more nodes than this is a typo. */
const nodesMax = 9;
/** The repository's git-ignored tmp/ directory. */
const defaultDir = join(repoRoot, 'tmp', 'cluster-local');

interface State {
  dir: string;
  startedAt: string;
  nodes: (NodeSpec & { pid: number; log: string })[];
  prometheus: { pid: number; port: number; config: string; log: string } | null;
}

const say = (s: string): void => void process.stdout.write(`${s}\n`);

function fail(msg: string): never {
  process.stderr.write(`cluster:local: ${msg}\n`);
  process.exit(1);
}

function readState(dir: string): State | null {
  const f = join(dir, 'cluster.json');
  if (!existsSync(f)) return null;
  return JSON.parse(readFileSync(f, 'utf8')) as State;
}

function writeState(s: State): void {
  writeFileSync(join(s.dir, 'cluster.json'), JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
}

/** Whether pid is a live process whose command line contains `mark` (our node or Prometheus, not a recycled pid). */
function ours(pid: number, mark: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((a) => a.includes(mark));
  } catch {
    return false;
  }
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function stop(dir: string, clean: boolean): Promise<void> {
  const s = readState(dir);
  if (!s) {
    say(`no local cluster state in ${dir}`);
  } else {
    const procs = [...s.nodes.map((n) => ({ name: `node ${n.id}`, pid: n.pid, mark: n.dir })), ...(s.prometheus ? [{ name: 'prometheus', pid: s.prometheus.pid, mark: s.prometheus.config }] : [])];
    const running = procs.filter((p) => ours(p.pid, p.mark));
    for (const p of running) process.kill(p.pid, 'SIGTERM');
    const deadline = Date.now() + stopTimeoutMs;
    while (running.some((p) => ours(p.pid, p.mark)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    for (const p of running) {
      if (ours(p.pid, p.mark)) {
        process.kill(p.pid, 'SIGKILL');
        say(`${p.name} (pid ${p.pid}) did not stop within ${stopTimeoutMs / 1000} s: killed`);
      } else say(`${p.name} (pid ${p.pid}) stopped`);
    }
    if (running.length === 0) say('no process of the cluster was running');
    rmSync(join(dir, 'cluster.json'), { force: true });
  }
  if (clean) {
    rmSync(dir, { recursive: true, force: true });
    say(`deleted ${dir}`);
  }
}

function printCluster(s: State): void {
  say(`Strata local cluster: ${s.nodes.length} nodes, data in ${s.dir} (state: ${join(s.dir, 'cluster.json')})`);
  for (const n of s.nodes) say(`  node ${n.id}: sql 127.0.0.1:${n.sqlPort}  http http://127.0.0.1:${n.httpPort}  rpc ${rpcAddrOf(n)}  pid ${n.pid}  log ${n.log}`);
  if (s.prometheus) say(`  prometheus: http://127.0.0.1:${s.prometheus.port}  pid ${s.prometheus.pid}  config ${s.prometheus.config}`);
  say('');
  say('Connect (insecure: user root, no password), through any node:');
  for (const n of s.nodes) say(`  psql "${sqlUrlOf(n)}"`);
  say('');
  say(`Node status: node ${cliPath.replace(repoRoot + '/', '')} node status --insecure --host=${rpcAddrOf(s.nodes[0] as NodeSpec)}`);
  say(`Stop:        npm run cluster:local -- --stop${s.dir === defaultDir ? '' : ` --dir=${s.dir}`}   (add --clean to delete the data)`);
}

async function status(dir: string): Promise<void> {
  const s = readState(dir);
  if (!s) return say(`no local cluster state in ${dir}`);
  printCluster(s);
  say('');
  for (const n of s.nodes) say(`node ${n.id}: ${ours(n.pid, n.dir) ? 'running' : 'not running'}, ${(await nodeReady(n.httpPort)) ? 'ready' : 'not ready'}`);
  if (s.prometheus) say(`prometheus: ${ours(s.prometheus.pid, s.prometheus.config) ? 'running' : 'not running'}`);
}

async function start(o: { dir: string; nodes: number; sqlPort: number; httpPort: number; rpcPort: number; prometheus: boolean; prometheusPort: number }): Promise<void> {
  const prev = readState(o.dir);
  if (prev && prev.nodes.some((n) => ours(n.pid, n.dir))) fail(`a local cluster is already running from ${o.dir} (see --status); stop it with --stop first`);
  const specs = consecutiveNodes(o.dir, o.nodes, { sql: o.sqlPort, http: o.httpPort, rpc: o.rpcPort });
  const ports = [...specs.flatMap((n) => [n.sqlPort, n.httpPort, n.rpcPort]), ...(o.prometheus ? [o.prometheusPort] : [])];
  const busy = [];
  for (const p of ports) if (!(await portIsFree(p))) busy.push(p);
  if (busy.length > 0) fail(`port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} on 127.0.0.1 ${busy.length > 1 ? 'are' : 'is'} in use: choose other bases with --sql-port, --http-port, --rpc-port${o.prometheus ? ', --prometheus-port' : ''}`);
  const promBinary = o.prometheus ? which('prometheus') : null;
  if (o.prometheus && !promBinary) fail("--prometheus needs Debian's prometheus package: run deploy/ensure-monitoring-tools.sh as root (apt-get install -y prometheus)");

  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const joinList = joinListOf(specs);
  const exited = new Map<number, number | null>();
  const state: State = { dir: o.dir, startedAt: new Date().toISOString(), nodes: [], prometheus: null };
  for (const n of specs) {
    const log = join(o.dir, `n${n.id}.log`);
    const fd = openSync(log, 'a', 0o600);
    const child = spawn(process.execPath, [cliPath, ...startArgs(n, joinList)], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, STRATA_LOG_LEVEL: process.env.STRATA_LOG_LEVEL ?? 'info' } });
    closeSync(fd);
    if (child.pid === undefined) fail(`could not start node ${n.id}`);
    child.once('exit', (code) => exited.set(n.id, code));
    child.unref();
    state.nodes.push({ ...n, pid: child.pid, log });
  }
  writeState(state);

  const broken = (): string | null => {
    for (const [id, code] of exited) {
      const n = state.nodes[id - 1];
      return `node ${id} exited (code ${code}); its log ${n?.log}:\n${tail(n?.log ?? '')}`;
    }
    return null;
  };
  const init = await initCluster(rpcAddrOf(specs[0] as NodeSpec));
  if (init.code === 0) say(init.stdout.trim());
  else if (alreadyInitialized(init)) say('the cluster was initialized before (its stores are in the data directory): the nodes rejoined it');
  else fail(`strata init failed: ${init.stderr.trim()}\n${broken() ?? ''}\nthe nodes are still running: npm run cluster:local -- --stop`);

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    const why = broken();
    if (why) fail(`${why}\nstop the others with: npm run cluster:local -- --stop`);
    const ready = await Promise.all(specs.map((n) => nodeReady(n.httpPort)));
    if (ready.every(Boolean)) break;
    if (Date.now() > deadline) fail(`nodes not ready after ${readyTimeoutMs / 1000} s: ${ready.map((r, i) => `n${i + 1}=${r ? 'ready' : 'not ready'}`).join(' ')} (logs in ${o.dir}); stop them with --stop`);
    await new Promise((r) => setTimeout(r, 250));
  }

  if (o.prometheus && promBinary) {
    const config = join(o.dir, 'prometheus.yml');
    writeFileSync(config, prometheusConfig({ targets: specs.map((n) => `127.0.0.1:${n.httpPort}`), scrapeIntervalS: 10, evaluationIntervalS: 10, ruleFiles: ruleFiles() }));
    const log = join(o.dir, 'prometheus.log');
    const fd = openSync(log, 'a', 0o600);
    const child = startPrometheus({ binary: promBinary, configFile: config, dataDir: join(o.dir, 'prometheus-data'), port: o.prometheusPort, detached: true, logFd: fd });
    closeSync(fd);
    child.unref();
    if (child.pid === undefined) fail('could not start prometheus');
    state.prometheus = { pid: child.pid, port: o.prometheusPort, config, log };
    writeState(state);
    await waitPrometheusReady(o.prometheusPort).catch((e: unknown) => fail(`${(e as Error).message}; its log ${log}:\n${tail(log)}`));
  }
  say('');
  printCluster(state);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      nodes: { type: 'string', default: '3' },
      'sql-port': { type: 'string', default: '26257' },
      'http-port': { type: 'string', default: '8080' },
      'rpc-port': { type: 'string', default: '27257' },
      prometheus: { type: 'boolean', default: false },
      'prometheus-port': { type: 'string', default: '9090' },
      stop: { type: 'boolean', default: false },
      status: { type: 'boolean', default: false },
      clean: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    say(readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0]?.replace(/^\/\*\*\n/, '').replace(/^ \* ?/gm, '') ?? '');
    return;
  }
  const dir = resolve(values.dir ?? defaultDir);
  if (values.stop) return stop(dir, values.clean);
  if (values.status) return status(dir);
  const int = (flag: string, v: string, lo: number, hi: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi) fail(`--${flag} must be an integer in [${lo}, ${hi}]`);
    return n;
  };
  await start({
    dir,
    nodes: int('nodes', values.nodes, 1, nodesMax),
    sqlPort: int('sql-port', values['sql-port'], 1024, 65535 - nodesMax),
    httpPort: int('http-port', values['http-port'], 1024, 65535 - nodesMax),
    rpcPort: int('rpc-port', values['rpc-port'], 1024, 65535 - nodesMax),
    prometheus: values.prometheus,
    prometheusPort: int('prometheus-port', values['prometheus-port'], 1024, 65535),
  });
}

main().then(
  () => process.exit(0),
  (e: unknown) => fail(e instanceof Error ? (e.stack ?? e.message) : String(e)),
);
