/**
 * A recursive-descent parser for Strata's SQL (PostgreSQL dialect plus CockroachDB/KWDB
 * statements: UPSERT, USE, SHOW TABLES/DATABASES/CREATE TABLE). Operator precedence follows
 * PostgreSQL's table (sql-syntax-lexical, "Operator Precedence").
 */
import { PgError, SqlState } from '@strata/common';
import type {
  AlterDomainAction,
  AlterTableCmd,
  CopyOptions,
  TsDatabaseOptions,
  TsTableClause,
  ColumnDef,
  CommonTableExpr,
  Expr,
  FrameBound,
  FromItem,
  FunctionParam,
  FunctionReturns,
  OnConflict,
  OrderItem,
  QueryBody,
  SelectItem,
  SelectStmt,
  Statement,
  TableConstraint,
  TypeName,
  WindowFrame,
  WindowSpec,
  ZoneTarget,
} from './ast.js';
import { lex, lexAsync, reserved } from './lexer.js';
import { foldLiteralLists } from './bulk_lists.js';
import { checkStorageParams, relOptionStrings } from './storage_params.js';
import type { StorageParam } from './storage_params.js';
import type { SequenceOptionsAst } from '../sequence_options.js';
import { isAuthStatement, parseAuthStatement } from '../auth/parse.js';
import type { Token } from './lexer.js';
import { exprDepthMax, exprNestingCost, selectNestingCost, statementCharsMax } from '../constants.js';

/** Parses a string holding zero or more statements separated by semicolons. */
export function parseStatements(sql: string): { stmt: Statement; text: string }[] {
  checkStatementSize(sql);
  const p = new Parser(sql);
  return p.parseAll();
}

/**
 * parseStatements for callers that can wait: the lexing (most of a long statement's parse time)
 * returns to the event loop between slices; the recursive descent that follows is one step.
 */
export async function parseStatementsAsync(sql: string): Promise<{ stmt: Statement; text: string }[]> {
  checkStatementSize(sql);
  const p = new Parser(sql, await foldLiteralLists(await lexAsync(sql)));
  return p.parseAll();
}

export function parseOne(sql: string): Statement {
  const all = parseStatements(sql);
  if (all.length !== 1) {
    throw new PgError(SqlState.SyntaxError, all.length === 0 ? 'empty query' : 'cannot insert multiple commands into a prepared statement');
  }
  return (all[0] as { stmt: Statement }).stmt;
}

export function parseExpression(sql: string): Expr {
  const p = new Parser(sql);
  const e = p.expr();
  p.expectEof();
  return e;
}

const compareOps = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);

/**
 * Parsing cannot yield (it is one recursive descent), so its input is bounded: a statement longer
 * than statementCharsMax is refused with 54000 before any work.
 */
export function checkStatementSize(sql: string): void {
  if (sql.length > statementCharsMax) {
    throw new PgError(SqlState.ProgramLimitExceeded, `statement is too long: ${sql.length} characters (at most ${statementCharsMax})`, {
      hint: 'Send large data with COPY, or in several statements.',
    });
  }
}

/** PostgreSQL's error for too deep a statement (its wording; the hint names our bound). */
export function stackDepthExceeded(): PgError {
  return new PgError(SqlState.StatementTooComplex, 'stack depth limit exceeded', {
    hint: `Expressions may nest (parentheses, function arguments, subqueries) at most ${Math.floor(exprDepthMax / exprNestingCost)} levels deep, and chains of operators (a + b + …) hold at most ${exprDepthMax} terms.`,
  });
}

/**
 * INVARIANT: `depth` bounds both the parser's own recursion and the depth of the expression trees
 * it builds, so that every later stage walking them recursively (binder, planner, evaluation) fits
 * the JavaScript stack: an expression nesting (parentheses, arguments, a subquery) costs
 * exprNestingCost, one more link of a left-associative chain (1+1+…) costs 1. Beyond
 * exprDepthMax the statement is refused with 54001, never with a RangeError caught by luck.
 */
class Parser {
  private readonly toks: Token[];
  private i = 0;
  private depth = 0;

  /** Enters one level (cost units); throws 54001 beyond the bound. */
  private enter(cost: number): void {
    this.depth += cost;
    if (this.depth > exprDepthMax) throw stackDepthExceeded();
  }

  constructor(
    private readonly sql: string,
    toks?: Token[],
  ) {
    this.toks = toks ?? lex(sql);
  }

