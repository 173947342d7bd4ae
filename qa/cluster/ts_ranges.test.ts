/**
 * Time-series tables split into hash-point ranges on a real three-node cluster: CREATE TABLE
 * splits the table into 5 ranges (KWDB's default), their leases spread over the nodes, a write
 * through any node is divided by range and sent to each range's leaseholder, every node answers
 * the same; SIGKILL of a node holding TS leases: the others take its ranges over and keep
 * writing, nothing acknowledged is lost or duplicated, and the node catches up after a restart;
 * a table's zone sets its ranges' voters; DROP TABLE removes the table's ranges from every node.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../harness/cluster.js';

let c: LocalCluster;
const q = (node: number, sql: string) => c.query(node, sql, { db: 'iot' });

beforeAll(async () => {
  c = await LocalCluster.create(3);
  for (const n of c.nodes) n.start();
  const init = await c.init(1);
  expect(init.code, init.stderr).toBe(0);
  await c.waitReady();
  await c.query(1, 'create ts database iot');
}, 120_000);

afterAll(async () => {
  await c?.stop();
});

/** The table's ranges as node `n` shows them. */
async function tableRanges(
  n: number,
): Promise<{ id: number; start: string; holder: number | null; replicas: number[] }[]> {
  const rows = await q(n, 'show ranges from table cpu');
  return rows.map((r) => ({
    id: Number(r.range_id),
    start: String(r.start_key),
    holder: r.lease_holder === null ? null : Number(r.lease_holder),
    replicas: (r.replicas as string[]).map(Number).sort(),
  }));
}

