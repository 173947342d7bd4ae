/**
 * Connections to the other nodes: per peer, one gRPC channel (one HTTP/2 connection) per class
 * of traffic, so a large transfer on one cannot delay another behind it in the same TCP stream:
 *   - `raft`: the Raft message stream (heartbeats keep leases alive: they must not queue behind
 *     megabytes of snapshot or scan results);
 *   - `default`: batch requests, snapshots and pings.
 * Peers are found through a resolver (node id → host:port) the caller supplies; it is asked again
 * on every use, and a changed address replaces the peer's channels.
 *
 * Reconnection is gRPC's: a failed connection is retried with exponential backoff and jitter
 * (reconnectBackoff*). Keepalive pings (keepalive*) notice a dead or stopped peer within a few
 * seconds and fail what is in flight. A channel that falls idle is asked to connect again at
 * once: in a cluster every peer is wanted all the time.
 *
 * INVARIANT: a peer's channels all use the address the resolver gave when they were created.
 * INVARIANT: after close(), no channel is open and none is created.
 */
import * as grpc from '@grpc/grpc-js';
import { logger } from '@strata/common';
import {
  batchMessageBytesMax,
  keepaliveTimeMs,
  keepaliveTimeoutMs,
  raftStreamMessageBytesMax,
  reconnectBackoffInitialMs,
  reconnectBackoffMaxMs,
  snapshotMessageBytesMax,
  clusterIdMetadataKey,
} from './constants.js';

export type ChannelClass = 'raft' | 'default';

/** A peer's connection state as its channels report it. */
export type PeerState = 'idle' | 'connecting' | 'ready' | 'failing' | 'closed';

export interface PeerHealth {
  nodeId: number;
  address: string;
  /** ready if any channel is; failing if one failed to connect and none is ready. */
  state: PeerState;
  /** When the state last changed (ms since the epoch). */
  sinceMs: number;
  /** Connections established and failed connection attempts (or dropped connections), all channels. */
  connects: number;
  failures: number;
}

export interface ConnectionsOptions {
  /** This node (never dialed). */
  nodeId: number;
  /** The address (host:port) of a node's RPC server, or null if unknown. */
  resolve: (nodeId: number) => string | null;
  /** Default: insecure (plaintext). */
  credentials?: grpc.ChannelCredentials;
  /** This node's cluster, sent with every call (server.ts, clusterIdMetadataKey); absent: none sent. */
  clusterId?: () => string | null;
}

const S = grpc.connectivityState;

function channelOptions(cls: ChannelClass): grpc.ChannelOptions {
  return {
    'grpc.max_send_message_length': cls === 'raft' ? raftStreamMessageBytesMax : Math.max(batchMessageBytesMax, snapshotMessageBytesMax),
    'grpc.max_receive_message_length': batchMessageBytesMax,
    'grpc.keepalive_time_ms': keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': keepaliveTimeoutMs,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.initial_reconnect_backoff_ms': reconnectBackoffInitialMs,
    'grpc.max_reconnect_backoff_ms': reconnectBackoffMaxMs,
    // Each channel its own connection (the default pool would share one per address).
    'grpc.use_local_subchannel_pool': 1,
  };
}

class Peer {
  readonly clients = new Map<ChannelClass, grpc.Client>();
  readonly states = new Map<ChannelClass, grpc.connectivityState>();
  health: PeerHealth;
  closed = false;

  constructor(
    readonly nodeId: number,
    readonly address: string,
    private readonly credentials: grpc.ChannelCredentials,
    private readonly clusterId: (() => string | null) | undefined,
  ) {
    this.health = { nodeId, address, state: 'idle', sinceMs: Date.now(), connects: 0, failures: 0 };
  }

  client(cls: ChannelClass): grpc.Client {
    let c = this.clients.get(cls);
    if (!c) {
      const clusterId = this.clusterId;
      const interceptors: grpc.Interceptor[] = clusterId
        ? [
            (options, next) =>
              new grpc.InterceptingCall(next(options), {
                start(metadata, listener, proceed) {
                  const id = clusterId();
                  if (id) metadata.set(clusterIdMetadataKey, id);
                  proceed(metadata, listener);
                },
              }),
          ]
        : [];
      c = new grpc.Client(this.address, this.credentials, { ...channelOptions(cls), interceptors });
      this.clients.set(cls, c);
      this.watch(cls, c);
    }
    return c;
  }

  /** Follows a channel's state changes for the peer's health, and reconnects an idle channel. */
  private watch(cls: ChannelClass, c: grpc.Client): void {
    const ch = c.getChannel();
    const loop = (prev: grpc.connectivityState | null) => {
      if (this.closed) return;
      let st: grpc.connectivityState;
      try {
        st = ch.getConnectivityState(false);
      } catch {
        return; // closed
      }
      if (st !== prev) this.changed(cls, prev, st);
      if (st === S.SHUTDOWN) return;
      if (st === S.IDLE) ch.getConnectivityState(true);
      try {
        ch.watchConnectivityState(st, Infinity, () => loop(st));
      } catch {
        // the channel was closed meanwhile
      }
    };
    loop(null);
  }

