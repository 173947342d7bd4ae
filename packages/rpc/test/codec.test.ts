import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import {
  AmbiguousResultError,
  NotLeaseholderError,
  PgError,
  RangeKeyMismatchError,
  RangeNotFoundError,
  ReadWithinUncertaintyIntervalError,
  ReplicaUnavailableError,
  SqlState,
} from '@strata/common';
import { TsRequestKind } from '@strata/kv';
import type { BatchRequest, BatchResponse, KvRequest, KvResponse } from '@strata/kv';
import { MessageType, encodeConfChange, message } from '@strata/raft';
import type { Message } from '@strata/raft';
import type { RaftMessageBatch, SnapshotHeader } from '@strata/store';
import { ColumnType } from '@strata/ts';
import type { TsScanPage, TsScanSpec } from '@strata/ts';
import {
  RemoteInternalError,
  WireFormatError,
  decodeBatchRequest,
  decodeBatchResponse,
  decodePingRequest,
  decodePingResponse,
  decodeRaftMessageBatch,
  decodeSnapshotPart,
  decodeSnapshotResponse,
  encodeBatchError,
  encodeBatchRequest,
  encodeBatchResponse,
  encodePingRequest,
  encodePingResponse,
  encodeRaftMessageBatch,
  encodeSnapshotPart,
  encodeSnapshotResponse,
  protoType,
  splitRaftBatch,
} from '../src/index.js';

const u64Max = (1n << 64n) - 1n;
const i64Min = -(1n << 63n);
const i64Max = (1n << 63n) - 1n;
const safeMax = Number.MAX_SAFE_INTEGER;
const b = (s: string) => Buffer.from(s);

// ---- Raft ----------------------------------------------------------------------------------------

const allTypes = Object.values(MessageType);

function fullMessage(type: Message['type'], i: number): Message {
  return message({
    type,
    to: 3,
    from: 0xffffffff,
    term: safeMax - i,
    logTerm: 7,
    index: safeMax,
    entries: [
      { term: 1, index: 1, type: 0, data: b('normal entry') },
      { term: safeMax, index: safeMax - 1, type: 1, data: Buffer.from(encodeConfChange({ type: 2, nodeId: 5, context: b('desc') })) },
      { term: 2, index: 3, type: 0, data: Buffer.alloc(0) },
    ],
    commit: 42,
    snapshot: i % 2 === 0 ? { metadata: { index: safeMax, term: 9, confState: { voters: [1, 2, 3], learners: [4] } }, data: b('snapdata') } : null,
    reject: i % 3 === 0,
    rejectHint: 17,
    context: i % 2 === 0 ? b('ctx') : Buffer.alloc(0),
    leaseTick: 123456789,
    quiesce: i % 2 === 1,
  });
}

