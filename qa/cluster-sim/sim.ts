/**
 * The seeded cluster simulation: a TestCluster of 3 or 5 stores runs a random workload
 * (linearizable registers, bank transfers with audits, TS inserts and deletes — into the first
 * range and into a table split into three hash-point ranges at the start) under a random
 * nemesis (crashes with lost unsynced writes and power cuts, partitions, lease transfers,
 * membership changes, log truncation that forces KV_BATCH/TS_BATCH snapshots, clock skew within
 * the maximum offset), then heals and checks:
 *   - every event ran without an exception;
 *   - each register's history is linearizable;
 *   - every bank audit saw the same total, and so does the final one;
 *   - every acknowledged TS row is present exactly once (unless a DELETE that may have applied
 *     covers it), no row whose insert certainly failed is present, none is present twice;
 *   - replica checksums (KV MVCC data, replicated range state, TS logical content) agree at every
 *     log index where more than one replica recorded one;
 *   - the cluster is live again after healing (a write succeeds).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AmbiguousResultError, PgError, ReadWithinUncertaintyIntervalError } from '@strata/common';
import { TsRequestKind } from '@strata/kv';
import type { TsRangeEntry } from '@strata/kv';
import { RangeUnavailableError, SendFailedError } from '@strata/kvclient';
import { TestCluster } from '@strata/testutils';
import type { Client, NetworkFaults } from '@strata/testutils';
import { ColumnType, encodeTsDelete, encodeTsWrite, hashPointOf } from '@strata/ts';
import type { TsSchema } from '@strata/ts';
import { checkRegisterHistory } from '../../packages/raft/sim/linearizability.js';
import type { RegisterOp } from '../../packages/raft/sim/linearizability.js';

export interface ClusterSimOptions {
  seed: number;
  nodes: 3 | 5;
  /** Virtual milliseconds of workload under faults. */
  durationMs: number;
  trace?: boolean;
}

export interface ClusterSimResult {
  seed: number;
  nodes: number;
  ok: boolean;
  failures: string[];
  stats: Record<string, number>;
  trace: string[];
}

const registers = 3;
const accounts = 6;
const initialBalance = 100;
const devices = 4;
const tsTableId = 1000;
/**
 * A second TS table, split into hash-point ranges before the workload (the first range's SplitTs:
 * new ranges on every voter); its devices are `devices`…2·devices−1, written to the range of their
 * hash point.
 */
const tsSplitTableId = 1001;
const tsSplitHashNum = 12;
const tsSplitPieces = 3;
const tsSchema: TsSchema = { partitionIntervalUs: 3600e6, columns: [ColumnType.Timestamp, ColumnType.Int64], tags: [ColumnType.Int32], primaryTags: [0] };

const regKey = (i: number) => Buffer.concat([Buffer.from([3, 0, 0, 0, 1]), Buffer.from(`reg${i}`)]);
const acctKey = (i: number) => Buffer.concat([Buffer.from([3, 0, 0, 0, 2]), Buffer.from(`acct${String(i).padStart(2, '0')}`)]);
const acctStart = Buffer.from([3, 0, 0, 0, 2]);
const acctEnd = Buffer.from([3, 0, 0, 0, 3]);

type Outcome = 'ok' | 'fail' | 'info';

/** What an error means for the operation: certainly not applied, or maybe applied. */
function outcomeOf(e: unknown): Outcome {
  if (e instanceof AmbiguousResultError || e instanceof RangeUnavailableError || (e instanceof SendFailedError && e.maybeApplied)) return 'info';
  if (e instanceof PgError && e.code === '40003') return 'info';
  return 'fail';
}

function isExpected(e: unknown): boolean {
  return e instanceof AmbiguousResultError || e instanceof RangeUnavailableError || e instanceof SendFailedError || e instanceof PgError || e instanceof ReadWithinUncertaintyIntervalError;
}

