/**
 * The CI slice of `npm run bench:cluster`: a tiny seeded TSBS cpu-only dataset (10 hosts × 1 h,
 * 3,600 rows) loaded by COPY through all three nodes' SQL ports of a real local cluster and into
 * one node; every TSBS query type (one instance) through every cluster node returns exactly the
 * single node's rows. Timings are not checked (the machine is shared).
 */
import { expect, it } from 'vitest';
import { queryTypes } from '../bench/tsbs/queries.js';
import { runClusterBench } from '../bench/tsbs/cluster_run.js';

it('a three-node cluster answers the TSBS query set exactly as one node, on the same data', async () => {
  const r = await runClusterBench({ hosts: 10, hours: 1, workers: 3, runs: 0 });
  expect(r.rows).toBe(3600);
  expect(r.cluster.replicasPerRange.every((n) => n === 3)).toBe(true);
  expect(r.queries.map((q) => q.name)).toEqual(queryTypes(10, 1).map((q) => q.name));
  // Something to compare: nearly every query type returns rows on this data (one host's hour
  // may have no reading with usage_user > 90, so high-cpu-1 can be empty).
  expect(r.queries.filter((q) => q.rows > 0).length).toBeGreaterThanOrEqual(r.queries.length - 1);
  expect(
    r.mismatches.map((m) => `${m.query} via n${m.node}: single ${m.single.slice(0, 2).join(' ; ')} | cluster ${m.cluster.slice(0, 2).join(' ; ')}`),
  ).toEqual([]);
  expect(Number.isFinite(r.ingest.clusterRowsPerSec) && Number.isFinite(r.ingest.singleRowsPerSec)).toBe(true);
}, 120_000);
