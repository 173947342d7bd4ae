/**
 * A real three-node cluster on loopback: `strata start --join` ×3, `strata init` (a second init
 * fails), `strata node status`, SQL through every node on the same relational and TS data, and
 * SIGKILL of the leaseholder during concurrent writes through the other nodes: writes resume,
 * nothing acknowledged is lost or duplicated, the killed node restarts and catches up.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../harness/cluster.js';

let c: LocalCluster;

async function q(node: number, sql: string, db = 'defaultdb'): Promise<Record<string, unknown>[]> {
  const client = new pg.Client(c.node(node).url(db));
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  c = await LocalCluster.create(3);
  for (const n of c.nodes) n.start();
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

describe('a three-node cluster of real processes', () => {
  it('is initialized once, lists three live nodes and serves the same data through every node', async () => {
    const init = await c.init(1);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/Cluster successfully initialized/);
    await c.waitReady();
    const again = await c.cli(['init', '--insecure', `--host=${c.node(2).rpcAddr}`]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already been initialized/);

    const status = await c.cli(['node', 'status', '--insecure', `--host=${c.node(3).rpcAddr}`, '--format=json']);
    expect(status.code, status.stderr).toBe(0);
    const rows = JSON.parse(status.stdout) as { id: number; is_live: boolean; rpc_address: string }[];
    expect(rows.map((r) => [r.id, r.is_live])).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
    expect(new Set(rows.map((r) => r.rpc_address))).toEqual(new Set(c.nodes.map((n) => n.rpcAddr)));
    const csv = await c.cli(['node', 'status', '--insecure', `--host=${c.node(1).rpcAddr}`, '--format=csv']);
    expect(csv.stdout.split('\n')[0]).toBe('id,rpc_address,sql_address,build,started_at,updated_at,is_live,replicas,leaseholders,membership');

    // Every node holds a replica of the data (three voters).
    for (const n of c.nodes) {
      const r = (await n.ranges()).find((x) => x.rangeId === 1);
      expect(r?.replicas.length).toBe(3);
    }

    await q(1, 'create table acct (id int primary key, balance int)');
    await q(2, 'insert into acct select g, 100 from generate_series(1, 50) g');
    await q(3, 'create ts database iot');
    await q(1, 'create table m (ts timestamp not null, v float) tags (dev int not null) primary tags (dev)', 'iot');
    await q(2, "insert into m values ('2026-01-01 00:00:00', 1.5, 1), ('2026-01-01 00:00:01', 2.5, 2)", 'iot');
    for (const n of [1, 2, 3]) {
      expect(await q(n, 'select count(*)::int as n, sum(balance)::int as s from acct')).toEqual([{ n: 50, s: 5000 }]);
      expect(await q(n, 'select count(*)::int as n, sum(v) as s from m', 'iot')).toEqual([{ n: 2, s: 4 }]);
    }
  }, 180_000);

  it('keeps every acknowledged write when the leaseholder is killed with SIGKILL under load, and the node catches up after a restart', async () => {
    const lh = (await c.node(1).ranges()).find((x) => x.rangeId === 1)?.leaseholderNodeId as number;
    expect([1, 2, 3]).toContain(lh);
    const others = [1, 2, 3].filter((n) => n !== lh);
    const acked = new Set<number>();
    const tsAcked = new Set<number>();
    let stop = false;
    let killedAt = 0;
    let firstAckAfterKill = 0;
    let next = 1000;
    const writer = async (node: number, ts: boolean) => {
      while (!stop) {
        const client = new pg.Client(c.node(node).url(ts ? 'iot' : 'defaultdb'));
        client.on('error', () => {});
        try {
          await client.connect();
          while (!stop) {
            const key = next++;
            if (ts) await client.query(`insert into m values ('2026-02-01'::timestamp + interval '${key} seconds', ${key}, 3)`);
            else await client.query('insert into acct values ($1, 1)', [key]);
            (ts ? tsAcked : acked).add(key);
            if (killedAt > 0 && firstAckAfterKill === 0) firstAckAfterKill = Date.now();
          }
        } catch {
          // the gateway's request failed (its outcome may be unknown): a new session goes on
          await new Promise((r) => setTimeout(r, 50));
        } finally {
          await client.end().catch(() => {});
        }
      }
    };
    const writers = [writer(others[0] as number, false), writer(others[1] as number, false), writer(others[0] as number, true)];
    while (acked.size < 50) await new Promise((r) => setTimeout(r, 50));
    await c.node(lh).kill();
    killedAt = Date.now();
    const before = acked.size + tsAcked.size;
    while (acked.size + tsAcked.size < before + 50 && Date.now() - killedAt < 60_000) await new Promise((r) => setTimeout(r, 50));
    const resumedMs = firstAckAfterKill - killedAt;
    expect(acked.size + tsAcked.size).toBeGreaterThanOrEqual(before + 50);
    stop = true;
    await Promise.all(writers);
    process.stdout.write(`leaseholder n${lh} killed: writes resumed within ${resumedMs} ms; ${acked.size} relational and ${tsAcked.size} TS rows acknowledged\n`);

    c.node(lh).start();
    await c.waitReady();
    // Every node, the restarted one too, has each acknowledged row exactly once.
    for (const n of [1, 2, 3]) {
      const rows = (await q(n, 'select id from acct where id >= 1000')).map((r) => Number(r.id));
      expect(rows.length).toBe(new Set(rows).size);
      const present = new Set(rows);
      expect([...acked].filter((k) => !present.has(k))).toEqual([]);
      const tsRows = (await q(n, "select v from m where dev = 3", 'iot')).map((r) => Number(r.v));
      expect(tsRows.length).toBe(new Set(tsRows).size);
      const tsPresent = new Set(tsRows);
      expect([...tsAcked].filter((k) => !tsPresent.has(k))).toEqual([]);
    }
  }, 240_000);
});
