/**
 * The rows and boundary values of ts_insert_bind.test.ts, shared with ts_insert_bind_record.ts,
 * which records PostgreSQL 15's answer to each bad value (ts_insert_bind_cases.json).
 *
 * Columns (descriptor order): ts timestamptz NOT NULL, i2 int2, i4 int4, i8 int8, f8 float8,
 * f4 float4, b bool, s varchar(4), t6 timestamptz(6), tl timestamp, then the tags dev int4
 * NOT NULL (primary) and model varchar(8).
 */
export const dataColumns =
  'ts timestamptz not null, i2 int2, i4 int4, i8 int8, f8 float8, f4 float4, b bool, s varchar(4), t6 timestamptz(6), tl timestamp';
export const tagColumns = 'dev int4 not null, model varchar(8)';
export const columnNames = ['ts', 'i2', 'i4', 'i8', 'f8', 'f4', 'b', 's', 't6', 'tl', 'dev', 'model'];
export const width = columnNames.length;

type Text = string | null;

/** Good rows as text parameters: the fast parsers' shapes and the general parser's. */
export const textRows: Text[][] = [
  [
    '2026-01-01 00:00:00.123456+00',
    '7',
    '007',
    '-0',
    '1.5',
    '1.5',
    't',
    'ab',
    '2026-01-01 00:00:00.123456+00',
    '2026-01-01 00:00:00.5',
    '1',
    'm1',
  ],
  [
    '2026-01-01T00:00:01Z',
    ' 5',
    '2147483647',
    '9223372036854775807',
    '1e3',
    '3.4e38',
    'false',
    'abcd',
    '2026-01-01T00:00:01.000001Z',
    '2026-01-01T00:00:01',
    '1',
    'm1',
  ],
  [
    '2026-01-01 05:30:02+05:30',
    '-32768',
    '-2147483648',
    '-9223372036854775808',
    'NaN',
    '-0.5',
    '1',
    null,
    '2026-01-01 05:30:02.25+05:30',
    '1999-12-31 23:59:59',
    '2',
    null,
  ],
  [
    '2026-01-01 00:00:03',
    null,
    '-0',
    '123456789012345',
    '0.1',
    '0.1',
    null,
    '',
    '2026-01-01 00:00:03',
    '2024-02-29 12:00:00',
    '2',
    'm2',
  ],
  [
    '2026-01-01 00:00:04.5-08',
    '12',
    '+12',
    '-123456789012345',
    '123456789012345.123456789012345',
    '-1e-3',
    'yes',
    'x',
    '2026-01-01 00:00:04.999999-08:00',
    '0099-01-01 00:00:00',
    '3',
    'émile',
  ],
  [
    '2026-01-01 00:00:05.0005+00',
    '1',
    '1',
    '1234567890123456',
    '-0',
    '1',
    'no',
    'y',
    '2026-01-01 00:00:05.0000005+00',
    '2026-01-01 00:00:05+00',
    '3',
    'm3',
  ],
];

/** One bad value (column, text) put into the second row of a two-row INSERT. */
export const badText: [string, Text][] = [
  ['i4', '3000000000'],
  ['i4', '2147483648'],
  ['i2', '32768'],
  ['i2', '-32769'],
  ['i2', '1.5'],
  ['i8', '9223372036854775808'],
  ['i8', '99999999999999999999'],
  ['ts', '2026-02-29 00:00:00+00'],
  ['ts', '2026-01-01 24:00:01+00'],
  ['ts', null],
  ['f8', '1.5.5'],
  ['f8', '1e400'],
  ['f4', '1e39'],
  ['b', 'maybe'],
  ['s', 'abcde'],
  ['dev', 'x'],
  ['dev', '2147483648'],
  ['dev', null],
  ['model', 'abcdefghi'],
];

/** Bad binary parameters: (column, bytes as hex). */
export const badBinary: [string, string][] = [
  ['i8', '00000001'], // 4 bytes for an int8
  ['i4', '0000000000000001'], // 8 bytes for an int4
  ['i2', '00000001'], // 4 bytes for an int2
  ['f8', '3ff00000'], // 4 bytes for a float8
  ['ts', '00000000'], // 4 bytes for a timestamptz
];

