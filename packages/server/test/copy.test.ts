/**
 * COPY FROM STDIN / TO STDOUT, text and CSV, through psql, postgres.js and raw protocol messages.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import { RawClient, serialize } from '../../../qa/harness/rawpg.js';

let node: TestNode;
let c: pg.Client;
const dir = mkdtempSync(join(tmpdir(), 'copy-'));
beforeAll(async () => {
  node = await startNode();
  c = new pg.Client(node.url);
  await c.connect();
  await c.query('create table readings (id int primary key, device text not null, v float8, note text, at timestamptz)');
});
afterAll(async () => {
  await c.end();
  await node.stop();
  node.cleanup();
});

const psql = (cmd: string) => execFileSync('psql', ['-X', '-v', 'ON_ERROR_STOP=1', node.url, '-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('COPY', () => {
  it('loads CSV with a header through psql \\copy, quoted fields and NULLs included', () => {
    const f = join(dir, 'r.csv');
    writeFileSync(f, 'id,device,v,note,at\n1,pump-1,1.5,"has, comma",2016-01-01 05:59:50+00\n2,pump-2,,"multi\nline",\n3,"quo""te",-2e3,,2016-01-02 00:00:00+00\n');
    expect(psql(`\\copy readings from '${f}' with (format csv, header)`)).toContain('COPY 3');
    expect(psql('select id, device, v, note, at from readings order by id')).toMatch(/\n +3 \| quo"te \| -2000 \| +\| 2016-01-02 00:00:00\+00\n/);
  });

  it('loads the text format with escapes, and writes it back identically', () => {
    const f = join(dir, 'r.txt');
    writeFileSync(f, '10\tvalve\t0.25\ttab\\there\t\\N\n11\tvalve\t\\N\tback\\\\slash\t2020-02-29 12:00:00+00\n');
    expect(psql(`\\copy readings from '${f}'`)).toContain('COPY 2');
    const out = psql('\\copy (select id, device, v, note, at from readings where id >= 10 order by id) to stdout');
    expect(out).toBe('10\tvalve\t0.25\ttab\\there\t\\N\n11\tvalve\t\\N\tback\\\\slash\t2020-02-29 12:00:00+00\n');
  });

  it('writes CSV with a header', () => {
    const out = psql('\\copy (select id, note from readings where id in (1, 2) order by id) to stdout with (format csv, header)');
    expect(out).toBe('id,note\n1,"has, comma"\n2,"multi\nline"\n');
  });

  it('quotes CSV as PostgreSQL 15 does: \\. alone on a line, ESCAPE before quote and escape characters', () => {
    // Expected outputs recorded from PostgreSQL 15's psql \copy of the same rows.
    psql(`create table eoc (id int primary key, a text); insert into eoc values (1, 'a\\.'), (2, '\\.'), (3, 'x"y'), (4, 'p\\q'), (5, '')`);
    expect(psql('\\copy (select a from eoc order by id) to stdout csv')).toBe('a\\.\n"\\."\n"x""y"\np\\q\n""\n');
    expect(psql("\\copy (select a from eoc order by id) to stdout with (format csv, escape '\\')")).toBe('a\\.\n"\\\\."\n"x\\"y"\np\\q\n""\n');
    expect(psql("\\copy (select id, a from eoc order by id) to stdout with (format csv, escape '\\')")).toBe('1,a\\.\n2,\\.\n3,"x\\"y"\n4,p\\q\n5,""\n');
  });

  it('streams a large COPY from postgres.js in many chunks', async () => {
    const sql = postgres(node.url, { max: 1 });
    await sql`create table bulk (k int primary key, v text)`;
    const n = 120_000;
    const lines = function* () {
      for (let i = 0; i < n; i += 1000) {
        let s = '';
        for (let j = i; j < i + 1000; j++) s += `${j}\tv${j}\n`;
        yield s;
      }
    };
    await pipeline(Readable.from(lines()), await sql`copy bulk from stdin`.writable());
    const r = await sql`select count(*)::int as n, max(k) as m from bulk`;
    expect(r[0]).toEqual({ n, m: n - 1 });
    await sql.end();
  });

  it('reports bad data with its line and keeps the connection usable; nothing of it is committed inside BEGIN', async () => {
    const f = join(dir, 'bad.txt');
    writeFileSync(f, '20\tok\t1\t\\N\t\\N\n21\tbad\tnot-a-number\t\\N\t\\N\n');
    let err = '';
    try {
      execFileSync('psql', ['-X', '-v', 'ON_ERROR_STOP=1', node.url, '-c', 'begin', '-c', `\\copy readings from '${f}'`, '-c', 'commit'], { stdio: 'pipe' });
    } catch (e) {
      err = String((e as { stderr: Buffer }).stderr);
    }
    expect(err).toMatch(/invalid input syntax for type double precision: "not-a-number"/);
    expect(err).toMatch(/line 2/);
    expect((await c.query('select count(*)::int as n from readings where id in (20, 21)')).rows[0].n).toBe(0);
  });

  it('rejects a duplicate key in COPY with 23505', () => {
    const f = join(dir, 'dup.txt');
    writeFileSync(f, '1\tdup\t0\t\\N\t\\N\n');
    let err = '';
    try {
      psql(`\\copy readings from '${f}'`);
    } catch (e) {
      err = String((e as { stderr: Buffer }).stderr);
    }
    expect(err).toMatch(/duplicate key value violates unique constraint "readings_pkey"/);
  });

  it('CopyFail from the client aborts the COPY with 57014', async () => {
    const r = await RawClient.connect(node.port);
    r.write(serialize.query('copy readings from stdin'));
    expect(await r.waitFor('copyInResponse')).toBeDefined();
    r.write(Buffer.concat([serialize.copyData(Buffer.from('30\tx\t1\t\\N\t\\N\n')), serialize.copyFail('client gave up')]));
    const ms = await r.untilReady();
    expect(ms.find((m) => m.name === 'error')).toMatchObject({ code: '57014', message: 'COPY from stdin failed: client gave up' });
    const q = await r.query('select count(*) from readings where id = 30');
    expect(q.find((m) => m.name === 'dataRow')).toMatchObject({ fields: ['0'] });
    r.end();
  });
});
