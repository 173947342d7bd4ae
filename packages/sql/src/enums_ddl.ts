/**
 * CREATE TYPE … AS ENUM, ALTER TYPE … ADD VALUE and CREATE TYPE … AS (…) (composite types) (catalog/user_types.ts keeps enums,
 * types/enum_order.ts orders their labels, plan/domains.ts checks values cast or assigned to one).
 * DROP TYPE is domains_ddl.ts's dropType.
 */
import { PgError, SqlState } from '@strata/common';
import type { Statement } from './parser/ast.js';
import type { DdlEnv } from './ddl.js';
import type { EnumDesc } from './catalog/user_types.js';
import { findUserType, userTypeFromName } from './plan/domains.js';
import type { CompositeDesc } from './catalog/user_types.js';
import { typeFromName } from './plan/binder.js';
import type { SqlType } from './types/types.js';

/** NAMEDATALEN − 1: PostgreSQL's longest enum label, in bytes. */
const enumLabelBytesMax = 63;

function checkLabel(label: string): void {
  if (Buffer.byteLength(label) > enumLabelBytesMax) {
    throw new PgError(SqlState.InvalidParameterValue, `invalid enum label "${label}"`, { detail: `Labels must be ${enumLabelBytesMax} bytes or less.` });
  }
}

export function createEnum(env: DdlEnv, stmt: Statement & { kind: 'createEnum' }): string {
  const tgt = env.target(stmt.name);
  if (env.view.type(tgt.schemaId, tgt.name) || env.view.table(tgt.schemaId, tgt.name)) throw new PgError(SqlState.DuplicateObject, `type "${tgt.name}" already exists`);
  const seen = new Set<string>();
  for (const l of stmt.labels) {
    checkLabel(l);
    if (seen.has(l)) throw new PgError(SqlState.DuplicateObject, `enum label "${l}" used more than once`);
    seen.add(l);
  }
  const e: EnumDesc = {
    kind: 'enum',
    id: env.catalog.allocateId(env.txn),
    name: tgt.name,
    parentId: tgt.dbId,
    schemaId: tgt.schemaId,
    labels: stmt.labels.map((label, i) => ({ label, sortOrder: i + 1 })),
    version: 1,
  };
  env.catalog.writeDescriptor(env.txn, e);
  return 'CREATE TYPE';
}

export function alterEnum(env: DdlEnv, stmt: Statement & { kind: 'alterEnum' }): string {
  const name = stmt.name[stmt.name.length - 1] as string;
  let t;
  if (stmt.name.length > 1) {
    const db = env.view.database(env.database);
    const s = db ? env.view.schema(db.id, stmt.name[stmt.name.length - 2] as string) : undefined;
    t = s ? env.view.type(s.id, name) : undefined;
  } else t = findUserType(env.view, env, name);
  if (!t) throw new PgError(SqlState.UndefinedObject, `type "${stmt.name.join('.')}" does not exist`);
  if (t.kind !== 'enum') throw new PgError(SqlState.WrongObjectType, `${t.name} is not an enum`);
  checkLabel(stmt.label);
  if (t.labels.some((l) => l.label === stmt.label)) {
    if (stmt.ifNotExists) {
      env.notice(`enum label "${stmt.label}" already exists, skipping`);
      return 'ALTER TYPE';
    }
    throw new PgError(SqlState.DuplicateObject, `enum label "${stmt.label}" already exists`);
  }
  const e: EnumDesc = JSON.parse(JSON.stringify(t)) as EnumDesc;
  e.version++;
  const ls = e.labels;
  const neighbor = stmt.before ?? stmt.after;
  let sortOrder: number;
  if (neighbor === null) sortOrder = ls.length === 0 ? 1 : (ls[ls.length - 1] as { sortOrder: number }).sortOrder + 1;
  else {
    const i = ls.findIndex((l) => l.label === neighbor);
    if (i < 0) throw new PgError(SqlState.InvalidParameterValue, `"${neighbor}" is not an existing enum label`);
    const at = (ls[i] as { sortOrder: number }).sortOrder;
    // Between the neighbour and the label on the other side of it (existing labels keep their order).
    if (stmt.before !== null) sortOrder = i === 0 ? at - 1 : ((ls[i - 1] as { sortOrder: number }).sortOrder + at) / 2;
    else sortOrder = i === ls.length - 1 ? at + 1 : (at + (ls[i + 1] as { sortOrder: number }).sortOrder) / 2;
  }
  ls.push({ label: stmt.label, sortOrder });
  ls.sort((a, b) => a.sortOrder - b.sortOrder);
  env.catalog.writeDescriptor(env.txn, e);
  return 'ALTER TYPE';
}

/** CREATE TYPE name AS (field type, …): a composite type usable for columns, casts and ROW values. */
export function createComposite(env: DdlEnv, stmt: Statement & { kind: 'createComposite' }): string {
  const tgt = env.target(stmt.name);
  if (env.view.type(tgt.schemaId, tgt.name) || env.view.table(tgt.schemaId, tgt.name)) throw new PgError(SqlState.DuplicateObject, `type "${tgt.name}" already exists`);
  const seen = new Set<string>();
  const fields = stmt.fields.map((f) => {
    if (seen.has(f.name)) throw new PgError(SqlState.DuplicateColumn, `column "${f.name}" specified more than once`);
    seen.add(f.name);
    let type: SqlType;
    try {
      type = typeFromName(f.type);
    } catch (e) {
      const u = userTypeFromName(env.view, env, f.type);
      if (!u) throw e;
      type = u;
    }
    if (type.kind === 'array' || type.domain) throw new PgError(SqlState.FeatureNotSupported, `composite type fields of type ${f.type.name}${f.type.arrayDims > 0 ? '[]' : ''} are not supported`);
    return { name: f.name, type };
  });
  const c: CompositeDesc = { kind: 'composite', id: env.catalog.allocateId(env.txn), name: tgt.name, parentId: tgt.dbId, schemaId: tgt.schemaId, fields, version: 1 };
  env.catalog.writeDescriptor(env.txn, c);
  return 'CREATE TYPE';
}
