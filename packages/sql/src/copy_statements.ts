/**
 * COPY statements of a session: COPY t FROM STDIN (text, CSV, binary) into relational tables —
 * rows checked and inserted like INSERT, committed every copyCommitRows rows outside a block —
 * and into time-series tables (TsCopyBatch straight into write commands, proposed every
 * tsRowsPerCommandMax rows); COPY t|(query) TO STDOUT in text, CSV or binary. The session gives
 * its catalog view, transaction and planning (CopyHost); the wire gives the COPY sub-protocol
 * (CopySink).
 */
import { checkNotMatview } from './matviews.js';
import { PgError, SqlState } from '@strata/common';
import type { Txn } from '@strata/kv';
import type { CatalogView } from './catalog/catalog.js';
import type { ColumnDesc, TableDesc } from './catalog/descriptors.js';
import type { PrivilegeRequirement } from './auth/checks.js';
import { PrivilegeCollector } from './auth/checks.js';
import { Priv } from './auth/privileges.js';
import { CopyParser, formatCopyRow } from './copy.js';
import type { CopyRow } from './copy.js';
import { BinaryCopyParser, binaryCopyRow, copyBinaryHeader, copyBinaryTrailer } from './copy_binary.js';
import type { BinaryCopyRow } from './copy_binary.js';
import { checkChunkRows } from './constants.js';
import { evalAwaiting, waitOf } from './exec/context.js';
import type { ExecCtx, Row } from './exec/context.js';
import { assignValue, insertChecked, prefetchChecks } from './exec/mutate.js';
import type { TableWriter } from './exec/mutate.js';
import type { Ev } from './exec/operators.js';
import { quoteIdent } from './functions/scalar.js';
import { parseOne } from './parser/parser.js';
import type { SelectStmt, Statement } from './parser/ast.js';
import type { QueryPlanner } from './plan/query.js';
import { chunkableColumns } from './copy_chunk.js';
import { copyBinaryWorkersOn, copyWorkers } from './copy_workers.js';
import { TsCopyBatch } from './ts_copy.js';
import { copyBinaryInWorkers, copyTextInWorkers } from './ts_copy_workers.js';
import type { ChunkedBinaryCopy, ChunkedCopy } from './ts_copy_workers.js';
import { binaryChunkableColumns } from './copy_binary_chunk.js';
import type { TsChunkSpec } from './copy_chunk.js';
import { tsNotImplemented } from './ts_ddl.js';
import { tsColumnDescs, tsFreeBytesMin, tsRowsPerCommandMax, tsSchemaOf } from './ts_dml.js';
import type { TsSender } from './ts_dml.js';
import { encodeBinary } from './types/binary.js';
import { formatValue, parseValue } from './types/types.js';
import type { SqlType, Value } from './types/types.js';

/** Outside a transaction block, COPY FROM commits after every this many rows. */
const copyCommitRows = 50_000;

/** How a statement reaches the client beyond rows: back-pressure and the COPY sub-protocol. */
export interface CopySink {
  /**
   * Back-pressure: null while the client keeps up; else a promise to await before producing more
   * (it rejects when the statement must stop: cancel, connection closed).
   */
  writable?(): Promise<void> | null;
  /** Enters copy-in mode (CopyInResponse; format 1 for binary) and yields the CopyData chunks until CopyDone. */
  copyIn?(columns: number, format?: 0 | 1): AsyncIterable<Buffer>;
  /** Enters copy-out mode (CopyOutResponse; format 1 for binary), then data, then CopyDone. */
  copyOut?(columns: number, format?: 0 | 1): void;
  copyData?(data: Buffer): void;
  copyDone?(): void;
}

