/**
 * LISTEN / NOTIFY between the sessions of one node, with PostgreSQL's semantics (async.c):
 *
 * - A transaction's NOTIFYs (and pg_notify calls) are pending until it commits; a rollback (or
 *   ROLLBACK TO a savepoint taken before them) drops them. Identical (channel, payload) pairs
 *   within one transaction are folded into the first one. LISTEN and UNLISTEN also take effect
 *   at commit, before the transaction's own notifications are delivered (a session that listens
 *   and notifies in one transaction hears itself).
 * - At commit the notifications go to every session listening on their channel then, in the
 *   order they were sent; transactions' notifications arrive in commit order.
 * - A listener's connection sends them between statements, outside a transaction block only
 *   (pgwire/connection.ts): a session inside a block hears nothing until the block ends.
 *   A notification queued for a channel the session no longer listens on when it is sent is
 *   dropped (PostgreSQL checks the listen set when it reads the queue, too).
 *
 * Bounds (constants.ts): each listener's queue holds at most notifyQueueBytesMax, all queues
 * together notifyNodeBytesMax. A committing transaction first reserves room in every queue it
 * will write (NotificationHub.prepare), so a queue never overflows: when one is full the COMMIT
 * fails with 54000 "too many notifications in the NOTIFY queue" and nothing is delivered, which is
 * PostgreSQL's answer to a listener that stops reading. From half full on, notifiers get
 * PostgreSQL's warning naming the slowest listener's pid, at most every notifyQueueWarnIntervalMs.
 *
 * INVARIANT: for every listener, queuedBytes + reservedBytes <= notifyQueueBytesMax; the hub's
 *   totalBytes is the sum of all of them and <= notifyNodeBytesMax.
 * INVARIANT: a Delivery is settled exactly once (deliver or cancel), which turns its reservation
 *   into queued bytes or gives it back.
 */
import { PgError, SqlState, assert } from '@strata/common';
import {
  notifyChannelBytesMax,
  notifyEntryOverheadBytes,
  notifyNodeBytesMax,
  notifyPayloadBytesMax,
  notifyPendingBytesMax,
  notifyQueueBytesMax,
  notifyQueueWarnIntervalMs,
} from './constants.js';

/** A NotificationResponse: channel, payload, and the backend pid of the notifying session. */
export interface Notification {
  channel: string;
  payload: string;
  pid: number;
}

interface Queued extends Notification {
  bytes: number;
}

/** PostgreSQL's WARNING when a queue is half full (async.c asyncQueueFillWarning). */
export interface NotifyWarning {
  message: string;
  detail: string;
  hint: string;
}

/** One session's listening state and its queue of notifications not yet sent. */
export class NotificationListener {
  /** Channels listened on (committed LISTENs), in the order they were added (pg_listening_channels). */
  readonly channels = new Set<string>();
  private readonly queue: Queued[] = [];
  private head = 0;
  queuedBytes = 0;
  reservedBytes = 0;
  /** Set by the connection: called when notifications were queued (it sends them when idle). */
  onArrival: (() => void) | null = null;

  constructor(
    readonly pid: number,
    private readonly hub: NotificationHub,
  ) {}

  get pending(): number {
    return this.queue.length - this.head;
  }

  /** The next notification to send, or null. Ones for channels no longer listened on are dropped. */
  take(): Notification | null {
    while (this.head < this.queue.length) {
      const n = this.queue[this.head] as Queued;
      this.queue[this.head] = undefined as unknown as Queued;
      this.head++;
      this.queuedBytes -= n.bytes;
      this.hub.released(n.bytes);
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      if (this.channels.has(n.channel)) return { channel: n.channel, payload: n.payload, pid: n.pid };
    }
    return null;
  }

  /** Appends notifications whose room was reserved (Delivery.deliver). */
  push(ns: Queued[], reserved: number): void {
    this.reservedBytes -= reserved;
    for (const n of ns) {
      this.queue.push(n);
      this.queuedBytes += n.bytes;
    }
    assert(this.reservedBytes >= 0, 'notification reservation underflow');
    this.onArrival?.();
  }

