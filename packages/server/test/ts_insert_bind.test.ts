/**
 * Prepared multi-row INSERT into a time-series table in KWDB's TSBS shape takes COPY's path
 * (sql/src/ts_insert_bind.ts: the Bind's parameters built straight into TS write commands). The
 * same parameters go through that path (`fast`: `VALUES ($1 … $12), ($13 …)`) and through the
 * ordinary one (`ordinary`: the tag listed first, so the parameters are not in row order), into
 * identical tables in two databases, with node-postgres in text and binary parameter formats:
 * the rows read back must be equal, and every bad value must fail both ways with the same
 * SQLSTATE and message — PostgreSQL 15's (ts_insert_bind_cases.json, ts_insert_bind_record.ts) —
 * leaving no row behind.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import {
  badBinary,
  badText,
  binaryRows,
  caseKey,
  dataColumns,
  fastInsert,
  ordinaryInsert,
  sequenceCases,
  tagColumns,
  textRows,
  width,
} from './ts_insert_bind_cases.js';
import type { Recorded } from './ts_insert_bind_cases.js';
import { caseRows, fixtureFile, messageSequence } from './ts_insert_bind_record.js';
import { RawClient, serialize } from '../../../qa/harness/rawpg.js';

const recorded = JSON.parse(readFileSync(fixtureFile, 'utf8')) as Recorded;
const pgErrors = recorded.errors;

let node: TestNode;
/** Clients of database `fast` and of database `ordinary` (each holds a table `typed`). */
let fast: pg.Client;
let ordinary: pg.Client;

beforeAll(async () => {
  node = await startNode();
  const s = new pg.Client(node.url);
  await s.connect();
  for (const db of ['fast', 'ordinary']) {
    await s.query(`create ts database ${db}`);
    await s.query(`create table ${db}.typed (${dataColumns}) tags (${tagColumns}) primary tags (dev)`);
  }
  await s.end();
  const connect = async (db: string) => {
    const c = new pg.Client(node.url.replace('/defaultdb', `/${db}`));
    await c.connect();
    await c.query("set timezone = 'UTC'");
    return c;
  };
  fast = await connect('fast');
  ordinary = await connect('ordinary');
});
afterAll(async () => {
  await fast.end();
  await ordinary.end();
  await node.stop();
  node.cleanup();
});

const readBack = async (c: pg.Client) =>
  (
    await c.query(
      'select ts::text, i2, i4, i8::text, f8::text, f4::text, b, s, t6::text, tl::text, dev, model from typed order by dev, ts',
    )
  ).rows;

/** Inserts `values` (rows × width parameters) both ways; the error each way, or null. */
async function both(
  values: unknown[],
): Promise<[{ code: string; message: string } | null, { code: string; message: string } | null]> {
  const rows = values.length / width;
  const attempt = async (c: pg.Client, text: string) => {
    try {
      const r = await c.query({ text, values });
      expect(r.rowCount).toBe(rows);
      return null;
    } catch (e) {
      const err = e as { code: string; message: string };
      return { code: err.code, message: err.message };
    }
  };
  return [
    await attempt(fast, fastInsert('typed', rows)),
    await attempt(ordinary, ordinaryInsert('typed', rows)),
  ];
}

