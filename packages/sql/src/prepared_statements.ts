/**
 * pg_prepared_statements: the session's SQL PREPAREd statements (from_sql true) and the named
 * statements of Parse messages (from_sql false; the unnamed statement is not listed, as in
 * PostgreSQL). generic_plans and custom_plans are 0: Strata plans every execution the same way and
 * keeps no such counts.
 */
import type { Row } from './exec/context.js';
import type { Prepared } from './session.js';
import { typeOid } from './types/types.js';

export function preparedStatementRows(sql: ReadonlyMap<string, Prepared>, protocol: ReadonlyMap<string, Prepared>): Row[] {
  const rows: Row[] = [];
  const add = (name: string, p: Prepared, fromSql: boolean) => rows.push([name, p.text, p.preparedAtUs ?? null, p.paramTypes.map(typeOid), fromSql, 0n, 0n]);
  for (const [name, p] of sql) add(name, p, true);
  for (const [name, p] of protocol) if (name !== '') add(name, p, false);
  return rows;
}
