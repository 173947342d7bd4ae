/**
 * Any pipelining the PostgreSQL protocol allows works: messages sent ahead of their answers,
 * COPY data in the same write as the COPY itself, COPY in the extended protocol, libpq pipeline
 * mode (pgbench \startpipeline) and postgres.js pipelining. Expected message sequences were
 * recorded from PostgreSQL 15.18 with the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import { RawClient, rawMessage, serialize } from '../../../qa/harness/rawpg.js';

let node: TestNode;
let db: pg.Client;

beforeAll(async () => {
  node = await startNode();
  db = new pg.Client(node.url);
  await db.connect();
  await db.query('create table pl (a int, b text)');
});

afterAll(async () => {
  await db.end();
  await node.stop();
  node.cleanup();
});

type Msg = { name: string; code?: string; text?: string; status?: string; severity?: string; fields?: unknown[] };

/** Message names, with the tag, status or SQLSTATE where one says what happened. */
function script(msgs: Msg[]): string {
  return msgs
    .map((m) => {
      if (m.name === 'commandComplete') return `C(${m.text})`;
      if (m.name === 'readyForQuery') return `Z(${m.status})`;
      if (m.name === 'error') return `E(${m.severity} ${m.code})`;
      if (m.name === 'dataRow') return `D(${(m.fields ?? []).join(',')})`;
      return m.name;
    })
    .join(' ');
}

/** Sends bytes in one write, collects replies until `readies` ReadyForQuery or close. */
async function exchange(bytes: Buffer, readies = 1): Promise<{ msgs: Msg[]; closed: boolean }> {
  const c = await RawClient.connect(node.port);
  c.write(bytes);
  const msgs: Msg[] = [];
  for (let i = 0; i < readies; i++) msgs.push(...((await c.untilReady()) as unknown as Msg[]));
  const closed = c.closed;
  c.end();
  return { msgs, closed };
}

const data = (s: string) => rawMessage('d', Buffer.from(s));