/** What COPY needs of its session. */
export interface CopyHost {
  readonly view: CatalogView;
  readonly database: string;
  /** Inside BEGIN … COMMIT. */
  readonly explicit: boolean;
  readonly txn: Txn | null;
  readonly tsSender: TsSender | undefined;
  tableFor(parts: string[], pos: number, view?: CatalogView): { desc: TableDesc };
  checkPrivileges(reqs: readonly PrivilegeRequirement[] | undefined): void;
  collecting<T>(view: CatalogView, f: () => T): { result: T; requirements: PrivilegeRequirement[] };
  makePlanner(paramTypes: SqlType[], view: CatalogView): QueryPlanner;
  writerFor(t: TableDesc, planner: QueryPlanner, view: CatalogView): TableWriter;
  beginTxn(): Promise<void>;
  /** Commits the statement's implicit transaction. */
  finishImplicit(): Promise<void>;
  execCtx(params: Value[]): ExecCtx;
  /** An error ends the statement: a block is marked failed, an implicit transaction rolls back. */
  onError(e: unknown): void;
}

/** A column type without its typmod: what binary COPY decodes before the assignment applies it. */
function baseType(t: SqlType): SqlType {
  return t.typmod < 0 ? t : { ...t, typmod: -1 };
}

/**
 * COPY t [(cols)] FROM STDIN: rows are checked and inserted like INSERT. Outside an explicit
 * transaction the load commits every copyCommitRows rows (as CockroachDB does), so a large
 * load is not bounded by one transaction's write buffer; inside BEGIN it is atomic.
 */
export async function copyFrom(h: CopyHost, stmt: Statement & { kind: 'copy' }, out: { copyIn?(columns: number, format?: 0 | 1): AsyncIterable<Buffer> }): Promise<string> {
  if (!out.copyIn) throw new PgError(SqlState.FeatureNotSupported, 'COPY FROM STDIN is only supported in the simple query protocol');
  const view = h.view;
  const { desc: t } = h.tableFor(stmt.table as string[], stmt.pos, view);
  const insertReq = new PrivilegeCollector(view, h.database);
  insertReq.table(t, Priv.INSERT);
  h.checkPrivileges(insertReq.requirements);
  if (t.kind === 'ts') return copyFromTs(h, stmt, out.copyIn.bind(out), t);
  if (t.kind !== 'table') throw new PgError(SqlState.WrongObjectType, `cannot copy to ${t.kind} "${t.name}"`);
  checkNotMatview(t);
  const names = stmt.columns ?? t.columns.filter((c) => !c.hidden).map((c) => c.name);
  const targets = names.map((n) => {
    const i = t.columns.findIndex((c) => c.name === n && !c.hidden);
    if (i < 0) throw new PgError(SqlState.UndefinedColumn, `column "${n}" of relation "${t.name}" does not exist`);
    return i;
  });
  const planner = h.makePlanner([], view);
  const writer = h.writerFor(t, planner, view);
  const binary = stmt.options.format === 'binary';
  const parser = binary ? null : new CopyParser(stmt.options, t.name);
  const bparser = binary ? new BinaryCopyParser(targets.map((ti) => baseType((t.columns[ti] as ColumnDesc).type)), names, t.name) : null;
  const implicit = !h.explicit;
  let count = 0;
  /** A binary row: decoded values of the base types, assigned to the columns as INSERT does. */
  const insertBinary = (values: BinaryCopyRow, ctx: ExecCtx, line: number) => {
    const row: Row = new Array<Value>(t.columns.length).fill(null);
    const given = new Array<boolean>(t.columns.length).fill(false);
    for (let i = 0; i < targets.length; i++) {
      const ti = targets[i] as number;
      const col = t.columns[ti] as ColumnDesc;
      try {
        row[ti] = assignValue(values[i] as Value, baseType(col.type), col, ctx);
      } catch (e) {
        if (e instanceof PgError) throw new PgError(e.code, e.message, { detail: `COPY ${t.name}, line ${line}, column ${col.name}` });
        throw e;
      }
      given[ti] = true;
    }
    for (let i = 0; i < row.length; i++) if (!given[i] && writer.defaults[i]) row[i] = (writer.defaults[i] as Ev)([], ctx);
    return row;
  };
  const insert = (fields: CopyRow | BinaryCopyRow, ctx: ExecCtx, line: number) => {
    if (binary) return insertBinary(fields as BinaryCopyRow, ctx, line);
    if (fields.length !== targets.length) {
      throw new PgError(SqlState.BadCopyFileFormat, fields.length < targets.length ? `missing data for column "${names[fields.length]}"` : 'extra data after last expected column', { detail: `COPY ${t.name}, line ${line}` });
    }
    const row: Row = new Array<Value>(t.columns.length).fill(null);
    const given = new Array<boolean>(t.columns.length).fill(false);
    targets.forEach((ti, i) => {
      const f = fields[i] as string | null;
      const col = t.columns[ti] as ColumnDesc;
      try {
        row[ti] = f === null ? null : parseValue(f, col.type, ctx.vctx);
      } catch (e) {
        if (e instanceof PgError) throw new PgError(e.code, e.message, { detail: `COPY ${t.name}, line ${line}, column ${col.name}: "${f}"` });
        throw e;
      }
      given[ti] = true;
    });
    for (let i = 0; i < row.length; i++) if (!given[i] && writer.defaults[i]) row[i] = (writer.defaults[i] as Ev)([], ctx);
    return row;
  };
  /**
   * Inserts rows in segments ending at the implicit commits: a segment's rows are built (a bad
   * line fails before anything of its segment is written — all of it after the last commit),
   * the keys their checks read are fetched from the leaseholder in batched requests, then each
   * row is inserted with its checks.
   */
  const insertAll = async (rows: (CopyRow | BinaryCopyRow)[], lineOf: number[]) => {
    for (let at = 0; at < rows.length; ) {
      const room = implicit ? Math.min(checkChunkRows, copyCommitRows - sinceCommit) : checkChunkRows;
      const segment = rows.slice(at, at + Math.max(1, room));
      const built: Row[] = [];
      for (let i = 0; i < segment.length; i++) built.push(await evalAwaiting(ctx, () => insert(segment[i] as CopyRow | BinaryCopyRow, ctx, lineOf[at + i] as number)));
      await prefetchChecks(writer, built, ctx);
      for (const row of built) insertChecked(writer, row, ctx);
      count += built.length;
      at += segment.length;
      sinceCommit += segment.length;
      if (implicit && sinceCommit >= copyCommitRows) {
        await h.finishImplicit();
        await h.beginTxn();
        ctx = h.execCtx([]);
        sinceCommit = 0;
      }
    }
  };
  let ctx: ExecCtx;
  let sinceCommit = 0;
  try {
    if (!h.txn) await h.beginTxn();
    ctx = h.execCtx([]);
    const chunks = out.copyIn(targets.length, binary ? 1 : 0);
    if (bparser) {
      for await (const chunk of chunks) {
        const rows = bparser.push(chunk, ctx.vctx);
        await insertAll(rows, bparser.lineOf.slice(0, rows.length));
      }
      bparser.end();
    } else if (parser) {
      for await (const chunk of chunks) {
        const rows = parser.push(chunk);
        await insertAll(rows, parser.lineOf.slice(0, rows.length));
      }
      const last = parser.end();
      await insertAll(last, parser.lineOf.slice(0, last.length));
    }
    if (implicit) await h.finishImplicit();
  } catch (e) {
    h.onError(e);
    throw e;
  }
  return `COPY ${count}`;
}

