/**
 * The node-wide budget of request bodies: requests past it wait in arrival order and go on as
 * others give bytes back; past the waiting bound they are refused (503); a lone request always
 * gets room, so no single body can deadlock.
 */
import { describe, expect, it } from 'vitest';
import { BodyBudget } from '../src/http.js';

describe('BodyBudget', () => {
  it('makes requests past the budget wait in order, and refuses past the waiting bound', async () => {
    const b = new BodyBudget(100, 2);
    await b.take(60);
    await b.take(40);
    expect(b.inUse).toBe(100);
    const order: string[] = [];
    const first = b.take(30).then(() => order.push('first'));
    const second = b.take(10).then(() => order.push('second'));
    await expect(b.take(1)).rejects.toMatchObject({ status: 503 });
    await Promise.resolve();
    expect(order).toEqual([]);
    b.give(40);
    await first;
    await second;
    expect(order).toEqual(['first', 'second']);
    expect(b.inUse).toBe(100);
    b.give(100);
    expect(b.inUse).toBe(0);
    // A body larger than the whole budget still goes through when it is alone.
    await b.take(500);
    expect(b.inUse).toBe(500);
    b.give(500);
  });
});
