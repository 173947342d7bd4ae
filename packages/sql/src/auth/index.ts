/** Users, roles, privileges and authentication: what the wire layer and the server use. */
export { ScramServer, checkPassword, makeVerifier, mockVerifier, parseVerifier, scramMechanism, scramPlusMechanism, tlsServerEndPoint } from './scram.js';
export { defaultHbaConfiguration, effectiveHba, matchHba, parseHba } from './hba.js';
export type { HbaMethod, HbaRule } from './hba.js';
export { authorizeSession, hbaSettingName, loginSnapshot } from './login.js';
export type { LoginSnapshot } from './login.js';
export { auditLogin, auditLoginFailed } from './audit.js';
export { AuthStore } from './store.js';
export { AuthView } from './view.js';
export type { RoleRecord } from './view.js';
export { adminRoleOid, rootRoleOid } from './constants.js';
