/**
 * json/jsonb path operators and editing functions, as PostgreSQL 15's jsonfuncs.c:
 * `#>` / `#>>` and json(b)_extract_path(_text) (get_path_all, jsonb_get_element), jsonb `-` text /
 * text[] / integer, `#-`, `?|`, `?&`, jsonb_set, jsonb_set_lax, jsonb_insert (setPath with its
 * op_type rules), json(b)_strip_nulls, json(b)_object, json_array_length and the jsonb_exists /
 * jsonb_contains family. jsonb values are { jsonb: tree } (objects are plain records, printed with
 * PostgreSQL's key order by formatJsonb); json values are { json: text } and keep their text.
 */
import { PgError, SqlState } from '@strata/common';
import { flattenArray, isMultiDim } from '../types/array_md.js';
import { jsonTextElement, jsonTextEntries } from '../types/json.js';
import { jsonbContains } from '../types/jsonb_ops.js';
import { Decimal } from '../types/numeric.js';
import { T, arrayOf, formatJsonb } from '../types/types.js';
import type { JsonValue, SqlType, Value } from '../types/types.js';
import type { ExecCtx } from '../exec/context.js';
import { def } from './registry.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Decimal);
const jb = (v: Value): unknown => (v as JsonValue).jsonb;
const txtArr = arrayOf(T.text);

