/**
 * Regular expressions run on a linear-time engine (issue 9): the "regex bomb" answers at once while
 * another session is served; PostgreSQL 15's answers for a corpus of patterns (recorded in
 * regex_cases.json by regex_record.ts) are Strata's too; and what the engine cannot do fails with
 * 2201B instead of answering wrongly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import type { RegexCase } from './regex_record.js';

let node: TestNode;
let c: pg.Client;
beforeAll(async () => {
  node = await startNode();
  c = new pg.Client(node.url);
  await c.connect();
});
afterAll(async () => {
  await c.end();
  await node.stop();
  node.cleanup();
});

const textRows = { getTypeParser: () => (v: string) => v };

describe('regular expressions', () => {
  it('the regex bomb answers f while a bystander session is served', async () => {
    const bystander = new pg.Client(node.url);
    await bystander.connect();
    try {
      // Many bombs in one statement: on a backtracking engine each alone pins the CPU for minutes.
      const heavy = c.query(
        "select count(*)::int as n from generate_series(1, 2000) g where repeat('a', 40 + g % 7) || '!' ~ '^(a+)+$'",
      );
      let answered = 0;
      for (let i = 0; i < 5; i++) {
        const r = await bystander.query('select 1 as one');
        expect(r.rows[0]).toEqual({ one: 1 });
        answered++;
      }
      expect((await heavy).rows[0]).toEqual({ n: 0 });
      expect(answered).toBe(5);
      expect((await c.query("select repeat('a', 40) || '!' ~ '^(a+)+$' as m")).rows[0]).toEqual({ m: false });
    } finally {
      await bystander.end();
    }
  });

  it("gives PostgreSQL 15's answers for the recorded corpus", async () => {
    const cases = JSON.parse(
      readFileSync(join(import.meta.dirname, 'regex_cases.json'), 'utf8'),
    ) as RegexCase[];
    const failures: string[] = [];
    for (const k of cases) {
      let got: RegexCase['pg'];
      try {
        const r = await c.query({ text: k.sql, rowMode: 'array', types: textRows });
        got = { rows: (r.rows as (string | null)[][]).map((row) => row[0] ?? null) };
      } catch (e) {
        got = { error: (e as { code?: string }).code ?? String(e) };
      }
      if (JSON.stringify(got) !== JSON.stringify(k.pg))
        failures.push(
          `${k.sql}\n  PostgreSQL: ${JSON.stringify(k.pg)}\n  Strata:     ${JSON.stringify(got)}`,
        );
    }
    expect(failures.join('\n')).toBe('');
  });

  it('refuses back references and lookahead with 2201B (the engine cannot run them in linear time)', async () => {
    for (const p of ['(a)\\1', 'a(?=b)', 'a(?!b)', '([a-z])x\\1']) {
      await expect(c.query(`select 'aa' ~ '${p}'`)).rejects.toMatchObject({
        code: '2201B',
        message: expect.stringContaining('not supported'),
      });
    }
    await expect(c.query("select regexp_replace('aa', '(a)\\1', 'x')")).rejects.toMatchObject({
      code: '2201B',
    });
    await expect(c.query("select 'a' ~ '(?b)a'")).rejects.toMatchObject({ code: '2201B' });
  });

  it('refuses patterns whose program is too large with 2201B', async () => {
    const big = Array.from({ length: 200 }, (_, i) => `[a-z]{${100 + (i % 50)}}x${i}`).join('|');
    await expect(c.query('select $1::text ~ $2', ['abc', big])).rejects.toMatchObject({
      code: '2201B',
      message: expect.stringContaining('too complex'),
    });
  });

  it('patterns from a column compile once per distinct pattern and answer per row', async () => {
    await c.query('create table pats (id int primary key, p text, s text)');
    await c.query(
      "insert into pats values (1, '^a+$', 'aaa'), (2, 'b', 'abc'), (3, '^(a|b)*c$', 'ababx'), (4, '[', 'x')",
    );
    expect((await c.query('select id, s ~ p as m from pats where id < 4 order by id')).rows).toEqual([
      { id: 1, m: true },
      { id: 2, m: true },
      { id: 3, m: false },
    ]);
    await expect(c.query('select s ~ p from pats')).rejects.toMatchObject({ code: '2201B' });
  });
});