  /** Drops everything queued (the session ends). */
  clear(): void {
    for (let i = this.head; i < this.queue.length; i++) {
      const n = this.queue[i] as Queued;
      this.queuedBytes -= n.bytes;
      this.hub.released(n.bytes);
    }
    this.queue.length = 0;
    this.head = 0;
  }
}

/** A committing transaction's reservation in the queues of its listeners. */
export interface Delivery {
  deliver(): void;
  cancel(): void;
}

export interface PendingNotification {
  channel: string;
  payload: string;
  bytes: number;
}

export class NotificationHub {
  private readonly listeners = new Set<NotificationListener>();
  private totalBytes = 0;
  private lastWarningMs = 0;

  constructor(
    private readonly queueBytesMax = notifyQueueBytesMax,
    private readonly nodeBytesMax = notifyNodeBytesMax,
  ) {}

  listener(pid: number): NotificationListener {
    const l = new NotificationListener(pid, this);
    this.listeners.add(l);
    return l;
  }

  remove(l: NotificationListener): void {
    l.channels.clear();
    l.clear();
    // A reservation still held for it is given back when its Delivery settles.
    this.listeners.delete(l);
  }

  /** Called by a listener for every queued entry it gives up. */
  released(bytes: number): void {
    this.totalBytes -= bytes;
    assert(this.totalBytes >= 0, 'notification byte count underflow');
  }

  /** The node's queues' fill, 0..1 (pg_notification_queue_usage). */
  usage(): number {
    return this.totalBytes / this.nodeBytesMax;
  }

  /**
   * Reserves room for a committing transaction's notifications in the queue of every session
   * listening on one of their channels now (54000 if one is full: nothing is reserved then).
   * `warn` receives PostgreSQL's half-full warning.
   */
  prepare(pid: number, notes: readonly PendingNotification[], warn: (w: NotifyWarning) => void): Delivery {
    const plan = new Map<NotificationListener, Queued[]>();
    for (const l of this.listeners) {
      if (l.channels.size === 0) continue;
      let list: Queued[] | undefined;
      for (const n of notes) {
        if (!l.channels.has(n.channel)) continue;
        list ??= [];
        list.push({ channel: n.channel, payload: n.payload, pid, bytes: n.bytes });
      }
      if (list) plan.set(l, list);
    }
    const sizes = new Map<NotificationListener, number>();
    let total = 0;
    let fullest: NotificationListener | null = null;
    let fill = 0;
    for (const [l, list] of plan) {
      const bytes = list.reduce((s, n) => s + n.bytes, 0);
      const used = l.queuedBytes + l.reservedBytes + bytes;
      if (used > this.queueBytesMax) throw queueFull();
      sizes.set(l, bytes);
      total += bytes;
      if (used / this.queueBytesMax > fill) [fill, fullest] = [used / this.queueBytesMax, l];
    }
    if (this.totalBytes + total > this.nodeBytesMax) throw queueFull();
    fill = Math.max(fill, (this.totalBytes + total) / this.nodeBytesMax);
    const now = Date.now();
    if (fill >= 0.5 && now - this.lastWarningMs >= notifyQueueWarnIntervalMs) {
      this.lastWarningMs = now;
      warn({
        message: `NOTIFY queue is ${Math.round(fill * 100)}% full`,
        detail: `The server process with PID ${(fullest ?? { pid }).pid} is among those with the oldest transactions.`,
        hint: 'The NOTIFY queue cannot be emptied until that process ends its current transaction.',
      });
    }
    for (const [l, bytes] of sizes) l.reservedBytes += bytes;
    this.totalBytes += total;
    let settled = false;
    return {
      deliver: () => {
        assert(!settled, 'a notification delivery is settled once');
        settled = true;
        for (const [l, list] of plan) {
          const bytes = sizes.get(l) as number;
          if (this.listeners.has(l)) l.push(list, bytes);
          else this.released(bytes); // the session ended while its transaction committed
        }
      },
      cancel: () => {
        assert(!settled, 'a notification delivery is settled once');
        settled = true;
        for (const [l, bytes] of sizes) {
          l.reservedBytes -= bytes;
          this.released(bytes);
        }
      },
    };
  }
}

