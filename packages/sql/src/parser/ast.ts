/** The abstract syntax tree produced by the parser. Positions are 0-based offsets in the query. */
import type { AuthStatement } from '../auth/ast.js';
import type { SequenceOptionsAst } from '../sequence_options.js';

/** The values of a folded literal list (parser/bulk_lists.ts), computed while folding. */
export interface BulkValues {
  /** Every item is an integer within int4's range: their values. */
  ints: Set<number> | null;
  /** Every item is a string literal: their texts. */
  strings: Set<string> | null;
}

export type Expr =
  | { kind: 'literal'; value: string | number | boolean | null; literalType: 'string' | 'integer' | 'decimal' | 'bool' | 'null' | 'bitstring'; pos: number }
  | { kind: 'column'; parts: string[]; pos: number }
  | { kind: 'star'; table: string[] | null; pos: number }
  | { kind: 'param'; index: number; pos: number }
  | { kind: 'unary'; op: string; arg: Expr; pos: number }
  | { kind: 'binary'; op: string; left: Expr; right: Expr; pos: number }
  | { kind: 'and'; args: Expr[]; pos: number }
  | { kind: 'or'; args: Expr[]; pos: number }
  | { kind: 'not'; arg: Expr; pos: number }
  | { kind: 'isnull'; arg: Expr; negated: boolean; pos: number }
  | { kind: 'isbool'; arg: Expr; value: boolean | null; negated: boolean; pos: number }
  | { kind: 'distinctfrom'; left: Expr; right: Expr; negated: boolean; pos: number }
  | { kind: 'between'; arg: Expr; low: Expr; high: Expr; negated: boolean; symmetric: boolean; pos: number }
  | { kind: 'like'; arg: Expr; pattern: Expr; escape: Expr | null; negated: boolean; caseInsensitive: boolean; similar: boolean; pos: number }
  | {
      kind: 'inlist';
      arg: Expr;
      list: Expr[];
      negated: boolean;
      pos: number;
      /** A long literal list folded before parsing: its values as a set, when all are int4-range integers or all strings. */
      bulk?: BulkValues;
    }
  | { kind: 'insubquery'; arg: Expr; query: SelectStmt; negated: boolean; pos: number }
  | { kind: 'exists'; query: SelectStmt; pos: number }
  | { kind: 'subquery'; query: SelectStmt; pos: number }
  | { kind: 'quantified'; op: string; arg: Expr; quantifier: 'any' | 'all'; array: Expr | null; query: SelectStmt | null; pos: number }
  | { kind: 'case'; operand: Expr | null; whens: { when: Expr; then: Expr }[]; else: Expr | null; pos: number }
  | { kind: 'cast'; arg: Expr; type: TypeName; pos: number }
  | { kind: 'typed'; type: TypeName; value: string; pos: number }
  | { kind: 'func'; name: string[]; args: Expr[]; distinct: boolean; star: boolean; filter: Expr | null; over: WindowSpec | null; orderBy: OrderItem[]; pos: number; variadic?: boolean; /** Named notation (`f(a => 1)`): each argument's name, null for positional ones. */ argNames?: (string | null)[] }
  | { kind: 'array'; elems: Expr[]; pos: number }
  | { kind: 'arraysubquery'; query: SelectStmt; pos: number }
  /**
   * a[i], or a slice a[i:j] (`upper` present; null when omitted, a[i:]). An omitted lower bound
   * (a[:j]) is the literal 1: every array's lower bounds are 1 here (types/array_md.ts).
   */
  | { kind: 'subscript'; arg: Expr; index: Expr; upper?: Expr | null; pos: number }
  | { kind: 'field'; arg: Expr; field: string; pos: number }
  | { kind: 'row'; args: Expr[]; pos: number }
  | { kind: 'collate'; arg: Expr; collation: string; pos: number }
  | { kind: 'attimezone'; arg: Expr; zone: Expr; pos: number }
  | { kind: 'default'; pos: number };

