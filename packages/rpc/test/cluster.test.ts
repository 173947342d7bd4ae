/**
 * Three real stores in one process, talking only through gRPC on 127.0.0.1: Raft messages on the
 * GrpcRaftTransport's streams, snapshots (KV_BATCH + TS_BATCH) on snapshot streams, client batches
 * through a DistSender on a GrpcNodeDialer, clock pings between the nodes.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NotLeaseholderError, HybridClock, makeTimestamp, realTimers, sleep } from '@strata/common';
import { TsRequestKind } from '@strata/kv';
import type { BatchResponse, KvRequest } from '@strata/kv';
import { DistSender, KvTxn, SendFailedError } from '@strata/kvclient';
import { Store, maxClockOffsetMs } from '@strata/store';
import type { Replica } from '@strata/store';
import { ColumnType, encodeTsWrite } from '@strata/ts';
import type { TsSchema, TsScanPage } from '@strata/ts';
import { Connections, GrpcNodeDialer, GrpcRaftTransport, RemoteClockMonitor, RpcServer, storeServices } from '../src/index.js';

const tsTableId = 1000;
const tsSchema: TsSchema = { partitionIntervalUs: 3600e6, columns: [ColumnType.Timestamp, ColumnType.Int64], tags: [ColumnType.Int32], primaryTags: [0] };
const key = (s: string) => Buffer.concat([Buffer.from([3, 0, 0, 0, 1]), Buffer.from(s)]);
/** Small logs: a node that misses ~70 entries is caught up by a snapshot, not the log. */
const knobs = { raftLogTruncateEntriesMin: 20, raftLogKeepForFollowersEntriesMax: 50 };

interface Node {
  id: number;
  dir: string;
  port: number;
  store: Store | null;
  server: RpcServer | null;
  conns: Connections | null;
  transport: GrpcRaftTransport | null;
}

const root = mkdtempSync(join(tmpdir(), 'rpc-cluster-'));
const addresses = new Map<number, string>();
const nodes = new Map<number, Node>();
const resolve = (id: number) => addresses.get(id) ?? null;
const wallSkewMs = new Map<number, number>();

async function start(id: number, bootstrap: boolean): Promise<Node> {
  const n: Node = nodes.get(id) ?? { id, dir: join(root, `n${id}`), port: 0, store: null, server: null, conns: null, transport: null };
  nodes.set(id, n);
  n.conns = new Connections({ nodeId: id, resolve });
  n.transport = new GrpcRaftTransport(n.conns);
  n.store = await Store.open(n.dir, { nodeId: id, bootstrap, transport: n.transport, knobs });
  // The wall clock pings answer with: the store's, plus a skew the clock-offset check sets.
  const services = { ...storeServices(n.store), wallTimeMs: () => Date.now() + (wallSkewMs.get(id) ?? 0) };
  n.server = await RpcServer.start({ services, host: '127.0.0.1', port: n.port });
  n.port = n.server.port;
  addresses.set(id, n.server.address);
  return n;
}

/** Stops a node hard: its server cuts every call, its streams and channels close, its store closes. */
async function stop(id: number): Promise<void> {
  const n = nodes.get(id);
  if (!n?.store) return;
  n.server?.kill();
  n.transport?.close();
  n.conns?.close();
  const s = n.store;
  n.store = null;
  n.server = null;
  await s.close();
}

const live = () => [...nodes.values()].filter((n) => n.store);
const replica = (id: number): Replica | undefined => nodes.get(id)?.store?.replicas.get(1);
const leaseholder = (): number | null => live().find((n) => replica(n.id)?.holdsValidLease())?.id ?? null;

async function waitFor(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(realTimers, 20);
  }
}

const clientConns = new Connections({ nodeId: 0, resolve });
const clientClock = new HybridClock();
const dialer = new GrpcNodeDialer(clientConns);
const sender = new DistSender({ dialer, timers: realTimers, clock: clientClock, knownNodes: () => [1, 2, 3], deadlineMs: 20_000 });

function request(req: KvRequest): Promise<BatchResponse> {
  return sender.send({ header: { rangeId: 1, timestamp: clientClock.now(), txn: null, now: clientClock.now() }, requests: [req] });
}

const maxOffset = makeTimestamp(maxClockOffsetMs, 0);

async function put(k: string, v: string): Promise<void> {
  const t = new KvTxn({ sender, clock: clientClock, maxOffset, rangeOf: () => 1, timers: realTimers });
  t.put(key(k), Buffer.from(v));
  await t.commit();
}

async function get(k: string): Promise<string | null> {
  const t = new KvTxn({ sender, clock: clientClock, maxOffset, rangeOf: () => 1, timers: realTimers });
  const v = await t.get(key(k));
  await t.commit();
  return v === null ? null : v.toString();
}

