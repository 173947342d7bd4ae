/**
 * A node's RPC server (gRPC over HTTP/2, DESIGN.md port 27257), serving the services of
 * proto/*.proto for one store:
 *   - Raft.RaftMessageBatch (client stream): each batch goes to the store as it arrives; batches
 *     addressed to another node and local-only message types are dropped (counted);
 *   - Snapshots.RaftSnapshot (client stream): header, chunks, final marker → the store stages the
 *     snapshot and hands its MsgSnap to the replica; answered ok or with the structured error. A
 *     stream that ends or is cancelled before the marker fails the staging (nothing installed);
 *   - Internal.Batch (unary): store.send, errors encoded structured (codec/errors.ts);
 *   - Node.Ping (unary): the node id and clocks, for the peers' clock-offset monitors.
 * Every input is decoded inside the handler: a malformed message is refused (and logged), it does
 * not reach the store and does not crash the process.
 *
 * Secure mode (tls.ts): served with mutual TLS; a call whose certificate is not a node's (or, for
 * the operator's admin calls, root's) is refused with PERMISSION_DENIED before it is decoded.
 *
 * INVARIANT: at most snapshotsReceivingMax snapshots and batchesInFlightMax batches are in
 *   progress at once; more are refused with an error the sender handles (retry / 53000).
 */
import * as grpc from '@grpc/grpc-js';
import { PgError, SqlState, logger } from '@strata/common';
import type { HybridClock } from '@strata/common';
import type { BatchRequest, BatchResponse } from '@strata/kv';
import { isLocalMessage } from '@strata/raft';
import type { RaftMessageBatch, SnapshotChunk, SnapshotHeader, Store } from '@strata/store';
import { isStructuredError } from './codec/errors.js';
import { decodeBatchRequest, encodeBatchError, encodeBatchResponse } from './codec/kv.js';
import { decodePingRequest, encodePingResponse } from './codec/node.js';
import { decodeAdmin, encodeAdmin } from './codec/admin.js';
import type { CancelQueryRequest, NotifyRequest, DecommissionRequest, InitResponse, JoinRequest, JoinResponse, NodeStatus, adminTypes } from './codec/admin.js';
import { decodeRaftMessageBatch } from './codec/raft.js';
import { decodeSnapshotPart, encodeSnapshotResponse } from './codec/snapshot.js';
import {
  batchMessageBytesMax,
  batchesInFlightMax,
  channelMessageBytesMax,
  keepaliveTimeMs,
  keepaliveTimeoutMs,
  serverShutdownGraceMs,
  snapshotMessageBytesMax,
  snapshotsReceivingMax,
  clusterIdMetadataKey,
} from './constants.js';
import { Services, protoType, serviceDefinition } from './proto.js';
import { logTlsRefusals, refuseCaller } from './tls.js';
import type { CallAuth, RpcCaller } from './tls.js';

/** What the server serves: a store (storeServices) or, in tests, anything with the same shape. */
export interface RpcServices {
  readonly nodeId: number;
  readonly clock: HybridClock;
  /** The node's physical wall clock, ms since the epoch (what the clock-offset monitors compare). */
  wallTimeMs(): number;
  handleRaftBatch(batch: RaftMessageBatch): void;
  receiveSnapshot(header: SnapshotHeader, chunks: AsyncIterable<SnapshotChunk>): Promise<void>;
  send(ba: BatchRequest): Promise<BatchResponse>;
  /** The cluster's admin calls (absent: answered UNIMPLEMENTED). Errors become gRPC statuses with their message. */
  admin?: NodeAdmin;
  /**
   * The cluster this node belongs to (null until it has joined one). When present, Raft messages,
   * snapshots and batches are served only for callers of the same cluster (the
   * `clusterIdMetadataKey` header, set by Connections): a node of another cluster reaching a reused
   * address is refused instead of mixing two clusters' data.
   */
  clusterId?(): string | null;
}


