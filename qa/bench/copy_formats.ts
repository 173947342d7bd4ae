/**
 * bench:copy-formats — text COPY against binary COPY on the same rows, one connection each, into
 * a time-series table (TSBS cpu shape: timestamp, 10 int8 fields, one host tag) and a relational
 * table (int8 key, float8, text). Both formats travel as 64 KiB CopyData messages.
 *
 *   npm run build && npx tsx qa/bench/copy_formats.ts [-- --ts-rows 1000000 --rel-rows 100000]
 *
 * Prints rows/s per format and the ratio binary / text; checks the row counts.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startNode } from '../harness/node.js';
import { RawClient, rawMessage, serialize } from '../harness/rawpg.js';

const { values: opt } = parseArgs({
  options: {
    'ts-rows': { type: 'string', default: '1000000' },
    'rel-rows': { type: 'string', default: '100000' },
  },
});
const tsRows = Number(opt['ts-rows']);
const relRows = Number(opt['rel-rows']);
const fieldCount = 10;
const hostCount = 100;
const copyDataBytes = 64 * 1024;
const pgEpochMicros = 946_684_800_000_000n;
const t0Micros = BigInt(Date.UTC(2026, 0, 1)) * 1000n;
const out = (s: string) => process.stdout.write(s + '\n');

/** Cuts a stream of row buffers into CopyData messages of about copyDataBytes. */
function messages(rows: Iterable<Buffer>): Buffer[] {
  const msgs: Buffer[] = [];
  let pending: Buffer[] = [];
  let size = 0;
  for (const r of rows) {
    pending.push(r);
    size += r.length;
    if (size >= copyDataBytes) {
      msgs.push(rawMessage('d', Buffer.concat(pending)));
      pending = [];
      size = 0;
    }
  }
  if (size > 0) msgs.push(rawMessage('d', Buffer.concat(pending)));
  return msgs;
}

const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
const trailer = Buffer.from([0xff, 0xff]);

function* tsText(): Generator<Buffer> {
  for (let i = 0; i < tsRows; i++) {
    const host = i % hostCount;
    const at = new Date(Number((t0Micros + BigInt(Math.floor(i / hostCount)) * 10_000_000n) / 1000n))
      .toISOString()
      .replace('T', ' ')
      .replace('Z', '+00');
    let line = at;
    for (let f = 0; f < fieldCount; f++) line += '\t' + ((i * (f + 7)) % 100);
    yield Buffer.from(line + `\thost_${host}\n`);
  }
}

function* tsBinary(): Generator<Buffer> {
  yield header;
  const hostNames = Array.from({ length: hostCount }, (_v, h) => Buffer.from(`host_${h}`));
  for (let i = 0; i < tsRows; i++) {
    const host = hostNames[i % hostCount] as Buffer;
    const b = Buffer.alloc(2 + 12 + fieldCount * 12 + 4 + host.length);
    let o = b.writeInt16BE(2 + fieldCount, 0);
    o = b.writeInt32BE(8, o);
    o = b.writeBigInt64BE(t0Micros + BigInt(Math.floor(i / hostCount)) * 10_000_000n - pgEpochMicros, o);
    for (let f = 0; f < fieldCount; f++) {
      o = b.writeInt32BE(8, o);
      o = b.writeBigInt64BE(BigInt((i * (f + 7)) % 100), o);
    }
    o = b.writeInt32BE(host.length, o);
    host.copy(b, o);
    yield b;
  }
  yield trailer;
}

function* relText(): Generator<Buffer> {
  for (let i = 0; i < relRows; i++) yield Buffer.from(`${i}\t${i / 4}\tname-${i}\n`);
}

function* relBinary(): Generator<Buffer> {
  yield header;
  for (let i = 0; i < relRows; i++) {
    const name = Buffer.from(`name-${i}`);
    const b = Buffer.alloc(2 + 12 + 12 + 4 + name.length);
    let o = b.writeInt16BE(3, 0);
    o = b.writeInt32BE(8, o);
    o = b.writeBigInt64BE(BigInt(i), o);
    o = b.writeInt32BE(8, o);
    o = b.writeDoubleBE(i / 4, o);
    o = b.writeInt32BE(name.length, o);
    name.copy(b, o);
    yield b;
  }
  yield trailer;
}

async function copy(port: number, database: string, sql: string, msgs: Buffer[]): Promise<number> {
  const c = await RawClient.connect(port, { database });
  const start = performance.now();
  c.write(serialize.query(sql));
  await c.waitFor('copyInResponse', 600_000);
  for (const m of msgs) if (!c.socket.write(m)) await new Promise((res) => c.socket.once('drain', res));
  c.write(serialize.copyDone());
  const ms = await c.untilReady();
  const seconds = (performance.now() - start) / 1000;
  const err = ms.find((m) => m.name === 'error');
  if (err) throw new Error(`${sql}: ${(err as unknown as { message: string }).message}`);
  c.end();
  return seconds;
}

const node = await startNode();
try {
  const c = new pg.Client(node.url);
  await c.connect();
  await c.query('create ts database bench');
  await c.query('create table relt (k int8 primary key, v float8, name text)');
  await c.query('create table relb (k int8 primary key, v float8, name text)');
  await c.end();
  const ts = new pg.Client(node.url.replace('/defaultdb', '/bench'));
  await ts.connect();
  const cols = Array.from({ length: fieldCount }, (_v, f) => `f${f} int8`).join(', ');
  await ts.query(
    `create table cput (ts timestamptz not null, ${cols}) tags (host varchar(16) not null) primary tags (host)`,
  );
  await ts.query(
    `create table cpub (ts timestamptz not null, ${cols}) tags (host varchar(16) not null) primary tags (host)`,
  );
  out(
    `bench:copy-formats — ${tsRows.toLocaleString()} rows into a TS table (timestamp, ${fieldCount} int8, host tag), ${relRows.toLocaleString()} into a relational table (int8 key, float8, text); ${new Date().toISOString()}`,
  );
  const results: [string, number, number][] = [];
  for (const [name, db, table, rows, text, binary] of [
    ['time-series', 'bench', 'cpu', tsRows, tsText, tsBinary],
    ['relational', 'defaultdb', 'rel', relRows, relText, relBinary],
  ] as const) {
    const textMsgs = messages(text());
    const binMsgs = messages(binary());
    const textBytes = textMsgs.reduce((n, m) => n + m.length, 0);
    const binBytes = binMsgs.reduce((n, m) => n + m.length, 0);
    const st = await copy(node.port, db, `copy ${table}t from stdin`, textMsgs);
    const sb = await copy(node.port, db, `copy ${table}b from stdin (format binary)`, binMsgs);
    const check = new pg.Client(node.url.replace('/defaultdb', `/${db}`));
    await check.connect();
    for (const t of [`${table}t`, `${table}b`]) {
      const n = (await check.query(`select count(*)::int8 as n from ${t}`)).rows[0] as { n: string };
      if (Number(n.n) !== rows) throw new Error(`${t}: ${n.n} rows, expected ${rows}`);
    }
    await check.end();
    out(
      `${name}: text ${Math.round(rows / st).toLocaleString()} rows/s (${(textBytes / 1e6).toFixed(1)} MB), binary ${Math.round(rows / sb).toLocaleString()} rows/s (${(binBytes / 1e6).toFixed(1)} MB), binary/text ${(st / sb).toFixed(2)}×`,
    );
    results.push([name, rows / st, rows / sb]);
  }
  await ts.end();
} finally {
  await node.stop();
  node.cleanup();
}