/** PostgreSQL 15's answers (ts_insert_bind_record.ts). */
export interface Recorded {
  /** Keyed `text:col:value` / `binary:col:hex`: the error of the two-row INSERT, or null. */
  errors: { [key: string]: { code: string; message: string } | null };
  /**
   * Keyed `col:value`: the backend messages answering Parse, Bind, Execute, Sync of the one-row
   * INSERT with that value (`name` or `error:SQLSTATE`) — which message reports the error.
   */
  sequences: { [key: string]: string[] };
}

/** Values whose error PostgreSQL reports at Bind (a malformed or too long parameter) or at Execute (NULL in NOT NULL). */
export const sequenceCases: [string, string | null][] = [
  ['dev', 'x'],
  ['model', 'abcdefghi'],
  ['s', 'abcde'],
  ['i4', '3000000000'],
  ['ts', null],
  ['dev', null],
];

export const caseKey = (format: 'text' | 'binary', col: string, v: string | null) =>
  `${format}:${col}:${v === null ? 'NULL' : v}`;

/** `INSERT INTO table VALUES ($1 … $w), ($w+1 …), …` for `rows` rows: the fast path's shape. */
export function fastInsert(table: string, rows: number): string {
  return `insert into ${table} values ${Array.from({ length: rows }, (_, r) => '(' + columnNames.map((_c, i) => `$${r * width + i + 1}`).join(', ') + ')').join(', ')}`;
}

/**
 * The same INSERT with the same parameters, the tag `dev` listed first: its parameters are not
 * numbered in row order, so the statement takes the ordinary path (expression per value).
 */
export function ordinaryInsert(table: string, rows: number): string {
  const order = [10, ...columnNames.keys()].filter((i, k) => k === 0 || i !== 10);
  const list = order.map((i) => columnNames[i]).join(', ');
  return `insert into ${table} (${list}) values ${Array.from({ length: rows }, (_, r) => '(' + order.map((i) => `$${r * width + i + 1}`).join(', ') + ')').join(', ')}`;
}

const pgEpochMicros = 946_684_800_000_000n;

function int(bytes: number, v: bigint): Buffer {
  const b = Buffer.alloc(bytes);
  if (bytes === 2) b.writeInt16BE(Number(v));
  else if (bytes === 4) b.writeInt32BE(Number(v));
  else b.writeBigInt64BE(v);
  return b;
}

function micros(iso: string): Buffer {
  return int(8, BigInt(Date.parse(iso)) * 1000n - pgEpochMicros);
}

function float(bytes: 4 | 8, v: number): Buffer {
  const b = Buffer.alloc(bytes);
  if (bytes === 4) b.writeFloatBE(v);
  else b.writeDoubleBE(v);
  return b;
}

/**
 * Good rows with binary parameters (the tags stay text, so the Bind mixes formats), and the same
 * rows with every parameter binary.
 */
export function binaryRows(allBinary: boolean): (Buffer | string | null)[][] {
  const tag = (s: string | null) => (s === null ? null : allBinary ? Buffer.from(s) : s);
  return [
    [
      micros('2026-01-02T00:00:00.123456Z'),
      int(2, 7n),
      int(4, -2147483648n),
      int(8, 9223372036854775807n),
      float(8, 1.5),
      float(4, 1.5),
      Buffer.from([1]),
      Buffer.from('ab'),
      micros('2026-01-02T00:00:00.5Z'),
      micros('2026-01-02T00:00:00Z'),
      allBinary ? int(4, 11n) : '11',
      tag('m1'),
    ],
    [
      micros('2026-01-02T00:00:01Z'),
      int(2, -32768n),
      int(4, 2147483647n),
      int(8, -9223372036854775808n),
      float(8, NaN),
      float(4, -0),
      Buffer.from([0]),
      Buffer.from('abcd'),
      micros('1960-01-01T00:00:00Z'),
      micros('2100-01-01T00:00:00Z'),
      allBinary ? int(4, 11n) : '11',
      tag(null),
    ],
    [
      micros('2026-01-02T00:00:02Z'),
      null,
      int(4, 0n),
      int(8, 1n << 53n),
      float(8, -0),
      null,
      null,
      Buffer.from('é'),
      null,
      null,
      allBinary ? int(4, 12n) : '12',
      tag('émile'),
    ],
  ];
}
