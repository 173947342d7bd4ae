/**
 * The tag table of one time-series table: primary tags → entity id, and every entity's tag values
 * (KWDB's tag table). Entity ids are dense, starting at 1, handed out in the order entities first
 * appear in applied commands — so every replica that applies the same log assigns the same ids.
 *
 * File `tags.log`: records `u32 length | u32 crc32(body) | body`, body = u32 entityId | the tag
 * values (command.ts value format). Appended as entities appear; synced by TsTable.flush(), which
 * records the synced length. open() reads only up to that length: entities created after the
 * last flush are created again, with the same ids, when the log is replayed.
 *
 * A record for an entity that already exists replaces its tag values (UPDATE of tags).
 *
 * INVARIANT: an entity's first record comes right after the previous entity's first record
 * (ids are dense, in order of creation).
 *
 * A schema change of tags (ALTER TABLE ADD/DROP/ALTER TAG) writes a new file with every entity's
 * current values in the new layout (rewrite()); the table switches to it in its meta.json.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { PgError, SqlState } from '@strata/common';
import type { ColumnType } from './block.js';
import { ByteReader, ByteWriter, readValue, writeValue } from './command.js';
import { remapValues } from './schema.js';
import type { TsValue } from './command.js';

const recordHeaderBytes = 8;

function addTo(index: Map<string, number[]>, key: string, id: number): void {
  const ids = index.get(key);
  if (ids) ids.push(id);
  else index.set(key, [id]);
}

export class TagTable {
  private readonly byKey = new Map<string, number>();
  /** entity id - 1 → tag values. */
  private readonly tags: TsValue[][] = [];
  private writeOffset = 0;
  private dirty = false;
  /**
   * Hash indexes over non-primary tags (CREATE INDEX … ON t (tag, …)), by their tag positions
   * joined with ',': key of those tags' values → entity ids. Built on first use, kept up to date
   * by entityFor() and update(); in memory only (rebuilt from the tag file after a restart).
   */
  private readonly indexes = new Map<string, { positions: number[]; map: Map<string, number[]> }>();

  private constructor(
    readonly path: string,
    private fd: number,
    readonly types: ColumnType[],
    readonly primary: number[],
    /** Stable tag ids (schema.ts). */
    readonly ids: number[],
  ) {}

  /** Opens (or creates) the tag file, reading records up to `durableBytes` and cutting the rest. */
  static open(path: string, types: ColumnType[], primary: number[], durableBytes: number, ids?: number[]): TagTable {
    const fd = openSync(path, 'a+');
    closeSync(fd);
    const t = new TagTable(path, openSync(path, 'r+'), types, primary, ids ?? types.map((_t, i) => i));
    const size = Math.min(fstatSync(t.fd).size, durableBytes);
    const buf = Buffer.alloc(size);
    if (size > 0) readSync(t.fd, buf, 0, size, 0);
    let o = 0;
    while (o + recordHeaderBytes <= size) {
      const len = buf.readUInt32BE(o);
      if (o + recordHeaderBytes + len > size) break;
      const body = buf.subarray(o + recordHeaderBytes, o + recordHeaderBytes + len);
      if ((crc32(body) >>> 0) !== buf.readUInt32BE(o + 4)) throw new PgError(SqlState.DataCorrupted, `tag table ${path}: checksum mismatch at byte ${o}`);
      const r = new ByteReader(body);
      const id = r.u32();
      if (id < 1 || id > t.tags.length + 1) throw new PgError(SqlState.DataCorrupted, `tag table ${path}: entity ${id} out of order at byte ${o}`);
      const values = types.map((ty) => readValue(r, ty));
      if (id === t.tags.length + 1) {
        t.tags.push(values);
        t.byKey.set(t.keyOf(values), id);
      } else t.tags[id - 1] = values; // an update (primary tags never change)
      o += recordHeaderBytes + len;
    }
    t.writeOffset = o;
    ftruncateSync(t.fd, o);
    return t;
  }

  /** The lookup key of a row's primary tag values. */
  keyOf(tagValues: TsValue[]): string {
    const w = new ByteWriter(32);
    for (const i of this.primary) writeValue(w, this.types[i] as ColumnType, tagValues[i] ?? null);
    return w.finish().toString('latin1');
  }

  lookup(tagValues: TsValue[]): number | undefined {
    return this.byKey.get(this.keyOf(tagValues));
  }

  /**
   * The entity of these tag values, created if new. An existing entity keeps the tag values it was
   * created with (later rows' non-primary tags are ignored; UPDATE of tags is not implemented yet).
   */
  entityFor(tagValues: TsValue[]): number {
    const key = this.keyOf(tagValues);
    const found = this.byKey.get(key);
    if (found !== undefined) return found;
    const id = this.tags.length + 1;
    const values = tagValues.slice(0, this.types.length);
    this.writeRecord(id, values);
    this.tags.push(values);
    this.byKey.set(key, id);
    for (const ix of this.indexes.values()) addTo(ix.map, this.indexKey(ix.positions, values), id);
    return id;
  }

  /** UPDATE of non-primary tags: new values for the given tag positions of an entity. */
  update(entityId: number, changes: Map<number, TsValue>): void {
    const cur = this.tags[entityId - 1];
    if (!cur) return;
    for (const i of changes.keys()) if (this.primary.includes(i)) throw new PgError(SqlState.FeatureNotSupported, 'primary tags cannot be updated');
    const values = cur.map((v, i) => (changes.has(i) ? (changes.get(i) as TsValue) : v));
    this.writeRecord(entityId, values);
    this.tags[entityId - 1] = values;
    for (const ix of this.indexes.values()) {
      const before = this.indexKey(ix.positions, cur);
      const after = this.indexKey(ix.positions, values);
      if (before === after) continue;
      const ids = ix.map.get(before);
      if (ids) ids.splice(ids.indexOf(entityId), 1);
      addTo(ix.map, after, entityId);
    }
  }

  private writeRecord(id: number, values: TsValue[]): void {
    const w = new ByteWriter(64);
    w.u32(0).u32(0).u32(id);
    values.forEach((v, i) => writeValue(w, this.types[i] as ColumnType, v));
    const rec = w.finish();
    rec.writeUInt32BE(rec.length - recordHeaderBytes, 0);
    rec.writeUInt32BE(crc32(rec.subarray(recordHeaderBytes)) >>> 0, 4);
    writeSync(this.fd, rec, 0, rec.length, this.writeOffset);
    this.writeOffset += rec.length;
    this.dirty = true;
  }

  /**
   * Writes every entity's values, converted to a new tag layout (by tag id), to a new synced file
   * and returns it open. This table stays as it was (the caller switches files in its meta).
   */
  rewrite(path: string, types: ColumnType[], ids: number[], primary: number[]): TagTable {
    rmSync(path, { force: true });
    const t = TagTable.open(path, types, primary, 0, ids);
    this.tags.forEach((vals, i) => {
      const values = remapValues(vals, this.ids, this.types, ids, types);
      t.writeRecord(i + 1, values);
      t.tags.push(values);
      t.byKey.set(t.keyOf(values), i + 1);
    });
    t.sync();
    return t;
  }

  /** Values given in another tag layout, rearranged to this table's (by tag id). */
  mapValues(values: TsValue[], fromIds: readonly number[], fromTypes: readonly ColumnType[]): TsValue[] {
    return remapValues(values, fromIds, fromTypes, this.ids, this.types);
  }

  /** The key of the tags at `positions` of a tag vector (their encoded values). */
  private indexKey(positions: number[], values: TsValue[]): string {
    const w = new ByteWriter(32);
    for (const p of positions) writeValue(w, this.types[p] as ColumnType, values[p] ?? null);
    return w.finish().toString('latin1');
  }

  /**
   * The entities whose tags at `positions` equal `values` (one value per position), through the
   * hash index on those positions — built now if this is its first use.
   */
  lookupBy(positions: number[], values: TsValue[]): readonly number[] {
    const name = positions.join(',');
    let ix = this.indexes.get(name);
    if (!ix) {
      const map = new Map<string, number[]>();
      this.tags.forEach((vals, i) => addTo(map, this.indexKey(positions, vals), i + 1));
      this.indexes.set(name, (ix = { positions: positions.slice(), map }));
    }
    const probe: TsValue[] = new Array<TsValue>(this.types.length).fill(null);
    positions.forEach((p, i) => (probe[p] = values[i] ?? null));
    return ix.map.get(this.indexKey(positions, probe)) ?? [];
  }

  tagsOf(entityId: number): TsValue[] | undefined {
    return this.tags[entityId - 1];
  }

  entityCount(): number {
    return this.tags.length;
  }

  /** Syncs and returns the durable length of the file. */
  sync(): number {
    if (this.dirty) fsyncSync(this.fd);
    this.dirty = false;
    return this.writeOffset;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
