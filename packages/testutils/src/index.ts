export * from './sim_scheduler.js';
export * from './sim_network.js';
export * from './test_cluster.js';
