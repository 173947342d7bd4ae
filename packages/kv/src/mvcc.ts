/**
 * Multi-version values on top of the engine. A version is stored at `key ++ ~ts` (8 bytes, big
 * endian, inverted) so that the versions of one key are adjacent and newest first.
 * A value is a tag byte (1 = live, 0 = deletion tombstone) followed by the payload.
 *
 * INVARIANT: stored user keys are prefix-free (see keys.ts), so `key ++ suffix` never interleaves
 * with another user key's versions.
 */
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
 * Like mvccGet, but first checks the versions in (ts, uncertaintyLimit]: if one exists, returns
 * it as an UncertainValue instead of a read.
 */
export function mvccGetChecked(engine: Engine, key: Uint8Array, ts: Timestamp, uncertaintyLimit: Timestamp): MvccRead | UncertainValue | undefined {
  if (uncertaintyLimit > ts) {
    for (const { key: k } of engine.scan(mvccKey(key, uncertaintyLimit), versionsEnd(key), false, 1)) {
      const v = splitMvccKey(k);
      if (Buffer.compare(v.key, key as Buffer) === 0 && v.ts > ts) return new UncertainValue(Buffer.from(v.key), v.ts);
    }
  }
  return mvccGet(engine, key, ts);
}

/** The newest version of key at or below ts (null value: deleted); undefined if none. */
export function mvccGet(engine: Engine, key: Uint8Array, ts: Timestamp): MvccRead | undefined {
  for (const { key: k, value } of engine.scan(mvccKey(key, ts), versionsEnd(key), false, 1)) {
    const v = splitMvccKey(k);
    if (Buffer.compare(v.key, key as Buffer) !== 0) return undefined;
    return { value: value[0] === 1 ? value.subarray(1) : null, ts: v.ts };
  }
  return undefined;
}

/** The timestamp of the newest version of key, if any. */
export function mvccNewestTimestamp(engine: Engine, key: Uint8Array): Timestamp | undefined {
  for (const { key: k } of engine.scan(mvccKey(key, maxU64), versionsEnd(key), false, 1)) {
    const v = splitMvccKey(k);
    if (Buffer.compare(v.key, key as Buffer) !== 0) return undefined;
    return v.ts;
  }
  return undefined;
}

/**
 * Visible live key/values in [start, end) as of ts, ascending (or descending). Tombstones hide
 * older versions. A key with many versions is skipped by re-seeking past them, so a scan costs
 * O(keys · log n), not O(versions).
 */
export function* mvccScan(engine: Engine, start: Uint8Array, end: Uint8Array, ts: Timestamp, reverse = false, uncertaintyLimit: Timestamp = ts): Generator<{ key: Buffer; value: Buffer }> {
  if (reverse) {
    yield* mvccScanReverse(engine, start, end, ts, uncertaintyLimit);
    return;
  }
  let from: Uint8Array = start;
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

function* mvccScanReverse(engine: Engine, start: Uint8Array, end: Uint8Array, ts: Timestamp, uncertaintyLimit: Timestamp): Generator<{ key: Buffer; value: Buffer }> {
  // Descending: versions of one key arrive oldest first; remember the newest visible one.
  let pendingKey: Buffer | null = null;
  let pendingValue: Buffer | null = null;
  let pendingLive = false;
  for (const { key: k, value } of engine.scan(start, end, true)) {
    const v = splitMvccKey(k);
    if (pendingKey !== null && Buffer.compare(v.key, pendingKey) !== 0) {
      if (pendingLive) yield { key: pendingKey, value: pendingValue as Buffer };
      pendingKey = null;
      pendingLive = false;
    }
    if (v.ts > ts) {
      if (v.ts <= uncertaintyLimit) throw new UncertainValue(Buffer.from(v.key), v.ts);
      continue;
    }
    pendingKey = Buffer.from(v.key);
    pendingLive = value[0] === 1;
    pendingValue = pendingLive ? Buffer.from(value.subarray(1)) : null;
  }
  if (pendingKey !== null && pendingLive) yield { key: pendingKey, value: pendingValue as Buffer };
}

/**
 * The first key in [start, end) with a version in (after, upTo] (versions above upTo are
 * ignored: they are not in the interval being checked), or null if none.
 */
export function mvccSpanChangedBetween(engine: Engine, start: Uint8Array, end: Uint8Array, after: Timestamp, upTo: Timestamp): Buffer | null {
  let from: Uint8Array = start;
  for (;;) {
    let next: Buffer | null = null;
    for (const { key: k } of engine.scan(from, end, false, 1)) {
      const v = splitMvccKey(k);
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

/** True if any version in [start, end) has a timestamp after `after` (only each key's newest counts). */
export function mvccSpanChangedSince(engine: Engine, start: Uint8Array, end: Uint8Array, after: Timestamp): boolean {
  return mvccSpanChangedBetween(engine, start, end, after, (1n << 64n) - 1n) !== null;
}

/**
 * MVCC garbage collection for one key: deletes the versions no reader can see any more — every
 * version older than the newest one at or below `threshold` (the oldest open read timestamp),
 * and that one too if it is a deletion tombstone with nothing newer.
 */
export function mvccGcWrites(engine: Engine, key: Uint8Array, threshold: Timestamp): EngineWrite[] {
  const out: EngineWrite[] = [];
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
