/**
 * The InfluxDB line protocol, parsed in one pass over the request body's bytes:
 *
 *   measurement[,tag_key=tag_value…] field_key=field_value[,…] [timestamp]
 *
 * as InfluxDB 1.x's models.ParsePoints reads it (recorded against influxd 1.6.7; see
 * test/line_protocol.test.ts): whitespace before a line and `#` comment lines are skipped; one or
 * more spaces separate the sections; a backslash makes the next byte ordinary for splitting, and
 * unescapes `\,` and `\ ` in measurements, `\,` `\=` `\ ` in tag keys, tag values and field keys
 * (any other backslash stays, as in InfluxDB); field values are floats (`1`, `-1.5e3`, `.5`),
 * integers (`1i`), unsigned integers (`1u`), booleans (`t T true True TRUE f F false False
 * FALSE`) or double-quoted strings (escapes `\"` and `\\`; a string may span lines, as Telegraf
 * sends log messages); the timestamp is an integer in the request's precision, and a line without
 * one takes the request's time, truncated to the precision. A field given twice keeps its last
 * value (InfluxDB's behaviour). A `\r` before the newline is ignored (InfluxDB 1.x rejects it).
 *
 * Timestamps are kept in microseconds, the time-series engine's unit: nanoseconds are truncated
 * toward minus infinity. Times beyond ±(2^53 − 1) µs (years before −283,457 or after 287,396… in
 * practice: beyond year 2255 with nanosecond input) are refused, as they cannot be held exactly.
 *
 * The parser is pure: no I/O, no clock (the caller passes "now"). Every point goes to the sink in
 * a reused scratch object (no object per line); a malformed line goes to the sink as an error with
 * its line number and the parser carries on with the next line. No input makes it throw.
 */
import {
  fieldKeysCachedMax,
  lineEchoCharsMax,
  lineFieldsMax,
  lineTagsMax,
  seriesCachedMax,
} from './constants.js';

/** The type of a field value, by its literal. */
export enum FieldKind {
  Float = 0,
  Integer = 1,
  Unsigned = 2,
  Boolean = 3,
  String = 4,
}

/** InfluxDB's names of the field types (its error messages use them). */
export const fieldKindNames = ['float', 'integer', 'unsigned', 'boolean', 'string'] as const;

/** Timestamp precisions: what one unit of a line's timestamp is, in microseconds (ns: 1/1000). */
export type Precision = 'ns' | 'us' | 'ms' | 's' | 'm' | 'h';

const unitUs: Record<Exclude<Precision, 'ns'>, number> = {
  us: 1,
  ms: 1000,
  s: 1_000_000,
  m: 60_000_000,
  h: 3_600_000_000,
};

/**
 * A request's `precision` parameter: InfluxDB 1.x spells them n, ns, u, us, µ, ms, s, m, h; 2.x
 * ns, us, ms, s. Absent: nanoseconds. Unknown: null (the request is refused; InfluxDB 1.x would
 * silently read the timestamps as nanoseconds).
 */
export function parsePrecision(p: string | null): Precision | null {
  switch (p) {
    case null:
    case '':
    case 'n':
    case 'ns':
      return 'ns';
    case 'u':
    case 'us':
    case 'µ':
    case 'µs':
      return 'us';
    case 'ms':
      return 'ms';
    case 's':
      return 's';
    case 'm':
      return 'm';
    case 'h':
      return 'h';
    default:
      return null;
  }
}

/** The tags of one series: parsed once per distinct series text, then shared by its lines. */
export interface Series {
  measurement: string;
  /** Tag keys in the order the line gave them (no duplicates). */
  tagKeys: string[];
  tagValues: string[];
}

/**
 * One parsed line. The parser reuses one instance for every line: a sink copies what it keeps.
 * Field i has key fieldKeys[i], kind fieldKinds[i] and its value in fieldNumbers[i] (Float; Boolean
 * as 0/1; Integer/Unsigned when fieldBigints[i] is null), fieldBigints[i] (an Integer/Unsigned
 * beyond ±(2^53 − 1)) or fieldStrings[i] (String).
 */
