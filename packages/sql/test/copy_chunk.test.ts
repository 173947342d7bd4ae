/**
 * The COPY worker's chunk parser (copy_chunk.ts, pure) against the event loop's path it stands in
 * for — CopyParser, then the fast field parsers (copy_fast_fields.ts): for every field it takes
 * the same value (bit for bit, -0 included), and it gives a chunk back (bails) exactly when some
 * field of it would leave the fast path there (the event loop then parses it and raises any error).
 */
import { ColumnBuilder, ColumnType } from '@strata/ts';
import { describe, expect, it } from 'vitest';
import { CopyParser } from '../src/copy.js';
import { chunkColumn, chunkableColumns, parseTsChunk } from '../src/copy_chunk.js';
import type { TsChunkSpec } from '../src/copy_chunk.js';
import { fastParser } from '../src/copy_fast_fields.js';
import type { CopyOptions } from '../src/parser/ast.js';
import { T } from '../src/types/types.js';
import type { SqlType } from '../src/types/types.js';

const text: CopyOptions = { format: 'text', header: false, delimiter: null, null: null, quote: '"', escape: null };

function spec(type: SqlType, columnType: ColumnType, nullable = true): TsChunkSpec {
  return { options: text, relation: 't', columns: [{ type, nullable }], types: [columnType], fieldOfColumn: [0], fieldOfTag: [1], fields: 2 };
}

function bytes(s: string): Uint8Array {
  const b = Buffer.from(s, 'utf8');
  const copy = new Uint8Array(b.length);
  copy.set(b);
  return copy;
}