async function tsWrite(dev: number, first: number, n: number): Promise<void> {
  const rows = Array.from({ length: n }, (_x, i) => [BigInt(first + i), BigInt(dev * 1_000_000 + first + i), dev]);
  await request({ kind: 'ts', op: TsRequestKind.Write, tableId: tsTableId, payload: encodeTsWrite({ tableId: tsTableId, schema: tsSchema, rows }), freeBytesMin: 0 });
}

/** Every TS row of the table, read with tsScan requests (pages of devices) from the leaseholder. */
async function tsRows(): Promise<number> {
  let rows = 0;
  let after: number | null = null;
  for (;;) {
    const res = await request({
      kind: 'tsScan',
      spec: { tableId: tsTableId, lo: -(2n ** 63n), hi: 2n ** 63n - 1n, tagIds: [0], tagTypes: [ColumnType.Int32], entities: null, tagFilters: [], tagIndex: null, columnIds: null, columnLayout: { ids: [0, 1], types: [ColumnType.Timestamp, ColumnType.Int64] }, prune: [], dedup: 'keep', latestOnly: false },
      after,
      rowsMax: 100,
    });
    const r = res.responses[0];
    if (r?.kind !== 'tsScan') throw new Error(`unexpected response ${r?.kind}`);
    const page: TsScanPage = r.page;
    for (const b of page.batches) rows += b.columns[0]?.values.length ?? 0;
    if (page.resumeAfter === null) return rows;
    after = page.resumeAfter;
  }
}

/** Adds a voter the way the replicate queue does: learner, caught up (by a snapshot here), promoted. */
async function addVoter(nodeId: number): Promise<void> {
  await waitFor('a leaseholder', () => leaseholder() !== null);
  await (replica(leaseholder() as number) as Replica).changeReplicas('addLearner', nodeId);
  await waitFor(`the learner on n${nodeId} to catch up`, () => {
    const r = replica(leaseholder() ?? 0);
    const learner = r?.desc?.replicas.find((x) => x.nodeId === nodeId);
    return !!(r && learner && r.matchOf(learner.replicaId) >= r.appliedIndex);
  });
  await waitFor('a leaseholder', () => leaseholder() !== null);
  await (replica(leaseholder() as number) as Replica).changeReplicas('promote', nodeId);
}

/** Every live member's digest at the index of one checksum command. */
async function checksums(): Promise<Map<number, string>> {
  const res = await request({ kind: 'computeChecksum' });
  const r = res.responses[0];
  const index = r?.kind === 'computeChecksum' ? r.index : 0;
  await waitFor('every replica to apply the checksum command', () => live().every((n) => (replica(n.id)?.appliedIndex ?? 0) >= index));
  const out = new Map<number, string>();
  for (const n of live()) {
    const d = replica(n.id)?.checksums.get(index);
    if (d) out.set(n.id, d);
  }
  return out;
}

const serverStat = (k: 'snapshotBytes' | 'snapshotsReceived') => [...nodes.values()].reduce((s, n) => s + (n.server?.stats[k] ?? 0), 0);

afterAll(async () => {
  for (const n of nodes.values()) await stop(n.id);
  clientConns.close();
  rmSync(root, { recursive: true, force: true });
});

