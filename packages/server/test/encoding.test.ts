/**
 * Invalid text is refused, never stored altered: invalid UTF-8 and NUL bytes in a simple query,
 * Parse, Bind parameters (text and binary), COPY text/CSV data and startup parameters give 22021
 * with PostgreSQL's wording. The expected replies were recorded from PostgreSQL 15.18 (Debian)
 * with the same byte sequences; startup parameters are the one deliberate difference
 * (PostgreSQL 15 does not check them; Strata refuses them with FATAL 22021).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import { RawClient, rawMessage, rawQuery, serialize, startupPacket } from '../../../qa/harness/rawpg.js';

let node: TestNode;
let db: pg.Client;

beforeAll(async () => {
  node = await startNode();
  db = new pg.Client(node.url);
  await db.connect();
  await db.query('create table enc (a int, b text)');
});

afterAll(async () => {
  await db.end();
  await node.stop();
  node.cleanup();
});

type Msg = { name: string; code?: string; message?: string; severity?: string; fields?: unknown[] };

async function exchange(bytes: Buffer): Promise<Msg[]> {
  const c = await RawClient.connect(node.port);
  c.write(bytes);
  const out = (await c.untilReady()) as unknown as Msg[];
  c.end();
  return out;
}

function errorOf(msgs: Msg[]): Msg {
  const e = msgs.find((m) => m.name === 'error');
  if (!e) throw new Error(`no error in ${msgs.map((m) => m.name).join(',')}`);
  return e;
}

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
const utf8Error = (shown: string) => ({ code: '22021', message: `invalid byte sequence for encoding "UTF8": ${shown}` });

/** A Bind of the unnamed statement with one parameter in the given format. */
function bindOne(value: Buffer, format: 0 | 1): Buffer {
  // portal "" and statement "" (two NULs), 1 format, the format, 1 parameter, its length and bytes, 0 result formats.
  const head = Buffer.alloc(12);
  head.writeInt16BE(1, 2);
  head.writeInt16BE(format, 4);
  head.writeInt16BE(1, 6);
  head.writeInt32BE(value.length, 8);
  return rawMessage('B', Buffer.concat([head, value, Buffer.alloc(2)]));
}

describe('simple query text', () => {
  it.each([
    ['a lone 0xff', [0xff], '0xff'],
    ['a lead byte followed by ASCII', [0xc3, 0x28], '0xc3 0x28'],
    ['a truncated 3-byte sequence', [0xe2, 0x82], '0xe2 0x82 0x27'],
    ['a UTF-16 surrogate', [0xed, 0xa0, 0x80], '0xed 0xa0 0x80'],
  ])('%s → 22021', async (_name, bad, shown) => {
    const msgs = await exchange(rawQuery(bytes("select 'a", bad, "'")));
    expect(errorOf(msgs)).toMatchObject({ ...utf8Error(shown), severity: 'ERROR' });
  });

  it('a sequence cut short by the end of the query → 22021', async () => {
    expect(errorOf(await exchange(rawQuery(bytes('select 1 --', [0xf0, 0x9f]))))).toMatchObject(utf8Error('0xf0 0x9f'));
  });

  it('a NUL inside the query string is "invalid message format" (08P01), and the connection goes on', async () => {
    const c = await RawClient.connect(node.port);
    c.write(rawMessage('Q', Buffer.from("select 'a\0b'\0")));
    expect(errorOf((await c.untilReady()) as unknown as Msg[])).toMatchObject({ code: '08P01', message: 'invalid message format', severity: 'ERROR' });
    expect((await c.query('select 7')).some((m) => m.name === 'dataRow')).toBe(true);
    c.end();
  });

  it('nothing is stored from an INSERT with invalid UTF-8', async () => {
    const msgs = await exchange(rawQuery(bytes("insert into enc values (1, 'x", [0xff], "')")));
    expect(errorOf(msgs).code).toBe('22021');
    expect((await db.query('select count(*)::int as n from enc where a = 1')).rows[0].n).toBe(0);
  });
});