export class ParsedLine {
  /** 1-based line number of the line's first byte in the body. */
  line = 0;
  /** Lines whose "measurement[,tags]" texts are equal get the same object (while the parser's cache holds it). */
  series: Series = { measurement: '', tagKeys: [], tagValues: [] };
  fieldCount = 0;
  readonly fieldKeys: string[] = [];
  readonly fieldKinds = new Uint8Array(lineFieldsMax);
  readonly fieldNumbers = new Float64Array(lineFieldsMax);
  readonly fieldBigints: (bigint | null)[] = [];
  readonly fieldStrings: string[] = [];
  timestampUs = 0;
}

export interface LineSink {
  point(p: ParsedLine): void;
  /** A malformed line: nothing of it is in any point. `text` is the line (cut to lineEchoCharsMax). */
  error(line: number, text: string, reason: string): void;
}

export interface ParseOptions {
  precision: Precision;
  /** The request's time in microseconds: lines without a timestamp take it, truncated to the precision. */
  nowUs: number;
}

const NL = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const COMMA = 44;
const EQ = 61;
const QUOTE = 34;
const BACKSLASH = 92;
const HASH = 35;
const MINUS = 45;
const DOT = 46;

const maxSafe = Number.MAX_SAFE_INTEGER;
const int64Max = 2n ** 63n - 1n;
const int64Min = -(2n ** 63n);
const uint64Max = 2n ** 64n - 1n;

class LineError {
  constructor(
    readonly reason: string,
    /** The error is an unterminated string: the line runs to the end of the body. */
    readonly toEnd = false,
  ) {}
}

/**
 * Parses a body, calling the sink for every line in order. Reuses `state` (its series cache)
 * when given, so several bodies of one request share it.
 */
export function parseLineProtocol(
  buf: Uint8Array,
  opts: ParseOptions,
  sink: LineSink,
  state: ParserState = new ParserState(),
): void {
  const p = state.parsed;
  const nowUs = truncateUs(opts.nowUs, opts.precision);
  const end = buf.length;
  let i = 0;
  let line = 1;
  while (i < end) {
    // Whitespace before a line, blank lines and comments.
    const c = buf[i] as number;
    if (c === SPACE || c === TAB || c === CR) {
      i++;
      continue;
    }
    if (c === NL) {
      i++;
      line++;
      continue;
    }
    if (c === HASH) {
      while (i < end && buf[i] !== NL) i++;
      continue;
    }
    const start = i;
    p.line = line;
    try {
      i = state.parseLine(buf, i, end, opts.precision, nowUs);
      // parseLine stops at the line's end: a newline (or the end of the body).
      line += state.newlinesInStrings;
      sink.point(p);
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      // Skip to the end of the line (an unterminated string: of the body).
      let stop = e.toEnd ? end : state.errorAt;
      while (stop < end && buf[stop] !== NL) stop++;
      let textEnd = stop;
      if (textEnd > start && buf[textEnd - 1] === CR) textEnd--;
      sink.error(line, echo(buf, start, textEnd), e.reason);
      for (let k = start; k < stop; k++) if (buf[k] === NL) line++;
      i = stop;
    }
  }
}

/** A line as error messages show it: decoded, cut to lineEchoCharsMax characters. */
function echo(buf: Uint8Array, start: number, end: number): string {
  const cut = Math.min(end, start + lineEchoCharsMax * 4);
  let s = Buffer.from(buf.buffer, buf.byteOffset + start, cut - start).toString('utf8');
  if (s.length > lineEchoCharsMax) s = s.slice(0, lineEchoCharsMax) + '…';
  else if (cut < end) s += '…';
  return s;
}

function truncateUs(us: number, precision: Precision): number {
  if (precision === 'ns' || precision === 'us') return Math.floor(us);
  const unit = unitUs[precision];
  return Math.floor(us / unit) * unit;
}

/** Decodes bytes [start, end) as UTF-8. */
function text(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8');
}

/**
 * A key or tag value between start and end, with `\,` `\ ` (and `\=` when `eqEscapes`) turned
 * into the character; any other backslash stays as it is.
 */
function unescape(buf: Uint8Array, start: number, end: number, eqEscapes: boolean): string {
  let out = '';
  let from = start;
  for (let k = start; k < end - 1; k++) {
    if (buf[k] !== BACKSLASH) continue;
    const n = buf[k + 1] as number;
    if (n === COMMA || n === SPACE || (eqEscapes && n === EQ)) {
      out += text(buf, from, k);
      from = k + 1;
      k++;
    } else k++; // `\\` and `\x` stay whole (the next byte is never a delimiter)
  }
  return out + text(buf, from, end);
}

