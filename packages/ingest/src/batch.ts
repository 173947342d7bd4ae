/**
 * A request's parsed lines, grouped by measurement and held column-wise until the tables they go
 * to are known: per measurement its rows (line number, timestamp, series), its distinct series
 * (tags parsed once) and, per field key, the rows that carry it with their kinds and values.
 * No object per row: numbers go into arrays that grow.
 */
import { FieldKind, parseLineProtocol, ParserState } from './line_protocol.js';
import type { LineSink, ParsedLine, ParseOptions, Series } from './line_protocol.js';

/** The rows of one measurement that carry one field key. Rows ascend. */
export class FieldOccurrences {
  readonly rows: number[] = [];
  readonly kinds: FieldKind[] = [];
  readonly values: (number | bigint | string)[] = [];

  constructor(
    readonly key: string,
    /** The kind of its first occurrence: a new column gets the type of the first line that has the field (InfluxDB's rule). */
    readonly firstKind: FieldKind,
  ) {}
}

export class MeasurementBatch {
  rows = 0;
  readonly lines: number[] = [];
  readonly timestampsUs: number[] = [];
  /** For each row: its index in `series`. */
  readonly seriesOf: number[] = [];
  readonly series: Series[] = [];
  private readonly seriesIndex = new Map<Series, number>();
  /** The previous line's field keys and their occurrences: lines of a measurement mostly repeat them. */
  private readonly lastKeys: string[] = [];
  private readonly lastOccs: FieldOccurrences[] = [];
  /** Field keys in the order they first appear. */
  readonly fields = new Map<string, FieldOccurrences>();
  /** Tag keys in the order they first appear. */
  readonly tagKeys = new Set<string>();

  constructor(readonly name: string) {}

  add(p: ParsedLine): void {
    const r = this.rows++;
    this.lines.push(p.line);
    this.timestampsUs.push(p.timestampUs);
    let s = this.seriesIndex.get(p.series);
    if (s === undefined) {
      s = this.series.length;
      this.series.push(p.series);
      this.seriesIndex.set(p.series, s);
      for (const k of p.series.tagKeys) this.tagKeys.add(k);
    }
    this.seriesOf.push(s);
    for (let f = 0; f < p.fieldCount; f++) {
      const key = p.fieldKeys[f] as string;
      const kind = p.fieldKinds[f] as FieldKind;
      let occ: FieldOccurrences | undefined;
      if (this.lastKeys[f] === key) occ = this.lastOccs[f] as FieldOccurrences;
      else {
        occ = this.fields.get(key);
        if (!occ) {
          occ = new FieldOccurrences(key, kind);
          this.fields.set(key, occ);
        }
        this.lastKeys[f] = key;
        this.lastOccs[f] = occ;
      }
      occ.rows.push(r);
      occ.kinds.push(kind);
      occ.values.push(
        kind === FieldKind.String
          ? (p.fieldStrings[f] as string)
          : (p.fieldBigints[f] ?? (p.fieldNumbers[f] as number)),
      );
    }
  }
}

/** A line refused by the parser or by the mapping onto its table. */
export interface RejectedLine {
  line: number;
  message: string;
}

/** A request body parsed: measurements in the order they first appear, and the malformed lines. */
export class RequestBatch implements LineSink {
  readonly measurements = new Map<string, MeasurementBatch>();
  readonly malformed: RejectedLine[] = [];
  /** Lines parsed into rows. */
  points = 0;

  point(p: ParsedLine): void {
    const name = p.series.measurement;
    let m = this.measurements.get(name);
    if (!m) {
      m = new MeasurementBatch(name);
      this.measurements.set(name, m);
    }
    m.add(p);
    this.points++;
  }

  error(line: number, text: string, reason: string): void {
    this.malformed.push({ line, message: `unable to parse '${text}': ${reason} (line ${line})` });
  }
}

/** Parses a whole body into a RequestBatch. */
export function parseBody(body: Uint8Array, opts: ParseOptions): RequestBatch {
  const b = new RequestBatch();
  parseLineProtocol(body, opts, b, new ParserState());
  return b;
}
