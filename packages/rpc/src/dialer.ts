/**
 * The NodeDialer between processes: a batch goes to a node as one unary Batch call on its
 * `default` channel, and comes back as the node's BatchResponse or its error rebuilt as the same
 * class (codec/errors.ts) — the DistSender above cannot tell a remote store from a local one.
 *
 * Transport failures become SendFailedError. `maybeApplied` is false only when the request
 * certainly never left this process:
 *   - the node has no known address, or its channel did not connect within connectTimeoutMs, or
 *     a connection attempt failed (a refused or unroutable peer): we do not start the call;
 *   - gRPC refused the call because no connection was established (its "No connection
 *     established" UNAVAILABLE, raised before anything is written).
 * Everything else — a deadline, a reset connection, a keepalive timeout, a cancelled call, an
 * answer we cannot decode — may have reached the node, so a write's outcome is unknown and the
 * DistSender reports it as ambiguous instead of retrying it elsewhere.
 */
import * as grpc from '@grpc/grpc-js';
import { PgError, SqlState, logger } from '@strata/common';
import type { BatchRequest, BatchResponse } from '@strata/kv';
import { SendFailedError } from '@strata/kvclient';
import type { NodeDialer } from '@strata/kvclient';
import { decodeBatchResponse, encodeBatchRequest } from './codec/kv.js';
import { batchDeadlineMs, batchMessageBytesMax, connectTimeoutMs } from './constants.js';
import { isNotConnected } from './connections.js';
import type { Connections } from './connections.js';
import { Services, rpcMethod } from './proto.js';

const identity = (b: Buffer): Buffer => b;

/** Told of every finished call (method, seconds from send to answer, whether it succeeded): the RPC latency metrics. */
export type RpcObserver = (method: string, seconds: number, ok: boolean) => void;

export interface DialerOptions {
  observe?: RpcObserver;
  /** A call's deadline (default batchDeadlineMs). */
  deadlineMs?: number;
  /** How long to wait for a peer's channel to connect (default connectTimeoutMs). */
  connectTimeoutMs?: number;
}

/** Whether a failed call certainly never left this process (see the file comment). */
export function certainlyNotSent(err: grpc.ServiceError): boolean {
  return err.code === grpc.status.UNAVAILABLE && /^No connection established/.test(err.details ?? '');
}

export class GrpcNodeDialer implements NodeDialer {
  private readonly log = logger('rpc');
  private readonly method = rpcMethod(Services.internal, 'Batch');
  readonly stats = { sent: 0, failedNotSent: 0, failedMaybeSent: 0, remoteErrors: 0 };

  constructor(
    private readonly conns: Connections,
    private readonly o: DialerOptions = {},
  ) {}

  async send(nodeId: number, ba: BatchRequest): Promise<BatchResponse> {
    const req = encodeBatchRequest(ba);
    if (req.length > batchMessageBytesMax) {
      throw new PgError(SqlState.ProgramLimitExceeded, `a batch request of ${req.length} bytes exceeds the inter-node limit of ${batchMessageBytesMax} bytes`);
    }
    const client = await this.conns.connected(nodeId, 'default', this.o.connectTimeoutMs ?? connectTimeoutMs);
    if (isNotConnected(client)) {
      this.stats.failedNotSent++;
      throw new SendFailedError(nodeId, false, client.reason);
    }
    this.stats.sent++;
    const started = performance.now();
    const res = await new Promise<Buffer>((resolve, reject) => {
      client.makeUnaryRequest<Buffer, Buffer>(this.method.path, identity, identity, req, new grpc.Metadata(), { deadline: Date.now() + (this.o.deadlineMs ?? batchDeadlineMs) }, (err, value) => {
        this.o.observe?.('Batch', (performance.now() - started) / 1000, !err);
        if (!err) return resolve(value ?? Buffer.alloc(0));
        const notSent = certainlyNotSent(err);
        if (notSent) this.stats.failedNotSent++;
        else this.stats.failedMaybeSent++;
        reject(new SendFailedError(nodeId, !notSent, `${grpc.status[err.code]}: ${err.details}`));
      });
    });
    let decoded;
    try {
      decoded = decodeBatchResponse(res);
    } catch (e) {
      this.stats.failedMaybeSent++;
      this.log.error({ nodeId, err: e }, 'undecodable batch response');
      throw new SendFailedError(nodeId, true, `undecodable response: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!decoded.ok) {
      this.stats.remoteErrors++;
      throw decoded.error;
    }
    return decoded.response;
  }
}
