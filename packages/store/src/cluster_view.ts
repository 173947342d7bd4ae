/**
 * What the store needs to know about the cluster to place replicas (implemented by
 * @strata/cluster from the node liveness records; absent in single-node mode).
 */
export interface ClusterView {
  /** Nodes a replica may be placed on now: live and not decommissioning. */
  targets(): number[];
  /**
   * Nodes whose replicas must move elsewhere: dead for longer than
   * server.time_until_store_dead, or decommissioning.
   */
  leaving(): Set<number>;
  /** Voters a range should have (the zone configuration's num_replicas). */
  replicationFactor(rangeId: number): number;
  /**
   * Whether the range also keeps a non-voting replica (a learner) on every other target node:
   * every node can then read it locally (follower reads), while only the voters make quorums.
   */
  nonVotersEverywhere?(rangeId: number): boolean;
}
