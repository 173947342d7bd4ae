/**
 * The monitoring of monitoring/ against real processes: a real three-node cluster (LocalCluster:
 * `strata start --join` ×3 and `strata init` on loopback; the third node joins once the others
 * hold TS data, so it is seeded by a KV_BATCH + TS_BATCH snapshot) with SQL through every node,
 * scraped every second by a real Prometheus (Debian's binary, installed by
 * deploy/ensure-monitoring-tools.sh when missing — never skipped) loading monitoring/rules/*.yml.
 * Then every PromQL expression is evaluated through Prometheus' HTTP API:
 *
 *   - every dashboard query (monitoring/grafana/dashboards/*.json: panel targets with $instance
 *     as `.*` and $__rate_interval as 10s, and template variables) must return data;
 *   - every recording rule must evaluate without error, its expression must return data and so
 *     must the series it records;
 *   - every alerting rule must evaluate without error. Its expression may rightly be empty (a
 *     healthy cluster fires nothing), so the rule is: each metric or recorded series it names,
 *     selected alone, must return data — an alert on a metric that does not exist is caught.
 *
 * "Data" is a non-empty result vector; a NaN sample (a quantile of a histogram that saw nothing
 * in the window) counts as data: the series exist and the query is well-formed.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../harness/cluster.js';
import { freePort } from '../../deploy/local/topology.js';
import { ensureMonitoringTools, monitoringDir, prometheusConfig, ruleFiles, startPrometheus, waitPrometheusReady } from '../../deploy/local/prometheus.js';
import { PromApi, dashboardQueries, metricNames } from './promql.js';
import type { NamedQuery } from './promql.js';

let cluster: LocalCluster | null = null;
let prom: ChildProcess | null = null;
let promLog = '';
let work = '';
let api: PromApi;

async function sql(node: number, text: string, db = 'defaultdb'): Promise<void> {
  const c = new pg.Client((cluster as LocalCluster).node(node).url(db));
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

async function until(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${promLog.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  const tools = ensureMonitoringTools();
  work = mkdtempSync(join(tmpdir(), 'strata-monitoring-'));
  // Two nodes first, with relational and TS data; the third joins later, so the snapshot that
  // seeds its replica carries both strategy parts (KV_BATCH and TS_BATCH).
  cluster = await LocalCluster.create(3);
  cluster.node(1).start();
  cluster.node(2).start();
  const init = await cluster.init(1);
  if (init.code !== 0) throw new Error(`strata init failed: ${init.stderr}`);
  await cluster.waitReady();
  await sql(1, 'create table kv (k int primary key, v text)');
  await sql(2, 'create ts database iot');
  await sql(1, 'create table m (ts timestamp not null, v float) tags (dev int not null) primary tags (dev)', 'iot');
  await sql(2, "insert into m values ('2026-01-01 00:00:00', 0.5, 0)", 'iot');
  cluster.node(3).start();
  await cluster.waitReady();

  // Prometheus starts scraping while the workload runs, so rates see it.
  const port = await freePort();
  const configFile = join(work, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig({ targets: cluster.nodes.map((n) => `127.0.0.1:${n.httpPort}`), scrapeIntervalS: 1, evaluationIntervalS: 1, ruleFiles: ruleFiles() }));
  prom = startPrometheus({ binary: tools.prometheus, configFile, dataDir: join(work, 'data'), port });
  const keep = (d: Buffer) => (promLog = (promLog + d.toString()).slice(-20_000));
  prom.stdout?.on('data', keep);
  prom.stderr?.on('data', keep);
  await waitPrometheusReady(port);
  api = new PromApi(`http://127.0.0.1:${port}`);

  // Statements of several types through every node, TS included, and one error each.
  for (const n of [1, 2, 3]) {
    await sql(n, `insert into kv select g, 'x' from generate_series(${n * 100}, ${n * 100 + 49}) g`);
    await sql(n, `insert into m values ('2026-01-01 00:00:0${n}', ${n}.5, ${n})`, 'iot');
    await sql(n, 'select count(*) from kv');
    await sql(n, 'select dev, avg(v) from m group by dev', 'iot');
    await expect(sql(n, 'select * from no_such_table')).rejects.toThrow(/does not exist/);
  }

  // Every node scraped several times, and every rule evaluated after the workload.
  await until('three healthy targets', async () => (await api.query('up{job="strata"} == 1')).length === 3, 20_000);
  const after = Date.now() / 1000;
  await until(
    'the rules evaluated after the workload',
    async () => {
      const groups = await api.rules();
      return groups.length > 0 && groups.every((g) => g.rules.every((r) => Date.parse(r.lastEvaluation) / 1000 > after + 2));
    },
    20_000,
  );
}, 150_000);

afterAll(async () => {
  if (prom && prom.exitCode === null) {
    const p = prom;
    await new Promise<void>((res) => {
      p.once('exit', () => res());
      p.kill('SIGTERM');
    });
  }
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Each query evaluated; the ones that failed or came back empty. */
async function evaluate(queries: NamedQuery[]): Promise<string[]> {
  const bad: string[] = [];
  for (const q of queries) {
    try {
      const r = await api.query(q.expr);
      if (r.length === 0) bad.push(`${q.where}: no data: ${q.expr}`);
    } catch (e) {
      bad.push(`${q.where}: error ${(e as Error).message}: ${q.expr}`);
    }
  }
  return bad;
}