describe('raft codec', () => {
  it('round-trips a batch with every message type, entries and snapshots exactly', () => {
    const batch: RaftMessageBatch = {
      fromNodeId: 1,
      toNodeId: 0xffffffff,
      now: u64Max,
      messages: allTypes.map((t, i) => ({ rangeId: safeMax - i, fromReplicaId: 1, toReplicaId: 2 + i, message: fullMessage(t, i) })),
    };
    expect(allTypes.length).toBe(19);
    const out = decodeRaftMessageBatch(encodeRaftMessageBatch(batch));
    expect(out).toEqual(batch);
    expect(out.now).toBe(u64Max);
  });

  it('round-trips an empty heartbeat batch and zero values', () => {
    // (message() fills `context` with a shared empty Uint8Array; decoded bytes are Buffers.)
    const batch: RaftMessageBatch = { fromNodeId: 2, toNodeId: 1, now: 0n, messages: [{ rangeId: 1, fromReplicaId: 1, toReplicaId: 1, message: message({ type: MessageType.Heartbeat, context: Buffer.alloc(0) }) }] };
    expect(decodeRaftMessageBatch(encodeRaftMessageBatch(batch))).toEqual(batch);
  });

  it('splits a batch too large for one stream message, keeping order, and sets aside what cannot fit', () => {
    const msg = (i: number, bytes: number) => ({ rangeId: i, fromReplicaId: 1, toReplicaId: 2, message: message({ type: MessageType.App, context: Buffer.alloc(0), entries: [{ term: 1, index: i, type: 0, data: Buffer.alloc(bytes, i) }] }) });
    const batch: RaftMessageBatch = { fromNodeId: 1, toNodeId: 2, now: u64Max, messages: [...Array.from({ length: 10 }, (_x, i) => msg(i + 1, 1000)), msg(99, 5000), msg(11, 10)] };
    const { parts, tooLarge } = splitRaftBatch(batch, 3000);
    expect(tooLarge.map((m) => m.rangeId)).toEqual([99]);
    expect(parts.length).toBe(5); // two 1 KiB messages a part; the small last one joins the fifth
    for (const p of parts) expect(p.buf.length).toBeLessThanOrEqual(3000);
    const back = parts.flatMap((p) => decodeRaftMessageBatch(p.buf).messages);
    expect(back).toEqual(batch.messages.filter((m) => m.rangeId !== 99));
    expect(parts.reduce((n, p) => n + p.messages, 0)).toBe(11);
    expect(splitRaftBatch(batch, 1 << 20).parts.length).toBe(1);
  });

  it('refuses a Raft index above 2^53 - 1 instead of rounding it', () => {
    const Long = protobuf.util.Long as unknown as { fromString(s: string, unsigned: boolean): unknown };
    const wire = protoType('strata.raft.RaftMessageBatch')
      .encode({ fromNodeId: 1, toNodeId: 2, now: 1, messages: [{ rangeId: 1, fromReplicaId: 1, toReplicaId: 2, message: { type: 7, index: Long.fromString('9007199254740993', true) } }] })
      .finish();
    expect(() => decodeRaftMessageBatch(wire)).toThrow(WireFormatError);
  });

  it('refuses an unknown message type and garbage', () => {
    const wire = protoType('strata.raft.RaftMessageBatch').encode({ fromNodeId: 1, toNodeId: 2, messages: [{ rangeId: 1, message: { type: 99 } }] }).finish();
    expect(() => decodeRaftMessageBatch(wire)).toThrow(WireFormatError);
    expect(() => decodeRaftMessageBatch(Buffer.from([0x22, 0xff, 0xff, 0xff, 0x0f, 1]))).toThrow();
  });
});

// ---- KV ------------------------------------------------------------------------------------------

const spec: TsScanSpec = {
  tableId: 1000,
  lo: i64Min,
  hi: i64Max,
  tagIds: [1, 2, 3],
  tagTypes: [ColumnType.Int32, ColumnType.String, ColumnType.Int64],
  entities: [
    [7, 'a', null],
    [8, 'β', 123n],
  ],
  tagFilters: [{ tagId: 2, allowed: ['x', null, true, false, -0, Number.NaN, Number.POSITIVE_INFINITY, i64Min, i64Max, 1n << 70n, -(1n << 65n)] }],
  tagIndex: [2],
  columnIds: null,
  columnLayout: { ids: [0, 1, 2, 3, 4, 5], types: [ColumnType.Timestamp, ColumnType.Int32, ColumnType.Int64, ColumnType.Float64, ColumnType.Bool, ColumnType.String] },
  prune: [
    { columnId: 1, op: '>', value: 5 },
    { columnId: 1, op: '>=', value: -5 },
    { columnId: 2, op: '<', value: 2 ** 53 - 1 },
    { columnId: 2, op: '<=', value: 0.5 },
    { columnId: 2, op: '=', value: 3 },
  ],
  dedup: 'merge',
  latestOnly: true,
};

const page: TsScanPage = {
  layout: spec.columnLayout,
  batches: [
    {
      entityId: 0xffffffff,
      tags: [7, 'a', null],
      columns: [
        { type: ColumnType.Timestamp, values: BigInt64Array.from([i64Min, 0n, i64Max]), nulls: null },
        { type: ColumnType.Int32, values: Int32Array.from([-(2 ** 31), 0, 2 ** 31 - 1]), nulls: Uint8Array.from([0, 1, 0]) },
        { type: ColumnType.Int64, values: BigInt64Array.from([-1n, 1n << 62n, 3n]), nulls: null },
        { type: ColumnType.Float64, values: Float64Array.from([-0, Number.NaN, 1e308]), nulls: Uint8Array.from([1, 0, 0]) },
        { type: ColumnType.Bool, values: Uint8Array.from([1, 0, 1]), nulls: null },
        { type: ColumnType.String, values: ['', 'ünïcode', 'z'], nulls: Uint8Array.from([0, 0, 1]) },
      ],
    },
    { entityId: 1, tags: [8, 'β', 123n], columns: [] },
  ],
  resumeAfter: 0,
};