export interface TypeName {
  name: string;
  /** Modifiers as given: varchar(20) → [20]; numeric(10,2) → [10, 2]. */
  mods: number[];
  arrayDims: number;
  pos: number;
  /** INTERVAL field qualifier (YEAR TO MONTH, DAY TO SECOND(p), …) as PostgreSQL's typmod (range << 16 | precision). */
  intervalTypmod?: number;
}

export interface WindowSpec {
  name: string | null;
  partitionBy: Expr[];
  orderBy: OrderItem[];
  frame: WindowFrame | null;
}

export interface WindowFrame {
  mode: 'rows' | 'range' | 'groups';
  start: FrameBound;
  end: FrameBound;
  exclude: 'no_others' | 'current_row' | 'group' | 'ties';
  pos: number;
}

export type FrameBound = { type: 'unbounded_preceding' | 'unbounded_following' | 'current_row' } | { type: 'preceding' | 'following'; offset: Expr };

export interface OrderItem {
  expr: Expr;
  desc: boolean;
  nulls: 'first' | 'last' | null;
}

export type FromItem =
  | { kind: 'table'; name: string[]; alias: string | null; columnAliases: string[] | null; pos: number }
  | { kind: 'subquery'; query: SelectStmt; alias: string | null; columnAliases: string[] | null; lateral: boolean; pos: number }
  | {
      kind: 'function';
      func: Expr & { kind: 'func' };
      alias: string | null;
      columnAliases: string[] | null;
      withOrdinality: boolean;
      /** More set-returning functions run in lockstep with `func` (select-list SRFs; rows padded with NULLs). */
      zip?: (Expr & { kind: 'func' })[];
      /** A select-list call: a composite result is one record column (SELECT f() gives `(1,x)`), not one column per field. */
      asRecord?: boolean;
      pos: number;
    }
  /** `alias`: `(a JOIN b) AS j` (only its name is kept: the planner still exposes a's and b's columns by their own names). */
  | { kind: 'join'; joinType: 'inner' | 'left' | 'right' | 'full' | 'cross'; left: FromItem; right: FromItem; on: Expr | null; using: string[] | null; natural: boolean; pos: number; alias?: string | null };

export interface SelectItem {
  expr: Expr;
  alias: string | null;
}

export interface CommonTableExpr {
  name: string;
  columns: string[] | null;
  query: SelectStmt;
  recursive: boolean;
}

/** A query: a simple SELECT, VALUES, or a set operation, with ORDER BY / LIMIT around it. */
export type QueryBody =
  | {
      kind: 'select';
      distinct: boolean;
      distinctOn: Expr[] | null;
      items: SelectItem[];
      from: FromItem[];
      where: Expr | null;
      groupBy: Expr[];
      having: Expr | null;
      windows: { name: string; spec: WindowSpec }[];
    }
  | { kind: 'values'; rows: Expr[][] }
  | { kind: 'setop'; op: 'union' | 'intersect' | 'except'; all: boolean; left: SelectStmt; right: SelectStmt };

export interface SelectStmt {
  kind: 'query';
  with: CommonTableExpr[];
  body: QueryBody;
  orderBy: OrderItem[];
  limit: Expr | null;
  offset: Expr | null;
  /** FETCH FIRST … WITH TIES. */
  withTies?: boolean;
  /** FOR UPDATE / FOR SHARE / …: the strength as PostgreSQL names it ("UPDATE", "NO KEY UPDATE", "SHARE", "KEY SHARE"). */
  locking?: string;
  pos: number;
}

export interface ColumnDef {
  name: string;
  type: TypeName;
  notNull: boolean;
  nullExplicit: boolean;
  primaryKey: boolean;
  unique: boolean;
  default: Expr | null;
  /** The DEFAULT expression's source text. */
  defaultText: string | null;
  check: Expr | null;
  checkText: string | null;
  checkName: string | null;
  /** REFERENCES t [(col)], with the CONSTRAINT name written before it (null: the default name). */
  references: { table: string[]; column: string | null; name?: string | null } | null;
  pos: number;
}