export async function runClusterSim(o: ClusterSimOptions): Promise<ClusterSimResult> {
  const failures: string[] = [];
  const stats: Record<string, number> = {};
  const count = (k: string, n = 1) => (stats[k] = (stats[k] ?? 0) + n);
  const faults: NetworkFaults = { dropRate: 0.02, requestDropRate: 0.003, dupRate: 0.01, minDelayMs: 1, maxDelayMs: 15 };
  const c = await TestCluster.start({ nodes: o.nodes, seed: o.seed, dir: mkdtempSync(join(tmpdir(), `csim-${o.seed}-`)), faults, clockSkew: 0.04 });
  const rand = c.rand;
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  try {
    // Three voters (five with five nodes), then the data everyone starts from.
    for (let n = 2; n <= Math.min(o.nodes, 5); n++) await c.addVoter(n);
    // The setup write is idempotent: retried until it is known to have applied.
    const setup = c.client(60_000);
    for (let attempt = 0; ; attempt++) {
      const init = setup.txn();
      for (let i = 0; i < registers; i++) init.put(regKey(i), Buffer.from('0'));
      for (let i = 0; i < accounts; i++) init.put(acctKey(i), Buffer.from(String(initialBalance)));
      const r0 = await c.settle(init.commit(), 60_000);
      if (r0.ok === true) break;
      if (attempt >= 5) throw new Error(`setup failed: ${r0.ok === false ? String(r0.error) : 'timeout'}`);
    }

    let tsMap: TsRangeEntry[] = [];
    for (let attempt = 0; ; attempt++) {
      const r = await c.settle(setup.request(1, { kind: 'splitTs', tableId: tsSplitTableId, hashNum: tsSplitHashNum, pieces: tsSplitPieces }), 60_000);
      const x = r.ok === true ? r.value.responses[0] : undefined;
      if (x?.kind === 'splitTs') {
        tsMap = x.ranges;
        break;
      }
      if (attempt >= 5) throw new Error(`split failed: ${r.ok === false ? String(r.error) : 'timeout'}`);
    }
    /** Where a device's commands go: its table, range and the hash points the range holds. */
    const routeOf = (dev: number): { tableId: number; rangeId: number; hashSpan?: [number, number] } => {
      if (dev < devices) return { tableId: tsTableId, rangeId: 1 };
      const h = hashPointOf(tsSchema, [dev], tsSplitHashNum);
      const e = tsMap.find((x) => h >= x.hashStart && h < x.hashEnd) as TsRangeEntry;
      return { tableId: tsSplitTableId, rangeId: e.rangeId, hashSpan: [e.hashStart, e.hashEnd] };
    };

    const regOps: RegisterOp[][] = Array.from({ length: registers }, () => []);
    let nextValue = 1;
    const tsRows = new Map<string, Outcome>(); // `${dev}/${ts}` → outcome of its insert
    const tsDeletes: { dev: number; lo: number; hi: number; outcome: Outcome }[] = [];
    const devNext = Array.from({ length: 2 * devices }, () => 1);
    const devBusy = Array.from({ length: 2 * devices }, () => false);
    const devAcked = Array.from({ length: 2 * devices }, () => 0);
    const total = accounts * initialBalance;
    const end = c.sched.now + o.durationMs;
    let stop = false;
    /** Clients pause until then (the nemesis makes quiet periods: idle ranges quiesce). */
    let quietUntil = 0;

    const registerOp = async (client: Client) => {
      const k = Math.floor(rand() * registers);
      const write = rand() < 0.5;
      const invokeTime = c.sched.now;
      const t = client.txn();
      if (write) {
        const value = nextValue++;
        try {
          t.put(regKey(k), Buffer.from(String(value)));
          await t.commit();
          regOps[k]?.push({ client: 0, kind: 'write', value, invokeTime, returnTime: c.sched.now });
          count('reg.write.ok');
        } catch (e) {
          if (!isExpected(e)) throw e;
          const out = outcomeOf(e);
          if (out === 'info') regOps[k]?.push({ client: 0, kind: 'write', value, invokeTime, returnTime: Infinity });
          count(`reg.write.${out}`);
        }
      } else {
        try {
          const v = await t.get(regKey(k));
          await t.commit();
          regOps[k]?.push({ client: 0, kind: 'read', value: Number(v?.toString() ?? '0'), invokeTime, returnTime: c.sched.now });
          count('reg.read.ok');
        } catch (e) {
          if (!isExpected(e)) throw e;
          count('reg.read.fail');
        }
      }
    };

    const bankOp = async (client: Client) => {
      const t = client.txn();
      try {
        if (rand() < 0.25) {
          const rows = await t.scan(acctStart, acctEnd);
          await t.commit();
          const sum = rows.reduce((n, r) => n + Number(r.value.toString()), 0);
          if (rows.length !== accounts || sum !== total) failures.push(`bank audit at ${c.sched.now.toFixed(0)} ms saw ${rows.length} accounts summing to ${sum}, want ${accounts} summing to ${total}`);
          count('bank.audit.ok');
          return;
        }
        const a = Math.floor(rand() * accounts);
        const b = (a + 1 + Math.floor(rand() * (accounts - 1))) % accounts;
        const amount = 1 + Math.floor(rand() * 20);
        const va = Number((await t.get(acctKey(a)))?.toString());
        const vb = Number((await t.get(acctKey(b)))?.toString());
        t.put(acctKey(a), Buffer.from(String(va - amount)));
        // Some transfers write ahead as intents (a large transaction's path): other writers of
        // the account wait for them, crossed transfers deadlock (one gets 40P01), and an
        // abandoned one (its coordinator "died") is pushed once its record expires.
        const mode = rand();
        if (mode < 0.3) {
          await t.flush();
          count('bank.transfer.flushed');
          if (mode < 0.02) {
            t.abandon();
            count('bank.transfer.abandoned');
            return;
          }
        }
        t.put(acctKey(b), Buffer.from(String(vb + amount)));
        await t.commit();
        count('bank.transfer.ok');
      } catch (e) {
        if (!isExpected(e)) throw e;
        if (e instanceof PgError && e.code === '40P01') count('bank.deadlock');
        count(`bank.${outcomeOf(e)}`);
        await t.rollback();
      }
    };

    const tsOp = async (client: Client) => {
      const dev = Math.floor(rand() * 2 * devices);
      if (devBusy[dev]) return;
      const route = routeOf(dev);
      devBusy[dev] = true;
      try {
        const acked = devAcked[dev] as number;
        if (rand() < 0.15 && acked > 5) {
          // DELETE a window of this device's acknowledged rows (no insert of it is in flight).
          const lo = 1 + Math.floor(rand() * (acked - 2));
          const hi = Math.min(acked, lo + 1 + Math.floor(rand() * 4));
          const payload = encodeTsDelete({ tableId: route.tableId, loUs: lo, hiUs: hi, tagCombos: [[dev]], schema: tsSchema });
          const del = { dev, lo, hi, outcome: 'info' as Outcome };
          tsDeletes.push(del);
          try {
            await client.request(route.rangeId, { kind: 'ts', op: TsRequestKind.Delete, tableId: route.tableId, payload, freeBytesMin: 0, ...(route.hashSpan ? { hashSpan: route.hashSpan } : {}) });
            del.outcome = 'ok';
            count('ts.delete.ok');
          } catch (e) {
            if (!isExpected(e)) throw e;
            del.outcome = outcomeOf(e);
            count(`ts.delete.${del.outcome}`);
          }
          return;
        }
        const n = 1 + Math.floor(rand() * 5);
        const first = devNext[dev] as number;
        devNext[dev] = first + n;
        const rows = Array.from({ length: n }, (_x, i) => [BigInt(first + i), BigInt(dev * 1000 + first + i), dev]);
        const payload = encodeTsWrite({ tableId: route.tableId, schema: tsSchema, rows });
        let out: Outcome;
        try {
          await client.request(route.rangeId, { kind: 'ts', op: TsRequestKind.Write, tableId: route.tableId, payload, freeBytesMin: 0, ...(route.hashSpan ? { hashSpan: route.hashSpan } : {}) });
          out = 'ok';
          devAcked[dev] = first + n - 1;
        } catch (e) {
          if (!isExpected(e)) throw e;
          out = outcomeOf(e);
        }
        count(`ts.write.${out}`);
        for (let i = 0; i < n; i++) tsRows.set(`${dev}/${first + i}`, out);
      } finally {
        devBusy[dev] = false;
      }
    };

    const clientLoop = async (id: number) => {
      const client = c.client(8_000);
      while (!stop && c.sched.now < end) {
        if (c.sched.now < quietUntil) {
          await new Promise<void>((res) => c.sched.at(quietUntil, res));
          continue;
        }
        const r = rand();
        const op = r < 0.4 ? registerOp(client) : r < 0.7 ? bankOp(client) : tsOp(client);
        await op;
        await new Promise<void>((res) => c.sched.after(5 + rand() * 40, res));
      }
      void id;
    };

    const nemesis = async () => {
      const ids = c.nodeIds();
      const down = new Set<number>();
      while (!stop && c.sched.now < end) {
        await new Promise<void>((res) => c.sched.after(800 + rand() * 2200, res));
        if (c.sched.now >= end) break;
        const what = rand();
        try {
          if (what < 0.25) {
            const victims = ids.filter((n) => !down.has(n));
            if (down.size >= Math.floor((o.nodes - 1) / 2) || victims.length === 0) continue;
            const n = pick(victims);
            c.crash(n, rand() < 0.5);
            count('nemesis.crash');
            down.add(n);
            const downFor = 500 + rand() * 4000;
            c.sched.after(downFor, () => {
              if (c.nodes.get(n)?.store) return;
              c.restart(n).then(
                () => down.delete(n),
                (e: unknown) => failures.push(`restart of n${n} failed: ${String(e)}`),
              );
            });
          } else if (what < 0.5) {
            const n = pick(ids);
            c.net.isolate(n, ids);
            c.log(`isolate n${n}`);
            count('nemesis.partition');
            await new Promise<void>((res) => c.sched.after(500 + rand() * 4000, res));
            c.net.heal();
            c.log('heal');
          } else if (what < 0.7) {
            const d = c.descriptor();
            const voters = d?.replicas.filter((x) => x.type === 'voter').map((x) => x.nodeId) ?? [];
            const target = pick(voters.filter((n) => !down.has(n)));
            if (target === undefined) continue;
            count('nemesis.transfer');
            await c.transferLease(target).catch(() => count('nemesis.transfer.failed'));
          } else if (what < 0.85) {
            // Move a replica: remove a voter (not the leaseholder), add it back (learner → snapshot → voter).
            const d = c.descriptor();
            const lh = c.leaseholder();
            const voters = d?.replicas.filter((x) => x.type === 'voter' && x.nodeId !== lh).map((x) => x.nodeId) ?? [];
            if (voters.length === 0 || down.size > 0) continue;
            const n = pick(voters);
            count('nemesis.membership');
            await c.removeReplica(n);
            await c.addVoter(n);
          } else if (what < 0.9) {
            // A quiet period: the range quiesces; maybe its leader dies meanwhile, so the first
            // request after it must wake a follower that then elects a leader.
            quietUntil = c.sched.now + 3_000 + rand() * 2_000;
            count('nemesis.quiet');
            await new Promise<void>((res) => c.sched.after(2_500, res));
            const lh = c.leaseholder() ?? c.descriptor()?.replicas[0]?.nodeId;
            if (lh !== undefined && rand() < 0.5 && down.size === 0 && c.nodes.get(lh)?.store) {
              c.crash(lh);
              count('nemesis.crash');
              down.add(lh);
              c.sched.after(4_000, () => {
                if (c.nodes.get(lh)?.store) return;
                c.restart(lh).then(
                  () => down.delete(lh),
                  (e: unknown) => failures.push(`restart of n${lh} failed: ${String(e)}`),
                );
              });
            }
          } else {
            // Checksums while writes go on: replicas must agree at each index they record.
            count('nemesis.checksum');
            await c.settle(c.client().request(1, { kind: 'computeChecksum' }), 5_000);
          }
        } catch (e) {
          count('nemesis.aborted');
          c.log(`nemesis step failed: ${(e as Error).message}`);
        }
      }
      for (const n of [...down]) if (!c.nodes.get(n)?.store) await c.restart(n).catch(() => undefined);
    };

    const loops = [nemesis(), ...Array.from({ length: 4 }, (_x, i) => clientLoop(i))];
    const done = await c.settle(Promise.all(loops), o.durationMs + 120_000);
    if (done.ok !== true) failures.push(`workload did not finish: ${done.ok === false ? String((done.error as Error).stack ?? done.error) : 'timeout'}`);
    stop = true;

    // Heal and let the cluster settle: every node up, no partition.
    c.net.heal();
    c.net.faults = { dropRate: 0, dupRate: 0, minDelayMs: 1, maxDelayMs: 3 };
    for (const n of c.nodeIds()) if (!c.nodes.get(n)?.store) await c.restart(n);
    await c.runFor(3_000);

    // Liveness.
    const probe = c.client(30_000).txn();
    probe.put(regKey(0), Buffer.from(String(nextValue)));
    const live = await c.settle(probe.commit(), 60_000);
    if (live.ok !== true) failures.push(`the cluster did not accept a write after healing: ${live.ok === false ? String(live.error) : 'timeout'}`);
    else regOps[0]?.push({ client: 0, kind: 'write', value: nextValue++, invokeTime: c.sched.now - 1, returnTime: c.sched.now });

    // Registers.
    regOps.forEach((ops, k) => {
      const r = checkRegisterHistory(ops, 0);
      if (r.ok === false) failures.push(`register ${k} history is not linearizable: ${r.reason}`);
      else if (r.ok === 'unknown') count('reg.check.unknown');
    });

    // Bank: a final audit.
    const audit = c.client(30_000).txn();
    const final = await c.settle(audit.scan(acctStart, acctEnd), 60_000);
    if (final.ok !== true) failures.push(`final bank audit failed: ${final.ok === false ? String(final.error) : 'timeout'}`);
    else {
      const sum = final.value.reduce((n, r) => n + Number(r.value.toString()), 0);
      if (sum !== total || final.value.length !== accounts) failures.push(`final bank total ${sum} over ${final.value.length} accounts, want ${total} over ${accounts}`);
    }

    // Consistency: a checksum after healing — every replica must have recorded it, equal.
    const sums = await c.checksums();
    const members = (c.descriptor()?.replicas ?? []).map((x) => x.nodeId);
    if (sums.size !== members.length) failures.push(`checksum recorded by ${sums.size} of ${members.length} replicas`);
    if (new Set([...sums.values()].map((s) => s.digest)).size > 1) failures.push(`replica checksums differ at index ${[...sums.values()][0]?.index}: ${[...sums].map(([n, s]) => `n${n}=${s.digest}`).join(' ')}`);
    // … and at every index two or more replicas recorded during the run.
    const byIndex = new Map<number, Map<number, string>>();
    for (const n of members) {
      for (const [index, digest] of c.replica(n)?.checksums ?? []) {
        let m = byIndex.get(index);
        if (!m) byIndex.set(index, (m = new Map()));
        m.set(n, digest);
      }
    }
    for (const [index, m] of byIndex) if (new Set(m.values()).size > 1) failures.push(`replica checksums differ at index ${index}: ${[...m].map(([n, d]) => `n${n}=${d}`).join(' ')}`);

    // The split table's ranges: replicas agree too.
    for (const e of tsMap) {
      const rs = await c.checksums(e.rangeId);
      const rm = (c.descriptor(e.rangeId)?.replicas ?? []).map((x) => x.nodeId);
      if (rs.size !== rm.length) failures.push(`range ${e.rangeId}: checksum recorded by ${rs.size} of ${rm.length} replicas`);
      if (new Set([...rs.values()].map((x) => x.digest)).size > 1) failures.push(`range ${e.rangeId}: replica checksums differ: ${[...rs].map(([n, x]) => `n${n}=${x.digest}`).join(' ')}`);
    }

    // TS rows, read from each range's leaseholder's group (every replica's content is covered by
    // the checksums): the first table in range 1, the split one in its ranges.
    const seen = new Map<string, number>();
    for (const [tableId, rangeId] of [[tsTableId, 1] as const, ...tsMap.map((e) => [tsSplitTableId, e.rangeId] as const)]) {
      const lh = c.leaseholder(rangeId);
      const group = lh === null ? undefined : c.store(lh).ts.group(tableId, rangeId);
      if (lh === null) failures.push(`range ${rangeId} has no leaseholder after healing`);
      if (!group) continue;
      for (const b of group.scan(null, -(2n ** 63n), 2n ** 63n - 1n, { dedup: 'keep' })) {
        const dev = Number(group.tags?.tagsOf(b.entityId)?.[0]);
        for (const ts of b.columns[0]?.values as BigInt64Array) {
          const k = `${dev}/${ts}`;
          seen.set(k, (seen.get(k) ?? 0) + 1);
        }
      }
    }
    const deletedBy = (dev: number, ts: number, which: Outcome[]) => tsDeletes.some((d) => d.dev === dev && ts >= d.lo && ts <= d.hi && which.includes(d.outcome));
    let tsChecked = 0;
    for (const [k, out] of tsRows) {
      const [dev, ts] = k.split('/').map(Number) as [number, number];
      const n = seen.get(k) ?? 0;
      tsChecked++;
      if (n > 1) failures.push(`TS row ${k} is present ${n} times`);
      if (out === 'fail' && n > 0) failures.push(`TS row ${k} is present although its insert failed`);
      if (out === 'ok' && n === 0 && !deletedBy(dev, ts, ['ok', 'info'])) failures.push(`TS row ${k} was acknowledged and is missing`);
      // A row acknowledged before an acknowledged DELETE of its window was issued must be gone (an
      // ambiguous insert may still have applied after the DELETE: it may be there).
      if (out === 'ok' && n > 0 && deletedBy(dev, ts, ['ok'])) failures.push(`TS row ${k} is present although an acknowledged DELETE covers it`);
    }
    for (const k of seen.keys()) if (!tsRows.has(k)) failures.push(`TS row ${k} is present but was never written`);
    count('ts.rows.checked', tsChecked);
    if (c.sched.errors.length > 0) failures.push(...c.sched.errors.slice(0, 3).map((e) => `exception in a simulation event: ${(e as Error).stack ?? String(e)}`));
    for (const n of c.nodeIds()) {
      const st = c.nodes.get(n)?.store?.stats;
      if (st) {
        count('quiesced', st.quiesced);
        count('snapshots.sent', st.snapshotsSent);
        count('snapshots.applied', st.snapshotsApplied);
      }
      for (const r of c.nodes.get(n)?.store?.replicas.values() ?? []) {
        count('intent.waits', r.txnWaits.stats.waits);
        count('intent.pushes', r.txnWaits.stats.pushes);
        count('intent.deadlocks', r.txnWaits.stats.deadlocks);
      }
    }
    count('net.sent', c.net.stats.sent);
    count('net.dropped', c.net.stats.dropped);
    count('steps', c.sched.steps);
  } catch (e) {
    failures.push(`simulation crashed: ${(e as Error).stack ?? String(e)}`);
  } finally {
    if (failures.length > 0) for (const line of c.describe()) c.log(`state ${line}`);
    await c.stop();
  }
  return { seed: o.seed, nodes: o.nodes, ok: failures.length === 0, failures, stats, trace: c.trace };
}