/** One request of every kind: adding a kind to KvRequest without a codec case fails to typecheck here. */
const requests: { [K in KvRequest['kind']]: Extract<KvRequest, { kind: K }> } = {
  get: { kind: 'get', key: b('k') },
  scan: { kind: 'scan', key: b('a'), endKey: b('z'), reverse: true, maxKeys: 1000 },
  acquireLocks: { kind: 'acquireLocks', keys: [b('a'), b('b')] },
  releaseLocks: { kind: 'releaseLocks' },
  refresh: { kind: 'refresh', keys: [b('a')], spans: [[b('b'), b('c')]], from: u64Max - 1n },
  putIntents: { kind: 'putIntents', writes: [{ key: b('a'), value: b('1') }, { key: b('b'), value: null }, { key: b('c'), value: Buffer.alloc(0) }], first: true },
  endTxn: { kind: 'endTxn', commit: true, writes: [{ key: b('a'), value: b('1') }, { key: b('d'), value: null }], intentKeys: [b('b')], readKeys: [b('x'), Buffer.alloc(0)], readSpans: [[b('m'), b('n')]] },
  increment: { kind: 'increment', key: b('/counter'), delta: i64Min },
  heartbeatTxn: { kind: 'heartbeatTxn' },
  pushTxn: { kind: 'pushTxn', txnId: '0c6f0a36-5b1c-4a55-9d4f-3a3e6f7b9c10' },
  ts: { kind: 'ts', op: TsRequestKind.Write, tableId: 1000, payload: b('payload'), freeBytesMin: 1.5e9 + 0.25 },
  computeChecksum: { kind: 'computeChecksum' },
  gc: { kind: 'gc', keys: [b('old')], threshold: u64Max },
  rangeDescriptor: { kind: 'rangeDescriptor' },
  readIndex: { kind: 'readIndex' },
  tsScan: { kind: 'tsScan', spec, after: null, rowsMax: 65536, hashSpan: [400, 800] },
  splitTs: { kind: 'splitTs', tableId: 1000, hashNum: 2000, pieces: 5 },
  dropTsRanges: { kind: 'dropTsRanges', tableId: 1000 },
  metaLookup: { kind: 'metaLookup', rangeId: safeMax },
  updateMeta: { kind: 'updateMeta', descriptor: b('{"rangeId":7}') },
};

it('a meta lookup without a record answers null', () => {
  const res = { responses: [{ kind: 'metaLookup' as const, descriptor: null }], now: 5n, nodeId: 2 };
  expect(roundTripResponse(res).responses).toEqual(res.responses);
});

it('a ts request keeps its hash span, and goes without one when it has none', () => {
  const withSpan = { ...requests.ts, hashSpan: [0, 2000] as [number, number] };
  const rt = roundTripRequest({
    header: { rangeId: 7, timestamp: 1n, txn: null, now: 2n },
    requests: [withSpan, requests.ts],
  });
  expect(rt.requests).toEqual([withSpan, requests.ts]);
});

const responses: { [K in KvResponse['kind']]: Extract<KvResponse, { kind: K }> } = {
  get: { kind: 'get', value: b('v') },
  scan: { kind: 'scan', rows: [{ key: b('a'), value: b('1') }, { key: b('b'), value: Buffer.alloc(0) }], resume: b('c') },
  acquireLocks: { kind: 'acquireLocks' },
  releaseLocks: { kind: 'releaseLocks' },
  refresh: { kind: 'refresh' },
  putIntents: { kind: 'putIntents' },
  endTxn: { kind: 'endTxn', commitTs: u64Max },
  increment: { kind: 'increment', value: i64Min },
  heartbeatTxn: { kind: 'heartbeatTxn' },
  pushTxn: { kind: 'pushTxn', pushed: true },
  ts: { kind: 'ts' },
  computeChecksum: { kind: 'computeChecksum', index: safeMax },
  gc: { kind: 'gc' },
  rangeDescriptor: { kind: 'rangeDescriptor', descriptor: b('{"v":2}') },
  readIndex: { kind: 'readIndex', readTs: u64Max, appliedIndex: safeMax },
  tsScan: { kind: 'tsScan', page },
  splitTs: {
    kind: 'splitTs',
    ranges: [
      { rangeId: safeMax, hashStart: 0, hashEnd: 400 },
      { rangeId: 3, hashStart: 400, hashEnd: 2000 },
    ],
  },
  dropTsRanges: { kind: 'dropTsRanges', rangeIds: [3, safeMax] },
  metaLookup: { kind: 'metaLookup', descriptor: b('{"rangeId":7}') },
  updateMeta: { kind: 'updateMeta', updated: true },
};

function roundTripRequest(ba: BatchRequest): BatchRequest {
  return decodeBatchRequest(encodeBatchRequest(ba));
}

