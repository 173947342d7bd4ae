/**
 * The deploy and monitoring files, checked by the tools that consume them (installed by
 * deploy/ensure-monitoring-tools.sh when missing; never skipped):
 *   - `promtool check config` on monitoring/prometheus.yml (it checks the rule files too) and on
 *     the configuration generated for local processes; `promtool test rules` on
 *     monitoring/rules_test.yml (each alert fires when it should, and not on a healthy cluster);
 *   - `docker-compose config` on docker-compose.yml (Debian's docker-compose 1.29: no Docker
 *     engine needed), and what it must hold: three nodes joining each other, the one-shot init,
 *     Prometheus and Grafana with the provisioning mounted, only loopback ports published;
 *   - the dashboards' JSON is what monitoring/grafana/dashboards.ts generates;
 *   - deploy/Dockerfile is multi-stage and runs as a non-root user.
 * Plus the PromQL helpers of qa/monitoring (promql.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureMonitoringTools, monitoringDir, prometheusConfig, ruleFiles } from '../../deploy/local/prometheus.js';
import { repoRoot } from '../../deploy/local/topology.js';
import { dashboards, fileOf, toGrafana } from '../../monitoring/grafana/dashboards.js';
import { dashboardQueries, fillVariables, metricNames, variableQueryAsPromql } from './promql.js';

const tools = ensureMonitoringTools();

function run(bin: string, args: string[]): { code: number; out: string } {
  const r = spawnSync(bin, args, { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe('prometheus configuration and rules', () => {
  it('monitoring/prometheus.yml and its rule files pass promtool check config', () => {
    const r = run(tools.promtool, ['check', 'config', join(monitoringDir, 'prometheus.yml')]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/SUCCESS: 2 rule files found/);
    const rules = run(tools.promtool, ['check', 'rules', ...ruleFiles()]);
    expect(rules.code, rules.out).toBe(0);
  });

  it('the alerting rules pass their unit tests (promtool test rules)', () => {
    const r = run(tools.promtool, ['test', 'rules', join(monitoringDir, 'rules_test.yml')]);
    expect(r.code, r.out).toBe(0);
  });

  it('the configuration generated for local processes passes promtool check config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-promcfg-'));
    try {
      const file = join(dir, 'prometheus.yml');
      writeFileSync(file, prometheusConfig({ targets: ['127.0.0.1:8080', '127.0.0.1:8081'], scrapeIntervalS: 1, evaluationIntervalS: 1, ruleFiles: ruleFiles() }));
      const r = run(tools.promtool, ['check', 'config', file]);
      expect(r.code, r.out).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docker-compose.yml', () => {
  it('passes docker-compose config and holds the promised topology', () => {
    const r = run(tools.dockerCompose, ['config', '-q']);
    expect(r.code, r.out).toBe(0);
    // The resolved model as JSON (docker-compose 1.29 prints YAML; ask python's yaml, which it runs on).
    const yamlText = execFileSync(tools.dockerCompose, ['config'], { cwd: repoRoot, encoding: 'utf8' });
    const json = execFileSync('python3', ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { input: yamlText, encoding: 'utf8' });
    type Service = { command?: string[]; entrypoint?: string[]; ports?: ({ host_ip?: string; published?: number | string; target?: number } | string)[]; volumes?: ({ source?: string; target?: string; type?: string } | string)[]; image?: string; restart?: string };
    const model = JSON.parse(json) as { services: Record<string, Service> };
    expect(Object.keys(model.services).sort()).toEqual(['grafana', 'init', 'prometheus', 'strata1', 'strata2', 'strata3']);
    for (const n of [1, 2, 3]) {
      const cmd = (model.services[`strata${n}`] as Service).command ?? [];
      expect(cmd[0]).toBe('start');
      expect(cmd).toContain(`--advertise-rpc-addr=strata${n}:27257`);
      expect(cmd).toContain(`--advertise-sql-addr=strata${n}:26257`);
      expect(cmd).toContain('--join=strata1:27257,strata2:27257,strata3:27257');
    }
    expect((model.services.init as Service).restart).toBe('no');
    // Only the host's loopback: insecure nodes must not be reachable from the network.
    for (const [name, s] of Object.entries(model.services)) {
      for (const p of s.ports ?? []) {
        const ip = typeof p === 'string' ? p.split(':')[0] : p.host_ip;
        expect(ip, `${name} publishes ${JSON.stringify(p)}`).toBe('127.0.0.1');
      }
    }
    // Every bind mount exists in the repository.
    // (docker-compose 1.29 writes volumes as `source:target:mode`, v2 as objects.)
    const sources = Object.values(model.services).flatMap((s) => (s.volumes ?? []).map((v) => (typeof v === 'string' ? (v.split(':')[0] as string) : (v.source ?? ''))));
    const binds = sources.filter((src) => src.startsWith('/'));
    expect(binds.map((b) => b.replace(repoRoot + '/', '')).sort()).toEqual(['monitoring/grafana/dashboards', 'monitoring/grafana/provisioning', 'monitoring/prometheus.yml', 'monitoring/rules']);
    for (const b of binds) expect(existsSync(b), b).toBe(true);
    // The prometheus.yml it mounts scrapes exactly the three node services.
    const prom = readFileSync(join(monitoringDir, 'prometheus.yml'), 'utf8');
    expect(prom).toMatch(/targets: \['strata1:8080', 'strata2:8080', 'strata3:8080'\]/);
    const init = readFileSync(join(repoRoot, 'deploy', 'compose-init.sh'), 'utf8');
    expect(init).toMatch(/already been initialized/);
  });

  it('deploy/Dockerfile is multi-stage and runs as a non-root user', () => {
    const text = readFileSync(join(repoRoot, 'deploy', 'Dockerfile'), 'utf8');
    const froms = [...text.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)];
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^COPY --from=build /m);
    const users = [...text.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    expect(text).not.toMatch(/PASSWORD|SECRET|TOKEN/i);
  });
});

describe('grafana', () => {
  it('the dashboards JSON is what monitoring/grafana/dashboards.ts generates (npm run monitoring:dashboards)', () => {
    const dir = join(monitoringDir, 'grafana', 'dashboards');
    expect(readdirSync(dir).sort()).toEqual(dashboards.map(fileOf).sort());
    for (const d of dashboards) expect(JSON.parse(readFileSync(join(dir, fileOf(d)), 'utf8'))).toEqual(toGrafana(d));
    expect(dashboards.map((d) => d.title)).toEqual(['Strata / Overview', 'Strata / SQL', 'Strata / Replication', 'Strata / Storage and TS engine', 'Strata / Runtime']);
    expect(new Set(dashboards.map((d) => d.uid)).size).toBe(5);
  });

  it('provisions the data source the dashboards use and a provider for their directory', () => {
    const dsYaml = readFileSync(join(monitoringDir, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8');
    expect(dsYaml).toMatch(/uid: prometheus/);
    expect(dsYaml).toMatch(/url: http:\/\/prometheus:9090/);
    const provider = readFileSync(join(monitoringDir, 'grafana', 'provisioning', 'dashboards', 'strata.yml'), 'utf8');
    expect(provider).toMatch(/path: \/etc\/grafana\/dashboards\/strata/);
    const compose = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain('./monitoring/grafana/dashboards:/etc/grafana/dashboards/strata:ro');
  });
});

describe('PromQL helpers', () => {
  it('finds the metric names of an expression, not labels, functions, durations or keywords', () => {
    expect(metricNames('sum by (job, instance) (rate(strata_sql_errors_total{code="40001"}[1m])) > 0')).toEqual(['strata_sql_errors_total']);
    expect(metricNames('a:b:c > on (job, instance) (0.5 * strata_clock_max_offset_seconds)')).toEqual(['a:b:c', 'strata_clock_max_offset_seconds']);
    expect(metricNames('x < on (job) y and on (job) z > 0 unless bool w offset 5m')).toEqual(['x', 'y', 'z', 'w']);
    expect(metricNames('histogram_quantile(0.99, sum by (le) (rate(m_bucket[5m])))')).toEqual(['m_bucket']);
    expect(metricNames('up{job="strata"} == 0')).toEqual(['up']);
  });

  it('fills Grafana variables and turns label_values into PromQL', () => {
    expect(fillVariables('rate(x{instance=~"$instance"}[$__rate_interval])')).toBe('rate(x{instance=~".*"}[10s])');
    expect(variableQueryAsPromql('label_values(strata_node_id{job="strata"}, instance)')).toBe('count by (instance) (strata_node_id{job="strata"})');
    const q = dashboardQueries({ title: 'D', panels: [{ type: 'row', title: 'r', panels: [{ title: 'p', targets: [{ expr: 'a' }] }] }, { title: 'q', targets: [{ expr: 'b' }] }] });
    expect(q.map((x) => x.expr)).toEqual(['a', 'b']);
  });
});
