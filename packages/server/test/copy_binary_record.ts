/**
 * Records PostgreSQL 15's binary COPY for copy_binary.test.ts: the bytes of `COPY … TO STDOUT
 * (FORMAT binary)` for a fixed table holding every type Strata supports, and the errors it gives
 * for malformed binary COPY input. Run against a throwaway PostgreSQL 15, e.g.
 *   initdb -D /tmp/pg -A trust -U postgres && pg_ctl -D /tmp/pg -o '-p 55432 -k /tmp' start
 *   PG_PORT=55432 npx tsx packages/server/test/copy_binary_record.ts
 * The fixture (copy_binary_cases.json) is then the expectation; Strata is compared byte for byte.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RawClient, rawMessage, serialize } from '../../../qa/harness/rawpg.js';

/**
 * Every supported type, with edge values; the same statements create the table in Strata. Strata
 * keeps timestamps as microseconds in a double, so none is 'infinity' or beyond ±2^53 µs of 1970.
 */
export const typesTableDdl =
  'create table bt (id int4, i2 int2, i8 int8, f4 float4, f8 float8, n numeric, n2 numeric(10,3), b bool, t text, vc varchar(10), c char(5), ' +
  'by bytea, d date, tm time, ts timestamp, tz timestamptz, iv interval, u uuid, j json, jb jsonb, ai int4[], at text[])';

export const typesTableRows = [
  `insert into bt values (1, 32767, 9223372036854775807, 1.5, 3.141592653589793, 12345.6789, 1.5, true, 'héllo wörld ✓', 'abc', 'ab', '\\x00ff10', '2024-02-29', '13:45:56.123456', '2024-02-29 13:45:56.123456', '2024-02-29 13:45:56.123456+00', '1 year 2 mons 3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2.5, "x"]}', '{"b": 1, "a": [true, null]}', '{1,NULL,3}', '{"x","y z",NULL}')`,
  `insert into bt values (2, -32768, -9223372036854775808, '-Infinity', 'NaN', -0.000001, -99999.999, false, '', '', '', '\\x', '1970-01-01', '00:00:00', '1999-12-31 23:59:59', '2000-01-01 00:00:00+00', '-1 days -00:00:01', '00000000-0000-0000-0000-000000000000', '[]', '{}', '{}', '{}')`,
  `insert into bt values (3, 0, 0, 0, '-0', 'NaN', 0, null, e'tab\\there\\nnewline \\\\ backslash', 'ten chars!', 'abcde', '\\x5c00', '1900-03-01', '23:59:59.999999', '2024-06-01 12:00:00.5', '1969-07-20 20:17:40.000001+00', '0', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '{"k": "v"}', '{"big": 12345678901234567890.5, "s": "é"}', '{-2147483648,2147483647}', '{""}')`,
  `insert into bt values (4, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null)`,
  `insert into bt (id, n) values (6, 'Infinity'), (7, '-Infinity')`,
  `insert into bt values (5, 1, 1, 3.4028235e38, 1e-300, 1e30, 0.001, true, 'x', 'x', 'x', '\\xdeadbeef', '0001-01-01', '12:00:00', '1700-01-01 00:00:00', '2199-12-31 23:59:59.999999+00', '178000000 years', '12345678-9abc-def0-1234-56789abcdef0', '123', '[1, "2", [3]]', '{7}', '{"a\\"b","c\\\\d"}')`,
];

export const typesTableCopyTo = 'copy bt to stdout (format binary)';

/** A table the malformed inputs load into. */
export const errorTableDdl = 'create table be (a int4, b text)';

const sig = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const i16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const header = Buffer.concat([sig, u32(0), u32(0)]);
const field = (b: Buffer | null) => (b === null ? u32(0xffffffff) : Buffer.concat([u32(b.length), b]));
const row = (...fs: (Buffer | null)[]) => Buffer.concat([i16(fs.length), ...fs.map(field)]);
const trailer = i16(-1);
const goodRow = row(u32(7), Buffer.from('seven'));

