/**
 * The meta range's records: where each range is. The first range (the meta range) keeps one
 * record per range as replicated range-local state:
 *
 *   /Local/r/1/meta/<rangeId>   the range's descriptor (span, replicas, generation), as last
 *                               published
 *
 * Written only by applying the first range's log, so every replica of it has the same records:
 * at bootstrap, with a split (the first range's own descriptor and the new ranges', in the
 * split's batch), with a membership change of the first range (in its batch), by UpdateMeta for
 * any other range (its leaseholder publishes its descriptor after a membership change, and again
 * every few replicate-queue passes until the record is current), and deleted when a dropped
 * table's ranges go. A node finds a range by asking the meta range (DistSender.lookup) and asks
 * the nodes it knows only if the record is missing or no newer than what it has cached.
 *
 * INVARIANT: a record's generation never decreases (UpdateMeta writes only a newer descriptor;
 *   the first range's own writes are its applied descriptors, in order).
 * INVARIANT: a record may lag its range (publishing follows the change); readers treat it as a
 *   hint, as they treat their range caches, and correct it from the replicas' answers.
 */
import { KeyWriter, decodeDescriptor, encodeDescriptor } from '@strata/kv';
import type { Engine, RangeDescriptor } from '@strata/kv';
import { replicatedKey } from './keys.js';
import { metaRangeId } from './system_ranges.js';

export function metaRecordKey(rangeId: number): Buffer {
  return new KeyWriter(40).bytes(replicatedKey(metaRangeId, 'meta')).u32(rangeId).finish();
}

export function readMetaRecord(engine: Engine, rangeId: number): RangeDescriptor | null {
  const v = engine.get(metaRecordKey(rangeId));
  return v ? decodeDescriptor(v) : null;
}

/** The write that records `d` (callers check that it is newer). */
export function metaRecordWrite(d: RangeDescriptor): { key: Buffer; value: Buffer } {
  return { key: metaRecordKey(d.rangeId), value: encodeDescriptor(d) };
}

/** Whether `d` should replace the record (none, or an older generation). */
export function newerThanRecord(engine: Engine, d: RangeDescriptor): boolean {
  const cur = readMetaRecord(engine, d.rangeId);
  return !cur || d.generation > cur.generation;
}