describe('monitoring/ against a real Prometheus scraping a real three-node cluster', () => {
  it('every dashboard query returns data', async () => {
    const dir = join(monitoringDir, 'grafana', 'dashboards');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBe(5);
    const queries = files.flatMap((f) => dashboardQueries(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Parameters<typeof dashboardQueries>[0]));
    expect(queries.length).toBeGreaterThan(50);
    expect(await evaluate(queries)).toEqual([]);
  });

  it('every recording rule evaluates, returns data and records its series', async () => {
    const rules = (await api.rules()).flatMap((g) => g.rules.filter((r) => r.type === 'recording').map((r) => ({ ...r, group: g.name })));
    expect(rules.length).toBeGreaterThan(10);
    const unhealthy = rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`);
    expect(unhealthy).toEqual([]);
    const bad = await evaluate(rules.flatMap((r) => [{ where: `rule ${r.name}`, expr: r.query }, { where: `recorded ${r.name}`, expr: r.name }]));
    expect(bad).toEqual([]);
  });

  it('every alerting rule evaluates, and every metric it names returns data', async () => {
    const rules = (await api.rules()).flatMap((g) => g.rules.filter((r) => r.type === 'alerting'));
    expect(rules.length).toBeGreaterThan(10);
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`)).toEqual([]);
    const bad: string[] = [];
    for (const r of rules) {
      try {
        await api.query(r.query); // must run; may be empty
      } catch (e) {
        bad.push(`alert ${r.name}: error ${(e as Error).message}`);
      }
      const names = metricNames(r.query);
      if (names.length === 0) bad.push(`alert ${r.name}: names no metric: ${r.query}`);
      bad.push(...(await evaluate(names.map((n) => ({ where: `alert ${r.name} › ${n}`, expr: n })))));
    }
    expect(bad).toEqual([]);
  });

  it('the cluster metrics say what the cluster is: three live nodes, every range with a leaseholder, nothing unavailable', async () => {
    const one = async (expr: string) => Number((await api.query(expr))[0]?.value[1]);
    // The first range, the liveness range and the TS table's five hash-point ranges, each on all three nodes.
    const ranges = (await (cluster as LocalCluster).node(1).ranges()).length;
    expect(ranges).toBe(7);
    await until('every range on every node in the scraped metrics', async () => (await one('sum(strata_replicas)')) === 3 * ranges, 30_000);
    // An idle range quiesces and its lease is renewed at its next request: at least the first
    // range (liveness heartbeats write to it) has a valid lease at every moment.
    const held = await one('sum(strata_replicas_leaseholders)');
    expect(held).toBeGreaterThanOrEqual(1);
    expect(held).toBeLessThanOrEqual(ranges);
    expect(await one('min(strata_liveness_live_nodes)')).toBe(3);
    expect(await one('sum(strata_ranges_unavailable)')).toBe(0);
    expect(await one('sum(strata_ranges_underreplicated)')).toBe(0);
    expect(await one('sum(strata_raft_leader_changes_total)')).toBeGreaterThanOrEqual(1);
    expect(await one('sum(strata_liveness_heartbeats_total{result="ok"})')).toBeGreaterThan(0);
    expect(await one('count(strata_clock_offset_seconds)')).toBe(6); // every node measures its two peers
    expect(await one('sum(strata_rpc_duration_seconds_count{method="Ping"})')).toBeGreaterThan(0);
    // Nodes 2 and 3 were seeded by snapshots; node 3's carried the TS table's data too.
    expect(await one('sum(strata_range_snapshots_applied_total{strategy="kv_batch"})')).toBeGreaterThanOrEqual(2);
    expect(await one('sum(strata_range_snapshots_applied_total{strategy="ts_batch"})')).toBeGreaterThanOrEqual(1);
    expect(await one('sum(strata_range_snapshots_sent_total{strategy="ts_batch"})')).toBeGreaterThanOrEqual(1);
  });
});
