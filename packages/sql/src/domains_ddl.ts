/**
 * CREATE DOMAIN and DROP DOMAIN / DROP TYPE (catalog/user_types.ts keeps domains, plan/domains.ts
 * checks their values). The DEFAULT and CHECK expressions are bound when the domain is created, so
 * a check naming anything but VALUE, or not boolean, is refused then, as in PostgreSQL.
 */
import { PgError, SqlState } from '@strata/common';
import type { Statement } from './parser/ast.js';
import type { DdlEnv } from './ddl.js';
import type { DomainDesc, UserTypeDesc } from './catalog/user_types.js';
import type { SqlType, Value } from './types/types.js';
import type { ColumnDesc, TableDesc } from './catalog/descriptors.js';
import { scanRows } from './ddl.js';
import { functionSignature } from './catalog/routines.js';
import type { Binder } from './plan/binder.js';
import { typeFromName } from './plan/binder.js';
import { findUserType } from './plan/domains.js';
import { parseExpression } from './parser/parser.js';
import { Scope } from './plan/scope.js';

export function createDomain(env: DdlEnv, stmt: Statement & { kind: 'createDomain' }, makeBinder: () => Binder): string {
  const tgt = env.target(stmt.name);
  if (env.view.type(tgt.schemaId, tgt.name) || env.view.table(tgt.schemaId, tgt.name)) throw new PgError(SqlState.DuplicateObject, `type "${tgt.name}" already exists`);
  let base: SqlType;
  let parent: number | undefined;
  try {
    base = typeFromName(stmt.type);
  } catch (e) {
    // A domain over a domain: the values are the root type's, the parent's constraints hold too.
    const p = findUserType(env.view, env, stmt.type.name);
    if (!p || stmt.type.arrayDims > 0) throw e;
    if (p.kind !== 'domain') throw new PgError(SqlState.FeatureNotSupported, `domains over enum ${p.name} are not supported`);
    base = p.base;
    parent = p.id;
  }
  const b = makeBinder();
  if (stmt.default !== null) b.coerce(b.bind(parseExpression(stmt.default), new Scope([])), base, false, 'default');
  const scope = new Scope([{ name: 'value', rel: null, type: base }]);
  const checks: DomainDesc['checks'] = [];
  for (const ch of stmt.checks) {
    b.coerceBool(b.bind(parseExpression(ch.expr), scope), 'CHECK');
    // ChooseConstraintName: <domain>_check, then <domain>_check1, <domain>_check2, …
    let name = ch.name;
    for (let i = 0; name === null; i++) {
      const candidate = `${tgt.name}_check${i === 0 ? '' : i}`;
      if (!checks.some((c) => c.name === candidate) && !stmt.checks.some((c) => c.name === candidate)) name = candidate;
    }
    if (checks.some((c) => c.name === name)) throw new PgError(SqlState.DuplicateObject, `constraint "${name}" for domain "${tgt.name}" already exists`);
    checks.push({ name, expr: ch.expr });
  }
  const d: DomainDesc = {
    kind: 'domain',
    id: env.catalog.allocateId(env.txn),
    name: tgt.name,
    parentId: tgt.dbId,
    schemaId: tgt.schemaId,
    base,
    ...(parent !== undefined ? { parent } : {}),
    notNull: stmt.notNull,
    default: stmt.default,
    checks,
    version: 1,
  };
  env.catalog.writeDescriptor(env.txn, d);
  return 'CREATE DOMAIN';
}

/** What still uses a type: columns of tables, domains over it, parameters or results of functions (PostgreSQL's pg_depend). */
function dependents(env: DdlEnv, t: UserTypeDesc): string[] {
  const out: string[] = [];
  for (const tbl of env.view.allTables()) {
    for (const c of tbl.columns) if (c.type.domain?.id === t.id || c.type.enumType?.id === t.id || c.type.composite?.id === t.id || c.type.elem?.enumType?.id === t.id) out.push(`column ${c.name} of table ${tbl.name} depends on type ${t.name}`);
  }
  for (const f of env.view.functionsById.values()) {
    const isT = (x: SqlType) => x.domain?.id === t.id || x.enumType?.id === t.id || x.composite?.id === t.id;
    const uses = f.params.some((p) => isT(p.type)) || isT(f.result) || (f.result.fields ?? []).some((x) => isT(x.type));
    if (uses) out.push(`function ${functionSignature(f)} depends on type ${t.name}`);
  }
  for (const d of env.view.typesById.values()) if (d.kind === 'domain' && d.parent === t.id) out.push(`type ${d.name} depends on type ${t.name}`);
  for (const d of env.view.typesById.values()) {
    if (d.kind === 'composite' && d.fields.some((f) => f.type.enumType?.id === t.id || f.type.composite?.id === t.id)) out.push(`column ${d.fields.find((f) => f.type.enumType?.id === t.id || f.type.composite?.id === t.id)?.name} of composite type ${d.name} depends on type ${t.name}`);
  }
  return out;
}

