/**
 * The RaftTransport between processes: Raft messages ride one long-lived client stream per peer
 * (on the peer's `raft` channel); snapshots stream on their own call (on the `default` channel).
 *
 * Raft messages are best effort, as the RaftTransport contract says: a batch for a peer whose
 * stream is not open (never connected, broken, backing off before reopening) or whose stream has
 * raftStreamQueuedBytesMax unsent bytes is dropped and counted — Raft resends what matters (the
 * next heartbeat, a probe after a rejection, a new election). A broken stream is reopened on a
 * later send after an exponential backoff, once the peer's channel is connected again.
 *
 * A snapshot is delivered whole or fails: header, chunks (written as the peer's flow control
 * allows: one chunk is generated only after the previous one was taken), the final marker, then
 * the receiver's answer; a receiver that sees the stream end without the marker discards it.
 *
 * INVARIANT: send() never blocks and never throws for network reasons.
 * INVARIANT: bytes queued on a peer's stream ≤ raftStreamQueuedBytesMax + one stream message.
 * INVARIANT: every stream message ≤ raftStreamMessageBytesMax (larger batches are split).
 */
import * as grpc from '@grpc/grpc-js';
import { assert, logger } from '@strata/common';
import type { RaftMessageBatch, RaftMessageRequest, RaftTransport, SnapshotChunk, SnapshotHeader } from '@strata/store';
import { encodeRaftMessageBatch, encodedRequestBytes } from './codec/raft.js';
import { decodeSnapshotResponse, encodeSnapshotPart } from './codec/snapshot.js';
import { connectTimeoutMs, raftStreamBackoffInitialMs, raftStreamBackoffMaxMs, raftStreamMessageBytesMax, raftStreamQueuedBytesMax, snapshotMessageBytesMax, snapshotStallMs } from './constants.js';
import { isNotConnected } from './connections.js';
import type { Connections } from './connections.js';
import { Services, rpcMethod } from './proto.js';

const identity = (b: Buffer): Buffer => b;

export interface EncodedRaftBatch {
  buf: Buffer;
  /** Raft messages in it. */
  messages: number;
}

/**
 * A batch encoded as stream messages of at most `maxBytes` each: the whole batch when it fits
 * (always, in practice), else its messages in order, as many per part as fit. A single message
 * that cannot fit alone is returned in `tooLarge` instead.
 */
export function splitRaftBatch(batch: RaftMessageBatch, maxBytes: number): { parts: EncodedRaftBatch[]; tooLarge: RaftMessageRequest[] } {
  const whole = encodeRaftMessageBatch(batch);
  if (whole.length <= maxBytes) return { parts: [{ buf: whole, messages: batch.messages.length }], tooLarge: [] };
  // The envelope (node ids, clock) and a message's field tag and length prefix take at most this.
  const envelopeBytes = 32;
  const framingBytes = 11;
  const parts: EncodedRaftBatch[] = [];
  const tooLarge: RaftMessageRequest[] = [];
  let part: RaftMessageRequest[] = [];
  let size = envelopeBytes;
  const flush = () => {
    if (part.length === 0) return;
    parts.push({ buf: encodeRaftMessageBatch({ ...batch, messages: part }), messages: part.length });
    part = [];
    size = envelopeBytes;
  };
  for (const m of batch.messages) {
    const b = encodedRequestBytes(m) + framingBytes;
    if (envelopeBytes + b > maxBytes) {
      tooLarge.push(m);
      continue;
    }
    if (size + b > maxBytes) flush();
    part.push(m);
    size += b;
  }
  flush();
  for (const p of parts) assert(p.buf.length <= maxBytes, () => `split raft batch of ${p.buf.length} bytes exceeds ${maxBytes}`);
  return { parts, tooLarge };
}

interface PeerStream {
  call: grpc.ClientWritableStream<Buffer> | null;
  /** Bytes written to `call` that gRPC has not taken yet. */
  queuedBytes: number;
  backoffMs: number;
  /** No new stream before this time (ms since the epoch). */
  retryAtMs: number;
}

export interface RaftTransportStats {
  batchesSent: number;
  messagesSent: number;
  bytesSent: number;
  /** Messages dropped: peer not connected, stream backing off, queue full, or too large. */
  messagesDropped: number;
  streamsOpened: number;
  streamsBroken: number;
  snapshotsSent: number;
  snapshotsFailed: number;
  /** Bytes of snapshot stream messages written (header, chunks, final marker). */
  snapshotBytes: number;
}