  // ---- token helpers -------------------------------------------------------------------------

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)] as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  /** True if the current token is the (unquoted) keyword w. */
  private isKw(w: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'ident' && t.value === w;
  }

  private acceptKw(...ws: string[]): boolean {
    for (let k = 0; k < ws.length; k++) if (!this.isKw(ws[k] as string, k)) return false;
    this.i += ws.length;
    return true;
  }

  private expectKw(...ws: string[]): void {
    for (const w of ws) {
      if (!this.isKw(w)) throw this.syntaxError();
      this.next();
    }
  }

  private isPunct(c: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'punct' && t.value === c;
  }

  private acceptPunct(c: string): boolean {
    if (this.isPunct(c)) {
      this.next();
      return true;
    }
    return false;
  }

  private expectPunct(c: string): void {
    if (!this.acceptPunct(c)) throw this.syntaxError();
  }

  private isOp(o: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'op' && t.value === o;
  }

  private acceptOp(o: string): boolean {
    if (this.isOp(o)) {
      this.next();
      return true;
    }
    return false;
  }

  syntaxError(t: Token = this.peek()): PgError {
    if (t.type === 'eof') return new PgError(SqlState.SyntaxError, 'syntax error at end of input', { position: t.pos + 1 });
    const text = t.type === 'string' ? this.sql.slice(t.pos, this.tokenEnd(t)) : this.sql.slice(t.pos, this.tokenEnd(t));
    return new PgError(SqlState.SyntaxError, `syntax error at or near "${text}"`, { position: t.pos + 1 });
  }

  private tokenEnd(t: Token): number {
    const idx = this.toks.indexOf(t);
    const nx = this.toks[idx + 1];
    let end = nx ? nx.pos : this.sql.length;
    while (end > t.pos && /\s/.test(this.sql[end - 1] as string)) end--;
    return end;
  }

  expectEof(): void {
    if (this.peek().type !== 'eof') throw this.syntaxError();
  }

  /** An identifier (quoted or not). Unreserved keywords are fine. */
  private ident(allowReserved = false): string {
    const t = this.peek();
    if (t.type === 'qident') {
      this.next();
      return t.value;
    }
    if (t.type === 'ident' && (allowReserved || !reserved.has(t.value))) {
      this.next();
      return t.value;
    }
    throw this.syntaxError();
  }

  private isIdent(k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'qident' || (t.type === 'ident' && !reserved.has(t.value));
  }

  /** a, a.b, a.b.c */
  private qualifiedName(): string[] {
    const parts = [this.ident()];
    while (this.isPunct('.')) {
      this.next();
      parts.push(this.ident(true));
    }
    return parts;
  }

  private identList(): string[] {
    const out = [this.ident()];
    while (this.acceptPunct(',')) out.push(this.ident());
    return out;
  }

  // ---- statements ----------------------------------------------------------------------------

  parseAll(): { stmt: Statement; text: string }[] {
    const out: { stmt: Statement; text: string }[] = [];
    for (;;) {
      while (this.acceptPunct(';'));
      if (this.peek().type === 'eof') break;
      const start = this.peek().pos;
      const stmt = this.statement();
      const endTok = this.peek();
      if (!(endTok.type === 'eof' || this.isPunct(';'))) throw this.syntaxError();
      out.push({ stmt, text: this.sql.slice(start, endTok.pos).trim() });
    }
    return out;
  }

  private statement(): Statement {
    const t = this.peek();
    const pos = t.pos;
    if (this.isPunct('(') || this.isKw('select') || this.isKw('values') || this.isKw('table')) return this.selectStmt();
    if (this.isKw('with')) {
      const save = this.i;
      this.next();
      this.acceptKw('recursive');
      // Find what follows the CTE list.
      this.i = save;
      const ctes = this.withClause();
      if (this.isKw('insert')) return this.insertStmt(ctes);
      if (this.isKw('update')) return this.updateStmt(ctes);
      if (this.isKw('delete')) return this.deleteStmt(ctes);
      if (this.isKw('upsert')) return this.insertStmt(ctes);
      const q = this.selectStmt();
      q.with = [...ctes, ...q.with];
      return q;
    }
    if (isAuthStatement(this.toks, this.i)) {
      const a = parseAuthStatement(this.toks, this.i, (tok) => this.syntaxError(tok));
      this.i = a.next;
      return { kind: 'auth', stmt: a.stmt, pos };
    }
    if (this.isKw('insert') || this.isKw('upsert')) return this.insertStmt([]);
    if (this.isKw('update')) return this.updateStmt([]);
    if (this.isKw('delete')) return this.deleteStmt([]);
    if (this.acceptKw('create')) return this.createStmt(pos);
    if (this.acceptKw('refresh', 'materialized', 'view')) {
      const concurrently = this.acceptKw('concurrently');
      const name = this.qualifiedName();
      let withData = true;
      if (this.acceptKw('with', 'no', 'data')) withData = false;
      else this.acceptKw('with', 'data');
      return { kind: 'refreshMatview', name, concurrently, withData, pos };
    }
    if (this.acceptKw('drop')) return this.dropStmt(pos);
    if (this.acceptKw('alter')) return this.alterStmt(pos);
    if (this.acceptKw('copy')) return this.copyStmt(pos);
    if (this.acceptKw('truncate')) {
      this.acceptKw('table');
      const names = [this.qualifiedName()];
      while (this.acceptPunct(',')) names.push(this.qualifiedName());
      this.acceptKw('cascade') || this.acceptKw('restrict');
      return { kind: 'truncate', names, pos };
    }
    if (this.acceptKw('begin') || (this.isKw('start') && this.isKw('transaction', 1) && this.acceptKw('start', 'transaction'))) {
      const start = this.sql.slice(pos, pos + 5).toLowerCase() === 'start';
      this.acceptKw('transaction') || this.acceptKw('work');
      const m = this.txnModes();
      return { kind: 'begin', ...m, ...(start ? { start } : {}), pos };
    }
    if ((this.isKw('commit') || this.isKw('rollback')) && this.isKw('prepared', 1) && this.peek(2).type === 'string') {
      const commit = this.next().value.toLowerCase() === 'commit';
      this.next();
      return { kind: 'finishPrepared', commit, gid: this.next().value, pos };
    }
    if (this.isKw('prepare') && this.isKw('transaction', 1) && this.peek(2).type === 'string') {
      this.next();
      this.next();
      return { kind: 'prepareTransaction', gid: this.next().value, pos };
    }
    // opt_transaction_chain: AND CHAIN, AND NO CHAIN (the default) or nothing.
    const chain = () => !this.acceptKw('and', 'no', 'chain') && this.acceptKw('and', 'chain');
    if (this.acceptKw('commit') || this.acceptKw('end')) {
      this.acceptKw('transaction') || this.acceptKw('work');
      return { kind: 'commit', chain: chain(), pos };
    }
    if (this.acceptKw('rollback') || this.acceptKw('abort')) {
      this.acceptKw('transaction') || this.acceptKw('work');
      if (this.acceptKw('to')) {
        this.acceptKw('savepoint');
        return { kind: 'rollback', savepoint: this.ident(), chain: false, pos };
      }
      return { kind: 'rollback', savepoint: null, chain: chain(), pos };
    }
    if (this.acceptKw('savepoint')) return { kind: 'savepoint', name: this.ident(), pos };
    if (this.acceptKw('release')) {
      this.acceptKw('savepoint');
      return { kind: 'release', name: this.ident(), pos };
    }
    if (this.acceptKw('set')) return this.setStmt(pos);
    if (this.acceptKw('show')) return this.showStmt(pos);
    if (this.acceptKw('reset')) {
      if (this.acceptKw('cluster', 'setting')) return { kind: 'setClusterSetting', name: this.settingName(), value: null, pos };
      if (this.acceptKw('all')) return { kind: 'reset', name: 'all', pos };
      return { kind: 'reset', name: this.settingName(), pos };
    }
    if (this.acceptKw('use')) return { kind: 'use', name: this.ident(), pos };
    if (this.acceptKw('explain')) {
      let analyze = false;
      let verbose = false;
      if (this.acceptPunct('(')) {
        do {
          const o = this.ident(true);
          if (o === 'analyze' || o === 'analyse') analyze = true;
          if (o === 'verbose') verbose = true;
          if (!this.isPunct(',') && !this.isPunct(')')) this.next();
        } while (this.acceptPunct(','));
        this.expectPunct(')');
      }
      if (this.acceptKw('analyze') || this.acceptKw('analyse')) analyze = true;
      if (this.acceptKw('verbose')) verbose = true;
      return { kind: 'explain', analyze, verbose, stmt: this.statement(), pos };
    }
    if (this.acceptKw('prepare')) {
      const name = this.ident();
      const types: TypeName[] = [];
      if (this.acceptPunct('(')) {
        do types.push(this.typeName());
        while (this.acceptPunct(','));
        this.expectPunct(')');
      }
      this.expectKw('as');
      const start = this.peek().pos;
      const stmt = this.statement();
      return { kind: 'prepare', name, types, stmt, text: this.sql.slice(start, this.peek().pos), pos };
    }
    if (this.acceptKw('execute')) {
      const name = this.ident();
      const args: Expr[] = [];
      if (this.acceptPunct('(')) {
        do args.push(this.expr());
        while (this.acceptPunct(','));
        this.expectPunct(')');
      }
      return { kind: 'execute', name, args, pos };
    }
    if (this.isKw('declare') && this.peek(1).type !== 'eof') {
      this.next();
      const name = this.ident();
      let binary = false;
      let scroll: boolean | null = null;
      for (;;) {
        if (this.acceptKw('binary')) binary = true;
        else if (this.acceptKw('asensitive') || this.acceptKw('insensitive')) continue;
        else if (this.acceptKw('no', 'scroll')) scroll = false;
        else if (this.acceptKw('scroll')) scroll = true;
        else break;
      }
      this.expectKw('cursor');
      let hold = false;
      if (this.acceptKw('with', 'hold')) hold = true;
      else this.acceptKw('without', 'hold');
      this.expectKw('for');
      const query = this.selectStmt();
      return { kind: 'declareCursor', name, binary, scroll, hold, query, text: this.sql.slice(pos, this.peek().pos).trim(), pos };
    }
    if (this.isKw('fetch') || this.isKw('move')) {
      const move = this.next().value.toLowerCase() === 'move';
      let how: 'forward' | 'backward' | 'absolute' | 'relative' = 'forward';
      let count = 1;
      const num = (): number => {
        const n = this.signedNumber();
        if (!Number.isInteger(n)) throw this.syntaxError();
        return n;
      };
      const isNum = () => this.peek().type === 'number' || (this.peek().type === 'op' && this.peek().value === '-');
      if (this.acceptKw('next')) count = 1;
      else if (this.acceptKw('prior')) how = 'backward';
      else if (this.acceptKw('first')) how = 'absolute';
      else if (this.acceptKw('last')) [how, count] = ['absolute', -1];
      else if (this.acceptKw('absolute')) [how, count] = ['absolute', num()];
      else if (this.acceptKw('relative')) [how, count] = ['relative', num()];
      else if (this.acceptKw('all')) count = Infinity;
      else if (this.acceptKw('forward')) count = this.acceptKw('all') ? Infinity : isNum() ? num() : 1;
      else if (this.acceptKw('backward')) [how, count] = ['backward', this.acceptKw('all') ? Infinity : isNum() ? num() : 1];
      else if (isNum()) count = num();
      this.acceptKw('from') || this.acceptKw('in');
      return { kind: 'fetch', move, name: this.ident(), how, count, pos };
    }
    if (this.acceptKw('close')) {
      if (this.acceptKw('all')) return { kind: 'closeCursor', name: null, pos };
      return { kind: 'closeCursor', name: this.ident(), pos };
    }
    if (this.acceptKw('deallocate')) {
      this.acceptKw('prepare');
      if (this.acceptKw('all')) return { kind: 'deallocate', name: null, pos };
      return { kind: 'deallocate', name: this.ident(), pos };
    }
    if (this.acceptKw('discard')) return { kind: 'discard', what: this.ident(true), pos };
    // Channel names are ColId in PostgreSQL's grammar: identifiers, unreserved keywords too.
    if (this.acceptKw('listen')) return { kind: 'listen', channel: this.ident(), pos };
    if (this.acceptKw('unlisten')) {
      if (this.isOp('*')) {
        this.next();
        return { kind: 'unlisten', channel: null, pos };
      }
      return { kind: 'unlisten', channel: this.ident(), pos };
    }
    if (this.acceptKw('notify')) {
      const channel = this.ident();
      const payload = this.isPunct(',') ? (this.next(), this.stringLit()) : null;
      return { kind: 'notify', channel, payload, pos };
    }
    if (this.acceptKw('comment')) {
      // COMMENT ON … IS '…' is accepted and ignored (descriptions are not stored yet).
      while (this.peek().type !== 'eof' && !this.isPunct(';')) this.next();
      return { kind: 'comment', pos };
    }
    if (this.acceptKw('compress')) {
      if (this.acceptKw('table')) return { kind: 'compressTs', table: this.qualifiedName(), database: null, pos };
      if (this.acceptKw('database')) return { kind: 'compressTs', table: null, database: this.ident(), pos };
      this.expectKw('all');
      this.expectKw('databases');
      return { kind: 'compressTs', table: null, database: null, pos };
    }
    if (this.acceptKw('vacuum', 'ts')) {
      this.expectKw('databases');
      return { kind: 'vacuumTs', pos };
    }
    if (this.isKw('analyze') || this.isKw('analyse') || this.isKw('vacuum')) {
      // Statistics and space reclamation are the storage layer's own business: accepted, nothing to do.
      const tag = this.next().value.toLowerCase() === 'vacuum' ? 'VACUUM' : 'ANALYZE';
      while (this.peek().type !== 'eof' && !this.isPunct(';')) this.next();
      return { kind: 'comment', tag, pos };
    }
    throw this.syntaxError();
  }

  private copyStmt(pos: number): Statement {
    let table: string[] | null = null;
    let query: SelectStmt | null = null;
    let columns: string[] | null = null;
    // COPY BINARY t …: the pre-7.3 spelling, which PostgreSQL still accepts.
    const binaryFirst = this.acceptKw('binary');
    if (!binaryFirst && this.acceptPunct('(')) {
      query = this.selectStmt();
      this.expectPunct(')');
    } else {
      table = this.qualifiedName();
      if (this.acceptPunct('(')) {
        columns = this.identList();
        this.expectPunct(')');
      }
    }
    let direction: 'from' | 'to';
    if (this.acceptKw('from')) {
      direction = 'from';
      if (!this.acceptKw('stdin')) throw new PgError(SqlState.FeatureNotSupported, 'COPY FROM supports only STDIN (files on the server are not readable)', { position: this.peek().pos + 1 });
    } else {
      this.expectKw('to');
      direction = 'to';
      if (!this.acceptKw('stdout')) throw new PgError(SqlState.FeatureNotSupported, 'COPY TO supports only STDOUT', { position: this.peek().pos + 1 });
    }
    if (query && direction === 'from') throw this.syntaxError();
    const options: CopyOptions = { format: binaryFirst ? 'binary' : 'text', header: false, delimiter: null, null: null, quote: '"', escape: null };
    let quoteGiven = false;
    const str = () => {
      const t = this.next();
      if (t.type !== 'string') throw this.syntaxError(t);
      return t.value;
    };
    const bool = () => {
      if (this.acceptKw('true') || this.acceptKw('on')) return true;
      if (this.acceptKw('false') || this.acceptKw('off')) return false;
      if (this.peek().type === 'number') return this.next().value !== '0';
      return true;
    };
    // FREEZE asks PostgreSQL to write the rows already frozen (no later vacuum pass); Strata has no
    // tuple freezing, so it is checked for a Boolean value and ignored. PostgreSQL also refuses it
    // when the table was not created or truncated in the same transaction; Strata does not.
    const freeze = () => {
      const t = this.peek();
      if (t.type === 'string') {
        this.next();
        if (!/^(t|tr|tru|true|f|fa|fal|fals|false|on|off|of|1|0|y|ye|yes|n|no)$/i.test(t.value)) throw new PgError(SqlState.SyntaxError, 'freeze requires a Boolean value');
        return;
      }
      bool();
    };
    this.acceptKw('with');
    if (this.acceptPunct('(')) {
      do {
        const o = this.ident(true);
        if (o === 'format') {
          const f = this.ident(true);
          if (f !== 'text' && f !== 'csv' && f !== 'binary') throw new PgError(SqlState.InvalidParameterValue, `COPY format "${f}" not recognized`);
          options.format = f;
        } else if (o === 'header') options.header = bool();
        else if (o === 'delimiter') options.delimiter = str();
        else if (o === 'null') options.null = str();
        else if (o === 'quote') {
          options.quote = str();
          quoteGiven = true;
        } else if (o === 'escape') options.escape = str();
        else if (o === 'encoding') str();
        else if (o === 'freeze') freeze();
        else throw new PgError(SqlState.SyntaxError, `option "${o}" not recognized`);
      } while (this.acceptPunct(','));
      this.expectPunct(')');
    } else {
      // Pre-9.0 syntax: [BINARY] [DELIMITER [AS] 'x'] [NULL [AS] 'x'] [CSV [HEADER] [QUOTE 'x'] [ESCAPE 'x']]
      for (;;) {
        if (this.acceptKw('csv')) options.format = 'csv';
        else if (this.acceptKw('header')) options.header = true;
        else if (this.acceptKw('delimiter')) {
          this.acceptKw('as');
          options.delimiter = str();
        } else if (this.acceptKw('null')) {
          this.acceptKw('as');
          options.null = str();
        } else if (this.acceptKw('quote')) {
          this.acceptKw('as');
          options.quote = str();
          quoteGiven = true;
        } else if (this.acceptKw('escape')) {
          this.acceptKw('as');
          options.escape = str();
        } else if (this.acceptKw('binary')) options.format = 'binary';
        else if (this.acceptKw('freeze')) continue;
        else break;
      }
    }
    if (options.format === 'binary') {
      // PostgreSQL's ProcessCopyOptions checks, in its order.
      if (options.delimiter !== null) throw new PgError(SqlState.SyntaxError, 'cannot specify DELIMITER in BINARY mode');
      if (options.null !== null) throw new PgError(SqlState.SyntaxError, 'cannot specify NULL in BINARY mode');
      if (options.header) throw new PgError(SqlState.SyntaxError, 'cannot specify HEADER in BINARY mode');
      if (quoteGiven) throw new PgError(SqlState.FeatureNotSupported, 'COPY quote available only in CSV mode');
      if (options.escape !== null) throw new PgError(SqlState.FeatureNotSupported, 'COPY escape available only in CSV mode');
    }
    return { kind: 'copy', table, query, columns, direction, options, pos };
  }

  private txnModes(): { isolation: string | null; readOnly: boolean | null; deferrable: boolean | null } {
    let isolation: string | null = null;
    let readOnly: boolean | null = null;
    let deferrable: boolean | null = null;
    for (;;) {
      if (this.acceptKw('isolation', 'level')) {
        if (this.acceptKw('serializable')) isolation = 'serializable';
        else if (this.acceptKw('repeatable', 'read')) isolation = 'repeatable read';
        else if (this.acceptKw('read', 'committed')) isolation = 'read committed';
        else if (this.acceptKw('read', 'uncommitted')) isolation = 'read uncommitted';
        else throw this.syntaxError();
      } else if (this.acceptKw('read', 'only')) readOnly = true;
      else if (this.acceptKw('read', 'write')) readOnly = false;
      else if (this.acceptKw('not', 'deferrable')) deferrable = false;
      else if (this.acceptKw('deferrable')) deferrable = true;
      else break;
      this.acceptPunct(',');
    }
    return { isolation, readOnly, deferrable };
  }

  private settingName(): string {
    const parts = [this.ident(true)];
    while (this.acceptPunct('.')) parts.push(this.ident(true));
    return parts.join('.');
  }

  private setStmt(pos: number): Statement {
    if (this.acceptKw('cluster', 'setting')) {
      const name = this.settingName();
      if (!this.acceptKw('to') && !this.acceptOp('=')) throw this.syntaxError();
      if (this.acceptKw('default')) return { kind: 'setClusterSetting', name, value: null, pos };
      return { kind: 'setClusterSetting', name, value: String(this.setValue()), pos };
    }
    let local = false;
    if (this.acceptKw('session')) {
      if (this.acceptKw('characteristics', 'as', 'transaction')) return { kind: 'setTransaction', ...this.txnModes(), session: true, pos };
    } else if (this.acceptKw('local')) local = true;
    if (this.acceptKw('transaction')) return { kind: 'setTransaction', ...this.txnModes(), pos };
    if (this.acceptKw('time', 'zone')) {
      if (this.acceptKw('local') || this.acceptKw('default')) return { kind: 'set', name: 'timezone', value: 'default', local, pos };
      return { kind: 'set', name: 'timezone', value: [this.setValue()], local, pos };
    }
    if (this.acceptKw('names')) return { kind: 'set', name: 'client_encoding', value: [this.setValue()], local, pos };
    const name = this.settingName();
    if (!this.acceptKw('to') && !this.acceptOp('=')) throw this.syntaxError();
    if (this.acceptKw('default')) return { kind: 'set', name, value: 'default', local, pos };
    const values = [this.setValue()];
    while (this.acceptPunct(',')) values.push(this.setValue());
    return { kind: 'set', name, value: values, local, pos };
  }

  private setValue(): string | number {
    const t = this.next();
    if (t.type === 'string' || t.type === 'ident' || t.type === 'qident') return t.value;
    if (t.type === 'number') return Number(t.value);
    if (t.type === 'op' && t.value === '-' && this.peek().type === 'number') return -Number(this.next().value);
    throw this.syntaxError(t);
  }

  private showStmt(pos: number): Statement {
    if (this.acceptKw('tables')) {
      if (this.acceptKw('from') || this.acceptKw('in')) return { kind: 'showTables', schema: this.qualifiedName(), pos };
      return { kind: 'showTables', schema: null, pos };
    }
    if (this.acceptKw('databases')) return { kind: 'showDatabases', pos };
    if (this.acceptKw('tags')) {
      this.expectKw('from');
      return { kind: 'showTags', table: this.qualifiedName(), pos };
    }
    if (this.acceptKw('cluster')) {
      if (this.acceptKw('setting')) return { kind: 'showClusterSetting', name: this.settingName(), pos };
      this.expectKw('settings');
      return { kind: 'showClusterSetting', name: null, pos };
    }
    if (this.acceptKw('all', 'cluster')) {
      this.expectKw('settings');
      return { kind: 'showClusterSetting', name: null, pos };
    }
    if (this.acceptKw('tag')) {
      this.expectKw('values');
      this.expectKw('from');
      return { kind: 'showTagValues', table: this.qualifiedName(), pos };
    }
    if (this.acceptKw('schemas')) return { kind: 'showSchemas', pos };
    if (this.acceptKw('zone', 'configuration')) {
      this.expectKw('for');
      return { kind: 'showZone', target: this.zoneTarget(), pos };
    }
    if (this.acceptKw('zone', 'configurations') || this.acceptKw('all', 'zone', 'configurations')) return { kind: 'showZone', target: null, pos };
    if (this.acceptKw('ranges')) {
      if (!this.acceptKw('from')) return { kind: 'showRanges', table: null, database: null, pos };
      if (this.acceptKw('database')) return { kind: 'showRanges', table: null, database: this.ident(), pos };
      this.expectKw('table');
      return { kind: 'showRanges', table: this.qualifiedName(), database: null, pos };
    }
    if (this.acceptKw('columns')) {
      if (!this.acceptKw('from')) this.expectKw('in');
      return { kind: 'showColumns', table: this.qualifiedName(), pos };
    }
    if (this.acceptKw('create')) {
      this.acceptKw('table');
      return { kind: 'showCreate', table: this.qualifiedName(), pos };
    }
    if (this.acceptKw('indexes') || this.acceptKw('index') || this.acceptKw('keys')) {
      if (!this.acceptKw('from')) this.expectKw('on');
      return { kind: 'showIndexes', table: this.qualifiedName(), pos };
    }
    if (this.acceptKw('transaction', 'isolation', 'level')) return { kind: 'show', name: 'transaction_isolation', pos };
    if (this.acceptKw('time', 'zone')) return { kind: 'show', name: 'timezone', pos };
    if (this.acceptKw('all')) return { kind: 'show', name: 'all', pos };
    return { kind: 'show', name: this.settingName(), pos };
  }

  // ---- DDL -----------------------------------------------------------------------------------

  private createStmt(pos: number): Statement {
    if (this.acceptKw('ts', 'database')) {
      const ifNotExists = this.acceptKw('if', 'not', 'exists');
      const name = this.ident();
      const ts: TsDatabaseOptions = { retentionSeconds: null, partitionIntervalSeconds: null, comment: null };
      if (this.acceptKw('retentions')) ts.retentionSeconds = this.duration();
      if (this.acceptKw('partition', 'interval')) ts.partitionIntervalSeconds = this.duration();
      if (this.acceptKw('comment')) {
        this.acceptOp('=');
        ts.comment = this.stringLit();
      }
      return { kind: 'createDatabase', name, ifNotExists, ts, pos };
    }
    if (this.acceptKw('database')) {
      const ifNotExists = this.acceptKw('if', 'not', 'exists');
      const name = this.ident();
      // Options (ENCODING, TEMPLATE, …) are accepted and ignored.
      while (this.peek().type !== 'eof' && !this.isPunct(';')) this.next();
      return { kind: 'createDatabase', name, ifNotExists, ts: null, pos };
    }
    if (this.acceptKw('schema')) {
      const ifNotExists = this.acceptKw('if', 'not', 'exists');
      const name = this.ident();
      if (this.acceptKw('authorization')) this.ident();
      return { kind: 'createSchema', name, ifNotExists, pos };
    }
    if (this.acceptKw('sequence')) {
      const ifNotExists = this.acceptKw('if', 'not', 'exists');
      const name = this.qualifiedName();
      const options: SequenceOptionsAst = { as: null, start: null, increment: null, min: null, max: null, cache: null, cycle: false };
      for (;;) {
        if (this.acceptKw('start')) {
          this.acceptKw('with');
          options.start = this.signedBigint();
        } else if (this.acceptKw('increment')) {
          this.acceptKw('by');
          options.increment = this.signedBigint();
        } else if (this.acceptKw('minvalue')) options.min = this.signedBigint();
        else if (this.acceptKw('maxvalue')) options.max = this.signedBigint();
        else if (this.acceptKw('cache')) options.cache = this.signedBigint();
        else if (this.acceptKw('cycle')) options.cycle = true;
        else if (this.acceptKw('no', 'minvalue')) options.min = 'none';
        else if (this.acceptKw('no', 'maxvalue')) options.max = 'none';
        else if (this.acceptKw('no', 'cycle')) options.cycle = false;
        else if (this.acceptKw('as')) options.as = this.typeName().name;
        else break;
      }
      return { kind: 'createSequence', name, ifNotExists, options, pos };
    }
    if (this.acceptKw('domain')) return this.createDomain(pos);
    if (this.acceptKw('type')) {
      const name = this.qualifiedName();
      this.expectKw('as');
      if (this.acceptKw('enum')) {
        this.expectPunct('(');
        const labels: string[] = [];
        if (!this.isPunct(')')) {
          do labels.push(this.stringLit());
          while (this.acceptPunct(','));
        }
        this.expectPunct(')');
        return { kind: 'createEnum', name, labels, pos };
      }
      this.expectPunct('(');
      const fields: { name: string; type: TypeName }[] = [];
      if (!this.isPunct(')')) {
        do {
          const fname = this.ident();
          const ftype = this.typeName();
          if (this.acceptKw('collate')) this.ident(true);
          fields.push({ name: fname, type: ftype });
        } while (this.acceptPunct(','));
      }
      this.expectPunct(')');
      return { kind: 'createComposite', name, fields, pos };
    }
    if (this.acceptKw('materialized', 'view')) {
      const ifNotExists = this.acceptKw('if', 'not', 'exists');
      const name = this.qualifiedName();
      let columns: string[] | null = null;
      if (this.acceptPunct('(')) {
        columns = this.identList();
        this.expectPunct(')');
      }
      if (this.acceptKw('using')) this.ident(true);
      this.tableStorageClauses();
      this.expectKw('as');
      const start = this.peek().pos;
      const query = this.selectStmt();
      const text = this.sql.slice(start, this.peek().pos).trim();
      let withData = true;
      if (this.acceptKw('with', 'no', 'data')) withData = false;
      else this.acceptKw('with', 'data');
      return { kind: 'createMatview', name, ifNotExists, columns, query, text, withData, pos };
    }
    const orReplace = this.acceptKw('or', 'replace');
    if (this.acceptKw('function')) return this.createFunction(orReplace, pos);
    if (this.acceptKw('view')) {
      const name = this.qualifiedName();
      let columns: string[] | null = null;
      if (this.acceptPunct('(')) {
        columns = this.identList();
        this.expectPunct(')');
      }
      this.expectKw('as');
      const start = this.peek().pos;
      const query = this.selectStmt();
      return { kind: 'createView', name, orReplace, columns, query, text: this.sql.slice(start, this.peek().pos).trim(), pos };
    }
    const unique = this.acceptKw('unique');
    if (this.acceptKw('index')) {
      this.acceptKw('concurrently');
      const ifNotExists = this.acceptKw('if', 'not', 'exists');
      let name: string | null = null;
      if (!this.isKw('on')) name = this.ident();
      this.expectKw('on');
      const table = this.qualifiedName();
      if (this.acceptKw('using')) this.ident();
      this.expectPunct('(');
      const columns: { name: string; desc: boolean }[] = [];
      do {
        const n = this.ident();
        const desc = this.acceptKw('desc');
        if (!desc) this.acceptKw('asc');
        if (this.acceptKw('nulls')) this.next();
        columns.push({ name: n, desc });
      } while (this.acceptPunct(','));
      this.expectPunct(')');
      let storing: string[] = [];
      if (this.acceptKw('storing') || this.acceptKw('include') || this.acceptKw('covering')) {
        this.expectPunct('(');
        storing = this.identList();
        this.expectPunct(')');
      }
      let reloptions: string[] = [];
      if (this.isKw('with') && this.isPunct('(', 1)) {
        this.next();
        const params = this.storageParams();
        checkStorageParams(params, 'index');
        reloptions = relOptionStrings(params);
      }
      this.tablespaceClause();
      return { kind: 'createIndex', name, table, columns, unique, ifNotExists, storing, ...(reloptions.length > 0 ? { reloptions } : {}), pos };
    }
    if (unique) throw this.syntaxError();
    if (this.acceptKw('global') || this.acceptKw('local')) {
      if (!this.isKw('temporary') && !this.isKw('temp')) throw this.syntaxError();
    }
    const temp = this.acceptKw('temporary') || this.acceptKw('temp');
    if (!temp) this.acceptKw('unlogged');
    if (this.acceptKw('table')) {
      const stmt = this.createTable(pos);
      if (stmt.kind === 'createTable') {
        if (temp) stmt.temp = true;
        if (stmt.onCommit && !temp) throw new PgError(SqlState.InvalidTableDefinition, 'ON COMMIT can only be used on temporary tables');
      }
      return stmt;
    }
    if (temp && (this.isKw('view') || this.isKw('sequence'))) throw new PgError(SqlState.FeatureNotSupported, `temporary ${this.peek().value}s are not supported`, { position: this.peek().pos + 1 });
    throw this.syntaxError();
  }

  private stringLit(): string {
    const t = this.next();
    if (t.type !== 'string') throw this.syntaxError(t);
    return t.value;
  }

  /**
   * A KWDB duration: `50d`, `20D`, `10 day`, `2 mon`, `'1h'`. Returns seconds. Units: s/second,
   * m/minute, h/hour, d/day, w/week, mon/month (30 days), y/year (365 days).
   */
  duration(): number {
    const t = this.next();
    let text: string;
    if (t.type === 'string') text = t.value;
    else if (t.type === 'number') {
      text = t.value;
      if (this.peek().type === 'ident') text += this.next().value;
    } else if (t.type === 'ident') text = t.value;
    else throw this.syntaxError(t);
    // "50d" lexes as the number 50 followed by the identifier d only with a space; "50d" glued
    // together is rejected by the lexer as trailing junk, so both spellings arrive here.
    const m = /^\s*(\d+)\s*([a-z]+)\s*$/i.exec(text);
    const units: Record<string, number> = { s: 1, second: 1, seconds: 1, m: 60, minute: 60, minutes: 60, h: 3600, hour: 3600, hours: 3600, d: 86400, day: 86400, days: 86400, w: 604800, week: 604800, weeks: 604800, mon: 2592000, month: 2592000, months: 2592000, y: 31536000, year: 31536000, years: 31536000 };
    const unit = m ? units[(m[2] as string).toLowerCase()] : undefined;
    if (!m || unit === undefined) throw new PgError(SqlState.InvalidParameterValue, `invalid duration "${text}": want a positive integer and a unit (s, m, h, d, w, mon, y)`, { position: t.pos + 1 });
    const secs = Number(m[1]) * unit;
    if (secs > 1000 * 31536000) throw new PgError(SqlState.InvalidParameterValue, `duration "${text}" exceeds 1000 years`, { position: t.pos + 1 });
    return secs;
  }

  /** A signed integer literal of any size up to int8's (sequence options). */
  private signedBigint(): bigint {
    const neg = this.acceptOp('-');
    if (!neg) this.acceptOp('+');
    const t = this.next();
    if (t.type !== 'number' || !/^\d+$/.test(t.value)) throw this.syntaxError(t);
    const v = neg ? -BigInt(t.value) : BigInt(t.value);
    if (v > 9223372036854775807n || v < -9223372036854775808n) throw new PgError(SqlState.NumericValueOutOfRange, `value "${t.value}" is out of range for type bigint`, { position: t.pos + 1 });
    return v;
  }

  private signedNumber(): number {
    const neg = this.acceptOp('-');
    const t = this.next();
    if (t.type !== 'number') throw this.syntaxError(t);
    return neg ? -Number(t.value) : Number(t.value);
  }

  private createTable(pos: number): Statement {
    const ifNotExists = this.acceptKw('if', 'not', 'exists');
    const name = this.qualifiedName();
    const columns: ColumnDef[] = [];
    const constraints: TableConstraint[] = [];
    if (this.isKw('using') || this.isKw('with') || this.isKw('without') || this.isKw('tablespace')) {
      // CREATE TABLE t [USING am] [WITH (params)] [ON COMMIT …] [TABLESPACE ts] AS query
      const ro = this.tableStorageClauses();
      const reloptions = ro.length > 0 ? { reloptions: ro } : {};
      if (this.isKw('on') && this.isKw('commit', 1)) {
        this.next();
        this.next();
        const onCommit = this.acceptKw('preserve', 'rows') ? 'preserve rows' : this.acceptKw('delete', 'rows') ? 'delete rows' : this.acceptKw('drop') ? 'drop' : null;
        if (!onCommit) throw this.syntaxError();
        this.tablespaceClause();
        this.expectKw('as');
        return { kind: 'createTable', name, ifNotExists, columns, constraints, asQuery: this.selectStmt(), ts: null, onCommit, ...reloptions, pos };
      }
      this.tablespaceClause();
      this.expectKw('as');
      return { kind: 'createTable', name, ifNotExists, columns, constraints, asQuery: this.selectStmt(), ts: null, ...reloptions, pos };
    }
    if (this.acceptKw('as')) {
      return { kind: 'createTable', name, ifNotExists, columns, constraints, asQuery: this.selectStmt(), ts: null, pos };
    }
    if (this.isKw('on') && this.isKw('commit', 1)) {
      // CREATE TEMP TABLE t ON COMMIT … AS query
      this.next();
      this.next();
      const onCommit = this.acceptKw('preserve', 'rows') ? 'preserve rows' : this.acceptKw('delete', 'rows') ? 'delete rows' : this.acceptKw('drop') ? 'drop' : null;
      if (!onCommit) throw this.syntaxError();
      this.tablespaceClause();
      this.expectKw('as');
      return { kind: 'createTable', name, ifNotExists, columns, constraints, asQuery: this.selectStmt(), ts: null, onCommit, pos };
    }
    const noPartitions = (what: string) =>
      new PgError(SqlState.FeatureNotSupported, `${what} is not supported`, { position: this.peek().pos + 1, hint: 'Strata splits every table into ranges by key already; create one table (time-series tables are partitioned by time and device).' });
    if (this.isKw('partition') && this.isKw('of', 1)) throw noPartitions('declarative partitioning (PARTITION OF)');
    if (this.isKw('of')) throw new PgError(SqlState.FeatureNotSupported, 'typed tables (CREATE TABLE … OF type) are not supported', { position: this.peek().pos + 1 });
    this.expectPunct('(');
    if (!this.isPunct(')')) {
      do {
        if (this.isKw('constraint') || this.isKw('primary') || this.isKw('unique') || this.isKw('check') || this.isKw('foreign')) {
          constraints.push(this.tableConstraint());
        } else {
          columns.push(this.columnDef());
        }
      } while (this.acceptPunct(','));
    }
    this.expectPunct(')');
    if (this.isKw('inherits')) throw new PgError(SqlState.FeatureNotSupported, 'table inheritance (INHERITS) is not supported', { position: this.peek().pos + 1 });
    if (this.isKw('partition') && this.isKw('by', 1)) throw noPartitions('declarative partitioning (PARTITION BY)');
    const reloptions = this.tableStorageClauses();
    let ts: TsTableClause | null = null;
    if (this.isKw('tags') || this.isKw('attributes')) {
      this.next();
      this.expectPunct('(');
      const tags: ColumnDef[] = [];
      do tags.push(this.columnDef());
      while (this.acceptPunct(','));
      this.expectPunct(')');
      if (!(this.acceptKw('primary', 'tags') || this.acceptKw('primary', 'attributes'))) throw this.syntaxError();
      this.expectPunct('(');
      const primaryTags = this.identList();
      this.expectPunct(')');
      ts = { tags, primaryTags, retentionSeconds: null, activeTimeSeconds: null, hashNum: null, comment: null };
      for (;;) {
        if (this.acceptKw('retentions')) ts.retentionSeconds = this.duration();
        else if (this.acceptKw('activetime')) ts.activeTimeSeconds = this.duration();
        else if (this.acceptKw('comment')) {
          this.acceptOp('=');
          ts.comment = this.stringLit();
        } else if (this.acceptKw('with', 'hash')) {
          this.expectPunct('(');
          ts.hashNum = this.signedNumber();
          this.expectPunct(')');
        } else break;
      }
    }
    let onCommit: 'preserve rows' | 'delete rows' | 'drop' | undefined;
    if (this.acceptKw('on', 'commit')) {
      if (this.acceptKw('preserve', 'rows')) onCommit = 'preserve rows';
      else if (this.acceptKw('delete', 'rows')) onCommit = 'delete rows';
      else if (this.acceptKw('drop')) onCommit = 'drop';
      else throw this.syntaxError();
    }
    this.tablespaceClause();
    let asQuery: SelectStmt | null = null;
    if (!ts && this.acceptKw('as')) asQuery = this.selectStmt();
    return { kind: 'createTable', name, ifNotExists, columns, constraints, asQuery, ts, ...(onCommit ? { onCommit } : {}), ...(reloptions.length > 0 ? { reloptions } : {}), pos };
  }

  /**
   * `[USING heap] [WITH (name [= value], …) | WITHOUT OIDS]` after a table's definition: checked as
   * PostgreSQL checks them; returns the storage parameters as pg_class.reloptions keeps them
   * (storage_params.ts says why they change nothing else).
   */
  private tableStorageClauses(): string[] {
    if (this.acceptKw('using')) {
      const am = this.ident();
      if (am !== 'heap') throw new PgError(SqlState.UndefinedObject, `access method "${am}" does not exist`);
    }
    if (this.acceptKw('without')) {
      if (!this.acceptKw('oids')) throw this.syntaxError();
    } else if (this.isKw('with') && this.isPunct('(', 1)) {
      this.next();
      const params = this.storageParams();
      checkStorageParams(params, 'table');
      return relOptionStrings(params);
    }
    return [];
  }

  /** `[TABLESPACE name]`: only PostgreSQL's default tablespace exists here. */
  private tablespaceClause(): void {
    if (!this.acceptKw('tablespace')) return;
    const ts = this.ident();
    if (ts !== 'pg_default') throw new PgError(SqlState.UndefinedObject, `tablespace "${ts}" does not exist`);
  }

  /** `(name [= value], …)`, a name possibly qualified by a namespace (`toast.fillfactor`). */
  storageParams(): StorageParam[] {
    this.expectPunct('(');
    const out: StorageParam[] = [];
    do {
      let namespace: string | null = null;
      let name = this.ident(true);
      if (this.acceptPunct('.')) {
        namespace = name;
        name = this.ident(true);
      }
      let value: string | null = null;
      if (this.acceptOp('=')) {
        const neg = this.acceptOp('-') ? '-' : (this.acceptOp('+'), '');
        const t = this.next();
        if (t.type !== 'number' && t.type !== 'string' && t.type !== 'ident' && t.type !== 'qident' && t.type !== 'keyword') throw this.syntaxError(t);
        value = neg + t.value;
      }
      out.push({ namespace, name, value });
    } while (this.acceptPunct(','));
    this.expectPunct(')');
    return out;
  }

  private tableConstraint(): TableConstraint {
    let name: string | null = null;
    if (this.acceptKw('constraint')) name = this.ident();
    if (this.acceptKw('primary', 'key')) {
      this.expectPunct('(');
      const columns = this.identList();
      this.expectPunct(')');
      return { kind: 'primary', name, columns };
    }
    if (this.acceptKw('unique')) {
      this.expectPunct('(');
      const columns = this.identList();
      this.expectPunct(')');
      return { kind: 'unique', name, columns };
    }
    if (this.acceptKw('check')) {
      this.expectPunct('(');
      const start = this.peek().pos;
      const expr = this.expr();
      const text = this.sql.slice(start, this.peek().pos).trim();
      this.expectPunct(')');
      return { kind: 'check', name, expr, text };
    }
    if (this.acceptKw('foreign', 'key')) {
      this.expectPunct('(');
      const columns = this.identList();
      this.expectPunct(')');
      this.expectKw('references');
      const table = this.qualifiedName();
      let refColumns: string[] = [];
      if (this.acceptPunct('(')) {
        refColumns = this.identList();
        this.expectPunct(')');
      }
      this.skipFkActions();
      return { kind: 'foreign', name, columns, table, refColumns };
    }
    throw this.syntaxError();
  }

  private skipFkActions(): void {
    while (this.acceptKw('on')) {
      this.next(); // delete | update
      if (this.acceptKw('no', 'action') || this.acceptKw('set', 'null') || this.acceptKw('set', 'default')) continue;
      this.next();
    }
    this.acceptKw('match', 'simple') || this.acceptKw('match', 'full');
  }

  private columnDef(): ColumnDef {
    const pos = this.peek().pos;
    const name = this.ident();
    const type = this.typeName();
    const c: ColumnDef = { name, type, notNull: false, nullExplicit: false, primaryKey: false, unique: false, default: null, defaultText: null, check: null, checkText: null, checkName: null, references: null, pos };
    for (;;) {
      let cname: string | null = null;
      if (this.acceptKw('constraint')) cname = this.ident();
      if (this.acceptKw('not', 'null')) c.notNull = true;
      else if (this.acceptKw('null')) c.nullExplicit = true;
      else if (this.acceptKw('primary', 'key')) c.primaryKey = true;
      else if (this.acceptKw('unique')) c.unique = true;
      else if (this.acceptKw('default')) {
        const start = this.peek().pos;
        c.default = this.exprNoLogic();
        checkDefaultExpr(c.default);
        c.defaultText = this.sql.slice(start, this.peek().pos).trim();
      } else if (this.acceptKw('check')) {
        this.expectPunct('(');
        const start = this.peek().pos;
        c.check = this.expr();
        c.checkText = this.sql.slice(start, this.peek().pos).trim();
        c.checkName = cname;
        this.expectPunct(')');
      } else if (this.acceptKw('references')) {
        const table = this.qualifiedName();
        let column: string | null = null;
        if (this.acceptPunct('(')) {
          column = this.ident();
          this.expectPunct(')');
        }
        this.skipFkActions();
        c.references = { table, column, name: cname };
      } else if (this.acceptKw('collate')) this.ident();
      else break;
    }
    return c;
  }

  private dropStmt(pos: number): Statement {
    const names = (): string[][] => {
      const out = [this.qualifiedName()];
      while (this.acceptPunct(',')) out.push(this.qualifiedName());
      return out;
    };
    const tail = () => {
      const cascade = this.acceptKw('cascade');
      if (!cascade) this.acceptKw('restrict');
      return cascade;
    };
    if (this.acceptKw('database')) {
      const ifExists = this.acceptKw('if', 'exists');
      const name = this.ident();
      return { kind: 'dropDatabase', name, ifExists, cascade: tail(), pos };
    }
    if (this.acceptKw('schema')) {
      const ifExists = this.acceptKw('if', 'exists');
      const n = names();
      return { kind: 'dropSchema', names: n, ifExists, cascade: tail(), pos };
    }
    if (this.acceptKw('table')) {
      const ifExists = this.acceptKw('if', 'exists');
      const n = names();
      return { kind: 'dropTable', names: n, ifExists, cascade: tail(), pos };
    }
    if (this.acceptKw('index')) {
      this.acceptKw('concurrently');
      const ifExists = this.acceptKw('if', 'exists');
      const n = [this.indexName()];
      while (this.acceptPunct(',')) n.push(this.indexName());
      return { kind: 'dropIndex', names: n, ifExists, cascade: tail(), pos };
    }
    if (this.acceptKw('sequence')) {
      const ifExists = this.acceptKw('if', 'exists');
      const n = names();
      tail();
      return { kind: 'dropSequence', names: n, ifExists, pos };
    }
    if (this.acceptKw('view')) {
      const ifExists = this.acceptKw('if', 'exists');
      const n = names();
      tail();
      return { kind: 'dropView', names: n, ifExists, pos };
    }
    if (this.acceptKw('materialized', 'view')) {
      const ifExists = this.acceptKw('if', 'exists');
      const n = names();
      return { kind: 'dropMatview', names: n, ifExists, cascade: tail(), pos };
    }
    if (this.isKw('domain') || this.isKw('type')) {
      const domain = this.next().value === 'domain';
      const ifExists = this.acceptKw('if', 'exists');
      const n = names();
      return { kind: 'dropType', names: n, domain, ifExists, cascade: tail(), pos };
    }
    if (this.acceptKw('function')) {
      const ifExists = this.acceptKw('if', 'exists');
      const items: { name: string[]; args: TypeName[] | null }[] = [];
      do {
        const name = this.qualifiedName();
        let args: TypeName[] | null = null;
        if (this.acceptPunct('(')) {
          args = [];
          if (!this.isPunct(')')) {
            do {
              const p = this.functionParam();
              if (p.mode !== 'out') args.push(p.type);
            } while (this.acceptPunct(','));
          }
          this.expectPunct(')');
        }
        items.push({ name, args });
      } while (this.acceptPunct(','));
      return { kind: 'dropFunction', items, ifExists, cascade: tail(), pos };
    }
    throw this.syntaxError();
  }

  /**
   * CREATE [OR REPLACE] FUNCTION name ([params]) RETURNS … with its options in any order (PostgreSQL's
   * createfunc_opt_list), the body as `AS 'text'`, `RETURN expr` or `BEGIN ATOMIC … END`.
   */
  private createFunction(orReplace: boolean, pos: number): Statement {
    const name = this.qualifiedName();
    this.expectPunct('(');
    const params: FunctionParam[] = [];
    if (!this.isPunct(')')) {
      do params.push(this.functionParam());
      while (this.acceptPunct(','));
    }
    this.expectPunct(')');
    let returns: FunctionReturns | null = null;
    if (this.acceptKw('returns')) {
      if (this.acceptKw('table')) {
        this.expectPunct('(');
        const columns: { name: string; type: TypeName }[] = [];
        do columns.push({ name: this.ident(), type: this.typeName() });
        while (this.acceptPunct(','));
        this.expectPunct(')');
        returns = { kind: 'table', columns };
      } else {
        const setof = this.acceptKw('setof');
        returns = { kind: 'type', type: this.typeName(), setof };
      }
    }
    let language: string | null = null;
    let volatility: 'i' | 's' | 'v' = 'v';
    let strict = false;
    let body: string | null = null;
    for (;;) {
      if (this.acceptKw('language')) language = this.peek().type === 'string' ? this.stringLit().toLowerCase() : this.ident(true);
      else if (this.acceptKw('immutable')) volatility = 'i';
      else if (this.acceptKw('stable')) volatility = 's';
      else if (this.acceptKw('volatile')) volatility = 'v';
      else if (this.acceptKw('strict') || this.acceptKw('returns', 'null', 'on', 'null', 'input')) strict = true;
      else if (this.acceptKw('called', 'on', 'null', 'input')) strict = false;
      else if (this.acceptKw('not', 'leakproof') || this.acceptKw('leakproof')) continue;
      else if (this.acceptKw('external', 'security') || this.acceptKw('security')) {
        if (!this.acceptKw('invoker') && !this.acceptKw('definer')) throw this.syntaxError();
      } else if (this.acceptKw('parallel')) this.ident(true);
      else if (this.acceptKw('cost') || this.acceptKw('rows')) {
        if (this.next().type !== 'number') throw this.syntaxError();
      } else if (body !== null && (this.isKw('as') || this.isKw('return') || (this.isKw('begin') && this.isKw('atomic', 1)))) {
        throw new PgError(SqlState.InvalidFunctionDefinition, 'duplicate function body specified');
      } else if (this.acceptKw('as')) {
        body = this.stringLit();
        if (this.acceptPunct(',')) this.stringLit();
      } else if (this.acceptKw('return')) {
        // RETURN expr: the SQL-standard body, a SELECT of the expression.
        const start = this.peek().pos;
        this.expr();
        body = `SELECT ${this.sql.slice(start, this.peek().pos).trim()}`;
      } else if (this.acceptKw('begin', 'atomic')) {
        const start = this.peek().pos;
        while (!this.isKw('end')) {
          while (this.acceptPunct(';'));
          if (this.isKw('end')) break;
          this.statement();
          if (!this.isKw('end')) this.expectPunct(';');
        }
        body = this.sql.slice(start, this.peek().pos).trim();
        this.expectKw('end');
      } else break;
    }
    if (body === null) throw new PgError(SqlState.InvalidFunctionDefinition, 'no function body specified');
    if (returns === null) {
      const outs = params.filter((p) => p.mode === 'out' || p.mode === 'inout');
      if (outs.length === 0) throw new PgError(SqlState.InvalidFunctionDefinition, 'function result type must be specified');
      if (outs.length === 1) returns = { kind: 'type', type: (outs[0] as FunctionParam).type, setof: false };
      else returns = { kind: 'table', columns: outs.map((p, i) => ({ name: p.name ?? `column${i + 1}`, type: p.type })) };
    }
    if (language === null) throw new PgError(SqlState.InvalidFunctionDefinition, 'no language specified');
    return { kind: 'createFunction', name, orReplace, params, returns, language, volatility, strict, body, pos };
  }

  /** CREATE DOMAIN name [AS] type [COLLATE c] [DEFAULT expr] [[CONSTRAINT c] NOT NULL | NULL | CHECK (expr)]… */
  private createDomain(pos: number): Statement {
    const name = this.qualifiedName();
    this.acceptKw('as');
    const type = this.typeName();
    let def: string | null = null;
    let notNull = false;
    const checks: { name: string | null; expr: string }[] = [];
    for (;;) {
      if (this.acceptKw('collate')) this.ident(true);
      else if (this.acceptKw('default')) {
        const start = this.peek().pos;
        this.expr();
        def = this.sql.slice(start, this.peek().pos).trim();
      } else {
        const cname = this.acceptKw('constraint') ? this.ident() : null;
        if (this.acceptKw('not', 'null')) notNull = true;
        else if (this.acceptKw('null')) notNull = false;
        else if (this.acceptKw('check')) {
          this.expectPunct('(');
          const start = this.peek().pos;
          this.expr();
          checks.push({ name: cname, expr: this.sql.slice(start, this.peek().pos).trim() });
          this.expectPunct(')');
        } else if (cname !== null) throw this.syntaxError();
        else break;
      }
    }
    return { kind: 'createDomain', name, type, default: def, notNull, checks, pos };
  }

  /** `[IN|OUT|INOUT|VARIADIC] [name] type [DEFAULT expr | = expr]`: a name is there when a type follows it. */
  private functionParam(): FunctionParam {
    let mode: FunctionParam['mode'] = 'in';
    if (this.acceptKw('in')) mode = this.acceptKw('out') ? 'inout' : 'in';
    else if (this.acceptKw('out')) mode = 'out';
    else if (this.acceptKw('inout')) mode = 'inout';
    else if (this.acceptKw('variadic')) mode = 'variadic';
    const save = this.i;
    let name: string | null = null;
    let type = this.typeName();
    const ends = () => this.isPunct(',') || this.isPunct(')') || this.isKw('default') || this.isOp('=');
    if (!ends()) {
      this.i = save;
      name = this.ident();
      type = this.typeName();
    }
    let defaultText: string | null = null;
    if (this.acceptKw('default') || this.acceptOp('=')) {
      const start = this.peek().pos;
      this.expr();
      defaultText = this.sql.slice(start, this.peek().pos).trim();
    }
    return { mode, name, type, defaultText };
  }

  /** An index name: name, schema.name, or KWDB's table@name (then the index name comes last). */
  private indexName(): string[] {
    const parts = this.qualifiedName();
    if (this.peek().type === 'op' && this.peek().value === '@') {
      this.next();
      return [...parts, this.ident()];
    }
    return parts;
  }

  /** RANGE name | TABLE name | DATABASE name of a zone statement. */
  private zoneTarget(): ZoneTarget {
    if (this.acceptKw('table')) return { kind: 'table', name: this.qualifiedName() };
    if (this.acceptKw('database')) return { kind: 'database', name: this.ident() };
    this.expectKw('range');
    return this.rangeZone();
  }

  /** The name after RANGE: default, liveness, meta, system or timeseries (zones.ts). */
  private rangeZone(): ZoneTarget {
    const t = this.next();
    const names = ['default', 'liveness', 'meta', 'system', 'timeseries'] as const;
    const name = names.find((n) => t.type === 'ident' && t.value === n);
    if (!name) {
      throw new PgError(SqlState.FeatureNotSupported, `zone configurations for range "${t.value}" are not supported`, { hint: 'Named ranges: default, liveness, meta, system (meta and system are one range here) and timeseries.' });
    }
    return { kind: 'range', name };
  }

  /** CONFIGURE ZONE USING num_replicas = n | DISCARD (null), after the target. */
  private zoneSettings(): number | null {
    this.expectKw('configure', 'zone');
    if (this.acceptKw('discard')) return null;
    this.expectKw('using');
    const settings = new Map<string, string | number>();
    do {
      const t = this.next();
      if (t.type !== 'ident') throw this.syntaxError(t);
      let name = t.value;
      while (this.acceptPunct('.')) name += `.${this.ident()}`;
      if (!this.acceptOp('=')) throw this.syntaxError();
      settings.set(name, this.setValue());
    } while (this.acceptPunct(','));
    for (const name of settings.keys()) {
      if (name !== 'num_replicas') throw new PgError(SqlState.FeatureNotSupported, `zone configuration variable "${name}" is not supported`, { hint: 'Only num_replicas is.' });
    }
    const numReplicas = settings.get('num_replicas');
    if (typeof numReplicas !== 'number' || !Number.isInteger(numReplicas) || numReplicas < 1 || numReplicas > 7) throw new PgError(SqlState.InvalidParameterValue, `num_replicas must be an integer from 1 to 7: ${String(numReplicas)}`);
    return numReplicas;
  }

  private alterStmt(pos: number): Statement {
    if (this.acceptKw('type')) {
      const name = this.qualifiedName();
      if (this.acceptKw('add', 'value')) {
        const ifNotExists = this.acceptKw('if', 'not', 'exists');
        const label = this.stringLit();
        const before = this.acceptKw('before') ? this.stringLit() : null;
        const after = before === null && this.acceptKw('after') ? this.stringLit() : null;
        return { kind: 'alterEnum', name, label, ifNotExists, before, after, pos };
      }
      throw new PgError(SqlState.FeatureNotSupported, 'this form of ALTER TYPE is not supported (only ADD VALUE)', { position: this.peek().pos + 1 });
    }
    if (this.acceptKw('domain')) {
      const name = this.qualifiedName();
      let action: AlterDomainAction;
      if (this.acceptKw('set', 'default')) {
        const start = this.peek().pos;
        this.expr();
        action = { kind: 'setDefault', default: this.sql.slice(start, this.peek().pos).trim() };
      } else if (this.acceptKw('drop', 'default')) action = { kind: 'setDefault', default: null };
      else if (this.acceptKw('set', 'not', 'null')) action = { kind: 'notNull', notNull: true };
      else if (this.acceptKw('drop', 'not', 'null')) action = { kind: 'notNull', notNull: false };
      else if (this.acceptKw('add')) {
        const cname = this.acceptKw('constraint') ? this.ident() : null;
        if (this.isKw('not') && this.isKw('null', 1)) throw new PgError(SqlState.FeatureNotSupported, 'ALTER DOMAIN ADD CONSTRAINT … NOT NULL is not supported (use SET NOT NULL)');
        this.expectKw('check');
        this.expectPunct('(');
        const start = this.peek().pos;
        this.expr();
        const expr = this.sql.slice(start, this.peek().pos).trim();
        this.expectPunct(')');
        action = { kind: 'addCheck', name: cname, expr, notValid: this.acceptKw('not', 'valid') };
      } else if (this.acceptKw('drop', 'constraint')) {
        const ifExists = this.acceptKw('if', 'exists');
        action = { kind: 'dropConstraint', name: this.ident(), ifExists };
        this.acceptKw('cascade') || this.acceptKw('restrict');
      } else throw new PgError(SqlState.FeatureNotSupported, 'this form of ALTER DOMAIN is not supported', { position: this.peek().pos + 1 });
      return { kind: 'alterDomain', name, action, pos };
    }
    if (this.acceptKw('range')) {
      const target = this.rangeZone();
      return { kind: 'configureZone', target, numReplicas: this.zoneSettings(), pos };
    }
    if (this.isKw('database') && this.peek(1).type === 'ident' && this.isKw('configure', 2)) {
      this.i += 1;
      const target: ZoneTarget = { kind: 'database', name: this.ident() };
      return { kind: 'configureZone', target, numReplicas: this.zoneSettings(), pos };
    }
    if (this.acceptKw('index')) {
      const ifExists = this.acceptKw('if', 'exists');
      const name = this.indexName();
      if ((this.isKw('set') || this.isKw('reset')) && this.isPunct('(', 1)) {
        // SET (storage parameters) / RESET (names): a btree index's, checked as CREATE INDEX … WITH.
        const reset = this.next().value.toLowerCase() === 'reset';
        const params = this.storageParams();
        if (reset && params.some((x) => x.value !== null)) throw new PgError(SqlState.SyntaxError, 'RESET must not include values for parameters');
        checkStorageParams(params, 'index', reset);
        const relOptions = reset ? { set: [], reset: params.map((x) => x.name.toLowerCase()) } : { set: relOptionStrings(params), reset: [] };
        return { kind: 'alterIndex', name, ifExists, to: null, relOptions, pos };
      }
      this.expectKw('rename', 'to');
      return { kind: 'alterIndex', name, ifExists, to: this.ident(), pos };
    }
    if (this.acceptKw('ts', 'database')) {
      const name = this.ident();
      this.expectKw('set');
      let retentionSeconds: number | null = null;
      let partitionIntervalSeconds: number | null = null;
      if (this.acceptKw('retentions')) {
        this.acceptOp('=');
        retentionSeconds = this.duration();
      } else if (this.acceptKw('partition', 'interval')) {
        this.acceptOp('=');
        partitionIntervalSeconds = this.duration();
      } else throw this.syntaxError();
      return { kind: 'alterTsDatabase', name, retentionSeconds, partitionIntervalSeconds, pos };
    }
    if (!this.acceptKw('table')) throw this.syntaxError();
    const ifExists = this.acceptKw('if', 'exists');
    this.acceptKw('only');
    const name = this.qualifiedName();
    if (this.isKw('configure', 0)) return { kind: 'configureZone', target: { kind: 'table', name }, numReplicas: this.zoneSettings(), pos };
    const cmds: AlterTableCmd[] = [];
    do {
      // ADD TAG name type (a column named "tag" is ADD [COLUMN] tag type: two words, not three)
      const tagWord = (k: number) => this.isKw('tag', k) && this.peek(k + 1).type === 'ident' && (this.peek(k + 2).type === 'ident' || this.isKw('if', k + 1));
      if (this.isKw('add') && tagWord(1)) {
        this.i += 2;
        const ifNotExists = this.acceptKw('if', 'not', 'exists');
        cmds.push({ kind: 'addTag', tag: this.columnDef(), ifNotExists });
      } else if (this.isKw('drop') && this.isKw('tag', 1) && this.peek(2).type === 'ident') {
        this.i += 2;
        const ie = this.acceptKw('if', 'exists');
        cmds.push({ kind: 'dropTag', name: this.ident(), ifExists: ie });
      } else if (this.isKw('alter') && this.isKw('tag', 1) && this.peek(2).type === 'ident' && !this.isKw('type', 2) && !this.isKw('set', 2)) {
        this.i += 2;
        const tag = this.ident();
        if (!this.acceptKw('set', 'data', 'type')) this.expectKw('type');
        cmds.push({ kind: 'alterTagType', tag, type: this.typeName() });
      } else if (this.acceptKw('add')) {
        if (this.isKw('constraint') || this.isKw('primary') || this.isKw('unique') || this.isKw('check') || this.isKw('foreign')) {
          cmds.push({ kind: 'addConstraint', constraint: this.tableConstraint() });
        } else {
          this.acceptKw('column');
          const ifNotExists = this.acceptKw('if', 'not', 'exists');
          cmds.push({ kind: 'addColumn', column: this.columnDef(), ifNotExists });
        }
      } else if (this.acceptKw('drop')) {
        if (this.acceptKw('constraint')) {
          const ie = this.acceptKw('if', 'exists');
          cmds.push({ kind: 'dropConstraint', name: this.ident(), ifExists: ie });
        } else {
          this.acceptKw('column');
          const ie = this.acceptKw('if', 'exists');
          cmds.push({ kind: 'dropColumn', name: this.ident(), ifExists: ie });
        }
        this.acceptKw('cascade') || this.acceptKw('restrict');
      } else if ((this.isKw('set') || this.isKw('reset')) && this.isPunct('(', 1)) {
        // SET (storage parameters) / RESET (names): checked as in CREATE TABLE … WITH, kept as reloptions.
        const reset = this.next().value.toLowerCase() === 'reset';
        const params = this.storageParams();
        if (reset && params.some((x) => x.value !== null)) throw new PgError(SqlState.SyntaxError, 'RESET must not include values for parameters');
        checkStorageParams(params, 'table', reset);
        if (reset) cmds.push({ kind: 'setRelOptions', set: [], reset: params.filter((x) => x.namespace === null).map((x) => x.name.toLowerCase()) });
        else cmds.push({ kind: 'setRelOptions', set: relOptionStrings(params), reset: [] });
      } else if (this.acceptKw('set', 'retentions') || this.acceptKw('set', 'activetime')) {
        const option = (this.toks[this.i - 1] as { value: string }).value.toLowerCase() as 'retentions' | 'activetime';
        this.acceptOp('=');
        cmds.push({ kind: 'setTsOption', option, seconds: this.duration() });
      } else if (this.acceptKw('rename')) {
        if (this.acceptKw('to')) cmds.push({ kind: 'renameTable', to: this.ident() });
        else if (this.acceptKw('tag')) {
          const from = this.ident();
          this.expectKw('to');
          cmds.push({ kind: 'renameTag', from, to: this.ident() });
        } else {
          this.acceptKw('column');
          const from = this.ident();
          this.expectKw('to');
          cmds.push({ kind: 'renameColumn', from, to: this.ident() });
        }
      } else if (this.acceptKw('alter')) {
        this.acceptKw('column');
        const column = this.ident();
        if (this.acceptKw('set', 'default')) {
          const start = this.peek().pos;
          const d = this.exprNoLogic();
          checkDefaultExpr(d);
          cmds.push({ kind: 'alterColumnDefault', column, default: d, defaultText: this.sql.slice(start, this.peek().pos).trim() });
        } else if (this.acceptKw('drop', 'default')) cmds.push({ kind: 'alterColumnDefault', column, default: null, defaultText: null });
        else if (this.acceptKw('set', 'not', 'null')) cmds.push({ kind: 'alterColumnNotNull', column, notNull: true });
        else if (this.acceptKw('drop', 'not', 'null')) cmds.push({ kind: 'alterColumnNotNull', column, notNull: false });
        else if (this.acceptKw('set', 'data', 'type') || this.acceptKw('type')) cmds.push({ kind: 'alterColumnType', column, type: this.typeName() });
        else throw this.syntaxError();
      } else throw this.syntaxError();
    } while (this.acceptPunct(','));
    return { kind: 'alterTable', name, ifExists, cmds, pos };
  }

  typeName(): TypeName {
    const pos = this.peek().pos;
    let name = this.ident(true);
    // multi-word type names
    if (name === 'double' && this.acceptKw('precision')) name = 'float8';
    else if (name === 'character' || name === 'char') {
      if (this.acceptKw('varying')) name = 'varchar';
      else name = 'bpchar';
    } else if (name === 'national') {
      this.acceptKw('character') || this.acceptKw('char');
      name = this.acceptKw('varying') ? 'varchar' : 'bpchar';
    } else if (name === 'timestamp' || name === 'time') {
      let mods: number[] = [];
      if (this.acceptPunct('(')) {
        mods = [Number(this.next().value)];
        this.expectPunct(')');
      }
      if (this.acceptKw('with', 'time', 'zone')) name = name === 'timestamp' ? 'timestamptz' : 'timetz';
      else this.acceptKw('without', 'time', 'zone');
      return { name, mods, arrayDims: this.arrayDims(), pos };
    } else if (name === 'bit' && this.acceptKw('varying')) name = 'varbit';
    else if (name === 'pg_catalog' && this.acceptPunct('.')) return this.typeName();
    else if (name === 'interval') {
      // interval(p) or INTERVAL fields [(p)]: the typmod PostgreSQL gives them.
      let precision = 0xffff;
      if (this.isPunct('(')) {
        this.next();
        precision = Number(this.next().value);
        this.expectPunct(')');
      }
      const fields = this.intervalFields();
      const range = fields?.range ?? 0x7fff;
      if (fields?.precision !== undefined) precision = fields.precision;
      const tn: TypeName = { name, mods: [], arrayDims: 0, pos };
      if (range !== 0x7fff || precision !== 0xffff) tn.intervalTypmod = (range << 16) | precision;
      tn.arrayDims = this.arrayDims();
      return tn;
    }
    const mods: number[] = [];
    if (this.isPunct('(')) {
      this.next();
      do {
        const t = this.next();
        if (t.type !== 'number') throw this.syntaxError(t);
        mods.push(Number(t.value));
      } while (this.acceptPunct(','));
      this.expectPunct(')');
    }
    return { name, mods, arrayDims: this.arrayDims(), pos };
  }

  /** Interval field qualifiers: the fields' mask (datetime.h bits) and a SECOND(p) precision. */
  private intervalFields(): { range: number; precision?: number } | null {
    const bit: Record<string, number> = { year: 1 << 2, month: 1 << 1, day: 1 << 3, hour: 1 << 10, minute: 1 << 11, second: 1 << 12 };
    const order = ['year', 'month', 'day', 'hour', 'minute', 'second'];
    const first = order.find((f) => this.isKw(f));
    if (first === undefined) return null;
    this.next();
    let last = first;
    let precision: number | undefined;
    if (this.acceptKw('to')) {
      const t = order.find((f) => this.isKw(f));
      if (t === undefined || order.indexOf(t) <= order.indexOf(first) || (first === 'year' && t !== 'month') || (first === 'month')) throw this.syntaxError();
      this.next();
      last = t;
    }
    if (last === 'second' && this.isPunct('(')) {
      this.next();
      precision = Number(this.next().value);
      this.expectPunct(')');
    }
    let range = 0;
    for (let k = order.indexOf(first); k <= order.indexOf(last); k++) range |= bit[order[k] as string] as number;
    return precision === undefined ? { range } : { range, precision };
  }

  /** `[e, …]` after ARRAY; an element may itself be a bare `[…]` (ARRAY[[1,2],[3,4]]), a sub-array. */
  private arrayCtorBody(pos: number): Expr {
    this.expectPunct('[');
    const elems: Expr[] = [];
    if (!this.isPunct(']')) {
      do elems.push(this.isPunct('[') ? this.arrayCtorBody(this.peek().pos) : this.expr());
      while (this.acceptPunct(','));
    }
    this.expectPunct(']');
    return { kind: 'array', elems, pos };
  }

  private arrayDims(): number {
    let n = 0;
    for (;;) {
      if (this.isPunct('[')) {
        this.next();
        if (this.peek().type === 'number') this.next();
        this.expectPunct(']');
        n++;
      } else if (this.acceptKw('array')) n++;
      else return n;
    }
  }

  // ---- DML -----------------------------------------------------------------------------------

  private insertStmt(ctes: CommonTableExpr[]): Statement {
    const pos = this.peek().pos;
    const upsert = this.acceptKw('upsert');
    if (!upsert) this.expectKw('insert');
    this.expectKw('into');
    const table = this.qualifiedName();
    let alias: string | null = null;
    if (this.acceptKw('as')) alias = this.ident();
    let columns: string[] | null = null;
    if (this.isPunct('(') && !this.isKw('select', 1) && !this.isKw('values', 1) && !this.isKw('with', 1)) {
      this.next();
      columns = this.identList();
      this.expectPunct(')');
    }
    let source: SelectStmt | 'default';
    if (this.acceptKw('default', 'values')) source = 'default';
    else source = this.selectStmt();
    let onConflict: OnConflict | null = null;
    if (this.acceptKw('on', 'conflict')) {
      let cols: string[] | null = null;
      if (this.acceptPunct('(')) {
        cols = this.identList();
        this.expectPunct(')');
        if (this.isKw('where')) {
          // A partial-index predicate in the conflict target: Strata has no partial indexes to match it.
          throw new PgError(SqlState.InvalidColumnReference, 'there is no unique or exclusion constraint matching the ON CONFLICT specification', { position: this.peek().pos + 1 });
        }
      } else if (this.acceptKw('on', 'constraint')) this.ident();
      this.expectKw('do');
      if (this.acceptKw('nothing')) onConflict = { columns: cols, action: 'nothing' };
      else {
        this.expectKw('update', 'set');
        const sets = this.setList();
        const where = this.acceptKw('where') ? this.expr() : null;
        onConflict = { columns: cols, action: { sets, where } };
      }
    }
    const returning = this.returning();
    return { kind: 'insert', with: ctes, table, alias, columns, source, onConflict, returning, upsert, pos };
  }

  private setList(): { column: string; value: Expr }[] {
    const sets: { column: string; value: Expr }[] = [];
    do {
      if (this.isPunct('(')) {
        this.next();
        const cols = this.identList();
        this.expectPunct(')');
        if (!this.acceptOp('=')) throw this.syntaxError();
        this.expectPunct('(');
        const vals: Expr[] = [];
        do vals.push(this.expr());
        while (this.acceptPunct(','));
        this.expectPunct(')');
        if (vals.length !== cols.length) throw new PgError(SqlState.SyntaxError, 'number of columns does not match number of values');
        cols.forEach((c, i) => sets.push({ column: c, value: vals[i] as Expr }));
        continue;
      }
      const colPos = this.peek().pos;
      const column = this.ident();
      if (this.isPunct('.') || this.isPunct('[')) {
        // Assignments to a field or an element (SET c.f = …, SET c[1] = …) are not supported; refuse rather than set the whole column.
        throw new PgError(SqlState.FeatureNotSupported, `assignment to a field or element of column "${column}" is not supported`, { position: colPos + 1 });
      }
      if (!this.acceptOp('=')) throw this.syntaxError();
      sets.push({ column, value: this.expr() });
    } while (this.acceptPunct(','));
    const seen = new Set<string>();
    for (const st of sets) {
      if (seen.has(st.column)) throw new PgError(SqlState.SyntaxError, `multiple assignments to same column "${st.column}"`);
      seen.add(st.column);
    }
    return sets;
  }

  private returning(): SelectItem[] | null {
    if (!this.acceptKw('returning')) return null;
    return this.selectItems();
  }

  private updateStmt(ctes: CommonTableExpr[]): Statement {
    const pos = this.peek().pos;
    this.expectKw('update');
    this.acceptKw('only');
    const table = this.qualifiedName();
    let alias: string | null = null;
    if (this.acceptKw('as')) alias = this.ident();
    else if (this.isIdent() && !this.isKw('set')) alias = this.ident();
    this.expectKw('set');
    const sets = this.setList();
    const from = this.acceptKw('from') ? this.fromList() : [];
    const where = this.acceptKw('where') ? this.expr() : null;
    return { kind: 'update', with: ctes, table, alias, sets, from, where, returning: this.returning(), pos };
  }

  private deleteStmt(ctes: CommonTableExpr[]): Statement {
    const pos = this.peek().pos;
    this.expectKw('delete');
    this.expectKw('from');
    this.acceptKw('only');
    const table = this.qualifiedName();
    let alias: string | null = null;
    if (this.acceptKw('as')) alias = this.ident();
    else if (this.isIdent() && !this.isKw('using') && !this.isKw('returning')) alias = this.ident();
    const using = this.acceptKw('using') ? this.fromList() : [];
    const where = this.acceptKw('where') ? this.expr() : null;
    return { kind: 'delete', with: ctes, table, alias, using, where, returning: this.returning(), pos };
  }

  // ---- queries -------------------------------------------------------------------------------

  private withClause(): CommonTableExpr[] {
    this.expectKw('with');
    const recursive = this.acceptKw('recursive');
    const out: CommonTableExpr[] = [];
    do {
      const name = this.ident();
      let columns: string[] | null = null;
      if (this.acceptPunct('(')) {
        columns = this.identList();
        this.expectPunct(')');
      }
      this.expectKw('as');
      this.acceptKw('not');
      this.acceptKw('materialized');
      this.expectPunct('(');
      const query = this.selectStmt();
      this.expectPunct(')');
      out.push({ name, columns, query, recursive });
    } while (this.acceptPunct(','));
    return out;
  }

  selectStmt(): SelectStmt {
    const d0 = this.depth;
    this.enter(selectNestingCost);
    try {
      return this.selectStmtInner();
    } finally {
      this.depth = d0;
    }
  }

  private selectStmtInner(): SelectStmt {
    const pos = this.peek().pos;
    const ctes = this.isKw('with') ? this.withClause() : [];
    let left = this.selectTerm();
    // UNION/EXCEPT bind looser than INTERSECT.
    for (;;) {
      let op: 'union' | 'except' | null = null;
      if (this.acceptKw('union')) op = 'union';
      else if (this.acceptKw('except')) op = 'except';
      if (!op) break;
      const all = this.acceptKw('all');
      if (!all) this.acceptKw('distinct');
      const right = this.selectTerm();
      left = wrapQuery({ kind: 'setop', op, all, left, right }, pos);
    }
    const q = left;
    if (ctes.length > 0) q.with = [...ctes, ...q.with];
    if (this.acceptKw('order', 'by')) {
      if (q.orderBy.length > 0 || q.limit || q.offset) return this.wrapTail(wrapQuery({ kind: 'select', distinct: false, distinctOn: null, items: [{ expr: { kind: 'star', table: null, pos }, alias: null }], from: [{ kind: 'subquery', query: q, alias: '_', columnAliases: null, lateral: false, pos }], where: null, groupBy: [], having: null, windows: [] }, pos));
      q.orderBy = this.orderList();
    }
    this.limitOffset(q);
    if (this.acceptKw('for')) {
      // FOR UPDATE / FOR SHARE: serializable transactions make row locks unnecessary; accepted
      // (and remembered: a read-only transaction refuses them, as PostgreSQL does).
      const words: string[] = [];
      while (!this.isKw('of') && !this.isKw('nowait') && !this.isKw('skip') && this.peek().type === 'ident' && words.length < 3) words.push(this.next().value.toUpperCase());
      if (words.length === 0) throw this.syntaxError();
      q.locking = words.join(' ');
      while (this.acceptKw('of')) this.identList();
      const skipLocked = !this.acceptKw('nowait') && this.acceptKw('skip', 'locked');
      if (skipLocked && q.withTies) throw new PgError(SqlState.SyntaxError, 'SKIP LOCKED and WITH TIES options cannot be used together');
      // CheckSelectLocking: rows of these queries are not rows of a table to lock.
      const b = q.body;
      const refused = b.kind === 'setop' ? 'UNION/INTERSECT/EXCEPT' : b.kind === 'select' && b.distinct ? 'DISTINCT clause' : b.kind === 'select' && b.groupBy.length > 0 ? 'GROUP BY clause' : b.kind === 'select' && b.having ? 'HAVING clause' : null;
      if (refused) throw new PgError(SqlState.FeatureNotSupported, `FOR ${q.locking} is not allowed with ${refused}`);
    }
    return q;
  }

  private wrapTail(q: SelectStmt): SelectStmt {
    q.orderBy = this.orderList();
    this.limitOffset(q);
    return q;
  }

  private limitOffset(q: SelectStmt): void {
    for (;;) {
      if (this.acceptKw('limit')) {
        if (this.acceptKw('all')) q.limit = null;
        else q.limit = this.expr();
      } else if (this.acceptKw('offset')) {
        q.offset = this.exprNoLogic();
        this.acceptKw('rows') || this.acceptKw('row');
      } else if (this.acceptKw('fetch')) {
        this.acceptKw('first') || this.acceptKw('next');
        q.limit = this.isKw('row') || this.isKw('rows') ? { kind: 'literal', value: 1, literalType: 'integer', pos: this.peek().pos } : this.primary();
        this.acceptKw('rows') || this.acceptKw('row');
        if (this.acceptKw('with', 'ties')) q.withTies = true;
        else this.expectKw('only');
      } else break;
    }
  }

  /** A SELECT term: simple select, VALUES, TABLE t, or a parenthesized query; INTERSECT binds here. */
  private selectTerm(): SelectStmt {
    let left = this.selectPrimary();
    while (this.isKw('intersect')) {
      const pos = this.next().pos;
      const all = this.acceptKw('all');
      if (!all) this.acceptKw('distinct');
      const right = this.selectPrimary();
      left = wrapQuery({ kind: 'setop', op: 'intersect', all, left, right }, pos);
    }
    return left;
  }

  private selectPrimary(): SelectStmt {
    const pos = this.peek().pos;
    if (this.acceptPunct('(')) {
      const q = this.selectStmt();
      this.expectPunct(')');
      return q;
    }
    if (this.acceptKw('values')) {
      let rows: Expr[][] = [];
      const folded = this.peek();
      if (folded.type === 'rows') {
        // Long literal rows folded before parsing (bulk_lists.ts); other rows may follow.
        this.next();
        rows = folded.rows as Expr[][];
        if (!this.acceptPunct(',')) return wrapQuery({ kind: 'values', rows }, pos);
      }
      do {
        this.expectPunct('(');
        const row: Expr[] = [];
        do row.push(this.isKw('default') ? { kind: 'default', pos: this.next().pos } : (this.listLiteral() ?? this.expr()));
        while (this.acceptPunct(','));
        this.expectPunct(')');
        rows.push(row);
      } while (this.acceptPunct(','));
      return wrapQuery({ kind: 'values', rows }, pos);
    }
    if (this.acceptKw('table')) {
      const name = this.qualifiedName();
      return wrapQuery({ kind: 'select', distinct: false, distinctOn: null, items: [{ expr: { kind: 'star', table: null, pos }, alias: null }], from: [{ kind: 'table', name, alias: null, columnAliases: null, pos }], where: null, groupBy: [], having: null, windows: [] }, pos);
    }
    this.expectKw('select');
    let distinct = false;
    let distinctOn: Expr[] | null = null;
    if (this.acceptKw('distinct')) {
      distinct = true;
      if (this.acceptKw('on')) {
        this.expectPunct('(');
        distinctOn = [];
        do distinctOn.push(this.expr());
        while (this.acceptPunct(','));
        this.expectPunct(')');
      }
    } else this.acceptKw('all');
    const items = this.peek().type === 'eof' || this.isPunct(';') || this.isPunct(')') || this.isKw('from') || this.isKw('union') ? [] : this.selectItems();
    const from = this.acceptKw('from') ? this.fromList() : [];
    const where = this.acceptKw('where') ? this.expr() : null;
    const groupBy: Expr[] = [];
    if (this.acceptKw('group', 'by')) {
      do groupBy.push(this.expr());
      while (this.acceptPunct(','));
    }
    const having = this.acceptKw('having') ? this.expr() : null;
    const windows: { name: string; spec: WindowSpec }[] = [];
    if (this.acceptKw('window')) {
      do {
        const name = this.ident();
        this.expectKw('as');
        windows.push({ name, spec: this.windowSpec() });
      } while (this.acceptPunct(','));
    }
    return wrapQuery({ kind: 'select', distinct, distinctOn, items, from, where, groupBy, having, windows }, pos);
  }

  private selectItems(): SelectItem[] {
    const items: SelectItem[] = [];
    do {
      const e = this.expr();
      let alias: string | null = null;
      if (this.acceptKw('as')) alias = this.ident(true);
      else if (this.isIdent()) alias = this.ident();
      items.push({ expr: e, alias });
    } while (this.acceptPunct(','));
    return items;
  }

  private orderList(): OrderItem[] {
    const out: OrderItem[] = [];
    do {
      const expr = this.expr();
      let desc = false;
      if (this.acceptKw('desc')) desc = true;
      else if (this.acceptKw('using')) {
        // ORDER BY … USING < / > (the btree ordering operators of the built-in types).
        const t = this.next();
        if (t.type !== 'op' || (t.value !== '<' && t.value !== '>' && t.value !== '<=' && t.value !== '>=')) {
          throw new PgError(SqlState.FeatureNotSupported, `ORDER BY USING ${t.value} is not supported: only < and > are`, { position: t.pos + 1 });
        }
        if (t.value === '<=' || t.value === '>=') throw new PgError(SqlState.WrongObjectType, `operator ${t.value} is not a valid ordering operator`, { position: t.pos + 1, hint: 'Ordering operators must be "<" or ">" members of btree operator families.' });
        desc = t.value === '>';
      } else this.acceptKw('asc');
      let nulls: 'first' | 'last' | null = null;
      if (this.acceptKw('nulls')) {
        if (this.acceptKw('first')) nulls = 'first';
        else {
          this.expectKw('last');
          nulls = 'last';
        }
      }
      out.push({ expr, desc, nulls });
    } while (this.acceptPunct(','));
    return out;
  }

  private fromList(): FromItem[] {
    const out = [this.fromItem()];
    while (this.acceptPunct(',')) out.push(this.fromItem());
    return out;
  }

  private fromItem(): FromItem {
    return this.joinChain(this.fromPrimary(), false);
  }

  /** Whether the next tokens start a JOIN clause. */
  private atJoin(): boolean {
    const k = (w: string, i = 0) => this.isKw(w, i);
    return k('join') || k('cross') || k('natural') || (k('inner') && k('join', 1)) || k('left') || k('right') || k('full');
  }

  /**
   * Joins onto `left`, left to right. A join whose right side is followed by another JOIN
   * before its own ON/USING takes that join as its right side (PostgreSQL's grammar:
   * `a JOIN b LEFT JOIN c ON x ON y` is `a JOIN (b LEFT JOIN c ON x) ON y`); `nested` stops the
   * chain at the first token that does not start a join.
   */
  private joinChain(first: FromItem, nested: boolean): FromItem {
    let left = first;
    for (;;) {
      if (nested && !this.atJoin()) return left;
      const pos = this.peek().pos;
      let natural = false;
      if (this.acceptKw('natural')) natural = true;
      let jt: 'inner' | 'left' | 'right' | 'full' | 'cross' | null = null;
      if (this.acceptKw('cross', 'join')) jt = 'cross';
      else if (this.acceptKw('join') || this.acceptKw('inner', 'join')) jt = 'inner';
      else if (this.acceptKw('left')) {
        this.acceptKw('outer');
        this.expectKw('join');
        jt = 'left';
      } else if (this.acceptKw('right')) {
        this.acceptKw('outer');
        this.expectKw('join');
        jt = 'right';
      } else if (this.acceptKw('full')) {
        this.acceptKw('outer');
        this.expectKw('join');
        jt = 'full';
      }
      if (!jt) {
        if (natural) throw this.syntaxError();
        return left;
      }
      let right = this.fromPrimary();
      if (jt !== 'cross' && !natural && this.atJoin()) right = this.joinChain(right, true);
      let on: Expr | null = null;
      let using: string[] | null = null;
      if (jt !== 'cross' && !natural) {
        if (this.acceptKw('on')) on = this.expr();
        else if (this.acceptKw('using')) {
          this.expectPunct('(');
          using = this.identList();
          this.expectPunct(')');
        } else throw this.syntaxError();
      }
      left = { kind: 'join', joinType: jt, left, right, on, using, natural, pos };
    }
  }

  private alias(): { alias: string | null; columnAliases: string[] | null } {
    let alias: string | null = null;
    if (this.acceptKw('as')) alias = this.ident();
    else if (this.isIdent() && !this.isKw('on') && !this.isKw('using')) alias = this.ident();
    let columnAliases: string[] | null = null;
    if (alias !== null && this.isPunct('(')) {
      this.next();
      columnAliases = this.identList();
      this.expectPunct(')');
    }
    return { alias, columnAliases };
  }

  private fromPrimary(): FromItem {
    const pos = this.peek().pos;
    const lateral = this.acceptKw('lateral');
    if (this.isPunct('(')) {
      // A subquery or a parenthesized join.
      if (this.isKw('select', 1) || this.isKw('values', 1) || this.isKw('with', 1) || this.isPunct('(', 1)) {
        const save = this.i;
        this.next();
        try {
          const query = this.selectStmt();
          this.expectPunct(')');
          return { kind: 'subquery', query, lateral, pos, ...this.alias() };
        } catch (e) {
          if (!this.isPunct('(', 0)) throw e;
          this.i = save;
        }
      }
      this.next();
      const j = this.fromItem();
      this.expectPunct(')');
      const a = this.alias();
      if (a.alias) return { ...j, alias: a.alias } as FromItem;
      return j;
    }
    const name = this.qualifiedName();
    if (this.isPunct('(')) {
      const func = this.funcCall(name, pos);
      const withOrdinality = this.acceptKw('with', 'ordinality');
      return { kind: 'function', func, withOrdinality, pos, ...this.alias() };
    }
    return { kind: 'table', name, pos, ...this.alias() };
  }

  private windowSpec(): WindowSpec {
    this.expectPunct('(');
    const spec: WindowSpec = { name: null, partitionBy: [], orderBy: [], frame: null };
    if (this.isIdent() && !this.isKw('partition') && !this.isKw('order') && !this.isKw('rows') && !this.isKw('range') && !this.isKw('groups')) spec.name = this.ident();
    if (this.acceptKw('partition', 'by')) {
      do spec.partitionBy.push(this.expr());
      while (this.acceptPunct(','));
    }
    if (this.acceptKw('order', 'by')) spec.orderBy = this.orderList();
    if (this.isKw('rows') || this.isKw('range') || this.isKw('groups')) spec.frame = this.frame();
    this.expectPunct(')');
    return spec;
  }

  private frame(): WindowFrame {
    const pos = this.peek().pos;
    const mode = this.next().value as 'rows' | 'range' | 'groups';
    const bound = (): FrameBound => {
      if (this.acceptKw('unbounded', 'preceding')) return { type: 'unbounded_preceding' };
      if (this.acceptKw('unbounded', 'following')) return { type: 'unbounded_following' };
      if (this.acceptKw('current', 'row')) return { type: 'current_row' };
      const offset = this.exprNoLogic();
      if (this.acceptKw('preceding')) return { type: 'preceding', offset };
      this.expectKw('following');
      return { type: 'following', offset };
    };
    let start: FrameBound;
    let end: FrameBound;
    if (this.acceptKw('between')) {
      start = bound();
      this.expectKw('and');
      end = bound();
    } else {
      start = bound();
      end = { type: 'current_row' };
    }
    let exclude: WindowFrame['exclude'] = 'no_others';
    if (this.acceptKw('exclude')) {
      if (this.acceptKw('current', 'row')) exclude = 'current_row';
      else if (this.acceptKw('group')) exclude = 'group';
      else if (this.acceptKw('ties')) exclude = 'ties';
      else {
        this.expectKw('no');
        this.expectKw('others');
      }
    }
    return { mode, start, end, exclude, pos };
  }

  // ---- expressions ---------------------------------------------------------------------------

  expr(): Expr {
    const d0 = this.depth;
    this.enter(exprNestingCost);
    const e = this.orExpr();
    this.depth = d0;
    return e;
  }

  /** An expression that stops before AND/OR (DEFAULT clauses, OFFSET). */
  private exprNoLogic(): Expr {
    return this.isExpr();
  }

  private orExpr(): Expr {
    const pos = this.peek().pos;
    const args = [this.andExpr()];
    while (this.acceptKw('or')) args.push(this.andExpr());
    return args.length === 1 ? (args[0] as Expr) : { kind: 'or', args, pos };
  }

  private andExpr(): Expr {
    const pos = this.peek().pos;
    const args = [this.notExpr()];
    while (this.acceptKw('and')) args.push(this.notExpr());
    return args.length === 1 ? (args[0] as Expr) : { kind: 'and', args, pos };
  }

  private notExpr(): Expr {
    const pos = this.peek().pos;
    if (this.acceptKw('not')) {
      const d0 = this.depth;
      this.enter(exprNestingCost);
      const arg = this.notExpr();
      this.depth = d0;
      return { kind: 'not', arg, pos };
    }
    return this.isExpr();
  }

  private isExpr(): Expr {
    const d0 = this.depth;
    let e = this.comparison();
    for (;;) {
      const pos = this.peek().pos;
      this.enter(1);
      if (this.acceptKw('is')) {
        const negated = this.acceptKw('not');
        if (this.acceptKw('null')) e = { kind: 'isnull', arg: e, negated, pos };
        else if (this.acceptKw('true')) e = { kind: 'isbool', arg: e, value: true, negated, pos };
        else if (this.acceptKw('false')) e = { kind: 'isbool', arg: e, value: false, negated, pos };
        else if (this.acceptKw('unknown')) e = { kind: 'isbool', arg: e, value: null, negated, pos };
        else if (this.acceptKw('distinct', 'from')) e = { kind: 'distinctfrom', left: e, right: this.comparison(), negated, pos };
        else throw this.syntaxError();
      } else if (this.acceptKw('isnull')) e = { kind: 'isnull', arg: e, negated: false, pos };
      else if (this.acceptKw('notnull')) e = { kind: 'isnull', arg: e, negated: true, pos };
      else {
        this.depth = d0;
        return e;
      }
    }
  }

  private comparison(): Expr {
    const left = this.likeIn();
    const t = this.peek();
    if (t.type === 'op' && compareOps.has(t.value)) {
      this.next();
      const op = t.value === '!=' ? '<>' : t.value;
      if ((this.isKw('any') || this.isKw('some') || this.isKw('all')) && this.isPunct('(', 1)) {
        const quantifier = this.next().value === 'all' ? 'all' : 'any';
        this.expectPunct('(');
        if (this.isKw('select') || this.isKw('with') || this.isKw('values')) {
          const query = this.selectStmt();
          this.expectPunct(')');
          return { kind: 'quantified', op, arg: left, quantifier, array: null, query, pos: t.pos };
        }
        const array = this.expr();
        this.expectPunct(')');
        return { kind: 'quantified', op, arg: left, quantifier, array, query: null, pos: t.pos };
      }
      const right = this.likeIn();
      return { kind: 'binary', op, left, right, pos: t.pos };
    }
    return left;
  }

  private likeIn(): Expr {
    const e = this.otherOp();
    const pos = this.peek().pos;
    let negated = false;
    if (this.isKw('not') && (this.isKw('in', 1) || this.isKw('like', 1) || this.isKw('ilike', 1) || this.isKw('between', 1) || this.isKw('similar', 1))) {
      this.next();
      negated = true;
    }
    if (this.acceptKw('in')) {
      this.expectPunct('(');
      if (this.isKw('select') || this.isKw('with') || this.isKw('values')) {
        const query = this.selectStmt();
        this.expectPunct(')');
        return { kind: 'insubquery', arg: e, query, negated, pos };
      }
      const folded = this.peek();
      if (folded.type === 'literals') {
        // A long literal list folded before parsing (bulk_lists.ts).
        this.next();
        this.expectPunct(')');
        return { kind: 'inlist', arg: e, list: folded.items as Expr[], negated, pos, bulk: folded.bulk };
      }
      const list: Expr[] = [];
      do list.push(this.listLiteral() ?? this.expr());
      while (this.acceptPunct(','));
      this.expectPunct(')');
      return { kind: 'inlist', arg: e, list, negated, pos };
    }
    // SIMILAR without TO belongs to substring(s SIMILAR p ESCAPE e).
    if (this.isKw('like') || this.isKw('ilike') || (this.isKw('similar') && this.isKw('to', 1))) {
      const w = this.next().value;
      if (w === 'similar') this.expectKw('to');
      const pattern = this.otherOp();
      const escape = this.acceptKw('escape') ? this.otherOp() : null;
      return { kind: 'like', arg: e, pattern, escape, negated, caseInsensitive: w === 'ilike', similar: w === 'similar', pos };
    }
    if (this.acceptKw('between')) {
      const symmetric = this.acceptKw('symmetric');
      if (!symmetric) this.acceptKw('asymmetric');
      const low = this.otherOp();
      this.expectKw('and');
      const high = this.otherOp();
      return { kind: 'between', arg: e, low, high, negated, symmetric, pos };
    }
    if (negated) throw this.syntaxError();
    return e;
  }

  /** Any operator not listed elsewhere (||, ~, @>, ->, #, &, |, <<, …), left-associative. */
  private otherOp(): Expr {
    const d0 = this.depth;
    let e = this.addExpr();
    for (;;) {
      const t = this.peek();
      this.enter(1);
      if (this.isKw('operator') && this.isPunct('(', 1)) {
        this.next();
        this.next();
        let op = '';
        while (!this.isPunct(')')) {
          const x = this.next();
          if (x.type === 'op') op = x.value;
          if (x.type === 'eof') throw this.syntaxError(x);
        }
        this.next();
        const right = this.addExpr();
        e = compareOps.has(op) ? { kind: 'binary', op, left: e, right, pos: t.pos } : { kind: 'binary', op, left: e, right, pos: t.pos };
        continue;
      }
      if (t.type === 'op' && !compareOps.has(t.value) && !['+', '-', '*', '/', '%', '^', '::'].includes(t.value)) {
        this.next();
        const right = this.addExpr();
        e = { kind: 'binary', op: t.value, left: e, right, pos: t.pos };
        continue;
      }
      this.depth = d0;
      return e;
    }
  }

  private addExpr(): Expr {
    const d0 = this.depth;
    let e = this.mulExpr();
    for (;;) {
      const t = this.peek();
      this.enter(1);
      if (t.type === 'op' && (t.value === '+' || t.value === '-')) {
        this.next();
        e = { kind: 'binary', op: t.value, left: e, right: this.mulExpr(), pos: t.pos };
      } else {
        this.depth = d0;
        return e;
      }
    }
  }

  private mulExpr(): Expr {
    const d0 = this.depth;
    let e = this.expExpr();
    for (;;) {
      const t = this.peek();
      this.enter(1);
      if (t.type === 'op' && (t.value === '*' || t.value === '/' || t.value === '%')) {
        this.next();
        e = { kind: 'binary', op: t.value, left: e, right: this.expExpr(), pos: t.pos };
      } else {
        this.depth = d0;
        return e;
      }
    }
  }

  private expExpr(): Expr {
    const d0 = this.depth;
    let e = this.atTimeZone();
    for (;;) {
      const t = this.peek();
      this.enter(1);
      if (t.type === 'op' && t.value === '^') {
        this.next();
        e = { kind: 'binary', op: '^', left: e, right: this.atTimeZone(), pos: t.pos };
      } else {
        this.depth = d0;
        return e;
      }
    }
  }

  private atTimeZone(): Expr {
    const d0 = this.depth;
    let e = this.unary();
    while (this.isKw('at') && this.isKw('time', 1)) {
      this.enter(1);
      const pos = this.next().pos;
      this.expectKw('time', 'zone');
      e = { kind: 'attimezone', arg: e, zone: this.unary(), pos };
    }
    this.depth = d0;
    return e;
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.type === 'op' && (t.value === '-' || t.value === '+' || t.value === '~' || t.value === '@' || t.value === '|/' || t.value === '||/')) {
      this.next();
      const d0 = this.depth;
      this.enter(exprNestingCost);
      const arg = this.unary();
      this.depth = d0;
      if (t.value === '-' && arg.kind === 'literal' && (arg.literalType === 'integer' || arg.literalType === 'decimal')) {
        // A negated negative literal (`- -1`, `-(-1)`: psycopg's quoting of negative numbers) drops the sign.
        const v = String(arg.value);
        return { ...arg, value: v.startsWith('-') ? v.slice(1) : '-' + v, pos: t.pos };
      }
      if (t.value === '+') return arg;
      return { kind: 'unary', op: t.value, arg, pos: t.pos };
    }
    return this.postfix();
  }

  private postfix(): Expr {
    const d0 = this.depth;
    let e = this.primary();
    for (;;) {
      const t = this.peek();
      this.enter(1);
      if (t.type === 'op' && t.value === '::') {
        this.next();
        e = { kind: 'cast', arg: e, type: this.typeName(), pos: t.pos };
      } else if (this.isPunct('[')) {
        this.next();
        const index: Expr = this.isPunct(':') ? { kind: 'literal', value: 1, literalType: 'integer', pos: t.pos } : this.expr();
        if (this.acceptPunct(':')) {
          const upper = this.isPunct(']') ? null : this.expr();
          this.expectPunct(']');
          e = { kind: 'subscript', arg: e, index, upper, pos: t.pos };
        } else {
          this.expectPunct(']');
          e = { kind: 'subscript', arg: e, index, pos: t.pos };
        }
      } else if (this.isKw('collate')) {
        this.next();
        const parts = this.qualifiedName();
        e = { kind: 'collate', arg: e, collation: parts.join('.'), pos: t.pos };
      } else if (this.isPunct('.') && e.kind !== 'column') {
        this.next();
        e = { kind: 'field', arg: e, field: this.ident(true), pos: t.pos };
      } else {
        this.depth = d0;
        return e;
      }
    }
  }

  /**
   * A list element that is a lone number or string literal (the bulk of a 1,000,000-item IN list
   * or a VALUES list), taken without the ~15 calls of the full expression grammar. Null when the
   * element is anything else. The same node primary() would build.
   */
  private listLiteral(): Expr | null {
    const t = this.peek();
    if (t.type !== 'number' && t.type !== 'string') return null;
    const after = this.peek(1);
    if (after.type !== 'punct' || (after.value !== ',' && after.value !== ')')) return null;
    this.next();
    if (t.type === 'string') return { kind: 'literal', value: t.value, literalType: 'string', pos: t.pos };
    return { kind: 'literal', value: t.value, literalType: /^\d+$/.test(t.value) ? 'integer' : 'decimal', pos: t.pos };
  }

  primary(): Expr {
    const t = this.peek();
    const pos = t.pos;
    switch (t.type) {
      case 'number': {
        this.next();
        const isInt = /^\d+$/.test(t.value);
        return { kind: 'literal', value: t.value, literalType: isInt ? 'integer' : 'decimal', pos };
      }
      case 'string':
        this.next();
        return { kind: 'literal', value: t.value, literalType: 'string', pos };
      case 'bitstring':
        this.next();
        return { kind: 'literal', value: t.value, literalType: 'bitstring', pos };
      case 'param':
        this.next();
        return { kind: 'param', index: Number(t.value), pos };
      case 'punct':
        if (t.value === '(') {
          this.next();
          if (this.isKw('select') || this.isKw('with') || this.isKw('values')) {
            const query = this.selectStmt();
            this.expectPunct(')');
            return { kind: 'subquery', query, pos };
          }
          const e = this.expr();
          if (this.acceptPunct(',')) {
            const args = [e];
            do args.push(this.expr());
            while (this.acceptPunct(','));
            this.expectPunct(')');
            return { kind: 'row', args, pos };
          }
          this.expectPunct(')');
          // (column).field: field selection on a parenthesized column (`(result.keys).x`).
          if (e.kind === 'column' && this.isPunct('.')) {
            const dot = this.next();
            return { kind: 'field', arg: e, field: this.ident(true), pos: dot.pos };
          }
          return e;
        }
        throw this.syntaxError();
      case 'op':
        if (t.value === '*') {
          this.next();
          return { kind: 'star', table: null, pos };
        }
        throw this.syntaxError();
      case 'qident':
        return this.columnOrFunc();
      case 'ident':
        break;
      default:
        throw this.syntaxError();
    }
    const w = t.value;
    switch (w) {
      case 'null':
        this.next();
        return { kind: 'literal', value: null, literalType: 'null', pos };
      case 'true':
      case 'false':
        this.next();
        return { kind: 'literal', value: w === 'true', literalType: 'bool', pos };
      case 'default':
        this.next();
        return { kind: 'default', pos };
      case 'case':
        return this.caseExpr();
      case 'cast': {
        this.next();
        this.expectPunct('(');
        const arg = this.expr();
        this.expectKw('as');
        const type = this.typeName();
        this.expectPunct(')');
        return { kind: 'cast', arg, type, pos };
      }
      case 'exists': {
        this.next();
        this.expectPunct('(');
        const query = this.selectStmt();
        this.expectPunct(')');
        return { kind: 'exists', query, pos };
      }
      case 'row': {
        // ROW(…): a row constructor (ROW is a keyword that cannot name a function), possibly empty.
        if (!this.isPunct('(', 1)) break;
        this.next();
        this.next();
        const args: Expr[] = [];
        if (!this.acceptPunct(')')) {
          do args.push(this.expr());
          while (this.acceptPunct(','));
          this.expectPunct(')');
        }
        return { kind: 'row', args, pos };
      }
      case 'array': {
        this.next();
        if (this.acceptPunct('(')) {
          const query = this.selectStmt();
          this.expectPunct(')');
          return { kind: 'arraysubquery', query, pos };
        }
        return this.arrayCtorBody(pos);
      }
      case 'current_date':
      case 'current_timestamp':
      case 'current_time':
      case 'localtimestamp':
      case 'localtime':
      case 'current_user':
      case 'session_user':
      case 'user':
      case 'current_role':
      case 'current_catalog':
      case 'current_schema': {
        this.next();
        if ((w === 'current_timestamp' || w === 'localtimestamp') && this.acceptPunct('(')) {
          this.next();
          this.expectPunct(')');
        }
        if (w === 'current_schema' && this.acceptPunct('(')) this.expectPunct(')');
        const name = w === 'user' || w === 'current_role' ? 'current_user' : w;
        return { kind: 'func', name: [name], args: [], distinct: false, star: false, filter: null, over: null, orderBy: [], pos };
      }
      case 'extract': {
        if (!this.isPunct('(', 1)) break;
        this.next();
        this.next();
        const ft = this.next();
        const field = ft.type === 'string' ? ft.value : ft.value.toLowerCase();
        this.expectKw('from');
        const arg = this.expr();
        this.expectPunct(')');
        return { kind: 'func', name: ['extract'], args: [{ kind: 'literal', value: field, literalType: 'string', pos: ft.pos }, arg], distinct: false, star: false, filter: null, over: null, orderBy: [], pos };
      }
      case 'position': {
        if (!this.isPunct('(', 1)) break;
        this.next();
        this.next();
        const sub = this.otherOp();
        this.expectKw('in');
        const str = this.expr();
        this.expectPunct(')');
        // pg_catalog.position(string, substring), as PostgreSQL's grammar turns it (the column is named position).
        return { kind: 'func', name: ['position'], args: [str, sub], distinct: false, star: false, filter: null, over: null, orderBy: [], pos };
      }
      case 'overlay': {
        // OVERLAY(s PLACING r FROM n [FOR m]) (or the plain call form).
        if (!this.isPunct('(', 1)) break;
        this.next();
        this.next();
        const args = [this.expr()];
        if (this.acceptKw('placing')) {
          args.push(this.expr());
          this.expectKw('from');
          args.push(this.expr());
          if (this.acceptKw('for')) args.push(this.expr());
        } else while (this.acceptPunct(',')) args.push(this.expr());
        this.expectPunct(')');
        return { kind: 'func', name: ['overlay'], args, distinct: false, star: false, filter: null, over: null, orderBy: [], pos };
      }
      case 'substring': {
        if (!this.isPunct('(', 1)) break;
        this.next();
        this.next();
        const str = this.expr();
        const args = [str];
        if (this.acceptKw('from')) {
          args.push(this.expr());
          if (this.acceptKw('for')) args.push(this.expr());
        } else if (this.acceptKw('similar')) {
          // substring(s SIMILAR pattern ESCAPE e): the SQL-regular-expression overload.
          args.push(this.expr());
          this.expectKw('escape');
          args.push(this.expr());
        } else if (this.acceptKw('for')) {
          args.push({ kind: 'literal', value: '1', literalType: 'integer', pos });
          args.push(this.expr());
        } else {
          while (this.acceptPunct(',')) args.push(this.expr());
        }
        this.expectPunct(')');
        return { kind: 'func', name: ['substring'], args, distinct: false, star: false, filter: null, over: null, orderBy: [], pos };
      }
      case 'trim': {
        if (!this.isPunct('(', 1)) break;
        this.next();
        this.next();
        let fn = 'btrim';
        if (this.acceptKw('both')) fn = 'btrim';
        else if (this.acceptKw('leading')) fn = 'ltrim';
        else if (this.acceptKw('trailing')) fn = 'rtrim';
        let chars: Expr | null = null;
        let str: Expr;
        if (this.acceptKw('from')) str = this.expr();
        else {
          const first = this.expr();
          if (this.acceptKw('from')) {
            chars = first;
            str = this.expr();
          } else if (this.acceptPunct(',')) {
            str = first;
            chars = this.expr();
          } else str = first;
        }
        this.expectPunct(')');
        return { kind: 'func', name: [fn], args: chars ? [str, chars] : [str], distinct: false, star: false, filter: null, over: null, orderBy: [], pos };
      }
      case 'interval':
      case 'date':
      case 'timestamp':
      case 'timestamptz':
      case 'time':
      case 'uuid':
      case 'cidr':
      case 'timetz':
      case 'jsonb':
      case 'json':
      case 'bool':
      case 'boolean':
      case 'int':
      case 'integer':
      case 'numeric':
      case 'decimal':
      case 'text':
      case 'varchar':
      case 'bigint':
      case 'smallint':
      case 'real':
      case 'float':
      case 'double':
      case 'char':
      case 'character':
      case 'bytea':
      case 'name':
      case 'oid':
      case 'regclass':
      case 'regtype':
      case 'int2':
      case 'int4':
      case 'int8':
      case 'float4':
      case 'float8':
      case 'bpchar':
      case 'inet': {
        // Typed literal: TYPE 'string'
        const save = this.i;
        try {
          const type = this.typeName();
          if (this.peek().type === 'string') {
            const v = this.next().value;
            if (type.name === 'interval') {
              // INTERVAL '1' DAY, INTERVAL '1-2' YEAR TO MONTH, INTERVAL '…' SECOND(3)
              const fields = this.intervalFields();
              if (fields) {
                const prec = fields.precision ?? (type.intervalTypmod !== undefined ? type.intervalTypmod & 0xffff : 0xffff);
                type.intervalTypmod = (fields.range << 16) | prec;
              }
            }
            return { kind: 'typed', type, value: v, pos };
          }
        } catch {
          // not a typed literal
        }
        this.i = save;
        break;
      }
      default:
        break;
    }
    if (reserved.has(w) && !['left', 'right'].includes(w)) throw this.syntaxError();
    return this.columnOrFunc();
  }

  private columnOrFunc(): Expr {
    const pos = this.peek().pos;
    const parts = [this.ident(true)];
    while (this.isPunct('.')) {
      this.next();
      if (this.isOp('*')) {
        this.next();
        return { kind: 'star', table: parts, pos };
      }
      parts.push(this.ident(true));
    }
    if (this.isPunct('(')) return this.funcCall(parts, pos);
    return { kind: 'column', parts, pos };
  }

  private funcCall(name: string[], pos: number): Expr & { kind: 'func' } {
    this.expectPunct('(');
    const f: Expr & { kind: 'func' } = { kind: 'func', name, args: [], distinct: false, star: false, filter: null, over: null, orderBy: [], pos };
    if (this.isOp('*')) {
      this.next();
      f.star = true;
    } else if (!this.isPunct(')')) {
      if (this.acceptKw('distinct')) f.distinct = true;
      else this.acceptKw('all');
      do {
        if (this.acceptKw('variadic')) {
          // VARIADIC marks the last argument as the array of variadic arguments.
          f.variadic = true;
          f.args.push(this.expr());
          break;
        }
        if (this.isIdent() && (this.isOp('=>', 1) || this.isOp(':=', 1))) {
          // Named notation: arg => value (or the older arg := value).
          const argName = this.ident();
          this.next();
          f.argNames = [...(f.argNames ?? f.args.map(() => null)), argName];
        } else if (f.argNames) f.argNames.push(null);
        f.args.push(this.expr());
      } while (this.acceptPunct(','));
      if (this.acceptKw('order', 'by')) f.orderBy = this.orderList();
    }
    this.expectPunct(')');
    if (this.acceptKw('within', 'group')) {
      this.expectPunct('(');
      this.expectKw('order', 'by');
      f.orderBy = this.orderList();
      this.expectPunct(')');
    }
    if (this.acceptKw('filter')) {
      this.expectPunct('(');
      this.expectKw('where');
      f.filter = this.expr();
      this.expectPunct(')');
    }
    if (this.acceptKw('over')) {
      if (this.isIdent()) f.over = { name: this.ident(), partitionBy: [], orderBy: [], frame: null };
      else f.over = this.windowSpec();
    }
    return f;
  }

  private caseExpr(): Expr {
    const pos = this.next().pos;
    let operand: Expr | null = null;
    if (!this.isKw('when')) operand = this.expr();
    const whens: { when: Expr; then: Expr }[] = [];
    while (this.acceptKw('when')) {
      const when = this.expr();
      this.expectKw('then');
      whens.push({ when, then: this.expr() });
    }
    if (whens.length === 0) throw this.syntaxError();
    const els = this.acceptKw('else') ? this.expr() : null;
    this.expectKw('end');
    return { kind: 'case', operand, whens, else: els, pos };
  }
}

