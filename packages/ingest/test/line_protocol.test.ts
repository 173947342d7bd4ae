/**
 * The line-protocol parser: what it makes of each construct, the errors (the reasons recorded
 * from influxd 1.6.7's answers, with line numbers added), precisions, and a seeded fuzz run
 * (mutated valid bodies and random bytes) that must never throw.
 */
import { describe, expect, it } from 'vitest';
import { FieldKind, ParserState, parseLineProtocol, parsePrecision } from '../src/line_protocol.js';
import type { ParsedLine, Precision } from '../src/line_protocol.js';
import { parseBody } from '../src/batch.js';
import { primaryTagOf } from '../src/mapping.js';

interface Point {
  line: number;
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, [string, number | bigint | string]>;
  ts: number;
}

const now = 1_700_000_000_123_456; // µs

function parse(
  body: string | Buffer,
  precision: Precision = 'ns',
): { points: Point[]; errors: { line: number; text: string; reason: string }[] } {
  const points: Point[] = [];
  const errors: { line: number; text: string; reason: string }[] = [];
  const kinds = ['float', 'integer', 'unsigned', 'boolean', 'string'];
  parseLineProtocol(
    typeof body === 'string' ? Buffer.from(body) : body,
    { precision, nowUs: now },
    {
      point(p: ParsedLine) {
        const fields: Point['fields'] = {};
        for (let f = 0; f < p.fieldCount; f++) {
          const k = p.fieldKinds[f] as FieldKind;
          fields[p.fieldKeys[f] as string] = [
            kinds[k] as string,
            k === FieldKind.String
              ? (p.fieldStrings[f] as string)
              : (p.fieldBigints[f] ?? (p.fieldNumbers[f] as number)),
          ];
        }
        points.push({
          line: p.line,
          measurement: p.series.measurement,
          tags: Object.fromEntries(p.series.tagKeys.map((k, i) => [k, p.series.tagValues[i] as string])),
          fields,
          ts: p.timestampUs,
        });
      },
      error(line, text, reason) {
        errors.push({ line, text, reason });
      },
    },
  );
  return { points, errors };
}