function roundTripResponse(res: BatchResponse): BatchResponse {
  const d = decodeBatchResponse(encodeBatchResponse(res));
  if (!d.ok) throw d.error;
  return d.response;
}

describe('kv codec', () => {
  const header = {
    rangeId: safeMax,
    timestamp: u64Max,
    txn: { id: '0c6f0a36-5b1c-4a55-9d4f-3a3e6f7b9c10', readTs: u64Max - 5n, uncertaintyLimit: u64Max, observed: [{ nodeId: 2, ts: (1n << 63n) + 1n }, { nodeId: 3, ts: 0n }] },
    now: u64Max - 1n,
  };

  it('round-trips every request kind, one per batch and all in one', () => {
    for (const r of Object.values(requests) as KvRequest[]) {
      const ba: BatchRequest = { header, requests: [r] };
      expect(roundTripRequest(ba), r.kind).toEqual(ba);
    }
    const all: BatchRequest = { header: { ...header, txn: null }, requests: Object.values(requests) as KvRequest[] };
    expect(roundTripRequest(all)).toEqual(all);
  });

  it('round-trips edge values: null vs empty, bigints near the 64-bit limits, deltas beyond int64', () => {
    const ba: BatchRequest = {
      header: { rangeId: 1, timestamp: 0n, txn: null, now: 1n },
      requests: [
        { kind: 'increment', key: b('c'), delta: i64Max },
        { kind: 'increment', key: b('c'), delta: 1n << 64n },
        { kind: 'increment', key: b('c'), delta: -(1n << 80n) },
        { kind: 'tsScan', spec: { ...spec, entities: null, tagIndex: null, columnIds: [0, 3], tagFilters: [], prune: [] }, after: 0, rowsMax: Number.POSITIVE_INFINITY },
        { kind: 'scan', key: Buffer.alloc(0), endKey: b('\xff'), reverse: false, maxKeys: 0 },
      ],
    };
    expect(roundTripRequest(ba)).toEqual(ba);
  });

  it('never sends the in-process summarize function', () => {
    const ba: BatchRequest = { header, requests: [{ ...requests.tsScan, summarize: () => true }] };
    const out = roundTripRequest(ba);
    expect(out.requests[0]).toEqual(requests.tsScan);
    expect('summarize' in (out.requests[0] as object)).toBe(false);
  });

  it('round-trips every response kind with exact column data', () => {
    for (const r of Object.values(responses) as KvResponse[]) {
      const res: BatchResponse = { responses: [r], now: u64Max, nodeId: 3 };
      expect(roundTripResponse(res), r.kind).toEqual(res);
    }
    const got = roundTripResponse({ responses: [responses.tsScan], now: 1n, nodeId: 1 }).responses[0];
    expect(got?.kind).toBe('tsScan');
    const cols = got?.kind === 'tsScan' ? (got.page.batches[0]?.columns ?? []) : [];
    expect(cols[0]?.values).toBeInstanceOf(BigInt64Array);
    expect(Object.is((cols[3]?.values as Float64Array)[0], -0)).toBe(true);
    expect(Number.isNaN((cols[3]?.values as Float64Array)[1])).toBe(true);
    const empty: BatchResponse = { responses: [{ kind: 'get', value: null }, { kind: 'get', value: Buffer.alloc(0) }, { kind: 'scan', rows: [], resume: null }, { kind: 'tsScan', page: { layout: null, batches: [], resumeAfter: null } }], now: 0n, nodeId: 1 };
    expect(roundTripResponse(empty)).toEqual(empty);
  });

  it('refuses a request without a kind and a batch without a header', () => {
    const noKind = protoType('strata.kv.BatchRequest').encode({ header: { rangeId: 1 }, requests: [{}] }).finish();
    expect(() => decodeBatchRequest(noKind)).toThrow(WireFormatError);
    const noHeader = protoType('strata.kv.BatchRequest').encode({ requests: [] }).finish();
    expect(() => decodeBatchRequest(noHeader)).toThrow(WireFormatError);
  });
});

// ---- errors --------------------------------------------------------------------------------------