/** What a node answers to the admin calls of proto/node.proto. */
export interface NodeAdmin {
  join(req: JoinRequest): Promise<JoinResponse>;
  init(): Promise<InitResponse>;
  status(): Promise<NodeStatus[]>;
  decommission(req: DecommissionRequest): Promise<void>;
  /** A CancelRequest forwarded from the node that received it (the secret is checked here). */
  cancelQuery(req: CancelQueryRequest): void;
  /** Notifications committed on another node, for this node's listeners. */
  notify(req: NotifyRequest): void;
}

/** A store's services. */
export function storeServices(store: Store): RpcServices {
  return {
    nodeId: store.nodeId,
    clock: store.clock,
    wallTimeMs: () => store.timers.now(),
    handleRaftBatch: (b) => store.handleRaftBatch(b),
    receiveSnapshot: (h, chunks) => store.receiveSnapshot(h, chunks),
    send: (ba) => store.send(ba),
  };
}

export interface RpcServerOptions {
  services: RpcServices;
  /** Listen address; port 0 picks a free port (read it from `port`). */
  host: string;
  port: number;
  /** Default: insecure (plaintext); mutual TLS from tls.ts (tlsRpcCredentials().server). */
  credentials?: grpc.ServerCredentials;
}

export interface RpcServerStats {
  raftBatches: number;
  raftMessages: number;
  /** Raft messages dropped on arrival: addressed to another node, or a local-only type. */
  raftDropped: number;
  batches: number;
  /** Batches answered with an error, and those of them that were not a structured kind (bugs, faults). */
  batchErrors: number;
  internalErrors: number;
  snapshotsReceived: number;
  snapshotsFailed: number;
  snapshotBytes: number;
  pings: number;
  /** Messages that did not decode. */
  malformed: number;
  /** Calls refused because the caller belongs to another cluster (or to none). */
  foreignRefused: number;
  /** Calls over TLS refused because the caller's certificate is not allowed to make them (tls.ts). */
  certificateRefused: number;
}

/** How often a refused foreign caller is logged at most. */
const foreignLogIntervalMs = 10_000;


export class RpcServer {
  private readonly log = logger('rpc');
  private readonly server: grpc.Server;
  private snapshotsReceiving = 0;
  private batchesInFlight = 0;
  private closed = false;
  readonly stats: RpcServerStats = { raftBatches: 0, raftMessages: 0, raftDropped: 0, batches: 0, batchErrors: 0, internalErrors: 0, snapshotsReceived: 0, snapshotsFailed: 0, snapshotBytes: 0, pings: 0, malformed: 0, foreignRefused: 0, certificateRefused: 0 };
  private readonly raftStreamEnd = Buffer.from(protoType('strata.raft.RaftMessageStreamResponse').encode({}).finish());

