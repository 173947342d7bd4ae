import type { Message } from './types.js';

/** Stable string key for a request context (contexts are small request ids). */
export function ctxKey(ctx: Uint8Array): string {
  let s = '';
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i] as number);
  return s;
}

interface ReadIndexStatus {
  req: Message;
  index: number;
  acks: Set<number>;
}

/**
 * Pending ReadIndex requests on a leader (Raft thesis §6.4). A request is answered once a quorum
 * has acknowledged a heartbeat carrying its context, proving this node was still leader when the
 * request arrived; it is answered with the commit index recorded at arrival.
 */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  addRequest(index: number, m: Message): void {
    const key = ctxKey((m.entries[0] as { data: Uint8Array }).data);
    if (this.pending.has(key)) return;
    this.pending.set(key, { req: m, index, acks: new Set() });
    this.queue.push(key);
  }

  size(): number {
    return this.queue.length;
  }

  /** Records an ack for ctx; returns the set of acks so far (undefined if unknown ctx). */
  recvAck(id: number, ctx: Uint8Array): Set<number> | undefined {
    const rs = this.pending.get(ctxKey(ctx));
    if (!rs) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /**
   * Dequeues every request up to and including ctx: requests are ordered, so an ack quorum for a
   * later heartbeat proves leadership for the earlier requests too.
   */
  advance(ctx: Uint8Array): { req: Message; index: number }[] {
    const key = ctxKey(ctx);
    const i = this.queue.indexOf(key);
    if (i < 0) return [];
    const done = this.queue.slice(0, i + 1);
    this.queue = this.queue.slice(i + 1);
    const out: { req: Message; index: number }[] = [];
    for (const k of done) {
      const rs = this.pending.get(k);
      if (rs) out.push({ req: rs.req, index: rs.index });
      this.pending.delete(k);
    }
    return out;
  }

  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    const rs = this.pending.get(this.queue[this.queue.length - 1] as string);
    return rs ? (rs.req.entries[0] as { data: Uint8Array }).data : undefined;
  }
}