describe('COPY pipelined in one write', () => {
  it('COPY FROM STDIN, its CopyData, CopyDone and the next Query in one write complete', async () => {
    const r = await exchange(Buffer.concat([serialize.query('copy pl from stdin'), data('1\tone\n2\ttwo\n'), data('3\tthree\n'), serialize.copyDone(), serialize.query('select count(*) from pl where a <= 3')]), 2);
    expect(script(r.msgs)).toBe('copyInResponse C(COPY 3) Z(I) rowDescription D(3) C(SELECT 1) Z(I)');
  });

  it('Sync and Flush during COPY FROM STDIN are ignored (as the protocol says)', async () => {
    const r = await exchange(Buffer.concat([serialize.query('copy pl from stdin'), data('10\tten\n'), serialize.sync(), serialize.flush(), serialize.copyDone(), serialize.query('select 3')]), 2);
    expect(script(r.msgs)).toBe('copyInResponse C(COPY 1) Z(I) rowDescription D(3) C(SELECT 1) Z(I)');
  });

  it('any other message during COPY FROM STDIN is 08P01 and the connection is closed (protocol sync lost)', async () => {
    const r = await exchange(Buffer.concat([serialize.query('copy pl from stdin'), data('11\televen\n'), serialize.query('select 1')]));
    expect(script(r.msgs)).toBe('copyInResponse E(ERROR 08P01) E(FATAL 08P01)');
    expect(r.closed).toBe(true);
    expect((await db.query('select count(*)::int as n from pl where a = 11')).rows[0].n).toBe(0);
  });

  it('CopyFail pipelined after data aborts the COPY with 57014', async () => {
    const r = await exchange(Buffer.concat([serialize.query('copy pl from stdin'), data('12\ttwelve\n'), serialize.copyFail('changed my mind'), serialize.query('select count(*) from pl where a = 12')]), 2);
    expect(script(r.msgs)).toBe('copyInResponse E(ERROR 57014) Z(I) rowDescription D(0) C(SELECT 1) Z(I)');
  });

  it('data after a failed COPY row is swallowed until CopyDone, then the next Query runs', async () => {
    const r = await exchange(Buffer.concat([serialize.query('copy pl from stdin'), data('x\tbad\n'), data('13\tthirteen\n'), serialize.copyDone(), serialize.query('select count(*) from pl where a = 13')]), 2);
    expect(script(r.msgs)).toBe('copyInResponse E(ERROR 22P02) Z(I) rowDescription D(0) C(SELECT 1) Z(I)');
  });

  it('a pipelined sequence delivered one byte per TCP write is understood the same', async () => {
    const c = await RawClient.connect(node.port);
    const all = Buffer.concat([serialize.query('copy pl from stdin'), data('14\tfourteen\n'), serialize.copyDone(), serialize.parse({ text: 'select count(*) from pl where a = $1', types: [23] }), serialize.bind({ values: ['14'] }), serialize.execute({}), serialize.sync()]);
    for (const b of all) {
      c.write(Buffer.from([b]));
      await new Promise((res) => setImmediate(res));
    }
    const msgs = [...((await c.untilReady()) as unknown as Msg[]), ...((await c.untilReady()) as unknown as Msg[])];
    expect(script(msgs)).toBe('copyInResponse C(COPY 1) Z(I) parseComplete bindComplete D(1) C(SELECT 1) Z(I)');
    c.end();
  });

  it('a thousand pipelined simple queries are answered in order', async () => {
    const qs = Array.from({ length: 1000 }, (_, i) => serialize.query(`select ${i}`));
    const r = await exchange(Buffer.concat(qs), 1000);
    const rows = r.msgs.filter((m) => m.name === 'dataRow').map((m) => Number(m.fields?.[0]));
    expect(rows).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
});

describe('COPY in the extended protocol', () => {
  it('Parse/Bind/Describe/Execute of COPY FROM STDIN, then CopyData, CopyDone, Sync', async () => {
    const r = await exchange(
      Buffer.concat([serialize.parse({ text: 'copy pl from stdin' }), serialize.bind({}), serialize.describe({ type: 'P' }), serialize.execute({}), data('20\ttwenty\n'), serialize.copyDone(), serialize.sync(), serialize.query('select count(*) from pl where a = 20')]),
      2,
    );
    expect(script(r.msgs)).toBe('parseComplete bindComplete noData copyInResponse C(COPY 1) Z(I) rowDescription D(1) C(SELECT 1) Z(I)');
  });

  it('CopyFail in the extended protocol: 57014, then messages are skipped until Sync', async () => {
    const r = await exchange(Buffer.concat([serialize.parse({ text: 'copy pl from stdin' }), serialize.bind({}), serialize.execute({}), data('21\tx\n'), serialize.copyFail('nope'), serialize.sync(), serialize.query('select count(*) from pl where a = 21')]), 2);
    expect(script(r.msgs)).toBe('parseComplete bindComplete copyInResponse E(ERROR 57014) Z(I) rowDescription D(0) C(SELECT 1) Z(I)');
  });

  it('a bad row in an extended COPY: the rest of the data is ignored until Sync', async () => {
    const r = await exchange(Buffer.concat([serialize.parse({ text: 'copy pl from stdin' }), serialize.bind({}), serialize.execute({}), data('x\tbad\n'), data('22\tok\n'), serialize.copyDone(), serialize.sync(), serialize.query('select count(*) from pl where a = 22')]), 2);
    expect(script(r.msgs)).toBe('parseComplete bindComplete copyInResponse E(ERROR 22P02) Z(I) rowDescription D(0) C(SELECT 1) Z(I)');
  });

  it('COPY TO STDOUT in the extended protocol', async () => {
    const r = await exchange(Buffer.concat([serialize.parse({ text: 'copy (select 1, 2) to stdout' }), serialize.bind({}), serialize.execute({}), serialize.sync()]));
    expect(script(r.msgs)).toBe('parseComplete bindComplete copyOutResponse copyData copyDone C(COPY 1) Z(I)');
  });
});

describe('real clients that pipeline', () => {
  it('libpq pipeline mode (pgbench \\startpipeline … \\endpipeline, extended protocol)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-pipe-'));
    const file = join(dir, 'pipeline.sql');
    writeFileSync(file, ['\\startpipeline', 'insert into pl values (30, :client_id::text);', 'select count(*) from pl where a = 30;', 'select $$a$$ || 1;', 'insert into pl values (31, $$x$$);', '\\endpipeline', ''].join('\n'));
    const out = execFileSync('pgbench', ['-n', '-M', 'extended', '-t', '20', '-c', '2', '-f', file, node.url], { stdio: 'pipe' }).toString();
    expect(out).toMatch(/number of transactions actually processed: 40\/40/);
    expect(out).toMatch(/number of failed transactions: 0/);
  });

  it('libpq pipeline mode with prepared statements (-M prepared)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-pipe-'));
    const file = join(dir, 'pipeline.sql');
    writeFileSync(file, ['\\startpipeline', 'select count(*) from pl where a = 30;', 'select 1 + :client_id;', '\\endpipeline', ''].join('\n'));
    const out = execFileSync('pgbench', ['-n', '-M', 'prepared', '-t', '20', '-c', '2', '-f', file, node.url], { stdio: 'pipe' }).toString();
    expect(out).toMatch(/number of transactions actually processed: 40\/40/);
  });

  it('postgres.js pipelines queries on one connection, an error among them fails only its own query', async () => {
    const sql = postgres(node.url, { max: 1, onnotice: () => undefined });
    try {
      const qs = Array.from({ length: 200 }, (_, i) => (i === 100 ? sql`select 1 / ${0}::int as n` : sql`select ${i}::int + 1 as n`));
      const settled = await Promise.allSettled(qs);
      settled.forEach((r, i) => {
        if (i === 100) expect(r.status).toBe('rejected');
        else expect(r.status === 'fulfilled' && r.value[0]?.n).toBe(i + 1);
      });
      // COPY from a writable stream while another query waits behind it on the same connection.
      const w = await sql`copy pl from stdin`.writable();
      const after = sql`select 5 as five`;
      w.write('40\tforty\n');
      w.end('40\tforty again\n');
      await new Promise((res, rej) => {
        w.on('finish', res);
        w.on('error', rej);
      });
      expect((await after)[0]?.five).toBe(5);
      expect((await sql`select count(*)::int as n from pl where a = 40`)[0]?.n).toBe(2);
    } finally {
      await sql.end();
    }
  });
});
