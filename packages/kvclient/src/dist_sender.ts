/**
 * The DistSender: sends a batch to the range it addresses, at whichever node serves it. It tries
 * the cached leaseholder first, then the range's other replicas; a NotLeaseholder answer names
 * the leaseholder to try next; a node without the range (RangeNotFound) or unreachable is skipped;
 * when every replica failed, it refreshes the descriptor and retries with backoff until the
 * deadline. A write whose request may have reached a node that then failed to answer is not
 * retried: its outcome is unknown (AmbiguousResultError → 40003).
 */
import { AmbiguousResultError, NotLeaseholderError, RangeNotFoundError, ReplicaUnavailableError, sleep } from '@strata/common';
import type { HybridClock, Timers } from '@strata/common';
import { decodeDescriptor } from '@strata/kv';
import type { BatchRequest, BatchResponse, BatchSender, KvRequest, RangeDescriptor } from '@strata/kv';
import { RangeUnavailableError, SendFailedError } from './errors.js';
import { RangeCache } from './range_cache.js';

/** Sends a batch to one node (the local store, or a remote one over the network). */
export interface NodeDialer {
  send(nodeId: number, ba: BatchRequest): Promise<BatchResponse>;
}

export interface DistSenderOptions {
  dialer: NodeDialer;
  timers: Timers;
  /** The gateway's clock: every batch carries its reading (receivers move past it). */
  clock: HybridClock;
  /** Nodes to ask for a range's descriptor when the meta range has nothing newer than the cache. */
  knownNodes: () => number[];
  /** The range holding the meta records of the others (store/meta_records.ts); absent: none. */
  metaRangeId?: number;
  /** How long a batch may keep retrying before it fails. */
  deadlineMs: number;
  /** The first and the largest pause between rounds of retries. */
  backoffMs?: { initial: number; max: number };
}

const writeKinds = new Set<KvRequest['kind']>(['endTxn', 'putIntents', 'heartbeatTxn', 'pushTxn', 'increment', 'ts', 'gc', 'computeChecksum']);

function isWrite(ba: BatchRequest): boolean {
  return ba.requests.some((r) => writeKinds.has(r.kind));
}

/** How long a lookup waits for the meta range before asking the nodes it knows instead. */
const metaLookupTimeoutMs = 1000;

/** `p`, or SendFailedError (maybe applied) if it has not settled within `ms`. */
function withDeadline<T>(p: Promise<T>, timers: Timers, ms: number, node: number): Promise<T> {
  if (ms <= 0) {
    p.catch(() => {});
    return Promise.reject(new SendFailedError(node, true, 'the request deadline passed'));
  }
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const t = timers.setTimeout(() => {
      if (done) return;
      done = true;
      p.catch(() => {});
      reject(new SendFailedError(node, true, `no answer within ${ms} ms`));
    }, ms);
    p.then(
      (v) => {
        if (done) return;
        done = true;
        timers.clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        if (done) return;
        done = true;
        timers.clearTimeout(t);
        reject(e);
      },
    );
  });
}

export class DistSender implements BatchSender {
  readonly cache = new RangeCache();
  /** Requests sent, retries after errors, and descriptor refreshes (metrics and tests). */
  readonly stats = { sent: 0, retries: 0, lookups: 0, metaHits: 0 };

  constructor(private readonly o: DistSenderOptions) {}

