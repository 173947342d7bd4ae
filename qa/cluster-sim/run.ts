/**
 * Runs the seeded cluster simulation (sim.ts) over many seeds.
 *
 *   npm run qa:cluster-sim -- --seeds 100                  # seeds 1..100, 3 nodes
 *   npm run qa:cluster-sim -- --seeds 100 --nodes 5 --first-seed 1000
 *   npm run qa:cluster-sim -- --seeds 1 --first-seed 17 --trace   # replay one seed with its trace
 *
 * Prints each failing seed with the command that replays it, and ends with `N passed, N failed`.
 */
import { parseArgs } from 'node:util';
import { runClusterSim } from './sim.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '20' },
    'first-seed': { type: 'string', default: '1' },
    nodes: { type: 'string', default: '3' },
    'duration-ms': { type: 'string', default: '20000' },
    trace: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

const n = Number(values.seeds);
const first = Number(values['first-seed']);
const nodes = Number(values.nodes) === 5 ? 5 : 3;
const durationMs = Number(values['duration-ms']);
const started = Date.now();
let failed = 0;
const totals: Record<string, number> = {};
for (let seed = first; seed < first + n; seed++) {
  const t0 = Date.now();
  const r = await runClusterSim({ seed, nodes, durationMs, trace: values.trace });
  for (const [k, v] of Object.entries(r.stats)) totals[k] = (totals[k] ?? 0) + v;
  const ms = Date.now() - t0;
  if (r.ok) {
    if (!values.quiet) process.stdout.write(`seed ${seed} (${nodes} nodes): ok in ${ms} ms — ${Object.entries(r.stats).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
  } else {
    failed++;
    process.stdout.write(`seed ${seed} (${nodes} nodes): FAILED in ${ms} ms\n`);
    for (const f of r.failures.slice(0, 10)) process.stdout.write(`  ${f}\n`);
    process.stdout.write(`  replay: npm run qa:cluster-sim -- --seeds 1 --first-seed ${seed} --nodes ${nodes} --duration-ms ${durationMs} --trace\n`);
    if (values.trace) for (const line of r.trace.slice(-Number(process.env.TRACE_TAIL ?? 200))) process.stdout.write(`    ${line}\n`);
  }
  const done = seed - first + 1;
  if (values.quiet && done % 100 === 0 && done < n) process.stdout.write(`progress: ${done - failed} of ${done} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
}
process.stdout.write(`totals: ${Object.entries(totals).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
process.stdout.write(`${n - failed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
process.exitCode = failed > 0 ? 1 : 0;
