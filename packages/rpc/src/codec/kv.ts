/**
 * proto/kv.proto ⇄ packages/kv api.ts: BatchRequest (header, transaction, one oneof case per
 * KvRequest kind) and BatchResponse (one oneof case per KvResponse kind, or the structured error).
 *
 * Keys in requests are copied out of the received message (a store keeps some — latches, lock
 * table, timestamp cache — long after the request, and a slice would pin the whole message);
 * values and payloads stay views (they are consumed or copied by the write path).
 */
import { TsRequestKind } from '@strata/kv';
import type { BatchHeader, BatchRequest, BatchResponse, KvRequest, KvResponse, KvWrite, TxnMeta } from '@strata/kv';
import { protoType } from '../proto.js';
import { errorFromWire, errorToWire } from './errors.js';
import type { PbError } from './errors.js';
import { tsScanPageFromWire, tsScanPageToWire, tsScanSpecFromWire, tsScanSpecToWire } from './ts_scan.js';
import type { PbTsScanPage, PbTsScanSpec } from './ts_scan.js';
import { WireFormatError, asBuffer, bigI64, bigU64, bytes, bytesCopy, decimal, i64, inverse, isInt64, known, need, numU32, numU64, optBytes, u32, u64, u64n, wireEnum } from './wire.js';
import type { Wire64 } from './wire.js';

const tsKinds: readonly (TsRequestKind | undefined)[] = [
  undefined,
  TsRequestKind.Write,
  TsRequestKind.Delete,
  TsRequestKind.TagUpdate,
  TsRequestKind.Alter,
  TsRequestKind.Drop,
  TsRequestKind.Retain,
  TsRequestKind.Reorganize,
];
const tsKindWire = inverse(tsKinds);

type Bytes = Uint8Array | number[];

// ---- decoded shapes ---------------------------------------------------------------------------

interface PbTxn {
  id: string;
  readTs: Wire64;
  uncertaintyLimit: Wire64;
  observed: { nodeId: number; ts: Wire64 }[];
}
interface PbHeader {
  rangeId: Wire64;
  timestamp: Wire64;
  txn: PbTxn | null;
  now: Wire64;
}
interface PbSpan {
  key: Bytes;
  endKey: Bytes;
}
interface PbWrite {
  key: Bytes;
  value?: Bytes | null;
}
/** KvRequest: exactly one case set; `request` names it (protobufjs's oneof property). */
interface PbKvRequest {
  request?: string;
  get?: { key: Bytes };
  scan?: { key: Bytes; endKey: Bytes; reverse: boolean; maxKeys: number };
  acquireLocks?: { keys: Bytes[] };
  releaseLocks?: object;
  refresh?: { keys: Bytes[]; spans: PbSpan[]; from: Wire64 };
  putIntents?: { writes: PbWrite[]; first: boolean };
  endTxn?: { commit: boolean; writes: PbWrite[]; intentKeys: Bytes[]; readKeys: Bytes[]; readSpans: PbSpan[] };
  increment?: { key: Bytes; delta: Wire64; deltaBig?: string | null };
  heartbeatTxn?: object;
  pushTxn?: { txnId: string };
  ts?: { op: number; tableId: number; payload: Bytes; freeBytesMin: number; hashSpan?: PbHashSpan | null };
  computeChecksum?: object;
  gc?: { keys: Bytes[]; threshold: Wire64 };
  rangeDescriptor?: object;
  readIndex?: object;
  tsScan?: {
    spec: PbTsScanSpec | null;
    after?: number | null;
    rowsMax: number;
    hashSpan?: PbHashSpan | null;
  };
  splitTs?: { tableId: number; hashNum: number; pieces: number };
  dropTsRanges?: { tableId: number };
  metaLookup?: { rangeId: Wire64 };
  updateMeta?: { descriptor: Bytes };
}
interface PbHashSpan {
  from: number;
  to: number;
}
interface PbBatchRequest {
  header: PbHeader | null;
  requests: PbKvRequest[];
}
interface PbKvResponse {
  response?: string;
  get?: { value?: Bytes | null };
  scan?: { rows: { key: Bytes; value: Bytes }[]; resume?: Bytes | null };
  acquireLocks?: object;
  releaseLocks?: object;
  refresh?: object;
  putIntents?: object;
  endTxn?: { commitTs: Wire64 };
  increment?: { value: Wire64 };
  heartbeatTxn?: object;
  pushTxn?: { pushed: boolean };
  ts?: object;
  computeChecksum?: { index: Wire64 };
  gc?: object;
  rangeDescriptor?: { descriptor: Bytes };
  readIndex?: { readTs: Wire64; appliedIndex: Wire64 };
  tsScan?: { page: PbTsScanPage | null };
  splitTs?: { ranges: { rangeId: Wire64; hashStart: number; hashEnd: number }[] };
  dropTsRanges?: { rangeIds: Wire64[] };
  metaLookup?: { descriptor?: Bytes | null };
  updateMeta?: { updated: boolean };
}
interface PbBatchResponse {
  responses: PbKvResponse[];
  now: Wire64;
  nodeId: number;
  error: PbError | null;
}

