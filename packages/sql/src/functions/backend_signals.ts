/**
 * pg_cancel_backend(pid) and pg_terminate_backend(pid [, timeout]) (PostgreSQL's signalfuncs.c):
 * true when the signal was sent, false (PostgreSQL adds a WARNING, not sent here) when the pid
 * is not a backend of this node. A superuser signals any session; another role only the sessions
 * of its own user, and never a superuser's (42501 with PostgreSQL's messages; membership in the
 * target's role or in pg_signal_backend is not looked at). The timeout of pg_terminate_backend
 * (wait for the backend to exit) is accepted and not waited for: the connection ends at the
 * backend's next yield point, usually before the call returns to the client.
 */
import { PgError, SqlState } from '@strata/common';
import { T } from '../types/types.js';
import type { ExecCtx } from '../exec/context.js';
import { def } from './registry.js';

function signal(ctx: ExecCtx, pid: number, kind: 'cancel' | 'terminate'): boolean {
  const target = ctx.server.backends?.get(pid);
  if (target === undefined) return false;
  const caller = ctx.session.user;
  if (ctx.session.settings.get('is_superuser') !== 'on') {
    if (target.superuser) {
      throw new PgError(SqlState.InsufficientPrivilege, kind === 'cancel' ? 'must be a superuser to cancel superuser query' : 'must be a superuser to terminate superuser process');
    }
    if (target.user !== caller) {
      throw new PgError(
        SqlState.InsufficientPrivilege,
        kind === 'cancel' ? 'must be a member of the role whose query is being canceled or member of pg_signal_backend' : 'must be a member of the role whose process is being terminated or member of pg_signal_backend',
      );
    }
  }
  if (kind === 'cancel') target.cancel();
  else target.terminate();
  return true;
}

def('pg_cancel_backend', { args: [T.int4], result: T.bool, volatile: true, fn: ([pid], ctx) => signal(ctx, pid as number, 'cancel') });
def(
  'pg_terminate_backend',
  { args: [T.int4], result: T.bool, volatile: true, fn: ([pid], ctx) => signal(ctx, pid as number, 'terminate') },
  {
    args: [T.int4, T.int8],
    result: T.bool,
    volatile: true,
    fn: ([pid, timeout], ctx) => {
      if ((timeout as bigint) < 0n) throw new PgError(SqlState.NumericValueOutOfRange, '"timeout" must not be negative');
      return signal(ctx, pid as number, 'terminate');
    },
  },
);
