/**
 * A real three-node cluster on loopback: `strata start --join` ×3, `strata init` (a second init
 * fails), `strata node status`, SQL through every node on the same relational and TS data, SHOW RANGES, and
 * SIGKILL of the leaseholder during concurrent writes through the other nodes: writes resume,
 * nothing acknowledged is lost or duplicated, the killed node restarts and catches up; SIGSTOP of
 * the leaseholder for 30 s: the others serve meanwhile, nothing is lost; sequences through every
 * gateway never repeat a value; a CancelRequest sent to another node cancels the query.
 */
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../harness/cluster.js';

let c: LocalCluster;

/**
 * Writers through the given nodes: relational rows (two sessions) and TS rows (one), each key
 * recorded once acknowledged; a failed session is replaced by a new one.
 */
function startLoad(nodes: number[], firstKey: number) {
  const acked = new Set<number>();
  const tsAcked = new Set<number>();
  let stopped = false;
  let next = firstKey;
  let since = 0;
  let firstAckSince = 0;
  const writer = async (node: number, ts: boolean) => {
    while (!stopped) {
      const client = new pg.Client(c.node(node).url(ts ? 'iot' : 'defaultdb'));
      client.on('error', () => {});
      try {
        await client.connect();
        while (!stopped) {
          const key = next++;
          if (ts) await client.query(`insert into m values ('2026-02-01'::timestamp + interval '${key} seconds', ${key}, 3)`);
          else await client.query('insert into acct values ($1, 1)', [key]);
          (ts ? tsAcked : acked).add(key);
          if (since > 0 && firstAckSince === 0) firstAckSince = Date.now();
        }
      } catch {
        // the gateway's request failed (its outcome may be unknown): a new session goes on
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        await client.end().catch(() => {});
      }
    }
  };
  const writers = [writer(nodes[0] as number, false), writer(nodes[1] as number, false), writer(nodes[0] as number, true)];
  return {
    acked,
    tsAcked,
    total: () => acked.size + tsAcked.size,
    /** Marks the moment of a fault; `resumedMs` is how long after it the next write was acknowledged. */
    mark: () => {
      since = Date.now();
      firstAckSince = 0;
    },
    resumedMs: () => (firstAckSince > 0 ? firstAckSince - since : -1),
    waitFor: async (n: number, timeoutMs: number) => {
      const t0 = Date.now();
      while (acked.size + tsAcked.size < n && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 50));
    },
    stop: async () => {
      stopped = true;
      await Promise.all(writers);
    },
  };
}

/** Every node has each acknowledged row exactly once. */
async function expectAllPresent(acked: Set<number>, tsAcked: Set<number>): Promise<void> {
  for (const n of [1, 2, 3]) {
    const rows = (await q(n, 'select id from acct where id >= 1000')).map((r) => Number(r.id));
    expect(rows.length).toBe(new Set(rows).size);
    const present = new Set(rows);
    expect([...acked].filter((k) => !present.has(k))).toEqual([]);
    const tsRows = (await q(n, 'select v from m where dev = 3', 'iot')).map((r) => Number(r.v));
    expect(tsRows.length).toBe(new Set(tsRows).size);
    const tsPresent = new Set(tsRows);
    expect([...tsAcked].filter((k) => !tsPresent.has(k))).toEqual([]);
  }
}

const q = (node: number, sql: string, db = 'defaultdb') => c.query(node, sql, { db });

