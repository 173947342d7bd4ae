/**
 * Membership of a real cluster over time: a fourth node joins and receives a replica; a voter's
 * node killed for longer than server.time_until_store_dead (set to its 30 s minimum) is replaced
 * by the fourth node; the dead node, restarted, rejoins; `strata node decommission` drains a
 * node with progress output. Every acknowledged row stays readable through every live node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../harness/cluster.js';

let c: LocalCluster;

const q = (node: number, sql: string) => c.query(node, sql, { statementTimeoutMs: 20_000 });

/** Voters and non-voters of range 1 as `node` sees them (SHOW RANGES). */
async function replicas(node: number): Promise<{ voters: number[]; nonVoters: number[] }> {
  const r = (await q(node, 'show ranges'))[0] as { replicas: string[]; non_voting_replicas: string[] };
  return { voters: r.replicas.map(Number).sort(), nonVoters: r.non_voting_replicas.map(Number).sort() };
}

async function waitFor(what: string, f: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    try {
      if (await f()) return Date.now() - t0;
    } catch {
      // not yet (a node restarting, a lease moving)
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  c = await LocalCluster.create(4);
  for (const i of [1, 2, 3]) c.node(i).start();
  const init = await c.init(1);
  expect(init.code, init.stderr).toBe(0);
  await c.waitReady();
}, 120_000);

afterAll(async () => {
  await c?.stop();
});

describe('cluster membership', () => {
  it('a fourth node receives a replica, a dead voter is replaced after the threshold, a restarted node rejoins, decommission drains', async () => {
    await q(1, "set cluster setting server.time_until_store_dead = '30s'");
    await q(1, 'create table t (id int primary key, v int)');
    await q(2, 'insert into t select g, g from generate_series(1, 100) g');

    c.node(4).start();
    await c.waitReady();
    const joinedMs = await waitFor('node 4 to hold a replica', async () => (await replicas(1)).nonVoters.includes(await c.node(4).nodeId()), 60_000);
    expect((await q(4, 'select count(*)::int as n from t'))[0]).toEqual({ n: 100 });

    // Kill a voter that does not hold the lease: after 30 s it is declared dead and node 4 becomes a voter.
    // (Processes are numbered by start, node ids by joining: `proc` maps an id to its process.)
    const proc = new Map<number, number>();
    for (const i of [1, 2, 3, 4]) proc.set(await c.node(i).nodeId(), i);
    const fourth = await c.node(4).nodeId();
    const lhProc = await c.leaseholder(1, [1, 2, 3]);
    const victimProc = [1, 2, 3].find((i) => i !== lhProc) as number;
    const victim = await c.node(victimProc).nodeId();
    const aliveProcs = [1, 2, 3, 4].filter((i) => i !== victimProc);
    await c.node(victimProc).kill();
    const killedAt = Date.now();
    await q(aliveProcs[0] as number, 'insert into t select g, g from generate_series(101, 150) g');
    await waitFor(`node ${victim} to be replaced`, async () => {
      const r = await replicas(aliveProcs[1] as number);
      return r.voters.length === 3 && !r.voters.includes(victim) && r.voters.includes(fourth);
    }, 120_000);
    const replacedMs = Date.now() - killedAt;
    expect(replacedMs).toBeGreaterThanOrEqual(30_000); // not before the threshold

    // The dead node comes back: it rejoins with its store and catches up.
    c.node(victimProc).start();
    await c.waitReady();
    await waitFor(`node ${victim} to serve the rows written while it was down`, async () => (await q(victimProc, 'select count(*)::int as n from t'))[0]?.n === 150, 60_000);

    // Decommission a voter: its replica moves away, the CLI reports progress, then the node is decommissioned.
    const drainedProc = aliveProcs.find((i) => i !== lhProc && i !== 4) as number;
    const drained = await c.node(drainedProc).nodeId();
    const dec = await c.cli(['node', 'decommission', String(drained), '--insecure', `--host=${c.node(lhProc).rpcAddr}`]);
    expect(dec.code, dec.stderr).toBe(0);
    expect(dec.stdout).toMatch(/replicas left on node/);
    expect(dec.stdout).toMatch(new RegExp(`node ${drained} decommissioned`));
    const after = await replicas(lhProc);
    expect(after.voters).not.toContain(drained);
    expect(after.nonVoters).not.toContain(drained);
    expect(after.voters.length).toBe(3);
    const status = JSON.parse((await c.cli(['node', 'status', '--insecure', `--host=${c.node(lhProc).rpcAddr}`, '--format=json'])).stdout) as { id: number; membership: string }[];
    expect(status.map((r) => r.id)).not.toContain(drained); // decommissioned nodes are no longer listed
    expect(status.every((r) => r.membership === 'active')).toBe(true);
    for (const i of [1, 2, 3, 4].filter((x) => x !== drainedProc)) expect((await q(i, 'select count(*)::int as n, sum(v)::int as s from t'))[0]).toEqual({ n: 150, s: (150 * 151) / 2 });
    expect(proc.size).toBe(4);
    process.stdout.write(`membership: node 4 held a replica ${joinedMs} ms after joining; node ${victim} replaced ${replacedMs} ms after SIGKILL (threshold 30 s); node ${drained} decommissioned\n`);
  }, 400_000);
});