/** Malformed (and borderline) binary COPY inputs for `copy be from stdin (format binary)`. */
export const errorInputs: { name: string; data: Buffer }[] = [
  { name: 'empty input', data: Buffer.alloc(0) },
  {
    name: 'bad signature',
    data: Buffer.concat([Buffer.from('PGCOPX\n\xff\r\n\0', 'latin1'), u32(0), u32(0), trailer]),
  },
  { name: 'signature only', data: sig },
  { name: 'flags cut short', data: Buffer.concat([sig, Buffer.from([0, 0])]) },
  { name: 'no extension length', data: Buffer.concat([sig, u32(0)]) },
  { name: 'extension cut short', data: Buffer.concat([sig, u32(0), u32(10), Buffer.from('abc')]) },
  { name: 'WITH OIDS flag', data: Buffer.concat([sig, u32(1 << 16), u32(0), trailer]) },
  { name: 'critical flag', data: Buffer.concat([sig, u32(1 << 17), u32(0), trailer]) },
  {
    name: 'non-critical flag and an extension are skipped',
    data: Buffer.concat([sig, u32(1), u32(3), Buffer.from('xyz'), goodRow, trailer]),
  },
  { name: 'wrong field count', data: Buffer.concat([header, goodRow, row(u32(1)), trailer]) },
  { name: 'negative field size', data: Buffer.concat([header, i16(2), u32(0xfffffffe), trailer]) },
  {
    name: 'int4 field too short',
    data: Buffer.concat([header, row(Buffer.from([0, 0, 1]), Buffer.from('x')), trailer]),
  },
  {
    name: 'int4 field too long',
    data: Buffer.concat([header, row(Buffer.from([0, 0, 0, 0, 1]), Buffer.from('x')), trailer]),
  },
  { name: 'tuple cut short', data: Buffer.concat([header, goodRow, i16(2), u32(4), Buffer.from([0, 0])]) },
  { name: 'field count cut short at the end', data: Buffer.concat([header, goodRow, Buffer.from([0])]) },
  { name: 'data after the trailer', data: Buffer.concat([header, goodRow, trailer, Buffer.from([0])]) },
  {
    name: 'invalid UTF-8 in text',
    data: Buffer.concat([header, goodRow, row(u32(8), Buffer.from([0x61, 0xc3, 0x28])), trailer]),
  },
  { name: 'NUL in text', data: Buffer.concat([header, row(u32(9), Buffer.from([0x61, 0x00])), trailer]) },
  { name: 'missing trailer is accepted', data: Buffer.concat([header, goodRow, goodRow]) },
  {
    name: 'NULLs and an empty text',
    data: Buffer.concat([header, row(null, null), row(u32(3), Buffer.alloc(0)), trailer]),
  },
];

/** A table for malformed numeric fields (numeric_recv's own checks). */
export const numericTableDdl = 'create table bn (n numeric)';

const u16s = (...ns: number[]) => {
  const b = Buffer.alloc(2 * ns.length);
  ns.forEach((n, i) => b.writeUInt16BE(n, 2 * i));
  return b;
};
const numericFile = (field: Buffer) => Buffer.concat([header, row(field), trailer]);

/** Malformed numeric fields for `copy bn from stdin (format binary)`. */
export const numericErrorInputs: { name: string; data: Buffer }[] = [
  { name: 'numeric 12.5', data: numericFile(u16s(2, 0, 0, 1, 12, 5000)) },
  { name: 'numeric Infinity', data: numericFile(u16s(0, 0, 0xd000, 0)) },
  { name: 'numeric -Infinity', data: numericFile(u16s(0, 0, 0xf000, 0)) },
  { name: 'numeric NaN', data: numericFile(u16s(0, 0, 0xc000, 0)) },
  { name: 'numeric too many digits', data: numericFile(u16s(3001, 0, 0, 0)) },
  { name: 'numeric bad sign', data: numericFile(u16s(1, 0, 0x1000, 0, 1)) },
  { name: 'numeric bad scale', data: numericFile(u16s(1, 0, 0, 0x4000, 1)) },
  { name: 'numeric bad digit', data: numericFile(u16s(2, 0, 0, 0, 1, 10000)) },
  { name: 'numeric digits missing', data: numericFile(u16s(3, 0, 0, 0, 1)) },
  { name: 'numeric header cut short', data: numericFile(u16s(1, 0)) },
  { name: 'numeric bytes left over', data: numericFile(u16s(1, 0, 0, 0, 1, 7)) },
];

/** A table for malformed array fields (array_recv's checks). */
export const arrayTableDdl = 'create table ba (a int4[])';

/** An int4[] header: ndim, flags, element type, then (dimension, lower bound) when ndim is 1. */
const arrayHead = (ndim: number, flags: number, elemOid: number, n: number) =>
  Buffer.concat([u32(ndim), u32(flags), u32(elemOid), ...(ndim === 1 ? [u32(n), u32(1)] : [])]);

/** Malformed int4[] fields for `copy ba from stdin (format binary)`. */
export const arrayErrorInputs: { name: string; data: Buffer }[] = [
  {
    name: 'array {1,NULL}',
    data: numericFile(Buffer.concat([arrayHead(1, 1, 23, 2), field(u32(1)), field(null)])),
  },
  { name: 'array empty', data: numericFile(arrayHead(0, 0, 23, 0)) },
  { name: 'array negative dimensions', data: numericFile(arrayHead(0xffffffff, 0, 23, 0)) },
  { name: 'array too many dimensions', data: numericFile(arrayHead(7, 0, 23, 0)) },
  { name: 'array bad flags', data: numericFile(arrayHead(1, 2, 23, 1)) },
  {
    name: 'array wrong element type',
    data: numericFile(Buffer.concat([arrayHead(1, 0, 20, 1), field(Buffer.alloc(8))])),
  },
  {
    name: 'array element length past the end',
    data: numericFile(Buffer.concat([arrayHead(1, 0, 23, 1), u32(100), u32(1)])),
  },
  {
    name: 'array element too short',
    data: numericFile(Buffer.concat([arrayHead(1, 0, 23, 1), field(Buffer.from([0, 1]))])),
  },
  {
    name: 'array element too long',
    data: numericFile(Buffer.concat([arrayHead(1, 0, 23, 1), field(Buffer.from([0, 0, 0, 0, 1]))])),
  },
  { name: 'array header cut short', data: numericFile(u32(1)) },
  {
    name: 'array bytes left over',
    data: numericFile(Buffer.concat([arrayHead(1, 0, 23, 1), field(u32(5)), Buffer.from([9])])),
  },
];