export type TableConstraint =
  | { kind: 'primary'; name: string | null; columns: string[] }
  | { kind: 'unique'; name: string | null; columns: string[] }
  | { kind: 'check'; name: string | null; expr: Expr; text: string }
  | { kind: 'foreign'; name: string | null; columns: string[]; table: string[]; refColumns: string[] };

export type AlterTableCmd =
  | { kind: 'addColumn'; column: ColumnDef; ifNotExists: boolean }
  | { kind: 'dropColumn'; name: string; ifExists: boolean }
  | { kind: 'renameColumn'; from: string; to: string }
  | { kind: 'renameTable'; to: string }
  | { kind: 'alterColumnDefault'; column: string; default: Expr | null; defaultText: string | null }
  | { kind: 'alterColumnNotNull'; column: string; notNull: boolean }
  | { kind: 'alterColumnType'; column: string; type: TypeName }
  | { kind: 'addConstraint'; constraint: TableConstraint }
  | { kind: 'dropConstraint'; name: string; ifExists: boolean }
  /** KWDB time-series tables: SET RETENTIONS / ACTIVETIME = duration, RENAME TAG a TO b. */
  | { kind: 'setTsOption'; option: 'retentions' | 'activetime'; seconds: number }
  | { kind: 'renameTag'; from: string; to: string }
  /** KWDB: ADD TAG / DROP TAG / ALTER TAG … TYPE (ALTER COLUMN … TYPE on a tag is the same). */
  | { kind: 'addTag'; tag: ColumnDef; ifNotExists: boolean }
  | { kind: 'dropTag'; name: string; ifExists: boolean }
  | { kind: 'alterTagType'; tag: string; type: TypeName }
  /** SET (storage parameters, as `name=value`) / RESET (names): pg_class.reloptions (storage_params.ts). */
  | { kind: 'setRelOptions'; set: string[]; reset: string[] };

