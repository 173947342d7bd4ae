/**
 * Memory accounting (issue 9): a sort over its statement's budget (work_mem) spills to temporary
 * files under <store>/tmp and still answers correctly; hash aggregation spills partitions; what
 * cannot spill fails with 53200 and a detail naming the budget; the node's budget
 * (--max-sql-memory) bounds all statements together; temporary files are removed when the
 * statement ends and at start. Files are observed while a cursor holds the statement suspended
 * (postgres.js fetches 10 rows at a time), not by timing.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

let node: TestNode;
let c: pg.Client;
beforeAll(async () => {
  node = await startNode(undefined, ['--max-sql-memory=160MiB']);
  c = new pg.Client(node.url);
  await c.connect();
});
afterAll(async () => {
  await c.end();
  await node.stop();
  node.cleanup();
});

const tmpFiles = () => readdirSync(join(node.dir, 'tmp')).filter((f) => f.endsWith('.spill'));

describe('memory budgets', () => {
  it('work_mem is a session setting sized from the node budget', async () => {
    expect((await c.query('show work_mem')).rows[0]).toEqual({ work_mem: '20MB' }); // 160 MiB / 8
    await c.query("set work_mem = '1MB'");
    expect((await c.query('show work_mem')).rows[0]).toEqual({ work_mem: '1MB' });
    await c.query('set work_mem = 2048'); // kB, as in PostgreSQL
    expect((await c.query('show work_mem')).rows[0]).toEqual({ work_mem: '2MB' });
    await expect(c.query("set work_mem = 'lots'")).rejects.toMatchObject({ code: '22023' });
    await c.query('reset work_mem');
    expect((await c.query('show work_mem')).rows[0]).toEqual({ work_mem: '20MB' });
  });

  it('an over-budget sort spills to temporary files, answers correctly, and removes them', async () => {
    const sql = postgres(node.url, { max: 1 });
    try {
      await sql`set work_mem = '1MB'`;
      let first = true;
      let seen = 0;
      let prev: string | null = null;
      let n = 0;
      let sorted = true;
      for await (const rows of sql`select g, md5(g::text) as h from generate_series(1, 100000) g order by md5(g::text)`.cursor(
        10,
      )) {
        if (first) {
          seen = tmpFiles().length; // the input is sorted; the merge is reading the runs back
          first = false;
        }
        for (const r of rows as { g: number; h: string }[]) {
          if (prev !== null && prev > r.h) sorted = false;
          prev = r.h;
          n++;
        }
      }
      expect(seen).toBeGreaterThan(1);
      expect(n).toBe(100000);
      expect(sorted).toBe(true);
      expect(tmpFiles()).toEqual([]);
      // The same rows as in memory.
      await sql`reset work_mem`;
      const [a] =
        await sql`select count(*)::int as n, sum(g)::text as s, min(h) as lo, max(h) as hi from (select g, md5(g::text) as h from generate_series(1, 100000) g order by 2) x`;
      expect(a).toEqual({
        n: 100000,
        s: '5000050000',
        lo: (await sql`select min(md5(g::text)) as m from generate_series(1, 100000) g`)[0]?.m,
        hi: prev,
      });
    } finally {
      await sql.end();
    }
  });

  it('an over-budget hash aggregation spills partitions and gives every group once', async () => {
    const sql = postgres(node.url, { max: 1 });
    try {
      await sql`set work_mem = '1MB'`;
      let first = true;
      let seen = 0;
      const keys = new Set<number>();
      let total = 0;
      for await (const rows of sql`select g % 40000 as k, count(*)::int as c, min(g) as lo, max(g) as hi from generate_series(1, 120000) g group by 1`.cursor(
        10,
      )) {
        if (first) {
          seen = tmpFiles().length;
          first = false;
        }
        for (const r of rows as { k: number; c: number; lo: number; hi: number }[]) {
          expect(keys.has(r.k)).toBe(false);
          keys.add(r.k);
          total += r.c;
          expect([r.lo, r.hi]).toEqual([r.k === 0 ? 40000 : r.k, (r.k === 0 ? 40000 : r.k) + 80000]);
        }
      }
      expect(seen).toBeGreaterThan(0);
      expect(keys.size).toBe(40000);
      expect(total).toBe(120000);
      expect(tmpFiles()).toEqual([]);
    } finally {
      await sql.end();
    }
  });

  it('operators of one statement share work_mem; each may still hold a small floor, so nested spilling operators answer', async () => {
    await c.query("set work_mem = '1MB'");
    // The inner aggregation holds the whole budget while it emits; the outer one still works.
    expect(
      (
        await c.query(
          'select count(*)::int as n from (select g % 20000 as k, count(*) from generate_series(1, 60000) g group by 1) x',
        )
      ).rows[0],
    ).toEqual({ n: 20000 });
    expect(
      (
        await c.query(
          'select count(*)::int as n, max(k)::int as m from (select k from (select g % 20000 as k from generate_series(1, 60000) g group by 1) x order by md5(k::text)) y',
        )
      ).rows[0],
    ).toEqual({ n: 20000, m: 19999 });
    await c.query('reset work_mem');
    expect(tmpFiles()).toEqual([]);
  });

  it('what cannot spill fails with 53200 naming the budget, and the session goes on', async () => {
    await c.query("set work_mem = '1MB'");
    await expect(
      c.query('select array_length(array_agg(g), 1) from generate_series(1, 1000000) g'),
    ).rejects.toMatchObject({
      code: '53200',
      message: 'out of memory',
      detail: expect.stringContaining('work_mem 1.0 MiB'),
    });
    await expect(
      c.query('select count(*) from generate_series(1, 300000) a join generate_series(1, 300000) b on a = b'),
    ).rejects.toMatchObject({ code: '53200' });
    await expect(
      c.query('with w as materialized (select g from generate_series(1, 300000) g) select count(*) from w'),
    ).rejects.toMatchObject({ code: '53200' });
    await c.query('reset work_mem');
    expect(
      (await c.query('select array_length(array_agg(g), 1)::int as n from generate_series(1, 1000000) g'))
        .rows[0],
    ).toEqual({ n: 1000000 });
    expect(tmpFiles()).toEqual([]);
  });

  it("the node's budget bounds all statements together (--max-sql-memory)", async () => {
    // One session holds a window's rows in memory while its cursor is suspended ...
    const holder = postgres(node.url, { max: 1 });
    const other = new pg.Client(node.url);
    await other.connect();
    try {
      await holder`set work_mem = '150MB'`;
      await other.query("set work_mem = '150MB'");
      let checked = false;
      for await (const _rows of holder`select g, count(*) over () from generate_series(1, 2000000) g`.cursor(
        10,
      )) {
        if (checked) continue;
        checked = true;
        // ... so another statement finds the node's budget spent, though its own work_mem is not.
        await expect(
          other.query('select array_length(array_agg(g), 1) from generate_series(1, 14000000) g'),
        ).rejects.toMatchObject({
          code: '53200',
          detail: expect.stringContaining('--max-sql-memory'),
        });
        break;
      }
      expect(checked).toBe(true);
    } finally {
      await holder.end();
      await other.end();
    }
    // Released: the same statement now fits.
    await c.query("set work_mem = '150MB'");
    expect(
      (await c.query('select array_length(array_agg(g), 1)::int as n from generate_series(1, 14000000) g'))
        .rows[0],
    ).toEqual({ n: 14000000 });
    await c.query('reset work_mem');
  });

  it('leftover temporary files are removed at start', async () => {
    mkdirSync(join(node.dir, 'tmp'), { recursive: true });
    writeFileSync(join(node.dir, 'tmp', '1-1-sort.spill'), 'left by a crash');
    c.on('error', () => {}); // the restart ends its connection
    await node.restart();
    expect(tmpFiles()).toEqual([]);
    await c.end();
    c = new pg.Client(node.url);
    await c.connect();
  });
});