/** Sets an own property without ever touching the prototype (a key may be "__proto__"). */
function put(o: Obj, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}
function copyObj(o: Obj): Obj {
  const out: Obj = {};
  for (const k of Object.keys(o)) put(out, k, o[k]);
  return out;
}
const has = (o: Obj, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** strtol/strtoint as the path functions use it: optional leading blanks and sign, digits, nothing after; null if not an int4. */
function pathIndex(s: string): number | null {
  if (!/^\s*[+-]?\d+$/.test(s)) return null;
  const n = Number(s);
  return n > 2147483647 || n < -2147483648 ? null : n;
}

function pathElems(path: Value, checkDims = true): (string | null)[] {
  const a = path as Value[];
  if (checkDims && isMultiDim(a)) throw new PgError(SqlState.ArraySubscriptError, 'wrong number of array subscripts');
  return flattenArray(a) as (string | null)[];
}

/** A jsonb value as `->>` / `#>>` print it: strings unquoted, JSON null as SQL NULL. */
function jsonbText(v: unknown): string | null {
  if (v === null) return null;
  return typeof v === 'string' ? v : formatJsonb(v);
}

/** jsonb_get_element: the value at `path`, or undefined. */
function jsonbAtPath(root: unknown, path: (string | null)[]): unknown {
  if (path.some((p) => p === null)) return undefined;
  let cur = root;
  for (const p of path as string[]) {
    if (isObj(cur)) {
      if (!has(cur, p)) return undefined;
      cur = cur[p];
    } else if (Array.isArray(cur)) {
      const i = pathIndex(p);
      if (i === null) return undefined;
      const k = i >= 0 ? i : cur.length + i;
      if (i === -2147483648 || k < 0 || k >= cur.length) return undefined;
      cur = cur[k];
    } else return undefined;
  }
  return cur;
}

/** jsonb[…][…] (jsonb_subscript_fetch): jsonb_get_element over the subscripts as text; NULL when absent. */
export function jsonbSubscript(root: Value, subs: (string | null)[]): Value {
  if (root === null) return null;
  const v = jsonbAtPath(jb(root), subs);
  return v === undefined ? null : { jsonb: v };
}

/** get_path_all on json text: the raw text of the value at `path`, or undefined. */
function jsonAtPath(text: string, path: (string | null)[]): string | undefined {
  if (path.some((p) => p === null)) return undefined;
  let cur = text.trim();
  for (const p of path as string[]) {
    const open = cur[0];
    let next: string | undefined;
    if (open === '{') next = jsonTextElement(cur, p);
    else if (open === '[') {
      const i = pathIndex(p);
      next = i === null ? undefined : jsonTextElement(cur, i);
    }
    if (next === undefined) return undefined;
    cur = next.trim();
  }
  return cur;
}
function jsonRawToText(raw: string): string | null {
  if (raw === 'null') return null;
  return raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
}

const pathGet = (textOut: boolean, json: boolean) => (a: Value, p: Value): Value => {
  const path = pathElems(p, false);
  if (json) {
    const raw = jsonAtPath((a as { json: string }).json, path);
    if (raw === undefined) return null;
    return textOut ? jsonRawToText(raw) : { json: raw };
  }
  const v = jsonbAtPath(jb(a), path);
  if (v === undefined) return null;
  return textOut ? jsonbText(v) : { jsonb: v };
};

// ---- setPath (jsonb_set, jsonb_insert, #-) ----

const enum PathOp {
  Create = 1,
  Replace = 2,
  InsertBefore = 4,
  InsertAfter = 8,
  Delete = 16,
}
const createOrInsert = PathOp.Create | PathOp.InsertBefore | PathOp.InsertAfter;

/** setPath: `node` with the value at path[level…] set, inserted or deleted, as jsonfuncs.c. */
function setPath(node: unknown, path: (string | null)[], level: number, newval: unknown, op: PathOp): unknown {
  if (path[level] === null) throw new PgError(SqlState.NullValueNotAllowed, `path element at position ${level + 1} is null`);
  if (Array.isArray(node)) return setPathArray(node, path, level, newval, op);
  if (isObj(node)) return setPathObject(node, path, level, newval, op);
  return node; // a scalar inside the document: left alone
}

function setPathObject(o: Obj, path: (string | null)[], level: number, newval: unknown, op: PathOp): Obj {
  const key = path[level] as string;
  const last = level === path.length - 1;
  const out = copyObj(o);
  if (has(o, key)) {
    if (last) {
      if (op & (PathOp.InsertBefore | PathOp.InsertAfter)) {
        throw new PgError(SqlState.InvalidParameterValue, 'cannot replace existing key', { hint: 'Try using the function jsonb_set to replace key value.' });
      }
      if (op & PathOp.Delete) delete out[key];
      else put(out, key, newval);
    } else put(out, key, setPath(o[key], path, level + 1, newval, op));
  } else if (op & createOrInsert && last) put(out, key, newval);
  return out;
}

function setPathArray(a: unknown[], path: (string | null)[], level: number, newval: unknown, op: PathOp): unknown[] {
  const n = a.length;
  const p = path[level] as string;
  let idx = pathIndex(p.trim() === p ? p : p);
  if (idx === null) throw new PgError(SqlState.InvalidTextRepresentation, `path element at position ${level + 1} is not an integer: "${p}"`);
  const intMin = -2147483648;
  if (idx < 0) idx = -idx > n ? intMin : n + idx;
  if (idx > 0 && idx > n) idx = n;
  const last = level === path.length - 1;
  const out: unknown[] = [];
  let done = false;
  if ((idx === intMin || n === 0) && last && op & createOrInsert) {
    out.push(newval);
    done = true;
  }
  for (let i = 0; i < n; i++) {
    if (i === idx) {
      if (last) {
        if (op & (PathOp.InsertBefore | PathOp.Create)) out.push(newval);
        if (op & (PathOp.InsertAfter | PathOp.InsertBefore)) out.push(a[i]);
        if (op & (PathOp.InsertAfter | PathOp.Replace)) out.push(newval);
        done = true;
      } else out.push(setPath(a[i], path, level + 1, newval, op));
    } else out.push(a[i]);
  }
  if (op & createOrInsert && !done && last) out.push(newval);
  return out;
}

function rootCount(v: unknown): number {
  return Array.isArray(v) ? v.length : isObj(v) ? Object.keys(v).length : 1;
}

function jsonbSet(target: unknown, path: Value, newval: unknown, create: boolean): unknown {
  const elems = pathElems(path);
  if (!Array.isArray(target) && !isObj(target)) throw new PgError(SqlState.InvalidParameterValue, 'cannot set path in scalar');
  if (rootCount(target) === 0 && !create) return target;
  if (elems.length === 0) return target;
  return setPath(target, elems, 0, newval, create ? PathOp.Create : PathOp.Replace);
}

function jsonbInsert(target: unknown, path: Value, newval: unknown, after: boolean): unknown {
  const elems = pathElems(path);
  if (!Array.isArray(target) && !isObj(target)) throw new PgError(SqlState.InvalidParameterValue, 'cannot set path in scalar');
  if (elems.length === 0) return target;
  return setPath(target, elems, 0, newval, after ? PathOp.InsertAfter : PathOp.InsertBefore);
}

function jsonbDeletePath(target: unknown, path: Value): unknown {
  const elems = pathElems(path);
  if (!Array.isArray(target) && !isObj(target)) throw new PgError(SqlState.InvalidParameterValue, 'cannot delete path in scalar');
  if (rootCount(target) === 0 || elems.length === 0) return target;
  return setPath(target, elems, 0, null, PathOp.Delete);
}

function deleteKeys(v: unknown, keys: (string | null)[]): unknown {
  if (!Array.isArray(v) && !isObj(v)) throw new PgError(SqlState.InvalidParameterValue, 'cannot delete from scalar');
  const ks = new Set(keys.filter((k): k is string => k !== null));
  if (ks.size === 0) return v;
  if (Array.isArray(v)) return v.filter((e) => !(typeof e === 'string' && ks.has(e)));
  const out: Obj = {};
  for (const k of Object.keys(v)) if (!ks.has(k)) put(out, k, v[k]);
  return out;
}

function deleteIndex(v: unknown, i: number): unknown {
  if (isObj(v)) throw new PgError(SqlState.InvalidParameterValue, 'cannot delete from object using integer index');
  if (!Array.isArray(v)) throw new PgError(SqlState.InvalidParameterValue, 'cannot delete from scalar');
  const n = v.length;
  const k = i < 0 ? (-i > n ? -1 : n + i) : i;
  if (k < 0 || k >= n) return v;
  return v.filter((_e, j) => j !== k);
}

/** json(b)_strip_nulls: object fields whose value is JSON null removed, at every depth. */
function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripNulls);
  if (isObj(v)) {
    const out: Obj = {};
    for (const k of Object.keys(v)) if (v[k] !== null) put(out, k, stripNulls(v[k]));
    return out;
  }
  return v;
}