describe('three stores over gRPC', () => {
  it('replicates, snapshots KV and TS data over the wire, fails over, and catches a restarted node up', async () => {
    const t0 = Date.now();
    await start(1, true);
    await start(2, false);
    await start(3, false);
    await waitFor('node 1 to hold the lease', () => leaseholder() === 1);

    // Data before the other replicas exist: it can reach them only in their snapshots (2 MiB of
    // values: KV_BATCH spans several 1 MiB chunks; the TS rows make the TS_BATCH part).
    const big = new KvTxn({ sender, clock: clientClock, maxOffset, rangeOf: () => 1, timers: realTimers });
    for (let i = 0; i < 256; i++) big.put(key(`before${i}`), Buffer.alloc(8192, i));
    await big.commit();
    for (let i = 0; i < 20; i++) await put(`small${i}`, `v${i}`);
    await tsWrite(1, 1, 500);
    await tsWrite(2, 1, 300);
    expect(await tsRows()).toBe(800);

    await addVoter(2);
    await addVoter(3);
    expect(replica(1)?.desc?.replicas.map((r) => `${r.nodeId}:${r.type}`)).toEqual(['1:voter', '2:voter', '3:voter']);
    const snapshotBytes = serverStat('snapshotBytes');
    expect(serverStat('snapshotsReceived')).toBeGreaterThanOrEqual(2);
    const sent = nodes.get(1)?.store?.queues.snapshots.sent;
    expect(sent?.kvBytes).toBeGreaterThan(0);
    expect(sent?.tsBytes).toBeGreaterThan(0);

    for (let i = 0; i < 10; i++) await put(`after${i}`, `w${i}`);
    const sums1 = await checksums();
    expect(sums1.size).toBe(3);
    expect(new Set(sums1.values()).size).toBe(1);

    // Clock offsets: every node measures the others; n3's wall clock runs 1 s ahead.
    wallSkewMs.set(3, 1000);
    const monitors = [1, 2, 3].map((id) => {
      const n = nodes.get(id) as Node;
      const fatal: string[] = [];
      const m = new RemoteClockMonitor({ conns: n.conns as Connections, peers: () => [1, 2, 3].filter((p) => p !== id), clock: (n.store as Store).clock, wallTimeMs: () => Date.now() + (wallSkewMs.get(id) ?? 0), maxOffsetMs: maxClockOffsetMs, onFatal: (c) => fatal.push(c.message) });
      return { id, m, fatal };
    });
    const checks = await Promise.all(monitors.map(async (x) => ({ id: x.id, c: await x.m.pingAll(), fatal: x.fatal })));
    for (const { id, c, fatal } of checks) {
      expect(c.measured, `n${id} measured`).toBe(2);
      expect(c.fatal, `n${id}: ${c.message}`).toBe(id === 3);
      expect(fatal.length).toBe(id === 3 ? 1 : 0);
    }
    const off = monitors[0]?.m.offsets.get(3);
    expect(off?.offsetMs).toBeGreaterThan(900);
    expect(off?.offsetMs).toBeLessThan(1100);
    wallSkewMs.clear();

    // Errors cross the wire as their classes: a follower names the leaseholder.
    const victim = leaseholder() as number;
    const follower = [1, 2, 3].find((x) => x !== victim) as number;
    const getReq = () => ({ header: { rangeId: 1, timestamp: clientClock.now(), txn: null, now: clientClock.now() }, requests: [{ kind: 'get' as const, key: key('small1') }] });
    const notLh = await dialer.send(follower, getReq()).catch((e: unknown) => e);
    expect(notLh).toBeInstanceOf(NotLeaseholderError);
    expect((notLh as NotLeaseholderError).leaseholderNodeId).toBe(victim);
    const noAddress = await dialer.send(9, getReq()).catch((e: unknown) => e);
    expect(noAddress).toBeInstanceOf(SendFailedError);
    expect((noAddress as SendFailedError).maybeApplied).toBe(false);

    // A request in flight when its node dies may have applied; one to a dead node certainly did not.
    const txnA = { id: randomUUID(), readTs: clientClock.now(), uncertaintyLimit: clientClock.now() + maxOffset, observed: [] };
    const txnB = { ...txnA, id: randomUUID() };
    const lock = (txn: typeof txnA) => dialer.send(victim, { header: { rangeId: 1, timestamp: txn.readTs, txn, now: clientClock.now() }, requests: [{ kind: 'acquireLocks', keys: [key('locked')] }] });
    await lock(txnA);
    const waiting = lock(txnB).catch((e: unknown) => e); // queues behind txnA's lock
    await sleep(realTimers, 200);

    // Stop the leaseholder hard; writes continue through the other two.
    const stoppedAt = Date.now();
    await stop(victim);
    const inFlight = await waiting;
    expect(inFlight).toBeInstanceOf(SendFailedError);
    expect((inFlight as SendFailedError).maybeApplied).toBe(true);
    await put('during0', 'x');
    const failoverMs = Date.now() - stoppedAt;
    const toDead = await dialer.send(victim, getReq()).catch((e: unknown) => e);
    expect(toDead).toBeInstanceOf(SendFailedError);
    expect((toDead as SendFailedError).maybeApplied).toBe(false);
    for (let i = 1; i < 40; i++) await put(`during${i}`, 'x');
    await tsWrite(3, 1, 200);
    for (let i = 0; i < 40; i++) await put(`later${i}`, 'y'); // ~80 entries: beyond what the log keeps for a follower
    expect(await get('during7')).toBe('x');
    expect(await get('small3')).toBe('v3');
    expect((await get('before200'))?.length).toBe(8192);
    expect(await tsRows()).toBe(1000); // served by n2 or n3: their TS data came in the snapshots
    const survivors = [1, 2, 3].filter((x) => x !== victim);
    expect(survivors).toContain(leaseholder());

    // The stopped node comes back (same directory and port) and is caught up.
    await start(victim, false);
    const back = nodes.get(victim)?.store as Store;
    await waitFor(`n${victim} to catch up`, () => {
      const lh = leaseholder();
      return lh !== null && (replica(victim)?.appliedIndex ?? 0) >= (replica(lh)?.appliedIndex ?? Infinity);
    }, 20_000);
    const sums2 = await checksums();
    expect(sums2.size).toBe(3);
    expect(new Set(sums2.values()).size).toBe(1);

    const report = {
      totalMs: Date.now() - t0,
      failoverMs,
      snapshotBytesToLearners: snapshotBytes,
      snapshotBytesTotal: serverStat('snapshotBytes'),
      caughtUpBySnapshot: back.stats.snapshotsApplied > 0,
      transports: survivors.map((id) => nodes.get(id)?.transport?.stats),
      dialer: dialer.stats,
    };
    console.log(JSON.stringify(report));
    expect(back.stats.snapshotsApplied).toBeGreaterThan(0);
  }, 60_000);
});
