/**
 * The run behind `npm run bench:cluster` (qa/bench/cluster.ts) and its CI slice
 * (qa/cluster/tsbs_cluster.test.ts): TSBS "devops cpu-only" loaded with COPY into one node
 * (`start-single-node`) and into a three-node local cluster (`strata start --join` ×3 + `strata
 * init`, started by qa/harness/cluster.ts on deploy/local/topology.ts), the same rows for both,
 * then the TSBS query set on both. Every query instance's rows through every cluster node are
 * compared with the single node's; a difference is reported as a mismatch (the caller fails).
 *
 * The two systems run one after the other (the single node is stopped before the cluster starts)
 * so they do not share the two cores with each other. Data: qa/bench/tsbs/data.ts; queries:
 * qa/bench/tsbs/queries.ts, instances drawn with the seeds bench:tsbs uses.
 */
import pg from 'pg';
import postgres from 'postgres';
import { LocalCluster } from '../../harness/cluster.js';
import { startNode } from '../../harness/node.js';
import { normalizeRows } from './compare.js';
import { fields, hosts, isoOf, readings, rng } from './data.js';
import { queryTypes } from './queries.js';
import type { QueryInstance, QueryType } from './queries.js';

export interface ClusterBenchOptions {
  hosts: number;
  hours: number;
  /** COPY streams in total: for the cluster spread round-robin over the nodes' SQL ports, for the single node all to it. */
  workers: number;
  /** Timed instances per query type (one more, untimed, warms up). */
  runs: number;
  /** Only these query types (empty: all). */
  queries?: Set<string>;
  /** Cluster size (3). */
  nodes?: number;
  /** ts.ranges_per_table for the cluster's table (0 or absent: the default, 5 hash-point ranges). */
  tsRanges?: number;
  log?: (line: string) => void;
}

export interface Mismatch {
  query: string;
  instance: number;
  node: number;
  single: string[];
  cluster: string[];
}

export interface QueryResult {
  name: string;
  /** Median over the timed instances, ms. */
  singleMs: number;
  /** Median over the timed instances through every cluster node, ms. */
  clusterMs: number;
  /** The same, only through the node holding the lease / only through the others. */
  clusterLeaseholderMs: number;
  clusterFollowerMs: number;
  rows: number;
  equal: boolean;
  /** Every timed execution, ms: single node per instance; cluster per instance × gateway node (n1, n2, …). */
  singleTimesMs: number[];
  clusterTimesMs: number[][];
}

export interface ClusterBenchResult {
  startedAt: string;
  hosts: number;
  hours: number;
  rows: number;
  metrics: number;
  workers: number;
  runs: number;
  nodes: number;
  ingest: { singleSeconds: number; singleRowsPerSec: number; clusterSeconds: number; clusterRowsPerSec: number; ratio: number };
  cluster: { leaseholderNode: number; ranges: number; replicasPerRange: number[] };
  queries: QueryResult[];
  mismatches: Mismatch[];
}

const tagCols =
  'hostname varchar(32) not null, region varchar(16), datacenter varchar(24), rack varchar(8), os varchar(24), arch varchar(8), team varchar(8), service varchar(8), service_version varchar(8), service_environment varchar(16)';
/** bench:tsbs's Strata schema (KWDB-style TS table, tags inline, hostname the primary tag). */
export const schema = ['create ts database benchmark', `create table benchmark.cpu (ts timestamptz not null, ${fields.map((f) => `${f} int8`).join(', ')}) tags (${tagCols}) primary tags (hostname)`];

/** COPY text per worker (rows split by host, so a worker's rows of a host stay in time order), in ~1 MiB chunks. */
export function copyChunks(hostCount: number, hours: number, workers: number): { chunks: string[][]; rows: number } {
  const hostLine = hosts(hostCount).map((t) => t.join('\t'));
  const chunks: string[][] = Array.from({ length: workers }, () => []);
  const buf: string[] = Array.from({ length: workers }, () => '');
  let rows = 0;
  for (const r of readings(hostCount, hours)) {
    const w = r.host % workers;
    buf[w] += `${isoOf(r.ms)}\t${r.values.join('\t')}\t${hostLine[r.host]}\n`;
    if ((buf[w] as string).length > 1 << 20) {
      (chunks[w] as string[]).push(buf[w] as string);
      buf[w] = '';
    }
    rows++;
  }
  buf.forEach((b, w) => b && (chunks[w] as string[]).push(b));
  return { chunks, rows };
}

/** `runs + 1` instances of a query type, drawn with bench:tsbs's seed for that type. */
export function instancesOf(qt: QueryType, count: number): QueryInstance[] {
  const r = rng(1000 + qt.name.length * 31 + qt.name.charCodeAt(qt.name.length - 1));
  return Array.from({ length: count }, () => qt.make(r));
}

