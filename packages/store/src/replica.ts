import { randomBytes } from 'node:crypto';
import { AmbiguousResultError, PgError, SqlState, assert } from '@strata/common';
import type { Timestamp } from '@strata/common';
import { decodeWriteBatch, encodeWriteBatch, localKey, mvccGcWrites, mvccWrites } from '@strata/kv';
import type { Engine, EngineWrite, WriteBatch } from '@strata/kv';
import { EntryType, MemoryStorage, RawNode, mulberry32 } from '@strata/raft';
import type { Entry, HardState, Ready } from '@strata/raft';
import { gcKeysPerApplyMax, proposalQueueMax } from './constants.js';
import type { RangeDescriptor } from './range.js';

const proposalIdBytes = 16;
/** Command kinds (the byte after the proposal id). */
const CmdWriteBatch = 1;

/** Time-series command kinds; payloads are described at each TsApplier method. */
export const TsCommand = { Write: 2, Drop: 3, Retain: 4, Delete: 5, TagUpdate: 6, Reorganize: 7, Alter: 8 } as const;
export type TsCommand = (typeof TsCommand)[keyof typeof TsCommand];

/** What a replica hands the store's time-series engine when TS commands apply. */
export interface TsApplier {
  write(index: number, payload: Buffer): void;
  drop(index: number, tableId: number): void;
  /** Retention: drop the table's partitions that end at or before `beforeUs`. */
  retain(index: number, tableId: number, beforeUs: number): void;
  /** A TS DELETE (command.ts encodeTsDelete payload). */
  del(index: number, payload: Buffer): void;
  /** An UPDATE of non-primary tags (command.ts encodeTsTagUpdate payload). */
  updateTags(index: number, payload: Buffer): void;
  /** Reorganization of inactive partitions (TsEngine.reorganize payload). */
  reorganize(index: number, payload: Buffer): void;
  /** A schema change (command.ts encodeTsAlter payload). */
  alter(index: number, payload: Buffer): void;
}

/** Applies a TS command of the given kind; false if `kind` is not a TS command. */
function applyTs(ts: TsApplier, kind: number | undefined, index: number, body: Buffer): boolean {
  switch (kind) {
    case TsCommand.Write:
      ts.write(index, body);
      return true;
    case TsCommand.Drop:
      ts.drop(index, body.readUInt32BE(0));
      return true;
    case TsCommand.Retain:
      ts.retain(index, body.readUInt32BE(0), body.readDoubleBE(4));
      return true;
    case TsCommand.Delete:
      ts.del(index, body);
      return true;
    case TsCommand.TagUpdate:
      ts.updateTags(index, body);
      return true;
    case TsCommand.Reorganize:
      ts.reorganize(index, body);
      return true;
    case TsCommand.Alter:
      ts.alter(index, body);
      return true;
    default:
      return false;
  }
}

interface Pending {
  id: string;
  data: Buffer;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Re-applies a log entry's TS command, if it holds one (store start: replay after the TS engine's flushed index). */
export function replayTsEntry(e: Entry, ts: TsApplier): boolean {
  if (e.type !== EntryType.Normal || e.data.length <= proposalIdBytes) return false;
  return applyTs(ts, e.data[proposalIdBytes], e.index, Buffer.from(e.data.subarray(proposalIdBytes + 1)));
}

export function appliedStateKey(rangeId: number): Buffer {
  return localKey('applied', rangeId);
}

export function descriptorKey(rangeId: number): Buffer {
  return localKey('desc', rangeId);
}

export function encodeAppliedState(index: number, term: number): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeDoubleBE(index, 0);
  b.writeDoubleBE(term, 8);
  return b;
}

export function decodeAppliedState(b: Buffer | undefined): { index: number; term: number } | null {
  if (!b) return null;
  return { index: b.readDoubleBE(0), term: b.readDoubleBE(8) };
}

