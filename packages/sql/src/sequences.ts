/**
 * Sequences in a cluster.
 *
 * A sequence's counter (/System/seq/<id>, the last value reserved, as decimal text) is replicated
 * like any key. A node reserves a block of values with one atomic increment of the counter at its
 * leaseholder and hands them out locally, as PostgreSQL hands out a session's CACHE (here the cache
 * belongs to the node; its size adapts, constants.ts).
 *
 * INVARIANT: between setvals, a value is handed out at most once in the whole cluster: every block
 *   comes from one increment, answered once by the leaseholder and durable before any of its values
 *   is used. (A retried increment whose first attempt applied only leaves a gap.)
 *
 * Consequences, as PostgreSQL's sequences with CACHE > 1: values increase on each node but not
 * across nodes; a node that restarts skips what it had reserved; nextval is never rolled back.
 * setval takes effect when its transaction commits (nextval in that transaction continues from the
 * value set); it empties this node's cache; other nodes finish the blocks they hold first.
 *
 * Expressions are synchronous. When the cache is empty, nextval starts a refill and throws
 * NeedWait: the evaluating operator waits for it and evaluates the row again (exec/context.ts,
 * rule 5). Where nothing can wait (inside a synchronous drain) it fails with 40001; the refill it
 * started lets the retry succeed. A refill also starts in the background once half a block is used.
 */
import { KeyWriter, KeyspaceSystem, Txn } from '@strata/kv';
import type { KvSender } from '@strata/kv';
import { PgError, RetryableError, SqlState, logger } from '@strata/common';
import type { TableDesc } from './catalog/descriptors.js';
import { NeedWait, canWait } from './exec/context.js';
import type { ExecCtx } from './exec/context.js';
import { sequenceCacheValuesMax, sequenceCacheValuesMin, sequenceInitAttemptsMax, sequenceRefillFastMs, sequenceRefillSlowMs } from './constants.js';
import { sequenceBounds } from './sequence_options.js';

const int64Max = (1n << 63n) - 1n;

/** The key of a sequence's counter. */
export function seqKey(id: number): Buffer {
  return new KeyWriter(24).byte(KeyspaceSystem).string('seq').int(id).finish();
}

/** The counter's value before any nextval: start − increment (nextval then answers start). */
export function initialCounter(seq: TableDesc): bigint {
  return BigInt(seq.sequence?.start ?? 1) - BigInt(seq.sequence?.increment ?? 1);
}

/** Values next, next+inc, …, last (inclusive). */
interface Block {
  next: bigint;
  last: bigint;
}

interface SeqCache {
  readonly inc: bigint;
  readonly blocks: Block[];
  /** Values reserved per refill now (sequenceCacheValuesMin…Max). */
  blockValues: number;
  refilling: Promise<void> | null;
  lastRefillAtMs: number;
  /** The last value this node handed out (SELECT last_value FROM seq on this node). */
  lastHandedOut: bigint | null;
}

/** A setval not yet committed: its transaction's nextvals continue from it. */
interface PendingSet {
  readonly txn: Txn;
  value: bigint;
}

function limitReached(seq: TableDesc): PgError {
  const up = BigInt(seq.sequence?.increment ?? 1) > 0n;
  const b = sequenceBounds(seq.sequence);
  return new PgError(SqlState.SequenceGeneratorLimitExceeded, `nextval: reached ${up ? 'maximum' : 'minimum'} value of sequence "${seq.name}" (${up ? b.max : b.min})`);
}

/** A value nextval may hand out: within the sequence's MINVALUE..MAXVALUE (sequence_options.ts). */
function checkBounds(seq: TableDesc, v: bigint): bigint {
  const b = sequenceBounds(seq.sequence);
  if (v > b.max || v < b.min) throw limitReached(seq);
  return v;
}

export class SequenceManager {
  private readonly caches = new Map<number, SeqCache>();
  private readonly pendingSets = new Map<number, PendingSet>();
  /** Sequences whose counter is known to exist. */
  private readonly counted = new Set<number>();
  private readonly log = logger('sequences');

  constructor(private readonly sender: KvSender) {}

  next(seq: TableDesc, ctx: ExecCtx): bigint {
    const inc = BigInt(seq.sequence?.increment ?? 1);
    const pending = this.pendingSets.get(seq.id);
    if (pending) {
      if (pending.txn === ctx.txn) {
        const v = checkBounds(seq, pending.value + inc);
        pending.value = v;
        return v;
      }
      if (!pending.txn.isOpen()) this.pendingSets.delete(seq.id);
    }
    const c = this.cacheOf(seq);
    const b = c.blocks[0];
    if (b) {
      const v = b.next;
      if (v === b.last) c.blocks.shift();
      else b.next = v + c.inc;
      checkBounds(seq, v);
      c.lastHandedOut = v;
      if (!c.refilling && this.remaining(c) * 2n < BigInt(c.blockValues)) this.refill(seq, c);
      return v;
    }
    const p = this.refill(seq, c);
    if (ctx.suspendable && canWait(ctx)) throw new NeedWait(p);
    throw new PgError(SqlState.SerializationFailure, `restart transaction: sequence "${seq.name}" has no reserved values on this node yet`, { hint: 'Retry the statement: the values are being reserved.' });
  }