function wrapQuery(body: QueryBody, pos: number): SelectStmt {
  return { kind: 'query', with: [], body, orderBy: [], limit: null, offset: null, pos };
}

/**
 * DEFAULT expressions may not contain subqueries or column references (PostgreSQL's
 * transformExpr in EXPR_KIND_COLUMN_DEFAULT: 0A000 for both).
 */
function checkDefaultExpr(e: unknown): void {
  if (Array.isArray(e)) {
    for (const x of e) checkDefaultExpr(x);
    return;
  }
  if (e === null || typeof e !== 'object') return;
  const k = (e as { kind?: unknown }).kind;
  const pos = (e as { pos?: number }).pos;
  if (k === 'subquery' || k === 'exists' || k === 'insubquery' || k === 'arraysubquery' || (k === 'quantified' && (e as { query: unknown }).query)) {
    throw new PgError(SqlState.FeatureNotSupported, 'cannot use subquery in DEFAULT expression', pos !== undefined ? { position: pos + 1 } : {});
  }
  if (k === 'column') throw new PgError(SqlState.FeatureNotSupported, 'cannot use column reference in DEFAULT expression', pos !== undefined ? { position: pos + 1 } : {});
  if (k === 'query') return;
  for (const v of Object.values(e as Record<string, unknown>)) if (v !== null && typeof v === 'object') checkDefaultExpr(v);
}
