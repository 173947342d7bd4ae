/**
 * jsonb comparison and containment as PostgreSQL defines them (jsonb_util.c): numbers compare as
 * numeric (1.0 = 1), ordering Object > Array > Boolean > Number > String > Null (an empty
 * top-level array below null), objects by pair count then pairs in storage order, arrays by
 * length then elements; `@>` with arrays matching elements of the same kind and a bare scalar
 * contained only by a top-level array.
 */
import { Decimal } from './numeric.js';

const isNum = (v: unknown): v is number | Decimal => typeof v === 'number' || v instanceof Decimal;
const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Decimal);
const dec = (v: number | Decimal) => (v instanceof Decimal ? v : Decimal.parse(String(v)));

function rank(v: unknown, top: boolean): number {
  if (v === null) return 1;
  if (Array.isArray(v)) return top && v.length === 0 ? 0 : 6;
  if (isObj(v)) return 7;
  if (typeof v === 'boolean') return 5;
  if (isNum(v)) return 4;
  return 3; // string
}

function storageKeys(o: Record<string, unknown>): string[] {
  return Object.keys(o).sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** compareJsonbContainers: total order of jsonb values. */
export function compareJsonb(a: unknown, b: unknown, top = true): number {
  const ra = rank(a, top);
  const rb = rank(b, top);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (a === null) return 0;
  if (Array.isArray(a)) {
    const y = b as unknown[];
    if (a.length !== y.length) return a.length < y.length ? -1 : 1;
    for (let i = 0; i < a.length; i++) {
      const c = compareJsonb(a[i], y[i], false);
      if (c !== 0) return c;
    }
    return 0;
  }
  if (isObj(a)) {
    const y = b as Record<string, unknown>;
    const ka = storageKeys(a);
    const kb = storageKeys(y);
    if (ka.length !== kb.length) return ka.length < kb.length ? -1 : 1;
    for (let i = 0; i < ka.length; i++) {
      const x = ka[i] as string;
      const z = kb[i] as string;
      if (x !== z) return x.length !== z.length ? (x.length < z.length ? -1 : 1) : cmpStr(x, z);
      const c = compareJsonb(a[x], y[z], false);
      if (c !== 0) return c;
    }
    return 0;
  }
  if (typeof a === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (isNum(a)) return dec(a).cmp(dec(b as number | Decimal));
  return cmpStr(a as string, b as string);
}

/** A canonical text for hashing: equal jsonb values (1.0 and 1) give equal keys. */
export function jsonbHashKey(v: unknown): string {
  if (v === null) return 'n';
  if (Array.isArray(v)) return '[' + v.map(jsonbHashKey).join(',') + ']';
  if (isObj(v))
    return (
      '{' +
      storageKeys(v)
        .map((k) => JSON.stringify(k) + ':' + jsonbHashKey(v[k]))
        .join(',') +
      '}'
    );
  if (isNum(v)) return '#' + dec(v).trimTrailingZeros().toString();
  if (typeof v === 'boolean') return v ? 't' : 'f';
  return JSON.stringify(v);
}

function scalarEq(a: unknown, b: unknown): boolean {
  if (isNum(a) && isNum(b)) return dec(a).cmp(dec(b)) === 0;
  return a === b;
}

/** a @> b (JsonbDeepContains). */
export function jsonbContains(a: unknown, b: unknown, top = true): boolean {
  if (Array.isArray(a)) {
    if (Array.isArray(b)) return b.every((y) => a.some((x) => elementContains(x, y)));
    // A top-level array contains a bare scalar it holds.
    return top && !isObj(b) && a.some((x) => !Array.isArray(x) && !isObj(x) && scalarEq(x, b));
  }
  if (isObj(a)) {
    if (!isObj(b)) return false;
    return Object.keys(b).every(
      (k) => Object.prototype.hasOwnProperty.call(a, k) && jsonbContains(a[k], b[k], false),
    );
  }
  if (Array.isArray(b) || isObj(b)) return false;
  return scalarEq(a, b);
}

function elementContains(x: unknown, y: unknown): boolean {
  if (Array.isArray(y)) return Array.isArray(x) && jsonbContains(x, y, false);
  if (isObj(y)) return isObj(x) && jsonbContains(x, y, false);
  return !Array.isArray(x) && !isObj(x) && scalarEq(x, y);
}

/** jsonb || jsonb: objects merge (right wins), otherwise arrays concatenate (scalars wrapped). */
export function jsonbConcat(x: unknown, y: unknown): unknown {
  if (isObj(x) && isObj(y)) return { ...x, ...y };
  const xa = Array.isArray(x) ? x : [x];
  const ya = Array.isArray(y) ? y : [y];
  return [...xa, ...ya];
}
