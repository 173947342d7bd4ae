/**
 * The order of enum labels (CREATE TYPE … AS ENUM; catalog/user_types.ts), for compareValues,
 * which has no catalog: each CatalogView built registers its enums' labels here.
 *
 * Why a process-wide registry is safe: a label's sort order never changes once the label exists
 * (ALTER TYPE … ADD VALUE gives a new label a position between or after existing ones; RENAME
 * VALUE and dropping labels are not supported), enum OIDs are never reused, and a label from an
 * uncommitted ADD VALUE can only be compared where it can be read — so entries only ever grow
 * and every reader sees the same order for the labels it can hold.
 * Bound: one entry per label of every enum ever seen by this process (enums are catalog objects:
 * few, small).
 */
const orders = new Map<number, Map<string, number>>();

export function registerEnumOrder(id: number, labels: { label: string; sortOrder: number }[]): void {
  let m = orders.get(id);
  if (!m) orders.set(id, (m = new Map()));
  for (const l of labels) m.set(l.label, l.sortOrder);
}

/** Compares two labels of enum `id` by their declared order (labels unknown here sort by text, last). */
export function compareEnumLabels(id: number, a: string, b: string): number {
  const m = orders.get(id);
  const x = m?.get(a);
  const y = m?.get(b);
  if (x !== undefined && y !== undefined) return x < y ? -1 : x > y ? 1 : 0;
  if (x !== undefined) return -1;
  if (y !== undefined) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
