/**
 * Domains in expressions: resolving a type name to a user-defined type (catalog/user_types.ts),
 * and the check a value passes when it is cast or assigned to a domain — NOT NULL (23502
 * `domain d does not allow null values`) then each CHECK over VALUE in creation order (23514
 * `value for domain d violates check constraint "c"`), as PostgreSQL's domain_check.
 */
import { PgError, SqlState } from '@strata/common';
import type { CatalogView } from '../catalog/catalog.js';
import type { DomainDesc, UserTypeDesc } from '../catalog/user_types.js';
import { userType } from '../catalog/user_types.js';
import type { TypeName } from '../parser/ast.js';
import { parseExpression } from '../parser/parser.js';
import type { ExecCtx } from '../exec/context.js';
import type { SqlType, Value } from '../types/types.js';
import type { Binder } from './binder.js';
import { Scope } from './scope.js';

/** The user-defined type a (bare) type name means on the search path, if any. */
export function findUserType(view: CatalogView, session: { database: string; searchPath: string[] }, name: string): UserTypeDesc | undefined {
  const db = view.database(session.database);
  if (!db) return undefined;
  for (const sn of session.searchPath) {
    const s = view.schema(db.id, sn);
    const t = s ? view.type(s.id, name) : undefined;
    if (t) return t;
  }
  return undefined;
}

/** The SqlType of a type name that is a user-defined type, or undefined. */
export function userTypeFromName(view: CatalogView, session: { database: string; searchPath: string[] }, t: TypeName): SqlType | undefined {
  const u = findUserType(view, session, t.name);
  if (!u) return undefined;
  if (t.mods.length > 0) throw new PgError(SqlState.SyntaxError, `type modifier is not allowed for type "${u.name}"`, { position: t.pos + 1 });
  if (t.arrayDims > 0) throw new PgError(SqlState.FeatureNotSupported, `arrays of ${u.kind} ${u.name} are not supported`, { position: t.pos + 1 });
  return userType(u);
}

export type DomainCheck = (v: Value, ctx: ExecCtx) => void;

/**
 * The check of values cast or assigned to an enum: a label of it (22P02 as enum_in), with the
 * labels the statement's catalog holds. Null for other types.
 */
export function enumCheck(b: Binder, t: SqlType): DomainCheck | null {
  if (!t.enumType) return null;
  const e = b.env.catalog.typesById.get(t.enumType.id);
  if (!e || e.kind !== 'enum') throw new PgError(SqlState.UndefinedObject, `type with OID ${t.enumType.id} does not exist`);
  const labels = new Set(e.labels.map((l) => l.label));
  const name = e.name;
  return (v) => {
    if (v !== null && !labels.has(v as string)) throw new PgError(SqlState.InvalidTextRepresentation, `invalid input value for enum ${name}: "${String(v)}"`);
  };
}

/** The check of values cast or assigned to `t`, or null if `t` is no domain (or one without constraints). */
export function domainCheck(b: Binder, t: SqlType): DomainCheck | null {
  if (!t.domain) return null;
  return domainCheckById(b, t.domain.id, t.domain.name);
}

/** `shown`: the domain the value is cast to, which PostgreSQL's messages name (also for its parents' constraints). */
function domainCheckById(b: Binder, id: number, shown: string): DomainCheck | null {
  const d = b.env.catalog.domainById(id);
  if (!d) throw new PgError(SqlState.UndefinedObject, `type with OID ${id} does not exist`);
  const parent = d.parent !== undefined ? domainCheckById(b, d.parent, shown) : null;
  const own = ownCheck(b, d, shown);
  if (!parent) return own;
  if (!own) return parent;
  return (v, ctx) => {
    parent(v, ctx);
    own(v, ctx);
  };
}

/** A domain's own constraints (not its parent's). */
function ownCheck(b: Binder, d: DomainDesc, shown: string): DomainCheck | null {
  if (!d.notNull && d.checks.length === 0) return null;
  const scope = new Scope([{ name: 'value', rel: null, type: d.base }]);
  const checks = b.withHooks([], () => d.checks.map((ch) => ({ name: ch.name, ev: b.coerceBool(b.bind(parseExpression(ch.expr), scope), 'CHECK').ev })));
  const name = shown;
  const notNull = d.notNull;
  return (v, ctx) => {
    if (v === null) {
      if (notNull) throw new PgError(SqlState.NotNullViolation, `domain ${name} does not allow null values`);
    }
    const row = [v];
    for (const ch of checks) {
      if (ch.ev(row, ctx) === false) throw new PgError(SqlState.CheckViolation, `value for domain ${name} violates check constraint "${ch.name}"`, { constraint: ch.name });
    }
  };
}
