/**
 * A SQL session: settings, the transaction state machine, prepared statements and portals, and
 * the execution of every statement kind. The wire protocol drives it.
 *
 * Transaction states (ReadyForQuery status): idle 'I' (no transaction: each statement runs in an
 * implicit one), open 'T' (BEGIN … ), failed 'E' (an error inside BEGIN: everything but
 * ROLLBACK [TO SAVEPOINT] is refused with 25P02).
 */
import { formatMsSetting, parseMsSetting } from './guc_units.js';
import { preparedStatementRows } from './prepared_statements.js';
import { supportsBackwardScan } from './cursor_scroll.js';
import { mergeRelOptions } from './parser/storage_params.js';
import { LargeObjectDescriptors } from './large_objects.js';
import { dropSchemaWithin, dropTempSchemas, isTempSchemaName, tempSchemaName } from './temp_schemas.js';
import { AmbiguousResultError, PgError, RetryableError, SqlState, StrataError, assert, logger } from '@strata/common';
import { Txn, prefixEnd, tablePrefix } from '@strata/kv';
import type { KvWrite } from '@strata/kv';
import { parseExpression, parseOne, parseStatements, parseStatementsAsync } from './parser/parser.js';
import type { SelectItem, SelectStmt, Statement } from './parser/ast.js';
import type { CatalogView } from './catalog/catalog.js';
import { virtualSchemas } from './catalog/catalog.js';
import { allIndexes } from './catalog/descriptors.js';
import type { ColumnDesc, SchemaDesc, TableDesc } from './catalog/descriptors.js';
import { rootRoleOid } from './auth/constants.js';
import { tableCodec } from './catalog/rowcodec.js';
import { T, formatType, formatValue, hashKey, parseBool } from './types/types.js';
import type { SqlType, Value, ValueContext } from './types/types.js';
import { parseFixedOffset, validateTimeZone } from './types/datetime.js';
import { Binder, lit, typeFromName } from './plan/binder.js';
import type { BindEnv, BoundExpr } from './plan/binder.js';
import { DEFAULT_MARKER, QueryPlanner, chooseIndex, conjuncts, tsDeleteBounds } from './plan/query.js';
import type { PlannerEnv, ResolvedTable, VirtualTableDef } from './plan/query.js';
import { Scope } from './plan/scope.js';
import type { ScopeCol } from './plan/scope.js';
import { canWait, drain, evalSuspendable, queryCanceled, waitFor, yieldEveryRows } from './exec/context.js';
import { checkChunkRows } from './constants.js';
import type { Batches, Column, ExecCtx, Operator, Row, SessionInfo, SequenceAccess } from './exec/context.js';
import { Filter, Project, TableScan } from './exec/operators.js';
import { showRangesColumns, showRangesRows, tablesOfDatabase } from './show_ranges.js';
import { configureZone, showZoneRows } from './zones.js';
import type { ZoneEnv } from './zones.js';
import { InterruptibleKv, InterruptibleTs } from './interrupts.js';
import type { StatementInterrupts } from './interrupts.js';
import type { Ev } from './exec/operators.js';
import { pump } from './exec/pump.js';
import { insertSource, joinTargets, lockKeysOf } from './plan/dml_sources.js';
import { withStatementCtes } from './plan/dml_with.js';
import { formatPgMemory, parsePgMemory } from './exec/memory.js';
import { TempFiles } from './exec/spill.js';
import type { PumpSink } from './exec/pump.js';
import { assignValue, checkRow, deleteRow, findConflict, insertRow, makeWriter, prefetchChecks, uniqueViolation, updateRow } from './exec/mutate.js';
import type { TsIngestTarget } from './ts_ingest.js';
import type { TableWriter } from './exec/mutate.js';
import { addIndex, alterTable, createSequenceDesc, createTable, dropTableData, scanRows, truncate } from './ddl.js';
import { resolveSequence } from './sequence_options.js';
import { checkClientEncoding } from './client_encoding.js';
import { alterTsTable, createTagIndex, createTsDatabase, createTsTable, showCreateTs, tsNotImplemented } from './ts_ddl.js';
import { settingDef, settingDefs, settingKey } from './settings.js';
import {
  TsScan,
  checkTsRow,
  noBounds,
  primaryCombos,
  proposeTsRows,
  toTsValue,
  tsColumnDescs,
  tsFreeBytesMin,
  tsDeletePayload,
  tsSchemaOf,
  tsScanColumns,
  tsTargets,
} from './ts_dml.js';
import { sameTsWriteSettings, takeBoundParams, tsInsertBinder } from './ts_insert_bind.js';
import type { BoundTsWrite, TsInsertBinder } from './ts_insert_bind.js';
import { encodeTsAlter, encodeTsTagUpdate } from '@strata/ts';
import type { TsValue } from '@strata/ts';
import type { DdlEnv } from './ddl.js';
import { indexOid, renderDefault, virtualTableByOid } from './virtual/pg_catalog.js';
import { lookupFunction, quoteIdent } from './functions/scalar.js';
import type { SqlEngine } from './engine.js';
import type { AuthView } from './auth/view.js';
import { PendingNotifications, checkNotification } from './notify.js';
import { SqlCursors } from './cursors.js';
import { NameResolver, otherSessionsTemp, relationNameParts } from './names.js';
import { catalogFunction } from './catalog_functions.js';
import { createFunction, dropFunction } from './functions_ddl.js';
import { alterDomain, createDomain, dropType } from './domains_ddl.js';
import { alterEnum, createComposite, createEnum } from './enums_ddl.js';
import { checkNotMatview, checkPopulated, referencedTables } from './matviews.js';
import { domainCheck, enumCheck } from './plan/domains.js';
import { copyFrom, copyTo } from './copy_statements.js';
import type { CopyHost, CopySink } from './copy_statements.js';
export type { CopySink } from './copy_statements.js';
import type { SqlCursor as CursorOf } from './cursors.js';

type SqlCursor = CursorOf<Portal>;
import type { NotificationListener } from './notify.js';
import { notifyChannelBytesMax } from './constants.js';
import { PrivilegeCollector, checkRequirements, databaseRequirement, sequenceRequirement, targetPrivileges } from './auth/checks.js';
import type { PrivilegeRequirement } from './auth/checks.js';
import { checkDdl, checkMaintenance, recordOwnership } from './auth/ddl_checks.js';
import { authStatementColumns, runAuthStatement } from './auth/statements.js';
import { Priv } from './auth/privileges.js';
import { hbaSettingName } from './auth/login.js';
import { pgVersion } from './engine.js';
import { preventedInBlock, usesImplicitBlock } from './txn_block.js';

export type TxnStatus = 'I' | 'T' | 'E';

export interface Prepared {
  stmt: Statement;
  text: string;
  paramTypes: SqlType[];
  /** Result columns, or null if the statement returns no rows. */
  columns: Column[] | null;
  cache: { generation: number; compiled: Compiled } | null;
  /** When it was prepared, µs since the epoch (pg_prepared_statements.prepare_time). */
  preparedAtUs?: number;
}

interface Compiled {
  columns: Column[] | null;
  /** Runs the statement; yields result rows; `state.count` is the row count for the tag. */
  start(ctx: ExecCtx): { batches: Batches; state: { count: number } };
  tag(count: number): string;
  writes: boolean;
  /**
   * UPDATE/DELETE: the primary keys of the rows the statement will modify, found without
   * recording reads, so they can be locked first (null: do not lock, stay optimistic).
   */
  lockKeys?: (ctx: ExecCtx) => Promise<Buffer[] | null>;
  /** Runs once every row has been produced (time-series INSERT proposes its rows here). */
  finish?: (ctx: ExecCtx) => Promise<void>;
  /** What the statement reads and writes, checked at every execution (auth/checks.ts). */
  privileges?: PrivilegeRequirement[];
  /** A TS INSERT of parameter rows: builds its Binds into TS write commands (ts_insert_bind.ts). */
  tsBinder?: TsInsertBinder;
  /** Runs a Bind built by tsBinder; null when its commands are stale (settings changed): run start() instead. */
  startBound?: (bound: BoundTsWrite, ctx: ExecCtx) => { batches: Batches; state: { count: number } } | null;
}


export interface Portal {
  prepared: Prepared;
  params: Value[];
  /** Non-null while a row-returning statement is partly consumed (Execute with a row limit). */
  running: { batches: Batches; state: { count: number }; buffer: Row[]; ctx: ExecCtx; implicit: boolean; compiled: Compiled; columns: Column[] | null } | null;
  /** Result of a utility statement executed for this portal (rows + tag). */
  utility: { rows: Row[]; tag: string; sent: number } | null;
  done: boolean;
  /** A TS INSERT whose Bind was built into write commands (bindTsWrite); `params` is then empty. */
  bound?: BoundTsWrite | null;
}

/** A notice for the client: a plain NOTICE (SQLSTATE 00000), or one with its own code and severity. */
export type Notice = string | { message: string; code: SqlState; severity: 'NOTICE' | 'WARNING'; detail?: string; hint?: string };

export interface ExecuteSink extends PumpSink, CopySink {
  notice(message: Notice): void;
}

const warnNoTxn = (message: string): Notice => ({ message, code: SqlState.NoActiveSqlTransaction, severity: 'WARNING' });


const defaultSettings: [string, string][] = [
  ['server_version', pgVersion],
  ['server_version_num', '150004'],
  ['server_encoding', 'UTF8'],
  ['client_encoding', 'UTF8'],
  ['datestyle', 'ISO, MDY'],
  ['timezone', 'UTC'],
  ['intervalstyle', 'postgres'],
  ['integer_datetimes', 'on'],
  ['standard_conforming_strings', 'on'],
  ['application_name', ''],
  ['is_superuser', 'on'],
  ['search_path', '"$user", public'],
  ['extra_float_digits', '1'],
  ['statement_timeout', '0'],
  // Every transaction runs SERIALIZABLE whatever it asks for (as CockroachDB); the level a client
  // sets is what it is shown. transaction_* mirror the open block's modes (syncTxnSettings).
  ['transaction_isolation', 'serializable'],
  ['default_transaction_isolation', 'serializable'],
  ['default_transaction_read_only', 'off'],
  ['transaction_read_only', 'off'],
  ['default_transaction_deferrable', 'off'],
  ['transaction_deferrable', 'off'],
  ['max_identifier_length', '63'],
  ['max_index_keys', '32'],
  ['lc_collate', 'C.UTF-8'],
  ['lc_ctype', 'C.UTF-8'],
  ['lc_messages', 'C.UTF-8'],
  ['lc_monetary', 'C.UTF-8'],
  ['lc_numeric', 'C.UTF-8'],
  ['lc_time', 'C.UTF-8'],
  ['client_min_messages', 'notice'],
  ['default_with_oids', 'off'],
  ['bytea_output', 'hex'],
  ['idle_in_transaction_session_timeout', '0'],
  ['idle_session_timeout', '0'],
  ['authentication_timeout', '1min'],
  ['lock_timeout', '0'],
  ['max_connections', '1000'],
  ['synchronous_commit', 'on'],
  ['row_security', 'on'],
  ['enable_seqscan', 'on'],
  // PostgreSQL's planner switches: accepted and shown (Strata's planner is its own; answers do not depend on them).
  ...['bitmapscan', 'hashagg', 'hashjoin', 'indexonlyscan', 'indexscan', 'material', 'memoize', 'mergejoin', 'nestloop', 'parallel_append', 'parallel_hash', 'partition_pruning', 'sort', 'tidscan', 'incremental_sort', 'async_append', 'gathermerge', 'presorted_aggregate'].map((n): [string, string] => [`enable_${n}`, 'on']),
  ['enable_partitionwise_aggregate', 'off'],
  ['enable_partitionwise_join', 'off'],
  ['max_parallel_workers_per_gather', '2'],
  ['parallel_setup_cost', '1000'],
  ['parallel_tuple_cost', '0.1'],
  ['min_parallel_table_scan_size', '8MB'],
  ['min_parallel_index_scan_size', '512kB'],
  ['parallel_leader_participation', 'on'],
  ['force_parallel_mode', 'off'],
  ['random_page_cost', '4'],
  ['seq_page_cost', '1'],
  ['cpu_tuple_cost', '0.01'],
  ['cpu_operator_cost', '0.0025'],
  ['geqo', 'on'],
  ['from_collapse_limit', '8'],
  ['join_collapse_limit', '8'],
  ['default_statistics_target', '100'],
  ['plan_cache_mode', 'auto'],
  ['jit_above_cost', '100000'],
  ['jit_inline_above_cost', '500000'],
  ['jit_optimize_above_cost', '500000'],
  ['escape_string_warning', 'on'],
  ['backslash_quote', 'safe_encoding'],
  ['jit', 'off'],
  ['node_id', '1'],
  // Passwords are stored as SCRAM-SHA-256 verifiers only (auth/scram.ts).
  ['password_encryption', 'scram-sha-256'],
  // Two-phase commit is not offered: PREPARE TRANSACTION fails as on a PostgreSQL with this at 0.
  ['max_prepared_transactions', '0'],
];

/** The ParameterStatus parameters reported at startup and when changed. */
export const reportedSettings = ['server_version', 'server_encoding', 'client_encoding', 'datestyle', 'timezone', 'integer_datetimes', 'standard_conforming_strings', 'application_name', 'is_superuser', 'intervalstyle', 'session_authorization'];

/** Settings fixed when the server starts (PostgreSQL's postmaster context): shown, never SET (55P02). */
const serverOnlySettings = new Set(['max_connections', 'authentication_timeout', 'max_prepared_transactions']);

export const settingDisplayName: Record<string, string> = { datestyle: 'DateStyle', timezone: 'TimeZone', intervalstyle: 'IntervalStyle' };

interface TxnModes {
  isolation: string;
  readOnly: boolean;
  deferrable: boolean;
}

const isolationLevels = ['serializable', 'repeatable read', 'read committed', 'read uncommitted'];

/** PostgreSQL's parse_bool for a setting (22023 "requires a Boolean value"). */
function settingBool(name: string, value: string): boolean {
  try {
    return parseBool(value);
  } catch {
    throw new PgError(SqlState.InvalidParameterValue, `parameter "${name}" requires a Boolean value`);
  }
}

