/**
 * Runs the seeded Raft cluster simulation over many seeds, printing progress.
 *
 *   npm run qa:raft-sim -- --seeds 200             # seeds 1..200, cycling 3/5/7 nodes
 *   npm run qa:raft-sim -- --seed 17 --nodes 5     # replay one seed
 *   npm run qa:raft-sim -- --seed 17 --nodes 5 --trace   # and print its event trace on failure
 */
import { parseArgs } from 'node:util';
import { SimFailure, runSimulation } from '../../packages/raft/sim/cluster.js';
import type { SimOptions } from '../../packages/raft/sim/cluster.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    'first-seed': { type: 'string', default: '1' },
    seed: { type: 'string' },
    nodes: { type: 'string' },
    ticks: { type: 'string', default: '600' },
    lease: { type: 'boolean', default: false },
    trace: { type: 'boolean', default: false },
  },
});

const ticks = Number(values.ticks);
const runs: SimOptions[] = [];
if (values.seed !== undefined) {
  runs.push({ seed: Number(values.seed), nodes: Number(values.nodes ?? 3), ticks, readOnlyOption: values.lease ? 'lease-based' : 'safe', trace: values.trace });
} else {
  const n = Number(values.seeds ?? 50);
  const first = Number(values['first-seed']);
  for (let s = first; s < first + n; s++) {
    runs.push({ seed: s, nodes: [3, 5, 7][s % 3] as number, ticks, readOnlyOption: s % 2 === 0 ? 'lease-based' : 'safe' });
  }
}

const started = Date.now();
let failures = 0;
let i = 0;
for (const o of runs) {
  i++;
  try {
    const r = runSimulation(o);
    process.stdout.write(
      `[${i}/${runs.length}] seed ${o.seed} nodes ${o.nodes}${o.readOnlyOption === 'lease-based' ? ' lease' : ''}: ok — committed ${r.committed}, leaders ${r.leadersElected}, ops ok ${r.ops.ok} (reads ${r.ops.reads}) info ${r.ops.info} fail ${r.ops.fail}, crashes ${r.crashes}, conf changes ${r.confChanges}, transfers ${r.transfers}, snapshots ${r.snapshotsSent}, liveness ${r.livenessTicks} ticks\n`,
    );
  } catch (e) {
    failures++;
    if (e instanceof SimFailure) {
      process.stdout.write(`[${i}/${runs.length}] seed ${o.seed} nodes ${o.nodes}: FAILED\n  ${e.message}\n`);
      if (o.trace) {
        const tail = Number(process.env.TRACE_TAIL ?? 80);
        for (const line of e.trace.slice(-tail)) process.stdout.write(`    ${line}\n`);
      }
    } else {
      process.stdout.write(`[${i}/${runs.length}] seed ${o.seed} nodes ${o.nodes}: CRASHED\n  ${(e as Error).stack}\n`);
    }
  }
}
process.stdout.write(`${runs.length - failures} passed, ${failures} failed (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
process.exitCode = failures > 0 ? 1 : 0;