export function dropType(env: DdlEnv, stmt: Statement & { kind: 'dropType' }): string {
  const tag = stmt.domain ? 'DROP DOMAIN' : 'DROP TYPE';
  for (const parts of stmt.names) {
    const name = parts[parts.length - 1] as string;
    let t: UserTypeDesc | undefined;
    if (parts.length > 1) {
      const db = env.view.database(env.database);
      const s = db ? env.view.schema(db.id, parts[parts.length - 2] as string) : undefined;
      t = s ? env.view.type(s.id, name) : undefined;
    } else t = findUserType(env.view, env, name);
    if (!t) {
      if (stmt.ifExists) {
        env.notice(`type "${parts.join('.')}" does not exist, skipping`);
        continue;
      }
      throw new PgError(SqlState.UndefinedObject, `type "${parts.join('.')}" does not exist`);
    }
    if (stmt.domain && t.kind !== 'domain') throw new PgError(SqlState.WrongObjectType, `"${t.name}" is not a domain`);
    const deps = dependents(env, t);
    if (deps.length > 0) {
      if (stmt.cascade) throw new PgError(SqlState.FeatureNotSupported, `${tag} … CASCADE of a type still in use is not supported`, { detail: deps.join('\n') });
      throw new PgError(SqlState.DependentObjectsStillExist, `cannot drop type ${t.name} because other objects depend on it`, {
        detail: deps.join('\n'),
        hint: 'Use DROP ... CASCADE to drop the dependent objects too.',
      });
    }
    env.catalog.deleteDescriptor(env.txn, t);
  }
  return tag;
}

/** The domain a name means (42704 if none; 42809 if the type is no domain). */
function findDomain(env: DdlEnv, parts: string[]): DomainDesc {
  const name = parts[parts.length - 1] as string;
  let t: UserTypeDesc | undefined;
  if (parts.length > 1) {
    const db = env.view.database(env.database);
    const s = db ? env.view.schema(db.id, parts[parts.length - 2] as string) : undefined;
    t = s ? env.view.type(s.id, name) : undefined;
  } else t = findUserType(env.view, env, name);
  if (!t) throw new PgError(SqlState.UndefinedObject, `type "${parts.join('.')}" does not exist`);
  if (t.kind !== 'domain') throw new PgError(SqlState.WrongObjectType, `"${t.name}" is not a domain`);
  return t;
}

/** Every stored value of the domain (or of domains over it): table, column and the value. */
function* storedValues(env: DdlEnv, d: DomainDesc): Generator<{ t: TableDesc; col: ColumnDesc; v: Value }> {
  const ids = new Set([d.id]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const x of env.view.typesById.values()) {
      if (x.kind === 'domain' && x.parent !== undefined && ids.has(x.parent) && !ids.has(x.id)) {
        ids.add(x.id);
        grew = true;
      }
    }
  }
  for (const t of env.view.allTables()) {
    const cols = t.columns.map((c, i) => ({ c, i })).filter(({ c }) => c.type.domain !== undefined && ids.has(c.type.domain.id));
    if (cols.length === 0 || t.kind !== 'table') continue;
    for (const row of scanRows(env, t)) for (const { c, i } of cols) yield { t, col: c, v: row[i] as Value };
  }
}

export function alterDomain(env: DdlEnv, stmt: Statement & { kind: 'alterDomain' }, makeBinder: () => Binder): string {
  const d = findDomain(env, stmt.name);
  const nd: DomainDesc = JSON.parse(JSON.stringify(d)) as DomainDesc;
  nd.version++;
  const a = stmt.action;
  switch (a.kind) {
    case 'setDefault':
      if (a.default !== null) {
        const b = makeBinder();
        b.coerce(b.bind(parseExpression(a.default), new Scope([])), d.base, false, 'default');
      }
      nd.default = a.default;
      break;
    case 'notNull':
      if (a.notNull && !d.notNull) {
        for (const { t, col, v } of storedValues(env, d)) {
          if (v === null) throw new PgError(SqlState.NotNullViolation, `column "${col.name}" of table "${t.name}" contains null values`);
        }
      }
      nd.notNull = a.notNull;
      break;
    case 'addCheck': {
      const b = makeBinder();
      const ev = b.coerceBool(b.bind(parseExpression(a.expr), new Scope([{ name: 'value', rel: null, type: d.base }])), 'CHECK').ev;
      let name = a.name;
      for (let i = 0; name === null; i++) {
        const candidate = `${d.name}_check${i === 0 ? '' : i}`;
        if (!d.checks.some((c) => c.name === candidate)) name = candidate;
      }
      if (d.checks.some((c) => c.name === name)) throw new PgError(SqlState.DuplicateObject, `constraint "${name}" for domain "${d.name}" already exists`);
      if (!a.notValid) {
        const ctx = env.execCtx();
        for (const { t, col, v } of storedValues(env, d)) {
          if (v !== null && ev([v], ctx) === false) throw new PgError(SqlState.CheckViolation, `column "${col.name}" of table "${t.name}" contains values that violate the new constraint`);
        }
      }
      nd.checks.push({ name, expr: a.expr });
      break;
    }
    case 'dropConstraint': {
      const i = nd.checks.findIndex((c) => c.name === a.name);
      if (i < 0) {
        if (a.ifExists) {
          env.notice(`constraint "${a.name}" of domain "${d.name}" does not exist, skipping`);
          return 'ALTER DOMAIN';
        }
        throw new PgError(SqlState.UndefinedObject, `constraint "${a.name}" of domain "${d.name}" does not exist`);
      }
      nd.checks.splice(i, 1);
      break;
    }
  }
  env.catalog.writeDescriptor(env.txn, nd);
  return 'ALTER DOMAIN';
}
