/**
 * Multi-version values on top of the engine. A version is stored at `key ++ ~ts` (8 bytes, big
 * endian, inverted) so that the versions of one key are adjacent and newest first.
 * A value is a tag byte (1 = live, 0 = deletion tombstone) followed by the payload.
 *
 * Write intents. A transaction too large to buffer its writes until commit writes them ahead as
 * intents: per key, a provisional version at the transaction's write timestamp W, and an intent
 * at `key ++ 00000000` (the timestamp slot of the largest timestamp, which no version uses: it
 * sorts before every version of the key) naming the transaction and W. Readers of the writing
 * transaction see the provisional value; everyone else reads through it to the newest committed
 * version, as if it were absent: it is not committed, and its commit will be at a timestamp above
 * every read served before it (the leaseholder commits at its clock, pushed above the timestamp
 * cache, see batcheval/cmd_end_txn.ts). Writers of the key wait for the transaction instead
 * (store concurrency/txn_wait_queue.ts). Committing moves the provisional version to the commit
 * timestamp and removes the intent; aborting removes both. Refresh and uncertainty checks ignore
 * provisional versions; GC leaves keys with an intent alone.
 *
 * INVARIANT: stored user keys are prefix-free (see keys.ts), so `key ++ suffix` never interleaves
 * with another user key's versions.
 * INVARIANT: a key has at most one intent, and a provisional version exists at the intent's W.
 */
import { assert } from '@strata/common';
import type { Timestamp } from '@strata/common';
import type { Engine, EngineWrite } from './engine.js';

const tsBytes = 8;
const maxU64 = (1n << 64n) - 1n;

export function mvccKey(key: Uint8Array, ts: Timestamp): Buffer {
  const b = Buffer.allocUnsafe(key.length + tsBytes);
  b.set(key, 0);
  b.writeBigUInt64BE(maxU64 - ts, key.length);
  return b;
}

export function splitMvccKey(k: Buffer): { key: Buffer; ts: Timestamp } {
  const n = k.length - tsBytes;
  return { key: k.subarray(0, n), ts: maxU64 - k.readBigUInt64BE(n) };
}

export function encodeMvccValue(value: Uint8Array | null): Buffer {
  if (value === null) return Buffer.from([0]);
  const b = Buffer.allocUnsafe(value.length + 1);
  b[0] = 1;
  b.set(value, 1);
  return b;
}

/** Versions of `key` occupy [key, key ++ 0xff…) — the smallest key after every version. */
function versionsEnd(key: Uint8Array): Buffer {
  const b = Buffer.alloc(key.length + tsBytes + 1, 0xff);
  b.set(key, 0);
  return b;
}

export interface MvccRead {
  value: Buffer | null;
  ts: Timestamp;
}

// ---- intents -------------------------------------------------------------------------------

/** A key's intent: the transaction that wrote it provisionally, and at which timestamp. */
export interface Intent {
  txnId: string;
  writeTs: Timestamp;
}

const intentTag = 2;

/** Where a key's intent is stored: the timestamp slot no version uses, first among the key's versions. */
export function intentKey(key: Uint8Array): Buffer {
  return mvccKey(key, maxU64);
}

/** u8 tag (2) | u64 writeTs | transaction id (UTF-8) */
export function encodeIntent(i: Intent): Buffer {
  const id = Buffer.from(i.txnId, 'utf8');
  const b = Buffer.allocUnsafe(9 + id.length);
  b[0] = intentTag;
  b.writeBigUInt64BE(i.writeTs, 1);
  id.copy(b, 9);
  return b;
}

export function decodeIntent(b: Buffer): Intent {
  return { writeTs: b.readBigUInt64BE(1), txnId: b.subarray(9).toString('utf8') };
}

/** The intent on a key, if any. */
export function mvccIntent(engine: Engine, key: Uint8Array): Intent | null {
  const v = engine.get(intentKey(key));
  return v ? decodeIntent(v) : null;
}

/**
 * A write met another transaction's intent: the writer waits for that transaction to finish (or
 * pushes it) and is evaluated again. Never reaches a client.
 */
export class WriteIntentError extends Error {
  constructor(
    readonly key: Buffer,
    readonly intent: Intent,
  ) {
    super(`a write met the intent of transaction ${intent.txnId}`);
  }
}

/**
 * The engine writes that lay transaction `txnId`'s provisional value of `key` at `writeTs`
 * (replacing its own earlier provisional version of the key, if any). The caller has checked
 * that no other transaction holds an intent on the key.
 */