/** The operators (resolveBinaryOp calls this for json and jsonb left operands). */
export interface JsonOp {
  left: SqlType;
  right: SqlType;
  result: SqlType;
  fn: (a: Value, b: Value, ctx: ExecCtx) => Value;
}
export function resolveJsonOp(op: string, l: SqlType, r: SqlType): JsonOp | null {
  const json = l.kind === 'json';
  if (!json && l.kind !== 'jsonb') return null;
  if (op === '#>' || op === '#>>') {
    const textOut = op === '#>>';
    const get = pathGet(textOut, json);
    return { left: l, right: txtArr, result: textOut ? T.text : l, fn: (a, b) => get(a, b) };
  }
  if (json) return null;
  const isInt = r.kind === 'int2' || r.kind === 'int4' || r.kind === 'int8';
  if (op === '-') {
    if (isInt) return { left: T.jsonb, right: T.int4, result: T.jsonb, fn: (a, b) => ({ jsonb: deleteIndex(jb(a), b as number) }) };
    if (r.kind === 'array') return { left: T.jsonb, right: txtArr, result: T.jsonb, fn: (a, b) => ({ jsonb: deleteKeys(jb(a), flattenArray(b as Value[]) as (string | null)[]) }) };
    if (r.kind === 'unknown' || r.kind === 'text' || r.kind === 'varchar') return { left: T.jsonb, right: T.text, result: T.jsonb, fn: (a, b) => ({ jsonb: deleteKeys(jb(a), [b as string]) }) };
    return null;
  }
  if (op === '#-') return { left: T.jsonb, right: txtArr, result: T.jsonb, fn: (a, b) => ({ jsonb: jsonbDeletePath(jb(a), b) }) };
  if (op === '?|' || op === '?&') {
    const any = op === '?|';
    return { left: T.jsonb, right: txtArr, result: T.bool, fn: (a, b) => existsKeys(jb(a), flattenArray(b as Value[]) as (string | null)[], any) };
  }
  return null;
}

/** jsonb `?`: a top-level key, or a string element of a top-level array (or the scalar string itself). */
function existsKey(v: unknown, k: string): boolean {
  if (isObj(v)) return has(v, k);
  if (Array.isArray(v)) return v.some((e) => e === k);
  return v === k;
}
/** `?|` / `?&`: NULL keys in the array are skipped; `?&` of no keys is true, `?|` false. */
function existsKeys(v: unknown, keys: (string | null)[], any: boolean): boolean {
  const ks = keys.filter((k): k is string => k !== null);
  return any ? ks.some((k) => existsKey(v, k)) : ks.every((k) => existsKey(v, k));
}

// ---- functions ----

