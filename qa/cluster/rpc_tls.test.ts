/**
 * Mutual TLS on the inter-node RPC (tls.ts), over real sockets on loopback with certificates made
 * by `strata cert`'s code: a node certificate of the cluster CA is served and accepted; a
 * certificate of another CA, no certificate, plaintext, a client certificate that is not a node's
 * and a certificate not valid for the dialed address are all refused, and the server logs why.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HybridClock, rootLogger, setRootLogger } from '@strata/common';
import { makeCerts } from '../harness/secure.js';
import type { TestCerts } from '../harness/secure.js';
import { Connections, RpcServer, adminClient, insecureRpcCredentials, isNotConnected, tlsRpcCredentials } from '@strata/rpc';
import type { RpcCredentials, RpcServices } from '@strata/rpc';

let ours: TestCerts;
let theirs: TestCerts;
let server: RpcServer;
const logLines: string[] = [];
const savedLogger = rootLogger();

/** The services of a node that only answers pings and status (what the handshake tests need). */
function services(): RpcServices {
  const refuse = () => Promise.reject(new Error('not served in this test'));
  return {
    nodeId: 7,
    clock: new HybridClock(() => Date.now()),
    wallTimeMs: () => Date.now(),
    handleRaftBatch: () => {},
    receiveSnapshot: refuse,
    send: refuse,
    admin: { join: refuse, init: refuse, status: () => Promise.resolve([]), decommission: refuse, cancelQuery: () => {}, notify: () => {} },
  };
}

const pem = (c: TestCerts, who: 'node' | string) => ({
  ca: readFileSync(c.ca, 'utf8'),
  cert: readFileSync(who === 'node' ? `${c.dir}/node.crt` : c.client(who).cert, 'utf8'),
  key: readFileSync(who === 'node' ? `${c.dir}/node.key` : c.client(who).key, 'utf8'),
});

beforeAll(async () => {
  ours = await makeCerts(['root', 'alice']);
  theirs = await makeCerts(['root']);
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  setRootLogger(pino({ level: 'info' }, sink));
  server = await RpcServer.start({ services: services(), host: '127.0.0.1', port: 0, credentials: tlsRpcCredentials(pem(ours, 'node')).server });
});

afterAll(async () => {
  await server?.close(0);
  setRootLogger(savedLogger);
});

/** Waits (bounded) for a log line matching `re`. */
async function logged(re: RegExp): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const l = logLines.find((x) => re.test(x));
    if (l) return l;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no log line matches ${re}:\n${logLines.join('\n')}`);
}

const addr = () => `127.0.0.1:${server.port}`;
const failure = (p: Promise<unknown>) => p.then(
  () => 'served',
  (e: Error) => e.message,
);

describe('mutual TLS between nodes', () => {
  it('serves a peer with a node certificate of the cluster CA, over a Connections channel too', async () => {
    const creds = tlsRpcCredentials(pem(ours, 'node'));
    expect(await adminClient.whoIs(addr(), creds.channel)).toBe(7);
    const conns = new Connections({ nodeId: 1, resolve: () => addr(), credentials: creds.channel });
    try {
      const c = await conns.connected(7, 'default', 5000, false);
      expect(isNotConnected(c) ? c.reason : 'connected').toBe('connected');
    } finally {
      conns.close();
    }
  });

  it("refuses a node certificate of another CA, and the server logs that the caller's certificate was refused", async () => {
    // Trusting our CA, so the client accepts the server: the server is the one that refuses.
    const creds: RpcCredentials = tlsRpcCredentials({ ...pem(theirs, 'node'), ca: readFileSync(ours.ca, 'utf8') });
    // Over TLS 1.3 the client finishes its side of the handshake before the server checks its
    // certificate, so the client only learns that the connection failed; the server says why.
    expect(await failure(adminClient.whoIs(addr(), creds.channel))).toMatch(/No connection established/);
    expect(await logged(/inter-node TLS handshake with 127\.0\.0\.1 refused: the other side's certificate is not signed by this cluster's CA/)).toBeTruthy();
  });

  it('refuses to talk to a server whose certificate is of another CA', async () => {
    const creds = tlsRpcCredentials(pem(theirs, 'node'));
    expect(await failure(adminClient.whoIs(addr(), creds.channel))).toMatch(/not signed by this cluster's CA/);
  });

  it('refuses a caller without a certificate and a plaintext caller', async () => {
    const noCert = grpc.credentials.createSsl(readFileSync(ours.ca));
    expect(await failure(adminClient.whoIs(addr(), noCert))).toMatch(/TLS with .* failed/);
    expect(await failure(adminClient.whoIs(addr(), insecureRpcCredentials().channel))).not.toBe('served');
    expect(await logged(/does not speak TLS/)).toBeTruthy();
  });

  it("lets root's client certificate make admin calls but not the inter-node ones, and refuses other users", async () => {
    const root = tlsRpcCredentials(pem(ours, 'root'));
    expect(await failure(adminClient.status(addr(), root.channel))).toBe('served');
    expect(await failure(adminClient.whoIs(addr(), root.channel))).toMatch(/CN=root\) is not a node certificate/);
    const alice = tlsRpcCredentials(pem(ours, 'alice'));
    expect(await failure(adminClient.status(addr(), alice.channel))).toMatch(/CN=alice\) is not a node certificate \(CN=node\) or root's client certificate/);
    expect(server.stats.certificateRefused).toBeGreaterThanOrEqual(2);
  });

  it('refuses a server whose certificate is not valid for the address dialed', async () => {
    // The node certificate names 127.0.0.1 and localhost, not 127.0.0.2 (also loopback).
    const creds = tlsRpcCredentials(pem(ours, 'node'));
    const other = await RpcServer.start({ services: services(), host: '127.0.0.2', port: 0, credentials: creds.server });
    try {
      expect(await failure(adminClient.whoIs(`127.0.0.2:${other.port}`, creds.channel))).toMatch(/not valid for the address dialed/);
    } finally {
      await other.close(0);
    }
  });
});