/** The event loop's value of one field, or 'general' when the fast path does not take it. */
function reference(type: SqlType, columnType: ColumnType, f: string): number | 'general' {
  const b = new ColumnBuilder(columnType);
  if (!(fastParser({ type }) as NonNullable<ReturnType<typeof fastParser>>)(b, f)) return 'general';
  const v = b.finish().values[0];
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

function worker(type: SqlType, columnType: ColumnType, f: string): number | 'general' {
  const chunk = parseTsChunk(spec(type, columnType), bytes(`${f}\tdev\n`));
  if (!chunk) return 'general';
  const g = chunk.groups[0];
  if (!g) throw new Error('no group');
  const v = chunkColumn(chunk, g, 0, columnType).values[0];
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

const tsFields = [
  '2016-01-01 00:00:00+00',
  '2016-01-01T00:00:00Z',
  '2026-01-01 00:00:00.123456+00',
  '2026-01-01 05:30:02.25+05:30',
  '2026-01-01 05:30:02+0530',
  '2026-01-01 00:00:04.5-08',
  '2026-01-01 00:00:04.999999-08:00',
  '2026-01-01 00:00:05.0000005+00',
  '2026-01-01 00:00:03',
  '2024-02-29 12:00:00+00',
  '2023-02-29 12:00:00+00',
  '2026-01-01 24:00:01+00',
  '0999-01-01 00:00:00+00',
  '2026-13-01 00:00:00+00',
  '2026-01-01 00:00:00+16',
  '2026-01-01 00:00:00+05:',
  '2026-01-01 00:00:00+05:3',
  '2026-01-01 00:00:00+5',
  '2026-01-01 00:00:00.+00',
  '2026-01-01 00:00:00Z+00',
  '2026-01-01  00:00:00+00',
  'not-a-time',
  '',
];
const intFields = ['0', '-0', '7', '007', '-1', '+12', ' 5', '5 ', '123456789012345', '1234567890123456', '-123456789012345', '2147483647', '2147483648', '-2147483648', '-2147483649', '32767', '32768', '-32768', '-32769', '1.5', '1e3', '-', '', 'x'];
const floatFields = ['1.5', '-0', '-0.0', '0.1', '1e3', 'NaN', '123456789012345.123456789012345', '1234567890123456.1', '1.', '.5', '-1.25', '3', '1.5.5', ''];

/** Random strings over the characters these shapes are made of, for what the lists miss. */
function* fuzz(seed: number, n: number): Generator<string> {
  let x = seed;
  const next = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
  const alphabet = '0123456789-+.:TZ ';
  for (let i = 0; i < n; i++) {
    const base = tsFields[Math.floor(next() * 11)] as string;
    let s = base;
    const edits = Math.floor(next() * 3);
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(next() * (s.length + 1));
      const c = alphabet[Math.floor(next() * alphabet.length)] as string;
      s = next() < 0.5 ? s.slice(0, at) + c + s.slice(at + 1) : s.slice(0, at) + s.slice(at + 1);
    }
    yield s;
  }
}

describe('COPY worker chunk parser', () => {
  const cases: [string, SqlType, ColumnType, string[]][] = [
    ['timestamptz', T.timestamptz, ColumnType.Timestamp, [...tsFields, ...fuzz(1, 3000)]],
    ['timestamp', T.timestamp, ColumnType.Timestamp, [...tsFields, ...fuzz(2, 3000)]],
    ['timestamptz(3)', { ...T.timestamptz, typmod: 3 }, ColumnType.Timestamp, tsFields],
    ['int8', T.int8, ColumnType.Int64, intFields],
    ['int4', T.int4, ColumnType.Int32, intFields],
    ['int2', T.int2, ColumnType.Int32, intFields],
    ['float8', T.float8, ColumnType.Float64, floatFields],
  ];
  for (const [name, type, columnType, fields] of cases) {
    it(`takes a ${name} field exactly when the fast parser does, with its value`, () => {
      for (const f of fields) expect(worker(type, columnType, f), JSON.stringify(f)).toStrictEqual(reference(type, columnType, f));
    });
  }

  it('groups rows by tag text in first-seen order, with the keys and lines of the event loop path', () => {
    const s: TsChunkSpec = { options: text, relation: 't', columns: [{ type: T.timestamptz, nullable: false }, { type: T.int8, nullable: true }], types: [ColumnType.Timestamp, ColumnType.Int64], fieldOfColumn: [0, 1], fieldOfTag: [2, 3, -1], fields: 4 };
    const input = ['2026-01-01 00:00:00+00\t1\tb\tx', '2026-01-01 00:00:01+00\t\\N\ta\t\\N', '2026-01-01 00:00:02+00\t3\tb\tx\r', '2026-01-01 00:00:03+00\t4\té\tx'].join('\n');
    const chunk = parseTsChunk(s, bytes(input)); // the last line without a newline: the COPY's end
    expect(chunk).not.toBeNull();
    const c = chunk as NonNullable<typeof chunk>;
    expect(c.rows).toBe(4);
    expect(c.groups.map((g) => [g.key, g.tagFields, g.line, g.rows])).toEqual([
      ['b\u0000x\u0000\u0001', ['b', 'x', null], 1, 2],
      ['a\u0000\u0002\u0000\u0001', ['a', null, null], 2, 1],
      ['é\u0000x\u0000\u0001', ['é', 'x', null], 4, 1],
    ]);
    const b = c.groups[0] as (typeof c.groups)[0];
    expect([...chunkColumn(c, b, 1, ColumnType.Int64).values]).toEqual([1n, 3n]);
    const a = c.groups[1] as (typeof c.groups)[0];
    expect([...(chunkColumn(c, a, 1, ColumnType.Int64).nulls ?? [])]).toEqual([1]);
    // The same rows through CopyParser: the same tag keys, built as TsCopyBatch.groupOf builds them.
    const rows = new CopyParser(text).push(Buffer.from(input + '\n'));
    const keys = [...new Set(rows.map((r) => [2, 3, -1].map((fi) => (fi < 0 ? '\u0001' : (r[fi] ?? '\u0002') + '\u0000')).join('')))];
    expect(c.groups.map((g) => g.key)).toEqual(keys);
  });

  it('gives back chunks the event loop must parse: escapes, \\., field counts, NULL in NOT NULL, bad UTF-8', () => {
    const s = spec(T.int8, ColumnType.Int64, false);
    expect(parseTsChunk(s, bytes('1\tdev\n2\tdev\n'))).not.toBeNull();
    expect(parseTsChunk(s, bytes('1\tde\\tv\n'))).toBeNull();
    expect(parseTsChunk(s, bytes('1\tdev\n\\.\n2\tdev\n'))).toBeNull();
    expect(parseTsChunk(s, bytes('1\tdev\textra\n'))).toBeNull();
    expect(parseTsChunk(s, bytes('1\n'))).toBeNull();
    expect(parseTsChunk(s, bytes('\\N\tdev\n'))).toBeNull();
    expect(parseTsChunk(spec(T.int8, ColumnType.Int64, true), bytes('\\N\tdev\n'))).not.toBeNull();
    const bad = bytes('1\tde_\n');
    bad[3] = 0xff;
    expect(parseTsChunk(s, bad)).toBeNull();
  });

  it('is used for text COPY into columns with fast parsers only', () => {
    expect(chunkableColumns([{ type: T.timestamptz }, { type: T.int8 }, { type: T.float8 }], text)).toBe(true);
    expect(chunkableColumns([{ type: T.timestamptz }, { type: T.bool }], text)).toBe(false);
    expect(chunkableColumns([{ type: T.timestamptz }], { ...text, format: 'csv' })).toBe(false);
    expect(chunkableColumns([{ type: T.timestamptz }], { ...text, header: true })).toBe(false);
    expect(chunkableColumns([{ type: T.timestamptz }], { ...text, delimiter: '|' })).toBe(true);
  });
});
