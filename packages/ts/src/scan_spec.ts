/**
 * A time-series scan as a request: what the SQL layer asks of a range's entity group (plain data,
 * in the caller's schema identity — tags and columns by id), evaluated where the group lives
 * (the range's leaseholder), answered in pages of whole entities. The group's own layout may
 * differ from the caller's (a schema change not yet applied there, or applied and not yet seen by
 * the caller): tags are returned in the caller's tag layout, columns in the group's layout, which
 * the page names.
 */
import type { ColumnData, ColumnType } from './block.js';
import type { TsValue } from './command.js';
import type { DedupRule } from './columns.js';
import { convertValue, remapValues } from './schema.js';
import type { BlockHeader } from './block.js';
import type { BlockPrune, TsTable } from './table.js';

export type TsPruneOp = '>' | '>=' | '<' | '<=' | '=';

export interface TsScanSpec {
  tableId: number;
  /** Inclusive time bounds, microseconds. */
  lo: bigint;
  hi: bigint;
  /** The caller's tag layout: ids and types (entities, filters and returned tags use it). */
  tagIds: number[];
  tagTypes: ColumnType[];
  /** Full tag vectors (caller layout, non-primary positions NULL) of the devices to read; null: all. */
  entities: TsValue[][] | null;
  /** = / IN on tags: a device is read only if its tag equals one of the values. */
  tagFilters: { tagId: number; allowed: TsValue[] }[];
  /** A tag index to probe (tag ids, each pinned by tagFilters), if the caller may use one. */
  tagIndex: number[] | null;
  /** Column ids to decode (null: all; the timestamp always is). */
  columnIds: number[] | null;
  /** The caller's column layout: blocks are answered from headers only where the group's equals it. */
  columnLayout: { ids: number[]; types: ColumnType[] };
  /** Integer comparisons with constants: blocks whose header min/max rule every row out are skipped. */
  prune: { columnId: number; op: TsPruneOp; value: number }[];
  dedup: DedupRule;
  /** Only the newest row of each device. */
  latestOnly: boolean;
}

export interface TsScanBatch {
  entityId: number;
  /** Tag values in the caller's layout (spec.tagIds). */
  tags: TsValue[];
  /** Columns in the group's layout (page.layout). */
  columns: ColumnData[];
}

export interface TsScanPage {
  /** The group's column layout (ids, types) the batches' columns are in; null: no group here. */
  layout: { ids: number[]; types: ColumnType[] } | null;
  batches: TsScanBatch[];
  /** The last entity of this page when more may follow (the next page starts after it); null: done. */
  resumeAfter: number | null;
}

/**
 * Answers a block from its header instead of its rows (header aggregates), given the device's tags
 * in the caller's layout. A function, not data: only a caller in the same process passes one (a
 * remote caller's scan decodes those blocks instead).
 */
export type TsHeaderSummarizer = (tags: TsValue[], h: BlockHeader, positions: number[], types: ColumnType[]) => boolean;

const pruneTests: Record<TsPruneOp, (min: number, max: number, c: number) => boolean> = {
  '>': (_min, max, c) => max > c,
  '>=': (_min, max, c) => max >= c,
  '<': (min, _max, c) => min < c,
  '<=': (min, _max, c) => min <= c,
  '=': (min, max, c) => min <= c && c <= max,
};

/** Tag-index probes at most per scan (more value combinations: the tags are filtered one by one). */
const tagIndexCombosMax = 10_000;

function* cartesian(lists: TsValue[][]): Generator<TsValue[]> {
  if (lists.length === 0) {
    yield [];
    return;
  }
  const [first, ...rest] = lists as [TsValue[], ...TsValue[][]];
  for (const v of first) for (const tail of cartesian(rest)) yield [v, ...tail];
}

