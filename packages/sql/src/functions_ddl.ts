/**
 * CREATE [OR REPLACE] FUNCTION … LANGUAGE sql and DROP FUNCTION (catalog/routines.ts keeps them,
 * plan/sql_functions.ts calls them).
 *
 * As PostgreSQL with check_function_bodies on, the body is planned when the function is created,
 * so a body naming a missing table or column, or returning a type the declaration cannot take, is
 * refused at CREATE (42P01, 42703, 42P13 …) instead of at the first call.
 */
import { PgError, SqlState } from '@strata/common';
import type { Statement, TypeName } from './parser/ast.js';
import type { DdlEnv } from './ddl.js';
import type { FunctionDesc, FunctionParamDesc } from './catalog/routines.js';
import { functionResult, functionSignature, inParams } from './catalog/routines.js';
import type { Binder } from './plan/binder.js';
import { typeFromName } from './plan/binder.js';
import { planBody, visibleFunctions } from './plan/sql_functions.js';
import { userTypeFromName } from './plan/domains.js';
import { T, formatType, sameType } from './types/types.js';
import type { SqlType } from './types/types.js';
import { visibleColumns } from './catalog/descriptors.js';
import { functionArgsMax } from './constants.js';

/** A declared type: a built-in type, or a table's row type (RETURNS [SETOF] tablename). */
function declaredType(env: DdlEnv, t: TypeName): { type: SqlType; rowTypeName?: string } {
  const n = t.name.toLowerCase();
  if (n === 'void') return { type: T.void };
  try {
    return { type: typeFromName(t) };
  } catch (e) {
    const u = userTypeFromName(env.view, env, t);
    if (u) return { type: u, ...(u.composite ? { rowTypeName: u.composite.name } : {}) };
    let table;
    try {
      table = t.arrayDims === 0 ? env.findTable([t.name]) : undefined;
    } catch {
      table = undefined;
    }
    if (!table || table.kind === 'sequence') throw e;
    const fields = visibleColumns(table).map((c) => ({ name: c.name, type: c.type }));
    return { type: { kind: 'record', typmod: -1, fields }, rowTypeName: table.name };
  }
}

