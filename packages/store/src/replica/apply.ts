/**
 * Applying committed entries to a replica's state machine. A pure function of the entries and the
 * state before them: no clock, no local disk conditions, no worker timing decides what an entry
 * does (what the leaseholder decided at evaluation is in the entry). Relational writes of a run of
 * entries go to the engine in one transaction together with the applied index; a TS command is
 * applied between such transactions, so the engine's applied index never passes a TS command that
 * has not been applied.
 *
 * An exception here is a local fault (EIO, ENOSPC…): the caller stops the replica with the applied
 * index before the failing entry.
 */
import { createHash } from 'node:crypto';
import { assert } from '@strata/common';
import { decodeWriteBatch, mvccWrites } from '@strata/kv';
import type { EngineWrite, WriteBatch } from '@strata/kv';
import { EntryType, decodeConfChange } from '@strata/raft';
import type { Entry } from '@strata/raft';
import type { TsEngine } from '@strata/ts';
import { decodeGc, decodeTxnWrite, txnWriteEffects } from '../batcheval/index.js';
import { replicatedSpan } from '../keys.js';
import { confStateOf, decodeDescriptor, encodeDescriptor, replicaById, userSpanOf } from '@strata/kv';
import { decodeLease, encodeLease } from './lease.js';
import { CommandKind, decodeCommand } from './proposal.js';
import type { Command } from './proposal.js';
import type { Replica } from './replica.js';
import { metaRecordKey, metaRecordWrite, newerThanRecord } from '../meta_records.js';
import { metaRangeId } from '../system_ranges.js';
import {
  appliedKey,
  descKey,
  encodeIndexTerm,
  encodeLeaseHistory,
  encodeU64,
  gcThresholdKey,
  leaseHistoryKey,
  leaseKey,
} from './state.js';
import {
  decodeTsDrop,
  decodeTsSplit,
  encodeRangeId,
  encodeTsMapValue,
  nextRangeIdKey,
  splitRangeStateWrites,
  tsDroppedKey,
  tsMapKey,
} from '../ts_ranges.js';

/** Digests kept per replica (the newest checksum commands). */
const checksumsKept = 16;

/**
 * Applies r.pendingApply in order, removing what it applied. Returns a promise if an entry must
 * wait (a rewrite's commit on a replica whose rewrite job is still running): the rest stays queued.
 */
export function applyEntries(r: Replica, queue: Entry[]): Promise<void> | null {
  const host = r.host;
  const writes: EngineWrite[] = [];
  const batches: WriteBatch[] = [];
  const done: { resolve: () => void }[] = [];
  const ended: string[] = [];
  const afterWrite: (() => void)[] = [];
  let last: Entry | null = null;

  const flush = () => {
    if (last === null) return;
    writes.push({ key: appliedKey(r.rangeId), value: encodeIndexTerm({ index: last.index, term: last.term }) });
    host.engine.write(writes);
    writes.length = 0;
    r.setApplied(last.index, last.term);
    r.failOverwritten(last.index);
    for (const b of batches.splice(0)) host.onApplyBatch(r, b);
    for (const t of ended.splice(0)) r.txnWaits.finished(t);
    for (const f of afterWrite.splice(0)) f();
    for (const p of done.splice(0)) p.resolve();
  };

  try {
    while (queue.length > 0) {
      const e = queue[0] as Entry;
      assert(e.index === r.appliedIndex + 1 || (last !== null && e.index === last.index + 1), () => `range ${r.rangeId}: applying entry ${e.index} after ${last?.index ?? r.appliedIndex}`);
      let cmd: Command | null = null;
      let ccData: Uint8Array | null = null;
      if (e.type === EntryType.ConfChange) {
        const cc = decodeConfChange(e.data);
        assert(cc.context !== undefined, 'a conf change without a descriptor');
        cmd = decodeCommand(cc.context, false);
        ccData = e.data;
      } else if (e.data.length > 0) {
        cmd = decodeCommand(e.data, e.index < r.envelopeFrom);
      }
      const p = cmd && cmd.id ? r.takeProposal(cmd.id, e) : undefined;
      if (cmd && !leaseMatches(r, cmd)) {
        // Evaluated under another lease: it must not apply (proposal.ts). Certainly not applied.
        p?.reject(r.notLeaseholder());
      } else if (cmd) {
        const wait = applyCommand(r, e, cmd, ccData, { writes, batches, ended, afterWrite, flush });
        if (wait) {
          // Everything before this entry is applied; this one applies when the wait ends.
          return wait.then(() => {
            queue.shift();
            last = e;
            flush();
            if (p) p.resolve();
            return applyEntries(r, queue) ?? undefined;
          });
        }
        if (p) done.push(p);
      }
      queue.shift();
      last = e;
    }
    flush();
    return null;
  } catch (err) {
    // The entries before the failing one are applied; the failing one is not.
    if (last !== null) flush();
    throw err;
  }
}