export type Statement =
  | SelectStmt
  | { kind: 'insert'; with: CommonTableExpr[]; table: string[]; alias: string | null; columns: string[] | null; source: SelectStmt | 'default'; onConflict: OnConflict | null; returning: SelectItem[] | null; upsert: boolean; pos: number }
  | { kind: 'update'; with: CommonTableExpr[]; table: string[]; alias: string | null; sets: { column: string; value: Expr }[]; from: FromItem[]; where: Expr | null; returning: SelectItem[] | null; pos: number }
  | { kind: 'delete'; with: CommonTableExpr[]; table: string[]; alias: string | null; using: FromItem[]; where: Expr | null; returning: SelectItem[] | null; pos: number }
  | { kind: 'createDatabase'; name: string; ifNotExists: boolean; ts: TsDatabaseOptions | null; pos: number }
  | { kind: 'alterTsDatabase'; name: string; retentionSeconds: number | null; partitionIntervalSeconds: number | null; pos: number }
  | { kind: 'dropDatabase'; name: string; ifExists: boolean; cascade: boolean; pos: number }
  | { kind: 'createSchema'; name: string; ifNotExists: boolean; pos: number }
  | { kind: 'dropSchema'; names: string[][]; ifExists: boolean; cascade: boolean; pos: number }
  /** `temp`: CREATE TEMP TABLE (in the session's own pg_temp schema); `onCommit`: what a temporary table does at COMMIT. */
  | { kind: 'createTable'; name: string[]; ifNotExists: boolean; columns: ColumnDef[]; constraints: TableConstraint[]; asQuery: SelectStmt | null; ts: TsTableClause | null; temp?: boolean; onCommit?: 'preserve rows' | 'delete rows' | 'drop'; reloptions?: string[]; pos: number }
  | { kind: 'dropTable'; names: string[][]; ifExists: boolean; cascade: boolean; pos: number }
  | { kind: 'alterTable'; name: string[]; ifExists: boolean; cmds: AlterTableCmd[]; pos: number }
  | { kind: 'createIndex'; name: string | null; table: string[]; columns: { name: string; desc: boolean }[]; unique: boolean; ifNotExists: boolean; storing: string[]; reloptions?: string[]; pos: number }
  | { kind: 'dropIndex'; names: string[][]; ifExists: boolean; cascade: boolean; pos: number }
  /** ALTER INDEX [IF EXISTS] name | table@name RENAME TO new */
  /** ALTER INDEX … RENAME TO `to`, or SET (storage parameters) / RESET (names) as `relOptions`. */
  | { kind: 'alterIndex'; name: string[]; ifExists: boolean; to: string | null; relOptions?: { set: string[]; reset: string[] }; pos: number }
  | { kind: 'createSequence'; name: string[]; ifNotExists: boolean; options: SequenceOptionsAst; pos: number }
  | { kind: 'dropSequence'; names: string[][]; ifExists: boolean; pos: number }
  | { kind: 'createView'; name: string[]; orReplace: boolean; columns: string[] | null; query: SelectStmt; text: string; pos: number }
  | { kind: 'dropView'; names: string[][]; ifExists: boolean; pos: number }
  /** CREATE [OR REPLACE] FUNCTION … LANGUAGE sql (catalog/routines.ts holds what is kept). */
  | { kind: 'createFunction'; name: string[]; orReplace: boolean; params: FunctionParam[]; returns: FunctionReturns; language: string; volatility: 'i' | 's' | 'v'; strict: boolean; body: string; pos: number }
  /** CREATE DOMAIN name [AS] type [DEFAULT expr] [[CONSTRAINT c] NOT NULL | NULL | CHECK (expr)]… (catalog/user_types.ts). */
  | { kind: 'createDomain'; name: string[]; type: TypeName; default: string | null; notNull: boolean; checks: { name: string | null; expr: string }[]; pos: number }
  /** CREATE MATERIALIZED VIEW [IF NOT EXISTS] name [(cols)] AS query [WITH [NO] DATA] (matviews.ts). */
  | { kind: 'createMatview'; name: string[]; ifNotExists: boolean; columns: string[] | null; query: SelectStmt; text: string; withData: boolean; pos: number }
  /** REFRESH MATERIALIZED VIEW [CONCURRENTLY] name [WITH [NO] DATA]. */
  | { kind: 'refreshMatview'; name: string[]; concurrently: boolean; withData: boolean; pos: number }
  /** DROP MATERIALIZED VIEW [IF EXISTS] name, … */
  | { kind: 'dropMatview'; names: string[][]; ifExists: boolean; cascade: boolean; pos: number }
  /** ALTER DOMAIN name SET/DROP DEFAULT, SET/DROP NOT NULL, ADD [CONSTRAINT c] CHECK (…) [NOT VALID], DROP CONSTRAINT [IF EXISTS] c. */
  | { kind: 'alterDomain'; name: string[]; action: AlterDomainAction; pos: number }
  /** CREATE TYPE name AS ENUM ('label', …) (catalog/user_types.ts). */
  | { kind: 'createEnum'; name: string[]; labels: string[]; pos: number }
  /** CREATE TYPE name AS (field type, …) (catalog/user_types.ts). */
  | { kind: 'createComposite'; name: string[]; fields: { name: string; type: TypeName }[]; pos: number }
  /** ALTER TYPE name ADD VALUE [IF NOT EXISTS] 'label' [BEFORE | AFTER 'label']. */
  | { kind: 'alterEnum'; name: string[]; label: string; ifNotExists: boolean; before: string | null; after: string | null; pos: number }
  /** DROP DOMAIN / DROP TYPE [IF EXISTS] name, … [CASCADE | RESTRICT]. */
  | { kind: 'dropType'; names: string[][]; domain: boolean; ifExists: boolean; cascade: boolean; pos: number }
  /** DROP FUNCTION [IF EXISTS] name [(argtypes)], … (`args` null: no list given). */
  | { kind: 'dropFunction'; items: { name: string[]; args: TypeName[] | null }[]; ifExists: boolean; cascade: boolean; pos: number }
  | { kind: 'truncate'; names: string[][]; pos: number }
  | { kind: 'copy'; table: string[] | null; query: SelectStmt | null; columns: string[] | null; direction: 'from' | 'to'; options: CopyOptions; pos: number }
  /** BEGIN, or START TRANSACTION (`start`: answered with that command tag). */
  | { kind: 'begin'; isolation: string | null; readOnly: boolean | null; deferrable?: boolean | null; start?: boolean; pos: number }
  /** `chain`: COMMIT/ROLLBACK AND CHAIN (a new block with the same modes follows at once). */
  | { kind: 'commit'; chain: boolean; pos: number }
  | { kind: 'rollback'; savepoint: string | null; chain: boolean; pos: number }
  | { kind: 'savepoint'; name: string; pos: number }
  | { kind: 'release'; name: string; pos: number }
  /** DECLARE name [BINARY] [[NO] SCROLL] CURSOR [WITH|WITHOUT HOLD] FOR query (`scroll` null: neither said). */
  | { kind: 'declareCursor'; name: string; binary: boolean; scroll: boolean | null; hold: boolean; query: SelectStmt; text: string; pos: number }
  /** FETCH / MOVE: `count` Infinity for ALL; `how` the direction as PostgreSQL's grammar has it. */
  | { kind: 'fetch'; move: boolean; name: string; how: 'forward' | 'backward' | 'absolute' | 'relative'; count: number; pos: number }
  /** CLOSE name | CLOSE ALL (name null). */
  | { kind: 'closeCursor'; name: string | null; pos: number }
  /** PREPARE TRANSACTION 'gid' (two-phase commit is disabled, as max_prepared_transactions = 0). */
  | { kind: 'prepareTransaction'; gid: string; pos: number }
  /** COMMIT PREPARED 'gid' / ROLLBACK PREPARED 'gid'. */
  | { kind: 'finishPrepared'; commit: boolean; gid: string; pos: number }
  | { kind: 'set'; name: string; value: (string | number)[] | 'default'; local: boolean; pos: number }
  /** SET TRANSACTION modes; `session`: SET SESSION CHARACTERISTICS AS TRANSACTION (the defaults). */
  | { kind: 'setTransaction'; isolation: string | null; readOnly: boolean | null; deferrable?: boolean | null; session?: boolean; pos: number }
  | { kind: 'show'; name: string; pos: number }
  | { kind: 'showTables'; schema: string[] | null; pos: number }
  | { kind: 'showDatabases'; pos: number }
  | { kind: 'showTags'; table: string[]; pos: number }
  /** ALTER RANGE r | TABLE t | DATABASE d CONFIGURE ZONE USING num_replicas = n | DISCARD (null: discard). */
  | { kind: 'configureZone'; target: ZoneTarget; numReplicas: number | null; pos: number }
  /** SHOW ZONE CONFIGURATION FOR RANGE r | TABLE t | DATABASE d; SHOW [ALL] ZONE CONFIGURATIONS (target null). */
  | { kind: 'showZone'; target: ZoneTarget | null; pos: number }
  /** SHOW RANGES [FROM TABLE t | FROM DATABASE d]. */
  | { kind: 'showRanges'; table: string[] | null; database: string | null; pos: number }
  | { kind: 'showTagValues'; table: string[]; pos: number }
  /** SET CLUSTER SETTING name = value; value null = DEFAULT / RESET CLUSTER SETTING. */
  | { kind: 'setClusterSetting'; name: string; value: string | null; pos: number }
  /** COMPRESS TABLE t | DATABASE db | ALL DATABASES: reorganize and compress inactive TS data now. */
  | { kind: 'compressTs'; table: string[] | null; database: string | null; pos: number }
  /** VACUUM TS DATABASES: run time-series retention now. */
  | { kind: 'vacuumTs'; pos: number }
  /** SHOW CLUSTER SETTING name; name null = SHOW [ALL] CLUSTER SETTINGS. */
  | { kind: 'showClusterSetting'; name: string | null; pos: number }
  | { kind: 'showSchemas'; pos: number }
  | { kind: 'showColumns'; table: string[]; pos: number }
  | { kind: 'showCreate'; table: string[]; pos: number }
  | { kind: 'showIndexes'; table: string[]; pos: number }
  | { kind: 'reset'; name: string; pos: number }
  | { kind: 'use'; name: string; pos: number }
  | { kind: 'explain'; analyze: boolean; verbose: boolean; stmt: Statement; pos: number }
  | { kind: 'prepare'; name: string; types: TypeName[]; stmt: Statement; text: string; pos: number }
  | { kind: 'execute'; name: string; args: Expr[]; pos: number }
  | { kind: 'deallocate'; name: string | null; pos: number }
  | { kind: 'discard'; what: string; pos: number }
  /** LISTEN channel; UNLISTEN channel | * (channel null); NOTIFY channel [, 'payload']. */
  | { kind: 'listen'; channel: string; pos: number }
  | { kind: 'unlisten'; channel: string | null; pos: number }
  | { kind: 'notify'; channel: string; payload: string | null; pos: number }
  /** COMMENT ON (ignored), VACUUM and ANALYZE (nothing to do): answered with `tag`. */
  | { kind: 'comment'; tag?: string; pos: number }
  | { kind: 'empty'; pos: number }
  /** CREATE/ALTER/DROP USER|ROLE, GRANT, REVOKE, SHOW GRANTS|USERS|ROLES (auth/ast.ts). */
  | { kind: 'auth'; stmt: AuthStatement; pos: number };

