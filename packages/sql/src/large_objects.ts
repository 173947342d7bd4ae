/**
 * Large objects (PostgreSQL's inv_api.c and be-fsstubs.c): byte strings of up to 4 TB named by an
 * OID, read and written in place through descriptors, transactionally like rows.
 *
 * Storage, in the replicated system keyspace and written through the session's transaction:
 *   /System/lo/m/<oid>            → the owner's role name (the object exists iff this key does)
 *   /System/lo/p/<oid>/<pageno>   → the bytes of page pageno (at most loPageBytes; a short or
 *                                   missing page inside the object reads as zeros, a hole)
 * The object's size is the end of its last page, as pg_largeobject's.
 *
 * Descriptors (lo_open's integers) belong to the session and close when the transaction ends
 * (AtEOXact_LargeObject); a descriptor's offset is its own. A descriptor opened INV_READ only
 * reads; INV_WRITE reads and writes (PostgreSQL's snapshot difference between the two — a read-only
 * descriptor reads as of lo_open — is not kept: both read the transaction's current state).
 *
 * Privileges: the owner and superusers only (GRANT … ON LARGE OBJECT is not supported, so other
 * roles get 42501 where PostgreSQL's default ACL refuses them too).
 *
 * INVARIANT: every page key of an object lies under its metadata's OID; no page key outlives its
 *   metadata key in a committed state (lo_unlink deletes both in one transaction).
 */
import { PgError, SqlState } from '@strata/common';
import { prefixEnd, systemKey } from '@strata/kv';
import type { Txn } from '@strata/kv';

/** PostgreSQL's LOBLKSIZE (BLCKSZ / 4): the bytes of one stored page. */
export const loPageBytes = 2048;
/** PostgreSQL's MAX_LARGE_OBJECT_SIZE: INT_MAX pages of loPageBytes (4 TB). */
export const largeObjectBytesMax = 2_147_483_647 * loPageBytes;
/** The most one loread/lo_get returns: PostgreSQL's MaxAllocSize less the varlena header. */
export const largeObjectReadBytesMax = 0x3fffffff - 4;
/** Descriptors one session may hold open at once (PostgreSQL grows its array without a set bound). */
export const largeObjectDescriptorsMax = 4096;
/** The first OID lo_creat hands out (PostgreSQL's FirstNormalObjectId). */
const firstLargeObjectOid = 16384;

export const INV_WRITE = 0x20000;
export const INV_READ = 0x40000;

const metaKey = (oid: number) => systemKey('lo', 'm', oid);
const metaPrefix = systemKey('lo', 'm');
const pagePrefix = (oid: number) => systemKey('lo', 'p', oid);
const pageKey = (oid: number, pageno: number) => systemKey('lo', 'p', oid, pageno);

function notExists(oid: number): PgError {
  return new PgError(SqlState.UndefinedObject, `large object ${oid} does not exist`);
}

function badDescriptor(fd: number): PgError {
  return new PgError(SqlState.UndefinedObject, `invalid large-object descriptor: ${fd}`);
}

interface Descriptor {
  oid: number;
  offset: number;
  writable: boolean;
}

/** Who calls: the session's user and whether it is a superuser. */
export interface LoCaller {
  user: string;
  superuser: boolean;
}

/** A session's open large-object descriptors. */
export class LargeObjectDescriptors {
  private readonly fds: (Descriptor | null)[] = [];

  /** The transaction ended: every descriptor closes. */
  endTxn(): void {
    this.fds.length = 0;
  }

  private get(fd: number): Descriptor {
    const d = this.fds[fd];
    if (d === undefined || d === null) throw badDescriptor(fd);
    return d;
  }

  open(txn: Txn, caller: LoCaller, oid: number, mode: number): number {
    if ((mode & (INV_READ | INV_WRITE)) === 0) throw new PgError(SqlState.InvalidParameterValue, `invalid flags for opening a large object: ${mode}`);
    checkOwner(txn, caller, oid, 'permission denied for large object');
    let fd = this.fds.indexOf(null);
    if (fd < 0) {
      if (this.fds.length >= largeObjectDescriptorsMax) throw new PgError(SqlState.ProgramLimitExceeded, `more than ${largeObjectDescriptorsMax} large-object descriptors open`);
      fd = this.fds.length;
      this.fds.push(null);
    }
    this.fds[fd] = { oid, offset: 0, writable: (mode & INV_WRITE) !== 0 };
    return fd;
  }

