import { describe, expect, it } from 'vitest';
import { mulberry32 } from '@strata/raft';
import { LatchManager } from '../src/concurrency/latch_manager.js';
import type { LatchSpan } from '../src/concurrency/latch_manager.js';

// The latch manager's indexed overlap test against the obvious quadratic one, on random sets of
// point and range spans, reads and writes.
const key = (n: number) => Buffer.from([3, n]);

function bruteOverlap(a: LatchSpan, b: LatchSpan): boolean {
  const end = (s: LatchSpan) => s.end ?? Buffer.concat([s.start, Buffer.from([0])]);
  return Buffer.compare(a.start, end(b)) < 0 && Buffer.compare(b.start, end(a)) < 0;
}

function randomSpans(rand: () => number): LatchSpan[] {
  const n = 1 + Math.floor(rand() * 6);
  return Array.from({ length: n }, () => {
    const a = Math.floor(rand() * 20);
    const point = rand() < 0.5;
    const b = a + 1 + Math.floor(rand() * 4);
    return { start: key(a), end: point ? null : key(b), write: rand() < 0.5 };
  });
}

describe('latch manager', () => {
  it('makes a request wait exactly when a held latch overlaps it and one of the two writes', async () => {
    const rand = mulberry32(42);
    for (let round = 0; round < 2000; round++) {
      const lm = new LatchManager();
      const a = randomSpans(rand);
      const b = randomSpans(rand);
      const held = await lm.acquire(a);
      let granted = false;
      const pending = lm.acquire(b).then((g) => {
        granted = true;
        return g;
      });
      await new Promise((r) => setImmediate(r));
      const want = a.some((x) => b.some((y) => (x.write || y.write) && bruteOverlap(x, y)));
      expect(granted, `round ${round}: ${JSON.stringify({ a, b })}`).toBe(!want);
      held.release();
      (await pending).release();
      expect(lm.size).toBe(0);
    }
  });
});