beforeAll(async () => {
  c = await LocalCluster.create(3);
  // Node 3 names its SQL address for `node status` (as a container listening on 0.0.0.0 would).
  c.node(3).extraArgs = [`--advertise-sql-addr=localhost:${c.node(3).sqlPort}`];
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
    const rows = JSON.parse(status.stdout) as { id: number; is_live: boolean; rpc_address: string; sql_address: string }[];
    for (const n of c.nodes) {
      expect(rows.find((r) => r.rpc_address === n.rpcAddr)?.sql_address).toBe(`${n.id === 3 ? 'localhost' : '127.0.0.1'}:${n.sqlPort}`);
    }
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
    // SHOW RANGES through any node: every range has three voting replicas and a leaseholder among them.
    for (const n of [1, 2, 3]) {
      const ranges = await q(n, 'show ranges from table acct');
      expect(ranges.length).toBeGreaterThan(0);
      for (const r of ranges) {
        expect((r.replicas as string[]).map(Number).sort()).toEqual([1, 2, 3]);
        expect((r.replicas as string[]).map(Number)).toContain(Number(r.lease_holder));
        expect(r.range_type).toBe('relational');
      }
    }
    // Node liveness and the registry live in a range of their own (range 2, 'system'), replicated
    // like the others, with its lease moved to its preferred node (node 3: id 2 of [1, 2, 3]).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const sys = (await q(1, 'show ranges')).filter((r) => r.range_type === 'system');
      const ok =
        sys.length === 1 &&
        Number(sys[0]?.range_id) === 2 &&
        sys[0]?.start_key === '/Nodes' &&
        (sys[0]?.replicas as string[]).map(Number).sort().join() === '1,2,3' &&
        Number(sys[0]?.lease_holder) === 3;
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`the liveness range is not placed: ${JSON.stringify(sys)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
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
    const lh = await c.leaseholder();
    const load = startLoad([1, 2, 3].filter((n) => n !== lh), 1000);
    await load.waitFor(50, 60_000);
    await c.node(lh).kill();
    load.mark();
    const before = load.total();
    await load.waitFor(before + 50, 60_000);
    expect(load.total()).toBeGreaterThanOrEqual(before + 50);
    await load.stop();
    process.stdout.write(`leaseholder n${lh} killed: writes resumed within ${load.resumedMs()} ms; ${load.acked.size} relational and ${load.tsAcked.size} TS rows acknowledged\n`);

    c.node(lh).start();
    await c.waitReady();
    await expectAllPresent(load.acked, load.tsAcked);
  }, 240_000);

  it('serves while the leaseholder is frozen with SIGSTOP for 30 s, loses nothing, and the node rejoins after SIGCONT', async () => {
    const lh = await c.leaseholder();
    const load = startLoad([1, 2, 3].filter((n) => n !== lh), 1_000_000);
    await load.waitFor(50, 60_000);
    c.node(lh).pause();
    load.mark();
    const before = load.total();
    const frozenMs = 30_000;
    await new Promise((r) => setTimeout(r, frozenMs));
    const during = load.total() - before;
    const resumed = load.resumedMs();
    // Connected while it is frozen (the kernel accepts): its first statement after waking must
    // see every row acknowledged before — a woken leaseholder must not serve on its old lease.
    const ackedBefore = [...load.acked];
    const reader = new pg.Client({ connectionString: c.node(lh).url(), statement_timeout: 30_000 });
    reader.on('error', () => {});
    const connected = reader.connect();
    c.node(lh).resume();
    await connected;
    const seen = await reader.query(`select count(*)::int as n from acct where id = any($1::int[])`, [ackedBefore]).then(
      (r) => Number(r.rows[0].n),
      (e: { code?: string }) => e.code ?? 'error',
    );
    await reader.end().catch(() => {});
    if (typeof seen === 'number') expect(seen, 'a stale read from the woken node').toBe(ackedBefore.length);
    // Writes go on after it wakes up (it finds it lost its lease and follows the new leaseholder).
    const afterWake = load.total();
    await load.waitFor(afterWake + 50, 60_000);
    expect(load.total()).toBeGreaterThanOrEqual(afterWake + 50);
    await load.stop();
    process.stdout.write(`leaseholder n${lh} frozen ${frozenMs / 1000} s: writes resumed within ${resumed} ms, ${during} rows acknowledged while it was frozen\n`);
    expect(during).toBeGreaterThan(0);
    await c.waitReady();
    await expectAllPresent(load.acked, load.tsAcked);
  }, 240_000);

  it('never hands out a sequence value twice across gateways', async () => {
    await q(1, 'create table serials (id serial primary key, node int)');
    const perClient = 150;
    const clients: Promise<number[]>[] = [];
    for (const n of [1, 2, 3]) {
      for (let k = 0; k < 3; k++) {
        clients.push(
          (async () => {
            const client = new pg.Client(c.node(n).url());
            await client.connect();
            const ids: number[] = [];
            try {
              for (let i = 0; i < perClient; i++) ids.push(Number((await client.query('insert into serials (node) values ($1) returning id', [n])).rows[0].id));
              ids.push(...(await client.query(`select nextval('serials_id_seq') as v from generate_series(1, 50)`)).rows.map((r) => Number(r.v)));
            } finally {
              await client.end();
            }
            return ids;
          })(),
        );
      }
    }
    const all = (await Promise.all(clients)).flat();
    expect(all.length).toBe(9 * (perClient + 50));
    expect(new Set(all).size).toBe(all.length);
    for (const n of [1, 2, 3]) expect(await q(n, 'select count(distinct id)::int as d, count(*)::int as n from serials')).toEqual([{ d: 9 * perClient, n: 9 * perClient }]);
  }, 120_000);

  it('a CancelRequest sent to another node cancels the query where it runs', async () => {
    const client = new pg.Client(c.node(1).url());
    await client.connect();
    try {
      const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
      const running = client.query('select pg_sleep(60)').then(
        () => 'completed',
        (e: { code?: string }) => e.code ?? 'error',
      );
      await new Promise((r) => setTimeout(r, 500));
      // PostgreSQL's CancelRequest (length 16, code 80877102, pid, secret) on a new connection to node 2.
      const req = Buffer.alloc(16);
      req.writeInt32BE(16, 0);
      req.writeInt32BE(80877102, 4);
      req.writeInt32BE(processID, 8);
      req.writeInt32BE(secretKey, 12);
      const target = new URL(c.node(2).url());
      await new Promise<void>((resolve, reject) => {
        const sock = net.connect(Number(target.port), target.hostname, () => sock.end(req));
        sock.on('close', () => resolve());
        sock.on('error', reject);
      });
      const t0 = Date.now();
      expect(await running).toBe('57014');
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]); // the session goes on
      // A wrong secret cancels nothing.
      const again = client.query('select pg_sleep(2)').then(() => 'completed', (e: { code?: string }) => e.code ?? 'error');
      req.writeInt32BE((secretKey + 1) | 0, 12);
      await new Promise<void>((resolve, reject) => {
        const sock = net.connect(Number(target.port), target.hostname, () => sock.end(req));
        sock.on('close', () => resolve());
        sock.on('error', reject);
      });
      expect(await again).toBe('completed');
    } finally {
      await client.end();
    }
  }, 120_000);
});