/**
 * Delivers notifications committed on another node (one transaction's, in order) to this node's
 * listeners. The commit is done, so a listener whose queue is full cannot fail it: the batch is
 * dropped for this node (returns false; the caller logs it). Within a node's delivery the
 * guarantees are notify.ts's; across nodes, delivery is best effort and in commit order per
 * sending node only.
 */
export function deliverRemoteTo(hub: NotificationHub, notes: readonly Notification[]): boolean {
  const first = notes[0];
  if (!first) return true;
  let d: Delivery;
  try {
    d = hub.prepare(first.pid, notes.map((n) => ({ channel: n.channel, payload: n.payload, bytes: Buffer.byteLength(n.channel) + Buffer.byteLength(n.payload) + notifyEntryOverheadBytes })), () => {});
  } catch (e) {
    if (e instanceof PgError && e.code === SqlState.ProgramLimitExceeded) return false;
    throw e;
  }
  d.deliver();
  return true;
}

function queueFull(): PgError {
  return new PgError(SqlState.ProgramLimitExceeded, 'too many notifications in the NOTIFY queue');
}

/** 22023 as pg_notify's checks (async.c Async_Notify); `bytes` is what the entry costs a queue. */
export function checkNotification(channel: string | null, payload: string | null): PendingNotification {
  if (channel === null || channel === '') throw new PgError(SqlState.InvalidParameterValue, 'channel name cannot be empty');
  const cb = Buffer.byteLength(channel);
  if (cb > notifyChannelBytesMax) throw new PgError(SqlState.InvalidParameterValue, 'channel name too long');
  const p = payload ?? '';
  const pb = Buffer.byteLength(p);
  if (pb >= notifyPayloadBytesMax) throw new PgError(SqlState.InvalidParameterValue, 'payload string too long');
  return { channel, payload: p, bytes: cb + pb + notifyEntryOverheadBytes };
}

/**
 * A transaction's pending NOTIFYs and LISTEN/UNLISTENs, in order. Savepoints record marks;
 * ROLLBACK TO truncates back to them (PostgreSQL's AtSubAbort_Notify).
 */
export class PendingNotifications {
  readonly notes: PendingNotification[] = [];
  private readonly seen = new Set<string>();
  private bytes = 0;
  /** LISTEN c, UNLISTEN c, UNLISTEN * (channel null), applied in order at commit. */
  readonly actions: { listen: boolean; channel: string | null }[] = [];

  get empty(): boolean {
    return this.notes.length === 0 && this.actions.length === 0;
  }

  add(n: PendingNotification): void {
    const key = `${n.channel}\0${n.payload}`;
    if (this.seen.has(key)) return;
    if (this.bytes + n.bytes > notifyPendingBytesMax) throw queueFull();
    this.seen.add(key);
    this.notes.push(n);
    this.bytes += n.bytes;
  }

  mark(): { notes: number; actions: number } {
    return { notes: this.notes.length, actions: this.actions.length };
  }

  rollbackTo(m: { notes: number; actions: number }): void {
    for (const n of this.notes.splice(m.notes)) {
      this.seen.delete(`${n.channel}\0${n.payload}`);
      this.bytes -= n.bytes;
    }
    this.actions.length = m.actions;
  }

  /** Applies the LISTEN/UNLISTEN actions to the listener's channels (at commit). */
  applyActions(l: NotificationListener): void {
    for (const a of this.actions) {
      if (a.channel === null) l.channels.clear();
      else if (a.listen) l.channels.add(a.channel);
      else l.channels.delete(a.channel);
    }
  }
}
