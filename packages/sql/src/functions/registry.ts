/**
 * The registry of built-in functions: each name maps to its overloads, which state their
 * argument types (arguments are implicitly cast to them by the binder) and result type. Function
 * families live in their own files (scalar.ts, math.ts, format.ts, to_char.ts, …) and register
 * here when imported.
 */
import type { ExecCtx } from '../exec/context.js';
import type { SqlType, Value } from '../types/types.js';

/** Arguments as a tuple type, so destructuring yields exact types (the binder checks arity). */
export type Args = [Value, Value, Value, Value, Value, Value, Value, ...Value[]];
export type Fn = (args: Args, ctx: ExecCtx) => Value;

export interface Overload {
  args: SqlType[];
  /** Variadic: the last arg type repeats. */
  variadic?: boolean;
  result: SqlType | ((argTypes: SqlType[]) => SqlType);
  fn: Fn;
  /** Called with NULL arguments too (otherwise NULL in → NULL out). */
  nullable?: boolean;
  volatile?: boolean;
  /**
   * Builds the implementation from the bound argument types (for functions whose behaviour
   * depends on them, e.g. format() printing a date, to_jsonb). With VARIADIC spreading, the
   * last type is the array's element type and stands for every spread element.
   */
  typed?: (argTypes: SqlType[], spread: boolean) => Fn;
}

/** The "any" argument type: no implicit cast; the function sees the argument's own type (through `typed`). Compared by identity. */
export const ANY: SqlType = { kind: 'unknown', typmod: -2 };

const registry = new Map<string, Overload[]>();

/** Adds overloads to each name. */
export function def(names: string | string[], ...overloads: Overload[]): void {
  for (const n of Array.isArray(names) ? names : [names])
    registry.set(n, [...(registry.get(n) ?? []), ...overloads]);
}

export function lookupFunction(name: string): Overload[] | undefined {
  return registry.get(name);
}

export function functionNames(): string[] {
  return [...registry.keys()];
}
