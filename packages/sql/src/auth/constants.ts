/** Bounds and fixed identities of users, roles and privileges, with units and reasons. */

/**
 * The bootstrap superuser's OID: PostgreSQL's BOOTSTRAP_SUPERUSERID (10), so tools that assume
 * the first role is 10 (pg_dump, psql's queries on datdba/relowner) find it.
 */
export const rootRoleOid = 10;

/**
 * The admin role's OID: fixed (not allocated) so every node agrees on it before the catalog is
 * read, below FirstNormalObjectId (16384) where descriptors and new roles start, and not one of
 * PostgreSQL's predefined roles' OIDs (3373–3377, 4200, 4544, 4550, 4569–4571, 6171, 6181, 6182).
 */
export const adminRoleOid = 4096;

/** The grantee "PUBLIC" in an ACL item: every role (PostgreSQL's ACL_ID_PUBLIC). */
export const publicRoleOid = 0;

/**
 * SCRAM-SHA-256 iterations for new verifiers: PostgreSQL's default (scram_iterations = 4096),
 * RFC 7677's minimum. Each login costs the client one PBKDF2 of this many rounds (~5 ms); the
 * server derives nothing per login.
 */
export const scramIterations = 4096;

/** Salt of a SCRAM verifier, in bytes (PostgreSQL's SCRAM_DEFAULT_SALT_LEN). */
export const scramSaltBytes = 16;

/** The server's part of a SCRAM nonce, in random bytes before base64 (PostgreSQL uses 18). */
export const scramNonceBytes = 18;

/**
 * Iterations a stored verifier may claim (CREATE USER … PASSWORD 'SCRAM-SHA-256$…'): below 4096
 * is weaker than we make ourselves; above 10,000,000 would make every client login take seconds,
 * and a verifier from elsewhere with such a count is a mistake.
 */
export const scramIterationsMin = 4096;
export const scramIterationsMax = 10_000_000;

/**
 * A password is at most this many bytes: PostgreSQL bounds SASL tokens by 1 GB of message but a
 * password longer than this is no stronger and only costs hashing time.
 */
export const passwordBytesMax = 1024;

/** Role names, like every identifier: PostgreSQL's NAMEDATALEN - 1. */
export const roleNameBytesMax = 63;

/** Roles one cluster may hold: the auth snapshot is loaded whole into every node's memory. */
export const rolesMax = 100_000;

/** Lines of the host-based authentication configuration (checked in order on every login). */
export const hbaLinesMax = 1000;

/**
 * Membership chains are followed at most this deep when computing a role's effective roles;
 * cycles are refused at GRANT, so this only bounds a corrupt catalog's cost.
 */
export const roleMembershipDepthMax = 1000;

/** Key-value pairs read per page when the auth snapshot is loaded (one request per page). */
export const authScanPageKeys = 1000;

/**
 * (role, object) privilege answers one auth snapshot memoizes: a snapshot lives until the next
 * role or privilege change, and this bounds what a workload touching many tables as many roles
 * makes it hold (~100 bytes an entry).
 */
export const heldCacheEntriesMax = 100_000;
