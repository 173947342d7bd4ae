/**
 * What schemaless ingest (packages/ingest: InfluxDB line protocol) needs from the SQL layer to
 * write rows into a time-series table the way COPY does: the table as its writer sees it, checked
 * for INSERT, and the schema and flags its write commands carry. The rows travel as TS write
 * commands proposed through the replica log (TsSender.proposeTs, the path INSERT and COPY take),
 * so they are replicated and durable when `propose` resolves, and refused by the leaseholder
 * under the same rules (ts.disk_free_space.alert_threshold, ts.dedup.rule = reject).
 */
import type { TsSchema } from '@strata/ts';
import type { TableDesc } from './catalog/descriptors.js';

export interface TsIngestTarget {
  /** The table's descriptor (data columns, then `ts.tags`) at the moment it was looked up. */
  table: TableDesc;
  /** The layout of its write commands (columns and tags in descriptor order, storage settings). */
  schema: TsSchema;
  /** ts.dedup.rule = reject: a command repeating a stored timestamp of a device fails whole. */
  rejectDuplicates: boolean;
  /** Proposes one write command (TsWriteBuilder.finish()); resolves once it is applied and durable. */
  propose(payload: Buffer): Promise<void>;
}
