/**
 * The grammar of user, role and privilege statements (PostgreSQL's, plus CockroachDB's IF [NOT]
 * EXISTS on users and SHOW GRANTS/USERS/ROLES), over the tokens of the SQL lexer. The statement
 * parser hands a statement here when it starts with CREATE/ALTER/DROP USER|ROLE, GRANT, REVOKE or
 * SHOW GRANTS|USERS|ROLES (see isAuthStatement).
 */
import { PgError, SqlState } from '@strata/common';
import type { Token } from '../parser/lexer.js';
import { reserved } from '../parser/lexer.js';
import type { AuthStatement, GrantTarget, RoleOption, RoleSpec } from './ast.js';

function kw(t: Token | undefined, w: string): boolean {
  return t !== undefined && t.type === 'ident' && t.value === w;
}

const ownedKinds = ['table', 'view', 'sequence', 'database', 'schema'];

/** ALTER TABLE|VIEW|SEQUENCE|DATABASE|SCHEMA [IF EXISTS] name[.name…] OWNER TO … */
function isAlterOwner(toks: Token[], i: number): boolean {
  if (!kw(toks[i], 'alter') || !ownedKinds.some((k) => kw(toks[i + 1], k))) return false;
  let k = i + 2;
  if (kw(toks[k], 'if') && kw(toks[k + 1], 'exists')) k += 2;
  const name = (t: Token | undefined) => t !== undefined && (t.type === 'ident' || t.type === 'qident');
  if (!name(toks[k])) return false;
  k++;
  while (toks[k]?.type === 'punct' && toks[k]?.value === '.' && name(toks[k + 1])) k += 2;
  return kw(toks[k], 'owner') && kw(toks[k + 1], 'to');
}

/** Whether the statement at toks[i] is one this file parses. */
export function isAuthStatement(toks: Token[], i: number): boolean {
  const a = toks[i];
  const b = toks[i + 1];
  if (kw(a, 'grant') || kw(a, 'revoke')) return true;
  if (isAlterOwner(toks, i)) return true;
  if (kw(a, 'create') || kw(a, 'alter') || kw(a, 'drop')) return kw(b, 'user') || kw(b, 'role');
  if (kw(a, 'show')) return kw(b, 'grants') || kw(b, 'users') || kw(b, 'roles');
  return false;
}

const privilegeWords = new Set(['select', 'insert', 'update', 'delete', 'truncate', 'references', 'trigger', 'usage', 'create', 'connect', 'temporary', 'temp', 'execute']);

