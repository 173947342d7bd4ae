import type { KvRequest } from '@strata/kv';
import { CommandKind } from '../replica/proposal.js';
import type { RequestCommand } from './command.js';

type ComputeChecksum = Extract<KvRequest, { kind: 'computeChecksum' }>;

/**
 * Proposes a checksum command: every replica records a digest of its state (MVCC data of the
 * span, replicated range-local keys, TS logical content) when it applies it, so replicas compare
 * at the same log index (consistency checks).
 */
export const computeChecksum: RequestCommand<ComputeChecksum> = {
  needsLease: true,
  declareLatches: () => [],
  evaluate: () => ({ response: { kind: 'computeChecksum', index: 0 }, proposal: { kind: CommandKind.ComputeChecksum, body: Buffer.alloc(0) } }),
};
