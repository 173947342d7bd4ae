/**
 * Storage parameters (`CREATE TABLE … WITH (fillfactor = 70)`, `CREATE INDEX … WITH (…)`,
 * `ALTER TABLE … SET (…)`), checked as PostgreSQL 15's reloptions.c checks them and kept (as
 * `pg_class.reloptions`, `name=value` strings) but otherwise ignored: they tune PostgreSQL's heap
 * and btree pages (free space per page, autovacuum, TOAST), which Strata's storage does not have.
 * Accepting them lets scripts written for PostgreSQL (pgbench -i, pg_dump output, ORMs'
 * migrations) run unchanged, and keeping them lets tools (psql `\d+`, pg_dump) show them back;
 * refusing what PostgreSQL refuses keeps a typo from passing silently. Pure: no I/O, no catalog.
 */
import { PgError, SqlState } from '@strata/common';

/** One `name [= value]` item; `namespace` is `toast` for `toast.autovacuum_enabled`. */
export interface StorageParam {
  namespace: string | null;
  name: string;
  /** The value as written (identifier, number or string); null when only the name is given. */
  value: string | null;
}

type Kind = { t: 'bool' } | { t: 'int'; min: number; max: number } | { t: 'real'; min: number; max: number } | { t: 'enum'; values: string[] };
const INT_MAX = 2147483647;
const bool: Kind = { t: 'bool' };
const int = (min: number, max: number): Kind => ({ t: 'int', min, max });
const real = (min: number, max: number): Kind => ({ t: 'real', min, max });

/** Options valid for both a table and its TOAST table (reloptions.c, RELOPT_KIND_HEAP | RELOPT_KIND_TOAST). */
const heapAndToast: Record<string, Kind> = {
  autovacuum_enabled: bool,
  vacuum_truncate: bool,
  autovacuum_vacuum_threshold: int(0, INT_MAX),
  autovacuum_vacuum_insert_threshold: int(-1, INT_MAX),
  autovacuum_vacuum_cost_limit: int(1, 10000),
  autovacuum_freeze_min_age: int(0, 1000000000),
  autovacuum_multixact_freeze_min_age: int(0, 1000000000),
  autovacuum_freeze_max_age: int(100000, 2000000000),
  autovacuum_multixact_freeze_max_age: int(10000, 2000000000),
  autovacuum_freeze_table_age: int(0, 2000000000),
  autovacuum_multixact_freeze_table_age: int(0, 2000000000),
  log_autovacuum_min_duration: int(-1, INT_MAX),
  autovacuum_vacuum_cost_delay: real(-1, 100),
  autovacuum_vacuum_scale_factor: real(0, 100),
  autovacuum_vacuum_insert_scale_factor: real(0, 100),
  vacuum_index_cleanup: { t: 'enum', values: ['auto', 'on', 'off', 'true', 'false', 'yes', 'no', '1', '0'] },
};
/** Options of a table only (RELOPT_KIND_HEAP). */
const heapOnly: Record<string, Kind> = {
  fillfactor: int(10, 100),
  toast_tuple_target: int(128, 8160),
  autovacuum_analyze_threshold: int(0, INT_MAX),
  autovacuum_analyze_scale_factor: real(0, 100),
  parallel_workers: int(0, 1024),
  user_catalog_table: bool,
};
/** Options of a btree index (RELOPT_KIND_BTREE). */
const btree: Record<string, Kind> = { fillfactor: int(10, 100), deduplicate_items: bool };

function invalid(msg: string, detail?: string): PgError {
  return new PgError(SqlState.InvalidParameterValue, msg, detail ? { detail } : {});
}

/** parse_bool's spellings (unique prefixes of true/false/yes/no, on/off, 1/0). */
function parseBool(v: string): boolean | null {
  const s = v.toLowerCase();
  if (s.length === 0) return null;
  if ('true'.startsWith(s) || 'yes'.startsWith(s) || s === 'on' || s === '1') return true;
  if ('false'.startsWith(s) || 'no'.startsWith(s) || s === 'off' || s === '0') return false;
  return null;
}