// ---- requests ------------------------------------------------------------------------------------

function hashSpanToWire(s: [number, number] | undefined): PbHashSpan | null {
  return s ? { from: u32(s[0], 'hash span'), to: u32(s[1], 'hash span') } : null;
}

function hashSpanFromWire(s: PbHashSpan | null | undefined): [number, number] | null {
  return s ? [numU32(s.from), numU32(s.to)] : null;
}

function txnToWire(t: TxnMeta): PbTxn {
  return { id: t.id, readTs: u64(t.readTs, 'readTs'), uncertaintyLimit: u64(t.uncertaintyLimit, 'uncertaintyLimit'), observed: t.observed.map((o) => ({ nodeId: u32(o.nodeId, 'observed node'), ts: u64(o.ts, 'observed ts') })) };
}

function txnFromWire(p: PbTxn): TxnMeta {
  return { id: p.id ?? '', readTs: bigU64(p.readTs), uncertaintyLimit: bigU64(p.uncertaintyLimit), observed: p.observed.map((o) => ({ nodeId: numU32(o.nodeId), ts: bigU64(o.ts) })) };
}

function headerToWire(h: BatchHeader): PbHeader {
  return { rangeId: u64n(h.rangeId, 'rangeId'), timestamp: u64(h.timestamp, 'timestamp'), txn: h.txn ? txnToWire(h.txn) : null, now: u64(h.now, 'now') };
}

function headerFromWire(p: PbHeader): BatchHeader {
  return { rangeId: numU64(p.rangeId, 'rangeId'), timestamp: bigU64(p.timestamp), txn: p.txn ? txnFromWire(p.txn) : null, now: bigU64(p.now) };
}

const writeToWire = (w: KvWrite): PbWrite => (w.value === null ? { key: asBuffer(w.key) } : { key: asBuffer(w.key), value: asBuffer(w.value) });
const writeFromWire = (p: PbWrite): KvWrite => ({ key: bytesCopy(p.key), value: optBytes(p.value) });
const spanToWire = ([key, endKey]: [Buffer, Buffer]): PbSpan => ({ key, endKey });
const spanFromWire = (p: PbSpan): [Buffer, Buffer] => [bytesCopy(p.key), bytesCopy(p.endKey)];

