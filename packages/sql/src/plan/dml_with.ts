/**
 * WITH on INSERT, UPDATE and DELETE (`WITH s AS (…) INSERT INTO t SELECT * FROM s`): the CTEs
 * are in scope for every part of the statement (its source, FROM/USING, WHERE, SET, ON CONFLICT,
 * RETURNING) and are materialized once, before the statement reads anything — as a query's WITH.
 * A CTE shadows a table of the same name, so `WITH t AS (SELECT 42) INSERT INTO t SELECT * FROM t`
 * inserts 42 into the table t (PostgreSQL's rule: the target is always a table).
 */
import type { CommonTableExpr } from '../parser/ast.js';
import type { Batches, ExecCtx } from '../exec/context.js';
import type { QueryPlanner } from './query.js';

/** What this module needs of a compiled data-modifying statement. */
interface Startable {
  start(ctx: ExecCtx): { batches: Batches; state: { count: number } };
  lockKeys?: unknown;
}

/** Compiles a data-modifying statement (`compile`) with its WITH list in scope. */
export function withStatementCtes<C extends Startable>(planner: QueryPlanner, list: CommonTableExpr[], compile: () => C): C {
  const { result, materialize } = planner.planWithCtes(list, compile);
  if (materialize === null) return result;
  return {
    ...result,
    // The rows to lock may depend on the CTEs, which are not materialized before the statement
    // starts: such a statement runs optimistically (serializable all the same).
    lockKeys: undefined,
    start(ctx: ExecCtx) {
      const inner = result.start(ctx);
      const batches = (function* (): Batches {
        yield* materialize.exec(ctx);
        yield* inner.batches;
      })();
      return { batches, state: inner.state };
    },
  };
}
