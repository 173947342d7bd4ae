/**
 * npm run qa:fuzz -- --inputs N [--seed S] [--first I] [--batch B] [--concurrency C] [--rss-slack MiB]
 *
 * Runs the seeded protocol fuzzer (qa/fuzz/fuzz.ts) against a real server process, prints
 * progress after every batch and a final summary line; exits 1 on any failure.
 */
import { parseArgs } from 'node:util';
import { runFuzz, summaryLine } from './fuzz.js';

const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    first: { type: 'string', default: '0' },
    batch: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '64' },
    'rss-slack': { type: 'string', default: '100' },
  },
});

const s = await runFuzz({
  inputs: Number(values.inputs),
  seed: Number(values.seed),
  first: Number(values.first),
  batch: Number(values.batch),
  concurrency: Number(values.concurrency),
  rssSlackMiB: Number(values['rss-slack']),
  log: (l) => console.log(l),
});
console.log(`input kinds: ${JSON.stringify(s.kinds)}`);
for (const e of s.internalErrorSamples) console.log(`internal error: ${e}`);
for (const f of s.failures) console.log(`FAILURE: ${f}`);
console.log(summaryLine(s));
process.exit(s.failures.length === 0 ? 0 : 1);
