/**
 * Writes a parsed request into time-series tables: first the schema (a table per new
 * measurement, a column or tag per new field or tag — DDL through the SQL layer, with its
 * privilege checks), then the rows, as TS write commands proposed through the replica log (the
 * path COPY takes). A line that cannot be stored as it is (a field type conflict, a value out of
 * its column's range, a tag the table cannot take) is refused alone; the others are written.
 *
 * INVARIANT: `write` resolves only after every command it proposed was applied and made durable
 * (proposals resolve then), so an answer of success means the rows survive a crash.
 * INVARIANT: a line is either written whole (every field and tag) or refused whole.
 */
import { PgError, SqlState, assert } from '@strata/common';
import type { TableDesc, TsIngestTarget } from '@strata/sql';
import { TsWriteBuilder } from '@strata/ts';
import type { ColumnBuilder, TsGroupBuilder, TsValue } from '@strata/ts';
import type { FieldOccurrences, MeasurementBatch, RejectedLine, RequestBatch } from './batch.js';
import { lineFieldsMax, lineTagsMax } from './constants.js';
import { FieldKind } from './line_protocol.js';
import {
  addColumnSql,
  addTagSql,
  convertField,
  convertTag,
  createTableSql,
  primaryTagName,
  primaryTagOf,
} from './mapping.js';

/** What the writer needs from a SQL session of the request's user in the request's database. */
export interface IngestSession {
  /** The table, INSERT checked (42501); null if it does not exist. */
  tsIngestTarget(name: string): Promise<TsIngestTarget | null>;
  /** Runs one DDL statement. */
  ddl(sql: string): Promise<void>;
}