/** Parser state kept across the lines of a request: the scratch line and the series cache. */
export class ParserState {
  readonly parsed = new ParsedLine();
  /** Series by a hash of their text's bytes; each entry keeps a copy of the bytes to compare. */
  private readonly series = new Map<number, { bytes: Uint8Array; series: Series }[]>();
  private seriesCount = 0;
  /** Field keys by a hash of their (ASCII, unescaped) bytes: one string per distinct key. */
  private readonly keys = new Map<number, string[]>();
  private keyCount = 0;
  /** Newlines inside quoted strings of the last line (the line counter adds them). */
  newlinesInStrings = 0;
  /** Where the last error was found (the line is skipped from there to its end). */
  errorAt = 0;

  private fail(at: number, reason: string, toEnd = false): never {
    this.errorAt = at;
    throw new LineError(reason, toEnd);
  }

  /** True at a line's end: a newline, a `\r` before one or before the end, or the end. */
  private static atLineEnd(buf: Uint8Array, i: number, end: number): boolean {
    if (i >= end) return true;
    const c = buf[i];
    return c === NL || (c === CR && (i + 1 === end || buf[i + 1] === NL));
  }

  /** Parses the line at `i` into `parsed`; returns where it ends (at its newline or the body's end). */
  parseLine(buf: Uint8Array, i: number, end: number, precision: Precision, nowUs: number): number {
    const p = this.parsed;
    this.newlinesInStrings = 0;
    const lineStart = i;
    // The series text: up to the first space (or line end) not escaped by a backslash.
    let k = i;
    let h = 0;
    for (; k < end; k++) {
      const c = buf[k] as number;
      h = (Math.imul(h, 31) + c) | 0;
      if (c === BACKSLASH && k + 1 < end && buf[k + 1] !== NL) {
        k++;
        h = (Math.imul(h, 31) + (buf[k] as number)) | 0;
        continue;
      }
      if (c === SPACE || c === NL || c === 0) break;
    }
    if (k === end || buf[k] !== SPACE) {
      if (k < end && buf[k] === 0) this.fail(k, 'NUL character in the measurement or a tag');
      // No field section. Distinguish InfluxDB's reasons.
      this.parseSeries(buf, lineStart, k);
      this.fail(k, 'missing fields');
    }
    const s = this.seriesOf(buf, lineStart, k, h);
    p.series = s;
    i = k;
    while (i < end && buf[i] === SPACE) i++;
    if (ParserState.atLineEnd(buf, i, end)) this.fail(i, 'missing fields');
    i = this.parseFields(buf, i, end);
    // Timestamp.
    while (i < end && buf[i] === SPACE) i++;
    if (ParserState.atLineEnd(buf, i, end)) {
      p.timestampUs = nowUs;
      return i < end && buf[i] === CR ? i + 1 : i;
    }
    const ts0 = i;
    while (i < end && buf[i] !== SPACE && !ParserState.atLineEnd(buf, i, end)) i++;
    p.timestampUs = this.timestamp(buf, ts0, i, precision);
    while (i < end && buf[i] === SPACE) i++;
    if (!ParserState.atLineEnd(buf, i, end))
      this.fail(i, 'point is invalid: unexpected text after the timestamp');
    return i < end && buf[i] === CR ? i + 1 : i;
  }

  /** The series of the text [start, end) whose byte hash (including the final space) is h: cached, else parsed. */
  private seriesOf(buf: Uint8Array, start: number, end: number, h: number): Series {
    const n = end - start;
    let list = this.series.get(h);
    if (list) {
      for (const e of list) {
        const b = e.bytes;
        if (b.length !== n) continue;
        let j = 0;
        while (j < n && b[j] === buf[start + j]) j++;
        if (j === n) return e.series;
      }
    }
    const series = this.parseSeries(buf, start, end);
    if (this.seriesCount >= seriesCachedMax) {
      this.series.clear();
      this.seriesCount = 0;
      list = undefined;
    }
    if (!list) {
      list = [];
      this.series.set(h, list);
    }
    list.push({ bytes: Uint8Array.prototype.slice.call(buf, start, end), series });
    this.seriesCount++;
    return series;
  }

