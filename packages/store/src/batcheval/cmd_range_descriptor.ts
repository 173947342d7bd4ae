import type { KvRequest } from '@strata/kv';
import { encodeDescriptor } from '@strata/kv';
import type { RequestCommand } from './command.js';

type RangeDescriptorReq = Extract<KvRequest, { kind: 'rangeDescriptor' }>;

/** The descriptor this replica has applied (any replica answers; the generation tells which is newer). */
export const rangeDescriptor: RequestCommand<RangeDescriptorReq> = {
  needsLease: false,
  declareLatches: () => [],
  evaluate: (ctx) => ({ response: { kind: 'rangeDescriptor', descriptor: encodeDescriptor(ctx.desc) } }),
};
