/**
 * Result encoding of large arrays in slices (types.ts formatArraySliced, used by the driver):
 * the text it leaves for formatValue is exactly what formatValue computes in one go, one slice
 * per yield, and it is used only for the type and time zone it was computed for.
 */
import { describe, expect, it } from 'vitest';
import { T, arrayOf, formatArraySliced, formatValue } from '../src/types/types.js';
import type { Value, ValueContext } from '../src/types/types.js';

const utc: ValueContext = { timeZone: 'UTC', now: () => 0, extraFloatDigits: 1 };

describe('sliced array formatting', () => {
  it('gives formatValue its text, one slice per yield', () => {
    const arr: Value[] = Array.from({ length: 10_000 }, (_, i) =>
      i % 97 === 0 ? null : i % 5 === 0 ? `a "${i}"` : `v${i}`,
    );
    const t = arrayOf(T.text);
    const direct = formatValue(arr.slice(), t, utc);
    let slices = 0;
    for (const _ of formatArraySliced(arr, t, utc, 1000)) slices++;
    expect(slices).toBe(10);
    expect(formatValue(arr, t, utc)).toBe(direct);
  });

  it('is not used for another time zone', () => {
    const arr: Value[] = [0, 86_400_000_000];
    const t = arrayOf(T.timestamptz);
    for (const _ of formatArraySliced(arr, t, utc, 1)) void _;
    const other = formatValue(arr, t, { ...utc, timeZone: '+05:00' });
    expect(other).toBe(formatValue(arr.slice(), t, { ...utc, timeZone: '+05:00' }));
    expect(other).not.toBe(formatValue(arr, t, utc));
  });
});