  /** The string of an ASCII field key [start, end) whose byte hash is h: one string per distinct key. */
  private internKey(buf: Uint8Array, start: number, end: number, h: number): string {
    const n = end - start;
    let list = this.keys.get(h);
    if (list) {
      for (const key of list) {
        if (key.length !== n) continue;
        let j = 0;
        while (j < n && key.charCodeAt(j) === buf[start + j]) j++;
        if (j === n) return key;
      }
    }
    const key = Buffer.from(buf.buffer, buf.byteOffset + start, n).toString('latin1');
    if (this.keyCount >= fieldKeysCachedMax) {
      this.keys.clear();
      this.keyCount = 0;
      list = undefined;
    }
    if (!list) {
      list = [];
      this.keys.set(h, list);
    }
    list.push(key);
    this.keyCount++;
    return key;
  }

  /** Measurement and tags of [start, end) (end: the space before the fields, or the line's end). */
  private parseSeries(buf: Uint8Array, start: number, end: number): Series {
    let i = start;
    let esc = false;
    for (; i < end; i++) {
      const c = buf[i] as number;
      if (c === BACKSLASH && i + 1 < end) {
        esc = true;
        i++;
        continue;
      }
      if (c === COMMA) break;
    }
    if (i === start) this.fail(i, 'missing measurement');
    const measurement = esc ? unescape(buf, start, i, false) : text(buf, start, i);
    const tagKeys: string[] = [];
    const tagValues: string[] = [];
    while (i < end) {
      // buf[i] is the comma before a tag.
      i++;
      const k0 = i;
      let kesc = false;
      for (; i < end; i++) {
        const c = buf[i] as number;
        if (c === BACKSLASH && i + 1 < end) {
          kesc = true;
          i++;
          continue;
        }
        if (c === EQ || c === COMMA) break;
      }
      if (i === k0) this.fail(i, 'missing tag key');
      if (i === end || buf[i] !== EQ) this.fail(i, 'missing tag value');
      const k1 = i;
      i++;
      const v0 = i;
      let vesc = false;
      for (; i < end; i++) {
        const c = buf[i] as number;
        if (c === BACKSLASH && i + 1 < end) {
          vesc = true;
          i++;
          continue;
        }
        if (c === COMMA) break;
        if (c === EQ) this.fail(i, 'invalid tag format: "=" in a tag value must be escaped');
      }
      if (i === v0) this.fail(i, 'missing tag value');
      const key = kesc ? unescape(buf, k0, k1, true) : text(buf, k0, k1);
      if (tagKeys.includes(key)) this.fail(i, `duplicate tags: "${key}" given twice`);
      if (tagKeys.length >= lineTagsMax) this.fail(i, `too many tags: at most ${lineTagsMax} per line`);
      tagKeys.push(key);
      tagValues.push(vesc ? unescape(buf, v0, i, true) : text(buf, v0, i));
    }
    return { measurement, tagKeys, tagValues };
  }

  /** The field section starting at `i`; returns the position after it (a space or the line's end). */
  private parseFields(buf: Uint8Array, i: number, end: number): number {
    const p = this.parsed;
    p.fieldCount = 0;
    for (;;) {
      const k0 = i;
      let kesc = false;
      let h = 0;
      let high = 0;
      for (; i < end; i++) {
        const c = buf[i] as number;
        if (c === BACKSLASH && i + 1 < end && buf[i + 1] !== NL) {
          kesc = true;
          i++;
          continue;
        }
        if (c === EQ || c === COMMA || c === SPACE || c === NL || c === 0) break;
        h = (Math.imul(h, 31) + c) | 0;
        high |= c;
      }
      if (i < end && buf[i] === 0) this.fail(i, 'NUL character in a field key');
      if (i === k0) this.fail(i, i < end && buf[i] === EQ ? 'missing field key' : 'invalid field format');
      if (i === end || buf[i] !== EQ) this.fail(i, 'invalid field format: a field needs "key=value"');
      const key = kesc
        ? unescape(buf, k0, i, true)
        : high < 128
          ? this.internKey(buf, k0, i, h)
          : text(buf, k0, i);
      i++;
      // The slot for this key: a key given twice keeps its last value.
      let f = 0;
      while (f < p.fieldCount && p.fieldKeys[f] !== key) f++;
      if (f === p.fieldCount) {
        if (f >= lineFieldsMax) this.fail(i, `too many fields: at most ${lineFieldsMax} per line`);
        p.fieldKeys[f] = key;
        p.fieldCount++;
      }
      i = this.fieldValue(buf, i, end, f);
      if (i < end && buf[i] === COMMA) {
        i++;
        continue;
      }
      return i;
    }
  }

