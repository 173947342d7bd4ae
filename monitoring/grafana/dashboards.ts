/**
 * Generates the Grafana dashboards (monitoring/grafana/dashboards/*.json) from one description,
 * so the five share their variables, data source and conventions:
 *
 *   npx tsx monitoring/grafana/dashboards.ts          (npm run monitoring:dashboards)
 *
 * Every query may use `$instance` (a regex: the nodes chosen, `.*` for all) and
 * `$__rate_interval`; qa/monitoring evaluates each one against a real Prometheus scraping a real
 * cluster, so a query here that names a metric that does not exist fails a test.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Target {
  expr: string;
  legend?: string;
}

interface Panel {
  title: string;
  targets: Target[];
  /** Grafana unit id (short, s, bytes, percentunit, ops, reqps…). */
  unit?: string;
  kind?: 'timeseries' | 'stat';
  description?: string;
  /** Width in grid columns (24 per row); default 12 for graphs, 6 for stats. */
  w?: number;
  stacked?: boolean;
}

interface Row {
  title: string;
  panels: Panel[];
}

interface Dashboard {
  uid: string;
  title: string;
  description: string;
  rows: Row[];
}

const ds = { type: 'prometheus', uid: '${datasource}' };
const sel = 'job="strata", instance=~"$instance"';
const ri = '$__rate_interval';

const overview: Dashboard = {
  uid: 'strata-overview',
  title: 'Strata / Overview',
  description: 'Cluster health at a glance: nodes, ranges, SQL traffic and latency, disk.',
  rows: [
    {
      title: 'Cluster',
      panels: [
        { title: 'Nodes up', kind: 'stat', targets: [{ expr: 'sum(up{job="strata"})' }], unit: 'short', description: 'Nodes Prometheus can scrape.' },
        { title: 'Live nodes (liveness)', kind: 'stat', targets: [{ expr: 'max(strata_liveness_live_nodes{job="strata"})' }], unit: 'short', description: 'Nodes whose liveness record is current, as the best-informed node sees them.' },
        { title: 'Unavailable ranges', kind: 'stat', targets: [{ expr: 'sum(cluster:strata_ranges_unavailable:sum)' }], unit: 'short' },
        { title: 'Under-replicated ranges', kind: 'stat', targets: [{ expr: 'sum(cluster:strata_ranges_underreplicated:sum)' }], unit: 'short' },
      ],
    },
    {
      title: 'Traffic',
      panels: [
        { title: 'SQL statements per second', targets: [{ expr: `sum by (instance) (rate(strata_sql_statements_total{${sel}}[${ri}]))`, legend: '{{instance}}' }], unit: 'ops', stacked: true },
        { title: 'SQL p99 latency (cluster and per node)', targets: [{ expr: 'cluster:strata_sql_statement_duration_seconds:p99', legend: 'cluster' }, { expr: `instance:strata_sql_statement_duration_seconds:p99{${sel}}`, legend: '{{instance}}' }], unit: 's' },
        { title: 'SQL errors per second', targets: [{ expr: `sum by (instance) (rate(strata_sql_errors_total{${sel}}[${ri}]))`, legend: '{{instance}}' }], unit: 'ops' },
        { title: 'SQL connections', targets: [{ expr: `strata_sql_connections{${sel}}`, legend: '{{instance}}' }], unit: 'short' },
      ],
    },
    {
      title: 'Nodes',
      panels: [
        { title: 'Replicas per node', targets: [{ expr: `strata_replicas{${sel}}`, legend: '{{instance}}' }], unit: 'short' },
        { title: 'Leaseholders per node', targets: [{ expr: `strata_replicas_leaseholders{${sel}}`, legend: '{{instance}}' }], unit: 'short' },
        { title: 'Store disk free', targets: [{ expr: `instance:strata_store_disk_available:ratio{${sel}}`, legend: '{{instance}}' }], unit: 'percentunit' },
        { title: 'Restarts (last hour)', targets: [{ expr: `changes(strata_process_process_start_time_seconds{${sel}}[1h])`, legend: '{{instance}}' }], unit: 'short' },
      ],
    },
  ],
};

