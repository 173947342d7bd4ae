/**
 * The cluster's admin calls, client side: one-shot calls to a node's RPC address (`strata init`,
 * `strata node …`, and a joining node asking its --join addresses). Errors come back as Error
 * with the serving node's message (a gRPC status), or the transport's when the node is
 * unreachable; a refused TLS handshake is explained (tls.ts explainTlsFailure). Without
 * credentials, calls are plaintext (insecure mode).
 */
import * as grpc from '@grpc/grpc-js';
import { Services, rpcMethod } from './proto.js';
import { explainTlsFailure } from './tls.js';
import { decodeAdmin, encodeAdmin } from './codec/admin.js';
import { decodePingResponse, encodePingRequest } from './codec/node.js';
import type { CancelQueryRequest, NotifyRequest, DecommissionRequest, InitResponse, JoinRequest, JoinResponse, NodeStatus, adminTypes } from './codec/admin.js';

/** How long one admin call may take. */
export const adminCallTimeoutMs = 30_000;
/**
 * How long a forwarded CancelRequest or a batch of notifications sent to another node may take
 * (both are best effort: a cancel as PostgreSQL's, notifications to a node that does not answer
 * are dropped for it).
 */
const forwardTimeoutMs = 5_000;

/**
 * A failed admin call as an Error, its TLS failure (if it is one) explained. A plaintext call
 * that a TLS server hangs up on only learns "Failed to connect" (the connection was accepted, so
 * it was not refused): that case gets a hint, since it is what a secure node does to it.
 */
function callError(address: string, err: grpc.ServiceError, plaintext: boolean): Error {
  const text = err.details || err.message;
  const tls = explainTlsFailure(text);
  if (tls) return new Error(`TLS with ${address} failed: ${tls} (${text})`);
  if (plaintext && /Failed to connect/.test(text) && !/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT/.test(text)) {
    return new Error(`${text} (${address} closed the plaintext connection: if the cluster runs in secure mode, this side needs --certs-dir)`);
  }
  return new Error(text);
}

async function call<T>(address: string, method: string, reqType: keyof typeof adminTypes, resType: keyof typeof adminTypes, req: object, credentials?: grpc.ChannelCredentials, timeoutMs = adminCallTimeoutMs): Promise<T> {
  const client = new grpc.Client(address, credentials ?? grpc.credentials.createInsecure());
  const m = rpcMethod(Services.node, method);
  try {
    const buf = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest<Buffer, Buffer>(m.path, (b) => b, (b) => b, encodeAdmin(reqType, req), new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, value) => {
        if (err) reject(callError(address, err, !credentials));
        else resolve(value as Buffer);
      }),
    );
    return decodeAdmin<T>(resType, buf);
  } finally {
    client.close();
  }
}

/** Which node serves an RPC address (a Ping): how a restarted node finds its peers' ids. */
async function whoIs(address: string, credentials?: grpc.ChannelCredentials, timeoutMs = 2000): Promise<number> {
  const client = new grpc.Client(address, credentials ?? grpc.credentials.createInsecure());
  const m = rpcMethod(Services.node, 'Ping');
  try {
    const buf = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest<Buffer, Buffer>(m.path, (b) => b, (b) => b, encodePingRequest({ nodeId: 0, now: 0n, wallTimeMs: Date.now() }), new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, value) => {
        if (err) reject(callError(address, err, !credentials));
        else resolve(value as Buffer);
      }),
    );
    return decodePingResponse(buf).nodeId;
  } finally {
    client.close();
  }
}

export const adminClient = {
  whoIs,
  join: (address: string, req: JoinRequest, credentials?: grpc.ChannelCredentials, timeoutMs?: number) => call<JoinResponse>(address, 'Join', 'JoinRequest', 'JoinResponse', req, credentials, timeoutMs),
  init: (address: string, credentials?: grpc.ChannelCredentials) => call<InitResponse>(address, 'Init', 'InitRequest', 'InitResponse', {}, credentials),
  status: async (address: string, credentials?: grpc.ChannelCredentials, timeoutMs?: number) => (await call<{ nodes: NodeStatus[] }>(address, 'Status', 'NodeStatusRequest', 'NodeStatusResponse', {}, credentials, timeoutMs)).nodes,
  decommission: (address: string, req: DecommissionRequest, credentials?: grpc.ChannelCredentials) => call<object>(address, 'Decommission', 'DecommissionRequest', 'DecommissionResponse', req, credentials),
  cancelQuery: (address: string, req: CancelQueryRequest, credentials?: grpc.ChannelCredentials) => call<object>(address, 'CancelQuery', 'CancelQueryRequest', 'CancelQueryResponse', req, credentials, forwardTimeoutMs),
  notify: (address: string, req: NotifyRequest, credentials?: grpc.ChannelCredentials) => call<object>(address, 'Notify', 'NotifyRequest', 'NotifyResponse', req, credentials, forwardTimeoutMs),
};
