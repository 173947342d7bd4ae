/**
 * The protocol fuzzer's engine: a real `strata start-single-node` process, inputs from
 * inputs.ts, each on its own connection (written, then half-closed; the client reads and
 * discards whatever the server answers until it closes). After every batch:
 *   - the server process is alive;
 *   - a fresh connection works, and a bystander session open since the start still works;
 *   - the server's RSS (VmRSS of its process) returns near its baseline once the batch is over.
 * Errors the server logs at level error (internal errors: a bug, even if the client got XX000)
 * are counted and the first few distinct ones reported.
 */
import { connect } from 'node:net';
import pg from 'pg';
import { startNode } from '../harness/node.js';
import type { TestNode } from '../harness/node.js';
import { fuzzInput, fuzzSetupSql } from './inputs.js';

export interface FuzzOptions {
  inputs: number;
  seed: number;
  /** The index of the first input (to replay a slice). */
  first?: number;
  /** Inputs between checks. */
  batch?: number;
  /** Connections in flight at once. */
  concurrency?: number;
  /** RSS may stay this far above its baseline after a batch (MiB). */
  rssSlackMiB?: number;
  log?: (line: string) => void;
}

export interface FuzzSummary {
  inputs: number;
  seed: number;
  seconds: number;
  inputsPerSecond: number;
  rssBaselineMiB: number;
  rssPeakMiB: number;
  rssAfterMiB: number;
  failures: string[];
  internalErrors: number;
  internalErrorSamples: string[];
  kinds: Record<string, number>;
}

/** An input that takes longer than this (server answering, then closing after EOF) is a hang. */
const inputTimeoutMs = 20_000;
/** How long after a batch the RSS may take to come back near its baseline. */
const rssSettleMs = 12_000;

async function runInput(port: number, writes: Buffer[]): Promise<'ok' | 'timeout'> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let done = false;
    const finish = (r: 'ok' | 'timeout') => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish('timeout'), inputTimeoutMs);
    s.on('error', () => finish('ok'));
    s.on('close', () => finish('ok'));
    s.on('data', () => undefined);
    s.on('connect', () => {
      for (const w of writes) s.write(w);
      s.end();
    });
  });
}

