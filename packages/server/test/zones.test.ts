/**
 * The cluster's replication settings through SQL on one node (the cluster tests see them act):
 * zones' num_replicas (ALTER RANGE default|liveness|meta|system, ALTER DATABASE and ALTER TABLE
 * of time-series data … CONFIGURE ZONE, SHOW ZONE CONFIGURATION with inheritance, SHOW ALL ZONE
 * CONFIGURATIONS) and server.time_until_store_dead, with their refusals.
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
    expect(await code('alter range nosuch configure zone using num_replicas = 5')).toBe('0A000');
  });

  it('configures named ranges, time-series databases and tables; a table inherits its database\'s zone, then the default', async () => {
    await c.query('alter range liveness configure zone using num_replicas = 5');
    await c.query('alter range meta configure zone using num_replicas = 4'); // meta and system are one range here
    expect((await c.query('show zone configuration for range system')).rows[0]).toEqual({ target: 'RANGE system', raw_config_sql: 'ALTER RANGE system CONFIGURE ZONE USING\n\tnum_replicas = 4' });
    await c.query('create ts database zdb');
    await c.query('create table zdb.m (ts timestamp not null, v float) tags (dev int not null) primary tags (dev)');
    const forTable = async () => (await c.query('show zone configuration for table zdb.m')).rows[0];
    expect(await forTable()).toEqual({ target: 'RANGE default', raw_config_sql: 'ALTER RANGE default CONFIGURE ZONE USING\n\tnum_replicas = 3' });
    await c.query('alter range timeseries configure zone using num_replicas = 4');
    expect(await forTable()).toEqual({ target: 'RANGE timeseries', raw_config_sql: 'ALTER RANGE timeseries CONFIGURE ZONE USING\n\tnum_replicas = 4' });
    await c.query('alter database zdb configure zone using num_replicas = 5');
    expect(await forTable()).toEqual({ target: 'DATABASE zdb', raw_config_sql: 'ALTER DATABASE zdb CONFIGURE ZONE USING\n\tnum_replicas = 5' });
    await c.query('alter table zdb.m configure zone using num_replicas = 1');
    expect(await forTable()).toEqual({ target: 'TABLE zdb.public.m', raw_config_sql: 'ALTER TABLE zdb.public.m CONFIGURE ZONE USING\n\tnum_replicas = 1' });
    expect((await c.query('show all zone configurations')).rows.map((r: { target: string }) => r.target)).toEqual(['RANGE default', 'RANGE liveness', 'RANGE system', 'RANGE timeseries', 'DATABASE zdb', 'TABLE zdb.public.m']);
    await c.query('alter table zdb.m configure zone discard');
    expect((await forTable()).target).toBe('DATABASE zdb');
    // Relational tables and databases are all in the first range: no zone of their own.
    await c.query('create table rel (id int primary key)');
    expect(await code('alter table rel configure zone using num_replicas = 5')).toBe('0A000');
    expect(await code('alter database defaultdb configure zone using num_replicas = 5')).toBe('0A000');
    expect(await code('alter table nosuch configure zone using num_replicas = 5')).toBe('42P01');
    for (const z of ['range liveness', 'range system', 'range timeseries', 'database zdb']) await c.query(`alter ${z} configure zone discard`);
    expect((await c.query('show all zone configurations')).rows).toHaveLength(1);
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
