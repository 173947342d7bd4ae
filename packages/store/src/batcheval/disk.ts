import { PgError, SqlState } from '@strata/common';
import type { EvalContext } from './command.js';

/**
 * Refuses a write (53100) when the store's file system has less free space than the store keeps
 * in reserve, or than `minFreeBytes` (ts.disk_free_space.alert_threshold for TS writes). Checked by
 * the leaseholder before proposing, so every replica applies the same commands whatever its own
 * disk; a replica that still runs out of space while applying stops (a local fault) instead.
 */
export function checkDiskSpace(ctx: EvalContext, minFreeBytes: number, what: string): void {
  const free = ctx.freeDiskBytes();
  const need = Math.max(ctx.diskReserveBytes, minFreeBytes);
  if (free < need) {
    const which = minFreeBytes > ctx.diskReserveBytes ? 'ts.disk_free_space.alert_threshold' : 'the space the store keeps in reserve';
    throw new PgError(SqlState.DiskFull, `${what} refused: ${free} bytes of disk free on node ${ctx.nodeId}, below ${which} (${need} bytes)`, {
      hint: minFreeBytes > ctx.diskReserveBytes ? 'free disk space, or lower the threshold with SET CLUSTER SETTING ts.disk_free_space.alert_threshold' : 'free disk space or add capacity',
    });
  }
}