  close(fd: number): number {
    this.get(fd);
    this.fds[fd] = null;
    while (this.fds.length > 0 && this.fds[this.fds.length - 1] === null) this.fds.pop();
    return 0;
  }

  read(txn: Txn, fd: number, len: number): Buffer {
    const d = this.get(fd);
    if (len < 0) throw new PgError(SqlState.InvalidParameterValue, 'requested length cannot be negative');
    const out = readRange(txn, d.oid, d.offset, Math.min(len, largeObjectReadBytesMax));
    d.offset += out.length;
    return out;
  }

  write(txn: Txn, fd: number, data: Buffer): number {
    const d = this.get(fd);
    if (!d.writable) throw new PgError(SqlState.ObjectNotInPrerequisiteState, `large object descriptor ${fd} was not opened for writing`);
    if (d.offset + data.length > largeObjectBytesMax) throw new PgError(SqlState.InvalidParameterValue, `invalid large object write request size: ${data.length}`);
    writeRange(txn, d.oid, d.offset, data);
    d.offset += data.length;
    return data.length;
  }

  seek(txn: Txn, fd: number, offset: number, whence: number): number {
    const d = this.get(fd);
    let base: number;
    if (whence === 0) base = 0;
    else if (whence === 1) base = d.offset;
    else if (whence === 2) base = objectSize(txn, d.oid);
    else throw new PgError(SqlState.InvalidParameterValue, `invalid whence setting: ${whence}`);
    const pos = base + offset;
    if (pos < 0 || pos > largeObjectBytesMax) throw new PgError(SqlState.InvalidParameterValue, `invalid seek offset: ${pos}`);
    d.offset = pos;
    return pos;
  }

  tell(fd: number): number {
    return this.get(fd).offset;
  }

  truncate(txn: Txn, fd: number, len: number): number {
    const d = this.get(fd);
    if (!d.writable) throw new PgError(SqlState.ObjectNotInPrerequisiteState, `large object descriptor ${fd} was not opened for writing`);
    if (len < 0 || len > largeObjectBytesMax) throw new PgError(SqlState.InvalidParameterValue, `invalid large object truncation target: ${len}`);
    truncateObject(txn, d.oid, len);
    return 0;
  }
}

function exists(txn: Txn, oid: number): string | null {
  const v = txn.get(metaKey(oid));
  return v === null ? null : v.toString();
}

function checkOwner(txn: Txn, caller: LoCaller, oid: number, denied: string): void {
  const owner = exists(txn, oid);
  if (owner === null) throw notExists(oid);
  if (!caller.superuser && owner !== caller.user) throw new PgError(SqlState.InsufficientPrivilege, `${denied} ${oid}`);
}

/** lo_creat / lo_create: a new empty object; oid 0 picks one (the highest in use + 1). */
export function createLargeObject(txn: Txn, caller: LoCaller, oid: number): number {
  let id = oid;
  if (id === 0) {
    id = firstLargeObjectOid;
    for (const { key } of txn.scan(metaPrefix, prefixEnd(metaPrefix), true)) {
      id = Math.max(firstLargeObjectOid, oidOfMetaKey(key) + 1);
      break;
    }
    if (id > 0xffffffff) throw new PgError(SqlState.ProgramLimitExceeded, 'no large object OID is left');
  } else if (exists(txn, id) !== null) {
    throw new PgError(SqlState.UniqueViolation, 'duplicate key value violates unique constraint "pg_largeobject_metadata_oid_index"', { detail: `Key (oid)=(${id}) already exists.` });
  }
  txn.put(metaKey(id), Buffer.from(caller.user));
  return id;
}

/** The OID a metadata key names: the int after the prefix. */
function oidOfMetaKey(key: Buffer): number {
  return decodeKeyInt(key.subarray(metaPrefix.length));
}

/** The inverse of KeyWriter.int at the start of `b` (keys.ts: a tag byte, then the sign-flipped big-endian int64). */
function decodeKeyInt(b: Buffer): number {
  return Number(b.readBigUInt64BE(1) ^ 0x8000000000000000n);
}