export function mvccPutIntentWrites(engine: Engine, txnId: string, writeTs: Timestamp, key: Uint8Array, value: Uint8Array | null): EngineWrite[] {
  const out: EngineWrite[] = [];
  const prev = mvccIntent(engine, key);
  assert(prev === null || prev.txnId === txnId, () => `an intent of ${txnId} over one of ${prev?.txnId}`);
  if (prev && prev.writeTs !== writeTs) out.push({ key: mvccKey(key, prev.writeTs), value: null });
  out.push({ key: intentKey(key), value: encodeIntent({ txnId, writeTs }) });
  out.push({ key: mvccKey(key, writeTs), value: encodeMvccValue(value) });
  return out;
}

/**
 * Resolves transaction `txnId`'s intent on `key`: committed at `commitTs` (the provisional version
 * moves there; `committed` is the key's new value) or aborted (commitTs null: both go). Nothing if
 * the key holds no intent of that transaction.
 */
export function mvccResolveIntent(engine: Engine, key: Uint8Array, txnId: string, commitTs: Timestamp | null): { writes: EngineWrite[]; committed: { key: Uint8Array; value: Uint8Array | null } | null } {
  const i = mvccIntent(engine, key);
  if (!i || i.txnId !== txnId) return { writes: [], committed: null };
  const writes: EngineWrite[] = [{ key: intentKey(key), value: null }];
  const provisional = engine.get(mvccKey(key, i.writeTs));
  assert(provisional !== undefined && provisional !== null, 'an intent without its provisional version');
  if (commitTs === null || commitTs !== i.writeTs) writes.push({ key: mvccKey(key, i.writeTs), value: null });
  if (commitTs === null) return { writes, committed: null };
  const copy = Buffer.from(provisional);
  if (commitTs !== i.writeTs) writes.push({ key: mvccKey(key, commitTs), value: copy });
  return { writes, committed: { key, value: copy[0] === 1 ? copy.subarray(1) : null } };
}

/** The keys in [start, end) holding an intent of `txnId` (a pusher cleaning up after a dead coordinator). */
export function* mvccIntentsOf(engine: Engine, start: Uint8Array, end: Uint8Array, txnId: string): Generator<Buffer> {
  for (const { key: k, value } of engine.scan(start, end)) {
    if (value[0] !== intentTag || !isIntentSlot(k)) continue;
    if (decodeIntent(value).txnId === txnId) yield Buffer.from(k.subarray(0, k.length - tsBytes));
  }
}

function isIntentSlot(k: Buffer): boolean {
  for (let i = k.length - tsBytes; i < k.length; i++) if (k[i] !== 0) return false;
  return true;
}

/** The intent of an engine entry, if the entry is an intent slot. */
function intentOf(k: Buffer, value: Buffer): Intent | null {
  return value[0] === intentTag && isIntentSlot(k) ? decodeIntent(value) : null;
}

function readVersion(engine: Engine, key: Uint8Array, ts: Timestamp): MvccRead | undefined {
  const value = engine.get(mvccKey(key, ts));
  return value ? { value: value[0] === 1 ? value.subarray(1) : null, ts } : undefined;
}

// ---- reads -----------------------------------------------------------------------------------

/**
 * A version above the read timestamp but at or below the reader's uncertainty limit: it may have
 * been written before the read began in real time (clock offset), so the reader cannot tell
 * whether to see it (the caller raises ReadWithinUncertaintyIntervalError).
 */
export class UncertainValue {
  constructor(
    readonly key: Buffer,
    readonly ts: Timestamp,
  ) {}
}

/**
 * Like mvccGet, but first checks the committed versions in (ts, uncertaintyLimit]: if one exists,
 * returns it as an UncertainValue instead of a read.
 */
export function mvccGetChecked(engine: Engine, key: Uint8Array, ts: Timestamp, uncertaintyLimit: Timestamp, txnId: string | null = null): MvccRead | UncertainValue | undefined {
  const i = mvccIntent(engine, key);
  if (i && i.txnId === txnId) return readVersion(engine, key, i.writeTs);
  if (uncertaintyLimit > ts) {
    for (const { key: k } of engine.scan(mvccKey(key, uncertaintyLimit), versionsEnd(key), false, 2)) {
      const v = splitMvccKey(k);
      if (Buffer.compare(v.key, key as Buffer) !== 0 || v.ts <= ts) break;
      if (i && v.ts === i.writeTs) continue; // provisional: not committed
      return new UncertainValue(Buffer.from(v.key), v.ts);
    }
  }
  return committedAt(engine, key, ts, i);
}

/**
 * The newest version of key at or below ts (null value: deleted); undefined if none. The
 * provisional value of transaction `txnId`'s own intent is seen; other transactions' are not.
 */
