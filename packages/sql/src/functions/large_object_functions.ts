/**
 * The SQL functions of large objects (large_objects.ts), with PostgreSQL's names, argument types
 * and the OIDs pg_proc gives them (libpq's lo_* client calls look them up by name in pg_proc and
 * call them by OID with FunctionCall messages). Server-side lo_import/lo_export (files on the
 * server) are not provided.
 */
import { PgError, SqlState } from '@strata/common';
import { T } from '../types/types.js';
import type { SqlType } from '../types/types.js';
import type { ExecCtx } from '../exec/context.js';
import { createLargeObject, getLargeObject, putLargeObject, unlinkLargeObject } from '../large_objects.js';
import type { LargeObjectDescriptors, LoCaller } from '../large_objects.js';
import { def } from './registry.js';

const i4 = T.int4;
const i8 = T.int8;
const oid = T.oid;
const by = T.bytea;

function caller(ctx: ExecCtx): LoCaller {
  return { user: ctx.session.user, superuser: ctx.session.settings.get('is_superuser') === 'on' };
}

function fds(ctx: ExecCtx): LargeObjectDescriptors {
  const d = ctx.session.largeObjects;
  if (!d) throw new PgError(SqlState.FeatureNotSupported, 'large objects are not available here');
  return d;
}

const int4Max = 2_147_483_647;

function int4Result(v: number, what: string, fd: number): number {
  if (v > int4Max) throw new PgError(SqlState.NumericValueOutOfRange, `${what} result out of range for large-object descriptor ${fd}`);
  return v;
}

/** PostgreSQL's pg_proc OIDs and signatures of the large-object functions, for pg_proc rows and FunctionCall. */
export const largeObjectProcs: { oid: number; name: string; args: SqlType[]; result: SqlType }[] = [
  { oid: 715, name: 'lo_create', args: [oid], result: oid },
  { oid: 952, name: 'lo_open', args: [oid, i4], result: i4 },
  { oid: 953, name: 'lo_close', args: [i4], result: i4 },
  { oid: 954, name: 'loread', args: [i4, i4], result: by },
  { oid: 955, name: 'lowrite', args: [i4, by], result: i4 },
  { oid: 956, name: 'lo_lseek', args: [i4, i4, i4], result: i4 },
  { oid: 957, name: 'lo_creat', args: [i4], result: oid },
  { oid: 958, name: 'lo_tell', args: [i4], result: i4 },
  { oid: 964, name: 'lo_unlink', args: [oid], result: i4 },
  { oid: 1004, name: 'lo_truncate', args: [i4, i4], result: i4 },
  { oid: 3170, name: 'lo_lseek64', args: [i4, i8, i4], result: i8 },
  { oid: 3171, name: 'lo_tell64', args: [i4], result: i8 },
  { oid: 3172, name: 'lo_truncate64', args: [i4, i8], result: i4 },
  { oid: 3457, name: 'lo_from_bytea', args: [oid, by], result: oid },
  { oid: 3458, name: 'lo_get', args: [oid], result: by },
  { oid: 3459, name: 'lo_get', args: [oid, i8, i4], result: by },
  { oid: 3460, name: 'lo_put', args: [oid, i8, by], result: T.void },
];

const v = { volatile: true } as const;
def('lo_creat', { args: [i4], result: oid, ...v, fn: (_a, ctx) => createLargeObject(ctx.txn, caller(ctx), 0) });
def('lo_create', { args: [oid], result: oid, ...v, fn: ([o], ctx) => createLargeObject(ctx.txn, caller(ctx), o as number) });
def('lo_open', { args: [oid, i4], result: i4, ...v, fn: ([o, mode], ctx) => fds(ctx).open(ctx.txn, caller(ctx), o as number, mode as number) });
def('lo_close', { args: [i4], result: i4, ...v, fn: ([fd], ctx) => fds(ctx).close(fd as number) });
def('loread', { args: [i4, i4], result: by, ...v, fn: ([fd, n], ctx) => fds(ctx).read(ctx.txn, fd as number, n as number) });
def('lowrite', { args: [i4, by], result: i4, ...v, fn: ([fd, data], ctx) => fds(ctx).write(ctx.txn, fd as number, data as Buffer) });
def('lo_lseek', { args: [i4, i4, i4], result: i4, ...v, fn: ([fd, off, wh], ctx) => int4Result(fds(ctx).seek(ctx.txn, fd as number, off as number, wh as number), 'lo_lseek', fd as number) });
def('lo_lseek64', { args: [i4, i8, i4], result: i8, ...v, fn: ([fd, off, wh], ctx) => BigInt(fds(ctx).seek(ctx.txn, fd as number, Number(off as bigint), wh as number)) });
def('lo_tell', { args: [i4], result: i4, ...v, fn: ([fd], ctx) => int4Result(fds(ctx).tell(fd as number), 'lo_tell', fd as number) });
def('lo_tell64', { args: [i4], result: i8, ...v, fn: ([fd], ctx) => BigInt(fds(ctx).tell(fd as number)) });
def('lo_truncate', { args: [i4, i4], result: i4, ...v, fn: ([fd, n], ctx) => fds(ctx).truncate(ctx.txn, fd as number, n as number) });
def('lo_truncate64', { args: [i4, i8], result: i4, ...v, fn: ([fd, n], ctx) => fds(ctx).truncate(ctx.txn, fd as number, Number(n as bigint)) });
def('lo_unlink', { args: [oid], result: i4, ...v, fn: ([o], ctx) => unlinkLargeObject(ctx.txn, caller(ctx), o as number) });
def('lo_from_bytea', {
  args: [oid, by],
  result: oid,
  ...v,
  fn: ([o, data], ctx) => {
    const id = createLargeObject(ctx.txn, caller(ctx), o as number);
    putLargeObject(ctx.txn, caller(ctx), id, 0, data as Buffer);
    return id;
  },
});
def(
  'lo_get',
  { args: [oid], result: by, ...v, fn: ([o], ctx) => getLargeObject(ctx.txn, caller(ctx), o as number) },
  {
    args: [oid, i8, i4],
    result: by,
    ...v,
    fn: ([o, off, n], ctx) => {
      if ((n as number) < 0) throw new PgError(SqlState.InvalidParameterValue, 'requested length cannot be negative');
      return getLargeObject(ctx.txn, caller(ctx), o as number, Number(off as bigint), n as number);
    },
  },
);
def('lo_put', {
  args: [oid, i8, by],
  result: T.void,
  ...v,
  fn: ([o, off, data], ctx) => {
    putLargeObject(ctx.txn, caller(ctx), o as number, Number(off as bigint), data as Buffer);
    return ''; // void is not NULL, as pg_notify's
  },
});
