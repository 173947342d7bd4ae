/**
 * Records PostgreSQL 15's answer to every bad value of ts_insert_bind_cases.ts (ts_insert_bind_cases.json):
 * the same two-row prepared INSERT, through node-postgres, into a plain table of the same columns.
 *   npx tsx packages/server/test/ts_insert_bind_record.ts
 * starts a throwaway PostgreSQL 15 (qa/bench/peers.ts) and writes the fixture.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres } from '../../../qa/bench/peers.js';
import {
  badBinary,
  badText,
  binaryRows,
  caseKey,
  columnNames,
  dataColumns,
  fastInsert,
  sequenceCases,
  tagColumns,
  textRows,
} from './ts_insert_bind_cases.js';
import type { Recorded } from './ts_insert_bind_cases.js';
import { RawClient, serialize } from '../../../qa/harness/rawpg.js';

export const fixtureFile = join(import.meta.dirname, 'ts_insert_bind_cases.json');

/** The two rows of one case: a good row, then the same row with `col` set to `v` (one second later). */
export function caseRows<T>(good: T[], second: T[], col: string, v: T): T[] {
  const bad = second.slice();
  bad[columnNames.indexOf(col)] = v;
  return [...good, ...bad];
}

/** The backend messages answering Parse, Bind, Execute, Sync of a one-row INSERT with `col` set to `v`. */
export async function messageSequence(
  port: number,
  database: string,
  user: string,
  col: string,
  v: string | null,
): Promise<string[]> {
  const c = await RawClient.connect(port, { database, user });
  try {
    const row = (textRows[0] as (string | null)[]).slice();
    row[columnNames.indexOf(col)] = v;
    c.write(
      Buffer.concat([
        serialize.parse({ text: fastInsert('typed', 1) }),
        serialize.bind({ values: row }),
        serialize.execute({}),
        serialize.sync(),
      ]),
    );
    const ms = await c.untilReady();
    return ms.map((m) => (m.name === 'error' ? `error:${(m as unknown as { code: string }).code}` : m.name));
  } finally {
    c.end();
  }
}

if (process.argv[1]?.endsWith('ts_insert_bind_record.ts')) {
  const peer = await startPostgres();
  const c = new pg.Client(peer.url);
  try {
    await c.connect();
    await c.query("set timezone = 'UTC'");
    await c.query(`create table typed (${dataColumns}, ${tagColumns})`);
    const out: Recorded = { errors: {}, sequences: {} };
    const run = async (key: string, values: unknown[]) => {
      try {
        await c.query({ text: fastInsert('typed', 2), values });
        out.errors[key] = null;
      } catch (e) {
        const err = e as { code: string; message: string };
        out.errors[key] = { code: err.code, message: err.message };
      }
    };
    for (const [col, v] of badText)
      await run(
        caseKey('text', col, v),
        caseRows(textRows[0] as unknown[], textRows[1] as unknown[], col, v),
      );
    const bin = binaryRows(true);
    for (const [col, hex] of badBinary)
      await run(
        caseKey('binary', col, hex),
        caseRows(bin[0] as unknown[], bin[1] as unknown[], col, Buffer.from(hex, 'hex')),
      );
    const port = Number(new URL(peer.url).port);
    for (const [col, v] of sequenceCases)
      out.sequences[caseKey('text', col, v)] = await messageSequence(port, 'postgres', 'postgres', col, v);
    writeFileSync(fixtureFile, JSON.stringify(out, null, 2) + '\n');
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } finally {
    await c.end();
    await peer.stop();
  }
}
