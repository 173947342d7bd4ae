/**
 * User-defined SQL-language functions (CREATE FUNCTION … LANGUAGE sql): what the catalog keeps of
 * them, and how pg_proc and psql's \df show them.
 *
 * A function is a descriptor like a table's (stored as JSON under /System/desc/<id>, so it is
 * replicated with the rest of the catalog and every node's cache drops it when it changes), but it
 * has no name key: functions overload by argument types, so CatalogView indexes them by
 * (schema, name) → list, and a signature (name + IN argument types) is unique per schema.
 *
 * INVARIANT: `body` was parsed and planned against the catalog when the function was created
 * (PostgreSQL's check_function_bodies), so calling it fails only if the objects it names changed.
 * INVARIANT: `result` is the type one call yields: a scalar, or a record with named fields for
 * RETURNS TABLE, OUT parameters and RETURNS [SETOF] <table> (its row type when created).
 */
import type { SqlType } from '../types/types.js';
import { formatType } from '../types/types.js';

export interface FunctionParamDesc {
  name: string | null;
  mode: 'in' | 'out' | 'inout' | 'variadic';
  type: SqlType;
  /** DEFAULT expression text, re-parsed when a call leaves the argument out. */
  default: string | null;
}

export interface FunctionDesc {
  kind: 'function';
  id: number;
  name: string;
  /** The database. */
  parentId: number;
  schemaId: number;
  params: FunctionParamDesc[];
  result: SqlType;
  /** RETURNS SETOF / TABLE: a call yields rows (pg_proc.proretset). */
  retSet: boolean;
  /** RETURNS TABLE (…): the fields are table columns (shown as TABLE(…) by \df). */
  returnsTable: boolean;
  /** RETURNS [SETOF] <table name>: the table whose row type is returned (\df shows its name). */
  rowTypeName?: string;
  language: 'sql';
  /** pg_proc.provolatile. */
  volatility: 'i' | 's' | 'v';
  strict: boolean;
  /** The statements of the body, as written (the text of `AS '…'`, or `SELECT expr` for `RETURN expr`). */
  body: string;
  version: number;
}

/** The types of the arguments a call passes (IN, INOUT and VARIADIC parameters). */
export function inParams(f: FunctionDesc): FunctionParamDesc[] {
  return f.params.filter((p) => p.mode !== 'out');
}

/** Parameters that shape the result (OUT, INOUT). */
export function outParams(f: FunctionDesc): FunctionParamDesc[] {
  return f.params.filter((p) => p.mode === 'out' || p.mode === 'inout');
}

/** pg_get_function_identity_arguments: the IN argument types (with names), no defaults. */
export function identityArguments(f: FunctionDesc): string {
  return inParams(f)
    .map((p) => `${p.mode === 'inout' ? 'INOUT ' : p.mode === 'variadic' ? 'VARIADIC ' : ''}${p.name ? p.name + ' ' : ''}${formatType(p.type)}`)
    .join(', ');
}

/** pg_get_function_arguments: every declared parameter (OUT ones too; RETURNS TABLE columns are not parameters here), with defaults. */
export function functionArguments(f: FunctionDesc): string {
  return f.params
    .map((p) => {
      const mode = p.mode === 'out' ? 'OUT ' : p.mode === 'inout' ? 'INOUT ' : p.mode === 'variadic' ? 'VARIADIC ' : '';
      return `${mode}${p.name ? p.name + ' ' : ''}${formatType(p.type)}${p.default !== null ? ` DEFAULT ${p.default}` : ''}`;
    })
    .join(', ');
}

/** pg_get_function_result: `integer`, `SETOF text`, `TABLE(a integer, b text)`, `record`, a table's name. */
export function functionResult(f: FunctionDesc): string {
  if (f.returnsTable) return `TABLE(${(f.result.fields ?? []).map((x) => `${x.name} ${formatType(x.type)}`).join(', ')})`;
  const base = f.rowTypeName ?? (f.result.kind === 'record' ? 'record' : formatType(f.result));
  return f.retSet ? `SETOF ${base}` : base;
}

/** `name(argtypes)` as PostgreSQL's messages print a function. */
export function functionSignature(f: FunctionDesc): string {
  return `${f.name}(${inParams(f).map((p) => formatType(p.type)).join(', ')})`;
}