async function timed<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_res, rej) => (timer = setTimeout(() => rej(new Error(`${what}: no answer in ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until RSS is at most target (or rssSettleMs passed); returns the lowest RSS seen. */
async function settleRss(node: TestNode, target: number): Promise<number> {
  const deadline = Date.now() + rssSettleMs;
  let rss = node.rssMiB();
  while (rss > target && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 250));
    rss = Math.min(rss, node.rssMiB());
  }
  return rss;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const log = o.log ?? (() => undefined);
  const batch = o.batch ?? 5000;
  const concurrency = o.concurrency ?? 64;
  const slack = o.rssSlackMiB ?? 100;
  const first = o.first ?? 0;
  const node = await startNode();
  const failures: string[] = [];
  const kinds: Record<string, number> = {};
  let internalErrors = 0;
  const internalErrorSamples = new Set<string>();
  const bystander = new pg.Client(node.url);
  try {
    await bystander.connect();
    await bystander.query(fuzzSetupSql);
    await bystander.query('create table fuzz_bystander (k int primary key, n int)');
    await bystander.query('insert into fuzz_bystander values (1, 0)');
    let bystanderN = 0;
    const started = Date.now();
    let baseline = -1;
    let peak = node.rssMiB();
    let rss = peak;
    let done = 0;
    for (let b0 = 0; b0 < o.inputs && failures.length === 0; b0 += batch) {
      const n = Math.min(batch, o.inputs - b0);
      let next = 0;
      const worker = async () => {
        while (next < n && failures.length === 0) {
          const i = first + b0 + next++;
          const input = fuzzInput(o.seed, i);
          kinds[input.kind] = (kinds[input.kind] ?? 0) + 1;
          if ((await runInput(node.port, input.writes)) === 'timeout') failures.push(`input ${i} (${input.kind}) hung: no close within ${inputTimeoutMs} ms; replay with --seed ${o.seed} --first ${i} --inputs 1`);
          if (i % 64 === 0) peak = Math.max(peak, node.rssMiB());
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      done += n;
      if (node.proc === null || node.proc.exitCode !== null) {
        failures.push(`server exited (code ${node.proc?.exitCode}) during inputs ${first + b0}..${first + b0 + n - 1} (seed ${o.seed}): ${node.stderr.slice(-2000)}`);
        break;
      }
      peak = Math.max(peak, node.rssMiB());
      try {
        const fresh = new pg.Client(node.url);
        await timed(fresh.connect(), 10_000, 'fresh connection');
        await timed(fresh.query('select count(*) from fuzz_t'), 10_000, 'fresh connection query');
        await fresh.end();
        bystanderN++;
        await timed(bystander.query('update fuzz_bystander set n = $1 where k = 1', [bystanderN]), 10_000, 'bystander write');
        const got = await timed(bystander.query('select n from fuzz_bystander where k = 1'), 10_000, 'bystander read');
        if (got.rows[0]?.n !== bystanderN) failures.push(`bystander read ${JSON.stringify(got.rows)} after writing ${bystanderN}`);
      } catch (e) {
        failures.push(`after inputs ${first + b0}..${first + b0 + n - 1} (seed ${o.seed}): ${(e as Error).message}`);
      }
      // Internal errors the server logged (level 50): bugs to report, not to hide.
      for (const line of node.stderr.split('\n')) {
        if (!line.includes('"level":50')) continue;
        internalErrors++;
        if (internalErrorSamples.size < 5) internalErrorSamples.add(line.slice(0, 400));
      }
      node.stderr = '';
      if (baseline < 0) {
        // The first batch warms the process up (JIT, pools, heap sizing): its RSS once quiet is the baseline.
        rss = await settleRss(node, 0);
        baseline = rss;
      } else {
        rss = await settleRss(node, baseline + slack);
        if (rss > baseline + slack) failures.push(`RSS stayed at ${rss.toFixed(1)} MiB after inputs up to ${first + b0 + n - 1}, baseline ${baseline.toFixed(1)} MiB (+${slack} allowed)`);
      }
      const secs = (Date.now() - started) / 1000;
      log(`fuzz: ${done}/${o.inputs} inputs, ${(done / secs).toFixed(0)}/s, RSS ${rss.toFixed(1)} MiB (baseline ${baseline.toFixed(1)}, peak ${peak.toFixed(1)}), internal errors ${internalErrors}, failures ${failures.length}`);
    }
    const seconds = (Date.now() - started) / 1000;
    // RSS once the node has been quiet a while (the idle heap trim has had its chance).
    if (failures.length === 0) rss = await settleRss(node, 0);
    return {
      inputs: done,
      seed: o.seed,
      seconds,
      inputsPerSecond: done / seconds,
      rssBaselineMiB: baseline,
      rssPeakMiB: peak,
      rssAfterMiB: rss,
      failures,
      internalErrors,
      internalErrorSamples: [...internalErrorSamples],
      kinds,
    };
  } finally {
    await bystander.end().catch(() => undefined);
    await node.stop();
    node.cleanup();
  }
}

export function summaryLine(s: FuzzSummary): string {
  return `fuzz summary: ${s.inputs} inputs, seed ${s.seed}, ${s.seconds.toFixed(1)} s, ${s.inputsPerSecond.toFixed(0)} inputs/s, RSS baseline ${s.rssBaselineMiB.toFixed(1)} MiB, peak ${s.rssPeakMiB.toFixed(1)} MiB, after ${s.rssAfterMiB.toFixed(1)} MiB, internal errors ${s.internalErrors}, failures ${s.failures.length}`;
}
