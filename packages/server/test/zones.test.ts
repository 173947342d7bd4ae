/**
 * The cluster's replication settings through SQL on one node (the cluster tests see them act):
 * the default zone's num_replicas (ALTER RANGE default CONFIGURE ZONE, SHOW ZONE CONFIGURATION)
 * and server.time_until_store_dead, with their refusals.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

let node: TestNode;
let c: pg.Client;

beforeAll(async () => {
  node = await startNode();
  c = new pg.Client(node.url);
  await c.connect();
});

afterAll(async () => {
  await c.end();
  await node.stop();
  node.cleanup();
});

const code = (sql: string) => c.query(sql).then(() => 'ok', (e: { code?: string }) => e.code ?? 'none');
const zone = async () => (await c.query('show zone configuration for range default')).rows[0];

describe('zone configuration and cluster membership settings', () => {
  it('sets, shows and discards num_replicas of the default zone', async () => {
    expect(await zone()).toEqual({ target: 'RANGE default', raw_config_sql: 'ALTER RANGE default CONFIGURE ZONE USING\n\tnum_replicas = 3' });
    const r = await c.query('alter range default configure zone using num_replicas = 5');
    expect(r.command).toBe('CONFIGURE');
    expect((await zone()).raw_config_sql).toMatch(/num_replicas = 5$/);
    expect((await c.query('show zone configurations')).rows).toHaveLength(1);
    await c.query('alter range default configure zone discard');
    expect((await zone()).raw_config_sql).toMatch(/num_replicas = 3$/);
    expect(await code('alter range default configure zone using num_replicas = 0')).toBe('22023');
    expect(await code('alter range default configure zone using gc.ttlseconds = 600')).toBe('0A000');
    expect(await code('alter range meta configure zone using num_replicas = 5')).toBe('0A000');
    expect(await code('show zone configuration for range liveness')).toBe('0A000');
  });

  it('server.time_until_store_dead takes durations from 30s to 24h', async () => {
    expect((await c.query('show cluster setting server.time_until_store_dead')).rows[0]).toEqual({ 'server.time_until_store_dead': '300s' });
    await c.query("set cluster setting server.time_until_store_dead = '1m30s'");
    expect((await c.query('show cluster setting server.time_until_store_dead')).rows[0]).toEqual({ 'server.time_until_store_dead': '90s' });
    expect(await code("set cluster setting server.time_until_store_dead = '10s'")).toBe('22023');
    expect(await code("set cluster setting server.time_until_store_dead = 'soon'")).toBe('22023');
    await c.query('reset cluster setting server.time_until_store_dead');
    expect((await c.query('show cluster setting server.time_until_store_dead')).rows[0]).toEqual({ 'server.time_until_store_dead': '300s' });
  });
});
