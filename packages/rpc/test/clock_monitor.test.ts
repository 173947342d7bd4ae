import { describe, expect, it } from 'vitest';
import { ClockOffsets, estimateOffset } from '../src/index.js';

describe('estimateOffset', () => {
  it('is the remote reading minus the midpoint of the round trip, uncertain by half the RTT', () => {
    // Sent at 1000, answered at 1010 (local clock); the remote read 1305 when it answered.
    expect(estimateOffset(1000, 1010, 1305)).toEqual({ offsetMs: 300, uncertaintyMs: 5 });
    expect(estimateOffset(1000, 1000, 900)).toEqual({ offsetMs: -100, uncertaintyMs: 0 });
  });
});

describe('ClockOffsets', () => {
  const maxOffsetMs = 500; // tolerance: 80% = 400 ms
  const at = (offsetMs: number, uncertaintyMs = 1, measuredAtMs = 10_000) => ({ offsetMs, uncertaintyMs, measuredAtMs });

  it('is fatal only when a strict majority of measured peers is certainly beyond 80% of the max offset', () => {
    const c = new ClockOffsets(maxOffsetMs, 5_000);
    expect(c.toleranceMs).toBe(400);
    expect(c.check(10_000)).toMatchObject({ fatal: false, measured: 0 });
    c.record(2, at(-450));
    expect(c.check(10_000)).toMatchObject({ fatal: true, measured: 1 }); // 1 of 1
    c.record(3, at(10));
    expect(c.check(10_000)).toMatchObject({ fatal: false, measured: 2 }); // 1 of 2: not a majority
    c.record(4, at(420));
    const v = c.check(10_000);
    expect(v).toMatchObject({ fatal: true, measured: 3 }); // 2 of 3
    expect(v.outOfTolerance.map((o) => o.nodeId).sort()).toEqual([2, 4]);
    expect(v.message).toContain('must stop');
  });

  it('does not convict on an offset the round trip cannot prove', () => {
    const c = new ClockOffsets(maxOffsetMs, 5_000);
    c.record(2, at(450, 60)); // 390..510: maybe within 400
    c.record(3, at(-430, 20)); // -450..-410: certainly beyond
    expect(c.check(10_000).outOfTolerance.map((o) => o.nodeId)).toEqual([3]);
    expect(c.check(10_000).fatal).toBe(false);
    c.record(2, at(401, 0, 10_001)); // a newer, tighter measurement replaces it
    expect(c.check(10_001).fatal).toBe(true);
  });

  it('forgets measurements older than the TTL and keeps the latest per peer', () => {
    const c = new ClockOffsets(maxOffsetMs, 5_000);
    c.record(2, at(-900, 1, 1_000));
    c.record(3, at(-900, 1, 1_000));
    expect(c.check(6_000).fatal).toBe(true);
    expect(c.check(6_001)).toMatchObject({ fatal: false, measured: 0 });
    c.record(2, at(0, 1, 7_000));
    c.record(2, at(-900, 1, 6_500)); // older than what we have: ignored
    expect(c.get(2)?.offsetMs).toBe(0);
  });
});