/**
 * A Replica is one member of one range's Raft group on this store.
 * Writes: propose(command) → the command joins the next Raft round (batched with every proposal
 * of the same event-loop turn) → the store appends the round's entries to the log and fsyncs →
 * committed entries are applied to the engine together with the applied index, in one engine
 * transaction → the proposal resolves.
 *
 * INVARIANT: the SQL layer never writes the engine; only apply() does.
 * INVARIANT: the engine's applied index for this range moves forward by exactly the entries
 *   applied, in the same engine transaction as their writes (so replay after a crash is exact).
 */
export class Replica {
  readonly raw: RawNode;
  readonly storage: MemoryStorage;
  private queue: Pending[] = [];
  private readonly waiting = new Map<string, Pending>();
  appliedIndex: number;
  appliedTerm: number;
  /** Applied index known durable in the engine (log segments up to it may be deleted). */
  durableAppliedIndex: number;
  /** Keys written by commits proposed but not yet applied, with their commit timestamps. */
  readonly inflightWrites = new Map<string, Timestamp>();
  /** Commit timestamps of proposals not yet applied → promise of their application. */
  readonly inflightCommits = new Map<Promise<void>, Timestamp>();
  lastHardState: HardState;

  constructor(
    readonly desc: RangeDescriptor,
    readonly nodeId: number,
    private readonly engine: Engine,
    applied: { index: number; term: number },
    hardState: HardState,
    entries: Entry[],
    private readonly onApplyBatch: (b: WriteBatch) => void,
    /** Versions below this timestamp that are shadowed by a newer one may be deleted on apply. */
    private readonly gcThreshold: () => bigint = () => 0n,
    private readonly ts: TsApplier | null = null,
  ) {
    this.storage = new MemoryStorage();
    this.storage.applySnapshot({
      metadata: { index: applied.index, term: applied.term, confState: { voters: desc.replicas, learners: [] } },
      data: Buffer.alloc(0),
    });
    const tail = entries.filter((e) => e.index > applied.index);
    if (tail.length > 0) this.storage.append(tail);
    const commit = Math.min(Math.max(hardState.commit, applied.index), this.storage.lastIndex());
    this.lastHardState = { ...hardState, commit };
    this.storage.setHardState(this.lastHardState);
    this.appliedIndex = applied.index;
    this.appliedTerm = applied.term;
    this.durableAppliedIndex = applied.index;
    this.raw = new RawNode({
      id: nodeId,
      storage: this.storage,
      applied: applied.index,
      random: mulberry32(desc.rangeId * 31 + nodeId),
      checkQuorum: true,
      preVote: true,
    });
    // A single voter elects itself at once; groups with peers elect through ticks.
    if (desc.replicas.length === 1 && desc.replicas[0] === nodeId) this.raw.campaign();
  }

  get rangeId(): number {
    return this.desc.rangeId;
  }

  isLeaseholder(): boolean {
    return this.raw.status().softState.raftState === 'Leader';
  }

  /** Queues a write batch; resolves once it is applied (durable in the log, visible in the engine). */
  proposeWriteBatch(b: WriteBatch): Promise<void> {
    return this.propose(CmdWriteBatch, encodeWriteBatch(b));
  }

  /** Queues a time-series command; resolves once applied to the TS engine. */
  proposeTs(kind: TsCommand, body: Buffer): Promise<void> {
    return this.propose(kind, body);
  }