describe('line protocol parser', () => {
  it('reads every field type, tags and timestamps', () => {
    const { points, errors } = parse(
      'cpu,host=a,region=eu-west usage=1.5,count=3i,big=18446744073709551615u,ok=t,no=FALSE,msg="hello" 1700000000000000999\n',
    );
    expect(errors).toEqual([]);
    expect(points).toEqual([
      {
        line: 1,
        measurement: 'cpu',
        tags: { host: 'a', region: 'eu-west' },
        fields: {
          usage: ['float', 1.5],
          count: ['integer', 3],
          big: ['unsigned', 18446744073709551615n],
          ok: ['boolean', 1],
          no: ['boolean', 0],
          msg: ['string', 'hello'],
        },
        ts: 1700000000000000, // ns truncated to µs
      },
    ]);
  });

  it('unescapes as InfluxDB does (measurement: , and space; keys and tag values: , = space; strings: \\" and \\\\)', () => {
    const { points, errors } = parse('m\\,x\\ y,t=a\\ b\\,c\\=d,u=\\"q\\" f\\ x="a\\"b\\\\c\\q",g=-1.5e3 9');
    expect(errors).toEqual([]);
    expect(points[0]).toMatchObject({
      measurement: 'm,x y',
      tags: { t: 'a b,c=d', u: '\\"q\\"' },
      fields: { 'f x': ['string', 'a"b\\c\\q'], g: ['float', -1500] },
    });
    // "=" needs no escape in a measurement; a string may span lines.
    const two = parse('n42=x v=1\nlog msg="first\nsecond",n=1i 5\nz v=2');
    expect(two.errors).toEqual([]);
    expect(two.points.map((p) => [p.line, p.measurement])).toEqual([
      [1, 'n42=x'],
      [2, 'log'],
      [4, 'z'],
    ]);
    expect(two.points[1]?.fields.msg).toEqual(['string', 'first\nsecond']);
  });

  it('accepts the literals InfluxDB accepts and refuses the others with its reasons', () => {
    const ok = [
      'v=.5',
      'v=5.',
      'v=1e5',
      'v=1E+5',
      'v=-.5',
      'v=01',
      'v=-0',
      'v=9223372036854775807i',
      'v=-9223372036854775808i',
      'v=00000000000000000000000001i',
      'v=1.7976931348623157e308',
      'v=t',
      'v=T',
      'v=true',
      'v=True',
      'v=TRUE',
      'v=f',
      'v=F',
      'v=false',
      'v=False',
      'v=FALSE',
      'v=""',
    ];
    for (const f of ok) expect(parse(`m ${f}`).errors, f).toEqual([]);
    const bad: [string, string][] = [
      ['m v=1.5i', 'invalid number'],
      ['m v=+1', 'invalid field value'],
      ['m v=-', 'invalid number'],
      ['m v=1e', 'invalid number'],
      ['m v=1e400', 'invalid float'],
      ['m v=0x10', 'invalid number'],
      ['m v=1i2', 'invalid number'],
      ['m v=NaN', 'invalid field value'],
      ['m v=tRUE', 'invalid boolean'],
      ['m v=-1u', 'invalid number'],
      ['m v=99999999999999999999i', 'unable to parse integer 99999999999999999999: value out of range'],
      ['m v=-9223372036854775809i', 'value out of range'],
      ['m v=18446744073709551616u', 'value out of range'],
      ['m v=1.5 1.5', 'bad timestamp'],
      ['m v=1 +5', 'bad timestamp'],
      ['m v=1 notanumber', 'bad timestamp'],
      ['m v=1 1 extra', 'point is invalid'],
      [',t=a v=1', 'missing measurement'],
      ['m,t= v=1', 'missing tag value'],
      ['m,=a v=1', 'missing tag key'],
      ['m,t v=1', 'missing tag value'],
      ['m, v=1', 'missing tag key'],
      ['m,a=b=c v=1', 'invalid tag format'],
      ['m,host=a,host=b v=1', 'duplicate tags'],
      ['m ="a"', 'missing field key'],
      ['m v=', 'missing field value'],
      ['m v=1,', 'invalid field format'],
      ['m v=1,,w=2', 'invalid field format'],
      ['m v="x"y', 'invalid field format'],
      ['m v="unterminated', 'unbalanced quotes'],
      ['m', 'missing fields'],
      ['m,t=a', 'missing fields'],
      ['m ', 'missing fields'],
      ['m\tv=1', 'missing fields'],
      ['m v=1\t5', 'invalid number'],
    ];
    for (const [line, reason] of bad) {
      const r = parse(line);
      expect(r.points, line).toEqual([]);
      expect(r.errors.length, line).toBe(1);
      expect(r.errors[0]?.reason, line).toContain(reason);
      expect(r.errors[0]?.line, line).toBe(1);
    }
  });

  it('skips blank lines, leading whitespace and comments, takes CRLF, and numbers errors by line', () => {
    const { points, errors } = parse(
      '# comment\n\n   \n m6 v=1 1\r\nbad line\r\nm7 v=2 2\nm v="open\nstill open',
    );
    expect(points.map((p) => [p.line, p.measurement, p.ts])).toEqual([
      [4, 'm6', 0],
      [6, 'm7', 0],
    ]);
    expect(errors).toEqual([
      { line: 5, text: 'bad line', reason: 'invalid field format: a field needs "key=value"' },
      { line: 7, text: 'm v="open\nstill open', reason: 'unbalanced quotes' },
    ]);
  });

  it('keeps the last value of a field given twice', () => {
    expect(parse('m v=1,w=2i,v=3').points[0]?.fields).toEqual({ v: ['float', 3], w: ['integer', 2] });
  });

  it('reads timestamps in each precision and gives lines without one the request time, truncated', () => {
    expect(parsePrecision(null)).toBe('ns');
    expect(parsePrecision('n')).toBe('ns');
    expect(parsePrecision('u')).toBe('us');
    expect(parsePrecision('xx')).toBeNull();
    const cases: [Precision, string, number][] = [
      ['ns', '1700000000123456789', 1700000000123456],
      ['ns', '-1', -1],
      ['ns', '-1000', -1],
      ['ns', '999', 0],
      ['us', '1700000000123456', 1700000000123456],
      ['ms', '1700000000123', 1700000000123000],
      ['s', '1700000000', 1700000000000000],
      ['m', '2', 120_000_000],
      ['h', '-1', -3_600_000_000],
    ];
    for (const [p, ts, us] of cases) expect(parse(`m v=1 ${ts}`, p).points[0]?.ts, `${p} ${ts}`).toBe(us);
    expect(parse('m v=1', 'ns').points[0]?.ts).toBe(now);
    expect(parse('m v=1', 'ms').points[0]?.ts).toBe(Math.floor(now / 1000) * 1000);
    expect(parse('m v=1', 's').points[0]?.ts).toBe(Math.floor(now / 1e6) * 1e6);
    expect(parse('m v=1 9223372036854775807', 'ns').errors[0]?.reason).toContain('bad timestamp');
    expect(parse('m v=1 9007199254740993', 'us').errors[0]?.reason).toContain('bad timestamp');
  });

  it('cuts long lines in error messages and refuses NUL', () => {
    const long = 'm v=' + 'x'.repeat(10_000);
    const r = parse(long);
    expect(r.errors[0]?.text.length).toBeLessThanOrEqual(257);
    expect(parse('m v="a\u0000b"').errors[0]?.reason).toContain('NUL');
    expect(parse('m\u0000 v=1').errors[0]?.reason).toContain('NUL');
  });

  it('shares one series object between lines of the same series', () => {
    const b = parseBody(
      Buffer.from('cpu,host=a v=1 1\ncpu,host=a v=2 2\ncpu,host=b v=3 3\nmem,host=a used=1i 4\n'),
      { precision: 'ns', nowUs: now },
    );
    const cpu = b.measurements.get('cpu');
    expect(cpu?.rows).toBe(3);
    expect(cpu?.series.length).toBe(2);
    expect(cpu?.seriesOf).toEqual([0, 0, 1]);
    expect([...b.measurements.keys()]).toEqual(['cpu', 'mem']);
  });

  it('derives the device from the tag set, whatever its order, and tells tag sets apart', () => {
    const a = primaryTagOf({ measurement: 'm', tagKeys: ['b', 'a'], tagValues: ['2', '1'] });
    const b = primaryTagOf({ measurement: 'm', tagKeys: ['a', 'b'], tagValues: ['1', '2'] });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    // KWDB would run "a=bc=d" together for both of these.
    expect(primaryTagOf({ measurement: 'm', tagKeys: ['a', 'c'], tagValues: ['b', 'd'] })).not.toBe(
      primaryTagOf({ measurement: 'm', tagKeys: ['a'], tagValues: ['bc=d'] }),
    );
  });

  it('never throws on mutated or random input (seeded fuzz)', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const corpus = [
      'cpu,host=server\\ 01,region=us-west usage_idle=98.5,usage_user=1i,up=t,msg="a \\"quoted\\" \\\\ str" 1700000000000000000\n',
      'weather,location=us-midwest temperature=82 1465839830100400200\n',
      'log,app=x msg="line1\nline2",n=5u\n',
      '# c\nm v=1\n\n',
    ];
    const alphabet = Buffer.from(' ,="\\\n\r\tabcTF0123456789.-+eiu#\u0000');
    const state = new ParserState();
    let points = 0;
    let errors = 0;
    for (let n = 0; n < 4000; n++) {
      let body: Buffer;
      if (n % 4 === 3) {
        body = Buffer.alloc(Math.floor(rnd() * 200));
        for (let i = 0; i < body.length; i++)
          body[i] =
            rnd() < 0.7 ? (alphabet[Math.floor(rnd() * alphabet.length)] as number) : Math.floor(rnd() * 256);
      } else {
        body = Buffer.from((corpus[n % corpus.length] as string).repeat(1 + Math.floor(rnd() * 3)));
        const edits = 1 + Math.floor(rnd() * 6);
        for (let e = 0; e < edits; e++) {
          const at = Math.floor(rnd() * body.length);
          const r = rnd();
          if (r < 0.4) body[at] = alphabet[Math.floor(rnd() * alphabet.length)] as number;
          else if (r < 0.7) body = Buffer.concat([body.subarray(0, at), body.subarray(at + 1)]);
          else
            body = Buffer.concat([
              body.subarray(0, at),
              Buffer.from([alphabet[Math.floor(rnd() * alphabet.length)] as number]),
              body.subarray(at),
            ]);
        }
      }
      const lines = body.toString('latin1').split('\n').length;
      try {
        parseLineProtocol(
          body,
          { precision: n % 2 ? 'ns' : 'ms', nowUs: now },
          {
            point(p) {
              points++;
              expect(p.line).toBeGreaterThanOrEqual(1);
              expect(p.line).toBeLessThanOrEqual(lines);
              expect(p.fieldCount).toBeGreaterThan(0);
              expect(Number.isSafeInteger(p.timestampUs)).toBe(true);
            },
            error(line, _text, reason) {
              errors++;
              expect(line).toBeGreaterThanOrEqual(1);
              expect(line).toBeLessThanOrEqual(lines);
              expect(reason.length).toBeGreaterThan(0);
            },
          },
          state,
        );
      } catch (e) {
        throw new Error(`seed 12345, input ${n}: ${JSON.stringify(body.toString('latin1'))}`, { cause: e });
      }
    }
    expect(points).toBeGreaterThan(100);
    expect(errors).toBeGreaterThan(100);
  });
});
