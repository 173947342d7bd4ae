/**
 * Records PostgreSQL 15's answers for binary_cursor.test.ts: the wire messages of FETCH from
 * `DECLARE … BINARY CURSOR` (RowDescription format codes, DataRow values in binary send format)
 * over the table of copy_binary_record.ts, which holds every type Strata supports. Run against a
 * throwaway PostgreSQL 15, e.g.
 *   initdb -D /tmp/pg -A trust -U postgres && pg_ctl -D /tmp/pg -o '-p 55432 -k /tmp' start
 *   PG_PORT=55432 npx tsx packages/server/test/binary_cursor_record.ts
 * The fixture (binary_cursor_cases.json) is then the expectation; Strata is compared byte for byte.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RawClient, serialize } from '../../../qa/harness/rawpg.js';
import { typesTableDdl, typesTableRows } from './copy_binary_record.js';

/**
 * Each step is one simple Query (which may hold several statements), or `extended:` followed by
 * one statement sent as Parse/Bind (no result formats)/Describe portal/Execute/Sync.
 */
export const binaryCursorSteps: string[] = [
  'begin',
  'declare bc binary cursor for select * from bt order by id',
  'fetch 2 from bc',
  'fetch all from bc',
  'fetch 1 from bc',
  'rollback',
  'begin; declare bs binary scroll cursor for select id, n, ts, ai, id * 2 as twice, -id::int8 as neg, null::int4 as nothing from bt order by id',
  'fetch last from bs; fetch prior from bs',
  'move absolute 0 in bs',
  'select name, is_holdable, is_binary, is_scrollable from pg_cursors order by name',
  'extended:fetch next from bs',
  'fetch backward 2 from bs',
  'commit',
  'declare bh binary cursor with hold for select id, t, by, d, tm from bt order by id',
  'fetch 3 from bh; fetch backward 1 from bh',
  'close bh',
  'begin; declare tc cursor for select id, t from bt order by id; fetch 2 from tc; commit',
];

/** One backend message as recorded: its type and body (RowDescription's table OIDs zeroed). */
export interface Frame {
  type: string;
  hex: string;
}

export interface Fixture {
  ddl: string;
  rows: string[];
  steps: { step: string; frames: Frame[] }[];
}

export const fixtureFile = join(import.meta.dirname, 'binary_cursor_cases.json');

/**
 * RowDescription with each field's table OID set to 0: the OIDs are the server's own numbering
 * (the column number and everything else is compared).
 */
function zeroTableOids(body: Buffer): Buffer {
  const b = Buffer.from(body);
  const n = b.readInt16BE(0);
  let o = 2;
  for (let i = 0; i < n; i++) {
    while (b[o] !== 0) o++;
    o++;
    b.writeUInt32BE(0, o);
    o += 18;
  }
  return b;
}

/** Messages of the answer that describe its result (not ParameterStatus, notices or ReadyForQuery). */
const kept = new Set(['T', 'D', 'C', 'E', 'n', '1', '2', 's', 'I']);

/** Runs one step and returns the result messages it got; an ErrorResponse is kept as its SQLSTATE. */
export async function runStep(c: RawClient, step: string): Promise<Frame[]> {
  const from = c.frames.length;
  if (step.startsWith('extended:')) {
    const text = step.slice('extended:'.length);
    c.write(
      Buffer.concat([
        serialize.parse({ text }),
        serialize.bind({}),
        serialize.describe({ type: 'P' }),
        serialize.execute({}),
        serialize.sync(),
      ]),
    );
    await c.untilReady();
  } else await c.query(step);
  return c.frames
    .slice(from)
    .filter((f) => kept.has(f.type))
    .map((f) => {
      if (f.type === 'T') return { type: 'T', hex: zeroTableOids(f.body).toString('hex') };
      if (f.type === 'E') {
        const code = /C([0-9A-Z]{5})\0/.exec(f.body.toString('latin1'))?.[1] ?? '?';
        return { type: 'E', hex: code };
      }
      return { type: f.type, hex: f.body.toString('hex') };
    });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const c = await RawClient.connect(Number(process.env.PG_PORT ?? 5432), {
    user: 'postgres',
    database: 'postgres',
  });
  await c.query('drop table if exists bt');
  await c.query(typesTableDdl);
  for (const r of typesTableRows) await c.query(r);
  const steps: Fixture['steps'] = [];
  for (const step of binaryCursorSteps) steps.push({ step, frames: await runStep(c, step) });
  c.end();
  const fixture: Fixture = { ddl: typesTableDdl, rows: typesTableRows, steps };
  writeFileSync(fixtureFile, JSON.stringify(fixture, null, 1) + '\n');
  process.stdout.write(`recorded ${steps.length} steps\n`);
}