  private propose(kind: number, body: Buffer): Promise<void> {
    if (this.queue.length >= proposalQueueMax) {
      return Promise.reject(new PgError(SqlState.InsufficientResources, `range ${this.rangeId}: too many pending writes (${proposalQueueMax}); retry later`));
    }
    const idBytes = randomBytes(proposalIdBytes);
    const data = Buffer.allocUnsafe(proposalIdBytes + 1 + body.length);
    idBytes.copy(data, 0);
    data[proposalIdBytes] = kind;
    body.copy(data, proposalIdBytes + 1);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ id: idBytes.toString('latin1'), data, resolve, reject });
    });
  }

  hasQueuedProposals(): boolean {
    return this.queue.length > 0;
  }

  /** Hands every queued proposal to Raft as one batch (one entry each, one MsgApp). */
  flushProposals(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    try {
      this.raw.proposeBatch(batch.map((p) => p.data));
      for (const p of batch) this.waiting.set(p.id, p);
    } catch (e) {
      for (const p of batch) p.reject(new PgError(SqlState.SerializationFailure, `restart transaction: range ${this.rangeId} cannot accept writes now (${(e as Error).message})`));
    }
  }

  /** Persisted Ready: update the in-memory log, apply committed entries, advance. */
  applyReady(rd: Ready): void {
    if (rd.entries.length > 0) this.storage.append(rd.entries);
    if (rd.hardState) {
      this.storage.setHardState(rd.hardState);
      this.lastHardState = rd.hardState;
    }
    if (rd.committedEntries.length > 0) this.apply(rd.committedEntries);
    this.raw.advance(rd);
    // Entries up to the applied index live in the engine; drop them from memory.
    const first = this.storage.firstIndex();
    if (this.appliedIndex - first > 1024) {
      this.storage.createSnapshot(this.appliedIndex, { voters: this.desc.replicas, learners: [] }, Buffer.alloc(0));
      this.storage.compact(this.appliedIndex);
    }
  }

  /** A round's log write failed: every proposal in it may or may not have been persisted. */
  failRound(e: unknown): void {
    const err = new AmbiguousResultError(`the raft log write failed: ${(e as Error).message}`);
    for (const p of this.waiting.values()) p.reject(err);
    this.waiting.clear();
  }

  private apply(entries: Entry[]): void {
    const writes: EngineWrite[] = [];
    const done: Pending[] = [];
    const batches: WriteBatch[] = [];
    let last: Entry | undefined;
    for (const e of entries) {
      last = e;
      if (e.type !== EntryType.Normal || e.data.length === 0) continue; // no-ops, conf changes (none yet)
      assert(e.data.length > proposalIdBytes, 'short raft command');
      const id = Buffer.from(e.data.subarray(0, proposalIdBytes)).toString('latin1');
      const kind = e.data[proposalIdBytes];
      const body = e.data.subarray(proposalIdBytes + 1);
      const p = this.waiting.get(id);
      if (p) this.waiting.delete(id);
      if (kind === CmdWriteBatch) {
        const b = decodeWriteBatch(body);
        batches.push(b);
        for (const w of mvccWrites(b.ts, b.writes)) writes.push(w);
        if (p) done.push(p);
        continue;
      }
      assert(this.ts !== null, 'a time-series command on a store without a time-series engine');
      // A TS command that cannot be applied (its bytes are checked before proposing, so this is a
      // local fault such as a full disk) fails its proposal; the error is logged by the caller.
      try {
        assert(applyTs(this.ts, kind, e.index, Buffer.from(body)), `unknown raft command kind ${kind}`);
        if (p) done.push(p);
      } catch (err) {
        if (p) p.reject(err);
      }
    }
    assert(last !== undefined, 'apply of no entries');
    // MVCC GC of the keys just written: old versions nobody can read any more. Bounded per apply
    // so a huge batch does not turn into a huge scan.
    const threshold = this.gcThreshold();
    let gcKeys = 0;
    for (const b of batches) {
      for (const w of b.writes) {
        if (++gcKeys > gcKeysPerApplyMax) break;
        for (const g of mvccGcWrites(this.engine, w.key, threshold)) writes.push(g);
      }
    }
    writes.push({ key: appliedStateKey(this.rangeId), value: encodeAppliedState(last.index, last.term) });
    this.engine.write(writes);
    this.appliedIndex = last.index;
    this.appliedTerm = last.term;
    for (const b of batches) this.onApplyBatch(b);
    for (const p of done) p.resolve();
  }
}
