/**
 * The TSBS devops query set, written for Strata (KWDB-style schema: one table, tags inline),
 * PostgreSQL (TSBS's TimescaleDB-style schema: a tags table and cpu(time, tags_id, …) with
 * indexes on (tags_id, time) and (time)) and InfluxDB (InfluxQL). Each query type draws its
 * parameters (hosts, start time) from a seeded generator, so all systems run the same instances.
 */
import { fields, intervalMs, isoOf, rng, startMs } from './data.js';

export interface QueryInstance {
  strata: string;
  pg: string;
  influx: string;
}

export interface QueryType {
  name: string;
  make(r: () => number): QueryInstance;
}

const hour = 3600_000;
const quoteList = (hs: string[]) => hs.map((h) => `'${h}'`).join(', ');
const influxHosts = (hs: string[]) => '(' + hs.map((h) => `hostname = '${h}'`).join(' or ') + ')';
const influxTime = (ms: number) => new Date(ms).toISOString();

export function queryTypes(hostCount: number, hours: number): QueryType[] {
  const endMs = startMs + hours * hour;
  const pickHosts = (r: () => number, n: number) => {
    const s = new Set<string>();
    while (s.size < Math.min(n, hostCount)) s.add(`host_${Math.floor(r() * hostCount)}`);
    return [...s];
  };
  const window = (r: () => number, spanMs: number) => {
    const span = Math.min(spanMs, endMs - startMs);
    const slots = Math.floor((endMs - startMs - span) / intervalMs);
    const from = startMs + Math.floor(r() * (slots + 1)) * intervalMs;
    return [from, from + span] as const;
  };

  const singleGroupby = (metrics: number, nHosts: number, spanHours: number): QueryType => ({
    name: `single-groupby-${metrics}-${nHosts}-${spanHours}`,
    make(r) {
      const hs = pickHosts(r, nHosts);
      const [a, b] = window(r, spanHours * hour);
      const ms = fields.slice(0, metrics);
      return {
        strata: `select time_bucket(ts, '1m') as minute, ${ms.map((m) => `max(${m}) as max_${m}`).join(', ')} from cpu where hostname in (${quoteList(hs)}) and ts >= '${isoOf(a)}' and ts < '${isoOf(b)}' group by minute order by minute`,
        pg: `select date_trunc('minute', time) as minute, ${ms.map((m) => `max(${m}) as max_${m}`).join(', ')} from cpu where tags_id in (select id from tags where hostname in (${quoteList(hs)})) and time >= '${isoOf(a)}' and time < '${isoOf(b)}' group by minute order by minute`,
        influx: `select ${ms.map((m) => `max(${m})`).join(', ')} from cpu where ${influxHosts(hs)} and time >= '${influxTime(a)}' and time < '${influxTime(b)}' group by time(1m)`,
      };
    },
  });

  const cpuMaxAll = (nHosts: number): QueryType => ({
    name: `cpu-max-all-${nHosts}`,
    make(r) {
      const hs = pickHosts(r, nHosts);
      const [a, b] = window(r, 8 * hour);
      return {
        strata: `select time_bucket(ts, '1h') as hour, ${fields.map((m) => `max(${m}) as max_${m}`).join(', ')} from cpu where hostname in (${quoteList(hs)}) and ts >= '${isoOf(a)}' and ts < '${isoOf(b)}' group by hour order by hour`,
        pg: `select date_trunc('hour', time) as hour, ${fields.map((m) => `max(${m}) as max_${m}`).join(', ')} from cpu where tags_id in (select id from tags where hostname in (${quoteList(hs)})) and time >= '${isoOf(a)}' and time < '${isoOf(b)}' group by hour order by hour`,
        influx: `select ${fields.map((m) => `max(${m})`).join(', ')} from cpu where ${influxHosts(hs)} and time >= '${influxTime(a)}' and time < '${influxTime(b)}' group by time(1h)`,
      };
    },
  });

  const doubleGroupby = (metrics: number, label: string): QueryType => ({
    name: `double-groupby-${label}`,
    make(r) {
      const [a, b] = window(r, 12 * hour);
      const ms = fields.slice(0, metrics);
      return {
        strata: `select time_bucket(ts, '1h') as hour, hostname, ${ms.map((m) => `avg(${m}) as mean_${m}`).join(', ')} from cpu where ts >= '${isoOf(a)}' and ts < '${isoOf(b)}' group by hour, hostname order by hour, hostname`,
        pg: `with cpu_avg as (select date_trunc('hour', time) as hour, tags_id, ${ms.map((m) => `avg(${m}) as mean_${m}`).join(', ')} from cpu where time >= '${isoOf(a)}' and time < '${isoOf(b)}' group by hour, tags_id) select hour, tags.hostname, ${ms.map((m) => `mean_${m}`).join(', ')} from cpu_avg join tags on cpu_avg.tags_id = tags.id order by hour, tags.hostname`,
        influx: `select ${ms.map((m) => `mean(${m})`).join(', ')} from cpu where time >= '${influxTime(a)}' and time < '${influxTime(b)}' group by time(1h), hostname`,
      };
    },
  });

  const highCpu = (nHosts: number | null): QueryType => ({
    name: `high-cpu-${nHosts ?? 'all'}`,
    make(r) {
      const hs = nHosts === null ? null : pickHosts(r, nHosts);
      const [a, b] = window(r, 12 * hour);
      const cols = fields.join(', ');
      return {
        strata: `select ts, hostname, ${cols} from cpu where usage_user > 90 and ts >= '${isoOf(a)}' and ts < '${isoOf(b)}'${hs ? ` and hostname in (${quoteList(hs)})` : ''} order by ts, hostname`,
        pg: `select cpu.time, tags.hostname, ${fields.map((f) => `cpu.${f}`).join(', ')} from cpu join tags on cpu.tags_id = tags.id where usage_user > 90 and time >= '${isoOf(a)}' and time < '${isoOf(b)}'${hs ? ` and tags.hostname in (${quoteList(hs)})` : ''} order by cpu.time, tags.hostname`,
        influx: `select * from cpu where usage_user > 90 and time >= '${influxTime(a)}' and time < '${influxTime(b)}'${hs ? ` and ${influxHosts(hs)}` : ''}`,
      };
    },
  });

  return [
    singleGroupby(1, 1, 1),
    singleGroupby(1, 1, 12),
    singleGroupby(1, 8, 1),
    singleGroupby(5, 1, 1),
    singleGroupby(5, 8, 1),
    cpuMaxAll(1),
    cpuMaxAll(8),
    doubleGroupby(1, '1'),
    doubleGroupby(5, '5'),
    doubleGroupby(10, 'all'),
    highCpu(1),
    highCpu(null),
    {
      name: 'lastpoint',
      make: () => ({
        strata: `select distinct on (hostname) hostname, ts, ${fields.join(', ')} from cpu order by hostname, ts desc`,
        pg: `select distinct on (t.hostname) t.hostname, b.time, ${fields.map((f) => `b.${f}`).join(', ')} from tags t inner join lateral (select * from cpu c where c.tags_id = t.id order by time desc limit 1) as b on true order by t.hostname, b.time desc`,
        influx: 'select last(*) from cpu group by hostname',
      }),
    },
    {
      name: 'groupby-orderby-limit',
      make(r) {
        const [, b] = window(r, hour);
        return {
          strata: `select time_bucket(ts, '1m') as minute, max(usage_user) from cpu where ts < '${isoOf(b)}' group by minute order by minute desc limit 5`,
          pg: `select date_trunc('minute', time) as minute, max(usage_user) from cpu where time < '${isoOf(b)}' group by minute order by minute desc limit 5`,
          // InfluxQL needs a lower time bound for GROUP BY time() (else it buckets from 1677).
          influx: `select max(usage_user) from cpu where time >= '${influxTime(startMs)}' and time < '${influxTime(b)}' group by time(1m) order by time desc limit 5`,
        };
      },
    },
  ];
}

export { rng };