/** A parameter of CREATE FUNCTION: `[IN|OUT|INOUT|VARIADIC] [name] type [DEFAULT expr]`. */
export interface FunctionParam {
  mode: 'in' | 'out' | 'inout' | 'variadic';
  name: string | null;
  type: TypeName;
  /** The DEFAULT expression's text (re-parsed at each call that omits the argument). */
  defaultText: string | null;
}

/** RETURNS type | RETURNS SETOF type | RETURNS TABLE (name type, …). */
export type FunctionReturns =
  | { kind: 'type'; type: TypeName; setof: boolean }
  | { kind: 'table'; columns: { name: string; type: TypeName }[] };

export type AlterDomainAction =
  | { kind: 'setDefault'; default: string | null }
  | { kind: 'notNull'; notNull: boolean }
  | { kind: 'addCheck'; name: string | null; expr: string; notValid: boolean }
  | { kind: 'dropConstraint'; name: string; ifExists: boolean };

/** CREATE TS DATABASE options (KWDB). Durations in seconds. */
export interface TsDatabaseOptions {
  retentionSeconds: number | null;
  partitionIntervalSeconds: number | null;
  comment: string | null;
}

/** The TAGS … PRIMARY TAGS … part of a KWDB time-series CREATE TABLE. */
export interface TsTableClause {
  tags: ColumnDef[];
  primaryTags: string[];
  retentionSeconds: number | null;
  activeTimeSeconds: number | null;
  hashNum: number | null;
  comment: string | null;
}

export interface CopyOptions {
  format: 'text' | 'csv' | 'binary';
  header: boolean;
  delimiter: string | null;
  null: string | null;
  quote: string;
  escape: string | null;
}

export interface OnConflict {
  columns: string[] | null;
  action: 'nothing' | { sets: { column: string; value: Expr }[]; where: Expr | null };
}

/** What a zone statement names (CockroachDB/KWDB): a named range, a table or a database. */
export type ZoneTarget =
  | { kind: 'range'; name: 'default' | 'liveness' | 'meta' | 'system' | 'timeseries' }
  | { kind: 'table'; name: string[] }
  | { kind: 'database'; name: string };
