/**
 * A short seeded slice of the protocol fuzzer (qa/fuzz): malformed and valid protocol input on
 * many connections must not crash or hang the server, must leave a fresh connection and a
 * long-lived bystander session working after every batch, and the server's RSS must come back
 * near its baseline (the leak of issue 9: RSS rose from 73 to 280 MB over malformed input and
 * stayed there).
 */
import { expect, it } from 'vitest';
import { runFuzz, summaryLine } from './fuzz.js';

it('4,000 seeded fuzz inputs: no crash, no hang, others served, RSS back near baseline', async () => {
  const s = await runFuzz({ inputs: 4000, seed: 20240901, batch: 1000, concurrency: 16 });
  console.log(summaryLine(s));
  expect(s.failures).toEqual([]);
  expect(s.internalErrorSamples).toEqual([]);
  expect(s.inputs).toBe(4000);
  expect(s.rssAfterMiB - s.rssBaselineMiB).toBeLessThan(100);
});