/** The devices of a group the spec selects, in entity id order. */
function selectEntities(group: TsTable, spec: TsScanSpec): number[] {
  const tags = group.tags;
  if (!tags) return spec.entities ? [] : group.entities();
  let ids: number[] | null = null;
  if (spec.entities) {
    const set = new Set<number>();
    for (const c of spec.entities) {
      const id = tags.lookup(remapValues(c, spec.tagIds, spec.tagTypes, tags.ids, tags.types));
      if (id !== undefined) set.add(id);
    }
    ids = [...set].sort((a, b) => a - b);
  }
  if (spec.tagFilters.length > 0) {
    // The allowed values in the group's tag types, by the group's tag positions.
    const filters = spec.tagFilters.map((f) => {
      const pos = tags.ids.indexOf(f.tagId);
      const from = spec.tagTypes[spec.tagIds.indexOf(f.tagId)] as ColumnType;
      const to = tags.types[pos] as ColumnType;
      return { pos, allowed: pos < 0 ? [] : f.allowed.map((v) => convertValue(v, from, to)).filter((v) => v !== null) };
    });
    let candidates: number[] | null = null;
    if (!ids && spec.tagIndex) {
      const positions = spec.tagIndex.map((id) => tags.ids.indexOf(id));
      const lists = positions.map((p) => filters.find((f) => f.pos === p)?.allowed ?? []);
      const combos = lists.reduce((n, l) => n * l.length, 1);
      if (positions.every((p) => p >= 0) && combos <= tagIndexCombosMax) {
        const set = new Set<number>();
        for (const combo of cartesian(lists)) for (const id of tags.lookupBy(positions, combo)) set.add(id);
        candidates = [...set].sort((a, b) => a - b);
      }
    }
    const all = ids ?? candidates ?? Array.from({ length: tags.entityCount() }, (_x, i) => i + 1);
    ids = all.filter((id) => {
      const vals = tags.tagsOf(id) ?? [];
      return filters.every((f) => f.pos >= 0 && f.allowed.some((a) => a === vals[f.pos]));
    });
  }
  return ids ?? group.entities();
}

/**
 * One page of a scan of a group: whole devices, in entity id order, after `after`, until about
 * `rowsMax` rows. `summarize` (in-process callers only) may answer blocks from their headers.
 */
export function scanGroup(group: TsTable | undefined, spec: TsScanSpec, after: number | null, rowsMax: number, summarize: TsHeaderSummarizer | null): TsScanPage {
  if (!group) return { layout: null, batches: [], resumeAfter: null };
  const layout = { ids: group.layout.ids.slice(), types: group.layout.types.slice() };
  const tags = group.tags;
  const callerTags = (id: number): TsValue[] => {
    const raw = tags?.tagsOf(id) ?? [];
    return tags ? remapValues(raw, tags.ids, tags.types, spec.tagIds, spec.tagTypes) : raw;
  };
  const entities = selectEntities(group, spec).filter((id) => after === null || id > after);
  const positionOf = (columnId: number) => layout.ids.indexOf(columnId);
  const columns = spec.columnIds ? new Set(spec.columnIds.map(positionOf).filter((p) => p >= 0)) : null;
  const prune: BlockPrune[] = [];
  for (const p of spec.prune) {
    const col = positionOf(p.columnId);
    const test = pruneTests[p.op];
    if (col < 0 || !Number.isSafeInteger(p.value)) continue;
    prune.push({ col, test: (min, max) => test(min, max, p.value) });
  }
  // The newest-row shortcut picks the last written row among equal timestamps: right for override
  // (and keep, where any is right); merge and discard need the full resolution.
  const latest = spec.latestOnly && (spec.dedup === 'override' || spec.dedup === 'keep') && !group.hasDeletes();
  const sameLayout = layout.ids.length === spec.columnLayout.ids.length && layout.ids.every((id, i) => id === spec.columnLayout.ids[i] && layout.types[i] === spec.columnLayout.types[i]);
  const summarizer = summarize && sameLayout && prune.length === 0 ? (id: number, h: BlockHeader, positions: number[], types: ColumnType[]) => summarize(callerTags(id), h, positions, types) : null;
  const batches: TsScanBatch[] = [];
  let rows = 0;
  for (let i = 0; i < entities.length; i++) {
    const id = entities[i] as number;
    const source = latest ? group.latest([id]) : group.scan([id], spec.lo, spec.hi, { columns, dedup: spec.dedup, prune: prune.length > 0 ? prune : null, summarize: summarizer });
    for (const b of source) {
      batches.push({ entityId: b.entityId, tags: callerTags(b.entityId), columns: b.columns });
      rows += b.columns[0]?.values.length ?? 0;
    }
    if (rows >= rowsMax && i < entities.length - 1) return { layout, batches, resumeAfter: id };
  }
  return { layout, batches, resumeAfter: null };
}

