/**
 * What a node knows about where ranges are: descriptors (span, replicas, generation) and the
 * leaseholder last seen, updated from every answer and error (NotLeaseholder hints, newer
 * descriptors). Entries may be stale; the DistSender corrects them as requests fail.
 */
import type { RangeDescriptor } from '@strata/kv';
import { containsKey } from '@strata/kv';

export interface RangeInfo {
  desc: RangeDescriptor;
  /** Node of the leaseholder last seen, if any. */
  leaseholder: number | null;
}

export class RangeCache {
  private readonly byId = new Map<number, RangeInfo>();

  get(rangeId: number): RangeInfo | undefined {
    return this.byId.get(rangeId);
  }

  /** The cached range holding `key`, if any. */
  forKey(key: Uint8Array): RangeInfo | undefined {
    for (const r of this.byId.values()) if (containsKey(r.desc, key)) return r;
    return undefined;
  }

  /** Records a descriptor unless a newer generation of the range is cached. */
  update(desc: RangeDescriptor): void {
    const cur = this.byId.get(desc.rangeId);
    if (cur && cur.desc.generation > desc.generation) return;
    const leaseholder = cur && desc.replicas.some((r) => r.nodeId === cur.leaseholder) ? cur.leaseholder : null;
    this.byId.set(desc.rangeId, { desc, leaseholder });
  }

  setLeaseholder(rangeId: number, nodeId: number | null): void {
    const cur = this.byId.get(rangeId);
    if (cur) cur.leaseholder = nodeId;
  }

  evict(rangeId: number): void {
    this.byId.delete(rangeId);
  }
}
