/**
 * The sessions (backends) of this node by pid, for pg_cancel_backend and pg_terminate_backend.
 * The wire layer registers each session when it starts and removes it when its connection closes;
 * a signal is delivered as PostgreSQL's: a cancel interrupts the running statement (57014, as a
 * CancelRequest does), a terminate ends the connection with FATAL 57P01 (at once when idle, at the
 * running statement's next yield point otherwise).
 *
 * Sessions of other nodes are not reached: their pids name their node (pgwire's pid layout), and
 * pg_cancel_backend/pg_terminate_backend answer false for them as for any pid that is not a
 * backend of this node.
 *
 * INVARIANT: a pid maps to at most one backend; a connection's end removes only its own entry
 *   (a pid reused by a newer session while an old statement still winds down stays the new one's).
 */

/** What pg_stat_activity shows of a session. */
export interface BackendActivity {
  database: string;
  applicationName: string;
  /** PostgreSQL's states: active, idle, idle in transaction, idle in transaction (aborted). */
  state: string;
  /** The running statement's text, or the last one's when idle. */
  query: string;
}

export interface Backend {
  /** The session's user (a non-superuser may signal only sessions of its own user). */
  user: string;
  activity(): BackendActivity;
  /** Whether the session's user is a superuser (its is_superuser at login). */
  superuser: boolean;
  cancel(): void;
  terminate(): void;
}

export class BackendRegistry {
  private readonly byPid = new Map<number, Backend>();

  add(pid: number, b: Backend): void {
    this.byPid.set(pid, b);
  }

  remove(pid: number, b: Backend): void {
    if (this.byPid.get(pid) === b) this.byPid.delete(pid);
  }

  get(pid: number): Backend | undefined {
    return this.byPid.get(pid);
  }

  /** Every session of this node, by pid. */
  all(): [number, Backend][] {
    return [...this.byPid].sort((a, b) => a[0] - b[0]);
  }
}
