/**
 * Store-level fault tests on the in-process cluster (virtual time): what the Raft log and the
 * engine lose at a crash, an fsync failure or a power cut never loses or duplicates an
 * acknowledged write; replicas that apply the same log under different clocks, free-disk values
 * and rewrite timing hold the same data.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TsRequestKind } from '@strata/kv';
import { ColumnType, encodeTsReorganize, encodeTsWrite } from '@strata/ts';
import type { TsSchema } from '@strata/ts';
import { TestCluster } from '../src/index.js';
import type { Client } from '../src/index.js';

const key = (i: number) => Buffer.concat([Buffer.from([3, 0, 0, 0, 9]), Buffer.from(String(i).padStart(6, '0'))]);
const schema: TsSchema = { partitionIntervalUs: 3600e6, columns: [ColumnType.Timestamp, ColumnType.Int64], tags: [ColumnType.Int32], primaryTags: [0] };
const tsTable = 77;
const dir = () => mkdtempSync(join(tmpdir(), 'faults-'));

/** Writes KV key i and TS row (dev i % 3, ts i) concurrently; returns the indexes acknowledged. */
async function load(c: TestCluster, client: Client, from: number, to: number, during?: (i: number) => void): Promise<Set<number>> {
  const acked = new Set<number>();
  const ops: Promise<void>[] = [];
  for (let i = from; i < to; i++) {
    during?.(i);
    const t = client.txn();
    t.put(key(i), Buffer.from(String(i)));
    const ts = client.request(1, { kind: 'ts', op: TsRequestKind.Write, tableId: tsTable, freeBytesMin: 0, payload: encodeTsWrite({ tableId: tsTable, schema, rows: [[BigInt(i), BigInt(i), i % 3]] }) });
    ops.push(
      Promise.all([t.commit(), ts]).then(
        () => void acked.add(i),
        () => undefined,
      ),
    );
    await c.runFor(2);
  }
  await c.settle(Promise.all(ops), 60_000);
  return acked;
}

/** Every TS timestamp stored on a node, with how often it occurs. */
function tsRows(c: TestCluster, node: number): Map<number, number> {
  const out = new Map<number, number>();
  const g = c.store(node).ts.group(tsTable, 1);
  for (const b of g?.scan(null, -(2n ** 63n), 2n ** 63n - 1n, { dedup: 'keep' }) ?? []) for (const ts of b.columns[0]?.values as BigInt64Array) out.set(Number(ts), (out.get(Number(ts)) ?? 0) + 1);
  return out;
}

async function checkAcked(c: TestCluster, client: Client, acked: Set<number>, node: number): Promise<void> {
  const rows = tsRows(c, node);
  for (const i of acked) {
    const t = client.txn();
    const got = await c.settle(t.get(key(i)));
    expect(got).toEqual({ ok: true, value: Buffer.from(String(i)) });
    expect(rows.get(i)).toBe(1);
  }
  for (const n of rows.values()) expect(n).toBe(1);
}

describe('a store under log and engine faults', () => {
  it('a crash that loses the unsynced tail of the Raft log (torn) loses and duplicates no acknowledged write', async () => {
    const c = await TestCluster.start({ nodes: 1, seed: 11, dir: dir() });
    try {
      const client = c.client();
      const acked = await load(c, client, 0, 200, (i) => {
        if (i === 120) c.crash(1);
      });
      expect(acked.size).toBeGreaterThan(50);
      expect(acked.size).toBeLessThan(200);
      await c.restart(1);
      await checkAcked(c, client, acked, 1);
    } finally {
      await c.stop();
    }
  });

  it('an fsync failure stops the store; after a restart nothing acknowledged is lost or duplicated', async () => {
    const c = await TestCluster.start({ nodes: 1, seed: 12, dir: dir() });
    try {
      const client = c.client();
      const acked = await load(c, client, 0, 150, (i) => {
        if (i === 80) (c.nodes.get(1) as { logFs: { failNextSync: boolean } }).logFs.failNextSync = true;
      });
      expect(c.store(1).fatalError?.message).toMatch(/fdatasync failed/);
      expect(acked.size).toBeLessThan(150);
      c.crash(1);
      await c.restart(1);
      await checkAcked(c, client, acked, 1);
    } finally {
      await c.stop();
    }
  });

  it('the log is never truncated past what the engine made durable: a power cut after truncation loses nothing', async () => {
    const c = await TestCluster.start({ nodes: 1, seed: 13, dir: dir(), knobs: { raftLogTruncateEntriesMin: 5, logSegmentBytesMax: 4096, gcTtlMs: 3_600_000 } });
    try {
      const node = c.nodes.get(1) as { engine: { autoSync: boolean; sync(): void } };
      const client = c.client();
      const first = await load(c, client, 0, 60);
      node.engine.autoSync = false; // from here the engine makes nothing durable by itself
      const second = await load(c, client, 60, 200);
      await c.runFor(3_000); // truncation passes run
      expect(c.store(1).log.segmentCount()).toBeGreaterThan(1); // segments the engine still needs were kept
      c.crash(1, true); // power cut: the engine reverts to what it had synced
      await c.restart(1);
      await checkAcked(c, client, new Set([...first, ...second]), 1);
    } finally {
      await c.stop();
    }
  });
});

describe('replicas under different clocks, free disk and rewrite timing', () => {
  it('apply the same log to the same data: KV, GC, TS writes and a reorganization', async () => {
    const c = await TestCluster.start({ nodes: 3, seed: 21, dir: dir(), clockSkew: 0.05, knobs: { gcTtlMs: 200, gcQueueIntervalMs: 100, raftLogTruncateEntriesMin: 10 } });
    try {
      await c.addVoter(2);
      await c.addVoter(3);
      const client = c.client();
      // Rewrites finish at different times on each node; one node's disk is nearly full.
      await load(c, client, 0, 100);
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 30; i++) {
          const t = client.txn();
          t.put(key(i), Buffer.from(`r${round}`)); // versions for GC
          await c.settle(t.commit());
        }
        await c.runFor(500);
      }
      const reorg = encodeTsReorganize({ tableId: tsTable, beforeUs: 1e15, dedup: 'override', storage: null, threads: 1 });
      expect((await c.settle(client.request(1, { kind: 'ts', op: TsRequestKind.Reorganize, tableId: tsTable, payload: reorg, freeBytesMin: 0 }))).ok).toBe(true);
      await c.runFor(2_000); // rewrites finish, the leaseholder proposes their commits
      expect([1, 2, 3].every((n) => !c.store(n).ts.hasPendingRewrites(1))).toBe(true);
      const gc = [1, 2, 3].map((n) => c.replica(n)?.gcThreshold ?? 0n);
      expect(gc[0]).toBeGreaterThan(0n);
      const sums = await c.checksums();
      expect(sums.size).toBe(3);
      expect(new Set([...sums.values()].map((s) => s.digest)).size).toBe(1);
    } finally {
      await c.stop();
    }
  });
});
