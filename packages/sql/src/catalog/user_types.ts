/**
 * User-defined types kept in the catalog: domains (CREATE DOMAIN), enums (CREATE TYPE … AS ENUM) and
 * composite types (CREATE TYPE … AS (…)). Stored as descriptors under
 * /System/desc/<id> like functions (catalog/routines.ts): replicated with the catalog, no name key,
 * indexed by CatalogView per (schema, name). A type's name may not be a relation's name in the same
 * schema, as in PostgreSQL (a table has a row type of its name).
 *
 * INVARIANT: `base` is a built-in type; a domain over a domain names it in `parent`, and a value of
 * it passes the parent's constraints first, then its own.
 * INVARIANT: a value of the domain is a value of `base`; `notNull` and `checks` hold for every
 * value cast or assigned to the domain (plan/domains.ts), not for values read back (a constraint
 * added later would need a scan; ALTER DOMAIN is not supported).
 */
import type { SqlType } from '../types/types.js';

export interface DomainDesc {
  kind: 'domain';
  id: number;
  name: string;
  parentId: number;
  schemaId: number;
  base: SqlType;
  /** CREATE DOMAIN d AS other_domain: the domain it is over. */
  parent?: number;
  notNull: boolean;
  /** DEFAULT expression text, used by columns of the domain that have none of their own. */
  default: string | null;
  /** CHECK constraints over VALUE, in creation order (names as PostgreSQL gives them: <domain>_check, …). */
  checks: { name: string; expr: string }[];
  version: number;
}

/**
 * An enum (CREATE TYPE … AS ENUM). INVARIANT: labels are unique and a label's sortOrder never
 * changes once given (ADD VALUE places new ones between or after; types/enum_order.ts relies on it).
 */
export interface EnumDesc {
  kind: 'enum';
  id: number;
  name: string;
  parentId: number;
  schemaId: number;
  /** In sort order. */
  labels: { label: string; sortOrder: number }[];
  version: number;
}

/**
 * A composite type (CREATE TYPE … AS (f type, …)). Its values are records (arrays of field values,
 * stored as such by the row codec). INVARIANT: field types are the ones resolved at CREATE (ALTER
 * TYPE … ADD/DROP ATTRIBUTE is not supported, so stored values always have these fields).
 */
export interface CompositeDesc {
  kind: 'composite';
  id: number;
  name: string;
  parentId: number;
  schemaId: number;
  fields: { name: string; type: SqlType }[];
  version: number;
}

export type UserTypeDesc = DomainDesc | EnumDesc | CompositeDesc;

/** The SqlType of a column, cast or parameter declared with the domain. */
export function domainType(d: DomainDesc): SqlType {
  return { ...d.base, domain: { id: d.id, name: d.name } };
}

/** The SqlType of an enum: its labels as text, ordered by declaration (types/enum_order.ts). */
export function enumType(e: EnumDesc): SqlType {
  return { kind: 'text', typmod: -1, enumType: { id: e.id, name: e.name } };
}

/** The SqlType a user-defined type's name means. */
export function userType(u: UserTypeDesc): SqlType {
  if (u.kind === 'composite') return { kind: 'record', typmod: -1, fields: u.fields, composite: { id: u.id, name: u.name } };
  return u.kind === 'domain' ? domainType(u) : enumType(u);
}