const J = T.jsonb;
const js = T.json;
def('jsonb_set', { args: [J, txtArr, J], result: J, fn: ([t, p, n]) => ({ jsonb: jsonbSet(jb(t), p, jb(n), true) }) }, { args: [J, txtArr, J, T.bool], result: J, fn: ([t, p, n, c]) => ({ jsonb: jsonbSet(jb(t), p, jb(n), c as boolean) }) });
def('jsonb_insert', { args: [J, txtArr, J], result: J, fn: ([t, p, n]) => ({ jsonb: jsonbInsert(jb(t), p, jb(n), false) }) }, { args: [J, txtArr, J, T.bool], result: J, fn: ([t, p, n, after]) => ({ jsonb: jsonbInsert(jb(t), p, jb(n), after as boolean) }) });

/** jsonb_set_lax: a NULL new value handled by null_value_treatment. */
function jsonbSetLax(args: Value[]): Value {
  const [t, p, n, c, how] = args as [Value, Value, Value, Value, Value];
  if (how === null) throw new PgError(SqlState.NullValueNotAllowed, 'null_value_treatment must be "delete_key", "return_target", "use_json_null", or "raise_exception"');
  if (t === null || p === null || c === null) return null;
  if (n !== null) return { jsonb: jsonbSet(jb(t), p, jb(n), c as boolean) };
  switch (how as string) {
    case 'raise_exception':
      throw new PgError(SqlState.NullValueNotAllowed, 'JSON value must not be null', {
        detail: 'Exception was raised because null_value_treatment is "raise_exception".',
        hint: 'To avoid, either change the null_value_treatment argument or ensure that an SQL NULL is not passed.',
      });
    case 'delete_key':
      return { jsonb: jsonbDeletePath(jb(t), p) };
    case 'return_target':
      return t;
    case 'use_json_null':
      return { jsonb: jsonbSet(jb(t), p, null, c as boolean) };
    default:
      throw new PgError(SqlState.InvalidParameterValue, 'null_value_treatment must be "delete_key", "return_target", "use_json_null", or "raise_exception"');
  }
}
def(
  'jsonb_set_lax',
  { args: [J, txtArr, J], result: J, nullable: true, fn: ([t, p, n]) => jsonbSetLax([t, p, n, true, 'use_json_null']) },
  { args: [J, txtArr, J, T.bool], result: J, nullable: true, fn: ([t, p, n, c]) => jsonbSetLax([t, p, n, c, 'use_json_null']) },
  { args: [J, txtArr, J, T.bool, T.text], result: J, nullable: true, fn: (a) => jsonbSetLax(a) },
);

def('jsonb_extract_path', { args: [J, T.text], variadic: true, result: J, fn: (a) => pathGet(false, false)(a[0], a.slice(1)) });
def('jsonb_extract_path_text', { args: [J, T.text], variadic: true, result: T.text, fn: (a) => pathGet(true, false)(a[0], a.slice(1)) });
def('json_extract_path', { args: [js, T.text], variadic: true, result: js, fn: (a) => pathGet(false, true)(a[0], a.slice(1)) });
def('json_extract_path_text', { args: [js, T.text], variadic: true, result: T.text, fn: (a) => pathGet(true, true)(a[0], a.slice(1)) });

def('jsonb_strip_nulls', { args: [J], result: J, fn: ([v]) => ({ jsonb: stripNulls(jb(v)) }) });
def('jsonb_delete', { args: [J, T.text], result: J, fn: ([v, k]) => ({ jsonb: deleteKeys(jb(v), [k as string]) }) }, { args: [J, T.int4], result: J, fn: ([v, i]) => ({ jsonb: deleteIndex(jb(v), i as number) }) });
def('jsonb_delete_path', { args: [J, txtArr], result: J, fn: ([v, p]) => ({ jsonb: jsonbDeletePath(jb(v), p) }) });
def('jsonb_exists', { args: [J, T.text], result: T.bool, fn: ([v, k]) => existsKey(jb(v), k as string) });
def('jsonb_exists_any', { args: [J, txtArr], result: T.bool, fn: ([v, k]) => existsKeys(jb(v), flattenArray(k as Value[]) as (string | null)[], true) });
def('jsonb_exists_all', { args: [J, txtArr], result: T.bool, fn: ([v, k]) => existsKeys(jb(v), flattenArray(k as Value[]) as (string | null)[], false) });
def('jsonb_contains', { args: [J, J], result: T.bool, fn: ([a, b]) => jsonbContains(jb(a), jb(b)) });
def('jsonb_contained', { args: [J, J], result: T.bool, fn: ([a, b]) => jsonbContains(jb(b), jb(a)) });