/** COPY each worker's chunks to its URL, all workers at once; seconds. */
async function copyAll(urls: string[], chunks: string[][]): Promise<number> {
  const start = performance.now();
  await Promise.all(
    chunks.map(async (list, w) => {
      const c = postgres(urls[w % urls.length] as string, { max: 1, onnotice: () => {} });
      try {
        const stream = await c.unsafe('copy cpu from stdin').writable();
        for (const chunk of list) if (!stream.write(chunk)) await new Promise((r) => stream.once('drain', r));
        await new Promise<void>((res, rej) => {
          stream.once('error', rej);
          stream.once('finish', res);
          stream.end();
        });
      } finally {
        await c.end();
      }
    }),
  );
  return (performance.now() - start) / 1000;
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

async function until<T>(what: string, timeoutMs: number, f: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client(url);
  await c.connect();
  return c;
}

export async function runClusterBench(o: ClusterBenchOptions): Promise<ClusterBenchResult> {
  const log = o.log ?? (() => {});
  const nodeCount = o.nodes ?? 3;
  const { chunks, rows } = copyChunks(o.hosts, o.hours, o.workers);
  const types = queryTypes(o.hosts, o.hours).filter((qt) => !o.queries || o.queries.size === 0 || o.queries.has(qt.name));
  const instances = new Map(types.map((qt) => [qt.name, instancesOf(qt, o.runs + 1)]));
  const result: ClusterBenchResult = {
    startedAt: new Date().toISOString(),
    hosts: o.hosts,
    hours: o.hours,
    rows,
    metrics: rows * fields.length,
    workers: o.workers,
    runs: o.runs,
    nodes: nodeCount,
    ingest: { singleSeconds: NaN, singleRowsPerSec: NaN, clusterSeconds: NaN, clusterRowsPerSec: NaN, ratio: NaN },
    cluster: { leaseholderNode: 0, ranges: 0, replicasPerRange: [] },
    queries: [],
    mismatches: [],
  };
  const countRows = async (c: pg.Client) => Number((await c.query('select count(*) as n from cpu')).rows[0].n);

  // ---- one node ----------------------------------------------------------------------------------
  const singleRows = new Map<string, string[][]>();
  const singleTimes = new Map<string, number[]>();
  const single = await startNode();
  try {
    log(`single node: started (pid ${single.proc?.pid}); loading ${rows.toLocaleString()} rows with ${o.workers} COPY streams`);
    const c0 = await connect(single.url);
    for (const q of schema) await c0.query(q);
    await c0.end();
    const url = single.url.replace('/defaultdb', '/benchmark');
    result.ingest.singleSeconds = await copyAll([url], chunks);
    result.ingest.singleRowsPerSec = rows / result.ingest.singleSeconds;
    const c = await connect(url);
    try {
      const n = await countRows(c);
      if (n !== rows) throw new Error(`single node holds ${n} rows after the load, not ${rows}`);
      log(`single node: ${Math.round(result.ingest.singleRowsPerSec).toLocaleString()} rows/s; queries`);
      for (const [name, list] of instances) {
        const got: string[][] = [];
        const times: number[] = [];
        for (let i = 0; i < list.length; i++) {
          const t = performance.now();
          const r = await c.query((list[i] as QueryInstance).strata);
          if (i > 0) times.push(performance.now() - t);
          got.push(normalizeRows(r.rows as Record<string, unknown>[]));
        }
        singleRows.set(name, got);
        singleTimes.set(name, times);
      }
    } finally {
      await c.end();
    }
  } finally {
    await single.stop();
    single.cleanup();
  }

  // ---- the cluster -------------------------------------------------------------------------------
  const cluster = await LocalCluster.create(nodeCount);
  try {
    for (const n of cluster.nodes) n.start();
    const init = await cluster.init(1);
    if (init.code !== 0) throw new Error(`strata init failed: ${init.stderr}`);
    await cluster.waitReady();
    const want = Math.min(3, nodeCount);
    // Load only once every range has its voters (the replicate queue adds them after init).
    await until(`every range with ${want} replicas on every node`, 120_000, async () => {
      for (const n of cluster.nodes) {
        const rs = await n.ranges();
        if (rs.length === 0 || rs.some((r) => r.replicas.length < want)) return false;
      }
      return true;
    });
    log(`cluster: ${nodeCount} nodes ready (${cluster.nodes.map((n) => `n${n.id} pid ${n.proc?.pid}`).join(', ')})`);
    const c0 = await connect(cluster.node(1).url());
    if (o.tsRanges) await c0.query(`set cluster setting ts.ranges_per_table = ${o.tsRanges}`);
    for (const q of schema) await c0.query(q);
    await c0.end();
    // The table's ranges get leaders and their leases move to their preferred nodes right after
    // CREATE TABLE: the load starts once the leases have stayed put for 3 s.
    let last = '';
    let since = Date.now();
    await until('stable leases', 60_000, async () => {
      // The lease records as node 1 has applied them (an idle range's lease is not "held": it
      // quiesced, and its holder renews it at the next request).
      const rs = await cluster.node(1).ranges();
      const now = JSON.stringify(rs.map((r) => [r.rangeId, r.leaseholderNodeId]).sort());
      if (now !== last || rs.some((r) => r.leaseholderNodeId === null)) {
        last = now;
        since = Date.now();
        return false;
      }
      return Date.now() - since >= 3_000;
    });
    const clients = await Promise.all(cluster.nodes.map((n) => connect(n.url('benchmark'))));
    try {
      // The table must be visible through every gateway before the load starts.
      for (const c of clients) await until('the table on every node', 60_000, async () => (await c.query('select count(*) as n from cpu'), true));
      log(`cluster: loading ${rows.toLocaleString()} rows with ${o.workers} COPY streams over ${nodeCount} nodes' SQL ports`);
      result.ingest.clusterSeconds = await copyAll(
        cluster.nodes.map((n) => n.url('benchmark')),
        chunks,
      );
      result.ingest.clusterRowsPerSec = rows / result.ingest.clusterSeconds;
      result.ingest.ratio = result.ingest.clusterRowsPerSec / result.ingest.singleRowsPerSec;
      for (const [i, c] of clients.entries()) {
        const n = await countRows(c);
        if (n !== rows) throw new Error(`cluster node ${i + 1} sees ${n} rows after the load, not ${rows}`);
      }
      const holders = async () => {
        const h: number[] = [];
        for (const n of cluster.nodes) for (const r of await n.ranges()) if (r.holdsLease) h.push(n.id);
        return h;
      };
      const lhBefore = await holders();
      const status = await cluster.node(1).ranges();
      result.cluster.ranges = status.length;
      result.cluster.replicasPerRange = status.map((r) => r.replicas.length);
      result.cluster.leaseholderNode = new Set(lhBefore).size === 1 ? (lhBefore[0] as number) : 0;
      log(`cluster: ${Math.round(result.ingest.clusterRowsPerSec).toLocaleString()} rows/s; ${status.length} range(s), leases on ${[...new Set(lhBefore)].map((x) => `n${x}`).join(', ')}; queries through every node`);

      for (const [name, list] of instances) {
        const all: number[] = [];
        const perInstance: number[][] = [];
        const onLh: number[] = [];
        const onFollower: number[] = [];
        let equal = true;
        const expected = singleRows.get(name) as string[][];
        for (let i = 0; i < list.length; i++) {
          if (i > 0) perInstance.push([]);
          for (const [k, c] of clients.entries()) {
            const t = performance.now();
            const r = await c.query((list[i] as QueryInstance).strata);
            const ms = performance.now() - t;
            if (i > 0) {
              all.push(ms);
              perInstance[perInstance.length - 1]?.push(ms);
              (k + 1 === result.cluster.leaseholderNode ? onLh : onFollower).push(ms);
            }
            const got = normalizeRows(r.rows as Record<string, unknown>[]);
            const want = expected[i] as string[];
            if (got.length !== want.length || got.some((x, j) => x !== want[j])) {
              equal = false;
              result.mismatches.push({ query: name, instance: i, node: k + 1, single: want, cluster: got });
              log(`MISMATCH ${name} instance ${i} through n${k + 1}: single ${want.length} rows, cluster ${got.length} rows\n  single  ${want.slice(0, 3).join(' ; ')}\n  cluster ${got.slice(0, 3).join(' ; ')}`);
            }
          }
        }
        result.queries.push({
          name,
          singleMs: median(singleTimes.get(name) as number[]),
          clusterMs: median(all),
          clusterLeaseholderMs: median(onLh),
          clusterFollowerMs: median(onFollower),
          rows: (expected[expected.length - 1] as string[]).length,
          equal,
          singleTimesMs: singleTimes.get(name) as number[],
          clusterTimesMs: perInstance,
        });
      }
      const lhAfter = await holders();
      if (lhAfter.join() !== lhBefore.join()) log(`note: leases moved during the queries (${lhBefore.join()} → ${lhAfter.join()})`);
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
    }
  } finally {
    await cluster.stop();
  }
  return result;
}