  private changed(cls: ChannelClass, prev: grpc.connectivityState | null, st: grpc.connectivityState): void {
    this.states.set(cls, st);
    if (st === S.READY) this.health.connects++;
    if (st === S.TRANSIENT_FAILURE || (prev === S.READY && st !== S.SHUTDOWN)) this.health.failures++;
    const all = [...this.states.values()];
    const state: PeerState = all.includes(S.READY)
      ? 'ready'
      : all.includes(S.TRANSIENT_FAILURE)
        ? 'failing'
        : all.includes(S.CONNECTING)
          ? 'connecting'
          : all.every((s) => s === S.SHUTDOWN)
            ? 'closed'
            : 'idle';
    if (state !== this.health.state) this.health = { ...this.health, state, sinceMs: Date.now() };
  }

  close(): void {
    this.closed = true;
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    this.health = { ...this.health, state: 'closed', sinceMs: Date.now() };
  }
}

/** Why a peer cannot take a call now (the call was certainly not sent). */
export interface NotConnected {
  reason: string;
}

export class Connections {
  private readonly log = logger('rpc');
  private readonly peers = new Map<number, Peer>();
  private readonly credentials: grpc.ChannelCredentials;
  private closed = false;

  constructor(private readonly o: ConnectionsOptions) {
    this.credentials = o.credentials ?? grpc.credentials.createInsecure();
  }

  get nodeId(): number {
    return this.o.nodeId;
  }

  private peer(nodeId: number): Peer | null {
    if (this.closed || nodeId === this.o.nodeId) return null;
    const address = this.o.resolve(nodeId);
    let p = this.peers.get(nodeId);
    if (p && p.address !== address) {
      this.log.info({ nodeId, from: p.address, to: address }, 'peer address changed; reconnecting');
      p.close();
      this.peers.delete(nodeId);
      p = undefined;
    }
    if (!address) return null;
    if (!p) {
      p = new Peer(nodeId, address, this.credentials, this.o.clusterId);
      this.peers.set(nodeId, p);
    }
    return p;
  }

  /** The gRPC client of a peer's channel of a class (connecting lazily); null if its address is unknown. */
  client(nodeId: number, cls: ChannelClass): grpc.Client | null {
    return this.peer(nodeId)?.client(cls) ?? null;
  }

  /**
   * A client whose channel is connected, waiting up to `timeoutMs` while it connects. With
   * `failFast` (requests: another replica can serve them), a failed connection attempt answers
   * at once — also one that failed before the call; otherwise (snapshots: worth waiting for) the
   * wait goes on through failed attempts (gRPC retries with backoff) until the timeout.
   */
  async connected(nodeId: number, cls: ChannelClass, timeoutMs: number, failFast = true): Promise<grpc.Client | NotConnected> {
    const c = this.client(nodeId, cls);
    if (!c) return { reason: this.closed ? 'connections are closed' : `no address for node ${nodeId}` };
    const ch = c.getChannel();
    const address = this.peers.get(nodeId)?.address;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let st: grpc.connectivityState;
      try {
        st = ch.getConnectivityState(true);
      } catch {
        return { reason: 'the channel was closed' };
      }
      if (st === S.READY) return c;
      if (st === S.SHUTDOWN) return { reason: 'the channel was closed' };
      if (st === S.TRANSIENT_FAILURE && failFast) return { reason: `node ${nodeId} (${address}) is unreachable (connecting failed; retrying with backoff)` };
      if (Date.now() >= deadline) return { reason: `node ${nodeId} (${address}) did not connect within ${timeoutMs} ms` };
      const changed = await new Promise<boolean>((res) => {
        try {
          ch.watchConnectivityState(st, deadline, (err) => res(!err));
        } catch {
          res(false);
        }
      });
      if (!changed && Date.now() >= deadline) return { reason: `node ${nodeId} (${address}) did not connect within ${timeoutMs} ms` };
    }
  }

  /** A peer's health (null: never dialed or no address). */
  health(nodeId: number): PeerHealth | null {
    const p = this.peers.get(nodeId);
    return p ? { ...p.health } : null;
  }

  /** Every dialed peer's health. */
  allHealth(): PeerHealth[] {
    return [...this.peers.values()].map((p) => ({ ...p.health }));
  }

  /** Closes a peer's channels (e.g. it left the cluster); a later use dials again. */
  forget(nodeId: number): void {
    this.peers.get(nodeId)?.close();
    this.peers.delete(nodeId);
  }

  close(): void {
    this.closed = true;
    for (const p of this.peers.values()) p.close();
    this.peers.clear();
  }
}

export function isNotConnected(x: grpc.Client | NotConnected): x is NotConnected {
  return !(x instanceof grpc.Client);
}