const sql: Dashboard = {
  uid: 'strata-sql',
  title: 'Strata / SQL',
  description: 'The SQL gateway: statements, errors by SQLSTATE, latency, connections, transactions.',
  rows: [
    {
      title: 'Statements',
      panels: [
        { title: 'Statements per second by type', targets: [{ expr: `sum by (type) (rate(strata_sql_statements_total{${sel}}[${ri}]))`, legend: '{{type}}' }], unit: 'ops', stacked: true },
        { title: 'Errors per second by SQLSTATE', targets: [{ expr: `sum by (code) (rate(strata_sql_errors_total{${sel}}[${ri}]))`, legend: '{{code}}' }], unit: 'ops', description: 'Every SQLSTATE counts, including 40001 serialization failures that the client retries.' },
        { title: 'Latency p50 / p99 per node', targets: [{ expr: `instance:strata_sql_statement_duration_seconds:p50{${sel}}`, legend: 'p50 {{instance}}' }, { expr: `instance:strata_sql_statement_duration_seconds:p99{${sel}}`, legend: 'p99 {{instance}}' }], unit: 's' },
        { title: 'Latency p99 by statement type', targets: [{ expr: `histogram_quantile(0.99, sum by (type, le) (rate(strata_sql_statement_duration_seconds_bucket{${sel}}[${ri}])))`, legend: '{{type}}' }], unit: 's' },
      ],
    },
    {
      title: 'Sessions and transactions',
      panels: [
        { title: 'Connections', targets: [{ expr: `strata_sql_connections{${sel}}`, legend: '{{instance}}' }], unit: 'short' },
        { title: 'Client bytes per second', targets: [{ expr: `sum by (instance) (rate(strata_sql_bytes_in_total{${sel}}[${ri}]))`, legend: 'in {{instance}}' }, { expr: `sum by (instance) (rate(strata_sql_bytes_out_total{${sel}}[${ri}]))`, legend: 'out {{instance}}' }], unit: 'Bps' },
        { title: 'Write commits per second (applied on each node)', targets: [{ expr: `deriv(strata_kv_commits{${sel}}[${ri}])`, legend: '{{instance}}' }], unit: 'ops' },
        { title: 'Serialization conflicts (40001) since start', targets: [{ expr: `strata_kv_serialization_conflicts{${sel}}`, legend: '{{instance}}' }], unit: 'short' },
      ],
    },
  ],
};

const replication: Dashboard = {
  uid: 'strata-replication',
  title: 'Strata / Replication',
  description: 'Ranges, leases, Raft, snapshots, liveness, clocks and the inter-node RPC.',
  rows: [
    {
      title: 'Ranges',
      panels: [
        { title: 'Replicas', targets: [{ expr: `strata_replicas{${sel}}`, legend: '{{instance}}' }, { expr: 'cluster:strata_replicas:sum', legend: 'cluster' }], unit: 'short' },
        { title: 'Leaseholders', targets: [{ expr: `strata_replicas_leaseholders{${sel}}`, legend: '{{instance}}' }, { expr: 'cluster:strata_replicas_leaseholders:sum', legend: 'cluster' }], unit: 'short' },
        { title: 'Unavailable ranges', targets: [{ expr: `strata_ranges_unavailable{${sel}}`, legend: '{{instance}}' }], unit: 'short', description: 'Each range is reported by one node: its leaseholder, or the lowest live voter when the leaseholder is dead.' },
        { title: 'Under-replicated ranges', targets: [{ expr: `strata_ranges_underreplicated{${sel}}`, legend: '{{instance}}' }], unit: 'short' },
      ],
    },
    {
      title: 'Raft',
      panels: [
        { title: 'Leader changes per second', targets: [{ expr: `rate(strata_raft_leader_changes_total{${sel}}[${ri}])`, legend: '{{instance}}' }], unit: 'ops' },
        { title: 'Raft proposals per second', targets: [{ expr: `rate(strata_raft_proposals_total{${sel}}[${ri}])`, legend: '{{instance}}' }], unit: 'ops' },
        { title: 'KV batch requests per second', targets: [{ expr: `rate(strata_kv_batch_requests_total{${sel}}[${ri}])`, legend: '{{instance}}' }], unit: 'reqps' },
        { title: 'Raft transport: messages sent / dropped per second', targets: [{ expr: `rate(strata_raft_transport_messages_sent_total{${sel}}[${ri}])`, legend: 'sent {{instance}}' }, { expr: `rate(strata_raft_transport_messages_dropped_total{${sel}}[${ri}])`, legend: 'dropped {{instance}}' }], unit: 'ops' },
      ],
    },
    {
      title: 'Snapshots',
      panels: [
        { title: 'Snapshots applied by strategy', targets: [{ expr: `sum by (instance, strategy) (increase(strata_range_snapshots_applied_total{${sel}}[${ri}]))`, legend: '{{strategy}} {{instance}}' }], unit: 'short' },
        { title: 'Snapshots sent by strategy', targets: [{ expr: `sum by (instance, strategy) (increase(strata_range_snapshots_sent_total{${sel}}[${ri}]))`, legend: '{{strategy}} {{instance}}' }], unit: 'short' },
        { title: 'Snapshot failures', targets: [{ expr: `sum by (instance, side) (increase(strata_range_snapshots_failed_total{${sel}}[${ri}]))`, legend: '{{side}} {{instance}}' }], unit: 'short' },
        { title: 'Snapshots applied (last hour)', targets: [{ expr: `instance:strata_range_snapshots_applied:increase1h{${sel}}`, legend: '{{strategy}} {{instance}}' }], unit: 'short' },
      ],
    },
    {
      title: 'Liveness, clocks, RPC',
      panels: [
        { title: 'Liveness heartbeats per second', targets: [{ expr: `sum by (instance, result) (rate(strata_liveness_heartbeats_total{${sel}}[${ri}]))`, legend: '{{result}} {{instance}}' }], unit: 'ops' },
        { title: 'Live nodes seen by each node', targets: [{ expr: `strata_liveness_live_nodes{${sel}}`, legend: '{{instance}}' }], unit: 'short' },
        { title: 'Clock offset of peers', targets: [{ expr: `strata_clock_offset_seconds{${sel}}`, legend: '{{instance}} → n{{peer}}' }, { expr: `max(strata_clock_max_offset_seconds{${sel}}) * 0.8`, legend: 'stop threshold (80% of max offset)' }], unit: 's' },
        { title: 'RPC latency p99 by method', targets: [{ expr: `instance:strata_rpc_duration_seconds:p99{${sel}}`, legend: '{{method}} {{instance}}' }], unit: 's' },
        { title: 'RPC errors per second', targets: [{ expr: `sum by (instance, method) (rate(strata_rpc_errors_total{${sel}}[${ri}]))`, legend: '{{method}} {{instance}}' }], unit: 'ops' },
        { title: 'Peer connections', targets: [{ expr: `strata_rpc_peer_connected{${sel}}`, legend: '{{instance}} → n{{peer}}' }], unit: 'short' },
      ],
    },
  ],
};