/** Serializes the schema changes of one table within this node (see LineProtocolWriter.lock). */
export class TableLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async with<T>(key: string, f: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    await before;
    try {
      return await f();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/**
 * Rows per proposed command: COPY's tsRowsPerCommandMax, and a byte estimate (8 bytes per value,
 * strings by length) kept well under the command limit (64 MiB) for wide tables.
 */
const commandRowsMax = 20_000;
const commandBytesMax = 16 * 1024 * 1024;

export interface WriteResult {
  /** Rows written. */
  written: number;
  /** Lines refused by the mapping or the table (not parse errors), in line order. */
  rejected: RejectedLine[];
}

export class LineProtocolWriter {
  constructor(private readonly locks: TableLocks = new TableLocks()) {}

  /**
   * Writes every measurement of the batch. Throws (writing nothing more) when the session may not
   * create or write a table (42501): the request is refused as a whole. `lockScope` names the
   * database, so schema changes of one table from concurrent requests on this node run in turn.
   */
  async write(batch: RequestBatch, session: IngestSession, lockScope: string): Promise<WriteResult> {
    const rejected: RejectedLine[] = [];
    const targets: { m: MeasurementBatch; target: TsIngestTarget; keyErrors: Map<string, string> }[] = [];
    for (const m of batch.measurements.values()) {
      const r = await this.locks.with(`${lockScope}\u0000${m.name}`, () => this.prepare(m, session));
      if ('reason' in r) {
        for (const line of m.lines) rejected.push({ line, message: r.reason });
        continue;
      }
      targets.push({ m, ...r });
    }
    let written = 0;
    for (const { m, target, keyErrors } of targets)
      written += await this.writeRows(m, target, keyErrors, rejected);
    rejected.sort((a, b) => a.line - b.line);
    return { written, rejected };
  }

  /**
   * The table for a measurement with a column for each of its fields and a tag for each of its
   * tags (created or altered as needed), or the reason none of its lines can be written.
   * `keyErrors`: fields and tags that could not be added, with why (their lines are refused).
   */
  private async prepare(
    m: MeasurementBatch,
    s: IngestSession,
  ): Promise<{ target: TsIngestTarget; keyErrors: Map<string, string> } | { reason: string }> {
    const keyErrors = new Map<string, string>();
    let target = await targetOf(s, m.name);
    if ('reason' in target) return target;
    if (target.target === null) {
      const fields: { key: string; kind: FieldKind }[] = [];
      const tags: string[] = [];
      for (const f of m.fields.values()) {
        if (reservedName(f.key, m.tagKeys)) continue; // refused per line below
        if (fields.length >= lineFieldsMax)
          keyErrors.set(f.key, `table "${m.name}" cannot have more than ${lineFieldsMax + 1} columns`);
        else fields.push({ key: f.key, kind: f.firstKind });
      }
      for (const t of m.tagKeys) {
        if (t === primaryTagName || m.fields.has(t)) continue;
        if (tags.length >= lineTagsMax)
          keyErrors.set(t, `table "${m.name}" cannot have more than ${lineTagsMax + 1} tags`);
        else tags.push(t);
      }
      const err = await ddl(s, createTableSql(m.name, fields, tags));
      if (err) return { reason: `table "${m.name}" could not be created: ${err}` };
      target = await targetOf(s, m.name);
      if ('reason' in target) return target;
      if (target.target === null)
        return { reason: `table "${m.name}" was dropped while it was being written` };
    }
    // Fields and tags the table lacks.
    let t = target.target.table;
    let changed = false;
    for (const f of m.fields.values()) {
      if (
        findColumn(t, f.key) >= 0 ||
        findTag(t, f.key) >= 0 ||
        keyErrors.has(f.key) ||
        f.key === primaryTagName
      )
        continue;
      const err = await ddl(s, addColumnSql(m.name, f.key, f.firstKind));
      if (err) keyErrors.set(f.key, `column "${f.key}" could not be added to table "${m.name}": ${err}`);
      changed = true;
    }
    for (const g of m.tagKeys) {
      if (findTag(t, g) >= 0 || findColumn(t, g) >= 0 || keyErrors.has(g) || g === primaryTagName) continue;
      const err = await ddl(s, addTagSql(m.name, g));
      if (err) keyErrors.set(g, `tag "${g}" could not be added to table "${m.name}": ${err}`);
      changed = true;
    }
    if (changed) {
      target = await targetOf(s, m.name);
      if ('reason' in target) return target;
      if (target.target === null)
        return { reason: `table "${m.name}" was dropped while it was being written` };
      t = target.target.table;
    }
    assert(t.ts !== undefined, 'an ingest target is a time-series table');
    return { target: target.target, keyErrors };
  }

  /** Rows of one measurement into its table; returns how many were written. */
  private async writeRows(
    m: MeasurementBatch,
    target: TsIngestTarget,
    keyErrors: Map<string, string>,
    rejected: RejectedLine[],
  ): Promise<number> {
    const t = target.table;
    const info = t.ts as NonNullable<TableDesc['ts']>;
    const nCols = t.columns.length;
    // Why a row is refused (first reason), by row.
    const refused = new Map<number, string>();
    const refuse = (r: number, why: string) => {
      if (!refused.has(r)) refused.set(r, why);
    };
    // Data columns: the field feeding each (null: NULL in every row), values converted in place.
    const feed: (FieldOccurrences | null)[] = new Array<FieldOccurrences | null>(nCols).fill(null);
    const timeName = t.columns[0]?.name;
    for (const occ of m.fields.values()) {
      const c = findColumn(t, occ.key);
      let why: string | null = null;
      if (c === 0 || occ.key === timeName)
        why = `field "${occ.key}" on measurement "${m.name}" has the name of the time column`;
      else if (c < 0)
        why =
          keyErrors.get(occ.key) ??
          (findTag(t, occ.key) >= 0 || occ.key === primaryTagName
            ? `field "${occ.key}" on measurement "${m.name}" has the name of a tag of table "${t.name}"`
            : `table "${t.name}" has no column "${occ.key}"`);
      if (why !== null) {
        for (const r of occ.rows) refuse(r, why);
        continue;
      }
      const type = (t.columns[c] as TableDesc['columns'][number]).type;
      for (let j = 0; j < occ.rows.length; j++) {
        const v = convertField(
          occ.kinds[j] as FieldKind,
          occ.values[j] as number | bigint | string,
          type,
          occ.key,
          m.name,
        );
        if (v.ok) occ.values[j] = v.value;
        else refuse(occ.rows[j] as number, v.reason);
      }
      feed[c] = occ;
    }
    for (let c = 1; c < nCols; c++) {
      const col = t.columns[c] as TableDesc['columns'][number];
      if (col.nullable) continue;
      const occ = feed[c];
      const present = new Set(occ?.rows ?? []);
      for (let r = 0; r < m.rows; r++)
        if (!present.has(r))
          refuse(
            r,
            `null value in column "${col.name}" of relation "${t.name}" violates not-null constraint: the line has no field "${col.name}"`,
          );
    }
    // Tags per series.
    const seriesTags: (TsValue[] | null)[] = [];
    const seriesWhy: string[] = [];
    for (const s of m.series) {
      const vals: TsValue[] = new Array<TsValue>(info.tags.length).fill(null);
      let why: string | null = null;
      for (let k = 0; k < s.tagKeys.length && why === null; k++) {
        const key = s.tagKeys[k] as string;
        const g = findTag(t, key);
        const tag = info.tags[g];
        if (key === primaryTagName && tag?.primary)
          why = `tag "${primaryTagName}" on measurement "${m.name}" is reserved: it holds the hash of the tag set`;
        else if (!tag)
          why =
            keyErrors.get(key) ??
            (findColumn(t, key) >= 0
              ? `tag "${key}" on measurement "${m.name}" has the name of a column of table "${t.name}"`
              : `table "${t.name}" has no tag "${key}"`);
        else {
          const v = convertTag(s.tagValues[k] as string, tag.type, key, m.name);
          if (v.ok) vals[g] = v.value;
          else why = v.reason;
        }
      }
      if (why === null) {
        const p = findTag(t, primaryTagName);
        if (p >= 0 && info.tags[p]?.primary) vals[p] = primaryTagOf(s);
        for (let g = 0; g < info.tags.length && why === null; g++) {
          const tag = info.tags[g] as NonNullable<TableDesc['ts']>['tags'][number];
          if (vals[g] === null && !tag.nullable)
            why = `${tag.primary ? 'primary tag' : 'tag'} "${tag.name}" of table "${t.name}" is missing from the line`;
        }
      }
      seriesTags.push(why === null ? vals : null);
      seriesWhy.push(why ?? '');
    }
    for (let r = 0; r < m.rows; r++) {
      const s = m.seriesOf[r] as number;
      if (seriesTags[s] === null) refuse(r, seriesWhy[s] as string);
    }
    // The rows, in commands of at most commandRowsMax rows / ~commandBytesMax bytes, one in flight.
    const cursors = new Int32Array(nCols);
    let builder = new TsWriteBuilder(t.id, target.schema, target.rejectDuplicates);
    let groups = new Map<number, TsGroupBuilder>();
    let bytes = 0;
    let inflight: Promise<void> | null = null;
    let written = 0;
    const flush = async () => {
      const n = builder.rows;
      if (n === 0) return;
      const payload = builder.finish();
      builder = new TsWriteBuilder(t.id, target.schema, target.rejectDuplicates);
      groups = new Map();
      bytes = 0;
      if (inflight) await inflight;
      inflight = target.propose(payload).then(() => {
        written += n;
      });
    };
    for (let r = 0; r < m.rows; r++) {
      if (refused.has(r)) continue;
      const s = m.seriesOf[r] as number;
      let g = groups.get(s);
      if (!g) {
        g = builder.group(seriesTags[s] as TsValue[]);
        groups.set(s, g);
      }
      (g.columns[0] as ColumnBuilder).pushNumber(m.timestampsUs[r] as number);
      bytes += 8;
      for (let c = 1; c < nCols; c++) {
        const b = g.columns[c] as ColumnBuilder;
        const occ = feed[c];
        if (!occ) {
          b.pushNull();
          continue;
        }
        let j = cursors[c] as number;
        while (j < occ.rows.length && (occ.rows[j] as number) < r) j++;
        cursors[c] = j;
        if (occ.rows[j] !== r) {
          b.pushNull();
          continue;
        }
        const v = occ.values[j] as number | bigint | string;
        if (typeof v === 'number') {
          b.pushNumber(v);
          bytes += 8;
        } else {
          b.push(v);
          bytes += typeof v === 'string' ? v.length + 4 : 8;
        }
      }
      builder.rows++;
      if (builder.rows >= commandRowsMax || bytes >= commandBytesMax) await flush();
    }
    try {
      await flush();
      await inflight;
    } catch (e) {
      if (inflight) await (inflight as Promise<void>).catch(() => undefined);
      throw e;
    }
    for (const [r, why] of refused)
      rejected.push({ line: m.lines[r] as number, message: `${why} (line ${m.lines[r]})` });
    return written;
  }
}

/** Keys a field may not have in a table made by ingest: the time column and the tags. */
function reservedName(key: string, tagKeys: Set<string>): boolean {
  return key === 'k_timestamp' || key === primaryTagName || tagKeys.has(key);
}

function findColumn(t: TableDesc, name: string): number {
  return t.columns.findIndex((c) => c.name === name);
}

function findTag(t: TableDesc, name: string): number {
  return t.ts ? t.ts.tags.findIndex((g) => g.name === name) : -1;
}

/** The target, or the reason the measurement cannot be written (other than missing privileges, which throw). */
async function targetOf(
  s: IngestSession,
  name: string,
): Promise<{ target: TsIngestTarget | null } | { reason: string }> {
  try {
    return { target: await s.tsIngestTarget(name) };
  } catch (e) {
    if (e instanceof PgError && e.code !== SqlState.InsufficientPrivilege)
      return { reason: `measurement "${name}": ${e.message}` };
    throw e;
  }
}

/** Runs DDL; returns the error message of a refusal (not of missing privileges: those throw). */
async function ddl(s: IngestSession, sql: string): Promise<string | null> {
  try {
    await s.ddl(sql);
    return null;
  } catch (e) {
    if (e instanceof PgError && e.code !== SqlState.InsufficientPrivilege) return e.message;
    throw e;
  }
}