describe('error codec', () => {
  const cases: Error[] = [
    new NotLeaseholderError(7, 3),
    new NotLeaseholderError(safeMax, null),
    new RangeNotFoundError(9, 2),
    new RangeKeyMismatchError(12, 'does not hold hash points [0, 400) of table 55'),
    new ReplicaUnavailableError(4, 'it stopped after EIO while applying index 17'),
    new AmbiguousResultError('range 1: the proposal at index 12 was overwritten'),
    new ReadWithinUncertaintyIntervalError(u64Max - 1n, u64Max, '/Table/52/1/"k"'),
    new PgError(SqlState.SerializationFailure, 'restart transaction: read set changed'),
    new PgError(SqlState.UniqueViolation, 'duplicate key value violates unique constraint "t_pkey"', {
      detail: 'Key (id)=(1) already exists.',
      hint: 'a hint',
      position: 42,
      schema: 'public',
      table: 't',
      column: 'id',
      constraint: 't_pkey',
      severity: 'ERROR',
    }),
    new PgError(SqlState.DiskFull, 'disk full', { detail: '' }),
  ];

  it('rebuilds every structured kind as the same class with the same fields and message', () => {
    for (const e of cases) {
      const d = decodeBatchResponse(encodeBatchError(e, 2, u64Max));
      expect(d.ok).toBe(false);
      if (d.ok) continue;
      expect(d.error.constructor).toBe(e.constructor);
      expect(d.error.message).toBe(e.message);
      expect(d.error.name).toBe(e.name);
      expect({ ...d.error }).toEqual({ ...e });
      expect(d.nodeId).toBe(2);
      expect(d.now).toBe(u64Max);
    }
  });

  it('turns anything else into a RemoteInternalError naming the node', () => {
    for (const e of [new Error('boom'), new TypeError('x is undefined'), 'a string']) {
      const d = decodeBatchResponse(encodeBatchError(e, 5, 1n));
      expect(d.ok).toBe(false);
      if (d.ok) continue;
      expect(d.error).toBeInstanceOf(RemoteInternalError);
      expect(d.error.message).toContain('node 5');
      expect((d.error as RemoteInternalError).remoteMessage).toBe(e instanceof Error ? e.message : e);
    }
  });

  it('refuses a malformed SQLSTATE', () => {
    const wire = protoType('strata.kv.BatchResponse').encode({ nodeId: 1, error: { message: 'x', pgError: { code: '42; DROP' } } }).finish();
    expect(() => decodeBatchResponse(wire)).toThrow(WireFormatError);
  });
});

// ---- snapshots and pings -------------------------------------------------------------------------

describe('snapshot and ping codecs', () => {
  it('round-trips every part of a snapshot stream and both answers', () => {
    const header: SnapshotHeader = {
      rangeId: 1,
      fromNodeId: 1,
      toNodeId: 2,
      fromReplicaId: 1,
      toReplicaId: 4,
      index: safeMax,
      term: 6,
      message: fullMessage(MessageType.Snap, 0),
      descriptor: b('{"v":2,"rangeId":1}'),
      now: u64Max,
      strategy: 'KV_BATCH+TS_BATCH',
    };
    const parts = [
      { kind: 'header' as const, header },
      { kind: 'chunk' as const, chunk: { kind: 'kv' as const, keys: [b('a'), b('b')], values: [b('1'), Buffer.alloc(0)] } },
      { kind: 'chunk' as const, chunk: { kind: 'tsFile' as const, path: 't1000/r1/seg/0.seg', offset: safeMax, data: b('blocks'), last: true } },
      { kind: 'chunk' as const, chunk: { kind: 'tsFile' as const, path: 'ts_meta', offset: 0, data: Buffer.alloc(0), last: false } },
      { kind: 'final' as const },
    ];
    for (const p of parts) expect(decodeSnapshotPart(encodeSnapshotPart(p))).toEqual(p);
    expect(decodeSnapshotResponse(encodeSnapshotResponse(null), 2)).toBe(null);
    const err = decodeSnapshotResponse(encodeSnapshotResponse(new RangeNotFoundError(1, 2)), 2);
    expect(err).toBeInstanceOf(RangeNotFoundError);
    expect(decodeSnapshotResponse(encodeSnapshotResponse(new Error('disk')), 2)).toBeInstanceOf(RemoteInternalError);
  });

  it('refuses a kv chunk whose keys and values do not pair up', () => {
    const wire = protoType('strata.snapshot.SnapshotRequest').encode({ kv: { keys: [b('a')], values: [] } }).finish();
    expect(() => decodeSnapshotPart(wire)).toThrow(WireFormatError);
  });

  it('round-trips pings', () => {
    const p = { nodeId: 3, now: u64Max, wallTimeMs: 1_700_000_000_123.25 };
    expect(decodePingRequest(encodePingRequest(p))).toEqual(p);
    expect(decodePingResponse(encodePingResponse(p))).toEqual(p);
  });
});