const storage: Dashboard = {
  uid: 'strata-storage',
  title: 'Strata / Storage and TS engine',
  description: 'Disk, the KV engine, the Raft log and the time-series engine.',
  rows: [
    {
      title: 'Disk',
      panels: [
        { title: 'Store disk free', targets: [{ expr: `instance:strata_store_disk_available:ratio{${sel}}`, legend: '{{instance}}' }], unit: 'percentunit' },
        { title: 'Store disk available / capacity', targets: [{ expr: `strata_store_disk_available_bytes{${sel}}`, legend: 'available {{instance}}' }, { expr: `strata_store_disk_capacity_bytes{${sel}}`, legend: 'capacity {{instance}}' }], unit: 'bytes' },
        { title: 'Free disk vs ts.disk_free_space.alert_threshold', targets: [{ expr: `strata_store_disk_available_bytes{${sel}}`, legend: 'available {{instance}}' }, { expr: `strata_ts_disk_free_space_alert_threshold_bytes{${sel}}`, legend: 'TS threshold {{instance}}' }], unit: 'bytes', description: 'TS writes are refused (53100) while free space is below the threshold (0 = off).' },
      ],
    },
    {
      title: 'Engines',
      panels: [
        { title: 'KV engine size', targets: [{ expr: `strata_storage_engine_bytes{${sel}}`, legend: '{{instance}}' }], unit: 'bytes' },
        { title: 'Raft log segment size', targets: [{ expr: `strata_raft_log_bytes{${sel}}`, legend: '{{instance}}' }], unit: 'bytes' },
        { title: 'Raft log rounds (writes + fsync) per second', targets: [{ expr: `deriv(strata_raft_log_rounds{${sel}}[${ri}])`, legend: '{{instance}}' }], unit: 'ops' },
        { title: 'TS engine on disk', targets: [{ expr: `strata_ts_disk_bytes{${sel}}`, legend: '{{instance}}' }], unit: 'bytes', description: 'Segments are preallocated sparse files: this is their full size, not the blocks written.' },
        { title: 'TS blocks read per second, by how', targets: [{ expr: `sum by (how) (deriv(strata_ts_block_reads{${sel}}[${ri}]))`, legend: '{{how}}' }], unit: 'ops', description: 'skipped: pruned by header min/max; header: answered from the header; decoded.' },
      ],
    },
  ],
};