describe('prepared multi-row INSERT into a time-series table (Bind straight into TS write commands)', () => {
  it('stores every value as the ordinary INSERT path does: text parameters, binary ones, and a Bind mixing both', async () => {
    expect(await both(textRows.flat())).toEqual([null, null]);
    expect(await both(binaryRows(false).flat())).toEqual([null, null]);
    expect(
      await both(
        binaryRows(true)
          .flat()
          .map((v, i) =>
            i % width === 10 && v !== null ? Buffer.from([0, 0, 0, 20 + Math.floor(i / width)]) : v,
          ),
      ),
    ).toEqual([null, null]);
    // Statements prepared once and bound again (node-postgres names them): the tag cache across Binds.
    for (let k = 0; k < 3; k++) {
      const rows = textRows.map((r, j) => [`2026-02-0${k + 1} 00:00:0${j}+00`, ...r.slice(1)]);
      const [a, b] = await Promise.all([
        fast.query({ name: 'again', text: fastInsert('typed', rows.length), values: rows.flat() }),
        ordinary.query({ name: 'again', text: ordinaryInsert('typed', rows.length), values: rows.flat() }),
      ]);
      expect([a.rowCount, b.rowCount]).toEqual([rows.length, rows.length]);
    }
    const stored = await readBack(fast);
    expect(stored).toHaveLength(textRows.length * 4 + 3 + 3);
    expect(stored).toEqual(await readBack(ordinary));
  });

  it("fails every bad text value with the ordinary path's and PostgreSQL 15's error, and stores nothing of the statement", async () => {
    const before = (await readBack(fast)).length;
    for (const [col, v] of badText) {
      const [f, o] = await both(caseRows(textRows[0] as unknown[], textRows[1] as unknown[], col, v));
      expect(f, `${col} = ${v}`).not.toBeNull();
      expect(f, `${col} = ${v}`).toEqual(o);
      expect(f, `${col} = ${v}`).toEqual(pgErrors[caseKey('text', col, v)]);
    }
    expect((await readBack(fast)).length).toBe(before);
    expect(await readBack(fast)).toEqual(await readBack(ordinary));
  });

  it("fails every malformed binary value with the ordinary path's and PostgreSQL 15's error", async () => {
    const rows = binaryRows(true);
    const before = (await readBack(fast)).length;
    for (const [col, hex] of badBinary) {
      const [f, o] = await both(
        caseRows(rows[0] as unknown[], rows[1] as unknown[], col, Buffer.from(hex, 'hex')),
      );
      expect(f, `${col} = ${hex}`).not.toBeNull();
      expect(f, `${col} = ${hex}`).toEqual(o);
      expect(f, `${col} = ${hex}`).toEqual(pgErrors[caseKey('binary', col, hex)]);
    }
    expect((await readBack(fast)).length).toBe(before);
  });

  it('refuses a timestamp a time-series table cannot hold (±infinity) the same way both paths', async () => {
    const inf = Buffer.from('7fffffffffffffff', 'hex');
    const rows = binaryRows(true);
    const [f, o] = await both(caseRows(rows[0] as unknown[], rows[1] as unknown[], 'ts', inf));
    expect(f?.code).toBe('22008');
    expect(f).toEqual(o);
    const [ft, ot] = await both(
      caseRows(textRows[0] as unknown[], textRows[1] as unknown[], 'ts', 'infinity'),
    );
    expect(ft?.code).toBe('22008');
    expect(ft).toEqual(ot);
  });

  it('a thousand-row statement of many devices, as a TSBS loader sends it, reads back equal', async () => {
    const rows: unknown[][] = [];
    for (let r = 0; r < 1000; r++) {
      const t = new Date(Date.UTC(2026, 2, 1) + Math.floor(r / 50) * 10_000).toISOString();
      rows.push([
        t,
        r % 100,
        r,
        r * 1_000_003,
        r / 8,
        r / 4,
        r % 2 === 0,
        `s${r % 10}`,
        t,
        t.replace('Z', ''),
        1000 + (r % 50),
        `host_${r % 50}`,
      ]);
    }
    expect(await both(rows.flat())).toEqual([null, null]);
    const q =
      'select count(*)::int as n, count(distinct dev)::int as d, sum(i8)::text as s from typed where dev >= 1000';
    const [a, b] = [(await fast.query(q)).rows, (await ordinary.query(q)).rows];
    expect(a).toEqual([{ n: 1000, d: 50, s: String((999 * 1000 * 1_000_003) / 2) }]);
    expect(a).toEqual(b);
    expect(await readBack(fast)).toEqual(await readBack(ordinary));
  });

  it('reports each error at the message PostgreSQL 15 reports it (Bind or Execute)', async () => {
    for (const [col, v] of sequenceCases) {
      expect(await messageSequence(node.port, 'fast', 'root', col, v), `${col} = ${v}`).toEqual(
        recorded.sequences[caseKey('text', col, v)],
      );
    }
  });

  it('a Bind built before a cluster setting changes is executed under the new setting (ts.dedup.rule = reject)', async () => {
    // The row repeats a stored (device, timestamp): accepted (overwritten) under the
    // default rule, refused under reject — which is set between this Bind and its Execute.
    await fast.query({ text: fastInsert('typed', 1), values: textRows[0] as unknown[] }); // stored (again: overwritten)
    const values = caseRows([] as unknown[], textRows[0] as unknown[], 'model', 'm9');
    const c = await RawClient.connect(node.port, { database: 'fast' });
    try {
      c.write(
        Buffer.concat([
          serialize.parse({ text: fastInsert('typed', 1) }),
          serialize.bind({ values: values as (string | null)[] }),
          serialize.flush(),
        ]),
      );
      await c.waitFor('bindComplete');
      await fast.query("set cluster setting ts.dedup.rule = 'reject'");
      c.write(Buffer.concat([serialize.execute({}), serialize.sync()]));
      const ms = await c.untilReady();
      expect(
        ms.map((m) => (m.name === 'error' ? `error:${(m as unknown as { code: string }).code}` : m.name)),
      ).toEqual(['error:23505', 'readyForQuery']);
    } finally {
      c.end();
      await fast.query('reset cluster setting ts.dedup.rule');
    }
    expect((await fast.query("select count(*)::int as n from typed where model = 'm9'")).rows[0].n).toBe(0);
  });

  it('a column list in another order, columns left out, and a statement past one command (21,000 rows)', async () => {
    // Numbered in row order with a column list: the fast path; numbered backwards: the ordinary one.
    const list = 'model, i8, dev, ts';
    const rows = 30;
    const values: unknown[] = [];
    for (let r = 0; r < rows; r++)
      values.push(
        r % 3 === 0 ? null : `m${r % 4}`,
        String(r * 7),
        String(500 + (r % 5)),
        `2026-04-01 00:00:${String(r).padStart(2, '0')}+00`,
      );
    const n = values.length;
    const numbered = (f: (k: number) => number) =>
      `insert into typed (${list}) values ${Array.from({ length: rows }, (_, r) => '(' + [0, 1, 2, 3].map((i) => `$${f(r * 4 + i)}`).join(', ') + ')').join(', ')}`;
    await fast.query({ text: numbered((k) => k + 1), values });
    await ordinary.query({ text: numbered((k) => n - k), values: [...values].reverse() });
    const q =
      'select ts::text, i2, i8::text, s, dev, model from typed where dev between 500 and 504 order by dev, ts';
    const stored = (await fast.query(q)).rows;
    expect(stored).toHaveLength(rows);
    expect(stored).toEqual((await ordinary.query(q)).rows);
    // 21,000 rows × 3 parameters: two commands.
    for (const c of [fast, ordinary])
      await c.query(
        'create table narrow (ts timestamptz not null, v int2) tags (dev int4 not null) primary tags (dev)',
      );
    const many = 21_000;
    const nv: string[] = [];
    for (let r = 0; r < many; r++)
      nv.push(new Date(Date.UTC(2026, 4, 1) + r * 1000).toISOString(), String(r % 1000), String(r % 7));
    const place = (f: (k: number) => number) =>
      `insert into narrow values ${Array.from({ length: many }, (_, r) => `($${f(3 * r)}, $${f(3 * r + 1)}, $${f(3 * r + 2)})`).join(', ')}`;
    await fast.query({ text: place((k) => k + 1), values: nv });
    await ordinary.query({ text: place((k) => 3 * many - k), values: [...nv].reverse() });
    const nq =
      'select dev, count(*)::int as n, sum(v)::int as s, min(ts)::text as lo, max(ts)::text as hi from narrow group by dev order by dev';
    const a = (await fast.query(nq)).rows;
    expect(a.reduce((t: number, r: { n: number }) => t + r.n, 0)).toBe(many);
    expect(a).toEqual((await ordinary.query(nq)).rows);
  });
});
