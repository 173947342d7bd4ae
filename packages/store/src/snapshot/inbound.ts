/**
 * A snapshot arriving from another store: receiveSnapshot stages its stream (snapshot/receive.ts)
 * and hands its MsgSnap to the replica (created uninitialized if needed); when Raft accepts it,
 * the Ready carrying it comes to installReadySnapshot, which installs it (snapshot/install.ts)
 * and then finishes the Ready like any other (RaftScheduler.finishReady).
 *
 * INVARIANT: at most one snapshot per replica is staged or being installed at a time.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RangeNotFoundError, logger } from '@strata/common';
import { decodeDescriptor } from '@strata/kv';
import type { Ready } from '@strata/raft';
import type { Replica } from '../replica/replica.js';
import type { Store } from '../store.js';
import type { SnapshotChunk, SnapshotHeader } from '../transport.js';
import { installSnapshot } from './install.js';
import { stageSnapshot, tsDirName } from './receive.js';

const log = logger('store');

/**
 * A snapshot stream from another store: staged, then its MsgSnap is handed to the replica (created
 * uninitialized if needed). Resolves once Raft has it; install happens when Raft accepts it.
 */
export async function receiveSnapshot(store: Store, h: SnapshotHeader, chunks: AsyncIterable<SnapshotChunk>): Promise<void> {
  if (store.isClosed) throw new RangeNotFoundError(h.rangeId, store.nodeId);
  store.clock.update(h.now);
  let r = store.replicas.get(h.rangeId) ?? null;
  if (r && r.replicaId !== h.toReplicaId) {
    if (h.toReplicaId < r.replicaId) throw new RangeNotFoundError(h.rangeId, store.nodeId);
    store.destroyReplica(r, 'superseded by a newer replica of the range');
    r = null;
  }
  if (!r) r = store.createUninitialized(h.rangeId, h.toReplicaId);
  if (!r) throw new RangeNotFoundError(h.rangeId, store.nodeId);
  if (r.isInitialized && r.appliedIndex >= h.index) {
    // This replica already has what the snapshot holds (an earlier snapshot, or appends, got
    // here but the leader did not hear of it: a lost response). Refusing would have the leader
    // send the same snapshot forever; accepting it without change lets the leader probe from
    // after the snapshot's index (Raft's ReportSnapshot), and the appends that follow settle
    // where this replica is.
    for await (const _ of chunks) {
      // drained unread: nothing of it is needed
    }
    log.info({ rangeId: h.rangeId, index: h.index, applied: r.appliedIndex }, 'snapshot not newer than the applied index; accepted without installing');
    return;
  }
  if (r.installing || r.staged) throw new Error(`range ${h.rangeId}: a snapshot is already being received`);
  const dir = join(store.snapshotDir, `in-r${h.rangeId}-${h.index}`);
  const staged = { rangeId: h.rangeId, index: h.index, term: h.term, desc: decodeDescriptor(h.descriptor), dir, kvPairs: 0 };
  r.staged = staged;
  try {
    staged.kvPairs = await stageSnapshot(dir, chunks);
  } catch (e) {
    r.staged = null;
    rmSync(dir, { recursive: true, force: true });
    store.stats.snapshotsFailed++;
    throw e;
  }
  if (store.replicas.get(h.rangeId) !== r || r.removed) {
    rmSync(dir, { recursive: true, force: true });
    throw new RangeNotFoundError(h.rangeId, store.nodeId);
  }
  store.stats.snapshotsReceived++;
  r.step(h.message);
  // Raft ignores a snapshot it does not need (its log already covers the index): then nothing
  // will install the staged one.
  if (r.raw.raft.raftLog.unstable.snapshot?.metadata.index !== h.index) {
    r.staged = null;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Installs the snapshot a Ready carries (Raft accepted the staged one), then handles the rest of the Ready. */
export function installReadySnapshot(store: Store, r: Replica, rd: Ready): void {
  const staged = r.staged;
  const meta = rd.snapshot?.metadata;
  if (!staged || !meta || staged.index !== meta.index || staged.term !== meta.term) {
    r.fail(new Error(`Raft restored a snapshot at ${meta?.index} that was not staged here`));
    return;
  }
  r.installing = true;
  const tsStaged = join(staged.dir, tsDirName);
  const carriesTs = existsSync(tsStaged) && readdirSync(tsStaged).length > 0;
  void installSnapshot(store, r, rd, staged)
    .then(() => {
      store.stats.snapshotsApplied++;
      store.onSnapshotApplied(r.rangeId);
      store.stats.snapshotsAppliedKv++;
      if (carriesTs) store.stats.snapshotsAppliedTs++;
      store.raft.finishReady(r, rd);
    })
    .catch((e: unknown) => {
      store.stats.snapshotsFailed++;
      r.raw.abandonReady();
      r.fail(e);
    })
    .finally(() => {
      r.installing = false;
      store.schedule(r);
    });
}