export function kvRequestToWire(r: KvRequest): PbKvRequest {
  switch (r.kind) {
    case 'get':
      return { get: { key: r.key } };
    case 'scan':
      return { scan: { key: r.key, endKey: r.endKey, reverse: r.reverse, maxKeys: r.maxKeys } };
    case 'acquireLocks':
      return { acquireLocks: { keys: r.keys } };
    case 'releaseLocks':
      return { releaseLocks: {} };
    case 'refresh':
      return { refresh: { keys: r.keys, spans: r.spans.map(spanToWire), from: u64(r.from, 'refresh from') } };
    case 'putIntents':
      return { putIntents: { writes: r.writes.map(writeToWire), first: r.first } };
    case 'endTxn':
      return { endTxn: { commit: r.commit, writes: r.writes.map(writeToWire), intentKeys: r.intentKeys, readKeys: r.readKeys, readSpans: r.readSpans.map(spanToWire) } };
    case 'increment':
      return { increment: isInt64(r.delta) ? { key: r.key, delta: i64(r.delta, 'increment delta') } : { key: r.key, delta: 0, deltaBig: r.delta.toString() } };
    case 'heartbeatTxn':
      return { heartbeatTxn: {} };
    case 'pushTxn':
      return { pushTxn: { txnId: r.txnId } };
    case 'ts':
      return {
        ts: {
          op: wireEnum(tsKindWire, r.op, 'ts request kind'),
          tableId: u32(r.tableId, 'tableId'),
          payload: r.payload,
          freeBytesMin: r.freeBytesMin,
          hashSpan: hashSpanToWire(r.hashSpan),
        },
      };
    case 'computeChecksum':
      return { computeChecksum: {} };
    case 'gc':
      return { gc: { keys: r.keys, threshold: u64(r.threshold, 'gc threshold') } };
    case 'rangeDescriptor':
      return { rangeDescriptor: {} };
    case 'readIndex':
      return { readIndex: {} };
    case 'tsScan':
      // `summarize` is a function of the caller's process: it never travels (the remote scan
      // decodes the blocks it would have answered from their headers).
      return {
        tsScan: {
          spec: tsScanSpecToWire(r.spec),
          after: r.after === null ? null : u32(r.after, 'after'),
          rowsMax: r.rowsMax,
          hashSpan: hashSpanToWire(r.hashSpan),
        },
      };
    case 'splitTs':
      return {
        splitTs: {
          tableId: u32(r.tableId, 'tableId'),
          hashNum: u32(r.hashNum, 'hashNum'),
          pieces: u32(r.pieces, 'pieces'),
        },
      };
    case 'dropTsRanges':
      return { dropTsRanges: { tableId: u32(r.tableId, 'tableId') } };
    case 'metaLookup':
      return { metaLookup: { rangeId: u64n(r.rangeId, 'rangeId') } };
    case 'updateMeta':
      return { updateMeta: { descriptor: r.descriptor } };
  }
}

export function kvRequestFromWire(p: PbKvRequest): KvRequest {
  switch (p.request) {
    case 'get':
      return { kind: 'get', key: bytesCopy(need(p.get, 'get').key) };
    case 'scan': {
      const x = need(p.scan, 'scan');
      return { kind: 'scan', key: bytesCopy(x.key), endKey: bytesCopy(x.endKey), reverse: x.reverse === true, maxKeys: x.maxKeys ?? 0 };
    }
    case 'acquireLocks':
      return { kind: 'acquireLocks', keys: need(p.acquireLocks, 'acquireLocks').keys.map(bytesCopy) };
    case 'releaseLocks':
      return { kind: 'releaseLocks' };
    case 'refresh': {
      const x = need(p.refresh, 'refresh');
      return { kind: 'refresh', keys: x.keys.map(bytesCopy), spans: x.spans.map(spanFromWire), from: bigU64(x.from) };
    }
    case 'putIntents': {
      const x = need(p.putIntents, 'putIntents');
      return { kind: 'putIntents', writes: x.writes.map(writeFromWire), first: x.first === true };
    }
    case 'endTxn': {
      const x = need(p.endTxn, 'endTxn');
      return { kind: 'endTxn', commit: x.commit === true, writes: x.writes.map(writeFromWire), intentKeys: x.intentKeys.map(bytesCopy), readKeys: x.readKeys.map(bytesCopy), readSpans: x.readSpans.map(spanFromWire) };
    }
    case 'increment': {
      const x = need(p.increment, 'increment');
      return { kind: 'increment', key: bytesCopy(x.key), delta: x.deltaBig === null || x.deltaBig === undefined ? bigI64(x.delta) : decimal(x.deltaBig, 'increment delta') };
    }
    case 'heartbeatTxn':
      return { kind: 'heartbeatTxn' };
    case 'pushTxn':
      return { kind: 'pushTxn', txnId: need(p.pushTxn, 'pushTxn').txnId ?? '' };
    case 'ts': {
      const x = need(p.ts, 'ts');
      const hashSpan = hashSpanFromWire(x.hashSpan);
      return {
        kind: 'ts',
        op: known(tsKinds, x.op, 'ts request kind'),
        tableId: numU32(x.tableId),
        payload: bytes(x.payload),
        freeBytesMin: x.freeBytesMin ?? 0,
        ...(hashSpan ? { hashSpan } : {}),
      };
    }
    case 'computeChecksum':
      return { kind: 'computeChecksum' };
    case 'gc': {
      const x = need(p.gc, 'gc');
      return { kind: 'gc', keys: x.keys.map(bytesCopy), threshold: bigU64(x.threshold) };
    }
    case 'rangeDescriptor':
      return { kind: 'rangeDescriptor' };
    case 'readIndex':
      return { kind: 'readIndex' };
    case 'tsScan': {
      const x = need(p.tsScan, 'tsScan');
      const hashSpan = hashSpanFromWire(x.hashSpan);
      return {
        kind: 'tsScan',
        spec: tsScanSpecFromWire(need(x.spec, 'tsScan spec')),
        after: x.after ?? null,
        rowsMax: x.rowsMax ?? 0,
        ...(hashSpan ? { hashSpan } : {}),
      };
    }
    case 'splitTs': {
      const x = need(p.splitTs, 'splitTs');
      return {
        kind: 'splitTs',
        tableId: numU32(x.tableId),
        hashNum: numU32(x.hashNum),
        pieces: numU32(x.pieces),
      };
    }
    case 'dropTsRanges':
      return { kind: 'dropTsRanges', tableId: numU32(need(p.dropTsRanges, 'dropTsRanges').tableId) };
    case 'metaLookup':
      return { kind: 'metaLookup', rangeId: numU64(need(p.metaLookup, 'metaLookup').rangeId, 'rangeId') };
    case 'updateMeta':
      return { kind: 'updateMeta', descriptor: bytesCopy(need(p.updateMeta, 'updateMeta').descriptor) };
    default:
      throw new WireFormatError(`kv request of unknown kind ${JSON.stringify(p.request ?? null)}`);
  }
}