function leaseMatches(r: Replica, cmd: Command): boolean {
  if (cmd.kind === CommandKind.Lease) return true; // checked against the sequence it replaces
  if (cmd.id === '') return true; // legacy entries predate leases
  return cmd.leaseSeq === r.lease.seq;
}

interface ApplyBatch {
  writes: EngineWrite[];
  batches: WriteBatch[];
  /** Transactions whose end applied in this run (their waiters wake once it is written). */
  ended: string[];
  /** What must happen once the run's writes are in the engine (a split's new replicas start). */
  afterWrite: (() => void)[];
  /** Writes everything applied so far (a TS command applies on its own, after it). */
  flush: () => void;
}

function applyCommand(r: Replica, e: Entry, cmd: Command, ccData: Uint8Array | null, b: ApplyBatch): Promise<void> | null {
  const host = r.host;
  const ts = host.ts;
  const body = Buffer.from(cmd.body);
  switch (cmd.kind) {
    case CommandKind.WriteBatch: {
      const wb = decodeWriteBatch(body);
      for (const w of mvccWrites(wb.ts, wb.writes)) b.writes.push(w);
      b.batches.push(wb);
      return null;
    }
    case CommandKind.TxnWrite: {
      // Its effects read the engine (provisional values, earlier intents): apply what precedes first.
      b.flush();
      const t = decodeTxnWrite(body);
      const fx = txnWriteEffects(host.engine, r.rangeId, t);
      for (const w of fx.writes) b.writes.push(w);
      if (fx.committed) b.batches.push(fx.committed);
      if (t.record.op === 'delete') b.ended.push(t.txnId);
      return null;
    }
    case CommandKind.Gc: {
      const gc = decodeGc(body);
      for (const k of gc.deletes) b.writes.push({ key: k, value: null });
      if (gc.threshold > r.gcThreshold) {
        r.gcThreshold = gc.threshold;
        b.writes.push({ key: gcThresholdKey(r.rangeId), value: encodeU64(gc.threshold) });
      }
      return null;
    }
    case CommandKind.Lease: {
      const l = decodeLease(body);
      if (cmd.leaseSeq !== r.lease.seq || l.seq !== r.lease.seq + 1) return null; // lost the race for this sequence
      b.writes.push({ key: leaseKey(r.rangeId), value: encodeLease(l) });
      r.leaseHistory.push([e.index, l.seq]);
      pruneLeaseHistory(r);
      b.writes.push({ key: leaseHistoryKey(r.rangeId), value: encodeLeaseHistory(r.leaseHistory) });
      b.flush();
      r.leaseApplied(l, r.lease);
      return null;
    }
    case CommandKind.ChangeReplicas: {
      assert(ccData !== null, 'a replica change outside a conf change entry');
      const next = decodeDescriptor(body);
      const cur = r.desc;
      assert(cur !== null, 'a conf change on an uninitialized replica');
      if (next.generation !== cur.generation + 1) return null; // evaluated against an older descriptor
      r.raw.applyConfChange(decodeConfChange(ccData));
      r.storage.confState = confStateOf(next);
      r.desc = next;
      b.writes.push({ key: descKey(r.rangeId), value: encodeDescriptor(next) });
      if (r.rangeId === metaRangeId) b.writes.push(metaRecordWrite(next)); // the meta range's own record
      if (!replicaById(next, r.replicaId)) r.removed = true;
      return null;
    }
    case CommandKind.SplitTs: {
      // The first range ends where the TS keyspace starts, records the table's map, and each
      // store creates its replicas of the new ranges (those it has no replica of yet: one
      // created by an early message from the new range's leader gets a snapshot instead).
      const s = decodeTsSplit(body);
      const cur = r.desc;
      assert(cur !== null, 'a split on an uninitialized replica');
      if (s.lhs.generation !== cur.generation + 1) return null; // evaluated against an older descriptor
      r.desc = s.lhs;
      b.writes.push({ key: descKey(r.rangeId), value: encodeDescriptor(s.lhs) });
      b.writes.push({ key: nextRangeIdKey, value: encodeRangeId(s.nextRangeId) });
      for (const x of s.entries)
        b.writes.push({ key: tsMapKey(s.tableId, x.hashStart), value: encodeTsMapValue(x) });
      for (const d of [s.lhs, ...s.rhs]) b.writes.push(metaRecordWrite(d));
      const created = s.rhs.filter((d) => host.mayCreateSplitReplica(d));
      for (const d of created) for (const w of splitRangeStateWrites(d)) b.writes.push(w);
      b.afterWrite.push(() => host.onSplit(r, created));
      return null;
    }
    case CommandKind.DropTsRanges: {
      // The table's map goes and its ranges are marked dropped; each store then destroys its
      // replicas of them (after the batch is written: a crash before that finds the marks at
      // the next start).
      const d = decodeTsDrop(body);
      for (const x of d.entries) {
        b.writes.push({ key: tsMapKey(d.tableId, x.hashStart), value: null });
        b.writes.push({ key: tsDroppedKey(x.rangeId), value: Buffer.alloc(0) });
        b.writes.push({ key: metaRecordKey(x.rangeId), value: null });
      }
      b.afterWrite.push(() => host.onTsRangesDropped(d.entries.map((x) => x.rangeId)));
      return null;
    }
    case CommandKind.MetaUpdate: {
      // Newer than the record, and not a range of a dropped table (an update in flight when it
      // was dropped): checked here, at apply, in log order.
      b.flush();
      const d = decodeDescriptor(body);
      if (newerThanRecord(host.engine, d) && !host.engine.get(tsDroppedKey(d.rangeId))) b.writes.push(metaRecordWrite(d));
      return null;
    }
    case CommandKind.ComputeChecksum: {
      b.flush();
      r.checksums.set(e.index, replicaChecksum(r));
      for (const k of r.checksums.keys()) if (r.checksums.size > checksumsKept) r.checksums.delete(k);
      host.onReplicaEvent(r, 'checksum');
      return null;
    }
    default:
      b.flush();
      return applyTsCommand(ts, r.rangeId, e.index, cmd.kind, body);
  }
}