async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (!(await ok().catch((e: unknown) => ((last = e), false)))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const perHost = 'select host, count(*)::int as n, sum(v)::int as s from cpu group by host order by host';

describe('time-series tables split into hash-point ranges on a cluster', () => {
  it('splits at CREATE TABLE, spreads the leases and answers the same through every node', async () => {
    await q(
      2,
      'create table cpu (ts timestamp not null, v int4) tags (host varchar(16) not null) primary tags (host)',
    );
    // Each new range starts with the first range's replicas; its own replicate queue adds
    // whatever the first range had not placed yet.
    for (const n of [1, 2, 3]) {
      await waitFor(
        `node ${n} to show the table's five ranges with three voters each`,
        async () => {
          const ranges = await tableRanges(n);
          expect(ranges.map((r) => r.start)).toEqual(
            [0, 400, 800, 1200, 1600].map((h) => expect.stringMatching(new RegExp(`^/TS/\\d+/${h}$`))),
          );
          return ranges.every((r) => r.replicas.join() === '1,2,3');
        },
        120_000,
      );
    }
    // The replicate queue moves each range's lease to its preferred node: all three hold some.
    await waitFor(
      'leases on every node',
      async () => new Set((await tableRanges(1)).map((r) => r.holder)).size === 3,
      60_000,
    );

    await q(
      1,
      `insert into cpu select '2026-01-01'::timestamp + (g % 50) * interval '1 second', g, 'h' || (g / 50)::text from generate_series(0, 9999) g`,
    );
    const expected = await q(1, perHost);
    expect(expected).toHaveLength(200);
    for (const n of [2, 3]) expect(await q(n, perHost)).toEqual(expected);
    // The gateways found the new ranges through their meta records (in the meta range, the first
    // range, written by the split): lookups the meta range answered, on every node that routed.
    for (const n of [1, 2, 3]) expect(await c.node(n).metric('strata_range_lookups_total', 'source="meta"')).toBeGreaterThan(0);
    expect(await q(3, 'select count(*)::int as n, sum(v)::int8 as s from cpu')).toEqual([
      { n: 10000, s: '49995000' },
    ]);
    // A correlated subquery over the split table (evaluated row by row inside an expression)
    // reads each node's own replicas, caught up to the ranges' leaseholders first: the same
    // answers through every node, whichever ranges' leases it holds (it was 0A000 before).
    await c.query(1, 'create table hosts (name varchar(16) primary key)', { db: 'defaultdb' });
    await c.query(1, "insert into hosts select 'h' || g::text from generate_series(0, 199) g", { db: 'defaultdb' });
    const grouped = await q(1, 'select host as name, count(*)::int as n, max(v) as mx from cpu group by host order by host');
    expect(grouped).toHaveLength(200);
    for (const n of [1, 2, 3]) {
      const correlated = await q(
        n,
        'select h.name, (select count(*)::int from cpu c where c.host = h.name) as n, (select max(v) from cpu c where c.host = h.name) as mx from defaultdb.hosts h order by h.name',
      );
      expect(correlated).toEqual(grouped);
    }
    // The rows are in the five ranges' entity groups (ts/t<table>/r<range>/) on every node.
    const ids = new Set((await tableRanges(1)).map((r) => r.id));
    for (const n of c.nodes) {
      await waitFor(
        `node ${n.id} to hold groups of the five ranges`,
        async () => {
          const tables = readdirSync(join(n.dir, 'ts')).filter((d) => /^t\d+$/.test(d));
          const groups = tables.flatMap((t) =>
            readdirSync(join(n.dir, 'ts', t))
              .filter((d) => /^r\d+$/.test(d))
              .map((d) => Number(d.slice(1))),
          );
          return [...ids].every((id) => groups.includes(id));
        },
        30_000,
      );
    }
  }, 180_000);

  it('keeps writing through a SIGKILL of a node holding TS leases; nothing acknowledged is lost', async () => {
    const ranges = await tableRanges(1);
    const victim = ranges.find((r) => r.holder !== null && r.holder !== 1)?.holder as number;
    const writerNode = [1, 2, 3].find((n) => n !== victim) as number;
    const acked: number[] = [];
    let stop = false;
    const writer = (async () => {
      for (let k = 0; !stop; k++) {
        try {
          // One row per host of 20: every range gets writes.
          await q(
            writerNode,
            `insert into cpu select '2026-02-01'::timestamp + interval '${k} seconds', ${k}, 'w' || g::text from generate_series(0, 19) g`,
          );
          acked.push(k);
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    })();
    await waitFor('writes before the kill', async () => acked.length >= 5, 30_000);
    await c.node(victim).kill('SIGKILL');
    const before = acked.length;
    await waitFor('writes after the kill', async () => acked.length >= before + 10, 60_000);
    stop = true;
    await writer;
    const survivor = [1, 2, 3].find((n) => n !== victim && n !== writerNode) as number;
    const rows = await q(
      survivor,
      "select v, count(*)::int as n from cpu where host like 'w%' group by v order by v",
    );
    const counts = new Map(rows.map((r) => [Number(r.v), Number(r.n)]));
    // Every acknowledged statement's 20 rows are there exactly once (a statement that failed may
    // have been applied by some ranges: KWDB's per-range atomicity).
    for (const k of acked) expect(counts.get(k), `statement ${k}`).toBe(20);
    for (const n of counts.values()) expect(n).toBeLessThanOrEqual(20);

    c.node(victim).start();
    await c.waitReady();
    await waitFor(
      'the restarted node to answer like the others',
      async () => JSON.stringify(await q(victim, perHost)) === JSON.stringify(await q(survivor, perHost)),
      60_000,
    );

    // The table's zone: num_replicas = 1 leaves each of its ranges one voter (the other nodes keep
    // non-voting replicas), and DISCARD brings back three; the other ranges keep theirs.
    await q(1, 'alter table cpu configure zone using num_replicas = 1');
    await waitFor('one voter per range of the table', async () => (await tableRanges(1)).every((r) => r.replicas.length === 1), 90_000);
    const others = (await c.query(1, 'show ranges', { db: 'defaultdb' })).filter((r) => r.range_type !== 'ts');
    for (const r of others) expect((r.replicas as string[]).length, `range ${String(r.range_id)}`).toBe(3);
    expect(await q(survivor, 'select count(*)::int as n from cpu')).toEqual(await q(victim, 'select count(*)::int as n from cpu'));
    await q(1, 'alter table cpu configure zone discard');
    await waitFor('three voters per range again', async () => (await tableRanges(1)).every((r) => r.replicas.length === 3), 90_000);

    // DROP TABLE removes the table's ranges on every node: replicas, entity groups, SHOW RANGES.
    const ids = (await tableRanges(1)).map((r) => r.id);
    const tableId = Number((await q(1, "select 'cpu'::regclass::oid as id"))[0]?.id);
    await q(2, 'drop table cpu');
    for (const n of c.nodes) {
      await waitFor(
        `node ${n.id} to drop the table's ranges`,
        async () => {
          const shown = (await c.query(n.id, 'show ranges', { db: 'defaultdb' })).map((r) => Number(r.range_id));
          const dir = join(n.dir, 'ts', `t${tableId}`);
          const groups = existsSync(dir) ? readdirSync(dir).filter((d) => /^r\d+$/.test(d)) : [];
          return ids.every((id) => !shown.includes(id)) && groups.length === 0;
        },
        30_000,
      );
    }
  }, 240_000);
});