  /** The value at `i` into field slot f; returns the position after it. */
  private fieldValue(buf: Uint8Array, i: number, end: number, f: number): number {
    const p = this.parsed;
    p.fieldBigints[f] = null;
    if (i < end && buf[i] === QUOTE) {
      i++;
      const v0 = i;
      let esc = false;
      let newlines = 0;
      for (; i < end; i++) {
        const c = buf[i] as number;
        if (c === BACKSLASH && i + 1 < end) {
          esc = true;
          if (buf[i + 1] === NL) newlines++;
          i++;
          continue;
        }
        if (c === QUOTE) break;
        if (c === NL) newlines++;
        else if (c === 0) this.fail(i, 'NUL character in a string field');
      }
      if (i === end) this.fail(i, 'unbalanced quotes', true);
      this.newlinesInStrings += newlines;
      p.fieldKinds[f] = FieldKind.String;
      p.fieldStrings[f] = esc ? unescapeString(buf, v0, i) : text(buf, v0, i);
      i++;
      if (!(i === end || buf[i] === COMMA || buf[i] === SPACE || ParserState.atLineEnd(buf, i, end)))
        this.fail(i, 'invalid field format: text after a closing quote');
      return i;
    }
    const v0 = i;
    while (i < end) {
      const c = buf[i] as number;
      if (c === COMMA || c === SPACE || ParserState.atLineEnd(buf, i, end)) break;
      i++;
    }
    if (i === v0) this.fail(i, 'missing field value');
    const c0 = buf[v0] as number;
    const last = buf[i - 1] as number;
    if (c0 === 116 || c0 === 84 || c0 === 102 || c0 === 70) {
      // t T f F …
      const b = boolValue(buf, v0, i);
      if (b === null) this.fail(v0, 'invalid boolean');
      p.fieldKinds[f] = FieldKind.Boolean;
      p.fieldNumbers[f] = b ? 1 : 0;
      return i;
    }
    if (!(c0 === MINUS || c0 === DOT || (c0 >= 48 && c0 <= 57)))
      this.fail(v0, 'invalid field value: not a number, boolean or quoted string');
    if (last === 105 /* i */ || last === 117 /* u */) {
      const unsigned = last === 117;
      let d = v0;
      const neg = buf[d] === MINUS;
      if (neg) {
        if (unsigned) this.fail(v0, 'invalid number: an unsigned integer cannot be negative');
        d++;
      }
      if (d === i - 1) this.fail(v0, 'invalid number');
      let n = 0;
      for (let k = d; k < i - 1; k++) {
        const dg = (buf[k] as number) - 48;
        if (dg < 0 || dg > 9) this.fail(v0, 'invalid number');
        n = n * 10 + dg;
      }
      p.fieldKinds[f] = unsigned ? FieldKind.Unsigned : FieldKind.Integer;
      if (n <= maxSafe) {
        p.fieldNumbers[f] = neg ? -n : n;
        return i;
      }
      const digits = text(buf, v0, i - 1);
      const big = BigInt(digits);
      if (unsigned ? big > uint64Max : big > int64Max || big < int64Min)
        this.fail(
          v0,
          `unable to parse ${unsigned ? 'unsigned integer' : 'integer'} ${digits}: value out of range`,
        );
      p.fieldBigints[f] = big;
      return i;
    }
    if (!floatSyntax(buf, v0, i)) this.fail(v0, 'invalid number');
    const x =
      plainDecimal(buf, v0, i) ??
      Number(Buffer.from(buf.buffer, buf.byteOffset + v0, i - v0).toString('latin1'));
    if (!Number.isFinite(x)) this.fail(v0, 'invalid float: out of the range of a float8');
    p.fieldKinds[f] = FieldKind.Float;
    p.fieldNumbers[f] = x;
    return i;
  }