export interface ErrorCase {
  name: string;
  hex: string;
  /** PostgreSQL 15's answer: the command tag, or the error. */
  pg: { tag: string } | { code: string; message: string; where: string | null };
}

export interface Fixture {
  ddl: string;
  rows: string[];
  copyTo: string;
  /** The CopyData payloads of PostgreSQL's COPY TO, joined, as hex. */
  copyToHex: string;
  /** The size of each of those CopyData messages (the header rides with the first row). */
  copyToMessageBytes: number[];
  /** COPY TO of an empty one-column table: header and trailer in one message. */
  emptyHex: string;
  errorDdl: string;
  errors: ErrorCase[];
  numericDdl: string;
  numericErrors: ErrorCase[];
  arrayDdl: string;
  arrayErrors: ErrorCase[];
}

export const fixtureFile = join(import.meta.dirname, 'copy_binary_cases.json');

/** Sends one binary COPY FROM with `data` in one CopyData; returns the tag or the error. */
export async function copyFromRaw(c: RawClient, sql: string, data: Buffer): Promise<ErrorCase['pg']> {
  c.write(serialize.query(sql));
  await c.waitFor('copyInResponse');
  c.write(Buffer.concat([data.length > 0 ? rawMessage('d', data) : Buffer.alloc(0), serialize.copyDone()]));
  const ms = await c.untilReady();
  const err = ms.find((m) => m.name === 'error') as unknown as
    { code: string; message: string; where?: string } | undefined;
  if (err) return { code: err.code, message: err.message, where: err.where ?? null };
  const done = ms.find((m) => m.name === 'commandComplete') as unknown as { text: string };
  return { tag: done.text };
}

/** The CopyData payloads of a COPY TO. */
export async function copyToMessages(c: RawClient, sql: string): Promise<Buffer[]> {
  const from = c.frames.length;
  const ms = await c.query(sql);
  const err = ms.find((m) => m.name === 'error');
  if (err) throw new Error(`${sql}: ${(err as unknown as { message: string }).message}`);
  return c.frames
    .slice(from)
    .filter((f) => f.type === 'd')
    .map((f) => f.body);
}

/** The CopyData payloads of a COPY TO, joined. */
export async function copyToRaw(c: RawClient, sql: string): Promise<Buffer> {
  return Buffer.concat(await copyToMessages(c, sql));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const c = await RawClient.connect(Number(process.env.PG_PORT ?? 5432), {
    user: 'postgres',
    database: 'postgres',
  });
  await c.query(
    'drop table if exists bt; drop table if exists be; drop table if exists bt_empty; drop table if exists bn; drop table if exists ba',
  );
  await c.query(typesTableDdl);
  for (const r of typesTableRows) {
    const ms = await c.query(r);
    const err = ms.find((m) => m.name === 'error');
    if (err) throw new Error(`${r}: ${(err as unknown as { message: string }).message}`);
  }
  const messages = await copyToMessages(c, typesTableCopyTo);
  const copyToHex = Buffer.concat(messages).toString('hex');
  const copyToMessageBytes = messages.map((m) => m.length);
  await c.query('create table bt_empty (a int4)');
  const emptyHex = (await copyToRaw(c, 'copy bt_empty to stdout (format binary)')).toString('hex');
  await c.query(errorTableDdl);
  const errors: ErrorCase[] = [];
  for (const e of errorInputs)
    errors.push({
      name: e.name,
      hex: e.data.toString('hex'),
      pg: await copyFromRaw(c, 'copy be from stdin (format binary)', e.data),
    });
  await c.query(numericTableDdl);
  const numericErrors: ErrorCase[] = [];
  for (const e of numericErrorInputs)
    numericErrors.push({
      name: e.name,
      hex: e.data.toString('hex'),
      pg: await copyFromRaw(c, 'copy bn from stdin (format binary)', e.data),
    });
  await c.query(arrayTableDdl);
  const arrayErrors: ErrorCase[] = [];
  for (const e of arrayErrorInputs)
    arrayErrors.push({
      name: e.name,
      hex: e.data.toString('hex'),
      pg: await copyFromRaw(c, 'copy ba from stdin (format binary)', e.data),
    });
  c.end();
  const fixture: Fixture = {
    ddl: typesTableDdl,
    rows: typesTableRows,
    copyTo: typesTableCopyTo,
    copyToHex,
    copyToMessageBytes,
    emptyHex,
    errorDdl: errorTableDdl,
    errors,
    numericDdl: numericTableDdl,
    numericErrors,
    arrayDdl: arrayTableDdl,
    arrayErrors,
  };
  writeFileSync(fixtureFile, JSON.stringify(fixture, null, 1) + '\n');
  process.stdout.write(
    `recorded ${copyToHex.length / 2} bytes of COPY TO and ${errors.length} error cases\n`,
  );
}