class AuthParser {
  constructor(
    private readonly toks: Token[],
    public i: number,
    private readonly syntaxError: (t: Token) => PgError,
  ) {}

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)] as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  private isKw(w: string, k = 0): boolean {
    return kw(this.peek(k), w);
  }

  private accept(...ws: string[]): boolean {
    for (let k = 0; k < ws.length; k++) if (!this.isKw(ws[k] as string, k)) return false;
    this.i += ws.length;
    return true;
  }

  private expect(...ws: string[]): void {
    for (const w of ws) {
      if (!this.isKw(w)) throw this.syntaxError(this.peek());
      this.next();
    }
  }

  private acceptPunct(c: string): boolean {
    const t = this.peek();
    if (t.type === 'punct' && t.value === c) {
      this.next();
      return true;
    }
    return false;
  }

  private ident(): string {
    const t = this.peek();
    if (t.type === 'qident' || (t.type === 'ident' && !reserved.has(t.value))) {
      this.next();
      return t.value;
    }
    throw this.syntaxError(t);
  }

  /** A role name where PostgreSQL's RoleId is expected (not PUBLIC or a reserved word). */
  private roleName(): string {
    const t = this.peek();
    if (t.type === 'ident' && (t.value === 'public' || t.value === 'none')) {
      throw new PgError(SqlState.ReservedName, `role name "${t.value}" is reserved`, { position: t.pos + 1 });
    }
    return this.ident();
  }

  private roleSpec(): RoleSpec {
    if (this.accept('public')) return { kind: 'public' };
    if (this.accept('current_user') || this.accept('current_role')) return { kind: 'current_user' };
    if (this.accept('session_user')) return { kind: 'session_user' };
    return { kind: 'name', name: this.ident() };
  }

  private list<T>(item: () => T): T[] {
    const out = [item()];
    while (this.acceptPunct(',')) out.push(item());
    return out;
  }

  private qualifiedName(): string[] {
    const parts = [this.ident()];
    while (this.acceptPunct('.')) {
      const t = this.next();
      if (t.type !== 'ident' && t.type !== 'qident') throw this.syntaxError(t);
      parts.push(t.value);
    }
    return parts;
  }

  private string(): string {
    const t = this.next();
    if (t.type !== 'string') throw this.syntaxError(t);
    return t.value;
  }

  statement(): AuthStatement {
    if (this.accept('create')) return this.createRole();
    if (this.accept('alter')) return this.alterRole();
    if (this.accept('drop')) {
      const isUser = this.accept('user');
      if (!isUser) this.expect('role');
      const ifExists = this.accept('if', 'exists');
      return { kind: 'dropRole', names: this.list(() => this.ident()), isUser, ifExists };
    }
    if (this.accept('grant')) return this.grant();
    if (this.accept('revoke')) return this.revoke();
    this.expect('show');
    if (this.accept('users') || this.accept('roles')) return { kind: 'showRoles' };
    this.expect('grants');
    let target: (AuthStatement & { kind: 'showGrants' })['target'] = null;
    if (this.accept('on')) target = this.isKw('role') ? (this.next(), { kind: 'role', names: this.list(() => this.ident()) }) : this.target();
    const forRoles = this.accept('for') ? this.list(() => this.roleSpec()) : null;
    return { kind: 'showGrants', target, forRoles };
  }

  private createRole(): AuthStatement {
    const isUser = this.accept('user');
    if (!isUser) this.expect('role');
    const ifNotExists = this.accept('if', 'not', 'exists');
    const name = this.roleName();
    return { kind: 'createRole', name, isUser, ifNotExists, options: this.roleOptions(true) };
  }

  private alterRole(): AuthStatement {
    const kind = ownedKinds.find((k) => this.isKw(k));
    if (kind) {
      this.next();
      const ifExists = this.accept('if', 'exists');
      const name = this.qualifiedName();
      this.expect('owner', 'to');
      const owner = this.roleSpec();
      if (owner.kind === 'public') throw new PgError(SqlState.ReservedName, 'role name "public" is reserved');
      return { kind: 'alterOwner', objectKind: kind as 'table', name, ifExists, owner };
    }
    const isUser = this.accept('user');
    if (!isUser) this.expect('role');
    const ifExists = this.accept('if', 'exists');
    const role = this.roleSpec();
    if (role.kind === 'public') throw this.syntaxError(this.peek(-1));
    if (this.accept('rename', 'to')) return { kind: 'alterRole', role, isUser, ifExists, options: [], renameTo: this.roleName() };
    if (this.isKw('set') || this.isKw('reset')) throw new PgError(SqlState.FeatureNotSupported, 'ALTER ROLE … SET/RESET (per-role session defaults) is not supported');
    return { kind: 'alterRole', role, isUser, ifExists, options: this.roleOptions(false), renameTo: null };
  }

  /** [WITH] option …, PostgreSQL's CreateOptRoleElem / AlterOptRoleElem. */
  private roleOptions(create: boolean): RoleOption[] {
    this.accept('with');
    const out: RoleOption[] = [];
    const unsupported = (what: string) => new PgError(SqlState.FeatureNotSupported, `${what} is not supported`, { position: this.peek(-1).pos + 1 });
    for (;;) {
      const t = this.peek();
      if (t.type !== 'ident') break;
      if (this.accept('password') || this.accept('encrypted', 'password')) {
        if (this.accept('null')) out.push({ kind: 'password', value: null });
        else out.push({ kind: 'password', value: this.string() });
      } else if (this.accept('unencrypted', 'password')) throw new PgError(SqlState.FeatureNotSupported, 'UNENCRYPTED PASSWORD is no longer supported', { hint: 'Remove UNENCRYPTED to store the password in encrypted form instead.' });
      else if (this.accept('login')) out.push({ kind: 'login', value: true });
      else if (this.accept('nologin')) out.push({ kind: 'login', value: false });
      else if (this.accept('createdb')) out.push({ kind: 'createdb', value: true });
      else if (this.accept('nocreatedb')) out.push({ kind: 'createdb', value: false });
      else if (this.accept('createrole')) out.push({ kind: 'createrole', value: true });
      else if (this.accept('nocreaterole')) out.push({ kind: 'createrole', value: false });
      else if (this.accept('superuser')) throw new PgError(SqlState.FeatureNotSupported, 'SUPERUSER is not supported: grant the admin role instead (GRANT admin TO …)');
      else if (this.accept('nosuperuser') || this.accept('inherit') || this.accept('noreplication') || this.accept('nobypassrls')) {
        // The defaults: accepted, nothing to store.
      } else if (this.accept('noinherit')) throw unsupported('NOINHERIT');
      else if (this.accept('replication')) throw unsupported('REPLICATION');
      else if (this.accept('bypassrls')) throw unsupported('BYPASSRLS');
      else if (this.accept('connection', 'limit')) {
        const n = this.next();
        if (!(n.type === 'number' || (n.type === 'op' && n.value === '-'))) throw this.syntaxError(n);
        if (n.type === 'op') this.next();
        else throw unsupported('CONNECTION LIMIT');
      } else if (this.accept('valid', 'until')) {
        this.string();
        throw unsupported('VALID UNTIL');
      } else if (create && (this.accept('in', 'role') || this.accept('in', 'group'))) out.push({ kind: 'inRole', roles: this.list(() => this.ident()) });
      else if (create && (this.accept('role') || this.accept('user'))) out.push({ kind: 'role', roles: this.list(() => this.ident()) });
      else if (create && this.accept('admin')) out.push({ kind: 'admin', roles: this.list(() => this.ident()) });
      else if (create && this.accept('sysid')) this.next();
      else throw this.syntaxError(t);
    }
    return out;
  }

  private privileges(): string[] | 'all' {
    if (this.accept('all')) {
      this.accept('privileges');
      if (this.peek().type === 'punct' && this.peek().value === '(') throw new PgError(SqlState.FeatureNotSupported, 'column privileges are not supported');
      return 'all';
    }
    return this.list(() => {
      const t = this.next();
      if (t.type !== 'ident' || !privilegeWords.has(t.value)) throw this.syntaxError(t);
      if (this.peek().type === 'punct' && this.peek().value === '(') throw new PgError(SqlState.FeatureNotSupported, 'column privileges are not supported', { position: this.peek().pos + 1 });
      return t.value;
    });
  }

  private target(): GrantTarget {
    if (this.accept('database')) return { kind: 'database', names: this.list(() => this.ident()) };
    if (this.accept('schema')) return { kind: 'schema', names: this.list(() => this.ident()) };
    if (this.accept('sequence')) return { kind: 'sequence', names: this.list(() => this.qualifiedName()) };
    if (this.accept('all', 'tables', 'in', 'schema')) return { kind: 'allTablesInSchema', schemas: this.list(() => this.ident()) };
    if (this.accept('all', 'sequences', 'in', 'schema')) return { kind: 'allSequencesInSchema', schemas: this.list(() => this.ident()) };
    if (this.isKw('function') || this.isKw('procedure') || this.isKw('routine') || this.isKw('language') || this.isKw('type') || this.isKw('domain') || this.isKw('tablespace') || this.isKw('foreign') || this.isKw('large')) {
      throw new PgError(SqlState.FeatureNotSupported, `privileges on ${this.peek().value} objects are not supported`, { position: this.peek().pos + 1 });
    }
    this.accept('table');
    return { kind: 'table', names: this.list(() => this.qualifiedName()) };
  }

  /** Does a privilege list (…ON) or a role list (…TO/FROM) follow GRANT/REVOKE? */
  private isPrivilegeList(): boolean {
    for (let k = 0; this.i + k < this.toks.length; k++) {
      const t = this.peek(k);
      if (t.type === 'eof' || (t.type === 'punct' && t.value === ';')) return false;
      if (kw(t, 'on')) return true;
      if (kw(t, 'to') || kw(t, 'from')) return false;
    }
    return false;
  }

  private grant(): AuthStatement {
    if (this.isPrivilegeList()) {
      const privileges = this.privileges();
      this.expect('on');
      const target = this.target();
      this.expect('to');
      const grantees = this.list(() => this.roleSpec());
      const grantOption = this.accept('with', 'grant', 'option');
      this.grantedBy();
      return { kind: 'grant', privileges, target, grantees, grantOption };
    }
    const roles = this.list(() => this.roleName());
    this.expect('to');
    const members = this.list(() => this.roleSpec());
    const adminOption = this.accept('with', 'admin', 'option');
    this.grantedBy();
    return { kind: 'grantRole', roles, members, adminOption };
  }

  private grantedBy(): void {
    if (this.accept('granted', 'by')) throw new PgError(SqlState.FeatureNotSupported, 'GRANTED BY is not supported', { position: this.peek(-1).pos + 1 });
  }

  private revoke(): AuthStatement {
    const grantOptionOnly = this.accept('grant', 'option', 'for');
    const adminOptionOnly = !grantOptionOnly && this.accept('admin', 'option', 'for');
    if (!adminOptionOnly && this.isPrivilegeList()) {
      const privileges = this.privileges();
      this.expect('on');
      const target = this.target();
      this.expect('from');
      const grantees = this.list(() => this.roleSpec());
      this.grantedBy();
      const cascade = this.accept('cascade');
      if (!cascade) this.accept('restrict');
      return { kind: 'revoke', privileges, target, grantees, grantOptionOnly, cascade };
    }
    if (grantOptionOnly) throw this.syntaxError(this.peek());
    const roles = this.list(() => this.roleName());
    this.expect('from');
    const members = this.list(() => this.roleSpec());
    this.grantedBy();
    const cascade = this.accept('cascade');
    if (!cascade) this.accept('restrict');
    return { kind: 'revokeRole', roles, members, adminOptionOnly, cascade };
  }
}

/** Parses the auth statement at toks[i]; returns it and the index of the token after it. */
export function parseAuthStatement(toks: Token[], i: number, syntaxError: (t: Token) => PgError): { stmt: AuthStatement; next: number } {
  const p = new AuthParser(toks, i, syntaxError);
  const stmt = p.statement();
  return { stmt, next: p.i };
}
