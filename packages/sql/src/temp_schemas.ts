/**
 * Temporary tables live in a schema of their session, `pg_temp_<node>_<backend pid>` (PostgreSQL's
 * `pg_temp_<backend id>`), created in the current database on the first CREATE TEMP TABLE. Its
 * descriptors and rows are ordinary ones (replicated like any table), made private by name
 * resolution: the owning session finds its temp schema first (and as `pg_temp`), every other
 * session is refused (0A000), as in PostgreSQL.
 *
 * Lifetime: the session drops its temp schemas when it ends. A node that stopped without doing so
 * (a crash, SIGKILL) drops every temp schema named after itself when it starts, before serving SQL,
 * since none of its sessions survived; a session whose pid names a schema left behind drops it
 * before its first use (PostgreSQL's InitTempTableNamespace does the same).
 *
 * INVARIANT: only the session whose name a temp schema carries reads or writes its tables.
 */
import { logger } from '@strata/common';
import { Txn, prefixEnd, tablePrefix } from '@strata/kv';
import type { CatalogView } from './catalog/catalog.js';
import { isTempSchemaName, tempSchemaPrefix } from './catalog/catalog.js';
import type { SchemaDesc } from './catalog/descriptors.js';
import type { SqlEngine } from './engine.js';

export { isTempSchemaName, tempSchemaPrefix };

export function tempSchemaName(nodeId: number, backendPid: number): string {
  return `${tempSchemaPrefix}${nodeId}_${backendPid}`;
}

/** Deletes a schema, its tables' rows, descriptors and ownership records, in txn. */
export function dropSchemaWithin(engine: SqlEngine, txn: Txn, view: CatalogView, schema: SchemaDesc): void {
  for (const t of [...(view.tables.get(schema.id)?.values() ?? [])]) {
    const p = tablePrefix(t.id);
    for (const { key } of txn.scan(p, prefixEnd(p))) txn.del(key);
    engine.catalog.deleteDescriptor(txn, t);
    engine.auth.deleteAcl(txn, t.id);
  }
  engine.catalog.deleteDescriptor(txn, schema);
  engine.auth.deleteAcl(txn, schema.id);
}

/** Drops, in one transaction, every temp schema (in any database) whose name `match` accepts; returns how many. */
export async function dropTempSchemas(engine: SqlEngine, match: (name: string) => boolean): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const txn = await Txn.begin(engine.opts.sender);
    try {
      const view = engine.catalog.view(txn);
      let n = 0;
      for (const db of view.databases.values()) {
        for (const s of view.schemasOf(db.id)) {
          if (!isTempSchemaName(s.name) || !match(s.name)) continue;
          dropSchemaWithin(engine, txn, view, s);
          n++;
        }
      }
      if (n === 0) {
        txn.rollback();
        return 0;
      }
      await txn.commit();
      return n;
    } catch (e) {
      if (txn.isOpen()) txn.rollback();
      // A conflict with a concurrent catalog change: try again a few times.
      if (attempt >= 4) throw e;
    }
  }
}

/** At node start: the temp schemas of this node's sessions, all gone with the previous process. */
export async function dropOrphanTempSchemas(engine: SqlEngine): Promise<void> {
  const prefix = `${tempSchemaPrefix}${engine.opts.nodeId}_`;
  try {
    const n = await dropTempSchemas(engine, (name) => name.startsWith(prefix));
    if (n > 0) logger('sql').info({ schemas: n }, 'dropped temporary schemas left by sessions of a previous run');
  } catch (e) {
    logger('sql').warn({ err: e }, 'could not drop temporary schemas left by a previous run (retried at the next start)');
  }
}