/**
 * COPY into a time-series table: rows are checked like INSERT and proposed every
 * tsRowsPerCommandMax rows, so a large load streams; rows proposed before a bad line stay
 * (TS writes are not transactional).
 */
async function copyFromTs(h: CopyHost, stmt: Statement & { kind: 'copy' }, copyIn: (columns: number, format?: 0 | 1) => AsyncIterable<Buffer>, t: TableDesc): Promise<string> {
  const sender = h.tsSender;
  if (!sender) throw tsNotImplemented(t, 'COPY');
  const view = h.view;
  const cols = tsColumnDescs(t);
  const names = stmt.columns ?? cols.map((c) => c.name);
  const targets = names.map((n) => {
    const i = cols.findIndex((c) => c.name === n);
    if (i < 0) throw new PgError(SqlState.UndefinedColumn, `column "${n}" of relation "${t.name}" does not exist`);
    return i;
  });
  const db = view.databaseById(t.parentId);
  const binary = stmt.options.format === 'binary';
  const parser = binary ? null : new CopyParser(stmt.options, t.name);
  const bparser = binary ? new BinaryCopyParser(targets.map((ti) => baseType((cols[ti] as ColumnDesc).type)), names, t.name) : null;
  const implicit = !h.txn;
  if (implicit) await h.beginTxn(); // for reading settings; TS rows do not go through it
  const ctx = h.execCtx([]);
  let count = 0;
  let batch: TsCopyBatch;
  try {
    batch = new TsCopyBatch(t, cols, targets, tsSchemaOf(t, db, (n) => ctx.clusterSetting(n)), ctx.clusterSetting('ts.dedup.rule') === 'reject', ctx);
  } catch (e) {
    h.onError(e);
    throw e;
  }
  // One proposal in flight while the next rows are parsed (double buffering): parsing overlaps
  // the log's fsync and the apply. Proposals keep their order (one replica log).
  let inflight: Promise<void> | null = null;
  const flush = async () => {
    const n = batch.rows;
    if (n === 0) return;
    const payload = batch.take();
    if (inflight) await inflight;
    inflight = sender.proposeTs(t.id, payload, tsFreeBytesMin(ctx)).then(() => {
      count += n;
    });
  };
  /** Binary tuples go into the batch undecoded; the parser stops at the command's row budget. */
  const addBinary = async (chunk: Buffer, p: BinaryCopyParser) => {
    const sink = { tuple: (d: Buffer, s: Int32Array, l: Int32Array, line: number) => batch.addTuple(d, s, l, line, p) };
    for (let next: Buffer | null = chunk; ; next = null) {
      const more = p.pushTuples(next, sink, tsRowsPerCommandMax - batch.rows);
      if (batch.rows >= tsRowsPerCommandMax) await flush();
      if (!more) return;
    }
  };
  const add = async (rows: CopyRow[], lines = (parser as CopyParser).lineOf) => {
    for (let i = 0; i < rows.length; i++) {
      const fields = rows[i] as CopyRow;
      const line = lines[i] as number;
      if (fields.length !== targets.length) {
        throw new PgError(SqlState.BadCopyFileFormat, fields.length < targets.length ? `missing data for column "${names[fields.length]}"` : 'extra data after last expected column', { detail: `COPY ${t.name}, line ${line}` });
      }
      batch.add(fields, line);
      if (batch.rows >= tsRowsPerCommandMax) await flush();
    }
  };
  /** What a worker needs to parse this COPY's chunks. */
  const chunkSpec = (): TsChunkSpec => ({ options: stmt.options, relation: t.name, columns: cols.slice(0, batch.dataColumns).map((c) => ({ type: c.type, nullable: c.nullable })), types: batch.columnTypes, fieldOfColumn: batch.fieldOfColumns, fieldOfTag: batch.fieldOfTags, fields: targets.length });
  /** The binary worker path's hooks (ts_copy_workers.ts): a parsed chunk is one command. */
  const chunkedBinary = (p: BinaryCopyParser): ChunkedBinaryCopy => ({
    spec: chunkSpec(),
    rowsPerChunk: tsRowsPerCommandMax,
    parser: p,
    addChunk: async (chunk, linesBefore) => {
      batch.addBinaryChunk(chunk, linesBefore, p);
      await flush();
    },
    parseHere: async (bytes, linesBefore) => {
      // Whole tuples whose framing the parser checked: each decoded as addBinary decodes it.
      const n = targets.length;
      const starts = new Int32Array(n);
      const lengths = new Int32Array(n);
      let line = linesBefore;
      for (let o = 0; o < bytes.length; ) {
        o += 2;
        for (let i = 0; i < n; i++) {
          const len = bytes.readInt32BE(o);
          starts[i] = o + 4;
          lengths[i] = len;
          o += 4 + Math.max(0, len);
        }
        batch.addTuple(bytes, starts, lengths, ++line, p);
      }
      await flush();
    },
  });
  /** The text worker path's hooks (ts_copy_workers.ts): a parsed chunk is one command. */
  const chunked = (): ChunkedCopy => ({
    spec: chunkSpec(),
    rowsPerChunk: tsRowsPerCommandMax,
    addChunk: async (chunk, linesBefore) => {
      batch.addChunk(chunk, linesBefore);
      await flush();
    },
    parseHere: async (bytes, linesBefore) => {
      const here = new CopyParser(stmt.options, t.name);
      here.startAfterLines(linesBefore);
      const rows = here.push(bytes);
      const lines = here.lineOf;
      const last = here.end();
      await add(rows, lines);
      await add(last, here.lineOf);
      await flush();
      return here.endMarkerSeen;
    },
    ordinary: {
      start: (linesBefore) => (parser as CopyParser).startAfterLines(linesBefore),
      push: (data) => add((parser as CopyParser).push(data)),
    },
  });
  try {
    if (bparser) {
      const pool = targets.length > 0 && copyBinaryWorkersOn() && binaryChunkableColumns(cols.slice(0, batch.dataColumns)) ? copyWorkers() : null;
      if (pool) await copyBinaryInWorkers(copyIn(targets.length, 1), pool, chunkedBinary(bparser));
      else {
        for await (const chunk of copyIn(targets.length, 1)) await addBinary(chunk, bparser);
        bparser.end();
      }
    } else if (parser) {
      const pool = chunkableColumns(cols.slice(0, batch.dataColumns), stmt.options) ? copyWorkers() : null;
      if (pool) await copyTextInWorkers(copyIn(targets.length), pool, chunked());
      else for await (const chunk of copyIn(targets.length)) await add(parser.push(chunk));
      await add(parser.end());
    }
    await flush();
    await inflight;
    if (implicit) await h.finishImplicit();
  } catch (e) {
    // Rows proposed before the error stay (as documented): wait for them before answering.
    if (inflight) await (inflight as Promise<void>).catch(() => undefined);
    h.onError(e);
    throw e;
  }
  return `COPY ${count}`;
}

