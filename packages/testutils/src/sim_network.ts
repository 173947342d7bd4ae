/**
 * A seeded, faulty network between the stores of an in-process cluster: Raft messages are
 * delayed, dropped, duplicated and reordered (each message gets its own random delay); partitions
 * cut pairs of nodes; crashed nodes receive nothing. Snapshots stream chunk by chunk and fail if
 * the path breaks on the way. Client requests travel the same network: a request that reached a
 * node whose answer was lost fails with SendFailedError(maybeApplied = true).
 */
import type { BatchRequest, BatchResponse } from '@strata/kv';
import { SendFailedError } from '@strata/kvclient';
import type { NodeDialer } from '@strata/kvclient';
import type { RaftMessageBatch, RaftTransport, SnapshotChunk, SnapshotHeader, Store } from '@strata/store';
import type { SimScheduler } from './sim_scheduler.js';

export interface NetworkFaults {
  /** Probability that a Raft message is dropped (a broken connection loses what was in flight). */
  dropRate: number;
  /**
   * Probability that a client request or its answer is lost (rarer: requests ride on streams
   * that retransmit; a loss stands for a connection reset mid-request).
   */
  requestDropRate?: number;
  /** Probability that a message is delivered twice. */
  dupRate: number;
  /** One-way delay range, virtual ms. */
  minDelayMs: number;
  maxDelayMs: number;
}

export const calmNetwork: NetworkFaults = { dropRate: 0, dupRate: 0, minDelayMs: 1, maxDelayMs: 2 };

/**
 * How long a client waits for an answer before giving up on a node — unless the node got the
 * request and is still working on it, reachable and alive (a connection's keepalives say so: a
 * write waiting for another transaction's intent may take long), up to requestDeadlineMs.
 */
export const requestTimeoutMs = 1500;
export const requestDeadlineMs = 30_000;

/** Virtual time to move one snapshot chunk (about 1 MiB). */
const chunkMs = 2;

export class SimNetwork {
  /** Pairs `a/b` (a < b) that cannot talk. */
  private readonly cut = new Set<string>();
  faults: NetworkFaults;
  /** Messages sent, dropped, duplicated (for the summary). */
  readonly stats = { sent: 0, dropped: 0, duplicated: 0 };

  constructor(
    private readonly sched: SimScheduler,
    private readonly rand: () => number,
    faults: NetworkFaults,
    /** The live store of a node (null while it is down). */
    private readonly storeOf: (nodeId: number) => Store | null,
  ) {
    this.faults = faults;
  }

  private static pair(a: number, b: number): string {
    return a < b ? `${a}/${b}` : `${b}/${a}`;
  }

  /** Whether a message from `a` reaches `b` now (both up, no partition between). Node 0 is a client. */
  reachable(a: number, b: number): boolean {
    if (a === b) return true;
    if (this.cut.has(SimNetwork.pair(a, b))) return false;
    return (a === 0 || this.storeOf(a) !== null) && (b === 0 || this.storeOf(b) !== null);
  }

  /** Cuts every link between the two groups. */
  partition(a: number[], b: number[]): void {
    for (const x of a) for (const y of b) if (x !== y) this.cut.add(SimNetwork.pair(x, y));
  }

  /** Cuts a node off from every other node (clients too). */
  isolate(node: number, all: number[]): void {
    this.partition([node], [0, ...all.filter((n) => n !== node)]);
  }

  heal(): void {
    this.cut.clear();
  }

  get partitioned(): boolean {
    return this.cut.size > 0;
  }

  private delay(): number {
    const f = this.faults;
    return f.minDelayMs + this.rand() * (f.maxDelayMs - f.minDelayMs);
  }