  set(seq: TableDesc, v: bigint, txn: Txn): bigint {
    const b = sequenceBounds(seq.sequence);
    if (v < b.min || v > b.max) throw new PgError(SqlState.NumericValueOutOfRange, `setval: value ${v} is out of bounds for sequence "${seq.name}" (${b.min}..${b.max})`);
    const id = seq.id;
    this.caches.delete(id);
    const pending = this.pendingSets.get(id);
    if (pending && pending.txn === txn) {
      pending.value = v;
      return v;
    }
    const mine: PendingSet = { txn, value: v };
    this.pendingSets.set(id, mine);
    txn.onBeforeCommit(() => {
      if (this.pendingSets.get(id) !== mine) return;
      txn.put(seqKey(id), Buffer.from(mine.value.toString(), 'latin1'));
      this.pendingSets.delete(id);
      this.caches.delete(id);
    });
    return v;
  }

  /** The last value: this node's last handed out, else the counter (a local read). */
  peek(seq: TableDesc): bigint {
    const mine = this.caches.get(seq.id)?.lastHandedOut;
    if (mine !== undefined && mine !== null) return mine;
    const raw = this.sender.get(seqKey(seq.id), int64Max, null);
    return raw ? BigInt(raw.toString('latin1')) : initialCounter(seq);
  }

  forget(id: number): void {
    this.caches.delete(id);
    this.pendingSets.delete(id);
    this.counted.delete(id);
  }

  private cacheOf(seq: TableDesc): SeqCache {
    let c = this.caches.get(seq.id);
    if (!c) {
      c = { inc: BigInt(seq.sequence?.increment ?? 1), blocks: [], blockValues: sequenceCacheValuesMin, refilling: null, lastRefillAtMs: 0, lastHandedOut: null };
      this.caches.set(seq.id, c);
    }
    return c;
  }

  private remaining(c: SeqCache): bigint {
    let n = 0n;
    for (const b of c.blocks) n += (b.last - b.next) / c.inc + 1n;
    return n;
  }

  /** Starts reserving a block (once at a time); the promise settles when it is in the cache. */
  private refill(seq: TableDesc, c: SeqCache): Promise<void> {
    if (c.refilling) return c.refilling;
    const now = Date.now();
    if (c.lastRefillAtMs > 0 && now - c.lastRefillAtMs < sequenceRefillFastMs) c.blockValues = Math.min(sequenceCacheValuesMax, c.blockValues * 2);
    else if (now - c.lastRefillAtMs > sequenceRefillSlowMs) c.blockValues = Math.max(sequenceCacheValuesMin, Math.floor(c.blockValues / 2));
    c.lastRefillAtMs = now;
    const p = this.reserve(seq, c.inc, c.blockValues)
      .then((b) => {
        // A setval or DROP meanwhile replaced the cache: this block is skipped (a gap).
        if (this.caches.get(seq.id) === c) c.blocks.push(b);
      })
      .finally(() => {
        c.refilling = null;
      });
    c.refilling = p;
    p.catch((e: unknown) => this.log.warn({ err: e, seq: seq.id }, 'reserving sequence values failed'));
    return p;
  }

  private async reserve(seq: TableDesc, inc: bigint, n: number): Promise<Block> {
    await this.ensureCounter(seq);
    for (let want = BigInt(n); ; want = 1n) {
      try {
        const hi = await this.sender.increment(seqKey(seq.id), inc * want);
        return { next: hi - inc * (want - 1n), last: hi };
      } catch (e) {
        if (!(e instanceof PgError && e.code === SqlState.NumericValueOutOfRange)) throw e;
        if (want === 1n) throw limitReached(seq);
      }
    }
  }

  /**
   * Sequences created by CREATE write their counter in the same transaction; one created before
   * counters were written there gets it now (an increment of a missing counter would start at 0).
   */
  private async ensureCounter(seq: TableDesc): Promise<void> {
    if (this.counted.has(seq.id)) return;
    const key = seqKey(seq.id);
    for (let attempt = 1; ; attempt++) {
      const t = await Txn.begin(this.sender);
      if (t.get(key) !== null) {
        t.rollback();
        break;
      }
      t.put(key, Buffer.from(initialCounter(seq).toString(), 'latin1'));
      try {
        await t.commit();
        break;
      } catch (e) {
        const retry = e instanceof RetryableError || (e instanceof PgError && e.code === SqlState.SerializationFailure);
        if (!retry || attempt >= sequenceInitAttemptsMax) throw e;
      }
    }
    this.counted.add(seq.id);
  }
}
