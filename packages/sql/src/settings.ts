/**
 * Cluster settings (`SET/SHOW/RESET CLUSTER SETTING`, KWDB's and CockroachDB's syntax). Values live
 * in the replicated system keyspace (`/System/setting/<name>`), so they survive restarts and every
 * node sees them; each node caches them and drops the cache when one is written.
 *
 * Only settings that take effect are registered — an unknown name is an error (42704), not a
 * silently ignored value.
 */
import { PgError, SqlState } from '@strata/common';
import { systemKey } from '@strata/kv';

export interface SettingDef {
  name: string;
  /** Canonical text of the default value. */
  default: string;
  description: string;
  /** Checks a value and returns its canonical text. */
  parse(v: string): string;
}

const byteUnits: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

/** Bytes: a number, or a number with a unit (KB/MB/GB/TB powers of 1000, KiB/MiB/GiB/TiB of 1024). */
export function parseBytes(name: string, v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  const unit = byteUnits[(m?.[2] ?? '').toLowerCase() || 'b'];
  if (!m || unit === undefined) throw new PgError(SqlState.InvalidParameterValue, `invalid value for cluster setting "${name}": "${v}" (expected a size such as 0, 500MiB or 10GB)`);
  const n = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n)) throw new PgError(SqlState.InvalidParameterValue, `value for cluster setting "${name}" is out of range: "${v}"`);
  return n;
}

export const dedupRules = ['override', 'merge', 'keep', 'discard', 'reject'] as const;
export type DedupRuleSetting = (typeof dedupRules)[number];

export const settingDefs: SettingDef[] = [
  {
    name: 'ts.dedup.rule',
    default: 'override',
    description:
      'rows of one device with equal timestamps: override (the last written wins), merge (each column takes its last non-NULL value), discard (the first written wins), keep (all stay), reject (a statement repeating a timestamp fails with 23505 and writes nothing)',
    parse(v) {
      const x = v.trim().toLowerCase();
      if (!(dedupRules as readonly string[]).includes(x)) throw new PgError(SqlState.InvalidParameterValue, `invalid value for cluster setting "${this.name}": "${v}" (one of ${dedupRules.join(', ')})`);
      return x;
    },
  },
  {
    name: 'ts.disk_free_space.alert_threshold',
    default: '0',
    description: 'time-series writes are refused (53100) while the store has less free disk space than this many bytes; 0 = off',
    parse(v) {
      return String(parseBytes(this.name, v));
    },
  },
];

const defs = new Map(settingDefs.map((d) => [d.name, d]));

export function settingDef(name: string): SettingDef {
  const d = defs.get(name.toLowerCase());
  if (!d) throw new PgError(SqlState.UndefinedObject, `unknown cluster setting "${name}"`, { hint: `known settings: ${settingDefs.map((x) => x.name).join(', ')}` });
  return d;
}

export function settingKey(name: string): Buffer {
  return systemKey('setting', name);
}
