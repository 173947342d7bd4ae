/**
 * Records PostgreSQL 15's answers to the privilege matrix (privilege_matrix.ts) into
 * privilege_matrix.json: 'ok' or the SQLSTATE of each (user, operation), and the CONNECT cells.
 * Starts a throwaway PostgreSQL 15 from Debian's package (trust authentication: passwords are
 * not what is compared), or uses PG_URL's server (a superuser; its database privdb is replaced).
 *
 *   npx tsx packages/server/test/privilege_record.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres } from '../../../qa/bench/peers.js';
import { lockedDbSetup, matrixDb, ops, ownerSetupSql, setupSql, sqlFor, users } from './privilege_matrix.js';
import type { MatrixResult } from './privilege_matrix.js';

export async function runMatrix(
  connect: (user: string | null, database: string) => Promise<pg.Client>,
  system: 'postgres' | 'strata',
): Promise<{ cells: MatrixResult; connect: Record<string, string> }> {
  const admin = await connect(null, matrixDb);
  for (const q of setupSql) await admin.query(q);
  const owner = await connect('u_owner', matrixDb);
  for (const q of ownerSetupSql) await owner.query(q);
  await owner.end();
  const cells: MatrixResult = {};
  for (const user of users) {
    const c = await connect(user, matrixDb);
    const row: Record<string, string> = {};
    for (const op of ops) {
      const sql = sqlFor(op, system);
      const txn = op.txn !== false;
      if (txn) await c.query('begin');
      try {
        await c.query(sql);
        row[op.name] = 'ok';
        if (op.cleanup) await admin.query(op.cleanup);
      } catch (e) {
        row[op.name] = (e as { code?: string }).code ?? String(e);
      } finally {
        if (txn) await c.query('rollback');
      }
    }
    cells[user] = row;
    await c.end();
  }
  for (const q of lockedDbSetup) await admin.query(q);
  const conn: Record<string, string> = {};
  for (const user of ['u_none', 'u_all']) {
    try {
      const c = await connect(user, 'lockeddb');
      await c.query('select 1');
      await c.end();
      conn[user] = 'ok';
    } catch (e) {
      conn[user] = (e as { code?: string }).code ?? String(e);
    }
  }
  await admin.end();
  return { cells, connect: conn };
}

async function main(): Promise<void> {
  const peer = process.env.PG_URL ? null : await startPostgres();
  const url = new URL(process.env.PG_URL ?? (peer as { url: string }).url);
  try {
    const boot = new pg.Client(url.toString());
    await boot.connect();
    for (const db of [matrixDb, 'lockeddb', 'newdb']) await boot.query(`drop database if exists ${db}`);
    for (const u of [...users, 'readers', 'newu', 'newr']) await boot.query(`drop role if exists ${u}`);
    await boot.query(`create database ${matrixDb}`);
    await boot.end();
    const result = await runMatrix(async (user, database) => {
      const u = new URL(url.toString());
      if (user) u.username = user;
      u.pathname = `/${database}`;
      const c = new pg.Client(u.toString());
      await c.connect();
      return c;
    }, 'postgres');
    const file = join(import.meta.dirname, 'privilege_matrix.json');
    writeFileSync(file, JSON.stringify({ recordedFrom: 'PostgreSQL 15', ...result }, null, 1) + '\n');
    process.stdout.write(`wrote ${file}\n`);
  } finally {
    await peer?.stop();
  }
}

if (process.argv[1]?.endsWith('privilege_record.ts')) await main();
