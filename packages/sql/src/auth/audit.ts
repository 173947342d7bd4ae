/**
 * The audit log: one JSON line (pino, component "audit") per login, failed login, and change of
 * roles, memberships or privileges. Its level is info whatever STRATA_LOG_LEVEL says (an audit
 * trail that a quieter log level silences is no trail); failed logins are warnings. Lines never
 * carry a password or a verifier.
 *
 * Changes are logged when their statement runs, with the transaction's id (as pgaudit does):
 * a change whose transaction later rolls back was attempted, and the line says in which one.
 */
import { rootLogger } from '@strata/common';
import type { Logger } from '@strata/common';
import type { Txn } from '@strata/kv';

let log: Logger | null = null;

function audit(): Logger {
  log ??= rootLogger().child({ component: 'audit' }, { level: 'info' });
  return log;
}

export interface LoginEvent {
  user: string;
  database: string;
  remote: string;
  method: string;
  ssl: boolean;
}

export function auditLogin(e: LoginEvent): void {
  audit().info({ event: 'login', ...e }, `login: ${e.user}`);
}

/** A failed login; `reason` is for the operator (the client only learns 28P01/28000). */
export function auditLoginFailed(e: Omit<LoginEvent, 'method'> & { method: string | null; reason: string }): void {
  audit().warn({ event: 'login_failed', ...e }, `failed login: ${e.user}: ${e.reason}`);
}

/** A role or privilege change, logged as its statement runs. */
export function auditChange(txn: Txn, by: string, statement: string, detail: Record<string, unknown>): void {
  audit().info({ event: 'privilege_change', user: by, statement, txn: txn.id, ...detail }, `${statement} by ${by}`);
}
