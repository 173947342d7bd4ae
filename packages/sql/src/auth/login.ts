/**
 * What a login needs from the SQL layer, read in one snapshot: the roles and ACLs, and the
 * host-based authentication rules in force (secure mode). And the checks after a client proved
 * who it is, in PostgreSQL's order (InitPostgres): the role may log in, the database exists, the
 * role may connect to it.
 */
import { PgError, SqlState } from '@strata/common';
import { Txn } from '@strata/kv';
import type { SqlEngine } from '../engine.js';
import { effectiveHba } from './hba.js';
import type { HbaRule } from './hba.js';
import { Priv } from './privileges.js';
import type { AuthView, RoleRecord } from './view.js';

export const hbaSettingName = 'server.host_based_authentication.configuration';

export interface LoginSnapshot {
  auth: AuthView;
  /** The rules in force (root's certificate rule first); null in insecure mode. */
  hba: HbaRule[] | null;
}

let parsed: { text: string; rules: HbaRule[] } | null = null;

/**
 * The node's cached role snapshot (dropped whenever an applied write touches /System/auth, so a
 * login never sees a role or password older than the last one this node applied) and, in secure
 * mode, the rules read through a short transaction (one point read; the parse is cached).
 */
export async function loginSnapshot(engine: SqlEngine, secure: boolean): Promise<LoginSnapshot> {
  const auth = await engine.auth.view(null);
  if (!secure) return { auth, hba: null };
  const txn = await Txn.begin(engine.opts.sender);
  let text: string;
  try {
    text = engine.clusterSetting(hbaSettingName, txn);
  } finally {
    txn.rollback();
  }
  if (parsed?.text !== text) {
    let rules: HbaRule[];
    try {
      rules = effectiveHba(text);
    } catch {
      // SET CLUSTER SETTING validated it; a value that no longer parses (a newer node wrote
      // it) must not open the door: the default rules apply.
      rules = effectiveHba('');
    }
    parsed = { text, rules };
  }
  return { auth, hba: parsed.rules };
}

function fatal(code: (typeof SqlState)[keyof typeof SqlState], message: string, detail?: string): PgError {
  return new PgError(code, message, { severity: 'FATAL', ...(detail ? { detail } : {}) });
}

/**
 * After authentication: the role exists and may log in, the database exists, and the role has
 * CONNECT on it (PUBLIC has it by default). Returns the role.
 */
export function authorizeSession(engine: SqlEngine, auth: AuthView, user: string, database: string): RoleRecord {
  const role = auth.role(user);
  if (!role) throw fatal(SqlState.InvalidAuthorizationSpecification, `role "${user}" does not exist`);
  if (!role.login) throw fatal(SqlState.InvalidAuthorizationSpecification, `role "${user}" is not permitted to log in`);
  const db = engine.catalog.view(null).database(database);
  if (!db) throw fatal(SqlState.InvalidCatalogName, `database "${database}" does not exist`);
  if ((auth.privileges(role.oid, 'database', db.id) & Priv.CONNECT) === 0) {
    throw fatal(SqlState.InsufficientPrivilege, `permission denied for database "${database}"`, 'User does not have CONNECT privilege.');
  }
  return role;
}
