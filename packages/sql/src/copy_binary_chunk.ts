/**
 * One chunk of a binary COPY into a TS table, parsed off the event loop (copy_worker.ts): whole
 * tuples in — the event loop's BinaryCopyParser found their boundaries and checked their framing
 * (header, field counts, field sizes, trailer), so errors of the format are raised there, as
 * before — the rows' data columns out, grouped by their tag fields' bytes (copy_chunk.ts's layout).
 *
 * INVARIANT (same values, same errors): data fields go through the event loop's own binary fast
 * parsers (fastBinaryParser); a field they do not take, or NULL in a NOT NULL column, makes the
 * chunk bail and the event loop decodes its tuples the ordinary way (TsCopyBatch.addTuple).
 */
import { Bail, TagGroups, pack } from './copy_chunk.js';
import type { TsChunk, TsChunkSpec } from './copy_chunk.js';
import { fastBinaryParser } from './copy_fast_fields.js';
import type { BinaryFieldParser } from './copy_fast_fields.js';
import type { ColumnDesc } from './catalog/descriptors.js';

/** Can a binary COPY into these data columns run in workers (every one has a binary fast parser)? */
export function binaryChunkableColumns(columns: Pick<ColumnDesc, 'type'>[]): boolean {
  return columns.every((c) => fastBinaryParser(c) !== null);
}

/**
 * The key TsCopyBatch.binaryGroupOf builds from a tuple's tag fields: per tag, absent `\u0001`,
 * NULL `\u0002`, else its length (two UTF-16 units) and its bytes as latin1.
 */
export function binaryTagKey(fieldOfTag: number[], tags: (string | null)[]): string {
  let key = '\u0003';
  fieldOfTag.forEach((fi, k) => {
    const t = tags[k] ?? null;
    key += fi < 0 ? '\u0001' : t === null ? '\u0002' : String.fromCharCode(t.length & 0xffff, t.length >>> 16) + t;
  });
  return key;
}

/**
 * Parses whole tuples into column groups (tag fields carried as their raw bytes in latin1, for
 * the event loop to decode once per group); null when the event loop must decode the chunk.
 */
export function parseTsBinaryChunk(spec: TsChunkSpec, bytes: Uint8Array): TsChunk | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fast = spec.columns.map((c) => fastBinaryParser(c) as BinaryFieldParser);
  const n = spec.fields;
  const starts = new Int32Array(n);
  const lengths = new Int32Array(n);
  const tags = new TagGroups();
  let rows = 0;
  try {
    for (let o = 0; o < b.length; ) {
      if (o + 2 > b.length || b.readInt16BE(o) !== n) throw new Bail();
      o += 2;
      for (let i = 0; i < n; i++) {
        if (o + 4 > b.length) throw new Bail();
        const len = b.readInt32BE(o);
        starts[i] = o + 4;
        lengths[i] = len;
        o += 4 + (len < 0 ? 0 : len);
      }
      if (o > b.length) throw new Bail();
      rows++;
      tags.begin();
      for (const fi of spec.fieldOfTag) {
        if (fi < 0) tags.add(1, b, 0, 0);
        else if ((lengths[fi] as number) < 0) tags.add(2, b, 0, 0);
        else tags.add(0, b, starts[fi] as number, (starts[fi] as number) + (lengths[fi] as number));
      }
      let g = tags.find();
      if (!g) {
        const raw = spec.fieldOfTag.map((fi) => (fi < 0 || (lengths[fi] as number) < 0 ? null : b.toString('latin1', starts[fi] as number, (starts[fi] as number) + (lengths[fi] as number))));
        g = tags.create(binaryTagKey(spec.fieldOfTag, raw), raw, rows, spec.types);
      }
      for (let c = 0; c < fast.length; c++) {
        const fi = spec.fieldOfColumn[c] as number;
        const col = g.columns[c];
        if (!col) throw new Error('a group without its columns');
        const len = fi < 0 ? -1 : (lengths[fi] as number);
        if (len < 0) {
          if (!(spec.columns[c] as Pick<ColumnDesc, 'nullable'>).nullable) throw new Bail();
          col.pushNull();
        } else if (!(fast[c] as BinaryFieldParser)(col, b, starts[fi] as number, len)) throw new Bail();
      }
    }
  } catch (e) {
    if (e instanceof Bail) return null;
    throw e;
  }
  return pack(tags.order, rows);
}