export function encodeBatchRequest(ba: BatchRequest): Buffer {
  const wire: PbBatchRequest = { header: headerToWire(ba.header), requests: ba.requests.map(kvRequestToWire) };
  return asBuffer(protoType('strata.kv.BatchRequest').encode(wire).finish());
}

export function decodeBatchRequest(buf: Uint8Array): BatchRequest {
  const p = protoType('strata.kv.BatchRequest').decode(buf) as unknown as PbBatchRequest;
  return { header: headerFromWire(need(p.header, 'batch header')), requests: p.requests.map(kvRequestFromWire) };
}

// ---- responses -----------------------------------------------------------------------------------

export function kvResponseToWire(r: KvResponse): PbKvResponse {
  switch (r.kind) {
    case 'get':
      return { get: r.value === null ? {} : { value: r.value } };
    case 'scan':
      return { scan: r.resume === null ? { rows: r.rows } : { rows: r.rows, resume: r.resume } };
    case 'acquireLocks':
      return { acquireLocks: {} };
    case 'releaseLocks':
      return { releaseLocks: {} };
    case 'refresh':
      return { refresh: {} };
    case 'putIntents':
      return { putIntents: {} };
    case 'endTxn':
      return { endTxn: { commitTs: u64(r.commitTs, 'commitTs') } };
    case 'increment':
      return { increment: { value: i64(r.value, 'increment value') } };
    case 'heartbeatTxn':
      return { heartbeatTxn: {} };
    case 'pushTxn':
      return { pushTxn: { pushed: r.pushed } };
    case 'ts':
      return { ts: {} };
    case 'computeChecksum':
      return { computeChecksum: { index: u64n(r.index, 'checksum index') } };
    case 'gc':
      return { gc: {} };
    case 'rangeDescriptor':
      return { rangeDescriptor: { descriptor: r.descriptor } };
    case 'readIndex':
      return { readIndex: { readTs: u64(r.readTs, 'read timestamp'), appliedIndex: u64n(r.appliedIndex, 'applied index') } };
    case 'tsScan':
      return { tsScan: { page: tsScanPageToWire(r.page) } };
    case 'splitTs':
      return {
        splitTs: {
          ranges: r.ranges.map((x) => ({
            rangeId: u64n(x.rangeId, 'rangeId'),
            hashStart: u32(x.hashStart, 'hashStart'),
            hashEnd: u32(x.hashEnd, 'hashEnd'),
          })),
        },
      };
    case 'dropTsRanges':
      return { dropTsRanges: { rangeIds: r.rangeIds.map((id) => u64n(id, 'rangeId')) } };
    case 'metaLookup':
      return { metaLookup: r.descriptor === null ? {} : { descriptor: r.descriptor } };
    case 'updateMeta':
      return { updateMeta: { updated: r.updated } };
  }
}

