/**
 * No unbounded synchronous work on the event loop (issue 9): while one session runs each kind of
 * heavy statement, another session's `SELECT 1` is answered, and statement_timeout cancels the
 * heavy statement (57014). "Answered while the heavy statement was still running" is checked by
 * order of events, never by a time threshold.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

let node: TestNode;
let c: pg.Client;
let bystander: pg.Client;
beforeAll(async () => {
  node = await startNode();
  c = new pg.Client(node.url);
  await c.connect();
  bystander = new pg.Client(node.url);
  await bystander.connect();
  await c.query('create table t10k (id int primary key, x int, y int)');
  await c.query('insert into t10k select g, g % 1000, g % 7 from generate_series(1, 10000) g');
});
afterAll(async () => {
  await bystander.end();
  await c.end();
  await node.stop();
  node.cleanup();
});

/**
 * Runs `sql` under statement_timeout = timeoutMs while the bystander queries in a loop; returns
 * the heavy statement's outcome and how many bystander answers arrived before it ended.
 */
async function underLoad(sql: string, timeoutMs: number): Promise<{ code: string | null; answers: number }> {
  await c.query(`set statement_timeout = ${timeoutMs}`);
  let settled = false;
  const heavy = c.query(sql).then(
    () => null,
    (e: unknown) => (e as { code?: string }).code ?? String(e),
  );
  void heavy.finally(() => {
    settled = true;
  });
  let answers = 0;
  while (!settled) {
    const r = await bystander.query('select 1 as one');
    expect(r.rows[0]).toEqual({ one: 1 });
    if (!settled) answers++;
  }
  const code = await heavy;
  await c.query('set statement_timeout = 0');
  return { code, answers };
}

describe('heavy statements yield and are cancelled by statement_timeout', () => {
  it('a correlated IN-subquery over a 10,000-row table', async () => {
    const r = await underLoad(
      'select count(*) from t10k a where a.x in (select b.x from t10k b where b.y <> a.y)',
      1500,
    );
    expect(r).toMatchObject({ code: '57014' });
    expect(r.answers).toBeGreaterThanOrEqual(2);
  });

  it('an uncorrelated IN-subquery is computed once (hashed) and answers', async () => {
    expect(
      (
        await c.query(
          'select count(*)::int as n from t10k a where a.x in (select b.id from t10k b where b.y = 0)',
        )
      ).rows[0],
    ).toEqual({ n: 1420 });
    expect(
      (
        await c.query(
          'select count(*)::int as n from t10k a where a.x not in (select b.id from t10k b where b.y = 0)',
        )
      ).rows[0],
    ).toEqual({ n: 8580 });
    expect(
      (
        await c.query(
          'select count(*)::int as n from t10k a where a.x not in (select null::int union all select 1)',
        )
      ).rows[0],
    ).toEqual({ n: 0 });
    expect(
      (
        await c.query(
          'select (select max(id) from t10k) as m, exists (select 1 from t10k where x = 999) as e',
        )
      ).rows[0],
    ).toEqual({ m: 10000, e: true });
  });

  it('array_agg over 20M rows from a select-list generate_series', async () => {
    const r = await underLoad(
      'select array_length(array_agg(x), 1) from (select generate_series(1, 20000000) as x) s',
      1500,
    );
    expect(r).toMatchObject({ code: '57014' });
    expect(r.answers).toBeGreaterThanOrEqual(2);
  });

  it('a 6M-row sort', async () => {
    const r = await underLoad(
      'select count(*) from (select g from generate_series(1, 6000000) g order by (g % 1000)::text, g desc) s',
      1500,
    );
    expect(r).toMatchObject({ code: '57014' });
    expect(r.answers).toBeGreaterThanOrEqual(2);
  });

  it('ORDER BY … LIMIT keeps a top-N heap and answers as a full sort would (PostgreSQL 15: 84,77,70,63,56)', async () => {
    expect(
      (
        await c.query(
          "select string_agg(g::text, ',') as s from (select g from generate_series(1,100) g order by g % 7, g desc limit 5 offset 2) s",
        )
      ).rows[0],
    ).toEqual({ s: '84,77,70,63,56' });
    expect(
      (
        await c.query(
          "select string_agg(x::text, ',') as s from (select x from (values (3),(1),(2),(1),(3)) v(x) order by x limit 4) s",
        )
      ).rows[0],
    ).toEqual({ s: '1,1,2,3' });
    expect(
      (await c.query('select g from generate_series(1, 3000000) g order by g % 1000, g desc limit 2')).rows,
    ).toEqual([{ g: 3000000 }, { g: 2999000 }]);
  });

  it('a hash join with a 2M-row build side', async () => {
    const r = await underLoad(
      'select count(*) from generate_series(1, 2000000) a join generate_series(1, 2000000) b on a = b',
      1500,
    );
    expect(r).toMatchObject({ code: '57014' });
    expect(r.answers).toBeGreaterThanOrEqual(2);
  });

  it('a window over one 300,000-row partition', async () => {
    const r = await underLoad(
      'select max(s) from (select sum(g) over (order by g rows between 1000 preceding and current row) s from generate_series(1, 300000) g) w',
      1500,
    );
    expect(r).toMatchObject({ code: '57014' });
    expect(r.answers).toBeGreaterThanOrEqual(2);
  });

  it('a materialized CTE and EXCEPT over millions of rows', async () => {
    const r = await underLoad(
      'with c as materialized (select g from generate_series(1, 5000000) g) select count(*) from (select g from c except select g + 1 from c) x',
      1500,
    );
    expect(r).toMatchObject({ code: '57014' });
    expect(r.answers).toBeGreaterThanOrEqual(2);
  });

  it('an UPDATE of every row of a table yields while it writes', async () => {
    await c.query('create table big (id int primary key, v int)');
    await c.query('insert into big select g, 0 from generate_series(1, 200000) g');
    const r = await underLoad('update big set v = v + 1', 60_000);
    expect(r).toMatchObject({ code: null });
    expect(r.answers).toBeGreaterThanOrEqual(2);
    expect((await c.query('select sum(v)::int as s from big')).rows[0]).toEqual({ s: 200000 });
  });
});
