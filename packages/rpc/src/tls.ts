/**
 * Mutual TLS between nodes (secure cluster mode), with @grpc/grpc-js's own credentials: every
 * node serves its RPC port with its node certificate and asks each caller for a certificate
 * issued by the cluster CA (ServerCredentials.createSsl with checkClientCertificate), and dials
 * its peers with the same node certificate, verifying theirs against the CA and the address it
 * dialed (grpc.credentials.createSsl). A caller without such a certificate never gets past the
 * handshake: no call of it reaches a handler.
 *
 * On top of the handshake, the server looks at who the certificate names (CockroachDB's
 * convention: node certificates have CN=node, client certificates CN=<user>): the inter-node
 * services (Raft, snapshots, batches, pings, join, cancel forwarding) are for nodes only; the
 * operator's admin calls (init, node status, decommission) also accept root's client
 * certificate, as `cockroach node status --certs-dir` does.
 *
 * INVARIANT: a secure RpcCredentials never serves or dials in plaintext; an insecure one never
 *   asks for certificates. A node uses one kind for its server and all its clients.
 */
import type { EventEmitter } from 'node:events';
import type { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@strata/common';

/** PEM texts: the cluster CA, the certificate a process presents and its key. */
export interface RpcTlsPem {
  ca: string;
  cert: string;
  key: string;
}

/** How a process talks on the inter-node RPC: plaintext, or mutual TLS with one certificate. */
export interface RpcCredentials {
  readonly secure: boolean;
  readonly server: grpc.ServerCredentials;
  readonly channel: grpc.ChannelCredentials;
}

/** Plaintext (`--insecure`). */
export function insecureRpcCredentials(): RpcCredentials {
  return { secure: false, server: grpc.ServerCredentials.createInsecure(), channel: grpc.credentials.createInsecure() };
}

/** Mutual TLS: present `pem.cert`, trust only certificates issued by `pem.ca`. */
export function tlsRpcCredentials(pem: RpcTlsPem): RpcCredentials {
  const ca = Buffer.from(pem.ca);
  const cert = Buffer.from(pem.cert);
  const key = Buffer.from(pem.key);
  return {
    secure: true,
    server: grpc.ServerCredentials.createSsl(ca, [{ private_key: key, cert_chain: cert }], true),
    channel: grpc.credentials.createSsl(ca, key, cert),
  };
}

/** The common name of node certificates (`strata cert create-node`). */
export const nodeCertificateUser = 'node';
/** The user whose client certificate may also make the operator's admin calls. */
export const adminCertificateUser = 'root';

/** What grpc-js tells a handler about the transport of its call (its AuthContext is not exported). */
export type CallAuth = ReturnType<grpc.ServerUnaryCall<unknown, unknown>['getAuthContext']>;

/** Who may make a call: nodes only, or nodes and the operator (root's client certificate). */
export type RpcCaller = 'node' | 'node-or-root';

/**
 * Why a call over TLS may not be served given the certificate its caller presented; null if it
 * may (or if the call did not come over TLS: an insecure server serves everyone).
 */
export function refuseCaller(auth: CallAuth, allowed: RpcCaller): string | null {
  if (auth.transportSecurityType !== 'ssl') return null;
  const cn = auth.sslPeerCertificate?.subject?.CN;
  const name = Array.isArray(cn) ? cn.join(',') : cn;
  if (name === nodeCertificateUser) return null;
  if (allowed === 'node-or-root' && name === adminCertificateUser) return null;
  return `the caller's certificate (CN=${name ?? '(none)'}) is not a node certificate (CN=${nodeCertificateUser})${allowed === 'node-or-root' ? ` or ${adminCertificateUser}'s client certificate` : ''}`;
}

/**
 * A TLS failure (an OpenSSL or Node error text, as a handshake or gRPC reports it) in words an
 * operator can act on, or null if the text is not a TLS failure.
 */
export function explainTlsFailure(text: string): string | null {
  const t = text.toLowerCase();
  if (/alert unknown ca|alert bad certificate|alert certificate unknown|alert handshake failure/.test(t)) {
    return 'the other side refused the certificate this side presented (it trusts another CA, or the certificate is not for this use)';
  }
  if (/alert certificate expired/.test(t)) return 'the other side refused the certificate this side presented: it has expired';
  if (/self[- ]signed certificate|unable to get (local )?issuer certificate|unable to verify the first certificate|certificate signature failure|self_signed_cert|unable_to_get_issuer_cert|unable_to_verify_leaf_signature|cert_signature_failure/.test(t)) {
    return "the other side's certificate is not signed by this cluster's CA (ca.crt)";
  }
  if (/peer did not return a certificate|certificate required/.test(t)) return 'the other side presented no certificate (a node or client without --certs-dir?)';
  if (/certificate has expired|cert_has_expired/.test(t)) return "the other side's certificate has expired";
  if (/certificate is not yet valid|cert_not_yet_valid/.test(t)) return "the other side's certificate is not valid yet";
  if (/does not match certificate's altnames|err_tls_cert_altname_invalid/.test(t)) return "the other side's certificate is not valid for the address dialed (see its subject alternative names: strata cert create-node HOST…)";
  if (/socket hang up|econnreset/.test(t)) {
    // Node verifies a certificate after the handshake and then just closes the connection: from
    // the other side, a refused certificate looks like this.
    return 'the other side hung up during the handshake (it likely does not trust the certificate this side presented: another CA?)';
  }
  if (/wrong version number|http request|packet length too long|unknown protocol|record layer failure|unexpected eof while reading/.test(t)) {
    return 'the other side does not speak TLS (a node started with --insecure?)';
  }
  return null;
}

/** How often one remote address's TLS refusals for one reason are logged at most. */
export const tlsRefusalLogIntervalMs = 10_000;
/** How many (address, reason) pairs the refusal log remembers (then it forgets them all: a bound on memory). */
const tlsRefusalAddressesMax = 1024;

/**
 * Logs each handshake a gRPC server refused (rate-limited per remote address), with the reason in
 * words. The refusal itself is TLS's; this only tells the operator why a peer cannot join.
 *
 * grpc-js does not expose its HTTP/2 servers' 'tlsClientError' events: this reaches them through
 * its private `http2Servers` map (grpc-js 1.14). If a later grpc-js renames it, nothing is logged
 * (the refusal is unaffected) and qa/cluster/secure_cluster.test.ts, which expects the line, fails.
 * Call it after the server is bound.
 */
export function logTlsRefusals(server: grpc.Server, log: Logger, nowMs: () => number = Date.now): boolean {
  const servers = (server as unknown as { http2Servers?: Map<EventEmitter, unknown> }).http2Servers;
  if (!(servers instanceof Map)) return false;
  const lastLogged = new Map<string, number>();
  const accepted = new WeakMap<object, string>();
  const onAccepted = (raw: { remoteAddress?: string }) => {
    if (raw.remoteAddress) accepted.set(raw, raw.remoteAddress);
  };
  const onRefused = (err: Error & { code?: string }, socket: TLSSocket) => {
    // A certificate that does not chain to the CA is refused by Node after the handshake (it
    // destroys the socket: err is then only "socket hang up"); authorizationError says why.
    const detail = [err.message, err.code, socket.authorizationError].filter(Boolean).join(' ');
    const why = explainTlsFailure(detail) ?? err.message;
    // The socket is destroyed by now: its address is the one its TCP connection was accepted from.
    const raw = (socket as unknown as { _parent?: object })._parent;
    const host = socket.remoteAddress ?? (raw ? accepted.get(raw) : undefined) ?? '(unknown address)';
    const key = `${host} ${why}`;
    const now = nowMs();
    if (now - (lastLogged.get(key) ?? -Infinity) < tlsRefusalLogIntervalMs) return;
    if (lastLogged.size >= tlsRefusalAddressesMax) lastLogged.clear();
    lastLogged.set(key, now);
    log.warn({ peer: host, err: detail }, `inter-node TLS handshake with ${host} refused: ${why}`);
  };
  for (const s of servers.keys()) {
    s.on('connection', onAccepted);
    s.on('tlsClientError', onRefused);
  }
  return true;
}