export function mvccGet(engine: Engine, key: Uint8Array, ts: Timestamp, txnId: string | null = null): MvccRead | undefined {
  const i = mvccIntent(engine, key);
  if (i && i.txnId === txnId) return readVersion(engine, key, i.writeTs);
  return committedAt(engine, key, ts, i);
}

function committedAt(engine: Engine, key: Uint8Array, ts: Timestamp, i: Intent | null): MvccRead | undefined {
  for (const { key: k, value } of engine.scan(mvccKey(key, ts), versionsEnd(key), false, 2)) {
    const v = splitMvccKey(k);
    if (Buffer.compare(v.key, key as Buffer) !== 0) return undefined;
    if (i && v.ts === i.writeTs) continue;
    return { value: value[0] === 1 ? value.subarray(1) : null, ts: v.ts };
  }
  return undefined;
}

/** The timestamp of the newest version of key (a provisional one included), if any. */
export function mvccNewestTimestamp(engine: Engine, key: Uint8Array): Timestamp | undefined {
  for (const { key: k } of engine.scan(mvccKey(key, maxU64 - 1n), versionsEnd(key), false, 1)) {
    const v = splitMvccKey(k);
    if (Buffer.compare(v.key, key as Buffer) !== 0) return undefined;
    return v.ts;
  }
  return undefined;
}

/**
 * Visible live key/values in [start, end) as of ts, ascending (or descending); transaction
 * `txnId` sees its own provisional values. Tombstones hide older versions. A key with many
 * versions is skipped by re-seeking past them, so a scan costs O(keys · log n), not O(versions).
 */
export function* mvccScan(engine: Engine, start: Uint8Array, end: Uint8Array, ts: Timestamp, reverse = false, uncertaintyLimit: Timestamp = ts, txnId: string | null = null): Generator<{ key: Buffer; value: Buffer }> {
  if (reverse) {
    yield* mvccScanReverse(engine, start, end, ts, uncertaintyLimit, txnId);
    return;
  }
  let from: Uint8Array = start;
  // Another transaction's provisional version on the key being read (skipped), survives re-seeks.
  let provisionalKey: Buffer | null = null;
  let provisionalTs: Timestamp = 0n;
  outer: for (;;) {
    let current: Buffer | null = null; // the user key whose visible version we already decided
    let skipped = 0;
    for (const { key: k, value } of engine.scan(from, end)) {
      const v = splitMvccKey(k);
      if (current !== null && Buffer.compare(v.key, current) === 0) {
        // Older versions of a decided key: after a few, seek past all of them.
        if (++skipped > seekAfterVersions) {
          from = versionsEnd(current);
          continue outer;
        }
        continue;
      }
      skipped = 0;
      const intent = v.ts === maxU64 ? intentOf(k, value) : null;
      if (intent) {
        if (intent.txnId === txnId) {
          current = Buffer.from(v.key);
          const own = readVersion(engine, v.key, intent.writeTs);
          if (own?.value) yield { key: current, value: own.value };
        } else {
          provisionalKey = Buffer.from(v.key);
          provisionalTs = intent.writeTs;
        }
        continue;
      }
      if (provisionalKey !== null && v.ts === provisionalTs && provisionalKey.equals(v.key)) continue;
      if (v.ts > ts) {
        if (v.ts <= uncertaintyLimit) throw new UncertainValue(Buffer.from(v.key), v.ts);
        if (uncertaintyLimit > ts) {
          // Newer than the uncertainty limit: an uncertain version may still sit between.
          from = mvccKey(v.key, uncertaintyLimit);
          if (Buffer.compare(from, k) > 0) continue outer;
        }
        // Too new for us: seek straight to the newest version at or below ts.
        from = mvccKey(v.key, ts);
        continue outer;
      }
      current = Buffer.from(v.key);
      if (value[0] === 1) yield { key: current, value: value.subarray(1) };
    }
    return;
  }
}

/** Versions of one key visited linearly before re-seeking past the rest. */
const seekAfterVersions = 4;

