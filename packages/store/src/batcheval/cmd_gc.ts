import { PgError, SqlState } from '@strata/common';
import { mvccGcWrites } from '@strata/kv';
import type { KvRequest } from '@strata/kv';
import { CommandKind } from '../replica/proposal.js';
import { keySpan } from './command.js';
import type { RequestCommand } from './command.js';

type Gc = Extract<KvRequest, { kind: 'gc' }>;

/**
 * MVCC garbage collection (issued by the GC queue on the leaseholder): evaluates which versions
 * of the keys no read at or above the threshold can see, and proposes their deletion together
 * with the new GC threshold. Every replica applies the same deletions — no replica decides from
 * its own clock or open transactions.
 *
 * Body: u64 threshold | u32 n | n × (u32 length | engine key)
 */
export const gc: RequestCommand<Gc> = {
  needsLease: true,
  declareLatches: (_h, r) => r.keys.map((k) => keySpan(k, true)),
  evaluate(ctx, _h, r) {
    if (r.threshold < ctx.gcThreshold) throw new PgError(SqlState.InternalError, 'GC threshold moving backwards');
    const deletes: Buffer[] = [];
    for (const k of r.keys) for (const w of mvccGcWrites(ctx.engine, k, r.threshold)) deletes.push(Buffer.from(w.key));
    let size = 12;
    for (const d of deletes) size += 4 + d.length;
    const body = Buffer.allocUnsafe(size);
    body.writeBigUInt64BE(r.threshold, 0);
    body.writeUInt32BE(deletes.length, 8);
    let o = 12;
    for (const d of deletes) {
      body.writeUInt32BE(d.length, o);
      d.copy(body, o + 4);
      o += 4 + d.length;
    }
    return { response: { kind: 'gc' }, proposal: { kind: CommandKind.Gc, body } };
  },
};

export function decodeGc(body: Buffer): { threshold: bigint; deletes: Buffer[] } {
  const threshold = body.readBigUInt64BE(0);
  const n = body.readUInt32BE(8);
  const deletes: Buffer[] = [];
  let o = 12;
  for (let i = 0; i < n; i++) {
    const len = body.readUInt32BE(o);
    deletes.push(body.subarray(o + 4, o + 4 + len));
    o += 4 + len;
  }
  return { threshold, deletes };
}