  /** A timestamp token [t0, t1) in the precision, as microseconds. */
  private timestamp(buf: Uint8Array, t0: number, t1: number, precision: Precision): number {
    let d = t0;
    const neg = buf[d] === MINUS;
    if (neg) d++;
    if (d === t1) this.fail(t0, 'bad timestamp');
    for (let k = d; k < t1; k++) {
      const c = buf[k] as number;
      if (c < 48 || c > 57) this.fail(t0, 'bad timestamp');
    }
    // Leading zeros do not count toward the digits a value may have.
    while (d < t1 - 1 && buf[d] === 48) d++;
    let us: number;
    if (precision === 'ns') {
      // µs = floor(ns / 1000): the digits but the last three, exactly, then the rounding.
      let hi = 0;
      let lo = 0;
      const cut = t1 - 3;
      for (let k = d; k < t1; k++) {
        const dg = (buf[k] as number) - 48;
        if (k < cut) hi = hi * 10 + dg;
        else lo = lo * 10 + dg;
      }
      if (hi > maxSafe)
        this.fail(
          t0,
          'bad timestamp: out of the range this database keeps (microseconds within ±(2^53 − 1))',
        );
      us = neg ? -hi - (lo > 0 ? 1 : 0) : hi;
    } else {
      let n = 0;
      for (let k = d; k < t1; k++) n = n * 10 + ((buf[k] as number) - 48);
      us = (neg ? -n : n) * unitUs[precision];
      if (n > maxSafe || !(Math.abs(us) <= maxSafe))
        this.fail(
          t0,
          'bad timestamp: out of the range this database keeps (microseconds within ±(2^53 − 1))',
        );
    }
    return us === 0 ? 0 : us; // no -0
  }
}

/** `"…"` contents with `\"` and `\\` unescaped (other backslashes stay). */
function unescapeString(buf: Uint8Array, start: number, end: number): string {
  let out = '';
  let from = start;
  for (let k = start; k < end - 1; k++) {
    if (buf[k] !== BACKSLASH) continue;
    const n = buf[k + 1] as number;
    if (n === QUOTE || n === BACKSLASH) {
      out += text(buf, from, k);
      from = k + 1;
    }
    k++;
  }
  return out + text(buf, from, end);
}

const trueWords = ['t', 'T', 'true', 'True', 'TRUE'];
const falseWords = ['f', 'F', 'false', 'False', 'FALSE'];

function boolValue(buf: Uint8Array, start: number, end: number): boolean | null {
  const n = end - start;
  if (n > 5) return null;
  const w = Buffer.from(buf.buffer, buf.byteOffset + start, n).toString('latin1');
  if (trueWords.includes(w)) return true;
  if (falseWords.includes(w)) return false;
  return null;
}

/** -?(digits[.digits*] | .digits)([eE][+-]?digits)? — InfluxDB's float literals. */
function floatSyntax(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  if (buf[i] === MINUS) i++;
  let digits = 0;
  while (i < end && isDigit(buf[i] as number)) {
    i++;
    digits++;
  }
  if (i < end && buf[i] === DOT) {
    i++;
    while (i < end && isDigit(buf[i] as number)) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return false;
  if (i < end && (buf[i] === 101 || buf[i] === 69)) {
    i++;
    if (i < end && (buf[i] === 43 || buf[i] === MINUS)) i++;
    let e = 0;
    while (i < end && isDigit(buf[i] as number)) {
      i++;
      e++;
    }
    if (e === 0) return false;
  }
  return i === end;
}

const powersOf10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * A float literal without exponent of at most 15 digits, computed as digits / 10^fraction: both
 * are exact doubles, so the one division rounds correctly (Clinger's fast path) and equals
 * Number(text). Null for other literals (the caller uses Number()).
 */
function plainDecimal(buf: Uint8Array, start: number, end: number): number | null {
  let i = start;
  const neg = buf[i] === MINUS;
  if (neg) i++;
  let m = 0;
  let frac = -1;
  let digits = 0;
  for (; i < end; i++) {
    const c = buf[i] as number;
    if (c === DOT) {
      frac = 0;
      continue;
    }
    if (c < 48 || c > 57 || ++digits > 15) return null;
    m = m * 10 + (c - 48);
    if (frac >= 0) frac++;
  }
  const x = frac > 0 ? m / (powersOf10[frac] as number) : m;
  return neg ? -x : x;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