function isolationLevel(name: string, value: string): string {
  const v = value.trim().toLowerCase();
  if (!isolationLevels.includes(v)) throw new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "${name}": "${value}"`, { hint: 'Available values: serializable, repeatable read, read committed, read uncommitted.' });
  return v;
}

/** PostgreSQL's command name for a statement that writes (the 25006 message), or null if it does not write. */
function writeCommandName(stmt: Statement): string | null {
  switch (stmt.kind) {
    case 'query':
      return stmt.locking ? `SELECT FOR ${stmt.locking}` : null;
    case 'insert':
    case 'update':
    case 'delete':
      return stmt.kind.toUpperCase();
    case 'copy':
      return stmt.direction === 'from' ? 'COPY FROM' : null;
    case 'truncate':
      return 'TRUNCATE TABLE';
    case 'createDatabase':
      return 'CREATE DATABASE';
    case 'alterTsDatabase':
      return 'ALTER DATABASE';
    case 'dropDatabase':
      return 'DROP DATABASE';
    case 'createSchema':
      return 'CREATE SCHEMA';
    case 'dropSchema':
      return 'DROP SCHEMA';
    case 'createTable':
      return stmt.asQuery ? 'CREATE TABLE AS' : 'CREATE TABLE';
    case 'dropTable':
      return 'DROP TABLE';
    case 'alterTable':
      return 'ALTER TABLE';
    case 'createIndex':
      return 'CREATE INDEX';
    case 'dropIndex':
      return 'DROP INDEX';
    case 'alterIndex':
      return 'ALTER INDEX';
    case 'createSequence':
      return 'CREATE SEQUENCE';
    case 'dropSequence':
      return 'DROP SEQUENCE';
    case 'createView':
      return 'CREATE VIEW';
    case 'dropView':
      return 'DROP VIEW';
    case 'createFunction':
      return 'CREATE FUNCTION';
    case 'dropFunction':
      return 'DROP FUNCTION';
    case 'createDomain':
      return 'CREATE DOMAIN';
    case 'createMatview':
      return 'CREATE MATERIALIZED VIEW';
    case 'refreshMatview':
      return 'REFRESH MATERIALIZED VIEW';
    case 'dropMatview':
      return 'DROP MATERIALIZED VIEW';
    case 'dropType':
      return stmt.domain ? 'DROP DOMAIN' : 'DROP TYPE';
    case 'alterDomain':
      return 'ALTER DOMAIN';
    case 'createEnum':
    case 'createComposite':
      return 'CREATE TYPE';
    case 'alterEnum':
      return 'ALTER TYPE';
    case 'setClusterSetting':
      return 'SET CLUSTER SETTING';
    case 'compressTs':
      return 'COMPRESS';
    case 'auth':
      switch (stmt.stmt.kind) {
        case 'createRole':
          return 'CREATE ROLE';
        case 'alterRole':
          return 'ALTER ROLE';
        case 'dropRole':
          return 'DROP ROLE';
        case 'grantRole':
        case 'grant':
          return 'GRANT';
        case 'revokeRole':
        case 'revoke':
          return 'REVOKE';
        case 'alterOwner':
          return `ALTER ${stmt.stmt.objectKind.toUpperCase()}`;
        default:
          return null;
      }
    default:
      return null;
  }
}

/**
 * A VOLATILE SQL function reading the table an INSERT or DELETE writes would see that statement's
 * earlier rows in PostgreSQL; rows are written here in batches after evaluation, so it is refused
 * rather than answered differently (UPDATE evaluates row by row instead).
 */
function volatileReaderOfTarget(what: string, table: string): PgError {
  return new PgError(SqlState.FeatureNotSupported, `${what} into or from "${table}" calling a VOLATILE SQL function that reads "${table}" is not supported`, { hint: 'Declare the function STABLE if it need not see the statement\'s own changes.' });
}

/** Statements that take no snapshot (PostgreSQL's rule for when transaction modes become fixed). */
function takesNoSnapshot(stmt: Statement): boolean {
  return ['set', 'setTransaction', 'show', 'reset', 'savepoint', 'release', 'rollback', 'begin', 'commit', 'prepareTransaction', 'prepare', 'deallocate', 'discard', 'comment', 'empty', 'use', 'explain', 'closeCursor'].includes(stmt.kind);
}

interface SavepointState {
  name: string;
  writes: Map<string, KvWrite>;
  /** The settings and the block's SETs when the savepoint was taken (ROLLBACK TO restores them). */
  settings: Map<string, string>;
  setInTxn: Map<string, string>;
  /** The transaction's pending NOTIFY/LISTEN/UNLISTEN when the savepoint was taken. */
  notify: { notes: number; actions: number };
  /** Whether the transaction was read-only then: ROLLBACK TO and RELEASE restore it. */
  readOnly: boolean;
}

export class Session {
  database: string;
  readonly user: string;
  readonly settings = new Map<string, string>(defaultSettings);
  private txn: Txn | null = null;
  private explicit = false;
  /**
   * The block is the implicit one of a multi-statement simple query (txn_block.ts): `explicit` is
   * also true while it lasts, so its statements share one transaction, and it differs from a
   * BEGIN block only where PostgreSQL's implicit block does (COMMIT/ROLLBACK warn, savepoints are
   * 25P01, an error rolls it back and leaves the session idle). Never true between messages.
   */
  private implicitBlock = false;
  private failed = false;
  private txnTimestamp = 0;
  private savepoints: SavepointState[] = [];
  /**
   * Settings are transactional, as in PostgreSQL: a SET inside a block is undone by ROLLBACK (or
   * ROLLBACK TO SAVEPOINT), a SET LOCAL (and SET TRANSACTION) lasts until the block ends.
   * settingsAtBegin holds each setting changed in the block as it was before (undefined: absent);
   * setInTxn the values of plain SETs, which COMMIT keeps.
   */
  private settingsAtBegin = new Map<string, string | undefined>();
  private setInTxn = new Map<string, string>();
  /** True while a SET LOCAL / SET TRANSACTION is applied. */
  private settingLocal = false;
  /** The open block's modes (BEGIN …, SET TRANSACTION …); null outside a block. */
  private txnModes: TxnModes | null = null;
  /**
   * A statement that reads or writes ran in the block (PostgreSQL's first snapshot): from then
   * on its isolation level, a switch to read-write and deferrability can no longer change (25001).
   */
  private txnQueried = false;
  readonly sqlPrepared = new Map<string, Prepared>();
  /** LISTEN state and the queue of notifications for this session (notify.ts). */
  readonly notifications: NotificationListener;
  /** The current transaction's NOTIFYs and LISTEN/UNLISTENs, applied when it commits. */
  private pendingNotify = new PendingNotifications();
  private readonly currvals = new Map<number, bigint>();
  private cancelFlag = false;
  private readonly cancelListeners = new Set<() => void>();
  /** When the running statement times out (ms since the epoch; 0: none running, or no timeout). */
  private stmtDeadlineMs = 0;
  /** The running statement's interrupts, for waits on the cluster (interrupts.ts). */
  private readonly interrupts: StatementInterrupts = {
    deadlineMs: () => this.stmtDeadlineMs,
    onCancel: (f) => {
      this.cancelListeners.add(f);
      return () => this.cancelListeners.delete(f);
    },
  };
  /** The KV and TS senders of this session's statements: their waits end when the statement is interrupted. */
  private readonly kv: InterruptibleKv;
  private readonly tsSender: InterruptibleTs | undefined;

  /**
   * Set by a CancelRequest; checked at every yield point. A wait on the cluster in progress
   * (interrupts.ts) ends at once and consumes it.
   */
  get cancelRequested(): boolean {
    return this.cancelFlag;
  }

  set cancelRequested(v: boolean) {
    this.cancelFlag = v;
    if (!v || this.cancelListeners.size === 0) return;
    const ls = [...this.cancelListeners];
    this.cancelListeners.clear();
    this.cancelFlag = false;
    for (const f of ls) f();
  }

  /** Starts the statement_timeout clock of the statement about to run (per statement, as PostgreSQL). */
  private startStatementClock(): void {
    const ms = parseDurationMs(this.settings.get('statement_timeout') ?? '0');
    this.stmtDeadlineMs = ms > 0 ? Date.now() + ms : 0;
  }
  /** Settings changed by the last statement (the wire layer sends ParameterStatus for them). */
  changedSettings = new Set<string>();
  /** Users, roles and ACLs as the running statement sees them (refreshed per statement). */
  private authView: AuthView | null = null;
  /** Set while a statement is planned: the privileges its plan needs (auth/checks.ts). */
  private privileges: PrivilegeCollector | null = null;

  constructor(
    readonly engine: SqlEngine,
    opts: { database: string; user: string; applicationName?: string; backendPid: number; settings?: { name: string; value: string; strict: boolean }[]; serverSettings?: Record<string, string>; superuser?: boolean; roleOid?: number },
    readonly backendPid = opts.backendPid,
  ) {
    this.database = opts.database;
    this.user = opts.user;
    this.kv = new InterruptibleKv(engine.opts.sender, this.interrupts);
    this.notifications = engine.notifications.listener(this.backendPid);
    this.tsSender = engine.opts.ts ? new InterruptibleTs(engine.opts.ts, this.interrupts) : undefined;
    this.settings.set('application_name', opts.applicationName ?? '');
    this.settings.set('work_mem', formatPgMemory(engine.defaultWorkMemBytes));
    this.settings.set('session_authorization', opts.user);
    this.settings.set('is_superuser', opts.superuser === false ? 'off' : 'on');
    this.loginRoleOid = opts.roleOid ?? null;
    for (const [k, v] of Object.entries(opts.serverSettings ?? {})) if (serverOnlySettings.has(k)) this.settings.set(k, v);
    for (const { name, value, strict } of opts.settings ?? []) {
      try {
        this.applySetting(name.toLowerCase(), value);
      } catch (e) {
        // A parameter of the startup packet we do not have is ignored (drivers send PostgreSQL
        // settings by name); a bad value, or an unknown name in `options`, refuses the login.
        if (!strict && e instanceof PgError && e.code === SqlState.UndefinedObject) continue;
        const err = e instanceof PgError ? e : new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "${name}": "${value}"`);
        throw new PgError(err.code, err.message, { ...err.fields, severity: 'FATAL' });
      }
    }
  }

  /** Loads the auth snapshot this statement checks against (the transaction's own if it changed roles). */
  private async refreshAuth(): Promise<void> {
    this.authView = await this.engine.auth.view(this.txn);
  }

  /** The role that logged in (by OID, so a rename does not change who the session is). */
  private readonly loginRoleOid: number | null;

  /** The session user's role OID (-1: dropped since login; PUBLIC's privileges only). */
  private get roleOid(): number {
    const a = this.authView;
    if (!a) return -1;
    if (this.loginRoleOid !== null) return a.byOid.has(this.loginRoleOid) ? this.loginRoleOid : -1;
    return a.role(this.user)?.oid ?? -1;
  }

  /** 42501 unless the session user meets every requirement (auth/checks.ts). */
  private checkPrivileges(reqs: readonly PrivilegeRequirement[] | undefined): void {
    if (!reqs || reqs.length === 0) return;
    assert(this.authView !== null, 'privileges are checked after the auth snapshot is loaded');
    checkRequirements(this.authView, this.roleOid, reqs);
  }

  /** Runs `f` (which plans) collecting what its plans read; returns the result and the requirements. */
  private collecting<T>(view: CatalogView, f: () => T): { result: T; requirements: PrivilegeRequirement[] } {
    const collector = new PrivilegeCollector(view, this.database);
    const saved = this.privileges;
    this.privileges = collector;
    try {
      return { result: f(), requirements: collector.requirements };
    } finally {
      this.privileges = saved;
    }
  }

  status(): TxnStatus {
    if (!this.explicit) return 'I';
    return this.failed ? 'E' : 'T';
  }

  get view(): CatalogView {
    return this.engine.catalog.view(this.txn);
  }

  private sessionInfo(): SessionInfo {
    return {
      database: this.database,
      user: this.user,
      searchPath: this.searchPath(),
      applicationName: this.settings.get('application_name') ?? '',
      backendPid: this.backendPid,
      settings: this.settings,
      cursors: () => this.cursorRows(),
      largeObjects: this.largeObjects,
      preparedStatements: () => preparedStatementRows(this.sqlPrepared, this.protocolStatements?.() ?? new Map()),
      set: (name, value, local) => {
        const n = name.toLowerCase();
        if (local) this.applyLocalSetting(n, value, null);
        else this.applySetting(n, value);
        return this.settings.get(n) ?? value;
      },
      notify: (channel, payload) => this.pendingNotify.add(checkNotification(channel, payload)),
      listeningChannels: () => [...this.notifications.channels],
      notificationQueueUsage: () => this.engine.notifications.usage(),
    };
  }

  searchPath(): string[] {
    return splitIdentifierList(this.settings.get('search_path') ?? 'public') ?? ['public'];
  }

  vctx(): ValueContext {
    const tz = this.settings.get('timezone') ?? 'UTC';
    const order = /ymd/i.test(this.settings.get('datestyle') ?? '') ? 'YMD' : /dmy/i.test(this.settings.get('datestyle') ?? '') ? 'DMY' : 'MDY';
    const byteaOutput = this.settings.get('bytea_output') === 'escape' ? 'escape' : 'hex';
    const intervalStyle = (this.settings.get('intervalstyle') ?? 'postgres') as 'postgres' | 'postgres_verbose' | 'sql_standard' | 'iso_8601';
    return { timeZone: tz, now: () => (this.txnTimestamp || Date.now() * 1000), extraFloatDigits: Number(this.settings.get('extra_float_digits') ?? 1), dateOrder: order, byteaOutput, intervalStyle, regclassName: (oid) => this.regclassName(oid) };
  }

  /** An index named `[schema.]name` (in the search path's schemas when unqualified): its OID, or null. */
  private indexByName(parts: string[], view: CatalogView): number | null {
    if (parts.length > 2) return null;
    const dbId = view.database(this.database)?.id;
    if (dbId === undefined) return null;
    const schemas = parts.length === 2 ? [parts[0] as string] : [this.tempSchemaName, ...this.searchPath()];
    const name = parts[parts.length - 1] as string;
    for (const sn of schemas) {
      const s = view.schemasOf(dbId).find((x) => x.name === sn);
      for (const t of (s ? view.tables.get(s.id)?.values() : undefined) ?? []) {
        if (t.kind !== 'table') continue;
        const idx = [t.primaryIndex, ...t.indexes].find((i) => i.name === name);
        if (idx) return indexOid(t, idx);
      }
    }
    return null;
  }

  /** regclassout: the name of a table, view, sequence, index or catalog, qualified unless its schema is on the search path. */
  private regclassName(oid: number): string | null {
    const v = this.view;
    const path = this.searchPath();
    const show = (schema: string, name: string) => (schema === 'pg_catalog' || path.includes(schema) || schema === this.tempSchemaName ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`);
    const t = v.tableById(oid);
    if (t) return show(v.byId.get(t.schemaId)?.name ?? 'public', t.name);
    const owner = v.tableById(Math.floor(oid / 1000));
    const idx = owner ? [owner.primaryIndex, ...owner.indexes].find((i) => indexOid(owner, i) === oid) : undefined;
    if (owner && idx) return show(v.byId.get(owner.schemaId)?.name ?? 'public', idx.name);
    const vt = virtualTableByOid(oid);
    return vt ? show(vt.schema, vt.name) : null;
  }

  // ---- name resolution -------------------------------------------------------------------------

  private currentDbId(view: CatalogView): number {
    return this.names.currentDbId(view);
  }

  /** Resolves a table reference: t, schema.t, database.t (CockroachDB), database.schema.t (names.ts). */
  resolveTable(parts: string[], pos: number, view: CatalogView = this.view): ResolvedTable | { kind: 'virtual'; def: VirtualTableDef } {
    return this.names.resolveTable(parts, pos, view);
  }

  private tableFor(parts: string[], pos: number, view = this.view): { desc: TableDesc; schema: string; db: string } {
    return this.names.tableFor(parts, pos, view);
  }

  /**
   * Schemaless ingest (ts_ingest.ts): the time-series table `name` of the session's database
   * (first schema of the search path) with what its write commands need, after the session user's
   * INSERT privilege on it was checked (42501); null when no such table exists. 42809 when it is
   * not a time-series table.
   */
  async tsIngestTarget(name: string): Promise<TsIngestTarget | null> {
    const sender = this.engine.opts.ts;
    if (this.txn) throw new PgError(SqlState.ActiveSqlTransaction, 'time-series ingest runs outside transactions');
    await this.syncCatalog();
    await this.refreshAuth();
    const view = this.view;
    let r: ReturnType<Session['resolveTable']>;
    try {
      r = this.resolveTable([name], 0, view);
    } catch (e) {
      if (e instanceof PgError && e.code === SqlState.UndefinedTable) return null;
      throw e;
    }
    if (r.kind === 'virtual' || r.desc.kind !== 'ts' || !r.desc.ts) throw new PgError(SqlState.WrongObjectType, `"${name}" is not a time-series table`);
    const t = r.desc;
    if (!sender) throw tsNotImplemented(t, 'INSERT');
    const collector = new PrivilegeCollector(view, this.database);
    collector.table(t, Priv.INSERT);
    this.checkPrivileges(collector.requirements);
    const db = view.databaseById(t.parentId);
    const txn = await Txn.begin(this.engine.opts.sender);
    try {
      const setting = (n: string) => this.engine.clusterSetting(n, txn);
      const schema = tsSchemaOf(t, db, setting);
      const rejectDuplicates = setting('ts.dedup.rule') === 'reject';
      const v = Number(setting('ts.disk_free_space.alert_threshold'));
      const freeBytesMin = Number.isFinite(v) && v > 0 ? v : 0;
      return { table: t, schema, rejectDuplicates, propose: (payload) => sender.proposeTs(t.id, payload, freeBytesMin) };
    } finally {
      txn.rollback();
    }
  }

  /** What zones.ts resolves names with. */
  private zoneEnv(view: CatalogView): ZoneEnv {
    return { view, table: (name) => this.tableFor(name, 0, view).desc };
  }

  /** Where a new object named `parts` goes (names.ts). */
  private createTarget(parts: string[], view: CatalogView): { dbId: number; schemaId: number; schemaName: string; name: string } {
    return this.names.createTarget(parts, view);
  }

  // ---- binding environment -------------------------------------------------------------------

  private bindEnv(paramTypes: SqlType[], view: CatalogView, planner: () => QueryPlanner): BindEnv {
    return {
      catalog: view,
      session: this.sessionInfo(),
      paramTypes,
      vctx: this.vctx(),
      planSubquery: (q, outer) => planner().planQuery(q, outer),
      resolveRegclass: (name) => {
        // regclassin: a number is an OID as it is; otherwise a possibly qualified name.
        if (/^\s*\d+\s*$/.test(name)) return Number(name);
        const parts = relationNameParts(name);
        try {
          const r = this.resolveTable(parts, 0, view);
          return r.kind === 'virtual' ? r.def.oid : r.desc.id;
        } catch (e) {
          const idx = e instanceof PgError && e.code === SqlState.UndefinedTable ? this.indexByName(parts, view) : null;
          if (idx === null) throw e;
          return idx;
        }
      },
      resolveSequence: (name) => {
        const parts = name.split('.').map((p) => p.replace(/^"(.*)"$/, '$1').replace(/::regclass$/, ''));
        const r = this.resolveTable(parts, 0, view);
        if (r.kind !== 'table' || r.desc.kind !== 'sequence') throw new PgError(SqlState.WrongObjectType, `"${name}" is not a sequence`);
        return r.desc.id;
      },
      catalogFunction: (name, args) => catalogFunction(name, args, view, (parts, pos, v) => this.resolveTable(parts, pos, v)),
    };
  }

  private makePlanner(paramTypes: SqlType[], view: CatalogView): QueryPlanner {
    // eslint-disable-next-line prefer-const
    let planner: QueryPlanner;
    const binder = new Binder(this.bindEnv(paramTypes, view, () => planner));
    const env: PlannerEnv = {
      resolveTable: (parts, pos) => {
        const r = this.resolveTable(parts, pos, view);
        if (r.kind === 'table') checkPopulated(r.desc);
        if (this.privileges) {
          if (r.kind === 'virtual') this.privileges.virtual(r.def.schema, r.def.name);
          else this.privileges.table(r.desc);
        }
        return r;
      },
      parseView: (text) => parseOne(text) as SelectStmt,
      underView: (t, plan) => (this.privileges ? this.privileges.asOwner(t.id, plan) : plan()),
    };
    planner = new QueryPlanner(binder, env);
    return planner;
  }

  // ---- prepare / bind / execute ------------------------------------------------------------------

  /** Parses and analyzes one statement (the extended protocol's Parse). */
  prepare(sql: string, paramTypeOids: number[]): Prepared {
    return this.prepared(sql, parseStatements(sql), paramTypeOids);
  }

  /** prepare() whose lexing and list folding return to the event loop between slices (for a transport that can wait). */
  async prepareAsync(sql: string, paramTypeOids: number[]): Promise<Prepared> {
    const stmts = await parseStatementsAsync(sql);
    this.startStatementClock();
    try {
      await this.syncCatalog();
    } finally {
      this.stmtDeadlineMs = 0;
    }
    return this.prepared(sql, stmts, paramTypeOids);
  }

  /**
   * Outside a transaction, waits until this node has applied every commit acknowledged before now
   * (KvSender.sync: a follower read's wait in cluster mode), so the catalog a statement is
   * analyzed against includes a schema change just made through another node. Inside one, the
   * transaction's start did so.
   */
  private async syncCatalog(): Promise<void> {
    if (!this.txn) await this.kv.sync();
  }

  private prepared(sql: string, stmts: { stmt: Statement; text: string }[], paramTypeOids: number[]): Prepared {
    if (stmts.length > 1) throw new PgError(SqlState.SyntaxError, 'cannot insert multiple commands into a prepared statement');
    const paramTypes = paramTypeOids.map((o) => (o === 0 ? T.unknown : (typeFromOidSafe(o) ?? T.unknown)));
    if (stmts.length === 0) return { stmt: { kind: 'empty', pos: 0 }, text: sql, paramTypes, columns: null, cache: null };
    const { stmt, text } = stmts[0] as { stmt: Statement; text: string };
    return this.analyze(stmt, text, paramTypes);
  }

  private analyze(stmt0: Statement, text: string, paramTypes: SqlType[]): Prepared {
    const stmt = stmt0.kind === 'showTagValues' ? this.tagValuesQuery(stmt0) : stmt0;
    const p: Prepared = { stmt, text, paramTypes, columns: null, cache: null };
    // PostgreSQL refuses a Parse in a failed transaction block (exec_parse_message), so no
    // statement is created: a driver that saw the error parses it again later.
    if (this.failed && !isTxnEnd(stmt)) throw new PgError(SqlState.InFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block');
    if (isPlannable(stmt)) {
      const c = this.compile(stmt, text, paramTypes);
      p.columns = c.columns;
      if (!this.txn?.wroteSystem) p.cache = { generation: this.engine.catalogGeneration, compiled: c };
    } else if (stmt.kind === 'execute') {
      // EXECUTE name: the prepared statement's result columns (its rows follow a RowDescription).
      p.columns = this.sqlPrepared.get(stmt.name)?.columns ?? null;
    } else if (stmt.kind === 'fetch' && !stmt.move) {
      p.columns = this.cursors.get(stmt.name)?.columns ?? null;
    } else if (stmt.kind === 'copy' && paramTypes.some((t) => t.kind === 'unknown')) {
      // COPY is not analyzed at Parse in PostgreSQL, so a parameter of unspecified type in it has
      // none (psycopg 3's executemany of a COPY gets this error; the statement was run before).
      const n = paramTypes.findIndex((t) => t.kind === 'unknown') + 1;
      throw new PgError(SqlState.IndeterminateDatatype, `could not determine data type of parameter $${n}`);
    } else if (stmt.kind === 'declareCursor' && paramTypes.length > 0) {
      // Its parameters are its query's: their types are inferred there, as PostgreSQL does.
      this.compile(stmt.query, text, paramTypes);
      p.columns = utilityColumns(stmt);
    } else {
      p.columns = utilityColumns(stmt);
    }
    for (let i = 0; i < paramTypes.length; i++) if ((paramTypes[i] as SqlType).kind === 'unknown') paramTypes[i] = T.text;
    return p;
  }

  bind(prepared: Prepared, params: Value[]): Portal {
    return { prepared, params, running: null, utility: null, done: false };
  }

  /**
   * Bind's fast path for a prepared TS INSERT of parameter rows (ts_insert_bind.ts): the raw
   * parameters built straight into TS write commands, or null — decode them as usual.
   */
  bindTsWrite(p: Prepared, body: Buffer, starts: Int32Array, lengths: Int32Array, formats: number[]): Omit<BoundTsWrite, 'decode'> | null {
    const c = p.cache;
    const binder = c?.compiled.tsBinder;
    if (!c || !binder || c.generation !== this.engine.catalogGeneration || this.txn?.wroteSystem) return null;
    return binder.bind(body, starts, lengths, formats, this.vctx(), c.generation);
  }

  /** Runs a whole simple-query string: each statement in turn, results to the callbacks. */
  async simpleQuery(
    sql: string,
    out: {
      /** formats: the wire result format codes ([]: all text; [1]: all binary). */
      rowDescription(cols: Column[], formats: number[]): void;
      row(values: Value[], cols: Column[], formats: number[]): void;
      complete(tag: string): void;
      notice(msg: Notice): void;
      empty(): void;
    } & CopySink,
  ): Promise<void> {
    const stmts = await parseStatementsAsync(sql);
    if (stmts.length === 0) {
      out.empty();
      return;
    }
    this.startStatementClock();
    try {
      await this.syncCatalog();
    } finally {
      this.stmtDeadlineMs = 0;
    }
    // Several statements in one simple query run in one implicit transaction block unless they
    // manage transactions themselves (PostgreSQL's behaviour, txn_block.ts).
    const block = usesImplicitBlock(stmts);
    for (const { stmt, text } of stmts) {
      if (block && !this.explicit) await this.beginImplicitBlock();
      if (stmt.kind === 'copy') {
        if (this.failed) throw new PgError(SqlState.InFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block');
        if (stmt.direction === 'from') this.checkReadOnly('COPY FROM');
        if (this.explicit) this.txnQueried = true;
        let tag: string;
        this.startStatementClock();
        try {
          await this.refreshAuth();
          tag = stmt.direction === 'from' ? await copyFrom(this.copyHost, stmt, out) : await copyTo(this.copyHost, stmt, out);
        } finally {
          this.stmtDeadlineMs = 0;
          this.endStatements();
        }
        out.complete(tag);
        continue;
      }
      const prepared = this.analyzeForRun(stmt, text);
      const portal = this.bind(prepared, []);
      // FETCH from a BINARY cursor: binary rows (PostgreSQL's exec_simple_query), else text.
      const formats = stmt.kind === 'fetch' && !stmt.move ? this.cursors.fetchFormats(stmt.name) : [];
      if (prepared.columns) out.rowDescription(prepared.columns, formats);
      const r = await this.execute(portal, 0, { row: (v) => out.row(v, prepared.columns ?? [], formats), notice: out.notice, writable: out.writable });
      out.complete(r.tag as string);
    }
    if (this.implicitBlock) await this.commitBlock(out);
  }

  /** COMMIT/ROLLBACK AND CHAIN: a new block at once, with the modes the ended one had. */
  private async chainBlock(modes: TxnModes): Promise<void> {
    await this.beginTxn();
    this.explicit = true;
    this.failed = false;
    this.savepoints = [];
    this.startTxnModes({ ...modes });
  }

  /** Opens the implicit block of a multi-statement string (txn_block.ts), with the session's default modes. */
  private async beginImplicitBlock(): Promise<void> {
    await this.beginTxn();
    this.explicit = true;
    this.implicitBlock = true;
    this.failed = false;
    this.savepoints = [];
    this.startTxnModes({ isolation: null, readOnly: null, deferrable: null });
  }

  /**
   * SHOW TAG VALUES FROM t: every device's tags, one row per device in primary-tag order — a
   * query that reads each device's newest row (the lastpoint scan), not the whole table.
   */
  private tagValuesQuery(s: Statement & { kind: 'showTagValues' }): Statement {
    const { desc: t } = this.tableFor(s.table, s.pos, this.view);
    if (t.kind !== 'ts' || !t.ts) throw new PgError(SqlState.WrongObjectType, `"${t.name}" is not a time-series table`);
    const prim = t.ts.primaryTags.map(quoteIdent).join(', ');
    const tags = t.ts.tags.map((g) => quoteIdent(g.name)).join(', ');
    return parseOne(`select distinct on (${prim}) ${tags} from ${s.table.map(quoteIdent).join('.')} order by ${prim}, ${quoteIdent(t.columns[0]?.name ?? 'ts')} desc`);
  }

  private analyzeForRun(stmt: Statement, text: string): Prepared {
    return this.analyze(stmt, text, []);
  }

  /**
   * Executes a portal, sending at most maxRows rows (0 = all). Returns the command tag when the
   * statement completed, or null when it was suspended (more rows remain).
   */
  async execute(portal: Portal, maxRows: number, sink: ExecuteSink): Promise<{ tag: string | null }> {
    this.startStatementClock();
    try {
      await this.refreshAuth();
      return await this.executeInner(portal, maxRows, sink);
    } finally {
      this.stmtDeadlineMs = 0;
      this.endStatements();
    }
  }

  private async executeInner(portal: Portal, maxRows: number, sink: ExecuteSink): Promise<{ tag: string | null }> {
    const stmt = portal.prepared.stmt;
    if (portal.done) return { tag: portal.utility?.tag ?? 'SELECT 0' };
    if (this.failed && !isTxnEnd(stmt)) {
      throw new PgError(SqlState.InFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block');
    }
    const prevented = preventedInBlock(stmt);
    if (prevented !== null && this.explicit) throw new PgError(SqlState.ActiveSqlTransaction, `${prevented} cannot run inside a transaction block`);
    const write = writeCommandName(stmt);
    if (write !== null) this.checkReadOnly(write);
    if (this.explicit && !takesNoSnapshot(stmt)) this.txnQueried = true;
    this.changedSettings.clear();
    if (stmt.kind === 'copy') {
      // COPY in the extended protocol: the portal runs it whole at its first Execute.
      const tag = stmt.direction === 'from' ? await copyFrom(this.copyHost, stmt, sink) : await copyTo(this.copyHost, stmt, sink);
      portal.utility = { rows: [], tag, sent: 0 };
      portal.done = true;
      return { tag };
    }
    if (!isPlannable(stmt)) {
      if (!portal.utility) {
        const r = await this.runUtility(stmt, portal.prepared.text, portal.params, sink, portal.prepared.paramTypes);
        portal.utility = { rows: r.rows, tag: r.tag, sent: 0 };
      }
      const u = portal.utility;
      const end = maxRows > 0 ? Math.min(u.rows.length, u.sent + maxRows) : u.rows.length;
      for (; u.sent < end; u.sent++) sink.row(u.rows[u.sent] as Row);
      if (u.sent < u.rows.length) return { tag: null };
      portal.done = true;
      return { tag: u.tag };
    }
    return this.executePlannable(portal, maxRows, sink);
  }

  private compiledFor(p: Prepared): Compiled {
    if (p.cache && p.cache.generation === this.engine.catalogGeneration && !this.txn?.wroteSystem) return p.cache.compiled;
    const c = this.compile(p.stmt, p.text, p.paramTypes);
    if (!this.txn?.wroteSystem) p.cache = { generation: this.engine.catalogGeneration, compiled: c };
    return c;
  }

  private async executePlannable(portal: Portal, maxRows: number, sink: ExecuteSink): Promise<{ tag: string | null }> {
    let attempt = 0;
    for (;;) {
      const implicit = !this.explicit;
      if (!portal.running) {
        if (!this.txn) await this.beginTxn();
        const compiled = this.compiledFor(portal.prepared);
        this.checkPrivileges(compiled.privileges);
        const bound = portal.bound;
        if (bound && (bound.generation !== this.engine.catalogGeneration || this.txn?.wroteSystem || !compiled.startBound)) portal.params = takeBoundParams(portal, bound);
        const ctx = this.execCtx(portal.params);
        if (compiled.lockKeys) {
          const keys = await compiled.lockKeys(ctx);
          if (keys && keys.length > 0) await (this.txn as Txn).lockForWrite(keys);
        }
        let started = portal.bound && compiled.startBound ? compiled.startBound(portal.bound, ctx) : null;
        if (!started && portal.bound) ctx.params = portal.params = takeBoundParams(portal, portal.bound);
        started ??= compiled.start(ctx);
        const { batches, state } = started;
        portal.running = { batches, state, buffer: [], ctx, implicit, compiled, columns: compiled.columns };
      }
      const run = portal.running;
      // A row-returning portal's tag counts the rows this Execute sent (PostgreSQL's rule), so a
      // portal resumed to its end reports only its last rows ("SELECT 0" after an exact fit):
      // drivers fetching in batches (postgres.js cursors) take a nonzero count for another batch.
      let sent = 0;
      const counting: ExecuteSink = run.columns ? { ...sink, row: (v) => (sent++, sink.row(v)) } : sink;
      try {
        const more = await this.pump(run, maxRows, counting);
        if (more) {
          this.suspended.add(run.ctx); // keeps its memory and spill files until the portal completes
          return { tag: null };
        }
        this.endStatement(run.ctx);
        if (run.compiled.finish) await run.compiled.finish(run.ctx);
        portal.running = null;
        portal.done = true;
        if (run.implicit) await this.finishImplicit(sink);
        return { tag: run.compiled.tag(run.columns ? sent : run.state.count) };
      } catch (e) {
        this.endStatement(run.ctx);
        portal.running = null;
        const retryable = e instanceof PgError && e.code === SqlState.SerializationFailure && run.implicit && run.state.count === 0 && attempt < 5;
        this.onError(e);
        if (retryable && !run.compiled.columns) {
          attempt++;
          continue;
        }
        throw e;
      }
    }
  }

  /** Pulls rows from a running statement (exec/pump.ts), checking cancel and statement_timeout. */
  private pump(run: NonNullable<Portal['running']>, maxRows: number, sink: ExecuteSink): Promise<boolean> {
    const timeoutMs = parseDurationMs(this.settings.get('statement_timeout') ?? '0');
    const started = Date.now();
    return pump(run, maxRows, sink, () => this.checkInterrupts(started, timeoutMs));
  }

  /**
   * Statement contexts still holding memory or spill files. INVARIANT: every context is ended
   * (its memory returned to the node's pool, its files deleted) when its statement completes or
   * fails, or — for a portal suspended by a row limit — when it completes or the session closes.
   */
  private readonly liveCtxs = new Set<ExecCtx>();
  private readonly suspended = new Set<ExecCtx>();

  private endStatement(ctx: ExecCtx): void {
    ctx.memory.close();
    ctx.temp?.cleanup();
    this.liveCtxs.delete(ctx);
    this.suspended.delete(ctx);
  }

  /** Ends every context of the statement that just ran, except suspended portals'. */
  private endStatements(): void {
    for (const ctx of [...this.liveCtxs]) if (!this.suspended.has(ctx)) this.endStatement(ctx);
  }

  /** The session's work_mem in bytes. */
  private workMemBytes(): number {
    return parsePgMemory('work_mem', this.settings.get('work_mem') ?? '64MB');
  }

  private checkInterrupts(started: number, timeoutMs: number): void {
    if (this.cancelRequested) {
      this.cancelRequested = false;
      throw queryCanceled();
    }
    if (timeoutMs > 0 && Date.now() - started > timeoutMs) throw new PgError(SqlState.QueryCanceled, 'canceling statement due to statement timeout');
  }

  private execCtx(params: Value[]): ExecCtx {
    const txn = this.txn as Txn;
    const seqs = this.engine.sequences;
    const session = this;
    const seqAccess: SequenceAccess = {
      nextval(id, c) {
        const d = session.view.tableById(id);
        if (!d) throw new PgError(SqlState.UndefinedTable, `sequence with OID ${id} does not exist`);
        session.checkPrivileges([sequenceRequirement(d, 'nextval')]);
        session.checkReadOnly('nextval()');
        const v = seqs.next(d, c);
        session.currvals.set(id, v);
        return v;
      },
      currval(id) {
        const seq = session.view.tableById(id);
        if (seq) session.checkPrivileges([sequenceRequirement(seq, 'currval')]);
        const v = session.currvals.get(id);
        if (v === undefined) throw new PgError(SqlState.ObjectNotInPrerequisiteState, `currval of sequence "${session.view.tableById(id)?.name}" is not yet defined in this session`);
        return v;
      },
      setval(id, v, t) {
        const d = session.view.tableById(id);
        if (!d) throw new PgError(SqlState.UndefinedTable, `sequence with OID ${id} does not exist`);
        session.checkPrivileges([sequenceRequirement(d, 'setval')]);
        session.checkReadOnly('setval()');
        session.currvals.set(id, v);
        return seqs.set(d, v, t);
      },
      currvalOrStart(id) {
        const d = session.view.tableById(id);
        return d ? seqs.peek(d) : 0n;
      },
    };
    const ctx: ExecCtx = {
      txn,
      catalog: this.view,
      auth: this.authView,
      session: this.sessionInfo(),
      params,
      outer: [],
      vctx: this.vctx(),
      stmtTimestamp: Date.now() * 1000,
      txnTimestamp: this.txnTimestamp,
      sequences: seqAccess,
      sleepUntil: 0,
      ctes: new Map(),
      server: this.engine.server,
      ts: this.tsSender ?? null,
      clusterSetting: (name) => this.engine.clusterSetting(name, txn),
      regexCache: new Map(),
      work: 0,
      syncDrains: 0,
      suspendable: false,
      subplans: new Map(),
      memory: this.engine.memory.statement(this.workMemBytes()),
      temp: this.engine.opts.tempDir ? new TempFiles(this.engine.opts.tempDir) : null,
    };
    this.liveCtxs.add(ctx);
    return ctx;
  }

  // ---- transactions ----------------------------------------------------------------------------

  private async beginTxn(): Promise<void> {
    const txn = await Txn.begin(this.kv);
    this.txn = txn;
    this.txnTimestamp = Date.now() * 1000;
    txn.onBeforeCommit(() => this.tempOnCommitActions(txn));
  }

  private async finishImplicit(sink?: { notice(m: Notice): void }): Promise<void> {
    const txn = this.txn;
    this.txn = null;
    this.txnTimestamp = 0;
    await this.commitWithNotifications(txn, sink ?? null);
  }

  /**
   * Commits `txn` (when open) together with the transaction's LISTEN/UNLISTEN/NOTIFY (notify.ts):
   * the listen set changes and room in the listeners' queues is reserved before the commit (a full
   * queue fails it with 54000 before anything is written), the notifications are queued after it.
   * A failed commit leaves the listen set as it was.
   */
  private async commitWithNotifications(txn: Txn | null, sink: { notice(m: Notice): void } | null): Promise<void> {
    const pending = this.pendingNotify;
    this.pendingNotify = new PendingNotifications();
    if (pending.empty) {
      if (txn && txn.isOpen()) await txn.commit();
      return;
    }
    const l = this.notifications;
    const channelsBefore = [...l.channels];
    pending.applyActions(l);
    let delivery;
    try {
      delivery = this.engine.notifications.prepare(this.backendPid, pending.notes, (w) => sink?.notice({ ...w, code: SqlState.Warning, severity: 'WARNING' }));
      if (txn && txn.isOpen()) await txn.commit();
    } catch (e) {
      delivery?.cancel();
      l.channels.clear();
      for (const c of channelsBefore) l.channels.add(c);
      throw e;
    }
    delivery.deliver();
    if (pending.notes.length > 0) this.engine.broadcastNotifications?.(pending.notes.map((n) => ({ channel: n.channel, payload: n.payload, pid: this.backendPid })));
  }

  /** A LISTEN/UNLISTEN/NOTIFY channel name: an identifier, truncated to 63 bytes as PostgreSQL's lexer does (NOTICE 42622). */
  private channelName(name: string, sink: { notice(m: Notice): void }): string {
    if (Buffer.byteLength(name) <= notifyChannelBytesMax) return name;
    let cut = name;
    while (Buffer.byteLength(cut) > notifyChannelBytesMax) cut = [...cut].slice(0, -1).join('');
    sink.notice({ message: `identifier "${name}" will be truncated to "${cut}"`, code: SqlState.NameTooLong, severity: 'NOTICE' });
    return cut;
  }

  /**
   * An error: an implicit transaction is rolled back; an explicit one becomes failed. A failed
   * block without savepoints can never commit, so it is aborted at once (its locks released). With
   * savepoints, ROLLBACK TO SAVEPOINT may resume it, so the transaction stays open (holding its
   * locks, as PostgreSQL's does) — unless the error means it cannot go on at all: a serialization
   * failure or deadlock (its reads are stale; only a retry of the whole transaction helps) or an
   * ambiguous commit.
   */
  onError(e?: unknown): void {
    if (this.implicitBlock) {
      this.endExplicit();
      return;
    }
    if (this.txn && this.txn.isOpen() && !this.explicit) this.txn.rollback();
    if (!this.explicit) {
      this.pendingNotify = new PendingNotifications();
      this.txn = null;
      this.txnTimestamp = 0;
      return;
    }
    this.failed = true;
    if (this.savepoints.length > 0 && !txnDoomedBy(e)) return;
    if (this.txn && this.txn.isOpen()) this.txn.rollback();
  }

  /** Whether the statement's transaction is read-only: the block's mode, else default_transaction_read_only. */
  get readOnly(): boolean {
    return this.txnModes ? this.txnModes.readOnly : this.settings.get('default_transaction_read_only') === 'on';
  }

  /** 25006 for a write in a read-only transaction. */
  checkReadOnly(command: string): void {
    if (this.readOnly) throw new PgError(SqlState.ReadOnlySqlTransaction, `cannot execute ${command} in a read-only transaction`);
  }

  /** transaction_isolation / _read_only / _deferrable as SHOW and current_setting see them. */
  private syncTxnSettings(): void {
    const m = this.txnModes;
    this.rawSetSetting('transaction_isolation', m ? m.isolation : (this.settings.get('default_transaction_isolation') ?? 'serializable'));
    this.rawSetSetting('transaction_read_only', (m ? m.readOnly : this.settings.get('default_transaction_read_only') === 'on') ? 'on' : 'off');
    this.rawSetSetting('transaction_deferrable', (m ? m.deferrable : this.settings.get('default_transaction_deferrable') === 'on') ? 'on' : 'off');
  }

  /** A block begins with the session's default modes, then BEGIN's own. */
  private startTxnModes(modes: { isolation: string | null; readOnly: boolean | null; deferrable?: boolean | null }): void {
    this.txnModes = {
      isolation: modes.isolation ?? this.settings.get('default_transaction_isolation') ?? 'serializable',
      readOnly: modes.readOnly ?? this.settings.get('default_transaction_read_only') === 'on',
      deferrable: modes.deferrable ?? this.settings.get('default_transaction_deferrable') === 'on',
    };
    this.txnQueried = false;
    this.syncTxnSettings();
  }

  /** SET TRANSACTION … (or SET transaction_… in a block): PostgreSQL's checks, then the new modes. */
  private setTxnModes(modes: { isolation?: string | null; readOnly?: boolean | null; deferrable?: boolean | null }): void {
    const m = this.txnModes;
    assert(m !== null, 'transaction modes are set inside a block');
    if (modes.isolation != null && modes.isolation !== m.isolation) {
      if (this.txnQueried) throw new PgError(SqlState.ActiveSqlTransaction, 'SET TRANSACTION ISOLATION LEVEL must be called before any query');
      m.isolation = modes.isolation;
    }
    if (modes.readOnly != null && modes.readOnly !== m.readOnly) {
      if (!modes.readOnly && this.txnQueried) throw new PgError(SqlState.ActiveSqlTransaction, 'transaction read-write mode must be set before any query');
      m.readOnly = modes.readOnly;
    }
    if (modes.deferrable != null && modes.deferrable !== m.deferrable) {
      if (this.txnQueried) throw new PgError(SqlState.ActiveSqlTransaction, `SET TRANSACTION ${modes.deferrable ? '' : 'NOT '}DEFERRABLE must be called before any query`);
      m.deferrable = modes.deferrable;
    }
    this.syncTxnSettings();
  }

  // ---- SQL cursors (cursors.ts) ------------------------------------------------------------

  /**
   * DECLARE … CURSOR FOR query; `params` are the DECLARE's own Bind parameters ($1…), which its
   * query uses (psycopg 3's server-side cursors bind them so, as PostgreSQL allows).
   */
  private async declareCursor(stmt: Statement & { kind: 'declareCursor' }, params: Value[] = [], paramTypes: SqlType[] = []): Promise<void> {
    if (this.cursors.has(stmt.name)) throw new PgError(SqlState.DuplicateCursor, `cursor "${stmt.name}" already exists`);
    if (!this.explicit && !stmt.hold) throw new PgError(SqlState.NoActiveSqlTransaction, 'DECLARE CURSOR can only be used in transaction blocks');
    if (stmt.query.locking && stmt.hold) throw new PgError(SqlState.FeatureNotSupported, 'DECLARE CURSOR WITH HOLD ... FOR UPDATE is not supported', { detail: 'Holdable cursors must be READ ONLY.' });
    if (stmt.query.locking && stmt.scroll) throw new PgError(SqlState.FeatureNotSupported, 'DECLARE SCROLL CURSOR ... FOR UPDATE is not supported', { detail: 'Scrollable cursors must be READ ONLY.' });
    if (stmt.query.locking) this.checkReadOnly(`SELECT FOR ${stmt.query.locking}`);
    const implicit = !this.explicit;
    if (!this.txn) await this.beginTxn();
    const prepared = this.analyze(stmt.query, stmt.text, [...paramTypes]);
    // Neither SCROLL nor NO SCROLL: scrollable when PostgreSQL's plan could run backward (cursor_scroll.ts).
    const autoScroll = stmt.scroll === null && supportsBackwardScan(stmt.query);
    const c: SqlCursor = {
      name: stmt.name,
      text: stmt.text,
      hold: stmt.hold,
      binary: stmt.binary,
      scroll: stmt.scroll === true || autoScroll,
      ...(autoScroll ? { autoScroll: true, keptBytes: 0 } : {}),
      created: Date.now() * 1000,
      txn: this.txn,
      portal: this.bind(prepared, params),
      columns: prepared.columns ?? [],
      // WITH HOLD keeps its rows from the start: they are all read at commit anyway, and then the
      // cursor can move backward (unless NO SCROLL), as PostgreSQL's materialized one can.
      rows: stmt.scroll === true || autoScroll || stmt.hold ? [] : null,
      noScroll: stmt.scroll === false,
      pos: 0,
      pulled: 0,
      atEnd: false,
    };
    if (implicit) {
      // WITH HOLD outside a block: its transaction is this statement's, which ends now.
      try {
        await this.cursors.materialize(c);
        await this.finishImplicit();
      } catch (e) {
        this.onError(e);
        throw e;
      }
      c.txn = null;
    }
    this.cursors.add(c);
  }

  private async fetchCursor(c: SqlCursor, stmt: Statement & { kind: 'fetch' }): Promise<{ rows: Row[]; count: number }> {
    return this.cursors.fetch(c, stmt.how, stmt.count, stmt.move);
  }

  private dropCursor(c: SqlCursor): void {
    this.cursors.drop(c);
  }

  /** Before COMMIT: WITH HOLD cursors of this transaction read their rows (they outlive it). */
  private async holdCursorsBeforeCommit(txn: Txn): Promise<void> {
    await this.cursors.holdBeforeCommit(txn);
  }

  /** The transaction ended: its cursors close, except WITH HOLD ones of a committed one. */
  private endTxnCursors(txn: Txn | null, committed: boolean): void {
    this.cursors.endTxn(txn, committed);
    this.largeObjects.endTxn();
  }

  /** The result columns of a SQL cursor (the wire's Describe Portal of its name), or null. */
  cursorColumns(name: string): Column[] | null {
    return this.cursors.get(name)?.columns ?? null;
  }

  /** Open large-object descriptors; they close when the transaction ends. */
  readonly largeObjects = new LargeObjectDescriptors();

  /** The wire layer's named statements (Parse messages), for pg_prepared_statements. */
  protocolStatements: (() => ReadonlyMap<string, Prepared>) | null = null;

  /** pg_cursors: this session's cursors. */
  cursorRows(): Row[] {
    return this.cursors.pgCursors();
  }

  // ---- temporary tables (temp_schemas.ts) --------------------------------------------------

  /** This session's temp schema name (the same in every database). */
  get tempSchemaName(): string {
    return tempSchemaName(this.engine.opts.nodeId, this.backendPid);
  }

  /**
   * True once a transaction that created this session's temp schema committed; until then a
   * schema of that name is another (ended) session's leftover, never read.
   */
  private tempSchemaUsed = false;
  /** The transaction that created the temp schema, until it commits. */
  private tempSchemaTxn: Txn | null = null;
  /** SQL cursors (DECLARE … CURSOR), by name (cursors.ts's rules). */
  /** Name resolution in the session's database, search path and temp schema (names.ts). */
  private readonly names = new NameResolver({
    database: () => this.database,
    searchPath: () => this.searchPath(),
    tempSchemaName: () => this.tempSchemaName,
    ownTempSchema: (view, dbId) => this.ownTempSchema(view, dbId),
  });

  private readonly cursors = new SqlCursors<Portal>({
    run: async (p, n) => {
      const rows: Row[] = [];
      const r = await this.execute(p, n, { row: (v) => rows.push(v), notice: () => {} });
      return { rows, done: r.tag !== null };
    },
    endStatement: (p) => {
      const ctx = p.running?.ctx;
      if (ctx) this.endStatement(ctx);
    },
    workMemBytes: () => this.workMemBytes(),
  });

  /** Temporary tables with ON COMMIT DROP / DELETE ROWS, by id. */
  private readonly tempOnCommit = new Map<number, 'drop' | 'delete rows'>();

  /** The session's own temp schema in a database, if it made one. */
  private ownTempSchema(view: CatalogView, dbId: number): SchemaDesc | undefined {
    if (!this.tempSchemaUsed && (this.tempSchemaTxn === null || this.tempSchemaTxn !== this.txn)) return undefined;
    return view.schema(dbId, this.tempSchemaName);
  }

  /**
   * CREATE TEMP TABLE t (or CREATE TABLE pg_temp.t): makes the session's temp schema in this
   * transaction if needed (a leftover of an ended session with the same pid is dropped first) and
   * returns the statement aimed at it.
   */
  private tempTableTarget(stmt: Statement & { kind: 'createTable' }, txn: Txn): Statement & { kind: 'createTable' } {
    const q = stmt.name.length >= 2 ? (stmt.name[stmt.name.length - 2] as string) : null;
    const temp = stmt.temp === true || q === 'pg_temp' || (q !== null && isTempSchemaName(q));
    if (!temp) return stmt;
    if (q !== null && q !== 'pg_temp' && q !== this.tempSchemaName) {
      if (isTempSchemaName(q)) throw otherSessionsTemp();
      throw new PgError(SqlState.InvalidTableDefinition, 'cannot create temporary relation in non-temporary schema');
    }
    if (stmt.name.length === 3 && stmt.name[0] !== this.database) throw new PgError(SqlState.FeatureNotSupported, 'temporary tables can only be created in the current database');
    if (stmt.ts) throw new PgError(SqlState.FeatureNotSupported, 'time-series tables cannot be temporary');
    const view = this.engine.catalog.view(txn);
    const dbId = this.currentDbId(view);
    const name = this.tempSchemaName;
    const existing = view.schema(dbId, name);
    if (!this.ownTempSchema(view, dbId)) {
      if (existing) dropSchemaWithin(this.engine, txn, view, existing);
      const schema = this.engine.catalog.createSchema(txn, dbId, name);
      const role = this.roleOid;
      if (role !== rootRoleOid && role > 0) this.engine.auth.putAcl(txn, { objectId: schema.id, owner: role, acl: null });
      this.tempSchemaTxn = txn;
      txn.onBeforeCommit(() => {
        this.tempSchemaUsed = true;
      });
    }
    const last = stmt.name[stmt.name.length - 1] as string;
    const onCommit = stmt.onCommit;
    if (onCommit === 'drop' || onCommit === 'delete rows') {
      // Registered once the table exists (its id is known after the DDL): see noteTempOnCommit.
      this.pendingOnCommit = { name: last, what: onCommit };
    }
    return { ...stmt, name: [name, last] };
  }

  private pendingOnCommit: { name: string; what: 'drop' | 'delete rows' } | null = null;

  /** After CREATE TEMP TABLE … ON COMMIT DROP/DELETE ROWS: remember the table, act at each commit. */
  private noteTempOnCommit(txn: Txn): void {
    const p = this.pendingOnCommit;
    this.pendingOnCommit = null;
    if (!p) return;
    const view = this.engine.catalog.view(txn);
    const schema = view.schema(this.currentDbId(view), this.tempSchemaName);
    const t = schema ? view.table(schema.id, p.name) : undefined;
    if (t) this.tempOnCommit.set(t.id, p.what);
  }

  /** At COMMIT (inside the committing transaction): ON COMMIT DROP tables go, DELETE ROWS tables are emptied. */
  private tempOnCommitActions(txn: Txn): void {
    if (this.tempOnCommit.size === 0) return;
    const view = this.engine.catalog.view(txn);
    for (const [id, what] of [...this.tempOnCommit]) {
      const t = view.tableById(id);
      if (!t) {
        this.tempOnCommit.delete(id); // its creation was rolled back, or it was dropped
        continue;
      }
      const p = tablePrefix(t.id);
      for (const { key } of txn.scan(p, prefixEnd(p))) txn.del(key);
      if (what === 'drop') {
        this.engine.catalog.deleteDescriptor(txn, t);
        this.engine.auth.deleteAcl(txn, t.id);
        this.tempOnCommit.delete(id);
      }
    }
  }

  /** Drops this session's temp schemas now (DISCARD TEMP/ALL, session end). */
  private async dropOwnTempSchemas(): Promise<void> {
    if (!this.tempSchemaUsed) return;
    const name = this.tempSchemaName;
    await dropTempSchemas(this.engine, (n) => n === name);
    this.tempSchemaUsed = false;
    this.tempOnCommit.clear();
  }

  /** Rolls back the session's transaction (if any) and leaves it idle. */
  /**
   * Ends the block with COMMIT (or, when it failed, ROLLBACK: the tag says which). WITH HOLD
   * cursors are read first; a failed commit rolls back and rethrows, the session idle.
   */
  private async commitBlock(sink: { notice(m: Notice): void }): Promise<'COMMIT' | 'ROLLBACK'> {
    const txn = this.txn;
    this.implicitBlock = false;
    const failed = this.failed;
    this.explicit = false;
    this.failed = false;
    this.txn = null;
    this.txnTimestamp = 0;
    this.savepoints = [];
    if (failed) {
      txn?.rollback();
      this.pendingNotify = new PendingNotifications();
      this.endTxnCursors(txn, false);
      this.endTxnSettings(false);
      return 'ROLLBACK';
    }
    try {
      if (txn && txn.isOpen()) await this.holdCursorsBeforeCommit(txn);
      await this.commitWithNotifications(txn, sink);
    } catch (e) {
      if (txn && txn.isOpen()) txn.rollback();
      this.endTxnCursors(txn, false);
      this.endTxnSettings(false);
      throw e;
    }
    this.endTxnCursors(txn, true);
    this.endTxnSettings(true);
    return 'COMMIT';
  }

  private endExplicit(): void {
    if (this.txn && this.txn.isOpen()) this.txn.rollback();
    this.pendingNotify = new PendingNotifications();
    this.endTxnCursors(this.txn, false);
    this.endTxnSettings(false);
    this.txn = null;
    this.txnTimestamp = 0;
    this.explicit = false;
    this.implicitBlock = false;
    this.failed = false;
    this.savepoints = [];
  }

  /** The connection is closing: abandon any transaction and every statement's memory and files. */
  close(): void {
    if (this.txn && this.txn.isOpen()) this.txn.rollback();
    this.txn = null;
    this.pendingNotify = new PendingNotifications();
    this.engine.notifications.remove(this.notifications);
    for (const c of this.cursors.values()) this.dropCursor(c);
    for (const ctx of [...this.liveCtxs]) this.endStatement(ctx);
    // Temporary tables end with the session; a failure leaves them to the next start (temp_schemas.ts).
    this.dropOwnTempSchemas().catch((e: unknown) => logger('sql').warn({ err: e, schema: this.tempSchemaName }, 'could not drop a temporary schema at session end'));
  }

  // ---- compilation of queries and DML ----------------------------------------------------------

  /**
   * Compiles a query or DML statement, recording the privileges it needs (what its plan reads,
   * and INSERT/UPDATE/DELETE on the target); they are checked each time it runs.
   */
  compile(stmt: Statement, text: string, paramTypes: SqlType[]): Compiled {
    const view = this.view;
    const { result: c, requirements } = this.collecting(view, () => {
      if (stmt.kind === 'insert' || stmt.kind === 'update' || stmt.kind === 'delete') {
        (this.privileges as PrivilegeCollector).table(this.tableFor(stmt.table, stmt.pos, view).desc, targetPrivileges(stmt));
      }
      return this.compileStatement(stmt, text, paramTypes, view);
    });
    c.privileges = requirements;
    return c;
  }

  private compileStatement(stmt: Statement, text: string, paramTypes: SqlType[], view: CatalogView): Compiled {
    const planner = this.makePlanner(paramTypes, view);
    switch (stmt.kind) {
      case 'query': {
        const op = planner.planQuery(stmt, null);
        return this.queryCompiled(op);
      }
      case 'insert':
        return withStatementCtes(planner, stmt.with, () => this.compileInsert(stmt, planner, view));
      case 'update':
        return withStatementCtes(planner, stmt.with, () => this.compileUpdate(stmt, planner, view));
      case 'delete':
        return withStatementCtes(planner, stmt.with, () => this.compileDelete(stmt, planner, view));
      default:
        throw new PgError(SqlState.InternalError, `cannot compile ${stmt.kind}`);
    }
    void text;
  }

  private queryCompiled(op: Operator): Compiled {
    return {
      columns: op.columns.map((c) => ({ ...c, type: c.type.kind === 'unknown' ? T.text : c.type })),
      writes: false,
      start: (ctx) => {
        const state = { count: 0 };
        const inner = op.exec(ctx);
        const batches = (function* () {
          for (const b of inner) {
            state.count += b.length;
            yield b;
          }
        })();
        return { batches, state };
      },
      tag: (n) => `SELECT ${n}`,
    };
  }

  private writerFor(t: TableDesc, planner: QueryPlanner, view: CatalogView): TableWriter {
    const b = planner.binder;
    const scope = new Scope(t.columns.map((c) => ({ name: c.name, rel: t.name, type: c.type })));
    const defaults = t.columns.map((c) => {
      // A column without a default of its own takes its domain's (PostgreSQL's rule).
      const text = c.default ?? (c.type.domain ? (view.domainById(c.type.domain.id)?.default ?? null) : null);
      if (text === null) return null;
      const e = b.coerce(b.bind(parseExpression(text), new Scope([])), c.type, true);
      return e.ev;
    });
    const checks = t.checks.map((ch) => ({ name: ch.name, ev: b.coerceBool(b.bind(parseExpression(ch.expr), scope), 'CHECK').ev }));
    // Columns of a domain type: the domain's own constraints, before the table's (as PostgreSQL
    // checks them while coercing the value to the column's type).
    const domainChecks = t.columns.flatMap((c, i) => {
      const check = domainCheck(b, c.type) ?? enumCheck(b, c.type);
      return check ? [{ name: '', ev: ((row, ctx) => (check(row[i] as Value, ctx), true)) as Ev }] : [];
    });
    checks.unshift(...domainChecks);
    const fks = t.foreignKeys.map((fk) => {
      const rt = view.tableById(fk.refTableId) as TableDesc;
      const rc = tableCodec(rt);
      return {
        name: fk.name,
        positions: fk.columnIds.map((id) => t.columns.findIndex((c) => c.id === id)),
        refTable: rt,
        refCodec: rc,
        refPositions: fk.refColumnIds.map((id) => rt.columns.findIndex((c) => c.id === id)),
      };
    });
    return makeWriter(t, defaults, checks, fks);
  }

  private returning(items: SelectItem[] | null, scope: Scope, planner: QueryPlanner): { cols: Column[]; evs: Ev[] } | null {
    if (!items) return null;
    const b = planner.binder;
    const cols: Column[] = [];
    const evs: Ev[] = [];
    for (const it of items) {
      if (it.expr.kind === 'star') {
        scope.cols.forEach((c, i) => {
          if (c.hidden || (it.expr.kind === 'star' && it.expr.table && c.rel !== it.expr.table[it.expr.table.length - 1])) return;
          cols.push({ name: c.name, type: c.type });
          evs.push((r) => r[i] as Value);
        });
        continue;
      }
      const e = b.resolveUnknown(b.bind(it.expr, scope));
      cols.push({ name: it.alias ?? e.name, type: e.type });
      evs.push(e.ev);
    }
    return { cols, evs };
  }

  private compileInsert(s: Statement & { kind: 'insert' }, planner: QueryPlanner, view: CatalogView): Compiled {
    const { desc: t } = this.tableFor(s.table, s.pos, view);
    if (t.kind === 'ts') return this.compileTsInsert(s, t, planner, view);
    if (t.kind !== 'table') throw new PgError(SqlState.WrongObjectType, `cannot insert into ${t.kind} "${t.name}"`);
    checkNotMatview(t);
    const b = planner.binder;
    const visible = t.columns.filter((c) => !c.hidden);
    const targetNames = s.columns ?? visible.map((c) => c.name);
    const targets = targetNames.map((n) => {
      const i = t.columns.findIndex((c) => c.name === n && !c.hidden);
      if (i < 0) throw new PgError(SqlState.UndefinedColumn, `column "${n}" of relation "${t.name}" does not exist`);
      return i;
    });
    if (new Set(targets).size !== targets.length) throw new PgError(SqlState.DuplicateColumn, 'column specified more than once');
    const writer = this.writerFor(t, planner, view);
    // Source rows.
    const { source, valueRows } = s.source === 'default' ? { source: null, valueRows: null } : insertSource(s.source, targets.length, s.columns !== null, (i) => (t.columns[targets[i] as number] as ColumnDesc).type, planner);
    const scopeCols: ScopeCol[] = t.columns.map((c) => ({ name: c.name, rel: s.alias ?? t.name, type: c.type, hidden: c.hidden }));
    const ret = this.returning(s.returning, new Scope(scopeCols), planner);
    // ON CONFLICT
    let conflictCols: number[] | null = null;
    let doUpdate: { sets: { idx: number; ev: Ev; type: SqlType }[]; where: Ev | null } | null = null;
    const oc = s.onConflict;
    if (oc) {
      if (oc.columns) conflictCols = oc.columns.map((n) => {
        const i = t.columns.findIndex((c) => c.name === n);
        if (i < 0) throw new PgError(SqlState.UndefinedColumn, `column "${n}" does not exist`);
        return i;
      });
      // The conflict target must name the columns of a unique index exactly (PostgreSQL's infer_arbiter_indexes).
      const target = conflictCols ? new Set(conflictCols) : null;
      if (target && !allIndexes(t).some((ix) => ix.unique && ix.columnIds.length === target.size && ix.columnIds.every((id) => target.has(t.columns.findIndex((c) => c.id === id))))) {
        throw new PgError(SqlState.InvalidColumnReference, 'there is no unique or exclusion constraint matching the ON CONFLICT specification');
      }
      if (oc.action !== 'nothing') {
        if (!oc.columns) throw new PgError(SqlState.SyntaxError, 'ON CONFLICT DO UPDATE requires inference specification or constraint name', { hint: 'For example, ON CONFLICT (column_name).' });
        const ucols: ScopeCol[] = [...scopeCols, ...t.columns.map((c) => ({ name: c.name, rel: 'excluded', type: c.type, hidden: c.hidden }))];
        const uscope = new Scope(ucols);
        const sets = oc.action.sets.map((st) => {
          const idx = t.columns.findIndex((c) => c.name === st.column && !c.hidden);
          if (idx < 0) throw new PgError(SqlState.UndefinedColumn, `column "${st.column}" of relation "${t.name}" does not exist`);
          let e = b.bind(st.value, uscope);
          if (e.type.kind === 'unknown') e = b.coerce(e, (t.columns[idx] as ColumnDesc).type);
          return { idx, ev: e.ev, type: e.type };
        });
        const where = oc.action.where ? b.coerceBool(b.bind(oc.action.where, uscope), 'WHERE').ev : null;
        doUpdate = { sets, where };
      }
    }
    const upsert = s.upsert;
    const n = t.columns.length;
    const self = this;
    if (b.volatileReads.has(t.id)) throw volatileReaderOfTarget('INSERT', t.name);
    return {
      columns: ret?.cols ?? null,
      writes: true,
      tag: (c) => `INSERT 0 ${c}`,
      start(ctx) {
        const state = { count: 0 };
        // Primary keys of rows this statement wrote (ON CONFLICT DO UPDATE may touch each once).
        const touched = new Set<string>();
        const pkKey = (r: Row) => writer.codec.pkPositions.map((p) => hashKey(r[p] as Value, (t.columns[p] as ColumnDesc).type)).join('\u0001');
        const batches = (function* (): Batches {
          const build = (vals: Value[], types: SqlType[], explicitDefault: boolean[]): Row => {
            const row: Row = new Array<Value>(n).fill(null);
            const given = new Array<boolean>(n).fill(false);
            targets.forEach((ti, i) => {
              if (i >= vals.length || explicitDefault[i]) return;
              const col = t.columns[ti] as ColumnDesc;
              row[ti] = assignValue(vals[i] as Value, types[i] as SqlType, col, ctx);
              given[ti] = true;
            });
            for (let i = 0; i < n; i++) {
              if (given[i]) continue;
              const d = writer.defaults[i];
              if (d) row[i] = d([], ctx);
            }
            return row;
          };
          const out: Row[] = [];
          const handle = (row: Row) => {
            if (upsert) {
              checkRow(writer, row, ctx);
              const c = findConflict(writer, row, ctx, writer.codec.pkPositions);
              if (c) {
                const merged = c.existing.slice();
                for (const ti of targets) merged[ti] = row[ti] as Value;
                updateRow(writer, c.existing, merged, ctx);
                row = merged;
              } else insertRow(writer, row, ctx);
              state.count++;
              if (ret) out.push(ret.evs.map((e) => e(row, ctx)));
              return;
            }
            checkRow(writer, row, ctx);
            // The arbiter index (the conflict target) is checked first, as PostgreSQL's speculative insertion does.
            const c = (conflictCols ? findConflict(writer, row, ctx, conflictCols) : null) ?? findConflict(writer, row, ctx, null);
            if (c) {
              const matchesTarget = !conflictCols || (c.cols.length === conflictCols.length && c.cols.every((x) => (conflictCols as number[]).includes(x)));
              if (!oc || !matchesTarget) throw uniqueViolation(writer, c.index, c.cols, row, ctx);
              if (!doUpdate) return; // DO NOTHING
              // A row this statement already inserted or updated may not be updated again (21000, as PostgreSQL).
              if (touched.has(pkKey(c.existing))) {
                throw new PgError(SqlState.CardinalityViolation, 'ON CONFLICT DO UPDATE command cannot affect row a second time', { hint: 'Ensure that no rows proposed for insertion within the same command have duplicate constrained values.' });
              }
              const comb = [...c.existing, ...row];
              if (doUpdate.where && doUpdate.where(comb, ctx) !== true) return;
              const nr = c.existing.slice();
              for (const st of doUpdate.sets) nr[st.idx] = assignValue(st.ev(comb, ctx), st.type, t.columns[st.idx] as ColumnDesc, ctx);
              updateRow(writer, c.existing, nr, ctx);
              touched.add(pkKey(nr));
              state.count++;
              if (ret) out.push(ret.evs.map((e) => e(nr, ctx)));
              return;
            }
            insertRow(writer, row, ctx);
            if (doUpdate) touched.add(pkKey(row));
            state.count++;
            if (ret) out.push(ret.evs.map((e) => e(row, ctx)));
          };
          // Rows are checked in chunks: the keys their checks read are fetched from the
          // leaseholder in batched requests first (the driver waits), then each row is handled.
          const handleAll = function* (rows: Row[]): Generator<Row[]> {
            if (rows.length > 0 && canWait(ctx)) yield waitFor(prefetchChecks(writer, rows, ctx));
            for (const r of rows) handle(r);
          };
          // Rows are built under evalSuspendable: an expression may wait (nextval) and run again.
          if (s.source === 'default') yield* handleAll([yield* evalSuspendable(ctx, () => build([], [], []))]);
          else if (valueRows) {
            let chunk: Row[] = [];
            for (const vr of valueRows) {
              chunk.push(yield* evalSuspendable(ctx, () => build(vr.evs.map((e) => (e ? e([], ctx) : null)), vr.types, vr.evs.map((e) => e === null))));
              if (chunk.length >= checkChunkRows) {
                yield* handleAll(chunk);
                chunk = [];
                if (out.length >= 1024) yield out.splice(0);
                yield [];
              }
            }
            yield* handleAll(chunk);
          } else if (source) {
            const types = source.columns.map((c) => c.type);
            for (const batch of (source as Operator).exec(ctx)) {
              if (batch.length === 0) {
                yield batch;
                continue;
              }
              const rows: Row[] = [];
              for (const r of batch) rows.push(yield* evalSuspendable(ctx, () => build(r, types, r.map((v) => (v as unknown) === DEFAULT_MARKER))));
              yield* handleAll(rows);
              if (out.length >= 1024) yield out.splice(0);
            }
          }
          void self;
          if (out.length > 0) yield out;
        })();
        return { batches, state };
      },
    };
  }

  /**
   * INSERT into a time-series table: values are checked and converted as for any table (types,
   * lengths, NOT NULL of the timestamp, NOT NULL columns and primary tags), collected, and proposed
   * as TS write commands when the statement completes.
   */
  private compileTsInsert(s: Statement & { kind: 'insert' }, t: TableDesc, planner: QueryPlanner, view: CatalogView): Compiled {
    const sender = this.tsSender;
    if (!sender) throw tsNotImplemented(t, 'INSERT');
    if ((s.returning && s.returning.length > 0) || s.onConflict || s.upsert) throw new PgError(SqlState.FeatureNotSupported, `RETURNING, ON CONFLICT and UPSERT are not supported on time-series table "${t.name}"`);
    if (s.source === 'default') throw new PgError(SqlState.NotNullViolation, `null value in column "${t.columns[0]?.name}" of relation "${t.name}" violates not-null constraint`);
    const all = tsTargets(t);
    const targetNames = s.columns ?? all.map((c) => c.name);
    const targets = targetNames.map((n) => {
      const i = all.findIndex((c) => c.name === n);
      if (i < 0) throw new PgError(SqlState.UndefinedColumn, `column "${n}" of relation "${t.name}" does not exist`);
      return i;
    });
    if (new Set(targets).size !== targets.length) throw new PgError(SqlState.DuplicateColumn, 'column specified more than once');
    const { source, valueRows } = insertSource(s.source, targets.length, s.columns !== null, (i) => (all[targets[i] as number] as { type: SqlType }).type, planner);
    const db = view.databaseById(t.parentId);
    const colDescs = tsColumnDescs(t);
    let pending: TsValue[][] = [];
    const tsBinder = tsInsertBinder(s, t, db, colDescs, targets, planner.binder.env.paramTypes) ?? undefined;
    let prebuilt: Buffer[] = [];
    return {
      columns: null,
      writes: true,
      tag: (c) => `INSERT 0 ${c}`,
      tsBinder,
      startBound(bound, ctx) {
        const settings = { storage: tsSchemaOf(t, db, (n) => ctx.clusterSetting(n)).storage, rejectDuplicates: ctx.clusterSetting('ts.dedup.rule') === 'reject' };
        if (tsBinder) tsBinder.settings = settings; // the next Bind builds with them
        if (!sameTsWriteSettings(bound.settings, settings)) return null;
        pending = [];
        prebuilt = bound.payloads;
        return { batches: (function* (): Batches {})(), state: { count: bound.rows } };
      },
      start(ctx) {
        const state = { count: 0 };
        pending = [];
        prebuilt = [];
        const add = (vals: Value[], types: SqlType[]) => {
          const row: TsValue[] = new Array<TsValue>(all.length).fill(null);
          targets.forEach((ti, i) => {
            if (i >= vals.length) return;
            const cd = colDescs[ti] as ColumnDesc;
            row[ti] = toTsValue(assignValue(vals[i] as Value, types[i] as SqlType, cd, ctx), cd.type, cd.name);
          });
          checkTsRow(t, colDescs, row);
          pending.push(row);
          state.count++;
        };
        const batches = (function* (): Batches {
          if (valueRows) {
            for (const vr of valueRows) {
              add(vr.evs.map((e) => (e ? e([], ctx) : null)), vr.types);
              if (state.count % yieldEveryRows === 0) yield [];
            }
          } else if (source) {
            const types = source.columns.map((c) => c.type);
            for (const batch of source.exec(ctx)) {
              for (const r of batch) add(r, types);
              if (batch.length === 0) yield batch;
            }
          }
        })();
        return { batches, state };
      },
      async finish(ctx) {
        const payloads = prebuilt;
        prebuilt = [];
        for (const payload of payloads) await sender.proposeTs(t.id, payload, tsFreeBytesMin(ctx));
        const rows = pending;
        pending = [];
        if (rows.length === 0) return;
        await proposeTsRows(sender, t, db, rows, ctx);
      },
    };
  }

  /** Scans the target table (narrowed by the WHERE clause's index spans) and filters. */
  private targetRows(t: TableDesc, pred: BoundExpr | null): Operator {
    const codec = tableCodec(t);
    const choice = chooseIndex(codec, pred);
    const cols = t.columns.map((c) => ({ name: c.name, type: c.type }));
    const scan = new TableScan(cols, codec, choice.index, choice.spans, choice.describe);
    return pred ? new Filter(scan, pred.ev) : scan;
  }

  private compileUpdate(s: Statement & { kind: 'update' }, planner: QueryPlanner, view: CatalogView): Compiled {
    const { desc: t, schema, db } = this.tableFor(s.table, s.pos, view);
    if (t.kind === 'ts') return this.compileTsUpdate(s, t, planner, schema, db);
    if (t.kind !== 'table') throw new PgError(SqlState.WrongObjectType, `cannot update ${t.kind} "${t.name}"`);
    checkNotMatview(t);
    const b = planner.binder;
    const rel = s.alias ?? t.name;
    const tcols: ScopeCol[] = t.columns.map((c) => ({ name: c.name, rel, schema, db, type: c.type, hidden: c.hidden }));
    let fromOp: Operator | null = null;
    let scope = new Scope(tcols);
    if (s.from.length > 0) {
      const f = planner.planFrom(s.from, null, rel);
      fromOp = f.op;
      scope = new Scope([...tcols, ...f.scope.cols]);
    }
    b.noAggClause = 'WHERE';
    const pred = s.where ? b.coerceBool(b.bind(s.where, scope), 'WHERE') : null;
    b.noAggClause = null;
    const sets = s.sets.map((st) => {
      const idx = t.columns.findIndex((c) => c.name === st.column && !c.hidden);
      if (idx < 0) throw new PgError(SqlState.UndefinedColumn, `column "${st.column}" of relation "${t.name}" does not exist`);
      const col = t.columns[idx] as ColumnDesc;
      if (st.value.kind === 'default') {
        const d = col.default ? b.coerce(b.bind(parseExpression(col.default), new Scope([])), col.type, true) : lit(null, col.type);
        return { idx, ev: d.ev, type: d.type };
      }
      let e = b.bind(st.value, scope);
      if (e.type.kind === 'unknown') e = b.coerce(e, col.type);
      return { idx, ev: e.ev, type: e.type };
    });
    const writer = this.writerFor(t, planner, view);
    const ret = this.returning(s.returning, scope, planner);
    const n = t.columns.length;
    const tablePred = fromOp ? null : pred;
    const source = fromOp ? null : this.targetRows(t, tablePred);
    const fullScan = fromOp ? this.targetRows(t, null) : null;
    // A VOLATILE SQL function reading the target sees the rows updated before its own (as in
    // PostgreSQL): evaluate and write one row at a time then; a STABLE one sees none of them:
    // every new row is computed before the first is written (plan/binder.ts volatileReads).
    const chunkRows = b.volatileReads.has(t.id) ? 1 : b.stableReads.has(t.id) ? Infinity : checkChunkRows;
    const codec = tableCodec(t);
    return {
      columns: ret?.cols ?? null,
      writes: true,
      tag: (c) => `UPDATE ${c}`,
      lockKeys: source ? lockKeysOf(source, codec) : undefined,
      start(ctx) {
        const state = { count: 0 };
        const batches = (function* (): Batches {
          // Read every target row first, then write (no row is updated twice).
          const targets = source ? yield* drain(source, ctx) : yield* joinTargets(fullScan as Operator, fromOp as Operator, pred, ctx);
          const out: Row[] = [];
          for (let at = 0; at < targets.length; at += chunkRows) {
            const chunk = targets.slice(at, at + chunkRows);
            const olds = chunk.map((full) => full.slice(0, n));
            const news: Row[] = [];
            for (let i = 0; i < chunk.length; i++) {
              const full = chunk[i] as Row;
              news.push(
                yield* evalSuspendable(ctx, () => {
                  const nr = (olds[i] as Row).slice();
                  for (const st of sets) nr[st.idx] = assignValue(st.ev(full, ctx), st.type, t.columns[st.idx] as ColumnDesc, ctx);
                  return nr;
                }),
              );
            }
            // The keys the new versions' checks read, fetched from the leaseholder first.
            if (canWait(ctx)) yield waitFor(prefetchChecks(writer, news, ctx, olds));
            chunk.forEach((full, i) => {
              const nr = news[i] as Row;
              updateRow(writer, olds[i] as Row, nr, ctx);
              state.count++;
              if (ret) out.push(ret.evs.map((e) => e(nr.concat(full.slice(n)), ctx)));
            });
            if (out.length >= 1024) yield out.splice(0);
            yield [];
          }
          if (out.length > 0) yield out;
        })();
        return { batches, state };
      },
    };
  }

  private compileDelete(s: Statement & { kind: 'delete' }, planner: QueryPlanner, view: CatalogView): Compiled {
    const { desc: t, schema, db } = this.tableFor(s.table, s.pos, view);
    if (t.kind === 'ts') return this.compileTsDelete(s, t, planner, schema, db);
    if (t.kind !== 'table') throw new PgError(SqlState.WrongObjectType, `cannot delete from ${t.kind} "${t.name}"`);
    checkNotMatview(t);
    const b = planner.binder;
    const rel = s.alias ?? t.name;
    const tcols: ScopeCol[] = t.columns.map((c) => ({ name: c.name, rel, schema, db, type: c.type, hidden: c.hidden }));
    let usingOp: Operator | null = null;
    let scope = new Scope(tcols);
    if (s.using.length > 0) {
      const f = planner.planFrom(s.using, null, rel);
      usingOp = f.op;
      scope = new Scope([...tcols, ...f.scope.cols]);
    }
    const pred = s.where ? b.coerceBool(b.bind(s.where, scope), 'WHERE') : null;
    const writer = this.writerFor(t, planner, view);
    const ret = this.returning(s.returning, scope, planner);
    const n = t.columns.length;
    const source = usingOp ? this.targetRows(t, null) : this.targetRows(t, pred);
    const codec = tableCodec(t);
    if (planner.binder.volatileReads.has(t.id)) throw volatileReaderOfTarget('DELETE', t.name);
    return {
      columns: ret?.cols ?? null,
      writes: true,
      tag: (c) => `DELETE ${c}`,
      lockKeys: usingOp ? undefined : lockKeysOf(source, codec),
      start(ctx) {
        const state = { count: 0 };
        const batches = (function* (): Batches {
          const targets = usingOp ? yield* joinTargets(source, usingOp, pred, ctx) : yield* drain(source, ctx);
          const out: Row[] = [];
          for (const full of targets) {
            deleteRow(writer, full.slice(0, n), ctx);
            state.count++;
            if (ret) out.push(ret.evs.map((e) => e(full, ctx)));
            if (out.length >= 1024) yield out.splice(0);
            if (state.count % yieldEveryRows === 0) yield [];
          }
          if (out.length > 0) yield out;
        })();
        return { batches, state };
      },
    };
  }

  /**
   * UPDATE on a time-series table (KWDB): only non-primary tags, set to constants, for devices
   * named by = / IN on every primary tag. One command through the log; the count is the number
   * of existing devices updated.
   */
  private compileTsUpdate(s: Statement & { kind: 'update' }, t: TableDesc, planner: QueryPlanner, schema: string, db: string): Compiled {
    const sender = this.tsSender;
    const info = t.ts;
    if (!sender || !info) throw tsNotImplemented(t, 'UPDATE');
    if (s.from.length > 0 || (s.returning && s.returning.length > 0)) throw new PgError(SqlState.FeatureNotSupported, `FROM and RETURNING are not supported on time-series table "${t.name}"`);
    const b = planner.binder;
    const changes = s.sets.map((st) => {
      const pos = info.tags.findIndex((g) => g.name === st.column);
      if (pos < 0) {
        if (t.columns.some((c) => c.name === st.column)) throw new PgError(SqlState.FeatureNotSupported, `only tags can be updated in time-series table "${t.name}"; "${st.column}" is a data column`);
        throw new PgError(SqlState.UndefinedColumn, `column "${st.column}" of relation "${t.name}" does not exist`);
      }
      if (info.primaryTags.includes(st.column)) throw new PgError(SqlState.FeatureNotSupported, `primary tag "${st.column}" cannot be updated`);
      const tag = info.tags[pos] as { name: string; type: SqlType; nullable: boolean };
      let e = b.bind(st.value, new Scope([]));
      if (e.type.kind === 'unknown') e = b.coerce(e, tag.type, false);
      const col: ColumnDesc = { id: pos + 1, name: tag.name, type: tag.type, nullable: tag.nullable, default: null, hidden: false };
      return { pos, ev: e.ev, type: e.type, col };
    });
    const columns = tsScanColumns(t);
    const rel = s.alias ?? t.name;
    const scope = new Scope(columns.map((c, i) => ({ ...c, rel, schema, db, tsTime: i === 0 })));
    const scan = new TsScan(columns, t, noBounds(t));
    const pred = s.where ? b.coerceBool(b.bind(s.where, scope), 'WHERE') : null;
    const bounds = pred ? tsDeleteBounds(scan, pred) : null;
    if (!bounds || bounds.lower.length + bounds.upper.length > 0 || !bounds.tagValues.every((x) => x !== null)) {
      throw new PgError(SqlState.FeatureNotSupported, `UPDATE of tags in time-series table "${t.name}" needs = / IN on every primary tag (${info.primaryTags.join(', ')}) and nothing else in WHERE`);
    }
    let payload: Buffer | null = null;
    return {
      columns: null,
      writes: true,
      tag: (c) => `UPDATE ${c}`,
      start(ctx) {
        const state = { count: 0 };
        const batches = (function* (): Batches {
          const combos = primaryCombos(t, bounds, ctx);
          // The devices that exist among them (the row count): their newest rows, no column decoded.
          const seen = new Set<string>();
          for (const b of new TsScan(tsScanColumns(t), t, bounds, true, new Set()).rawBatches(ctx)) {
            if (Array.isArray(b)) yield b;
            else seen.add(JSON.stringify(b.tags, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
          }
          const updates: [number, TsValue][] = changes.map((ch) => {
            const v = toTsValue(assignValue(ch.ev([], ctx), ch.type, ch.col, ctx), ch.col.type, ch.col.name);
            if (v === null && !ch.col.nullable) throw new PgError(SqlState.NotNullViolation, `null value in column "${ch.col.name}" of relation "${t.name}" violates not-null constraint`);
            return [ch.pos, v];
          });
          state.count = seen.size;
          payload = seen.size > 0 ? encodeTsTagUpdate({ tableId: t.id, schema: tsSchemaOf(t, undefined), tagCombos: combos, changes: updates }) : null;
          yield []; // no result rows; the command is proposed in finish()
        })();
        return { batches, state };
      },
      async finish() {
        if (payload) await sender.proposeTsTagUpdate(t.id, payload);
        payload = null;
      },
    };
  }

  /**
   * DELETE on a time-series table (KWDB): a time range and/or primary-tag values, nothing else.
   * The matching rows are counted, then one DELETE command goes through the log; like TS writes
   * it is not transactional.
   */
  private compileTsDelete(s: Statement & { kind: 'delete' }, t: TableDesc, planner: QueryPlanner, schema: string, db: string): Compiled {
    const sender = this.tsSender;
    if (!sender) throw tsNotImplemented(t, 'DELETE');
    if (s.using.length > 0 || (s.returning && s.returning.length > 0)) throw new PgError(SqlState.FeatureNotSupported, `USING and RETURNING are not supported on time-series table "${t.name}"`);
    const columns = tsScanColumns(t);
    const rel = s.alias ?? t.name;
    const scope = new Scope(columns.map((c, i) => ({ ...c, rel, schema, db, tsTime: i === 0 })));
    const scan = new TsScan(columns, t, noBounds(t));
    const pred = s.where ? planner.binder.coerceBool(planner.binder.bind(s.where, scope), 'WHERE') : null;
    const bounds = pred ? tsDeleteBounds(scan, pred) : noBounds(t);
    const counter = scan.with({ bounds, needed: new Set() });
    return {
      columns: null,
      writes: true,
      tag: (c) => `DELETE ${c}`,
      start(ctx) {
        const state = { count: 0 };
        const batches = (function* (): Batches {
          for (const y of counter.visitRows(ctx, () => state.count++)) yield y;
        })();
        return { batches, state };
      },
      async finish(ctx) {
        const payload = tsDeletePayload(t, undefined, bounds, ctx);
        if (payload) await sender.proposeTsDelete(t.id, payload);
      },
    };
  }

  // ---- COPY (copy_statements.ts) -------------------------------------------------------------

  /** What COPY needs of the session. */
  private get copyHost(): CopyHost {
    const self = this;
    return {
      get view() {
        return self.view;
      },
      get database() {
        return self.database;
      },
      get explicit() {
        return self.explicit;
      },
      get txn() {
        return self.txn;
      },
      get tsSender() {
        return self.tsSender;
      },
      tableFor: (parts, pos, view) => this.tableFor(parts, pos, view),
      checkPrivileges: (reqs) => this.checkPrivileges(reqs),
      collecting: (view, f) => this.collecting(view, f),
      makePlanner: (types, view) => this.makePlanner(types, view),
      writerFor: (t, planner, view) => this.writerFor(t, planner, view),
      beginTxn: () => this.beginTxn(),
      finishImplicit: () => this.finishImplicit(),
      execCtx: (params) => this.execCtx(params),
      onError: (e) => this.onError(e),
    };
  }

  // ---- utility statements --------------------------------------------------------------------

  private ddlEnv(txn: Txn, notices: string[]): DdlEnv {
    const view = this.engine.catalog.view(txn);
    return {
      txn,
      catalog: this.engine.catalog,
      view,
      database: this.database,
      searchPath: this.searchPath(),
      target: (parts) => this.createTarget(parts, view),
      findTable: (parts) => {
        const r = this.resolveTable(parts, 0, view);
        return r.kind === 'table' ? r.desc : undefined;
      },
      evalDefault: (text, col) => {
        const planner = this.makePlanner([], view);
        const e = planner.binder.coerce(planner.binder.bind(parseExpression(text), new Scope([])), col.type, true);
        return e.ev([], this.execCtx([]));
      },
      checkDomain: (type, v) => {
        const check = domainCheck(this.makePlanner([], this.engine.catalog.view(txn)).binder, type);
        if (check) check(v, this.execCtx([]));
      },
      validateExpr: (text, table, kind) => {
        const planner = this.makePlanner([], this.engine.catalog.view(txn));
        const scope = kind === 'check' ? new Scope(table.columns.map((c) => ({ name: c.name, rel: table.name, type: c.type }))) : new Scope([]);
        const e = planner.binder.bind(parseExpression(text), scope);
        if (kind === 'check') planner.binder.coerceBool(e, 'CHECK');
      },
      execCtx: () => this.execCtx([]),
      notice: (m) => notices.push(m),
    };
  }

  /** Runs a utility statement (inside the session's transaction, or an implicit one). */
  private async runUtility(stmt: Statement, text: string, params: Value[], sink: ExecuteSink, paramTypes: SqlType[] = []): Promise<{ rows: Row[]; tag: string }> {
    switch (stmt.kind) {
      case 'empty':
      case 'comment':
        return { rows: [], tag: stmt.kind === 'comment' ? (stmt.tag ?? 'COMMENT') : '' };
      case 'begin':
        if (this.implicitBlock) {
          // BEGIN inside a multi-statement string: the implicit block becomes this block, with
          // what ran before it (PostgreSQL's TBLOCK_IMPLICIT_INPROGRESS → TBLOCK_BEGIN). Its modes
          // are checked as SET TRANSACTION's; if they fail, the string's block is rolled back.
          this.setTxnModes(stmt);
          this.implicitBlock = false;
          return { rows: [], tag: stmt.start ? 'START TRANSACTION' : 'BEGIN' };
        }
        if (this.explicit) {
          sink.notice({ message: 'there is already a transaction in progress', code: SqlState.ActiveSqlTransaction, severity: 'WARNING' });
          return { rows: [], tag: stmt.start ? 'START TRANSACTION' : 'BEGIN' };
        }
        await this.beginTxn();
        this.explicit = true;
        this.failed = false;
        this.savepoints = [];
        this.startTxnModes(stmt);
        return { rows: [], tag: stmt.start ? 'START TRANSACTION' : 'BEGIN' };
      case 'commit': {
        if (stmt.chain && (!this.explicit || this.implicitBlock)) throw new PgError(SqlState.NoActiveSqlTransaction, 'COMMIT AND CHAIN can only be used in transaction blocks');
        // COMMIT ends the implicit block of a multi-statement string too, warning as PostgreSQL.
        if (!this.explicit || this.implicitBlock) sink.notice(warnNoTxn('there is no transaction in progress'));
        if (!this.explicit) return { rows: [], tag: 'COMMIT' };
        const modes = this.txnModes;
        const tag = await this.commitBlock(sink);
        if (stmt.chain && modes) await this.chainBlock(modes);
        return { rows: [], tag };
      }
      case 'rollback': {
        if (stmt.savepoint) {
          if (!this.explicit || this.implicitBlock) throw new PgError(SqlState.NoActiveSqlTransaction, 'ROLLBACK TO SAVEPOINT can only be used in transaction blocks');
          const i = this.savepoints.map((s) => s.name).lastIndexOf(stmt.savepoint);
          if (i < 0) throw new PgError(SqlState.InvalidSavepointSpecification, `savepoint "${stmt.savepoint}" does not exist`);
          const txn = this.txn;
          if (!txn || !txn.isOpen()) {
            // Aborted by a serialization failure or deadlock (onError): no savepoint can save it.
            throw new PgError(SqlState.SerializationFailure, 'restart transaction: the transaction was aborted by a serialization failure and cannot continue from a savepoint', {
              hint: 'roll back the whole transaction and retry it',
            });
          }
          const sp = this.savepoints[i] as SavepointState;
          this.savepoints.length = i + 1;
          txn.restoreWrites(sp.writes);
          this.pendingNotify.rollbackTo(sp.notify);
          for (const name of new Set([...this.settings.keys(), ...sp.settings.keys()])) this.rawSetSetting(name, sp.settings.get(name));
          this.setInTxn = new Map(sp.setInTxn);
          if (this.txnModes) this.txnModes.readOnly = sp.readOnly;
          this.syncTxnSettings();
          this.failed = false;
          return { rows: [], tag: 'ROLLBACK' };
        }
        if (stmt.chain && (!this.explicit || this.implicitBlock)) throw new PgError(SqlState.NoActiveSqlTransaction, 'ROLLBACK AND CHAIN can only be used in transaction blocks');
        if (!this.explicit || this.implicitBlock) sink.notice(warnNoTxn('there is no transaction in progress'));
        const modes = this.txnModes;
        this.endExplicit();
        if (stmt.chain && modes) await this.chainBlock(modes);
        return { rows: [], tag: 'ROLLBACK' };
      }
      case 'listen':
      case 'unlisten':
        this.pendingNotify.actions.push({ listen: stmt.kind === 'listen', channel: stmt.channel === null ? null : this.channelName(stmt.channel, sink) });
        if (!this.explicit) await this.commitWithNotifications(null, sink);
        return { rows: [], tag: stmt.kind.toUpperCase() };
      case 'notify':
        this.pendingNotify.add(checkNotification(this.channelName(stmt.channel, sink), stmt.payload));
        if (!this.explicit) await this.commitWithNotifications(null, sink);
        return { rows: [], tag: 'NOTIFY' };
      case 'savepoint':
        if (!this.explicit || this.implicitBlock) throw new PgError(SqlState.NoActiveSqlTransaction, 'SAVEPOINT can only be used in transaction blocks');
        this.savepoints.push({ name: stmt.name, writes: (this.txn as Txn).snapshotWrites(), settings: new Map(this.settings), setInTxn: new Map(this.setInTxn), notify: this.pendingNotify.mark(), readOnly: this.readOnly });
        return { rows: [], tag: 'SAVEPOINT' };
      case 'release': {
        if (!this.explicit || this.implicitBlock) throw new PgError(SqlState.NoActiveSqlTransaction, 'RELEASE SAVEPOINT can only be used in transaction blocks');
        const i = this.savepoints.map((s) => s.name).lastIndexOf(stmt.name);
        if (i < 0) throw new PgError(SqlState.InvalidSavepointSpecification, `savepoint "${stmt.name}" does not exist`);
        // Ending a subtransaction restores the read-only mode it began with, also on RELEASE
        // (PostgreSQL's prevXactReadOnly).
        if (this.txnModes) this.txnModes.readOnly = (this.savepoints[i] as SavepointState).readOnly;
        this.syncTxnSettings();
        this.savepoints.length = i;
        return { rows: [], tag: 'RELEASE' };
      }
      case 'declareCursor':
        await this.declareCursor(stmt, params, paramTypes);
        return { rows: [], tag: 'DECLARE CURSOR' };
      case 'fetch': {
        const c = this.cursors.get(stmt.name);
        if (!c) throw new PgError(SqlState.InvalidCursorName, `cursor "${stmt.name}" does not exist`);
        const r = await this.fetchCursor(c, stmt);
        return { rows: r.rows, tag: `${stmt.move ? 'MOVE' : 'FETCH'} ${r.count}` };
      }
      case 'closeCursor':
        if (stmt.name === null) for (const c of this.cursors.values()) this.dropCursor(c);
        else {
          const c = this.cursors.get(stmt.name);
          if (!c) throw new PgError(SqlState.InvalidCursorName, `cursor "${stmt.name}" does not exist`);
          this.dropCursor(c);
        }
        return { rows: [], tag: stmt.name === null ? 'CLOSE CURSOR ALL' : 'CLOSE CURSOR' };
      case 'prepareTransaction': {
        // Two-phase commit is disabled (max_prepared_transactions = 0), and PostgreSQL's failed
        // PREPARE TRANSACTION ends the transaction: it is rolled back and the session is idle, so
        // a pooled connection is never left inside a block nobody will end.
        if (!this.explicit || this.implicitBlock) sink.notice(warnNoTxn('there is no transaction in progress'));
        if (!this.explicit) return { rows: [], tag: 'ROLLBACK' };
        const failed = this.failed;
        this.endExplicit();
        if (failed) return { rows: [], tag: 'ROLLBACK' };
        throw new PgError(SqlState.ObjectNotInPrerequisiteState, 'prepared transactions are disabled', { hint: 'Set max_prepared_transactions to a nonzero value.' });
      }
      case 'finishPrepared':
        throw new PgError(SqlState.UndefinedObject, `prepared transaction with identifier "${stmt.gid}" does not exist`);
      case 'set':
      {
        // search_path is a list of names (PostgreSQL's GUC_LIST_QUOTE): each SET argument is one
        // name, quoted where needed, so SET search_path = 'a b' names the schema "a b".
        const text = stmt.value === 'default' ? 'default' : stmt.name.toLowerCase() === 'search_path' ? stmt.value.map((v) => quoteIdent(String(v))).join(', ') : stmt.value.map(String).join(', ');
        if (stmt.local) this.applyLocalSetting(stmt.name, text, sink);
        else if (text === 'default') this.resetSetting(stmt.name);
        else this.applySetting(stmt.name, text);
      }
        return { rows: [], tag: 'SET' };
      case 'setTransaction':
        if (stmt.session) {
          if (stmt.isolation !== null) this.applySetting('default_transaction_isolation', stmt.isolation);
          if (stmt.readOnly !== null) this.applySetting('default_transaction_read_only', stmt.readOnly ? 'on' : 'off');
          if (stmt.deferrable != null) this.applySetting('default_transaction_deferrable', stmt.deferrable ? 'on' : 'off');
        } else if (!this.explicit) sink.notice(warnNoTxn('SET TRANSACTION can only be used in transaction blocks'));
        else this.setTxnModes(stmt);
        return { rows: [], tag: 'SET' };
      case 'reset':
        if (stmt.name === 'all') {
          for (const k of [...defaultSettings.map(([k]) => k), 'work_mem']) if (!serverOnlySettings.has(k)) this.resetSetting(k);
        } else this.resetSetting(stmt.name);
        return { rows: [], tag: 'RESET' };
      case 'use':
        this.applySetting('database', stmt.name);
        return { rows: [], tag: 'SET' };
      case 'show':
        return this.show(stmt.name);
      case 'discard': {
        const what = stmt.what.toLowerCase();
        if (!['all', 'plans', 'sequences', 'temp', 'temporary'].includes(what)) throw new PgError(SqlState.SyntaxError, `syntax error at or near "${stmt.what}"`);
        if (what === 'all' || what === 'plans') this.sqlPrepared.clear();
        if (what === 'all') for (const c of this.cursors.values()) this.dropCursor(c);
        if (what === 'all' || what === 'sequences') this.currvals.clear();
        if (what === 'all') for (const k of [...defaultSettings.map(([k]) => k), 'work_mem']) if (!serverOnlySettings.has(k)) this.resetSetting(k);
        if (what === 'all' || what === 'temp' || what === 'temporary') await this.dropOwnTempSchemas();
        // DISCARD ALL includes UNLISTEN * (PostgreSQL's definition; never in a block, so at once).
        if (what === 'all') this.notifications.channels.clear();
        return { rows: [], tag: `DISCARD ${what === 'temporary' ? 'TEMP' : what.toUpperCase()}` };
      }
      case 'prepare': {
        if (this.sqlPrepared.has(stmt.name)) throw new PgError(SqlState.DuplicatePreparedStatement, `prepared statement "${stmt.name}" already exists`);
        const types = stmt.types.map(typeFromName);
        this.sqlPrepared.set(stmt.name, { ...this.analyze(stmt.stmt, stmt.text, types), preparedAtUs: Date.now() * 1000 });
        return { rows: [], tag: 'PREPARE' };
      }
      case 'deallocate':
        if (stmt.name === null) this.sqlPrepared.clear();
        else if (!this.sqlPrepared.delete(stmt.name)) throw new PgError(SqlState.InvalidSqlStatementName, `prepared statement "${stmt.name}" does not exist`);
        return { rows: [], tag: stmt.name === null ? 'DEALLOCATE ALL' : 'DEALLOCATE' };
      case 'execute': {
        const p = this.sqlPrepared.get(stmt.name);
        if (!p) throw new PgError(SqlState.InvalidSqlStatementName, `prepared statement "${stmt.name}" does not exist`);
        if (stmt.args.length !== p.paramTypes.length) {
          throw new PgError(SqlState.SyntaxError, `wrong number of parameters for prepared statement "${stmt.name}"`, { detail: `Expected ${p.paramTypes.length} parameters but got ${stmt.args.length}.` });
        }
        const planner = this.makePlanner([], this.view);
        const vals = stmt.args.map((a, i) => {
          const e = planner.binder.coerce(planner.binder.bind(a, new Scope([])), p.paramTypes[i] ?? T.text, true);
          return e.ev([], this.execCtx([]));
        });
        const portal = this.bind(p, vals);
        const rows: Row[] = [];
        const r = await this.execute(portal, 0, { row: (v) => rows.push(v), notice: sink.notice });
        return { rows, tag: r.tag ?? '' };
      }
      case 'explain':
        return this.explain(stmt);
      case 'showTables':
      case 'showDatabases':
      case 'showSchemas':
      case 'showColumns':
      case 'showCreate':
      case 'showIndexes':
      case 'showTags':
        return this.showObjects(stmt);
      case 'showClusterSetting':
        return this.showClusterSettings(stmt.name);
      case 'showZone': {
        const implicit = !this.txn;
        if (implicit) await this.beginTxn();
        try {
          return { rows: showZoneRows(this.txn as Txn, stmt.target, this.zoneEnv(this.view)), tag: 'SHOW' };
        } finally {
          if (implicit) await this.finishImplicit();
        }
      }
      case 'showRanges': {
        const view = this.view;
        const only = stmt.table ? [this.tableFor(stmt.table, stmt.pos, view).desc] : stmt.database !== null ? tablesOfDatabase(view, stmt.database) : null;
        return { rows: showRangesRows(this.engine.opts.ranges?.() ?? [], view, only), tag: 'SHOW' };
      }
      case 'compressTs': {
        const view = this.view;
        let tables: TableDesc[];
        if (stmt.table) {
          const { desc } = this.tableFor(stmt.table, stmt.pos, view);
          if (desc.kind !== 'ts') throw new PgError(SqlState.WrongObjectType, `"${desc.name}" is not a time-series table`);
          checkMaintenance(this.authView as AuthView, this.roleOid, desc);
          tables = [desc];
        } else {
          checkMaintenance(this.authView as AuthView, this.roleOid, null);
          const db = stmt.database === null ? null : view.database(stmt.database);
          if (stmt.database !== null && !db) throw new PgError(SqlState.InvalidCatalogName, `database "${stmt.database}" does not exist`);
          tables = view.allTables().filter((t) => t.kind === 'ts' && (!db || t.parentId === db.id));
        }
        await this.beginTxn();
        try {
          await this.engine.reorganize(tables, this.txn as Txn);
        } finally {
          await this.finishImplicit();
        }
        await this.tsSender?.tsReorganized(); // the rewrites run in worker threads; COMPRESS returns when they are in
        return { rows: [], tag: 'COMPRESS' };
      }
      case 'vacuumTs': {
        checkMaintenance(this.authView as AuthView, this.roleOid, null);
        await this.engine.runRetention();
        return { rows: [], tag: 'VACUUM' };
      }
      default:
        for (let attempt = 0; ; attempt++) {
          const implicit = !this.explicit;
          try {
            return await this.runDdl(stmt, text, sink);
          } catch (e) {
            // Schema changes read the catalog they change, so a concurrent one (another session's,
            // or an ended session's temp schema being dropped) fails them with 40001: outside a
            // block nothing was applied, so retry as autocommit queries are.
            const retryable = (e instanceof PgError && e.code === SqlState.SerializationFailure) || (e instanceof RetryableError && !(e instanceof AmbiguousResultError));
            if (!implicit || !retryable || attempt >= ddlRetriesMax) throw e;
          }
        }
    }
    void params;
  }

  /** SHOW CLUSTER SETTING name, or every setting with its type and description. */
  private async showClusterSettings(name: string | null): Promise<{ rows: Row[]; tag: string }> {
    const implicit = !this.txn;
    if (implicit) await this.beginTxn();
    try {
      const txn = this.txn as Txn;
      // The host-based rules describe the network: superusers only, as pg_hba_file_rules.
      const hidden = (n: string) => n.toLowerCase() === hbaSettingName && !(this.authView?.isSuperuser(this.roleOid) ?? true);
      if (name !== null) {
        if (hidden(name)) throw new PgError(SqlState.InsufficientPrivilege, `must be superuser to see ${hbaSettingName}`);
        return { rows: [[this.engine.clusterSetting(name, txn)]], tag: 'SHOW' };
      }
      return { rows: settingDefs.map((d) => [d.name, hidden(d.name) ? '********' : this.engine.clusterSetting(d.name, txn), 'string', d.description]), tag: 'SHOW' };
    } finally {
      if (implicit) await this.finishImplicit();
    }
  }

  /** Time-series tables whose data the running DDL statement drops after it commits. */
  private tsDrops: number[] = [];

  /** Schema changes of time-series tables the running DDL statement proposes after it commits. */
  private tsAlters: { tableId: number; payload: Buffer }[] = [];

  /**
   * Splits a new TS table into hash-point ranges (ts.ranges_per_table) before its descriptor
   * commits: whoever sees the table must find its ranges.
   */
  private async splitNewTsTable(t: TableDesc, txn: Txn): Promise<void> {
    const sender = this.tsSender;
    if (!sender || !t.ts) return;
    const setting = Number(this.engine.clusterSetting('ts.ranges_per_table', txn));
    const pieces = Math.min(setting > 0 ? setting : sender.tsRangesPerTableDefault, t.ts.hashNum);
    await sender.splitTsTable(t.id, t.ts.hashNum, pieces);
  }

  private dropTsData(t: TableDesc): void {
    this.tsDrops.push(t.id);
  }

  private async runDdl(stmt0: Statement, text: string, sink: ExecuteSink): Promise<{ rows: Row[]; tag: string }> {
    const implicit = !this.explicit;
    if (!this.txn) await this.beginTxn();
    const txn = this.txn as Txn;
    const notices: string[] = [];
    this.tsDrops = [];
    this.tsAlters = [];
    try {
      this.pendingOnCommit = null;
      const stmt = stmt0.kind === 'createTable' ? this.tempTableTarget(stmt0, txn) : stmt0;
      const env = this.ddlEnv(txn, notices);
      const { tag, rows } = await this.ddlChecked(stmt, text, env, sink);
      this.noteTempOnCommit(txn);
      for (const n of notices) sink.notice(n);
      if (this.tsDrops.length > 0 && !implicit) {
        throw new PgError(SqlState.ActiveSqlTransaction, `${stmt.kind === 'dropDatabase' ? 'DROP DATABASE' : 'DROP TABLE'} of time-series data cannot run inside a transaction block`);
      }
      if (this.tsAlters.length > 0 && !implicit) {
        throw new PgError(SqlState.ActiveSqlTransaction, 'ALTER TABLE ADD/DROP/ALTER TYPE of a time-series column or tag cannot run inside a transaction block');
      }
      if (implicit) {
        this.txn = null;
        this.txnTimestamp = 0;
        if (txn.isOpen()) await txn.commit();
      }
      // The descriptors are gone; now the data (through the log, so every replica drops it).
      for (const id of this.tsDrops) await this.tsSender?.proposeTsDrop(id);
      this.tsDrops = [];
      // The new schema is committed; now the engine's (through the log, so every replica changes).
      for (const a of this.tsAlters) await this.tsSender?.proposeTsAlter(a.tableId, a.payload);
      this.tsAlters = [];
      return { rows, tag };
    } catch (e) {
      this.onError(e);
      throw e;
    }
  }

  /**
   * A schema change or role statement with its privileges checked (auth/ddl_checks.ts): the
   * statement's own checks first, then what the queries it planned read (CREATE TABLE AS); the
   * objects it created are owned by the session user.
   */
  private async ddlChecked(stmt: Statement, text: string, env: DdlEnv, sink: ExecuteSink): Promise<{ tag: string; rows: Row[] }> {
    const store = this.engine.auth;
    const auth = await store.load(env.txn);
    this.authView = auth;
    const role = this.roleOid;
    if (stmt.kind === 'auth') {
      const r = await runAuthStatement(stmt.stmt, {
        txn: env.txn,
        store,
        auth,
        view: env.view,
        allocateOid: () => env.catalog.allocateId(env.txn),
        user: this.user,
        database: this.database,
        findTable: (parts) => this.tableFor(parts, stmt.pos, env.view),
        notice: env.notice,
        warning: (m) => sink.notice(m),
      });
      return r;
    }
    checkDdl(stmt, { auth, role, view: env.view, database: this.database, target: env.target, findTable: env.findTable });
    const { result, requirements } = await this.collectingAsync(env.view, () => this.ddl(stmt, text, env));
    // A view's query is checked when the view is used, as its owner (not when it is created).
    if (stmt.kind !== 'createView') this.checkPrivileges(requirements);
    recordOwnership(store, env.txn, auth, env.view, this.engine.catalog.view(env.txn), role);
    return { tag: result, rows: [] };
  }

  private async collectingAsync<T>(view: CatalogView, f: () => Promise<T>): Promise<{ result: T; requirements: PrivilegeRequirement[] }> {
    const collector = new PrivilegeCollector(view, this.database);
    const saved = this.privileges;
    this.privileges = collector;
    try {
      return { result: await f(), requirements: collector.requirements };
    } finally {
      this.privileges = saved;
    }
  }

  private async ddl(stmt: Statement, text: string, env: DdlEnv): Promise<string> {
    const view = env.view;
    const cat = this.engine.catalog;
    switch (stmt.kind) {
      case 'configureZone':
        // Read by every node's liveness refresh (@strata/cluster): the replicate queues follow it.
        configureZone(env.txn, stmt.target, stmt.numReplicas, this.zoneEnv(view));
        return 'CONFIGURE ZONE';
      case 'setClusterSetting': {
        const d = settingDef(stmt.name);
        if (stmt.value === null) env.txn.del(settingKey(d.name));
        else env.txn.put(settingKey(d.name), Buffer.from(d.parse(stmt.value)));
        return 'SET CLUSTER SETTING';
      }
      case 'alterTsDatabase': {
        const db = view.database(stmt.name);
        if (!db) throw new PgError(SqlState.InvalidCatalogName, `database "${stmt.name}" does not exist`);
        if (!db.ts) throw new PgError(SqlState.WrongObjectType, `database "${stmt.name}" is not a time-series database`);
        const next = { ...db, ts: { ...db.ts } };
        if (stmt.retentionSeconds !== null) next.ts.retentionSeconds = stmt.retentionSeconds;
        if (stmt.partitionIntervalSeconds !== null) next.ts.partitionIntervalSeconds = stmt.partitionIntervalSeconds;
        cat.writeDescriptor(env.txn, next);
        return 'ALTER TS DATABASE';
      }
      case 'createDatabase':
        if (stmt.ts) {
          createTsDatabase(env, stmt);
          return 'CREATE TS DATABASE';
        }
        if (view.database(stmt.name)) {
          if (stmt.ifNotExists) {
            env.notice(`database "${stmt.name}" already exists, skipping`);
            return 'CREATE DATABASE';
          }
          throw new PgError(SqlState.DuplicateDatabase, `database "${stmt.name}" already exists`);
        }
        cat.createDatabase(env.txn, stmt.name);
        return 'CREATE DATABASE';
      case 'dropDatabase': {
        const db = view.database(stmt.name);
        if (!db) {
          if (stmt.ifExists) {
            env.notice(`database "${stmt.name}" does not exist, skipping`);
            return 'DROP DATABASE';
          }
          throw new PgError(SqlState.InvalidCatalogName, `database "${stmt.name}" does not exist`);
        }
        if (db.name === this.database) throw new PgError(SqlState.ObjectInUse, 'cannot drop the currently open database');
        for (const s of view.schemasOf(db.id)) {
          for (const t of view.tables.get(s.id)?.values() ?? []) {
            if (t.kind === 'ts') this.dropTsData(t);
            dropTableData(env, t);
            cat.deleteDescriptor(env.txn, t);
          }
          for (const list of view.functions.get(s.id)?.values() ?? []) for (const f of list) cat.deleteDescriptor(env.txn, f);
          cat.deleteDescriptor(env.txn, s);
        }
        cat.deleteDescriptor(env.txn, db);
        return 'DROP DATABASE';
      }
      case 'createSchema': {
        const dbId = this.currentDbId(view);
        if (view.schema(dbId, stmt.name) || stmt.name === 'pg_catalog' || stmt.name === 'information_schema') {
          if (stmt.ifNotExists) {
            env.notice(`schema "${stmt.name}" already exists, skipping`);
            return 'CREATE SCHEMA';
          }
          throw new PgError(SqlState.DuplicateSchema, `schema "${stmt.name}" already exists`);
        }
        cat.createSchema(env.txn, dbId, stmt.name);
        return 'CREATE SCHEMA';
      }
      case 'dropSchema': {
        const dbId = this.currentDbId(view);
        for (const parts of stmt.names) {
          const name = parts[parts.length - 1] as string;
          const s = view.schema(dbId, name);
          if (!s) {
            if (stmt.ifExists) {
              env.notice(`schema "${name}" does not exist, skipping`);
              continue;
            }
            throw new PgError(SqlState.InvalidSchemaName, `schema "${name}" does not exist`);
          }
          const tables = [...(view.tables.get(s.id)?.values() ?? [])];
          const functions = [...(view.functions.get(s.id)?.values() ?? [])].flat();
          if ((tables.length > 0 || functions.length > 0) && !stmt.cascade) {
            throw new PgError(SqlState.DependentObjectsStillExist ?? SqlState.ObjectInUse, `cannot drop schema ${name} because other objects depend on it`, { hint: 'Use DROP ... CASCADE to drop the dependent objects too.' });
          }
          for (const t of tables) {
            dropTableData(env, t);
            cat.deleteDescriptor(env.txn, t);
          }
          for (const f of functions) cat.deleteDescriptor(env.txn, f);
          cat.deleteDescriptor(env.txn, s);
        }
        return 'DROP SCHEMA';
      }
      case 'createTable': {
        const tgt = env.target(stmt.name);
        const db = view.databaseById(tgt.dbId);
        if (stmt.ts) {
          if (!db?.ts) throw new PgError(SqlState.WrongObjectType, `cannot create a time-series table in relational database "${db?.name ?? '?'}"`, { hint: 'Create it in a database made with CREATE TS DATABASE.' });
          const created = createTsTable(env, stmt, db);
          if (created) await this.splitNewTsTable(created, env.txn);
          return 'CREATE TABLE';
        }
        if (db?.ts) throw new PgError(SqlState.WrongObjectType, `cannot create a relational table in time-series database "${db.name}"`, { hint: 'Add TAGS (...) PRIMARY TAGS (...) to make it a time-series table.' });
        if (stmt.asQuery) return this.createTableAs(stmt, env);
        createTable(env, stmt);
        return 'CREATE TABLE';
      }
      case 'dropTable':
      case 'dropView':
      case 'dropMatview':
      case 'dropSequence': {
        const want = stmt.kind === 'dropTable' ? 'table' : stmt.kind === 'dropView' ? 'view' : stmt.kind === 'dropMatview' ? 'materialized view' : 'sequence';
        const kindOf = (t: TableDesc) => (t.matview ? 'materialized view' : t.kind === 'ts' ? 'table' : t.kind);
        // Tables this statement drops do not hold each other back (DROP TABLE a, b with b → a, as pgbench -i sends).
        const dropping = new Set<number>();
        for (const parts of stmt.names) {
          try {
            const x = this.resolveTable(parts, stmt.pos, view) as ResolvedTable;
            if (x.kind === 'table') dropping.add(x.desc.id);
          } catch {
            // a missing name is reported in the loop below
          }
        }
        for (const parts of stmt.names) {
          let r: ResolvedTable | { kind: 'virtual' } | null = null;
          try {
            r = this.resolveTable(parts, stmt.pos, view) as ResolvedTable;
          } catch (e) {
            if (!(e instanceof PgError && e.code === SqlState.UndefinedTable)) throw e;
          }
          if (!r || r.kind !== 'table') {
            if ('ifExists' in stmt && stmt.ifExists) {
              env.notice(`${want} "${parts.join('.')}" does not exist, skipping`);
              continue;
            }
            throw new PgError(SqlState.UndefinedTable, `${want} "${parts.join('.')}" does not exist`);
          }
          const t = r.desc;
          if (kindOf(t) !== want) throw new PgError(SqlState.WrongObjectType, `"${t.name}" is not a ${want}`, { hint: `Use DROP ${kindOf(t).toUpperCase()} to remove a ${kindOf(t)}.` });
          // Refuse while a materialized view reads it (its refresh would fail).
          const cascade = 'cascade' in stmt && stmt.cascade;
          const mvs = view.allTables().filter((o) => o.id !== t.id && !dropping.has(o.id) && o.matview?.dependsOn?.includes(t.id));
          if (cascade) {
            for (const m of mvs) {
              env.notice(`drop cascades to materialized view ${m.name}`);
              dropping.add(m.id);
              dropTableData(env, m);
              cat.deleteDescriptor(env.txn, m);
            }
          }
          const mv = cascade ? undefined : mvs[0];
          if (mv) {
            throw new PgError(SqlState.DependentObjectsStillExist, `cannot drop ${kindOf(t)} ${t.name} because other objects depend on it`, {
              detail: `materialized view ${mv.name} depends on ${kindOf(t)} ${t.name}`,
              hint: 'Use DROP ... CASCADE to drop the dependent objects too.',
            });
          }
          // Refuse if another table's foreign key references this one.
          for (const other of view.allTables()) {
            if (other.id !== t.id && !dropping.has(other.id) && other.foreignKeys.some((fk) => fk.refTableId === t.id) && !(stmt.kind === 'dropTable' && stmt.cascade)) {
              throw new PgError(SqlState.DependentObjectsStillExist ?? SqlState.ObjectInUse, `cannot drop table ${t.name} because other objects depend on it`, { hint: 'Use DROP ... CASCADE to drop the dependent objects too.' });
            }
          }
          if (t.kind === 'ts') this.dropTsData(t);
          dropTableData(env, t);
          cat.deleteDescriptor(env.txn, t);
          // Sequences owned by SERIAL columns go with their table.
          for (const c of t.columns) {
            const m = c.default ? /^nextval\('([^']+)'/.exec(c.default) : null;
            const seq = m ? view.table(t.schemaId, m[1] as string) : undefined;
            if (seq && seq.kind === 'sequence') {
              cat.deleteDescriptor(env.txn, seq);
              this.engine.sequences.forget(seq.id);
            }
          }
          if (t.kind === 'sequence') this.engine.sequences.forget(t.id);
        }
        return stmt.kind === 'dropTable' ? 'DROP TABLE' : stmt.kind === 'dropView' ? 'DROP VIEW' : stmt.kind === 'dropMatview' ? 'DROP MATERIALIZED VIEW' : 'DROP SEQUENCE';
      }
      case 'alterTable': {
        let r: ResolvedTable;
        try {
          r = this.tableFor(stmt.name, stmt.pos, view) as ResolvedTable;
        } catch (e) {
          if (stmt.ifExists && e instanceof PgError && e.code === SqlState.UndefinedTable) {
            env.notice(`relation "${stmt.name.join('.')}" does not exist, skipping`);
            return 'ALTER TABLE';
          }
          throw e;
        }
        if (r.desc.kind === 'ts') {
          const { desc, storageChanged } = alterTsTable(env, r.desc, stmt.cmds, text);
          if (storageChanged) {
            const db = view.databaseById(desc.parentId);
            this.tsAlters.push({ tableId: desc.id, payload: encodeTsAlter(desc.id, tsSchemaOf(desc, db, (n) => this.engine.clusterSetting(n, env.txn))) });
          }
          return 'ALTER TABLE';
        }
        alterTable(env, r.desc, stmt.cmds, text);
        return 'ALTER TABLE';
      }
      case 'createIndex': {
        const r = this.tableFor(stmt.table, stmt.pos, view);
        if (r.desc.kind === 'ts') {
          const t = createTagIndex(env, r.desc, stmt);
          if (t) {
            t.version++;
            cat.writeDescriptor(env.txn, t);
          }
          return 'CREATE INDEX';
        }
        const t: TableDesc = JSON.parse(JSON.stringify(r.desc)) as TableDesc;
        const name = stmt.name ?? `${t.name}_${stmt.columns.map((c) => c.name).join('_')}_idx`;
        if ([t.primaryIndex, ...t.indexes].some((i) => i.name === name) || view.table(t.schemaId, name)) {
          if (stmt.ifNotExists) {
            env.notice(`relation "${name}" already exists, skipping`);
            return 'CREATE INDEX';
          }
          throw new PgError(SqlState.DuplicateTable, `relation "${name}" already exists`);
        }
        const idx = addIndex(env, t, name, stmt.columns.map((c) => c.name), stmt.unique, null, true, stmt.columns.map((c) => c.desc));
        if (stmt.reloptions) idx.reloptions = stmt.reloptions;
        t.version++;
        cat.writeDescriptor(env.txn, t);
        return 'CREATE INDEX';
      }
      case 'dropIndex': {
        for (const parts of stmt.names) {
          const name = parts[parts.length - 1] as string;
          let found: TableDesc | undefined;
          for (const t of view.allTables()) if (t.indexes.some((i) => i.name === name)) found = t;
          const tsTable = view.allTables().find((t) => t.ts?.tagIndexes?.some((i) => i.name === name) && (parts.length < 2 || parts[parts.length - 2] === t.name));
          if (tsTable && !found) {
            const t: TableDesc = JSON.parse(JSON.stringify(tsTable)) as TableDesc;
            const info = t.ts as NonNullable<TableDesc['ts']>;
            info.tagIndexes = (info.tagIndexes ?? []).filter((i) => i.name !== name);
            t.version++;
            cat.writeDescriptor(env.txn, t);
            continue;
          }
          if (!found) {
            if (stmt.ifExists) {
              env.notice(`index "${name}" does not exist, skipping`);
              continue;
            }
            throw new PgError(SqlState.UndefinedObject, `index "${name}" does not exist`);
          }
          const t: TableDesc = JSON.parse(JSON.stringify(found)) as TableDesc;
          const idx = t.indexes.find((i) => i.name === name);
          if (idx?.constraint === 'unique' && !stmt.cascade) {
            throw new PgError(SqlState.DependentObjectsStillExist ?? SqlState.ObjectInUse, `cannot drop index ${name} because constraint ${name} on table ${t.name} requires it`, { hint: `You can drop constraint ${name} on table ${t.name} instead.` });
          }
          const codec = tableCodec(found);
          for (const row of scanRows(env, found)) {
            const { indexEntry } = await import('./catalog/rowcodec.js');
            env.txn.del(indexEntry(codec, idx as NonNullable<typeof idx>, row).key);
          }
          t.indexes = t.indexes.filter((i) => i.name !== name);
          t.version++;
          cat.writeDescriptor(env.txn, t);
        }
        return 'DROP INDEX';
      }
      case 'alterIndex': {
        const name = stmt.name[stmt.name.length - 1] as string;
        // `table@index` (CockroachDB's) or `schema.index` (PostgreSQL's): both parse to two parts.
        const qual = stmt.name[stmt.name.length - 2];
        const onTable = (t: TableDesc) => qual === undefined || qual === t.name || qual === view.byId.get(t.schemaId)?.name;
        const found = view.allTables().find((t) => onTable(t) && ([t.primaryIndex, ...t.indexes].some((i) => i.name === name) || t.ts?.tagIndexes?.some((i) => i.name === name)));
        if (!found) {
          // PostgreSQL looks the name up as a relation: a table of that name is 42809.
          const sameName = view.allTables().find((t) => t.name === name && (stmt.name.length < 2 || view.byId.get(t.schemaId)?.name === stmt.name[stmt.name.length - 2]));
          if (sameName) throw new PgError(SqlState.WrongObjectType, `"${name}" is not an index`);
          if (stmt.ifExists) {
            env.notice(`relation "${name}" does not exist, skipping`);
            return 'ALTER INDEX';
          }
          throw new PgError(SqlState.UndefinedTable, `relation "${name}" does not exist`);
        }
        const t: TableDesc = JSON.parse(JSON.stringify(found)) as TableDesc;
        if (stmt.to === null) {
          const ix = [t.primaryIndex, ...t.indexes].find((i) => i.name === name);
          if (!ix) throw new PgError(SqlState.FeatureNotSupported, `index "${name}" of a time-series table has no storage parameters`);
          const merged = mergeRelOptions(ix.reloptions ?? [], stmt.relOptions?.set ?? [], stmt.relOptions?.reset ?? []);
          if (merged.length > 0) ix.reloptions = merged;
          else delete ix.reloptions;
          t.version++;
          cat.writeDescriptor(env.txn, t);
          return 'ALTER INDEX';
        }
        const to = stmt.to;
        if ([t.primaryIndex, ...t.indexes].some((i) => i.name === to) || t.ts?.tagIndexes?.some((i) => i.name === to) || view.table(t.schemaId, to)) {
          throw new PgError(SqlState.DuplicateTable, `relation "${to}" already exists`);
        }
        for (const i of [t.primaryIndex, ...t.indexes, ...(t.ts?.tagIndexes ?? [])]) if (i.name === name) i.name = to;
        t.version++;
        cat.writeDescriptor(env.txn, t);
        return 'ALTER INDEX';
      }
      case 'createSequence': {
        const tgt = env.target(stmt.name);
        if (view.table(tgt.schemaId, tgt.name)) {
          if (stmt.ifNotExists) {
            env.notice(`relation "${tgt.name}" already exists, skipping`);
            return 'CREATE SEQUENCE';
          }
          throw new PgError(SqlState.DuplicateTable, `relation "${tgt.name}" already exists`);
        }
        createSequenceDesc(env, tgt.dbId, tgt.schemaId, tgt.name, resolveSequence(stmt.options));
        return 'CREATE SEQUENCE';
      }
      case 'createFunction':
        return createFunction(env, stmt, () => this.makePlanner([], this.engine.catalog.view(env.txn)).binder);
      case 'dropFunction':
        return dropFunction(env, stmt);
      case 'createMatview':
        return this.createMatview(stmt, env);
      case 'refreshMatview':
        return this.refreshMatview(stmt, env);
      case 'createDomain':
        return createDomain(env, stmt, () => this.makePlanner([], this.engine.catalog.view(env.txn)).binder);
      case 'dropType':
        return dropType(env, stmt);
      case 'createEnum':
        return createEnum(env, stmt);
      case 'createComposite':
        return createComposite(env, stmt);
      case 'alterEnum':
        return alterEnum(env, stmt);
      case 'alterDomain':
        return alterDomain(env, stmt, () => this.makePlanner([], this.engine.catalog.view(env.txn)).binder);
      case 'createView': {
        const tgt = env.target(stmt.name);
        const existing = view.table(tgt.schemaId, tgt.name);
        if (existing && !(stmt.orReplace && existing.kind === 'view')) throw new PgError(SqlState.DuplicateTable, `relation "${tgt.name}" already exists`);
        const planner = this.makePlanner([], view);
        const op = planner.planQuery(stmt.query, null);
        const cols = op.columns.map((c, i) => ({ id: i + 1, name: stmt.columns?.[i] ?? c.name, type: c.type.kind === 'unknown' ? T.text : c.type, nullable: true, default: null, hidden: false }));
        const v: TableDesc = {
          kind: 'view',
          id: existing?.id ?? cat.allocateId(env.txn),
          name: tgt.name,
          parentId: tgt.dbId,
          schemaId: tgt.schemaId,
          columns: cols,
          nextColumnId: cols.length + 1,
          primaryIndex: { id: 1, name: `${tgt.name}_pkey`, columnIds: [], desc: [], unique: true, constraint: null },
          indexes: [],
          nextIndexId: 2,
          checks: [],
          foreignKeys: [],
          viewQuery: stmt.text,
          version: 1,
        };
        cat.writeDescriptor(env.txn, v);
        cat.writeName(env.txn, tgt.dbId, tgt.schemaId, tgt.name, v.id);
        return 'CREATE VIEW';
      }
      case 'truncate':
        for (const parts of stmt.names) {
          const r = this.tableFor(parts, stmt.pos, view);
          if (r.desc.kind === 'ts') throw tsNotImplemented(r.desc, 'TRUNCATE');
          if (r.desc.kind !== 'table' || r.desc.matview) throw new PgError(SqlState.WrongObjectType, `"${r.desc.name}" is not a table`);
          truncate(env, r.desc);
        }
        return 'TRUNCATE TABLE';
      default:
        throw new PgError(SqlState.FeatureNotSupported, `statement ${stmt.kind} is not supported`);
    }
  }

  /** CREATE MATERIALIZED VIEW: CREATE TABLE AS with the query kept for REFRESH (matviews.ts). */
  private async createMatview(stmt: Statement & { kind: 'createMatview' }, env: DdlEnv): Promise<string> {
    const tgt = env.target(stmt.name);
    if (env.view.table(tgt.schemaId, tgt.name)) {
      if (stmt.ifNotExists) {
        env.notice(`relation "${tgt.name}" already exists, skipping`);
        return 'CREATE MATERIALIZED VIEW';
      }
      throw new PgError(SqlState.DuplicateTable, `relation "${tgt.name}" already exists`);
    }
    const columns = (stmt.columns ?? []).map((name) => ({ name, type: { name: 'text', mods: [], arrayDims: 0, pos: 0 }, notNull: false, nullExplicit: false, primaryKey: false, unique: false, default: null, defaultText: null, check: null, checkText: null, checkName: null, references: null, pos: 0 }));
    const asTable: Statement & { kind: 'createTable' } = { kind: 'createTable', name: stmt.name, ifNotExists: false, columns, constraints: [], asQuery: stmt.query, ts: null, pos: stmt.pos };
    const dependsOn = referencedTables(stmt.query, (parts) => {
      try {
        const r = this.resolveTable(parts, stmt.pos, env.view);
        return r.kind === 'table' ? r.desc.id : undefined;
      } catch {
        return undefined;
      }
    });
    const n = await this.createTableAs(asTable, env, { query: stmt.text, populated: stmt.withData, dependsOn });
    return stmt.withData ? n : 'CREATE MATERIALIZED VIEW';
  }

  /** REFRESH MATERIALIZED VIEW: its rows replaced by the query's, in the statement's transaction. */
  private async refreshMatview(stmt: Statement & { kind: 'refreshMatview' }, env: DdlEnv): Promise<string> {
    const { desc } = this.tableFor(stmt.name, stmt.pos, env.view);
    // PostgreSQL raises this one as 0A000.
    if (!desc.matview) throw new PgError(SqlState.FeatureNotSupported, `"${desc.name}" is not a materialized view`);
    if (stmt.concurrently && !desc.matview.populated) throw new PgError(SqlState.FeatureNotSupported, 'CONCURRENTLY cannot be used when the materialized view is not populated');
    if (stmt.concurrently && !stmt.withData) throw new PgError(SqlState.SyntaxError, 'REFRESH options CONCURRENTLY and WITH NO DATA cannot be used together');
    if (stmt.concurrently && !desc.indexes.some((i) => i.unique)) {
      throw new PgError(SqlState.ObjectNotInPrerequisiteState, `cannot refresh materialized view "${env.view.byId.get(desc.schemaId)?.name ?? 'public'}.${desc.name}" concurrently`, {
        hint: 'Create a unique index with no WHERE clause on one or more columns of the materialized view.',
      });
    }
    const t: TableDesc = JSON.parse(JSON.stringify(desc)) as TableDesc;
    truncate(env, t);
    (t.matview as { populated: boolean }).populated = stmt.withData;
    t.version++;
    env.catalog.writeDescriptor(env.txn, t);
    if (stmt.withData) {
      const planner = this.makePlanner([], env.view);
      const op = planner.planQuery(parseOne(desc.matview.query) as SelectStmt, null);
      if (op.columns.length !== t.columns.filter((c) => !c.hidden).length) throw new PgError(SqlState.DatatypeMismatch, `the query of materialized view "${t.name}" no longer matches its columns`);
      await this.fillTable(t, op, env);
    }
    return 'REFRESH MATERIALIZED VIEW';
  }

  private async createTableAs(stmt: Statement & { kind: 'createTable' }, env: DdlEnv, matview?: TableDesc['matview']): Promise<string> {
    const planner = this.makePlanner([], env.view);
    const op = planner.planQuery(stmt.asQuery as SelectStmt, null);
    if (stmt.columns.length > op.columns.length) throw new PgError(SqlState.SyntaxError, 'too many column names were specified');
    const cols = op.columns.map((c, i) => ({
      name: stmt.columns[i]?.name ?? c.name,
      type: { name: 'text', mods: [], arrayDims: 0, pos: 0 },
      realType: c.type.kind === 'unknown' ? T.text : c.type,
    }));
    const synthetic: Statement & { kind: 'createTable' } = {
      ...stmt,
      asQuery: null,
      columns: cols.map((c) => ({ name: c.name, type: c.type, notNull: false, nullExplicit: false, primaryKey: false, unique: false, default: null, defaultText: null, check: null, checkText: null, checkName: null, references: null, pos: 0 })),
    };
    const t = createTable(env, synthetic);
    if (!t) return 'SELECT 0';
    cols.forEach((c, i) => ((t.columns[i] as ColumnDesc).type = c.realType));
    if (matview) t.matview = matview;
    env.catalog.writeDescriptor(env.txn, t);
    if (matview && !matview.populated) return 'SELECT 0';
    return `SELECT ${await this.fillTable(t, op, env)}`;
  }

  /** Inserts a query's rows into a new (or just truncated) table; the number of rows. */
  private async fillTable(t: TableDesc, op: Operator, env: DdlEnv): Promise<number> {
    const writer = makeWriter(t, t.columns.map((c) => (c.hidden ? (() => this.engine.uniqueRowId()) as Ev : null)), [], []);
    const ctx = this.execCtx([]);
    ctx.txn = env.txn;
    let n = 0;
    // Through the driver, like any query: yield points, statement_timeout and CancelRequest apply.
    const run = { batches: op.exec(ctx), buffer: [] as Row[], ctx };
    const sink = {
      row: (row: Value[]) => {
        const full = [...row, ...(t.columns.length > row.length ? [this.engine.uniqueRowId()] : [])];
        insertRow(writer, full, ctx);
        n++;
      },
    };
    const timeoutMs = parseDurationMs(this.settings.get('statement_timeout') ?? '0');
    const started = Date.now();
    await pump(run, 0, sink, () => this.checkInterrupts(started, timeoutMs));
    return n;
  }

  // ---- SET / SHOW --------------------------------------------------------------------------------

  applySetting(name0: string, value: string): void {
    const name = name0.toLowerCase();
    let v = value;
    if (serverOnlySettings.has(name)) throw cantChangeSetting(name);
    switch (name) {
      case 'database': {
        const db = this.view.database(value);
        if (!db) throw new PgError(SqlState.InvalidCatalogName, `database "${value}" does not exist`);
        if (this.authView) this.checkPrivileges([databaseRequirement(db, Priv.CONNECT)]);
        this.database = value;
        return;
      }
      case 'timezone':
      case 'time zone': {
        const fixed = parseFixedOffset(value);
        if (fixed === null) validateTimeZone(value);
        // A bare number is hours east in PostgreSQL's SET TIME ZONE; it is shown (and kept) as
        // the POSIX zone PostgreSQL makes of it: "<+05>-05", "<-07:30>+07:30".
        if (/^[+-]?\d+(\.\d+)?$/.test(value.trim())) {
          const h = Number(value);
          const hh = String(Math.abs(Math.trunc(h))).padStart(2, '0');
          const mm = Math.round((Math.abs(h) % 1) * 60);
          const body = `${hh}${mm !== 0 ? ':' + String(mm).padStart(2, '0') : ''}`;
          v = h === 0 ? 'UTC' : `<${h >= 0 ? '+' : '-'}${body}>${h >= 0 ? '-' : '+'}${body}`;
        }
        this.setSetting('timezone', v);
        return;
      }
      case 'standard_conforming_strings':
        // The lexer reads '…' as the SQL standard does (a backslash is an ordinary character).
        // Off would make PostgreSQL read backslash escapes there: refused rather than ignored.
        if (!settingBool(name, value)) throw new PgError(SqlState.FeatureNotSupported, 'standard_conforming_strings = off is not supported', { hint: "Write backslash escapes in E'…' strings." });
        this.setSetting(name, 'on');
        return;
      case 'client_encoding': {
        // UTF8, or SQL_ASCII (conversion off; psql asks for it in the C locale); others refused (client_encoding.ts).
        this.setSetting('client_encoding', checkClientEncoding(value));
        return;
      }
      case 'datestyle': {
        // Output style (only ISO is written) and field order (MDY, DMY, YMD: how input is read); a part not given keeps its value.
        let [style, order] = (this.settings.get('datestyle') ?? 'ISO, MDY').split(',').map((x) => x.trim()) as [string, string];
        for (const tok of value.split(/[\s,]+/).filter((x) => x !== '')) {
          const k = tok.toLowerCase();
          if (k === 'iso') style = 'ISO';
          else if (k === 'sql' || k === 'postgres' || k === 'german') throw new PgError(SqlState.FeatureNotSupported, `DateStyle "${value}" is not supported: only ISO output is`);
          else if (k === 'ymd') order = 'YMD';
          else if (k === 'dmy' || k === 'euro' || k === 'european') order = 'DMY';
          else if (k === 'mdy' || k === 'us' || k === 'noneuro' || k === 'noneuropean') order = 'MDY';
          else if (k === 'default') [style, order] = ['ISO', 'MDY'];
          else throw new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "DateStyle": "${value}"`, { detail: `Unrecognized key word: "${tok}".` });
        }
        this.setSetting('datestyle', `${style}, ${order}`);
        return;
      }
      case 'bytea_output': {
        const v = value.trim().toLowerCase();
        if (v !== 'hex' && v !== 'escape') throw new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "bytea_output": "${value}"`, { hint: 'Available values: escape, hex.' });
        this.setSetting('bytea_output', v);
        return;
      }
      case 'extra_float_digits':
        if (!/^-?\d+$/.test(value.trim())) throw new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "extra_float_digits": "${value}"`);
        this.setSetting(name, value.trim());
        return;
      case 'statement_timeout':
      case 'lock_timeout':
      case 'idle_in_transaction_session_timeout':
      case 'idle_session_timeout':
        // Stored as PostgreSQL shows it (`3s`, `1min`), which is what SHOW and clients read.
        this.setSetting(name, formatMsSetting(parseMsSetting(name, value)));
        return;
      case 'work_mem':
        // Strata's work_mem is one statement's budget (all its sorts and hash tables together).
        this.setSetting(name, formatPgMemory(parsePgMemory(name, value)));
        return;
      case 'default_transaction_isolation':
        // Every transaction runs serializable (weaker levels are upgraded, as CockroachDB does);
        // the level asked for is what SHOW reports, so clients see what they set.
        this.setSetting(name, isolationLevel(name, value));
        if (!this.txnModes) this.syncTxnSettings();
        return;
      case 'default_transaction_read_only':
      case 'default_transaction_deferrable':
        this.setSetting(name, settingBool(name, value) ? 'on' : 'off');
        if (!this.txnModes) this.syncTxnSettings();
        return;
      case 'transaction_isolation': {
        const level = isolationLevel(name, value);
        // Outside a block PostgreSQL accepts it with no lasting effect.
        if (this.txnModes) this.setTxnModes({ isolation: level });
        return;
      }
      case 'transaction_read_only': {
        const on = settingBool(name, value);
        if (this.txnModes) this.setTxnModes({ readOnly: on });
        return;
      }
      case 'transaction_deferrable': {
        const on = settingBool(name, value);
        if (this.txnModes) this.setTxnModes({ deferrable: on });
        return;
      }
      case 'search_path':
        if (splitIdentifierList(value) === null) throw new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "search_path": "${value}"`, { detail: 'List syntax is invalid.' });
        this.setSetting(name, value);
        return;
      case 'application_name':
        this.setSetting(name, value.replace(/, /g, ', '));
        return;
      case 'intervalstyle': {
        const v2 = value.trim().toLowerCase();
        if (!['postgres', 'postgres_verbose', 'sql_standard', 'iso_8601'].includes(v2)) {
          throw new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "IntervalStyle": "${value}"`, { hint: 'Available values: postgres, postgres_verbose, sql_standard, iso_8601.' });
        }
        this.setSetting('intervalstyle', v2);
        return;
      }
      case 'is_superuser':
        throw new PgError(SqlState.CantChangeRuntimeParam, `parameter "${name}" cannot be changed`);
      case 'session_authorization':
      case 'role':
        throw new PgError(SqlState.FeatureNotSupported, 'SET SESSION AUTHORIZATION and SET ROLE are not supported: log in as the role');
      case 'password_encryption':
        if (value.toLowerCase() !== 'scram-sha-256') throw new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "password_encryption": "${value}"`, { hint: 'Available values: scram-sha-256.' });
        return;
      default:
        if (!this.settings.has(name) && !name.includes('.')) {
          throw new PgError(SqlState.UndefinedObject, `unrecognized configuration parameter "${name0}"`);
        }
        this.setSetting(name, value);
    }
  }

  private setSetting(name: string, value: string): void {
    this.noteTxnSetting(name, value);
    this.rawSetSetting(name, value);
  }

  private rawSetSetting(name: string, value: string | undefined): void {
    if (this.settings.get(name) !== value) this.changedSettings.add(name);
    if (value === undefined) this.settings.delete(name);
    else this.settings.set(name, value);
  }

  /** Inside a block: remembers the value before the block's first change, and plain SETs (kept by COMMIT). */
  private noteTxnSetting(name: string, value: string | undefined): void {
    if (!this.explicit) return;
    if (!this.settingsAtBegin.has(name)) this.settingsAtBegin.set(name, this.settings.get(name));
    if (this.settingLocal) return;
    if (value === undefined) this.setInTxn.delete(name);
    else this.setInTxn.set(name, value);
  }

  /** The block ended: SET LOCAL values go back; plain SETs stay if it committed. */
  private endTxnSettings(committed: boolean): void {
    for (const [name, before] of this.settingsAtBegin) {
      this.rawSetSetting(name, committed && this.setInTxn.has(name) ? this.setInTxn.get(name) : before);
    }
    this.settingsAtBegin.clear();
    this.setInTxn.clear();
    this.txnModes = null;
    this.txnQueried = false;
    this.syncTxnSettings();
  }

  /** SET LOCAL name = value (also set_config(…, true)): outside a block it does nothing (a warning). */
  private applyLocalSetting(name: string, value: string | 'default', sink: { notice(m: Notice): void } | null): void {
    if (!this.explicit) {
      sink?.notice(warnNoTxn('SET LOCAL can only be used in transaction blocks'));
      return;
    }
    this.settingLocal = true;
    try {
      if (value === 'default') this.resetSetting(name);
      else this.applySetting(name, value);
    } finally {
      this.settingLocal = false;
    }
  }

  private resetSetting(name0: string): void {
    const name = name0.toLowerCase() === 'time zone' ? 'timezone' : name0.toLowerCase();
    if (serverOnlySettings.has(name)) throw cantChangeSetting(name);
    if (name === 'work_mem') {
      this.setSetting(name, formatPgMemory(this.engine.defaultWorkMemBytes));
      return;
    }
    const d = defaultSettings.find(([k]) => k === name);
    if (!d) {
      if (!this.settings.has(name)) throw new PgError(SqlState.UndefinedObject, `unrecognized configuration parameter "${name0}"`);
      this.noteTxnSetting(name, undefined);
      this.rawSetSetting(name, undefined);
      return;
    }
    if (name === 'transaction_isolation' || name === 'transaction_read_only' || name === 'transaction_deferrable') return; // the block's modes stay
    this.setSetting(name, d[1]);
    this.syncTxnSettings();
  }

  private show(name0: string): { rows: Row[]; tag: string } {
    const name = name0.toLowerCase();
    if (name === 'all') return { rows: [...this.settings.entries()].sort().map(([k, v]) => [k, v, '']), tag: 'SHOW' };
    if (name === 'database') return { rows: [[this.database]], tag: 'SHOW' };
    const v = this.settings.get(name);
    if (v === undefined) throw new PgError(SqlState.UndefinedObject, `unrecognized configuration parameter "${name0}"`);
    return { rows: [[v]], tag: 'SHOW' };
  }

  private explain(stmt: Statement & { kind: 'explain' }): { rows: Row[]; tag: string } {
    if (!isPlannable(stmt.stmt)) throw new PgError(SqlState.FeatureNotSupported, `EXPLAIN of ${stmt.stmt.kind} is not supported`);
    const view = this.view;
    const planner = this.makePlanner([], view);
    let op: Operator;
    if (stmt.stmt.kind === 'query') {
      const q = stmt.stmt;
      const planned = this.collecting(view, () => planner.planQuery(q, null));
      this.checkPrivileges(planned.requirements);
      op = planned.result;
    } else {
      const c = this.compile(stmt.stmt, '', []);
      this.checkPrivileges(c.privileges);
      return { rows: [[`${stmt.stmt.kind}${c.columns ? ' returning' : ''}`]], tag: 'EXPLAIN' };
    }
    const lines: string[] = [];
    const walk = (o: Operator, depth: number) => {
      const e = o.explain();
      lines.push(`${'  '.repeat(depth)}${depth > 0 ? '└── ' : '• '}${e.label}`);
      for (const c of e.children) walk(c, depth + 1);
    };
    walk(op, 0);
    return { rows: lines.map((l) => [l]), tag: 'EXPLAIN' };
  }

  /** The owner's name (objects without an ownership record, and the virtual schemas, are root's). */
  private ownerOf(objectId: number): string {
    const a = this.authView;
    return a ? a.roleName(a.owner(objectId)) : 'root';
  }

  private showObjects(stmt: Statement): { rows: Row[]; tag: string } {
    const view = this.view;
    switch (stmt.kind) {
      case 'showDatabases':
        return { rows: [...view.databases.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((d) => [d.name, this.ownerOf(d.id)]), tag: 'SHOW' };
      case 'showSchemas': {
        const dbId = this.currentDbId(view);
        const schemas: [string, number][] = [...view.schemasOf(dbId).map((s): [string, number] => [s.name, s.id]), ['information_schema', 0], ['pg_catalog', 0]];
        return { rows: schemas.sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([n, id]) => [n, this.ownerOf(id)]), tag: 'SHOW' };
      }
      case 'showTables': {
        let dbName = this.database;
        let schemas: string[] | null = null;
        if (stmt.schema) {
          if (stmt.schema.length === 2) {
            dbName = stmt.schema[0] as string;
            schemas = [stmt.schema[1] as string];
          } else if (view.database(stmt.schema[0] as string) && !view.schema(this.currentDbId(view), stmt.schema[0] as string)) dbName = stmt.schema[0] as string;
          else schemas = [stmt.schema[0] as string];
        }
        const db = view.database(dbName);
        if (!db) throw new PgError(SqlState.InvalidCatalogName, `database "${dbName}" does not exist`);
        const rows: Row[] = [];
        for (const s of view.schemasOf(db.id)) {
          if (schemas && !schemas.includes(s.name)) continue;
          for (const t of [...(view.tables.get(s.id)?.values() ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1))) rows.push([s.name, t.name, t.kind, this.ownerOf(t.id)]);
        }
        return { rows, tag: 'SHOW' };
      }
      case 'showColumns': {
        const { desc: t } = this.tableFor(stmt.table, stmt.pos, view);
        return {
          rows: t.columns.filter((c) => !c.hidden).map((c) => [
            c.name,
            formatType(c.type),
            c.nullable,
            c.default,
            '',
            '{' + [t.primaryIndex, ...t.indexes].filter((i) => i.columnIds.includes(c.id)).map((i) => i.name).join(',') + '}',
            false,
          ]),
          tag: 'SHOW',
        };
      }
      case 'showIndexes': {
        const { desc: t } = this.tableFor(stmt.table, stmt.pos, view);
        const rows: Row[] = [];
        for (const idx of [t.primaryIndex, ...t.indexes]) {
          idx.columnIds.forEach((id, i) => rows.push([t.name, idx.name, !idx.unique, BigInt(i + 1), t.columns.find((c) => c.id === id)?.name ?? '?', idx.desc[i] ? 'DESC' : 'ASC', false, false]));
        }
        if (t.ts) {
          // The primary tags (the entity index) and the tag indexes.
          t.ts.primaryTags.forEach((g, i) => rows.push([t.name, 'primary', false, BigInt(i + 1), g, 'ASC', false, false]));
          for (const idx of t.ts.tagIndexes ?? []) idx.tags.forEach((g, i) => rows.push([t.name, idx.name, true, BigInt(i + 1), g, 'ASC', false, false]));
        }
        return { rows, tag: 'SHOW' };
      }
      case 'showCreate': {
        const r = this.tableFor(stmt.table, stmt.pos, view);
        if (r.desc.kind === 'ts') return { rows: [[r.desc.name, showCreateTs(r.desc, view.databaseById(r.desc.parentId))]], tag: 'SHOW' };
        return { rows: [[r.desc.name, showCreate(r.desc, r.schema, view)]], tag: 'SHOW' };
      }
      case 'showTags': {
        const { desc: t } = this.tableFor(stmt.table, stmt.pos, view);
        if (t.kind !== 'ts' || !t.ts) throw new PgError(SqlState.WrongObjectType, `"${t.name}" is not a time-series table`);
        return { rows: t.ts.tags.map((g) => [g.name, formatType(g.type), g.primary, g.nullable]), tag: 'SHOW' };
      }
      default:
        return { rows: [], tag: 'SHOW' };
    }
  }
}

function showCreate(t: TableDesc, schema: string, view: CatalogView): string {
  if (t.kind === 'view') return `CREATE VIEW ${schema}.${t.name} AS ${t.viewQuery}`;
  if (t.kind === 'sequence') return `CREATE SEQUENCE ${schema}.${t.name} START ${t.sequence?.start ?? 1} INCREMENT ${t.sequence?.increment ?? 1}`;
  const lines: string[] = [];
  for (const c of t.columns) {
    if (c.hidden) continue;
    let l = `\t${quoteIdent(c.name)} ${formatType(c.type).toUpperCase()}`;
    if (!c.nullable) l += ' NOT NULL';
    if (c.default !== null) l += ` DEFAULT ${renderDefault(c.default, c.type)}`;
    lines.push(l);
  }
  const colName = (id: number) => quoteIdent(t.columns.find((c) => c.id === id)?.name ?? '?');
  if (!t.columns.some((c) => c.hidden && t.primaryIndex.columnIds.includes(c.id))) {
    lines.push(`\tCONSTRAINT ${t.primaryIndex.name} PRIMARY KEY (${t.primaryIndex.columnIds.map((id) => `${colName(id)} ASC`).join(', ')})`);
  }
  for (const idx of t.indexes) {
    lines.push(`\t${idx.unique ? 'UNIQUE ' : ''}INDEX ${idx.name} (${idx.columnIds.map((id, i) => `${colName(id)} ${idx.desc[i] ? 'DESC' : 'ASC'}`).join(', ')})`);
  }
  for (const fk of t.foreignKeys) {
    const rt = view.tableById(fk.refTableId);
    lines.push(`\tCONSTRAINT ${fk.name} FOREIGN KEY (${fk.columnIds.map(colName).join(', ')}) REFERENCES ${rt?.name ?? '?'}(${fk.refColumnIds.map((id) => quoteIdent(rt?.columns.find((c) => c.id === id)?.name ?? '?')).join(', ')})`);
  }
  for (const ch of t.checks) lines.push(`\tCONSTRAINT ${ch.name} CHECK (${ch.expr})`);
  return `CREATE TABLE ${schema}.${t.name} (\n${lines.join(',\n')}\n)`;
}

function isPlannable(s: Statement): boolean {
  return s.kind === 'query' || s.kind === 'insert' || s.kind === 'update' || s.kind === 'delete';
}

/**
 * Errors after which a transaction cannot go on even from a savepoint: a serialization failure or
 * deadlock (what it read is stale), an ambiguous result, an internal error (its state is unknown).
 */
function txnDoomedBy(e: unknown): boolean {
  if (e === undefined) return true;
  if (!(e instanceof PgError)) return !(e instanceof StrataError) || e instanceof RetryableError || e instanceof AmbiguousResultError;
  return e.code === SqlState.SerializationFailure || e.code === SqlState.DeadlockDetected || e.code === SqlState.StatementCompletionUnknown || e.code === SqlState.InternalError;
}

/**
 * PostgreSQL's SplitIdentifierString for a list setting (search_path): comma-separated names,
 * each double-quoted (`""` is a quote; kept as written) or bare (no spaces inside; lower-cased);
 * null when the syntax is invalid.
 */

export function splitIdentifierList(text: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const ws = (c: string | undefined) => c !== undefined && /\s/.test(c);
  while (ws(text[i])) i++;
  if (i >= text.length) return out;
  for (;;) {
    let name: string;
    if (text[i] === '"') {
      let j = i + 1;
      name = '';
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) return null;
        name += text.slice(j, q);
        if (text[q + 1] === '"') {
          name += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
    } else {
      const start = i;
      while (i < text.length && text[i] !== ',' && !ws(text[i])) i++;
      if (i === start) return null;
      name = text.slice(start, i).toLowerCase();
    }
    out.push(name);
    while (ws(text[i])) i++;
    if (i >= text.length) return out;
    if (text[i] !== ',') return null;
    i++;
    while (ws(text[i])) i++;
  }
}

/** Automatic retries of an autocommit schema change that hit a serialization conflict. */
const ddlRetriesMax = 4;


function isTxnEnd(s: Statement): boolean {
  return s.kind === 'commit' || s.kind === 'rollback' || s.kind === 'prepareTransaction';
}

/** Result columns of utility statements (for Describe). */
function utilityColumns(s: Statement): Column[] | null {
  const c = (...names: [string, SqlType][]) => names.map(([name, type]) => ({ name, type }));
  switch (s.kind) {
    case 'show':
      return s.name === 'all' ? c(['name', T.text], ['setting', T.text], ['description', T.text]) : c([s.name.toLowerCase() === 'timezone' ? 'TimeZone' : s.name, T.text]);
    case 'showTables':
      return c(['schema_name', T.text], ['table_name', T.text], ['type', T.text], ['owner', T.text]);
    case 'showDatabases':
      return c(['database_name', T.text], ['owner', T.text]);
    case 'showSchemas':
      return c(['schema_name', T.text], ['owner', T.text]);
    case 'showColumns':
      return c(['column_name', T.text], ['data_type', T.text], ['is_nullable', T.bool], ['column_default', T.text], ['generation_expression', T.text], ['indices', T.text], ['is_hidden', T.bool]);
    case 'showIndexes':
      return c(['table_name', T.text], ['index_name', T.text], ['non_unique', T.bool], ['seq_in_index', T.int8], ['column_name', T.text], ['direction', T.text], ['storing', T.bool], ['implicit', T.bool]);
    case 'showCreate':
      return c(['table_name', T.text], ['create_statement', T.text]);
    case 'showRanges':
      return showRangesColumns;
    case 'showZone':
      return c(['target', T.text], ['raw_config_sql', T.text]);
    case 'showTags':
      return c(['tag', T.text], ['type', T.text], ['is_primary', T.bool], ['nullable', T.bool]);
    case 'showClusterSetting':
      return s.name === null ? c(['variable', T.text], ['value', T.text], ['setting_type', T.text], ['description', T.text]) : c([s.name, T.text]);
    case 'explain':
      return c(['QUERY PLAN', T.text]);
    case 'auth':
      return authStatementColumns(s.stmt);
    default:
      return null;
  }
}

function cantChangeSetting(name: string): PgError {
  return new PgError(SqlState.CantChangeRuntimeParam, `parameter "${name}" cannot be changed without restarting the server`);
}

/** Milliseconds of a time setting's value (PostgreSQL's syntax: `3000`, `3s`, `1.5min`; see guc_units.ts). */
export function parseDurationMs(v: string, setting = 'statement_timeout'): number {
  return parseMsSetting(setting, v);
}

function typeFromOidSafe(oid: number): SqlType | undefined {
  return typeFromOidImpl(oid);
}

import { typeFromOid as typeFromOidImpl } from './types/types.js';

export { relationNameParts };
export { assert, virtualSchemas, lookupFunction, conjuncts, Project, formatValue };

