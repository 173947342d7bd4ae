/**
 * The RPC server against a real store, fed by hand-made streams: what a broken or hostile peer
 * sends must be refused without harm.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RangeNotFoundError, realTimers, sleep } from '@strata/common';
import { encodeDescriptor, wholeKeyspace } from '@strata/kv';
import { MessageType, message } from '@strata/raft';
import { Store } from '@strata/store';
import {
  Connections,
  GrpcNodeDialer,
  GrpcRaftTransport,
  RemoteClockMonitor,
  RemoteInternalError,
  RpcServer,
  Services,
  decodeSnapshotResponse,
  encodeRaftMessageBatch,
  encodeSnapshotPart,
  isNotConnected,
  rpcMethod,
  storeServices,
} from '../src/index.js';
import type { SnapshotPart } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'rpc-server-'));
let store: Store;
let server: RpcServer;
const conns = new Connections({ nodeId: 1, resolve: (id) => (id === 2 ? server.address : null) });
const identity = (b: Buffer) => b;

/** The store's own transport: it answers the heartbeat below, to a node it cannot reach (dropped). */
const storeConns = new Connections({ nodeId: 2, resolve: () => null });

beforeAll(async () => {
  store = await Store.open(dir, { nodeId: 2, transport: new GrpcRaftTransport(storeConns) });
  server = await RpcServer.start({ services: storeServices(store), host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  conns.close();
  storeConns.close();
  await server.close(0);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function client(): Promise<grpc.Client> {
  const c = await conns.connected(2, 'default', 5000, false);
  if (isNotConnected(c)) throw new Error(c.reason);
  return c;
}

/** Streams the given parts as one snapshot (ending the stream after them) and returns the answer. */
async function snapshot(parts: SnapshotPart[]): Promise<Error | null> {
  const c = await client();
  return new Promise((resolve, reject) => {
    const call = c.makeClientStreamRequest<Buffer, Buffer>(rpcMethod(Services.snapshots, 'RaftSnapshot').path, identity, identity, new grpc.Metadata(), {}, (err, res) =>
      err ? reject(err) : resolve(decodeSnapshotResponse(res ?? Buffer.alloc(0), 2)),
    );
    for (const p of parts) call.write(encodeSnapshotPart(p));
    call.end();
  });
}

const header = {
  rangeId: 7,
  fromNodeId: 1,
  toNodeId: 2,
  fromReplicaId: 1,
  toReplicaId: 2,
  index: 10,
  term: 2,
  message: message({ type: MessageType.Snap, to: 2, from: 1, term: 2, snapshot: { metadata: { index: 10, term: 2, confState: { voters: [1, 2], learners: [] } }, data: new Uint8Array(0) } }),
  descriptor: encodeDescriptor(wholeKeyspace(7, 1)),
  now: 1n,
  strategy: 'KV_BATCH+TS_BATCH' as const,
};

describe('RpcServer', () => {
  it('fails a snapshot stream that ends before its final marker, staging nothing', async () => {
    const err = await snapshot([{ kind: 'header', header }, { kind: 'chunk', chunk: { kind: 'kv', keys: [Buffer.from('a')], values: [Buffer.from('1')] } }]);
    expect(err).toBeInstanceOf(RemoteInternalError);
    expect(err?.message).toContain('ended before its final message');
    expect(store.replicas.get(7)?.staged ?? null).toBe(null);
    expect(server.stats.snapshotsFailed).toBe(1);
  });

  it('fails a snapshot stream that does not start with its header, or is for another node', async () => {
    expect((await snapshot([{ kind: 'final' }]))?.message).toContain('must start with its header');
    expect((await snapshot([{ kind: 'header', header: { ...header, toNodeId: 3 } }, { kind: 'final' }]))?.message).toContain('sent to node 2');
  });

  it('drops malformed and misaddressed raft batches and keeps the stream', async () => {
    const c = await client();
    const before = { ...server.stats };
    const call = c.makeClientStreamRequest<Buffer, Buffer>(rpcMethod(Services.raft, 'RaftMessageBatch').path, identity, identity, new grpc.Metadata(), {}, () => {});
    call.write(Buffer.from([0x22, 0xff, 0xff, 0xff, 0x0f, 1])); // truncated
    call.write(encodeRaftMessageBatch({ fromNodeId: 1, toNodeId: 3, now: 1n, messages: [{ rangeId: 9, fromReplicaId: 1, toReplicaId: 2, message: message({ type: MessageType.Heartbeat }) }] }));
    call.write(encodeRaftMessageBatch({ fromNodeId: 1, toNodeId: 2, now: 1n, messages: [{ rangeId: 9, fromReplicaId: 1, toReplicaId: 2, message: message({ type: MessageType.Hup }) }] }));
    call.write(encodeRaftMessageBatch({ fromNodeId: 1, toNodeId: 2, now: 1n, messages: [{ rangeId: 9, fromReplicaId: 1, toReplicaId: 2, message: message({ type: MessageType.Heartbeat, term: 1, from: 1, to: 2 }) }] }));
    for (let i = 0; i < 100 && server.stats.raftMessages < before.raftMessages + 1; i++) await sleep(realTimers, 10);
    expect(server.stats.malformed - before.malformed).toBe(1);
    expect(server.stats.raftDropped - before.raftDropped).toBe(2); // misaddressed, and a local-only type
    expect(server.stats.raftMessages - before.raftMessages).toBe(1);
    expect(store.replicas.has(9)).toBe(true); // the heartbeat created the (uninitialized) replica
    call.end();
  });

  it('answers batches with structured errors and pings with its clocks', async () => {
    const dialer = new GrpcNodeDialer(conns);
    const err = await dialer.send(2, { header: { rangeId: 42, timestamp: 1n, txn: null, now: 1n }, requests: [{ kind: 'get', key: Buffer.from('k') }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeNotFoundError);
    expect(err).toMatchObject({ rangeId: 42, nodeId: 2 });
    const m = new RemoteClockMonitor({ conns, peers: () => [2], clock: store.clock, maxOffsetMs: 500, onFatal: () => {} });
    const off = await m.ping(2);
    expect(off).not.toBe(null);
    expect(Math.abs(off?.offsetMs ?? Infinity)).toBeLessThan(100);
    expect(m.check().fatal).toBe(false);
  });

  it('refuses batches and Raft streams from another cluster (a reused address) or from no cluster, and serves its own', async () => {
    const clusterDir = mkdtempSync(join(tmpdir(), 'rpc-cluster-'));
    const own = await Store.open(clusterDir, { nodeId: 3 });
    const guarded = await RpcServer.start({ services: { ...storeServices(own), clusterId: () => 'cluster-a' }, host: '127.0.0.1', port: 0 });
    const as = (clusterId: string | undefined) => new Connections({ nodeId: 9, resolve: (id) => (id === 3 ? guarded.address : null), clusterId: clusterId === undefined ? undefined : () => clusterId });
    const ba = { header: { rangeId: 42, timestamp: 1n, txn: null, now: 1n }, requests: [{ kind: 'get' as const, key: Buffer.from('k') }] };
    const errOf = (c: Connections) => new GrpcNodeDialer(c).send(3, ba).catch((e: unknown) => e);
    const [foreign, none, mine] = [as('cluster-b'), as(undefined), as('cluster-a')];
    try {
      expect(String(await errOf(foreign))).toMatch(/another cluster|cluster-b/);
      expect(String(await errOf(none))).toMatch(/\(none\)|cluster/);
      expect(await errOf(mine)).toBeInstanceOf(RangeNotFoundError); // served: no range 42 here
      expect(guarded.stats.foreignRefused).toBe(2);
      // A Raft stream from the other cluster is answered with an error, its messages never reach the store.
      const c = await foreign.connected(3, 'raft', 5000, false);
      if (isNotConnected(c)) throw new Error(c.reason);
      const before = guarded.stats.raftBatches;
      const code = await new Promise<number | undefined>((resolve) => {
        const call = c.makeClientStreamRequest<Buffer, Buffer>(rpcMethod(Services.raft, 'RaftMessageBatch').path, identity, identity, new grpc.Metadata(), {}, (err) => resolve(err?.code));
        call.write(encodeRaftMessageBatch({ fromNodeId: 9, toNodeId: 3, now: 1n, messages: [] }));
        call.end();
      });
      expect(code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(guarded.stats.raftBatches).toBe(before);
    } finally {
      for (const c of [foreign, none, mine]) c.close();
      await guarded.close(0);
      await own.close();
      rmSync(clusterDir, { recursive: true, force: true });
    }
  });
});
