/**
 * A store's identity: the cluster it belongs to and the node id the cluster gave it, kept in
 * `<store>/STRATA_IDENT` (JSON). Written once — by `init` on the first node, or after a join —
 * atomically (a temporary file, fsync, rename, fsync of the directory), before the store's first
 * range exists or it accepts replicas. A restarted node reads it back and rejoins as that node.
 *
 * INVARIANT: a node id is never used by two stores of one cluster (ids come from the cluster's
 *   counter, /System/idgen/node, through an increment request, or are 1 for the initializing node).
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PgError, SqlState } from '@strata/common';

export interface StoreIdent {
  clusterId: string;
  nodeId: number;
}

export const identFileName = 'STRATA_IDENT';

export function readIdent(storeDir: string): StoreIdent | null {
  let text: string;
  try {
    text = readFileSync(join(storeDir, identFileName), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const j = JSON.parse(text) as Partial<StoreIdent>;
  if (typeof j.clusterId !== 'string' || !Number.isInteger(j.nodeId) || (j.nodeId as number) < 1) {
    throw new PgError(SqlState.DataCorrupted, `${join(storeDir, identFileName)} is not a valid store identity: ${text.slice(0, 200)}`);
  }
  return { clusterId: j.clusterId, nodeId: j.nodeId as number };
}

export function writeIdent(storeDir: string, ident: StoreIdent): void {
  const tmp = join(storeDir, `${identFileName}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(ident)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(storeDir, identFileName));
  const dirFd = openSync(storeDir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** The identity of the node that initializes a new cluster. */
export function newClusterIdent(): StoreIdent {
  return { clusterId: randomUUID(), nodeId: 1 };
}
