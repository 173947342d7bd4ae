/**
 * The pure part of LISTEN/NOTIFY (notify.ts): reservations keep every listener's queue within its
 * bound, a settled delivery turns them into queued bytes or gives them back, and a transaction's
 * pending notifications fold duplicates and roll back to savepoint marks.
 */
import { PgError } from '@strata/common';
import { describe, expect, it } from 'vitest';
import { NotificationHub, PendingNotifications, checkNotification } from '../src/notify.js';

const note = (channel: string, payload: string) => checkNotification(channel, payload);

function codeOf(f: () => unknown): string {
  try {
    f();
    return 'no error';
  } catch (e) {
    return e instanceof PgError ? e.code : String(e);
  }
}

describe('NotificationHub', () => {
  it('queues for listeners of the channel at delivery, in order, with the sender pid', () => {
    const hub = new NotificationHub();
    const a = hub.listener(1);
    const b = hub.listener(2);
    a.channels.add('c');
    let arrived = 0;
    a.onArrival = () => arrived++;
    const d = hub.prepare(9, [note('c', 'x'), note('other', 'y'), note('c', 'z')], () => undefined);
    expect(a.pending).toBe(0); // reserved, not yet queued
    d.deliver();
    expect(arrived).toBe(1);
    expect(b.pending).toBe(0);
    expect([a.take(), a.take(), a.take()]).toEqual([{ channel: 'c', payload: 'x', pid: 9 }, { channel: 'c', payload: 'z', pid: 9 }, null]);
    expect(hub.usage()).toBe(0);
  });

  it('refuses a transaction that does not fit a listener queue (54000) and reserves nothing then', () => {
    const hub = new NotificationHub(1000, 10_000);
    const a = hub.listener(1);
    a.channels.add('c');
    const warnings: string[] = [];
    const big = (i: number) => note('c', `${i}`.padEnd(300, '.'));
    hub.prepare(9, [big(1), big(2)], (w) => warnings.push(w.message)).deliver(); // 2 × ~365 bytes
    expect(warnings).toEqual(['NOTIFY queue is 73% full']);
    expect(codeOf(() => hub.prepare(9, [big(3)], () => undefined))).toBe('54000');
    expect(a.reservedBytes).toBe(0);
    // Reading frees room.
    expect(a.take()?.payload.startsWith('1')).toBe(true);
    const d = hub.prepare(9, [big(3)], () => undefined);
    expect(a.reservedBytes).toBeGreaterThan(0);
    d.cancel(); // the commit failed: the room is given back
    expect(a.reservedBytes).toBe(0);
    expect(a.queuedBytes).toBeGreaterThan(0);
  });

  it('drops notifications for channels no longer listened on, and a removed listener frees its bytes', () => {
    const hub = new NotificationHub();
    const a = hub.listener(1);
    a.channels.add('c');
    a.channels.add('d');
    hub.prepare(9, [note('c', '1'), note('d', '2')], () => undefined).deliver();
    a.channels.delete('c');
    expect(a.take()).toEqual({ channel: 'd', payload: '2', pid: 9 });
    const pendingDelivery = hub.prepare(9, [note('d', '3')], () => undefined);
    hub.prepare(9, [note('d', '4')], () => undefined).deliver();
    hub.remove(a);
    pendingDelivery.deliver(); // its session ended while it committed
    expect(hub.usage()).toBe(0);
  });
});

describe('PendingNotifications', () => {
  it('folds identical channel and payload, and rolls back to a savepoint mark', () => {
    const p = new PendingNotifications();
    p.add(note('c', 'a'));
    p.add(note('c', 'a'));
    p.add(note('c', 'b'));
    const m = p.mark();
    p.add(note('c', 'e'));
    p.actions.push({ listen: true, channel: 'x' });
    p.rollbackTo(m);
    expect(p.notes.map((n) => n.payload)).toEqual(['a', 'b']);
    expect(p.actions).toEqual([]);
    p.add(note('c', 'e')); // folded away only while it was pending
    expect(p.notes.map((n) => n.payload)).toEqual(['a', 'b', 'e']);
  });

  it('checks names and payloads as pg_notify (22023)', () => {
    expect(codeOf(() => checkNotification('', 'x'))).toBe('22023');
    expect(codeOf(() => checkNotification(null, 'x'))).toBe('22023');
    expect(codeOf(() => checkNotification('c'.repeat(64), 'x'))).toBe('22023');
    expect(codeOf(() => checkNotification('c', 'x'.repeat(8000)))).toBe('22023');
    expect(checkNotification('c', null).payload).toBe('');
    // Multi-byte: the limits count bytes.
    expect(codeOf(() => checkNotification('é'.repeat(32), 'x'))).toBe('22023');
  });
});
