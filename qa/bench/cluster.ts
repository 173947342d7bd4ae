/**
 * bench:cluster — TSBS "devops cpu-only" ingest and the TSBS query set on a three-node local
 * cluster (real processes on loopback, `strata start --join` + `strata init`) next to one node
 * (`start-single-node`) on the same machine, with the same data; every query instance's rows,
 * through every cluster node, must equal the single node's (exit 1 otherwise).
 *
 *   npm run bench:cluster [-- --hosts 100 --hours 4 --workers 3 --runs 5 --nodes 3 --ranges 5]
 *                            [--queries lastpoint,high-cpu-all] [--out tmp/bench]
 *
 * Ingest: COPY, `workers` streams at once — for the cluster spread round-robin over every node's
 * SQL port, for the single node all to it. Prints rows/s and each query's median latency (over
 * `runs` instances after one warm-up), with the ratios cluster / single, and writes the numbers
 * as JSON to `--out` (default the git-ignored tmp/bench/).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../harness/node.js';
import { runClusterBench } from './tsbs/cluster_run.js';

const { values: opt } = parseArgs({
  options: {
    hosts: { type: 'string', default: '100' },
    hours: { type: 'string', default: '4' },
    workers: { type: 'string', default: '3' },
    runs: { type: 'string', default: '5' },
    nodes: { type: 'string', default: '3' },
    ranges: { type: 'string', default: '0' },
    queries: { type: 'string', default: '' },
    out: { type: 'string', default: join(repoRoot, 'tmp', 'bench') },
  },
});
const out = (s: string) => process.stdout.write(s + '\n');
const num = (name: string) => {
  const v = Number(opt[name as keyof typeof opt]);
  if (!Number.isInteger(v) || v < (name === 'runs' ? 0 : 1)) throw new Error(`--${name} must be a positive integer`);
  return v;
};
const hosts = num('hosts');
const hours = num('hours');
const workers = num('workers');
const runs = num('runs');
const nodes = num('nodes');
const tsRanges = Number(opt.ranges);
if (!Number.isInteger(tsRanges) || tsRanges < 0 || tsRanges > 64) throw new Error('--ranges must be an integer in [0, 64] (0: the default)');
const t0 = performance.now();
out(`bench:cluster — TSBS devops cpu-only, ${hosts} hosts × ${hours} h at 10 s; ${workers} COPY streams; ${runs} timed instances per query (+1 warm-up); one node, then ${nodes} nodes${tsRanges ? ` (table split into ${tsRanges} range(s))` : ''} (${new Date().toISOString()})`);

const r = await runClusterBench({
  hosts,
  hours,
  workers,
  runs,
  nodes,
  tsRanges,
  queries: new Set((opt.queries as string).split(',').filter((q) => q !== '')),
  log: (s) => out(`  ${s}`),
});

const f1 = (x: number) => (Number.isNaN(x) ? 'n/a' : x < 10 ? x.toFixed(1) : Math.round(x).toLocaleString());
const ratio = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? 'n/a' : (a / b).toFixed(2));
out('');
out(`${r.rows.toLocaleString()} rows (${r.metrics.toLocaleString()} metrics); cluster: ${r.nodes} nodes, ${r.cluster.ranges} range(s) with ${r.cluster.replicasPerRange.join('/')} replicas, leaseholder n${r.cluster.leaseholderNode || '?'}`);
out('');
out(`${'ingest (COPY)'.padEnd(28)}${'single'.padStart(12)}${'cluster'.padStart(12)}${'cluster/single'.padStart(16)}`);
out(`${'rows/s'.padEnd(28)}${Math.round(r.ingest.singleRowsPerSec).toLocaleString().padStart(12)}${Math.round(r.ingest.clusterRowsPerSec).toLocaleString().padStart(12)}${r.ingest.ratio.toFixed(2).padStart(16)}`);
out('');
out(`${'query (median ms)'.padEnd(26)}${'single'.padStart(9)}${'cluster'.padStart(9)}${'via LH'.padStart(9)}${'via foll.'.padStart(11)}${'cl/single'.padStart(11)}${'LH/single'.padStart(11)}${'fol/single'.padStart(12)}${'rows'.padStart(8)}${'equal'.padStart(7)}`);
for (const q of r.queries)
  out(
    `${q.name.padEnd(26)}${f1(q.singleMs).padStart(9)}${f1(q.clusterMs).padStart(9)}${f1(q.clusterLeaseholderMs).padStart(9)}${f1(q.clusterFollowerMs).padStart(11)}${ratio(q.clusterMs, q.singleMs).padStart(11)}${ratio(q.clusterLeaseholderMs, q.singleMs).padStart(11)}${ratio(q.clusterFollowerMs, q.singleMs).padStart(12)}${String(q.rows).padStart(8)}${(q.equal ? 'yes' : 'NO').padStart(7)}`,
  );
out('');
out('cluster = median over every node as the gateway; via LH / via foll. = only through the leaseholder / only through the other nodes.');
out('Ratios are cluster / single: ingest above 1 = the cluster is faster; latency above 1 = the cluster is slower.');
out('equal = every instance through every cluster node returned the single node\'s rows (timestamps as instants, numbers to 6 significant digits).');

const dir = resolve(opt.out as string);
mkdirSync(dir, { recursive: true });
const file = join(dir, `cluster-${r.startedAt.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ command: ['npm run bench:cluster', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '), ...r, wallSeconds: (performance.now() - t0) / 1000 }, null, 2) + '\n');
out(`results: ${file} (${((performance.now() - t0) / 1000).toFixed(0)} s in all)`);
if (r.mismatches.length > 0) {
  out(`FAILED: ${r.mismatches.length} query result(s) through the cluster differ from the single node's (${[...new Set(r.mismatches.map((m) => m.query))].join(', ')})`);
  process.exitCode = 1;
}