function check(name: string, kind: Kind, value: string | null): void {
  // A name without a value means "true" (reloptions.c transforms it so before parsing).
  const v = value ?? 'true';
  switch (kind.t) {
    case 'bool':
      if (parseBool(v) === null) throw invalid(`invalid value for boolean option "${name}": ${v}`);
      return;
    case 'int': {
      // parse_int accepts a decimal number and rounds it (fillfactor = 50.5 is 51).
      const n = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(v) ? Math.round(Number(v)) : NaN;
      if (!Number.isFinite(n) || Math.abs(n) > INT_MAX) throw invalid(`invalid value for integer option "${name}": ${v}`);
      if (n < kind.min || n > kind.max) throw invalid(`value ${v} out of bounds for option "${name}"`, `Valid values are between "${kind.min}" and "${kind.max}".`);
      return;
    }
    case 'real': {
      const n = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(v) ? Number(v) : NaN;
      if (!Number.isFinite(n)) throw invalid(`invalid value for floating point option "${name}": ${v}`);
      if (n < kind.min || n > kind.max) throw invalid(`value ${v} out of bounds for option "${name}"`, `Valid values are between "${formatReal(kind.min)}" and "${formatReal(kind.max)}".`);
      return;
    }
    case 'enum':
      if (!kind.values.includes(v.toLowerCase())) throw invalid(`invalid value for enum option "${name}": ${v}`, 'Valid values are "on", "off", and "auto".');
      return;
  }
}

/** reloptions.c prints real bounds with %f. */
function formatReal(n: number): string {
  return n.toFixed(6);
}

/**
 * Checks the storage parameters of a table (`what = 'table'`) or a btree index, with PostgreSQL's
 * errors (22023 for unknown names, bad values and repeats; 0A000 for `oids = true`). `namesOnly`
 * is ALTER TABLE … RESET (names), whose values are not given.
 */
export function checkStorageParams(params: StorageParam[], what: 'table' | 'index', namesOnly = false): void {
  const seen = new Set<string>();
  for (const p of params) {
    const name = p.name.toLowerCase();
    const ns = p.namespace?.toLowerCase() ?? null;
    if (ns !== null && (what === 'index' || ns !== 'toast')) throw invalid(`unrecognized parameter namespace "${ns}"`);
    const full = ns ? `${ns}.${name}` : name;
    if (seen.has(full)) throw invalid(`parameter "${name}" specified more than once`);
    seen.add(full);
    if (what === 'table' && ns === null && name === 'oids' && !namesOnly) {
      // transformRelOptions drops "oids"; interpretOidsOption refuses it when true.
      const b = parseBool(p.value ?? 'true');
      if (b === null) throw new PgError(SqlState.SyntaxError, 'oids requires a Boolean value');
      if (b) throw new PgError(SqlState.FeatureNotSupported, 'tables declared WITH OIDS are not supported');
      continue;
    }
    const kind = what === 'index' ? btree[name] : ns === 'toast' ? heapAndToast[name] : (heapAndToast[name] ?? heapOnly[name]);
    if (!kind) throw invalid(`unrecognized parameter "${name}"`);
    if (!namesOnly) check(name, kind, p.value);
  }
}

/**
 * The `pg_class.reloptions` entries of checked parameters, as transformRelOptions writes them:
 * `name=value` in the order given, a bare name as `name=true`. `toast.*` options belong to the
 * table's TOAST relation (Strata has none, so they are not shown) and `oids` is dropped, as there.
 */
export function relOptionStrings(params: StorageParam[]): string[] {
  const out: string[] = [];
  for (const p of params) {
    const name = p.name.toLowerCase();
    if (p.namespace !== null || name === 'oids') continue;
    out.push(`${name}=${p.value ?? 'true'}`);
  }
  return out;
}

/**
 * ALTER … SET (`set`, as relOptionStrings gives) or RESET (`reset`, names) applied to a
 * relation's reloptions as transformRelOptions does: the options not named keep their order, the
 * set ones follow in the order given. An empty result is SQL NULL in pg_class.
 */
export function mergeRelOptions(old: readonly string[], set: readonly string[], reset: readonly string[]): string[] {
  const nameOf = (o: string) => o.slice(0, o.indexOf('='));
  const named = new Set([...set.map(nameOf), ...reset.map((n) => n.toLowerCase())]);
  return [...old.filter((o) => !named.has(nameOf(o))), ...set];
}