  async send(ba: BatchRequest): Promise<BatchResponse> {
    const rangeId = ba.header.rangeId;
    const timers = this.o.timers;
    const deadline = timers.now() + this.o.deadlineMs;
    let backoff = this.o.backoffMs?.initial ?? 10;
    let lastErr: unknown = null;
    for (;;) {
      let info = this.cache.get(rangeId);
      if (!info) {
        await this.lookup(rangeId);
        info = this.cache.get(rangeId);
      }
      const tried = new Set<number>();
      const order = (): number[] => {
        const i = this.cache.get(rangeId) ?? info;
        if (!i) return [];
        const voters = i.desc.replicas.filter((r) => r.type === 'voter').map((r) => r.nodeId);
        const learners = i.desc.replicas.filter((r) => r.type !== 'voter').map((r) => r.nodeId);
        return [...(i.leaseholder !== null ? [i.leaseholder] : []), ...voters, ...learners].filter((n) => !tried.has(n));
      };
      for (let candidates = order(); candidates.length > 0; candidates = order()) {
        const node = candidates[0] as number;
        tried.add(node);
        this.stats.sent++;
        try {
          // Bounded by the deadline: a node that cannot reach its range's quorum may never answer
          // (a lease it cannot get); its late answer is ignored.
          const res = await withDeadline(this.o.dialer.send(node, { header: { ...ba.header, now: this.o.clock.now() }, requests: ba.requests }), timers, deadline - timers.now(), node);
          this.o.clock.update(res.now);
          this.cache.setLeaseholder(rangeId, res.nodeId);
          return res;
        } catch (e) {
          lastErr = e;
          if (e instanceof NotLeaseholderError) {
            const hint = e.leaseholderNodeId;
            if (hint !== null && !tried.has(hint)) this.cache.setLeaseholder(rangeId, hint);
            else if (this.cache.get(rangeId)?.leaseholder === node) this.cache.setLeaseholder(rangeId, null);
            continue;
          }
          if (e instanceof RangeNotFoundError || e instanceof ReplicaUnavailableError) continue;
          if (e instanceof SendFailedError) {
            if (e.maybeApplied && isWrite(ba)) throw new AmbiguousResultError(`range ${rangeId}: ${e.message}; the write may or may not have been applied`);
            if (this.cache.get(rangeId)?.leaseholder === node) this.cache.setLeaseholder(rangeId, null);
            continue;
          }
          throw e;
        }
      }
      this.stats.retries++;
      if (timers.now() + backoff > deadline) {
        throw new RangeUnavailableError(rangeId, `no replica served the request in ${this.o.deadlineMs} ms (last error: ${lastErr instanceof Error ? lastErr.message : String(lastErr)})`);
      }
      await sleep(timers, backoff);
      backoff = Math.min(backoff * 2, this.o.backoffMs?.max ?? 500);
      await this.lookup(rangeId);
    }
  }

  /**
   * Finds a range's descriptor: its meta record if that is newer than the cache, else the newest
   * descriptor the known nodes (and the range's cached replicas) answer.
   */
  async lookup(rangeId: number): Promise<RangeDescriptor | null> {
    this.stats.lookups++;
    const meta = this.o.metaRangeId;
    if (meta !== undefined && rangeId !== meta) {
      const d = await this.metaRecord(meta, rangeId);
      const cached = this.cache.get(rangeId);
      if (d && (!cached || d.generation > cached.desc.generation)) {
        this.stats.metaHits++;
        this.cache.update(d);
        return d;
      }
    }
    return this.askNodes(rangeId);
  }

  /** The range's meta record, or null (none, or the meta range did not answer in time). */
  private async metaRecord(meta: number, rangeId: number): Promise<RangeDescriptor | null> {
    const timers = this.o.timers;
    try {
      const res = await withDeadline(this.send({ header: { rangeId: meta, timestamp: 0n, txn: null, now: this.o.clock.now() }, requests: [{ kind: 'metaLookup', rangeId }] }), timers, metaLookupTimeoutMs, 0);
      const r = res.responses[0];
      return r?.kind === 'metaLookup' && r.descriptor ? decodeDescriptor(r.descriptor) : null;
    } catch {
      return null;
    }
  }

  private async askNodes(rangeId: number): Promise<RangeDescriptor | null> {
    const nodes = new Set<number>([...(this.cache.get(rangeId)?.desc.replicas.map((r) => r.nodeId) ?? []), ...this.o.knownNodes()]);
    let best: RangeDescriptor | null = null;
    await Promise.all(
      [...nodes].map(async (n) => {
        try {
          const res = await this.o.dialer.send(n, { header: { rangeId, timestamp: 0n, txn: null, now: this.o.clock.now() }, requests: [{ kind: 'rangeDescriptor' }] });
          const r = res.responses[0];
          if (r?.kind !== 'rangeDescriptor') return;
          const d = decodeDescriptor(r.descriptor);
          if (!best || d.generation > best.generation) best = d;
        } catch {
          // unreachable or no replica there: ask the others
        }
      }),
    );
    if (best) this.cache.update(best);
    return best;
  }
}