export function kvResponseFromWire(p: PbKvResponse): KvResponse {
  switch (p.response) {
    case 'get':
      return { kind: 'get', value: optBytes(need(p.get, 'get').value) };
    case 'scan': {
      const x = need(p.scan, 'scan');
      return { kind: 'scan', rows: x.rows.map((kv) => ({ key: bytes(kv.key), value: bytes(kv.value) })), resume: optBytes(x.resume) };
    }
    case 'acquireLocks':
      return { kind: 'acquireLocks' };
    case 'releaseLocks':
      return { kind: 'releaseLocks' };
    case 'refresh':
      return { kind: 'refresh' };
    case 'putIntents':
      return { kind: 'putIntents' };
    case 'endTxn':
      return { kind: 'endTxn', commitTs: bigU64(need(p.endTxn, 'endTxn').commitTs) };
    case 'increment':
      return { kind: 'increment', value: bigI64(need(p.increment, 'increment').value) };
    case 'heartbeatTxn':
      return { kind: 'heartbeatTxn' };
    case 'pushTxn':
      return { kind: 'pushTxn', pushed: need(p.pushTxn, 'pushTxn').pushed === true };
    case 'ts':
      return { kind: 'ts' };
    case 'computeChecksum':
      return { kind: 'computeChecksum', index: numU64(need(p.computeChecksum, 'computeChecksum').index, 'checksum index') };
    case 'gc':
      return { kind: 'gc' };
    case 'rangeDescriptor':
      return { kind: 'rangeDescriptor', descriptor: bytes(need(p.rangeDescriptor, 'rangeDescriptor').descriptor) };
    case 'readIndex': {
      const x = need(p.readIndex, 'readIndex');
      return { kind: 'readIndex', readTs: bigU64(x.readTs), appliedIndex: numU64(x.appliedIndex, 'applied index') };
    }
    case 'tsScan':
      return { kind: 'tsScan', page: tsScanPageFromWire(need(need(p.tsScan, 'tsScan').page, 'tsScan page')) };
    case 'splitTs':
      return {
        kind: 'splitTs',
        ranges: need(p.splitTs, 'splitTs').ranges.map((x) => ({
          rangeId: numU64(x.rangeId, 'rangeId'),
          hashStart: numU32(x.hashStart),
          hashEnd: numU32(x.hashEnd),
        })),
      };
    case 'dropTsRanges':
      return { kind: 'dropTsRanges', rangeIds: (need(p.dropTsRanges, 'dropTsRanges').rangeIds ?? []).map((x) => numU64(x, 'rangeId')) };
    case 'metaLookup': {
      const d = optBytes(need(p.metaLookup, 'metaLookup').descriptor);
      return { kind: 'metaLookup', descriptor: d === null ? null : Buffer.from(d) };
    }
    case 'updateMeta':
      return { kind: 'updateMeta', updated: need(p.updateMeta, 'updateMeta').updated === true };
    default:
      throw new WireFormatError(`kv response of unknown kind ${JSON.stringify(p.response ?? null)}`);
  }
}

export function encodeBatchResponse(res: BatchResponse): Buffer {
  const wire: PbBatchResponse = { responses: res.responses.map(kvResponseToWire), now: u64(res.now, 'now'), nodeId: u32(res.nodeId, 'nodeId'), error: null };
  return asBuffer(protoType('strata.kv.BatchResponse').encode(wire).finish());
}

/** A failed batch: the error, the serving node and its clock. */
export function encodeBatchError(e: unknown, nodeId: number, now: bigint): Buffer {
  const wire: PbBatchResponse = { responses: [], now: u64(now, 'now'), nodeId: u32(nodeId, 'nodeId'), error: errorToWire(e) };
  return asBuffer(protoType('strata.kv.BatchResponse').encode(wire).finish());
}

/** A BatchResponse, or the error it carries (rebuilt as its class), from the wire. */
export type DecodedBatchResponse = { ok: true; response: BatchResponse } | { ok: false; error: Error; nodeId: number; now: bigint };

export function decodeBatchResponse(buf: Uint8Array): DecodedBatchResponse {
  const p = protoType('strata.kv.BatchResponse').decode(buf) as unknown as PbBatchResponse;
  const nodeId = numU32(p.nodeId);
  if (p.error) {
    return { ok: false, error: errorFromWire(p.error, nodeId), nodeId, now: bigU64(p.now) };
  }
  return { ok: true, response: { responses: p.responses.map(kvResponseFromWire), now: bigU64(p.now), nodeId } };
}