/** json_array_length on json text: the number of top-level elements. */
def('json_array_length', {
  args: [js],
  result: T.int4,
  fn: ([v]) => {
    const s = (v as { json: string }).json.trim();
    if (s[0] !== '[') throw new PgError(SqlState.InvalidParameterValue, s[0] === '{' ? 'cannot get array length of a non-array' : 'cannot get array length of a scalar');
    let n = 0;
    while (jsonTextElement(s, n) !== undefined) n++;
    return n;
  },
});

/**
 * json_object / jsonb_object: from one text array of alternating keys and values (one or two
 * dimensions), or from a key array and a value array. Keys must not be NULL; values may be.
 */
function objectPairs(a: Value[] | null, b: Value[] | null): [string, string | null][] {
  const pairs: [string, string | null][] = [];
  if (b === null) {
    const arr = a as Value[];
    const dims = arr.length === 0 ? 0 : isMultiDim(arr) ? 2 : 1;
    if (isMultiDim(arr) && Array.isArray(arr[0]) && Array.isArray((arr[0] as Value[])[0])) throw new PgError(SqlState.ArraySubscriptError, 'wrong number of array subscripts');
    const flat = flattenArray(arr) as (string | null)[];
    if (dims === 1 && flat.length % 2 !== 0) throw new PgError(SqlState.ArraySubscriptError, 'array must have even number of elements');
    if (dims === 2 && (arr[0] as Value[]).length !== 2) throw new PgError(SqlState.ArraySubscriptError, 'array must have two columns');
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (flat[i] === null) throw new PgError(SqlState.NullValueNotAllowed, 'null value not allowed for object key');
      pairs.push([flat[i] as string, flat[i + 1] ?? null]);
    }
    return pairs;
  }
  const ka = a as Value[];
  const va = b;
  if (isMultiDim(ka) || isMultiDim(va)) throw new PgError(SqlState.ArraySubscriptError, 'wrong number of array subscripts');
  if (ka.length !== va.length) throw new PgError(SqlState.ArraySubscriptError, 'mismatched array dimensions');
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] === null) throw new PgError(SqlState.NullValueNotAllowed, 'null value not allowed for object key');
    pairs.push([ka[i] as string, (va[i] as string | null) ?? null]);
  }
  return pairs;
}
function jsonObjectText(pairs: [string, string | null][]): { json: string } {
  return { json: '{' + pairs.map(([k, v]) => `${JSON.stringify(k)} : ${v === null ? 'null' : JSON.stringify(v)}`).join(', ') + '}' };
}
function jsonbObjectValue(pairs: [string, string | null][]): JsonValue {
  const o: Obj = {};
  for (const [k, v] of pairs) put(o, k, v);
  return { jsonb: o };
}
def('json_object', { args: [txtArr], result: js, fn: ([a]) => jsonObjectText(objectPairs(a as Value[], null)) }, { args: [txtArr, txtArr], result: js, fn: ([a, b]) => jsonObjectText(objectPairs(a as Value[], b as Value[])) });
def('jsonb_object', { args: [txtArr], result: J, fn: ([a]) => jsonbObjectValue(objectPairs(a as Value[], null)) }, { args: [txtArr, txtArr], result: J, fn: ([a, b]) => jsonbObjectValue(objectPairs(a as Value[], b as Value[])) });

/**
 * json_strip_nulls on json text: the value re-written without whitespace, object fields whose value
 * is null left out, strings and keys re-escaped as escape_json writes them, numbers as written.
 */
function stripNullsText(raw: string): string {
  const e = jsonTextEntries(raw);
  if (e.kind === 'array') return '[' + e.items.map(stripNullsText).join(',') + ']';
  if (e.kind === 'object') {
    return '{' + e.pairs.filter(([, v]) => v.trim() !== 'null').map(([k, v]) => `${JSON.stringify(k)}:${stripNullsText(v)}`).join(',') + '}';
  }
  const t = raw.trim();
  return t.startsWith('"') ? JSON.stringify(JSON.parse(t) as string) : t;
}
def('json_strip_nulls', { args: [js], result: js, fn: ([v]) => ({ json: stripNullsText((v as { json: string }).json) }) });

/** json_typeof: the kind of the top-level value, read from its first character. */
def('json_typeof', {
  args: [js],
  result: T.text,
  fn: ([v]) => {
    const c = (v as { json: string }).json.trim()[0];
    return c === '{' ? 'object' : c === '[' ? 'array' : c === '"' ? 'string' : c === 't' || c === 'f' ? 'boolean' : c === 'n' ? 'null' : 'number';
  },
});
