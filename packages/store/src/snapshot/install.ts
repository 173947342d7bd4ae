/**
 * Installing a received snapshot when Raft hands it back in a Ready (the follower accepted it).
 * The switch is atomic with respect to crashes:
 *
 *   1. the replica's applied state is deleted first: from here a restart sees no applied state
 *      and clears whatever the range left (the replica then waits for a new snapshot);
 *   2. the range's old data (replicated keys, user span, TS groups) is cleared and the staged KV
 *      pairs are written, in bounded engine transactions (the event loop keeps turning);
 *   3. the staged TS groups are synced and renamed into place;
 *   4. one engine transaction writes the applied state, truncated state and descriptor, and the
 *      engine is flushed — the new replica exists only from this point;
 *   5. the log records the reset at the snapshot's (index, term) with the Ready's entries and
 *      hard state, in one fsync.
 *
 * A crash before 4 leaves no applied state (a new snapshot is needed, never a mix); after 4 the
 * snapshot is in place and Raft's log restarts after it.
 */
import { closeSync, fsyncSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { assert } from '@strata/common';
import type { Ready } from '@strata/raft';
import { snapshotChunkBytes } from '../constants.js';
import { confStateOf, encodeDescriptor, userSpanOf } from '@strata/kv';
import type { RangeDescriptor } from '@strata/kv';
import type { Replica } from '../replica/replica.js';
import { appliedKey, descKey, encodeIndexTerm, encodeLeaseHistory, leaseHistoryKey, leaseKey, loadReplicaState, tombstoneKey, truncatedKey } from '../replica/state.js';
import { decodeLease } from '../replica/lease.js';
import { replicatedSpan, unreplicatedSpan } from '../keys.js';
import type { Store } from '../store.js';
import { readStagedKv, tsDirName } from './receive.js';
import type { StagedSnapshot } from './receive.js';

/** Keys deleted per engine transaction while clearing a range. */
const clearKeysPerWrite = 10_000;

function fsyncTree(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) fsyncTree(p);
    else {
      const fd = openSync(p, 'r');
      fsyncSync(fd);
      closeSync(fd);
    }
  }
}

export async function installSnapshot(store: Store, r: Replica, rd: Ready, staged: StagedSnapshot): Promise<void> {
  const snap = rd.snapshot;
  assert(snap !== null && snap.metadata.index === staged.index && snap.metadata.term === staged.term, 'the Ready does not carry the staged snapshot');
  const engine = store.engine;
  const yieldTurn = () => new Promise<void>((res) => store.timers.setImmediate(res));
  // 1. From here a restart finds no applied state and clears the range.
  engine.write([{ key: appliedKey(r.rangeId), value: null }]);
  // 2. Clear the old data, write the staged pairs (held back: the applied state, written last).
  const spans: [Buffer, Buffer][] = [replicatedSpan(r.rangeId), unreplicatedSpan(r.rangeId), userSpanOf(staged.desc)];
  if (r.desc) spans.push(userSpanOf(r.desc));
  const tomb = tombstoneKey(r.rangeId);
  for (const [start, end] of spans) {
    for (;;) {
      const batch: { key: Buffer; value: null }[] = [];
      for (const { key } of engine.scan(start, end, false, clearKeysPerWrite)) if (!key.equals(tomb)) batch.push({ key: Buffer.from(key), value: null });
      if (batch.length === 0) break;
      engine.write(batch);
      if (batch.length < clearKeysPerWrite) break;
      await yieldTurn();
    }
  }
  const applied = appliedKey(r.rangeId);
  for (const batch of readStagedKv(staged.dir, snapshotChunkBytes)) {
    engine.write(batch.filter((kv) => !kv.key.equals(applied)));
    await yieldTurn();
  }
  // 3. TS groups.
  const tsStaged = join(staged.dir, tsDirName);
  fsyncTree(tsStaged);
  store.ts.installGroups(r.rangeId, tsStaged);
  // 4. The new replica's state, then durable.
  const at = { index: staged.index, term: staged.term };
  const lease = decodeLease(engine.get(leaseKey(r.rangeId)));
  engine.write([
    { key: descKey(r.rangeId), value: encodeDescriptor(staged.desc) },
    { key: truncatedKey(r.rangeId), value: encodeIndexTerm(at) },
    { key: leaseHistoryKey(r.rangeId), value: encodeLeaseHistory([[at.index, lease.seq]]) },
    { key: applied, value: encodeIndexTerm(at) },
  ]);
  await engine.flushed();
  rmSync(staged.dir, { recursive: true, force: true });
  // 5. The log restarts after the snapshot.
  await store.log.append([
    { kind: 'reset', rangeId: r.rangeId, index: at.index, term: at.term },
    ...(rd.entries.length > 0 ? [{ kind: 'entries' as const, rangeId: r.rangeId, entries: rd.entries }] : []),
    ...(rd.hardState ? [{ kind: 'hardState' as const, rangeId: r.rangeId, hardState: rd.hardState }] : []),
  ]);
  const state = loadReplicaState(engine, r.rangeId);
  assert(state !== null, 'the installed snapshot left no replica state');
  r.snapshotInstalled(state, confStateOf(staged.desc));
}

export type { RangeDescriptor };
