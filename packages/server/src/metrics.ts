import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WireMetrics } from '@strata/pgwire';

/** Prometheus metrics of one node, served at /_status/vars. */
export class NodeMetrics implements WireMetrics {
  readonly registry = new Registry();
  readonly statements = new Counter({ name: 'strata_sql_statements_total', help: 'SQL statements executed, by statement type', labelNames: ['type'], registers: [this.registry] });
  readonly errors = new Counter({ name: 'strata_sql_errors_total', help: 'SQL statements that failed, by SQLSTATE', labelNames: ['code'], registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'strata_sql_statement_duration_seconds',
    help: 'Statement latency, from receipt to completion',
    labelNames: ['type'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly bytesInTotal = new Counter({ name: 'strata_sql_bytes_in_total', help: 'Bytes received from SQL clients', registers: [this.registry] });
  readonly bytesOutTotal = new Counter({ name: 'strata_sql_bytes_out_total', help: 'Bytes sent to SQL clients', registers: [this.registry] });
  readonly connections = new Gauge({ name: 'strata_sql_connections', help: 'Open SQL connections', registers: [this.registry] });
  readonly engineBytes = new Gauge({ name: 'strata_storage_engine_bytes', help: 'Size of the KV engine file', registers: [this.registry] });
  readonly raftLogBytes = new Gauge({ name: 'strata_raft_log_bytes', help: 'Size of the current raft log segment', registers: [this.registry] });
  readonly raftRounds = new Gauge({ name: 'strata_raft_log_rounds', help: 'Raft rounds (log writes + fsyncs) since start', registers: [this.registry] });
  readonly commits = new Gauge({ name: 'strata_kv_commits', help: 'Committed write transactions since start', registers: [this.registry] });
  readonly tsBlockReads = new Gauge({ name: 'strata_ts_block_reads', help: 'Time-series blocks scans read since start, by how: skipped (header min/max), header (answered from the header), decoded', labelNames: ['how'], registers: [this.registry] });
  readonly conflicts = new Gauge({ name: 'strata_kv_serialization_conflicts', help: 'Transactions refused with 40001 since start', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'strata_process_' });
  }

  statement(kind: string, seconds: number, error: string | null): void {
    const type = kind || 'other';
    this.statements.inc({ type });
    this.latency.observe({ type }, seconds);
    if (error) this.errors.inc({ code: error });
  }

  /** Bytes received from and sent to clients since start (a cheap activity signal). */
  clientBytes = 0;

  bytesIn(n: number): void {
    this.clientBytes += n;
    this.bytesInTotal.inc(n);
  }

  bytesOut(n: number): void {
    this.clientBytes += n;
    this.bytesOutTotal.inc(n);
  }
}