  /** The transport a store uses to reach the others. */
  transportFor(nodeId: number): RaftTransport {
    return {
      send: (batch: RaftMessageBatch) => {
        // One batch per node pair and round rides one connection: it is delayed, lost or
        // duplicated as a whole.
        this.stats.sent += batch.messages.length;
        if (this.rand() < this.faults.dropRate) {
          this.stats.dropped += batch.messages.length;
          return;
        }
        const copies = this.rand() < this.faults.dupRate ? 2 : 1;
        if (copies === 2) this.stats.duplicated += batch.messages.length;
        for (let i = 0; i < copies; i++) {
          this.sched.after(this.delay(), () => {
            if (!this.reachable(nodeId, batch.toNodeId)) return;
            this.storeOf(batch.toNodeId)?.handleRaftBatch(batch);
          });
        }
      },
      sendSnapshot: (header: SnapshotHeader, chunks: AsyncIterable<SnapshotChunk>) => this.streamSnapshot(nodeId, header, chunks),
    };
  }

  private wait(ms: number): Promise<void> {
    return new Promise((res) => this.sched.after(ms, res));
  }

  private async streamSnapshot(from: number, header: SnapshotHeader, chunks: AsyncIterable<SnapshotChunk>): Promise<void> {
    const to = header.toNodeId;
    await this.wait(this.delay());
    const target = this.storeOf(to);
    if (!this.reachable(from, to) || !target) throw new Error(`node ${to} is unreachable`);
    const intact = () => this.reachable(from, to) && this.storeOf(to) === target;
    const wait = (ms: number) => this.wait(ms);
    async function* relay(): AsyncGenerator<SnapshotChunk> {
      for await (const c of chunks) {
        await wait(chunkMs);
        if (!intact()) throw new Error(`the connection to node ${to} broke during the snapshot`);
        yield c;
      }
    }
    await target.receiveSnapshot(header, relay());
    await this.wait(this.delay());
  }

  /** How a client (node 0) or a node's gateway sends batches to nodes. */
  dialer(fromNodeId: number): NodeDialer {
    return {
      send: (nodeId: number, ba: BatchRequest): Promise<BatchResponse> =>
        new Promise((resolve, reject) => {
          let settled = false;
          let delivered = false;
          let working: unknown = null; // the store instance working on the request
          const sentAt = this.sched.now;
          const expire = () => {
            if (settled) return;
            if (working !== null && working === this.storeOf(nodeId) && this.reachable(fromNodeId, nodeId) && this.sched.now - sentAt < requestDeadlineMs) {
              timer = this.sched.after(requestTimeoutMs, expire); // keepalive: still working on it
              return;
            }
            settled = true;
            reject(new SendFailedError(nodeId, delivered, 'timed out'));
          };
          let timer = this.sched.after(requestTimeoutMs, expire);
          const fail = (e: unknown) => {
            if (settled) return;
            settled = true;
            timer.cancelled = true;
            reject(e);
          };
          if (!this.reachable(fromNodeId, nodeId)) {
            // Refused at once (no route): certainly not delivered.
            this.sched.after(this.delay(), () => fail(new SendFailedError(nodeId, false, 'unreachable')));
            return;
          }
          this.stats.sent++;
          if (this.rand() < (this.faults.requestDropRate ?? this.faults.dropRate)) {
            this.stats.dropped++;
            return; // lost on the way: the timeout fires
          }
          this.sched.after(this.delay(), () => {
            const store = this.storeOf(nodeId);
            if (!store || !this.reachable(fromNodeId, nodeId)) return;
            delivered = true;
            working = store;
            const done = () => (working = null);
            store.send(ba).finally(done).then(
              (res) => this.respond(nodeId, fromNodeId, () => {
                if (settled) return;
                settled = true;
                timer.cancelled = true;
                resolve(res);
              }),
              (e: unknown) => this.respond(nodeId, fromNodeId, () => fail(e)),
            );
          });
        }),
    };
  }

  /** Delivers an answer back (or loses it: the client's timeout then fires). */
  private respond(from: number, to: number, deliver: () => void): void {
    if (this.rand() < (this.faults.requestDropRate ?? this.faults.dropRate)) {
      this.stats.dropped++;
      return;
    }
    this.sched.after(this.delay(), () => {
      if (this.reachable(from, to)) deliver();
    });
  }
}