/** COPY t|(query) TO STDOUT: rows in text or CSV format. */
export async function copyTo(h: CopyHost, stmt: Statement & { kind: 'copy' }, out: CopySink): Promise<string> {
  if (!out.copyOut || !out.copyData || !out.copyDone) throw new PgError(SqlState.FeatureNotSupported, 'COPY TO STDOUT is only supported in the simple query protocol');
  const q: SelectStmt = stmt.query ?? (parseOne(`select ${(stmt.columns ?? ['*']).map((c) => (c === '*' ? c : quoteIdent(c))).join(', ')} from ${(stmt.table as string[]).map(quoteIdent).join('.')}`) as SelectStmt);
  const implicit = !h.explicit;
  if (!h.txn) await h.beginTxn();
  let count = 0;
  try {
    const { result: op, requirements } = h.collecting(h.view, () => h.makePlanner([], h.view).planQuery(q, null));
    h.checkPrivileges(requirements);
    const ctx = h.execCtx([]);
    const binary = stmt.options.format === 'binary';
    out.copyOut(op.columns.length, binary ? 1 : 0);
    // The binary header travels in the first row's CopyData (or the trailer's), as PostgreSQL
    // sends it: psycopg 3 reads the signature only at the start of a row's message.
    let header: Buffer | null = binary ? copyBinaryHeader() : null;
    if (stmt.options.header) out.copyData(Buffer.from(formatCopyRow(op.columns.map((c) => c.name), stmt.options)));
    const types = op.columns.map((c) => c.type);
    for (const b of op.exec(ctx)) {
      for (const r of b) {
        if (binary) {
          out.copyData(binaryCopyRow(r.map((v, i) => (v === null ? null : encodeBinary(v, types[i] as SqlType, ctx.vctx))), header));
          header = null;
        } else out.copyData(Buffer.from(formatCopyRow(r.map((v, i) => formatValue(v, types[i] as SqlType, ctx.vctx)), stmt.options)));
        count++;
      }
      if (b.length === 0) {
        const wait = waitOf(b);
        await (wait ?? new Promise((res) => setImmediate(res)));
      }
      for (let w = out.writable?.(); w; w = out.writable?.()) await w;
    }
    if (binary) out.copyData(header ? Buffer.concat([header, copyBinaryTrailer]) : copyBinaryTrailer);
    out.copyDone();
    if (implicit) await h.finishImplicit();
  } catch (e) {
    h.onError(e);
    throw e;
  }
  return `COPY ${count}`;
}