/** Applies a TS command to the range's entity groups; a promise if it must wait (a rewrite commit). */
export function applyTsCommand(ts: TsEngine, rangeId: number, index: number, kind: CommandKind, body: Buffer): Promise<void> | null {
  switch (kind) {
    case CommandKind.TsWrite:
      ts.apply(rangeId, index, body);
      return null;
    case CommandKind.TsDelete:
      ts.delete(rangeId, index, body);
      return null;
    case CommandKind.TsTagUpdate:
      ts.updateTags(rangeId, index, body);
      return null;
    case CommandKind.TsAlter:
      ts.alter(rangeId, index, body);
      return null;
    case CommandKind.TsDrop:
      ts.dropTable(rangeId, body.readUInt32BE(0));
      return null;
    case CommandKind.TsRetain:
      ts.retain(rangeId, index, body.readUInt32BE(0), body.readDoubleBE(4));
      return null;
    case CommandKind.TsReorganize:
      ts.reorganize(rangeId, index, body);
      return null;
    case CommandKind.TsReorganizeCommit:
      return ts.commitReorganize(rangeId, index, body);
    default:
      throw new Error(`command kind ${kind} is not a time-series command`);
  }
}

/** Whether a command kind is applied by the TS engine. */
export function isTsCommand(kind: CommandKind): boolean {
  return kind >= CommandKind.TsWrite && kind <= CommandKind.TsReorganizeCommit;
}

/** Keeps the lease changes after the log's truncated index, and the last one at or before it. */
function pruneLeaseHistory(r: Replica): void {
  const h = r.leaseHistory;
  const t = r.storage.truncated.index;
  let firstNeeded = 0;
  for (let i = 0; i < h.length; i++) if ((h[i] as [number, number])[0] <= t) firstNeeded = i;
  if (firstNeeded > 0) h.splice(0, firstNeeded);
}

/**
 * A digest of the replica's state: every engine key/value of its user span (all MVCC versions),
 * its replicated range-local keys except the applied state, and its TS groups' logical content.
 * Equal on replicas at equal applied index.
 */
export function replicaChecksum(r: Replica): string {
  const h = createHash('sha256');
  const desc = r.desc;
  assert(desc !== null, 'checksum of an uninitialized replica');
  const [start, end] = userSpanOf(desc);
  const len = Buffer.allocUnsafe(4);
  const add = (k: Buffer, v: Buffer) => {
    len.writeUInt32BE(k.length, 0);
    h.update(len);
    h.update(k);
    len.writeUInt32BE(v.length, 0);
    h.update(len);
    h.update(v);
  };
  for (const { key, value } of r.host.engine.scan(start, end)) add(key, value);
  const [rs, re] = replicatedSpan(r.rangeId);
  const applied = appliedKey(r.rangeId);
  for (const { key, value } of r.host.engine.scan(rs, re)) if (!key.equals(applied)) add(key, value);
  // Separately digested, so a mismatch says which engine diverged.
  return `${h.digest('hex').slice(0, 16)}/${r.host.ts.checksum(r.rangeId).slice(0, 16)}`;
}