const runtime: Dashboard = {
  uid: 'strata-runtime',
  title: 'Strata / Runtime',
  description: 'The Node.js process of each node: CPU, memory, event loop, GC, handles.',
  rows: [
    {
      title: 'Process',
      panels: [
        { title: 'CPU (cores)', targets: [{ expr: `rate(strata_process_process_cpu_seconds_total{${sel}}[${ri}])`, legend: '{{instance}}' }], unit: 'short' },
        { title: 'Resident memory', targets: [{ expr: `strata_process_process_resident_memory_bytes{${sel}}`, legend: '{{instance}}' }], unit: 'bytes' },
        { title: 'Uptime', targets: [{ expr: `time() - strata_process_process_start_time_seconds{${sel}}`, legend: '{{instance}}' }], unit: 's' },
        { title: 'Open file descriptors', targets: [{ expr: `strata_process_process_open_fds{${sel}}`, legend: '{{instance}}' }], unit: 'short' },
      ],
    },
    {
      title: 'V8 and the event loop',
      panels: [
        { title: 'Heap used / total', targets: [{ expr: `strata_process_nodejs_heap_size_used_bytes{${sel}}`, legend: 'used {{instance}}' }, { expr: `strata_process_nodejs_heap_size_total_bytes{${sel}}`, legend: 'total {{instance}}' }], unit: 'bytes' },
        { title: 'Event loop lag p99', targets: [{ expr: `strata_process_nodejs_eventloop_lag_p99_seconds{${sel}}`, legend: '{{instance}}' }], unit: 's', description: 'A lag of more than a few ms means something runs synchronously too long: Raft ticks and heartbeats wait behind it.' },
        { title: 'GC time per second by kind', targets: [{ expr: `sum by (instance, kind) (rate(strata_process_nodejs_gc_duration_seconds_sum{${sel}}[${ri}]))`, legend: '{{kind}} {{instance}}' }], unit: 's' },
        { title: 'Active handles', targets: [{ expr: `strata_process_nodejs_active_handles_total{${sel}}`, legend: '{{instance}}' }], unit: 'short' },
      ],
    },
  ],
};

export const dashboards: Dashboard[] = [overview, sql, replication, storage, runtime];

/** The Grafana JSON model of a dashboard. */
export function toGrafana(d: Dashboard): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of d.rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    let rowH = 0;
    for (const p of row.panels) {
      const kind = p.kind ?? 'timeseries';
      const w = p.w ?? (kind === 'stat' ? 6 : 12);
      const h = kind === 'stat' ? 4 : 8;
      if (x + w > 24) {
        x = 0;
        y += rowH;
        rowH = 0;
      }
      panels.push({
        id: id++,
        type: kind,
        title: p.title,
        ...(p.description ? { description: p.description } : {}),
        datasource: ds,
        gridPos: { h, w, x, y },
        fieldConfig: {
          defaults: {
            unit: p.unit ?? 'short',
            ...(kind === 'timeseries' ? { custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: p.stacked ? 20 : 0, stacking: { mode: p.stacked ? 'normal' : 'none', group: 'A' }, showPoints: 'never' } } : {}),
          },
          overrides: [],
        },
        options: kind === 'stat' ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area', textMode: 'auto' } : { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
        targets: p.targets.map((t, i) => ({ datasource: ds, expr: t.expr, legendFormat: t.legend ?? '__auto', refId: String.fromCharCode(65 + i), range: true })),
      });
      x += w;
      rowH = Math.max(rowH, h);
    }
    y += rowH;
  }
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['strata'],
    editable: false,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    annotations: { list: [] },
    links: [{ type: 'dashboards', tags: ['strata'], asDropdown: true, title: 'Strata dashboards', includeVars: true, keepTime: true }],
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: { text: 'Prometheus', value: 'prometheus' }, hide: 0 },
        {
          name: 'instance',
          label: 'Node',
          type: 'query',
          datasource: ds,
          query: { query: 'label_values(strata_node_id{job="strata"}, instance)', refId: 'instance' },
          definition: 'label_values(strata_node_id{job="strata"}, instance)',
          refresh: 2,
          multi: true,
          includeAll: true,
          allValue: '.*',
          current: { text: 'All', value: '$__all' },
          sort: 1,
          hide: 0,
        },
      ],
    },
    panels,
  };
}

/** File name of a dashboard's JSON. */
export const fileOf = (d: Dashboard): string => `${d.uid}.json`;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'dashboards');
  mkdirSync(dir, { recursive: true });
  for (const d of dashboards) writeFileSync(join(dir, fileOf(d)), JSON.stringify(toGrafana(d), null, 2) + '\n');
  process.stdout.write(`wrote ${dashboards.length} dashboards to ${dir}\n`);
}