export function createFunction(env: DdlEnv, stmt: Statement & { kind: 'createFunction' }, makeBinder: () => Binder): string {
  if (stmt.language !== 'sql') {
    const known = ['plpgsql', 'c', 'internal', 'plperl', 'plpython3u', 'pltcl'];
    if (known.includes(stmt.language)) throw new PgError(SqlState.FeatureNotSupported, `functions in language ${stmt.language} are not supported (only LANGUAGE sql)`);
    throw new PgError(SqlState.UndefinedObject, `language "${stmt.language}" does not exist`);
  }
  if (stmt.params.length > functionArgsMax) throw new PgError(SqlState.TooManyArguments, `functions cannot have more than ${functionArgsMax} arguments`);
  const tgt = env.target(stmt.name);
  const params: FunctionParamDesc[] = stmt.params.map((p) => {
    if (p.mode === 'variadic') throw new PgError(SqlState.FeatureNotSupported, 'VARIADIC parameters of SQL functions are not supported');
    const d = declaredType(env, p.type);
    if (d.rowTypeName !== undefined && !d.type.composite) throw new PgError(SqlState.FeatureNotSupported, `parameters of a table's row type are not supported (type ${p.type.name})`);
    if (d.type.kind === 'void') throw new PgError(SqlState.InvalidFunctionDefinition, 'SQL functions cannot have arguments of type void');
    return { name: p.name, mode: p.mode, type: d.type, default: p.defaultText };
  });
  // Parameters after one with a default need one too (42P13, as PostgreSQL).
  let sawDefault = false;
  for (const p of params) {
    if (p.mode === 'out') continue;
    if (p.default !== null) sawDefault = true;
    else if (sawDefault) throw new PgError(SqlState.InvalidFunctionDefinition, 'input parameters after one with a default value must also have defaults');
  }
  const outs = params.filter((p) => p.mode === 'out' || p.mode === 'inout');
  let result: SqlType;
  let retSet: boolean;
  let returnsTable = false;
  let rowTypeName: string | undefined;
  const r = stmt.returns;
  if (r.kind === 'table' && outs.length === 0) {
    result = { kind: 'record', typmod: -1, fields: r.columns.map((c) => ({ name: c.name, type: declaredType(env, c.type).type })) };
    retSet = true;
    returnsTable = true;
  } else if (outs.length > 0) {
    // OUT parameters define the result: one is its type, several a record of them.
    retSet = r.kind === 'type' && r.setof;
    result = outs.length === 1 ? (outs[0] as FunctionParamDesc).type : { kind: 'record', typmod: -1, fields: outs.map((p, i) => ({ name: p.name ?? `column${i + 1}`, type: p.type })) };
    if (r.kind === 'type') {
      const declared = declaredType(env, r.type).type;
      const fine = outs.length === 1 ? sameType(declared, result) : declared.kind === 'record';
      if (!fine) throw new PgError(SqlState.InvalidFunctionDefinition, `function result type must be ${outs.length === 1 ? formatType(result) : 'record'} because of OUT parameters`);
    }
  } else if (r.kind === 'type') {
    const d = declaredType(env, r.type);
    if (d.type.kind === 'record' && d.rowTypeName === undefined) {
      throw new PgError(SqlState.FeatureNotSupported, 'functions returning an anonymous record (without OUT parameters or a table type) are not supported');
    }
    result = d.type;
    rowTypeName = d.rowTypeName;
    retSet = r.setof;
  } else throw new PgError(SqlState.InvalidFunctionDefinition, 'function result type must be specified');

  const view = env.view;
  const sameArgs = (f: FunctionDesc) => {
    const a = inParams(f);
    const b = params.filter((p) => p.mode !== 'out');
    return a.length === b.length && a.every((p, i) => sameType(p.type, (b[i] as FunctionParamDesc).type));
  };
  const existing = view.functionsNamed(tgt.schemaId, tgt.name).find(sameArgs);
  const fn: FunctionDesc = {
    kind: 'function',
    id: existing?.id ?? env.catalog.allocateId(env.txn),
    name: tgt.name,
    parentId: tgt.dbId,
    schemaId: tgt.schemaId,
    params,
    result,
    retSet,
    returnsTable,
    ...(rowTypeName !== undefined ? { rowTypeName } : {}),
    language: 'sql',
    volatility: stmt.volatility,
    strict: stmt.strict,
    body: stmt.body,
    version: (existing?.version ?? 0) + 1,
  };
  if (existing) {
    if (!stmt.orReplace) throw new PgError(SqlState.DuplicateFunction, `function "${tgt.name}" already exists with same argument types`);
    if (existing.retSet !== fn.retSet || functionResult(existing) !== functionResult(fn)) {
      throw new PgError(SqlState.InvalidFunctionDefinition, 'cannot change return type of existing function', {
        hint: `Use DROP FUNCTION ${functionSignature(existing)} first.`,
      });
    }
  }
  // check_function_bodies: the body must plan against the current catalog.
  planBody(makeBinder(), fn);
  env.catalog.writeDescriptor(env.txn, fn);
  return 'CREATE FUNCTION';
}

export function dropFunction(env: DdlEnv, stmt: Statement & { kind: 'dropFunction' }): string {
  for (const item of stmt.items) {
    const name = item.name[item.name.length - 1] as string;
    const candidates = visibleFunctions(env.view, { database: env.database, searchPath: env.searchPath }, item.name);
    const argTypes = item.args?.map((t) => declaredType(env, t).type) ?? null;
    const shown = `${item.name.join('.')}(${(argTypes ?? []).map(formatType).join(', ')})`;
    let found: FunctionDesc | undefined;
    if (argTypes === null) {
      if (candidates.length > 1) {
        throw new PgError(SqlState.AmbiguousFunction, `function name "${item.name.join('.')}" is not unique`, { hint: 'Specify the argument list to select the function unambiguously.' });
      }
      found = candidates[0];
      if (!found) {
        if (stmt.ifExists) {
          env.notice(`function ${name}() does not exist, skipping`);
          continue;
        }
        throw new PgError(SqlState.UndefinedFunction, `could not find a function named "${item.name.join('.')}"`);
      }
    } else {
      found = candidates.find((f) => {
        const ps = inParams(f);
        return ps.length === argTypes.length && ps.every((p, i) => sameType(p.type, argTypes[i] as SqlType));
      });
      if (!found) {
        if (stmt.ifExists) {
          env.notice(`function ${shown} does not exist, skipping`);
          continue;
        }
        throw new PgError(SqlState.UndefinedFunction, `function ${shown} does not exist`);
      }
    }
    env.catalog.deleteDescriptor(env.txn, found);
  }
  return 'DROP FUNCTION';
}
