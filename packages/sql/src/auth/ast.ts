/** Statements about users, roles and privileges (parsed by auth/parse.ts). */

export type RoleOption =
  | { kind: 'password'; value: string | null }
  | { kind: 'login' | 'createdb' | 'createrole'; value: boolean }
  | { kind: 'inRole' | 'role' | 'admin'; roles: string[] };

/** A role as written where a grantee is expected: a name, PUBLIC or CURRENT_USER/SESSION_USER. */
export type RoleSpec = { kind: 'name'; name: string } | { kind: 'public' } | { kind: 'current_user' } | { kind: 'session_user' };

export type GrantTarget =
  | { kind: 'table' | 'sequence'; names: string[][] }
  | { kind: 'database' | 'schema'; names: string[] }
  | { kind: 'allTablesInSchema' | 'allSequencesInSchema'; schemas: string[] };

export type AuthStatement =
  | { kind: 'createRole'; name: string; isUser: boolean; ifNotExists: boolean; options: RoleOption[] }
  | { kind: 'alterRole'; role: RoleSpec; isUser: boolean; ifExists: boolean; options: RoleOption[]; renameTo: string | null }
  | { kind: 'dropRole'; names: string[]; isUser: boolean; ifExists: boolean }
  | { kind: 'grantRole'; roles: string[]; members: RoleSpec[]; adminOption: boolean }
  | { kind: 'revokeRole'; roles: string[]; members: RoleSpec[]; adminOptionOnly: boolean; cascade: boolean }
  | { kind: 'grant'; privileges: string[] | 'all'; target: GrantTarget; grantees: RoleSpec[]; grantOption: boolean }
  | { kind: 'revoke'; privileges: string[] | 'all'; target: GrantTarget; grantees: RoleSpec[]; grantOptionOnly: boolean; cascade: boolean }
  | { kind: 'showGrants'; target: GrantTarget | { kind: 'role'; names: string[] } | null; forRoles: RoleSpec[] | null }
  | { kind: 'showRoles' }
  | { kind: 'alterOwner'; objectKind: 'table' | 'view' | 'sequence' | 'database' | 'schema'; name: string[]; ifExists: boolean; owner: RoleSpec };