describe('escapes in SQL string literals (answers recorded from PostgreSQL 15)', () => {
  it("E'\\x..' and octal escapes are bytes: valid UTF-8 is decoded, anything else (or NUL) is 22021", async () => {
    expect((await db.query("select E'\\xc3\\xa9' as s, E'a\\303\\251b' as t, length(E'\\x41\\x42') as n")).rows).toEqual([{ s: 'é', t: 'aéb', n: 2 }]);
    await expect(db.query("select E'\\xff'")).rejects.toMatchObject({ code: '22021', message: 'invalid byte sequence for encoding "UTF8": 0xff' });
    await expect(db.query("select E'\\000'")).rejects.toMatchObject({ code: '22021', message: 'invalid byte sequence for encoding "UTF8": 0x00' });
    await expect(db.query("select E'\\u0000'")).rejects.toMatchObject({ code: '42601', message: 'invalid Unicode escape value' });
    await expect(db.query('select chr(0)')).rejects.toMatchObject({ code: '54000', message: 'null character not permitted' });
    expect((await db.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });
});

describe('extended protocol text', () => {
  it('Parse with invalid UTF-8 in the query → 22021', async () => {
    const parse = rawMessage('P', bytes([0], "select 'a", [0xff], "'", [0, 0, 0]));
    expect(errorOf(await exchange(Buffer.concat([parse, serialize.sync()])))).toMatchObject(utf8Error('0xff'));
  });

  it('Parse with invalid UTF-8 in the statement name → 22021', async () => {
    const parse = rawMessage('P', bytes([0xff, 0], 'select 1', [0, 0, 0]));
    expect(errorOf(await exchange(Buffer.concat([parse, serialize.sync()])))).toMatchObject(utf8Error('0xff'));
  });

  it.each([
    ['text-format invalid UTF-8', 'select $1::text', [0x61, 0xff], 0, '0xff'],
    ['text-format NUL', 'select $1::text', [0x61, 0x00, 0x62], 0, '0x00'],
    ['binary-format text with invalid UTF-8', 'select $1::text', [0x61, 0xff], 1, '0xff'],
    ['binary-format text with NUL', 'select $1::text', [0x61, 0x00], 1, '0x00'],
    ['text-format integer with NUL', 'select $1::int', [0x31, 0x00], 0, '0x00'],
  ] as const)('Bind %s → 22021', async (_name, sql, value, format, shown) => {
    const msgs = await exchange(Buffer.concat([serialize.parse({ text: sql }), bindOne(Buffer.from(value), format), serialize.execute({}), serialize.sync()]));
    expect(msgs[0]?.name).toBe('parseComplete');
    expect(errorOf(msgs)).toMatchObject(utf8Error(shown));
    expect(msgs.some((m) => m.name === 'dataRow')).toBe(false);
  });

  it('an INSERT with an invalid bind parameter stores nothing', async () => {
    const msgs = await exchange(Buffer.concat([serialize.parse({ text: 'insert into enc values (2, $1)' }), bindOne(Buffer.from([0x62, 0xc0, 0xaf]), 0), serialize.execute({}), serialize.sync()]));
    expect(errorOf(msgs)).toMatchObject(utf8Error('0xc0 0xaf'));
    expect((await db.query('select count(*)::int as n from enc where a = 2')).rows[0].n).toBe(0);
  });
});

describe('COPY data', () => {
  const copyIn = (sql: string, data: Buffer) => Buffer.concat([serialize.query(sql), rawMessage('d', data), serialize.copyDone()]);

  it.each([
    ['text: invalid UTF-8 on line 2', 'copy enc from stdin', bytes('3\tok\n3\tx', [0xff], '\n'), '0xff', 'line 2'],
    ['text: a NUL byte', 'copy enc from stdin', bytes('3\tok\n3\tx', [0x00], '\n'), '0x00', 'line 2'],
    ['csv: invalid UTF-8 inside a quoted field spanning lines', 'copy enc from stdin (format csv)', bytes('3,ok\n3,"x\n', [0xc3, 0x0a], '"\n'), '0xc3 0x0a', 'line 3'],
    ['text: an octal escape for NUL', 'copy enc from stdin', bytes('3\ta\\000b\n'), '0x00', 'line 1'],
    ['text: a hex escape making invalid UTF-8', 'copy enc from stdin', bytes('3\ta\\xffb\n'), '0xff', 'line 1'],
  ])('%s → 22021, nothing stored', async (_name, sql, data, shown, line) => {
    const e = errorOf(await exchange(copyIn(sql, data))) as Msg & { detail?: string };
    expect(e).toMatchObject(utf8Error(shown));
    expect(e.detail).toContain(line);
    expect((await db.query('select count(*)::int as n from enc where a = 3')).rows[0].n).toBe(0);
  });

  it('escapes that spell valid UTF-8 bytes are decoded as UTF-8 (\\303\\251 is é)', async () => {
    const msgs = await exchange(copyIn('copy enc from stdin', bytes('4\tcaf\\303\\251 \\xc3\\xa9\n')));
    expect(msgs.find((m) => m.name === 'commandComplete')).toMatchObject({ text: 'COPY 1' });
    expect((await db.query('select b from enc where a = 4')).rows[0].b).toBe('café é');
  });

  it('a multi-byte character split across two CopyData messages is fine', async () => {
    const msgs = await exchange(Buffer.concat([serialize.query('copy enc from stdin'), rawMessage('d', bytes('5\tx', [0xe2, 0x82])), rawMessage('d', bytes([0xac], '\n')), serialize.copyDone()]));
    expect(msgs.find((m) => m.name === 'commandComplete')).toMatchObject({ text: 'COPY 1' });
    expect((await db.query('select b from enc where a = 5')).rows[0].b).toBe('x€');
  });

  it('psql \\copy of a file with invalid UTF-8 → 22021, nothing stored', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-enc-'));
    const file = join(dir, 'bad.tsv');
    writeFileSync(file, bytes('6\tok\n6\tbad', [0xfe], '\n'));
    let err = '';
    try {
      execFileSync('psql', [node.url, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy enc from '${file}'`], { stdio: 'pipe', env: { ...process.env, PGCLIENTENCODING: 'UTF8' } });
    } catch (e) {
      err = String((e as { stderr: Buffer }).stderr);
    }
    expect(err).toContain('invalid byte sequence for encoding "UTF8": 0xfe');
  });

  it('a time-series table refuses invalid UTF-8 in a tag with 22021', async () => {
    await db.query('create ts database encts');
    await db.query('create table encts.r (ts timestamptz not null, v int) tags (dev varchar(20) not null) primary tags (dev)');
    const msgs = await exchange(copyIn('copy encts.r from stdin', bytes('2024-01-01 00:00:00+00\t1\td', [0xff], '\n')));
    expect(errorOf(msgs)).toMatchObject(utf8Error('0xff'));
    expect((await db.query('select count(*)::int as n from encts.r')).rows[0].n).toBe(0);
  });
});

describe('startup parameters', () => {
  it.each([
    ['user', { user: bytes('r', [0xff]), database: 'defaultdb' }],
    ['database', { user: 'root', database: bytes('d', [0xff]) }],
    ['application_name', { user: 'root', database: 'defaultdb', application_name: bytes('a', [0xc3]) }],
    ['an option', { user: 'root', database: 'defaultdb', search_path: bytes('s', [0xed, 0xa0, 0x80]) }],
  ])('invalid UTF-8 in %s → FATAL 22021, connection closed', async (_name, params) => {
    const c = await RawClient.connect(node.port, { startup: false });
    c.write(startupPacket(params));
    const e = (await c.waitFor('error')) as unknown as Msg;
    expect(e).toMatchObject({ code: '22021', severity: 'FATAL' });
    await c.waitFor('never', 5000).catch(() => undefined);
    expect(c.closed).toBe(true);
  });
});