export class GrpcRaftTransport implements RaftTransport {
  private readonly log = logger('rpc');
  private readonly peers = new Map<number, PeerStream>();
  private readonly raftMethod = rpcMethod(Services.raft, 'RaftMessageBatch');
  private readonly snapshotMethod = rpcMethod(Services.snapshots, 'RaftSnapshot');
  private closed = false;
  readonly stats: RaftTransportStats = { batchesSent: 0, messagesSent: 0, bytesSent: 0, messagesDropped: 0, streamsOpened: 0, streamsBroken: 0, snapshotsSent: 0, snapshotsFailed: 0, snapshotBytes: 0 };

  /**
   * Called when the stream to a peer breaks (not for every dropped batch). The node wires it to
   * the store so Raft stops streaming appends to that peer's replicas blindly (etcd's
   * ReportUnreachable); Raft works without it, only less efficiently.
   */
  onPeerUnreachable: (nodeId: number) => void = () => {};

  constructor(private readonly conns: Connections) {}

  // ---- Raft messages -------------------------------------------------------------------------

  send(batch: RaftMessageBatch): void {
    const n = batch.messages.length;
    if (n === 0) return;
    const s = this.closed ? null : this.stream(batch.toNodeId);
    if (!s?.call) {
      this.stats.messagesDropped += n;
      return;
    }
    const call = s.call;
    for (const part of this.encode(batch)) {
      if (s.queuedBytes >= raftStreamQueuedBytesMax || s.call !== call) {
        this.stats.messagesDropped += part.messages;
        continue;
      }
      const len = part.buf.length;
      s.queuedBytes += len;
      this.stats.batchesSent++;
      this.stats.messagesSent += part.messages;
      this.stats.bytesSent += len;
      call.write(part.buf, (err: Error | null | undefined) => {
        if (s.call !== call) return;
        s.queuedBytes -= len;
        if (!err) s.backoffMs = raftStreamBackoffInitialMs; // the stream works: the next break starts over
      });
    }
  }

  /** The batch as stream messages of at most raftStreamMessageBytesMax (one, unless huge). */
  private encode(batch: RaftMessageBatch): EncodedRaftBatch[] {
    const { parts, tooLarge } = splitRaftBatch(batch, raftStreamMessageBytesMax);
    for (const m of tooLarge) {
      // Cannot happen while log records are bounded below the limit (constants.ts); Raft retries.
      this.log.error({ rangeId: m.rangeId, type: m.message.type, max: raftStreamMessageBytesMax }, 'raft message larger than a stream message may be; dropped');
      this.stats.messagesDropped++;
    }
    return parts;
  }

  /** The open stream to a peer, opening one if the peer is connected and no backoff is pending. */
  private stream(nodeId: number): PeerStream | null {
    let s = this.peers.get(nodeId);
    if (!s) {
      s = { call: null, queuedBytes: 0, backoffMs: raftStreamBackoffInitialMs, retryAtMs: 0 };
      this.peers.set(nodeId, s);
    }
    if (s.call) return s;
    if (Date.now() < s.retryAtMs) return null;
    const client = this.conns.client(nodeId, 'raft');
    if (!client) return null;
    let state: grpc.connectivityState;
    try {
      state = client.getChannel().getConnectivityState(true); // connects if idle
    } catch {
      return null;
    }
    if (state !== grpc.connectivityState.READY) return null;
    const peer = s;
    const call: grpc.ClientWritableStream<Buffer> = client.makeClientStreamRequest<Buffer, Buffer>(this.raftMethod.path, identity, identity, new grpc.Metadata(), {}, (err) => this.broken(nodeId, peer, call, err));
    // A write after the call ended fails the Writable; the status callback above handles the break.
    call.on('error', () => {});
    s.call = call;
    s.queuedBytes = 0;
    this.stats.streamsOpened++;
    this.log.debug({ nodeId }, 'raft stream opened');
    return s;
  }

