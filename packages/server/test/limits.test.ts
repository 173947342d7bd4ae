/**
 * Program limits give PostgreSQL's SQLSTATEs, never XX000 (issue 9): nesting and operator chains
 * (54001, bounded by a depth counter, not by catching RangeError), select lists (54011), function
 * arguments (54023), statement size (54000). Each is checked on a fresh server process, where V8
 * has not optimized the parser yet (its frames are largest), and the server keeps serving.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

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

const nested = (n: number, open: string, inner: string, close: string) =>
  open.repeat(n) + inner + close.repeat(n);

describe('program limits', () => {
  it('1,000 nested parentheses, functions, unary minus, NOT and subqueries: 54001 stack depth limit exceeded', async () => {
    for (const sql of [
      'select ' + nested(1000, '(', '1', ')'),
      'select ' + nested(1000, 'abs(', '1', ')'),
      'select ' + '- '.repeat(1000) + '1',
      'select ' + 'not '.repeat(1000) + 'true',
      'select ' + nested(1000, '(select ', '1', ')'),
      'select ' + nested(1000, 'array[', '1', ']'),
      'select 1' + '::int'.repeat(5000),
    ]) {
      await expect(c.query(sql)).rejects.toMatchObject({
        code: '54001',
        message: 'stack depth limit exceeded',
      });
    }
    expect((await c.query('select 1 as one')).rows[0]).toEqual({ one: 1 });
  });

  it('nesting within the bound answers', async () => {
    expect((await c.query('select ' + nested(200, '(', '7', ')') + ' as v')).rows[0]).toEqual({ v: 7 });
    expect((await c.query('select ' + nested(200, 'abs(', '-7', ')') + ' as v')).rows[0]).toEqual({ v: 7 });
    expect((await c.query('select ' + nested(50, '(select ', '7', ')') + ' as v')).rows[0]).toEqual({ v: 7 });
    expect((await c.query('select ' + Array(900).fill('1').join('+') + ' as v')).rows[0]).toEqual({ v: 900 });
  });

  it('a 1,000,000-term 1+1+…: 54001', async () => {
    await expect(c.query('select ' + Array(1_000_000).fill('1').join('+'))).rejects.toMatchObject({
      code: '54001',
    });
    await expect(
      c.query('select 1 where ' + Array(100_000).fill('true').join(' and ') + ' or false'),
    ).resolves.toBeTruthy();
  });

  it('a 100,000-column select list: 54011 target lists can have at most 1664 entries', async () => {
    await expect(c.query('select ' + Array(100_000).fill('1').join(', '))).rejects.toMatchObject({
      code: '54011',
      message: 'target lists can have at most 1664 entries',
    });
    await c.query(
      'create table wide (' + Array.from({ length: 900 }, (_, i) => `c${i} int`).join(', ') + ')',
    );
    await expect(c.query('select * from wide a, wide b')).rejects.toMatchObject({ code: '54011' });
    expect((await c.query('select ' + Array(1664).fill('1').join(', '))).rows).toHaveLength(1);
  });

  it('more than 100 function arguments: 54023', async () => {
    await expect(c.query('select concat(' + Array(101).fill("'a'").join(', ') + ')')).rejects.toMatchObject({
      code: '54023',
      message: 'cannot pass more than 100 arguments to a function',
    });
    expect((await c.query('select concat(' + Array(100).fill("'a'").join(', ') + ') as s')).rows[0]).toEqual({
      s: 'a'.repeat(100),
    });
    expect(
      (
        await c.query(
          'select greatest(' + Array.from({ length: 500 }, (_, i) => String(i)).join(', ') + ') as g',
        )
      ).rows[0],
    ).toEqual({ g: 499 });
  });

  it('a 1,000,000-item IN list answers (hashed) and a statement past the size bound is refused with 54000', async () => {
    const list = Array.from({ length: 1_000_000 }, (_, i) => i * 2).join(',');
    expect(
      (await c.query(`select count(*)::int as n from generate_series(1, 1000) g where g in (${list})`))
        .rows[0],
    ).toEqual({ n: 500 });
    await expect(c.query(`select '${'x'.repeat(40 * 1024 * 1024)}'`)).rejects.toMatchObject({
      code: '54000',
    });
    expect((await c.query('select 1 as one')).rows[0]).toEqual({ one: 1 });
  });

  it('long literal lists (folded before parsing, bound in bulk or while scanned) answer as short ones do', async () => {
    await c.query('create table lt (id int primary key, b bigint, s text, f float8)');
    const rows = Array.from(
      { length: 3000 },
      (_, i) => `(${i + 1}, ${(i + 1) * 10}, 's${i + 1}', ${i + 1}.5)`,
    );
    await c.query(`insert into lt values ${rows.join(', ')}, (3001, 30010, upper('s3001'), 1.5)`);
    expect(
      (await c.query('select count(*)::int as n, sum(id)::int as s, max(s) as m from lt')).rows[0],
    ).toEqual({ n: 3001, s: 4504501, m: 's999' });
    expect((await c.query('select s from lt where id = 3001')).rows[0]).toEqual({ s: 'S3001' });
    const evens = Array.from({ length: 2000 }, (_, i) => 2 * i);
    expect(
      (await c.query(`select count(*)::int as n from lt where id in (${evens.join(',')})`)).rows[0],
    ).toEqual({ n: 1500 });
    expect(
      (await c.query(`select count(*)::int as n from lt where id not in (${evens.join(',')})`)).rows[0],
    ).toEqual({ n: 1501 });
    expect(
      (await c.query(`select count(*)::int as n from lt where b in (${evens.map((x) => x * 10).join(',')})`))
        .rows[0],
    ).toEqual({ n: 1500 });
    expect(
      (
        await c.query(
          `select count(*)::int as n from lt where s in (${evens.map((x) => `'s${x}'`).join(',')})`,
        )
      ).rows[0],
    ).toEqual({ n: 1500 });
    expect(
      (
        await c.query(
          `select count(*)::int as n from lt where f in (${evens.map((x) => `${x}.5`).join(',')})`,
        )
      ).rows[0],
    ).toEqual({ n: 1500 });
    expect(
      (await c.query(`select count(*)::int as n from lt where id in (${[...evens, 2147483648].join(',')})`))
        .rows[0],
    ).toEqual({ n: 1500 });
    const mixed = Array.from({ length: 2000 }, (_, i) =>
      i % 3 === 0 ? `(${i}, 'a${i}')` : i % 3 === 1 ? `(${i}.25, null)` : `(${i}, 'b')`,
    );
    expect(
      (
        await c.query(
          `select count(*)::int as n, sum(a)::text as s, count(b)::int as nb, max(b) as mb from (values ${mixed.join(', ')}) v(a, b)`,
        )
      ).rows[0],
    ).toEqual({ n: 2000, s: '1999166.75', nb: 1333, mb: 'b' });
    await expect(
      c.query(
        `insert into lt (id, b) values ${Array.from({ length: 1500 }, (_, i) => `(${10000 + i}, 'x${i}')`).join(', ')}`,
      ),
    ).rejects.toMatchObject({ code: '22P02' });
    expect((await c.query('select count(*)::int as n from lt')).rows[0]).toEqual({ n: 3001 });
  });
});
