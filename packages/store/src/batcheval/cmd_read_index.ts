import type { KvRequest } from '@strata/kv';
import type { RequestCommand } from './command.js';

type ReadIndex = Extract<KvRequest, { kind: 'readIndex' }>;

/**
 * Where a replica elsewhere may read consistently (a follower read, as a gateway node's own
 * replica serves its SQL): a timestamp at or below the leaseholder's clock and below every commit
 * it has evaluated and not yet applied, and its applied index. Every commit at or below that
 * timestamp is applied here at that index (commits evaluated later get timestamps above the
 * clock), so a replica that has applied up to the index holds all of them: it reads at the
 * timestamp what the leaseholder would.
 */
export const readIndex: RequestCommand<ReadIndex> = {
  needsLease: true,
  declareLatches: () => [],
  evaluate(ctx) {
    let ts = ctx.now();
    for (const c of ctx.inflightCommits()) if (c <= ts) ts = c - 1n;
    return { response: { kind: 'readIndex', readTs: ts, appliedIndex: ctx.appliedIndex() } };
  },
};