export function unlinkLargeObject(txn: Txn, caller: LoCaller, oid: number): number {
  const owner = exists(txn, oid);
  if (owner === null) throw notExists(oid);
  if (!caller.superuser && owner !== caller.user) throw new PgError(SqlState.InsufficientPrivilege, `must be owner of large object ${oid}`);
  const p = pagePrefix(oid);
  for (const { key } of txn.scan(p, prefixEnd(p))) txn.del(key);
  txn.del(metaKey(oid));
  return 1;
}

function objectSize(txn: Txn, oid: number): number {
  const p = pagePrefix(oid);
  for (const { key, value } of txn.scan(p, prefixEnd(p), true)) return pageNoOfKey(key, oid) * loPageBytes + value.length;
  return 0;
}

function pageNoOfKey(key: Buffer, oid: number): number {
  return decodeKeyInt(key.subarray(pagePrefix(oid).length));
}

function readRange(txn: Txn, oid: number, offset: number, len: number): Buffer {
  if (exists(txn, oid) === null) throw notExists(oid);
  const size = objectSize(txn, oid);
  const end = Math.min(size, offset + len);
  if (end <= offset) return Buffer.alloc(0);
  const out = Buffer.alloc(end - offset);
  for (let page = Math.floor(offset / loPageBytes); page * loPageBytes < end; page++) {
    const v = txn.get(pageKey(oid, page));
    if (v === null) continue; // a hole: zeros
    const pageStart = page * loPageBytes;
    const from = Math.max(offset, pageStart);
    const to = Math.min(end, pageStart + v.length);
    if (to > from) v.copy(out, from - offset, from - pageStart, to - pageStart);
  }
  return out;
}

function writeRange(txn: Txn, oid: number, offset: number, data: Buffer): void {
  if (exists(txn, oid) === null) throw notExists(oid);
  const end = offset + data.length;
  for (let page = Math.floor(offset / loPageBytes); page * loPageBytes < end; page++) {
    const pageStart = page * loPageBytes;
    const from = Math.max(offset, pageStart);
    const to = Math.min(end, pageStart + loPageBytes);
    const old = txn.get(pageKey(oid, page));
    const buf = Buffer.alloc(Math.max(old?.length ?? 0, to - pageStart));
    if (old) old.copy(buf, 0);
    data.copy(buf, from - pageStart, from - offset, to - offset);
    txn.put(pageKey(oid, page), buf);
  }
}

function truncateObject(txn: Txn, oid: number, len: number): void {
  if (exists(txn, oid) === null) throw notExists(oid);
  const lastPage = Math.floor(len / loPageBytes);
  const p = pagePrefix(oid);
  for (const { key, value } of txn.scan(p, prefixEnd(p))) {
    const page = pageNoOfKey(key, oid);
    if (page > lastPage || (page === lastPage && len % loPageBytes === 0)) txn.del(key);
    else if (page === lastPage && value.length > len % loPageBytes) txn.put(key, value.subarray(0, len % loPageBytes));
  }
  // Extending: the object's end is its last page's end, so the page holding byte len-1 must reach it.
  if (len > 0 && objectSize(txn, oid) < len) {
    const page = Math.floor((len - 1) / loPageBytes);
    const old = txn.get(pageKey(oid, page));
    const buf = Buffer.alloc(len - page * loPageBytes);
    if (old) old.copy(buf, 0);
    txn.put(pageKey(oid, page), buf);
  }
}

/** lo_get(oid [, offset, len]): bytes of the object without a descriptor. */
export function getLargeObject(txn: Txn, caller: LoCaller, oid: number, offset = 0, len = -1): Buffer {
  checkOwner(txn, caller, oid, 'permission denied for large object');
  if (offset < 0) throw new PgError(SqlState.InvalidParameterValue, 'invalid large object seek offset');
  const size = objectSize(txn, oid);
  const n = len < 0 ? size - offset : len;
  if (n > largeObjectReadBytesMax) throw new PgError(SqlState.ProgramLimitExceeded, 'large object read request is too large');
  return readRange(txn, oid, offset, Math.max(0, n));
}

/** lo_put(oid, offset, data) and lo_from_bytea's write. */
export function putLargeObject(txn: Txn, caller: LoCaller, oid: number, offset: number, data: Buffer): void {
  checkOwner(txn, caller, oid, 'permission denied for large object');
  if (offset < 0 || offset + data.length > largeObjectBytesMax) throw new PgError(SqlState.InvalidParameterValue, 'invalid large object seek offset');
  writeRange(txn, oid, offset, data);
}