function* mvccScanReverse(engine: Engine, start: Uint8Array, end: Uint8Array, ts: Timestamp, uncertaintyLimit: Timestamp, txnId: string | null): Generator<{ key: Buffer; value: Buffer }> {
  // Descending: versions of one key arrive oldest first and its intent last. Remember the newest
  // visible version and the one before it (the intent may say the newest is provisional).
  let pendingKey: Buffer | null = null;
  let newest: { ts: Timestamp; value: Buffer | null } | null = null;
  let before: { ts: Timestamp; value: Buffer | null } | null = null;
  // Versions above ts, held until the intent (if any) says whether one is provisional.
  let uncertain: Timestamp[] = [];
  const settle = function* (): Generator<{ key: Buffer; value: Buffer }> {
    if (pendingKey !== null) {
      if (uncertain.length > 0) throw new UncertainValue(pendingKey, uncertain[0] as Timestamp);
      if (newest?.value) yield { key: pendingKey, value: newest.value };
    }
    pendingKey = null;
    newest = before = null;
    uncertain = [];
  };
  for (const { key: k, value } of engine.scan(start, end, true)) {
    const v = splitMvccKey(k);
    if (pendingKey !== null && Buffer.compare(v.key, pendingKey) !== 0) yield* settle();
    if (pendingKey === null) pendingKey = Buffer.from(v.key);
    const intent = v.ts === maxU64 ? intentOf(k, value) : null;
    if (intent) {
      if (intent.txnId === txnId) {
        const own = readVersion(engine, v.key, intent.writeTs);
        newest = { ts: intent.writeTs, value: own?.value ? Buffer.from(own.value) : null };
        uncertain = [];
      } else {
        uncertain = uncertain.filter((t) => t !== intent.writeTs);
        if (newest?.ts === intent.writeTs) newest = before;
      }
      continue;
    }
    if (v.ts > ts) {
      if (v.ts <= uncertaintyLimit) uncertain.push(v.ts);
      continue;
    }
    before = newest;
    newest = { ts: v.ts, value: value[0] === 1 ? Buffer.from(value.subarray(1)) : null };
  }
  yield* settle();
}

/**
 * The first key in [start, end) with a committed version in (after, upTo] (versions above upTo
 * are ignored: they are not in the interval being checked), or null if none. Provisional versions
 * are not changes: a pending write commits above every read checked before it.
 */
export function mvccSpanChangedBetween(engine: Engine, start: Uint8Array, end: Uint8Array, after: Timestamp, upTo: Timestamp): Buffer | null {
  let from: Uint8Array = start;
  let provisionalKey: Buffer | null = null;
  let provisionalTs: Timestamp = 0n;
  for (;;) {
    let next: Buffer | null = null;
    for (const { key: k, value } of engine.scan(from, end, false, 1)) {
      const v = splitMvccKey(k);
      const intent = v.ts === maxU64 ? intentOf(k, value) : null;
      if (intent) {
        provisionalKey = Buffer.from(v.key);
        provisionalTs = intent.writeTs;
        next = successor(k);
        break;
      }
      if (provisionalKey !== null && v.ts === provisionalTs && provisionalKey.equals(v.key)) {
        next = successor(k);
        break;
      }
      if (v.ts > upTo) {
        // Skip the versions above the interval: seek to this key's newest version at or below upTo.
        const seek = mvccKey(v.key, upTo);
        next = Buffer.compare(seek, k) > 0 ? seek : versionsEnd(v.key);
        break;
      }
      if (v.ts > after) return Buffer.from(v.key);
      next = versionsEnd(v.key);
    }
    if (next === null) return null;
    from = next;
  }
}

/** The smallest engine key after k. */
function successor(k: Buffer): Buffer {
  return Buffer.concat([k, Buffer.from([0])]);
}

/** True if any committed version in [start, end) has a timestamp after `after` (only each key's newest counts). */
export function mvccSpanChangedSince(engine: Engine, start: Uint8Array, end: Uint8Array, after: Timestamp): boolean {
  return mvccSpanChangedBetween(engine, start, end, after, maxU64 - 1n) !== null;
}

/**
 * MVCC garbage collection for one key: deletes the versions no reader can see any more — every
 * version older than the newest one at or below `threshold` (the oldest open read timestamp),
 * and that one too if it is a deletion tombstone with nothing newer. A key with an intent is left
 * alone (its provisional version must stay where the intent says).
 */
export function mvccGcWrites(engine: Engine, key: Uint8Array, threshold: Timestamp): EngineWrite[] {
  const out: EngineWrite[] = [];
  if (engine.get(intentKey(key))) return out; // collected once the intent is resolved
  let newerExists = false;
  let keptBelow = false;
  for (const { key: k, value } of engine.scan(mvccKey(key, maxU64), versionsEnd(key))) {
    const v = splitMvccKey(k);
    if (Buffer.compare(v.key, key as Buffer) !== 0) break;
    if (v.ts > threshold) {
      newerExists = true;
      continue;
    }
    if (!keptBelow) {
      keptBelow = true;
      if (value[0] === 0 && !newerExists) out.push({ key: Buffer.from(k), value: null });
      continue;
    }
    out.push({ key: Buffer.from(k), value: null });
  }
  return out;
}

export function mvccWrites(ts: Timestamp, writes: readonly { key: Uint8Array; value: Uint8Array | null }[]): EngineWrite[] {
  return writes.map((w) => ({ key: mvccKey(w.key, ts), value: encodeMvccValue(w.value) }));
}