  private broken(nodeId: number, s: PeerStream, call: grpc.ClientWritableStream<Buffer>, err: grpc.ServiceError | null): void {
    if (s.call !== call) return;
    s.call = null;
    s.queuedBytes = 0;
    this.stats.streamsBroken++;
    s.retryAtMs = Date.now() + s.backoffMs;
    const backoffMs = s.backoffMs;
    s.backoffMs = Math.min(s.backoffMs * 2, raftStreamBackoffMaxMs);
    if (this.closed) return;
    this.log.info({ nodeId, err: err ? `${grpc.status[err.code]}: ${err.details}` : 'ended', reopenInMs: backoffMs }, 'raft stream to peer broke');
    this.onPeerUnreachable(nodeId);
  }

  // ---- snapshots -----------------------------------------------------------------------------

  async sendSnapshot(header: SnapshotHeader, chunks: AsyncIterable<SnapshotChunk>): Promise<void> {
    try {
      await this.streamSnapshot(header, chunks);
      this.stats.snapshotsSent++;
    } catch (e) {
      this.stats.snapshotsFailed++;
      throw e;
    }
  }

  private async streamSnapshot(header: SnapshotHeader, chunks: AsyncIterable<SnapshotChunk>): Promise<void> {
    const to = header.toNodeId;
    if (this.closed) throw new Error(`snapshot to node ${to}: the transport is closed`);
    const client = await this.conns.connected(to, 'default', connectTimeoutMs, false);
    if (isNotConnected(client)) throw new Error(`snapshot to node ${to}: ${client.reason}`);
    let answered = false;
    /** Wakes a writer waiting for the stream to drain (the receiver answered: stop writing). */
    let wake: (() => void) | null = null;
    let call!: grpc.ClientWritableStream<Buffer>;
    const outcome = new Promise<void>((resolve, reject) => {
      call = client.makeClientStreamRequest<Buffer, Buffer>(this.snapshotMethod.path, identity, identity, new grpc.Metadata(), {}, (err, res) => {
        answered = true;
        wake?.();
        if (err) return reject(new Error(`snapshot to node ${to} failed: ${grpc.status[err.code]}: ${err.details}`));
        let remote: Error | null;
        try {
          remote = decodeSnapshotResponse(res ?? Buffer.alloc(0), to);
        } catch (e) {
          return reject(e instanceof Error ? e : new Error(String(e)));
        }
        if (remote) reject(remote);
        else resolve();
      });
    });
    outcome.catch(() => {}); // awaited below; not unhandled while chunks are still being written
    call.on('error', () => {});
    /** Resolves when the stream takes more or the receiver answered; rejects if it stalls. */
    const drained = () =>
      new Promise<void>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          call.off('drain', done);
          wake = null;
          resolve();
        };
        const timer = setTimeout(() => {
          call.off('drain', done);
          wake = null;
          reject(new Error(`snapshot stream to node ${to} made no progress for ${snapshotStallMs} ms`));
        }, snapshotStallMs);
        call.on('drain', done);
        wake = done;
      });
    const write = async (buf: Buffer) => {
      assert(buf.length <= snapshotMessageBytesMax, () => `snapshot message of ${buf.length} bytes exceeds ${snapshotMessageBytesMax}`);
      this.stats.snapshotBytes += buf.length;
      if (!call.write(buf) && !answered) await drained();
    };
    try {
      await write(encodeSnapshotPart({ kind: 'header', header }));
      for await (const chunk of chunks) {
        if (answered) break; // the receiver gave up (its answer says why)
        await write(encodeSnapshotPart({ kind: 'chunk', chunk }));
      }
      if (!answered) {
        await write(encodeSnapshotPart({ kind: 'final' }));
        call.end();
      }
    } catch (e) {
      call.cancel();
      throw e;
    }
    await this.answer(call, outcome, to);
  }

  /** The receiver's answer, or a failure (and the call cancelled) if none comes within snapshotStallMs. */
  private answer(call: grpc.ClientWritableStream<Buffer>, outcome: Promise<void>, to: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const stall = new Promise<never>((_res, reject) => {
      timer = setTimeout(() => {
        call.cancel();
        reject(new Error(`node ${to} did not answer the snapshot within ${snapshotStallMs} ms`));
      }, snapshotStallMs);
    });
    return Promise.race([outcome, stall]).finally(() => clearTimeout(timer));
  }

  // ---- life cycle ----------------------------------------------------------------------------

  /** Ends every Raft stream (the Connections stay open: they are the caller's). */
  close(): void {
    this.closed = true;
    for (const s of this.peers.values()) {
      const call = s.call;
      s.call = null;
      call?.end();
    }
    this.peers.clear();
  }
}
