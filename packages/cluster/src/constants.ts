/** Bounds of cluster membership, with units. */

/** A node's liveness record expires this long after its last heartbeat (CockroachDB: 9 s). */
export const livenessExpiryMs = 9000;
/** A node heartbeats its liveness record (and refreshes its view of the others) this often. */
export const livenessHeartbeatMs = 3000;
/**
 * server.time_until_store_dead's default: a node whose liveness expired this long ago is dead,
 * and its replicas are replaced elsewhere (settable down to 30 s, for tests).
 */
export const timeUntilStoreDeadMsDefault = 5 * 60 * 1000;
/** The replication factor of ranges without a zone configuration (num_replicas). */
export const replicationFactorDefault = 3;
