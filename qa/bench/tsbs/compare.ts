/** Rows → comparable strings: timestamps as ISO, numbers to 6 significant digits. */
export function normalizeRows(rows: Record<string, unknown>[]): string[] {
  return rows.map((r) =>
    Object.values(r)
      .map((v) => (v instanceof Date ? v.toISOString() : typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) ? Number(Number(v).toPrecision(6)).toString() : String(v)))
      .join('|'),
  );
}
