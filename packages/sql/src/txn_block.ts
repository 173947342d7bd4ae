/**
 * Transaction blocks as PostgreSQL 15's exec_simple_query and xact.c make them, for the parts that
 * depend only on the statements (the session holds the state machine itself).
 *
 * A simple-query message of more than one statement runs as ONE implicit transaction block
 * (PostgreSQL's BeginImplicitTransactionBlock, started again before every statement of the
 * string): its statements commit together when the string ends, and an error anywhere rolls all of
 * them back, SETs and NOTIFYs included. Inside the string
 * - BEGIN turns the implicit block into an explicit one, keeping what ran before it (an error after
 *   it leaves the session in the failed block, 'E', and ROLLBACK undoes everything since the
 *   string's first statement);
 * - COMMIT and ROLLBACK end the implicit block with PostgreSQL's WARNING 25P01 "there is no
 *   transaction in progress"; the statements after them form a new implicit block;
 * - SAVEPOINT, RELEASE and ROLLBACK TO are 25P01 ("… can only be used in transaction blocks");
 * - statements that cannot run inside a transaction block (preventedInBlock) are 25001, also when
 *   the string's only other statement is a SELECT (a string of one statement is no block).
 * Time-series rows are not transactional (KWDB's rule, as inside BEGIN): a TS INSERT or COPY in the
 * string is applied when it completes and stays when a later statement fails.
 */
import type { Statement } from './parser/ast.js';

/**
 * Whether a simple-query string runs as an implicit transaction block: it holds more than one
 * statement (empty statements, `;;`, are not statements: the parser drops them as PostgreSQL's
 * grammar does).
 */
export function usesImplicitBlock(stmts: readonly unknown[]): boolean {
  return stmts.length > 1;
}

/**
 * PostgreSQL's name for a statement that cannot run inside a transaction block — explicit or the
 * implicit one of a multi-statement string (PreventInTransactionBlock, 25001 "<name> cannot run
 * inside a transaction block") — or null. KWDB's maintenance statements (COMPRESS, VACUUM TS
 * DATABASES) follow the same rule: they commit work of their own.
 */
export function preventedInBlock(stmt: Statement): string | null {
  switch (stmt.kind) {
    case 'createDatabase':
      return 'CREATE DATABASE';
    case 'dropDatabase':
      return 'DROP DATABASE';
    case 'comment':
      return stmt.tag === 'VACUUM' ? 'VACUUM' : null;
    case 'discard':
      return stmt.what.toLowerCase() === 'all' ? 'DISCARD ALL' : null;
    case 'compressTs':
      return 'COMPRESS';
    case 'vacuumTs':
      return 'VACUUM TS DATABASES';
    case 'finishPrepared':
      return stmt.commit ? 'COMMIT PREPARED' : 'ROLLBACK PREPARED';
    default:
      return null;
  }
}
