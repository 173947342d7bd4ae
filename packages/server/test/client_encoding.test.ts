/**
 * client_encoding (issue 12): UTF8 and SQL_ASCII are served (SQL_ASCII: no conversion, as in
 * PostgreSQL — UTF-8 text passes through unchanged and is never mangled); every other encoding
 * PostgreSQL knows is refused with PostgreSQL's error for an encoding without a conversion to the
 * server's (0A000, `Conversion between LATIN1 and UTF8 is not supported.`) — a deliberate
 * difference: PostgreSQL 15 converts LATIN1, Strata does not yet, and refusing is what keeps
 * text from being corrupted. Unknown names get PostgreSQL 15's 22023 (recorded).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

let node: TestNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node.stop();
  node.cleanup();
});

async function setEncoding(name: string): Promise<{ code?: string; message?: string; detail?: string; shown?: string }> {
  const c = new pg.Client(node.url);
  await c.connect();
  try {
    await c.query(`set client_encoding = '${name}'`);
    return { shown: (await c.query('show client_encoding')).rows[0].client_encoding as string };
  } catch (e) {
    const err = e as { code?: string; message?: string; detail?: string };
    return { code: err.code, message: err.message, detail: err.detail };
  } finally {
    await c.end();
  }
}

describe('client_encoding', () => {
  it('UTF8 and SQL_ASCII under their aliases', async () => {
    expect(await setEncoding('unicode')).toEqual({ shown: 'UTF8' });
    expect(await setEncoding('utf-8')).toEqual({ shown: 'UTF8' });
    expect(await setEncoding('sql_ascii')).toEqual({ shown: 'SQL_ASCII' });
  });

  it('an unknown name is 22023 as PostgreSQL 15 (recorded)', async () => {
    expect(await setEncoding('foo')).toMatchObject({ code: '22023', message: 'invalid value for parameter "client_encoding": "foo"' });
  });

  it('LATIN1 and other encodings are refused with PostgreSQL\'s missing-conversion error, in SET and at startup', async () => {
    expect(await setEncoding('LATIN1')).toEqual({ code: '0A000', message: 'invalid value for parameter "client_encoding": "LATIN1"', detail: 'Conversion between LATIN1 and UTF8 is not supported.' });
    expect(await setEncoding('iso-8859-1')).toMatchObject({ code: '0A000', detail: 'Conversion between LATIN1 and UTF8 is not supported.' });
    expect(await setEncoding('win1252')).toMatchObject({ code: '0A000', detail: 'Conversion between WIN1252 and UTF8 is not supported.' });
    const r = spawnSync('psql', ['-X', node.url, '-c', 'select 1'], { env: { ...process.env, PGCLIENTENCODING: 'LATIN1' }, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('FATAL:  invalid value for parameter "client_encoding": "LATIN1"');
  });

  it('SQL_ASCII passes UTF-8 text through unchanged, as PostgreSQL 15 does', () => {
    const out = execFileSync('psql', ['-X', '-At', node.url, '-c', 'set client_encoding = sql_ascii', '-c', "select 'é€', length('é€')"]);
    // PostgreSQL 15 answers the same bytes: é€ in UTF-8 and 2 characters.
    expect(out.toString('hex')).toBe(Buffer.from('SET\né€|2\n', 'utf8').toString('hex'));
  });
});