  private constructor(
    private readonly services: RpcServices,
    readonly host: string,
    public port: number,
  ) {
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': channelMessageBytesMax,
      'grpc.max_send_message_length': batchMessageBytesMax,
      // The server pings idle clients too, so a dead peer's streams are released.
      'grpc.keepalive_time_ms': keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': keepaliveTimeoutMs,
    });
    this.server.addService(serviceDefinition(Services.raft), { RaftMessageBatch: this.raftStream });
    this.server.addService(serviceDefinition(Services.snapshots), { RaftSnapshot: this.snapshotStream });
    this.server.addService(serviceDefinition(Services.internal), { Batch: this.batch });
    this.server.addService(serviceDefinition(Services.node), {
      Ping: this.ping,
      Join: this.admin('node', 'JoinRequest', 'JoinResponse', (a, req: JoinRequest) => a.join(req)),
      Init: this.admin('node-or-root', 'InitRequest', 'InitResponse', (a) => a.init()),
      Status: this.admin('node-or-root', 'NodeStatusRequest', 'NodeStatusResponse', async (a) => ({ nodes: await a.status() })),
      CancelQuery: this.admin('node', 'CancelQueryRequest', 'CancelQueryResponse', async (a, req: CancelQueryRequest) => {
        a.cancelQuery(req);
        return {};
      }),
      Notify: this.admin('node', 'NotifyRequest', 'NotifyResponse', async (a, req: NotifyRequest) => {
        a.notify(req);
        return {};
      }),
      Decommission: this.admin('node-or-root', 'DecommissionRequest', 'DecommissionResponse', async (a, req: DecommissionRequest) => {
        await a.decommission(req);
        return {};
      }),
    });
  }

  /** Binds and serves; resolves once listening. */
  static async start(o: RpcServerOptions): Promise<RpcServer> {
    const s = new RpcServer(o.services, o.host, o.port);
    const host = o.host.includes(':') && !o.host.startsWith('[') ? `[${o.host}]` : o.host;
    s.port = await new Promise<number>((resolve, reject) =>
      s.server.bindAsync(`${host}:${o.port}`, o.credentials ?? grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    const secure = o.credentials?._isSecure() ?? false;
    if (secure && !logTlsRefusals(s.server, s.log)) s.log.warn('this grpc-js does not expose its HTTP/2 servers: refused TLS handshakes will not be logged');
    s.log.info({ nodeId: o.services.nodeId, addr: `${host}:${s.port}`, tls: secure }, 'rpc server listening');
    return s;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  // ---- Raft messages ---------------------------------------------------------------------------

  /**
   * Refuses (answers) a call of the inter-node services whose certificate is not a node's
   * (PERMISSION_DENIED) or that comes from another cluster or from none (FAILED_PRECONDITION);
   * true if it was refused.
   */
  private refused(call: { metadata: grpc.Metadata; getPeer(): string; getAuthContext(): CallAuth }, callback: grpc.sendUnaryData<Buffer>): boolean {
    const notNode = this.refusedCertificate(call, 'node');
    if (notNode) {
      callback({ code: grpc.status.PERMISSION_DENIED, details: notNode });
      return true;
    }
    const foreign = this.foreignCaller(call);
    if (foreign) {
      callback({ code: grpc.status.FAILED_PRECONDITION, details: foreign });
      return true;
    }
    return false;
  }

  /** Why a call from another cluster (or from no cluster) is refused; null when it may be served. */
  private foreignCaller(call: { metadata: grpc.Metadata; getPeer(): string }): string | null {
    const mine = this.services.clusterId?.();
    if (mine === undefined) return null; // a server without cluster identity (tests)
    const theirs = call.metadata.get(clusterIdMetadataKey)[0];
    if (mine !== null && theirs === mine) return null;
    const why = mine === null ? 'this node has not joined a cluster yet' : `the caller belongs to cluster ${String(theirs ?? '(none)')}, this node to ${mine}`;
    this.stats.foreignRefused++;
    if (Date.now() - this.foreignLoggedAtMs > foreignLogIntervalMs) {
      this.foreignLoggedAtMs = Date.now();
      this.log.warn({ peer: call.getPeer(), theirs, mine }, `refusing a call: ${why}`);
    }
    return why;
  }

  private foreignLoggedAtMs = 0;

  private readonly raftStream: grpc.handleClientStreamingCall<Buffer, Buffer> = (call, callback) => {
    if (this.refused(call, callback)) return;
    const me = this.services.nodeId;
    let misaddressedLogged = false;
    call.on('data', (buf: Buffer) => {
      let batch: RaftMessageBatch;
      try {
        batch = decodeRaftMessageBatch(buf);
      } catch (e) {
        this.stats.malformed++;
        this.log.warn({ err: e, peer: call.getPeer() }, 'malformed raft message batch; dropped');
        return;
      }
      if (batch.toNodeId !== me) {
        this.stats.raftDropped += batch.messages.length;
        if (!misaddressedLogged) this.log.warn({ from: batch.fromNodeId, to: batch.toNodeId, me, peer: call.getPeer() }, 'raft messages for another node (stale address?); dropping them');
        misaddressedLogged = true;
        return;
      }
      const messages = batch.messages.filter((m) => !isLocalMessage(m.message.type));
      this.stats.raftDropped += batch.messages.length - messages.length;
      this.stats.raftBatches++;
      this.stats.raftMessages += messages.length;
      try {
        this.services.handleRaftBatch(messages.length === batch.messages.length ? batch : { ...batch, messages });
      } catch (e) {
        this.log.error({ err: e, from: batch.fromNodeId }, 'handling a raft message batch failed');
      }
    });
    call.on('end', () => callback(null, this.raftStreamEnd));
    call.on('error', () => {}); // a broken stream: the sender reopens it
  };

  // ---- snapshots -------------------------------------------------------------------------------

  private readonly snapshotStream: grpc.handleClientStreamingCall<Buffer, Buffer> = (call, callback) => {
    if (this.refused(call, callback)) return;
    const answer = (e: unknown | null) => {
      let buf: Buffer;
      try {
        buf = encodeSnapshotResponse(e);
      } catch (err) {
        buf = encodeSnapshotResponse(new Error(`the snapshot failed and its error could not be encoded: ${String(err)}`));
      }
      callback(null, buf);
    };
    if (this.snapshotsReceiving >= snapshotsReceivingMax) {
      this.stats.snapshotsFailed++;
      answer(new Error(`node ${this.services.nodeId} is already receiving ${this.snapshotsReceiving} snapshots`));
      return;
    }
    this.snapshotsReceiving++;
    this.receiveSnapshot(call).then(
      () => {
        this.stats.snapshotsReceived++;
        answer(null);
      },
      (e: unknown) => {
        this.stats.snapshotsFailed++;
        this.log.warn({ err: e, peer: call.getPeer() }, 'receiving a snapshot failed');
        answer(e);
      },
    ).finally(() => this.snapshotsReceiving--);
  };

  private async receiveSnapshot(call: grpc.ServerReadableStream<Buffer, Buffer>): Promise<void> {
    let cancelled = false;
    call.on('cancelled', () => (cancelled = true));
    call.on('error', () => {});
    const it = call[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const next = async (): Promise<ReturnType<typeof decodeSnapshotPart> | null> => {
      const n = await it.next();
      if (n.done) return null;
      const buf = n.value;
      if (buf.length > snapshotMessageBytesMax) throw new PgError(SqlState.ProgramLimitExceeded, `snapshot message of ${buf.length} bytes exceeds ${snapshotMessageBytesMax}`);
      this.stats.snapshotBytes += buf.length;
      try {
        return decodeSnapshotPart(buf);
      } catch (e) {
        this.stats.malformed++;
        throw e;
      }
    };
    const first = await next();
    if (!first || first.kind !== 'header') throw new Error(`a snapshot stream must start with its header (got ${first ? first.kind : 'nothing'})`);
    const header = first.header;
    if (header.toNodeId !== this.services.nodeId) throw new Error(`snapshot for node ${header.toNodeId} sent to node ${this.services.nodeId}`);
    let complete = false;
    async function* chunks(): AsyncGenerator<SnapshotChunk> {
      for (;;) {
        const part = await next();
        if (cancelled) throw new Error('the sender cancelled the snapshot');
        if (!part) throw new Error('the snapshot stream ended before its final message');
        if (part.kind === 'final') {
          complete = true;
          return;
        }
        if (part.kind === 'header') throw new Error('a second header in a snapshot stream');
        yield part.chunk;
      }
    }
    await this.services.receiveSnapshot(header, chunks());
    // The store consumes the stream to its end before it steps the MsgSnap; if it stopped early
    // (it does not), the snapshot it took would be partial.
    if (!complete) throw new Error('the store accepted a snapshot before its final message');
  }

  // ---- batches ---------------------------------------------------------------------------------

  private readonly batch: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    if (this.refused(call, callback)) return;
    this.stats.batches++;
    this.serveBatch(call.request).then(
      (buf) => callback(null, buf),
      // Only if even the error could not be encoded (a bug): a bare gRPC status.
      (e: unknown) => {
        this.log.error({ err: e }, 'could not answer a batch');
        callback({ code: grpc.status.INTERNAL, details: e instanceof Error ? e.message : String(e) });
      },
    );
  };

  /** The encoded answer to one batch: its responses, or its error (structured). */
  private async serveBatch(req: Buffer): Promise<Buffer> {
    const svc = this.services;
    const fail = (e: unknown): Buffer => {
      this.stats.batchErrors++;
      if (!isStructuredError(e)) {
        this.stats.internalErrors++;
        this.log.error({ err: e }, 'batch failed with an internal error');
      }
      return encodeBatchError(e, svc.nodeId, svc.clock.now());
    };
    if (req.length > batchMessageBytesMax) return fail(new PgError(SqlState.ProgramLimitExceeded, `batch request of ${req.length} bytes exceeds ${batchMessageBytesMax}`));
    let ba: BatchRequest;
    try {
      ba = decodeBatchRequest(req);
    } catch (e) {
      this.stats.malformed++;
      return fail(e);
    }
    if (this.batchesInFlight >= batchesInFlightMax) return fail(new PgError(SqlState.InsufficientResources, `node ${svc.nodeId} has ${this.batchesInFlight} requests in progress`));
    this.batchesInFlight++;
    try {
      const buf = encodeBatchResponse(await svc.send(ba));
      if (buf.length > batchMessageBytesMax) return fail(new PgError(SqlState.ProgramLimitExceeded, `batch response of ${buf.length} bytes exceeds ${batchMessageBytesMax}`));
      return buf;
    } catch (e) {
      return fail(e);
    } finally {
      this.batchesInFlight--;
    }
  }

  // ---- ping ------------------------------------------------------------------------------------

  private readonly ping: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    const svc = this.services;
    const refused = this.refusedCertificate(call, 'node');
    if (refused) {
      callback({ code: grpc.status.PERMISSION_DENIED, details: refused });
      return;
    }
    let from;
    try {
      from = decodePingRequest(call.request);
    } catch (e) {
      this.stats.malformed++;
      callback({ code: grpc.status.INVALID_ARGUMENT, details: e instanceof Error ? e.message : String(e) });
      return;
    }
    this.stats.pings++;
    svc.clock.update(from.now);
    callback(null, encodePingResponse({ nodeId: svc.nodeId, now: svc.clock.now(), wallTimeMs: svc.wallTimeMs() }));
  };

  // ---- admin calls -----------------------------------------------------------------------------

  /** A unary admin handler: decodes, calls the node's admin, answers or fails with the error's message. */
  private admin<Req>(allowed: RpcCaller, reqType: keyof typeof adminTypes, resType: keyof typeof adminTypes, f: (a: NodeAdmin, req: Req) => Promise<object>): grpc.handleUnaryCall<Buffer, Buffer> {
    return (call, callback) => {
      const refused = this.refusedCertificate(call, allowed);
      if (refused) {
        callback({ code: grpc.status.PERMISSION_DENIED, details: refused });
        return;
      }
      const a = this.services.admin;
      if (!a) {
        callback({ code: grpc.status.UNIMPLEMENTED, details: 'this node serves no admin calls' });
        return;
      }
      let req: Req;
      try {
        req = decodeAdmin<Req>(reqType, call.request);
      } catch (e) {
        this.stats.malformed++;
        callback({ code: grpc.status.INVALID_ARGUMENT, details: e instanceof Error ? e.message : String(e) });
        return;
      }
      f(a, req).then(
        (res) => callback(null, encodeAdmin(resType, res)),
        (e: unknown) => callback({ code: grpc.status.FAILED_PRECONDITION, details: e instanceof Error ? e.message : String(e) }),
      );
    };
  }

  /** Why the caller's certificate may not make this call (TLS only; counted and logged), or null. */
  private refusedCertificate(call: { getPeer(): string; getAuthContext(): CallAuth }, allowed: RpcCaller): string | null {
    const refused = refuseCaller(call.getAuthContext(), allowed);
    if (!refused) return null;
    this.stats.certificateRefused++;
    if (Date.now() - this.foreignLoggedAtMs > foreignLogIntervalMs) {
      this.foreignLoggedAtMs = Date.now();
      this.log.warn({ peer: call.getPeer() }, `refusing a call: ${refused}`);
    }
    return refused;
  }

  // ---- life cycle ------------------------------------------------------------------------------

  /** Stops accepting calls; calls in flight get `graceMs` to finish, then are cut. */
  async close(graceMs = serverShutdownGraceMs): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.log.info({ nodeId: this.services.nodeId, addr: this.address }, 'rpc server stopped');
  }

  /** Cuts every call at once (a node stopping hard, or a test killing one). */
  kill(): void {
    this.closed = true;
    this.server.forceShutdown();
  }
}
