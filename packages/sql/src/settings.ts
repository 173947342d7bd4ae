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
import { Codec, blockRowsMax } from '@strata/ts';
import type { TsStorage } from '@strata/ts';
import { parseHba } from './auth/hba.js';

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

function intSetting(name: string, def: number, min: number, max: number, description: string): SettingDef {
  return {
    name,
    default: String(def),
    description,
    parse(v) {
      const n = Number(v.trim());
      if (!Number.isInteger(n) || n < min || n > max) throw new PgError(SqlState.InvalidParameterValue, `invalid value for cluster setting "${name}": "${v}" (an integer in [${min}, ${max}])`);
      return String(n);
    },
  };
}

function choiceSetting(name: string, def: string, choices: Record<string, string>, refused: string[], description: string): SettingDef {
  return {
    name,
    default: def,
    description,
    parse(v) {
      const x = v.trim().toLowerCase();
      if (refused.includes(x)) throw new PgError(SqlState.FeatureNotSupported, `${name} = '${x}' is not supported by this build (supported: ${[...new Set(Object.values(choices))].join(', ')})`);
      const c = choices[x];
      if (c === undefined) throw new PgError(SqlState.InvalidParameterValue, `invalid value for cluster setting "${name}": "${v}" (one of ${Object.keys(choices).join(', ')})`);
      return c;
    },
  };
}

settingDefs.push(
  intSetting('ts.rows_per_block.max_limit', 1000, 10, blockRowsMax, 'rows per time-series block at most (new blocks; a block is the unit of compression and of header-level skipping)'),
  intSetting('ts.blocks_per_segment.max_limit', 1000, 1, 1_000_000, 'blocks per time-series segment file at most (new segments)'),
  choiceSetting('ts.compression.type', 'lz4', { lz4: 'lz4', gzip: 'gzip', zlib: 'gzip', disabled: 'disabled' }, ['lzma', 'lzo', 'xz', 'zstd', 'snappy'], 'compression of new time-series blocks after the type-aware encodings: lz4 (fast), gzip (zlib deflate: smaller, slower), disabled'),
  choiceSetting('ts.compression.level', 'middle', { low: 'low', l: 'low', middle: 'middle', medium: 'middle', m: 'middle', high: 'high', h: 'high' }, [], 'gzip level: low = 1, middle = 6, high = 9 (lz4 ignores it)'),
  choiceSetting('ts.auto_vacuum.enabled', 'true', { true: 'true', on: 'true', false: 'false', off: 'false' }, [], 'the periodic reorganization of inactive partitions (sort, deduplicate, drop deleted rows, recompress); COMPRESS runs it on demand either way'),
  intSetting('ts.ranges_per_table', 0, 0, 64, 'hash-point ranges a new time-series table is split into at CREATE TABLE (0: 5 in a cluster, as KWDB, and 1 — not split — on a single node); each range has its own leaseholder'),
  intSetting('immediate_compression.threads', 3, 1, 64, 'worker threads that encode blocks while COMPRESS and the periodic reorganization rewrite partitions'),
);

// Host-based authentication rules (auth/hba.ts): checked when set, applied at the next login.
settingDefs.push({
  name: 'server.host_based_authentication.configuration',
  default: '',
  description: 'host-based authentication rules in pg_hba.conf syntax, tried in order at every login over TLS (empty: hostssl all all all cert-password); root may always log in with its certificate',
  parse(v) {
    parseHba(v);
    return v;
  },
});

/** Bounds of server.time_until_store_dead, in seconds (30 s for tests; a day at most). */
const storeDeadSecondsMin = 30;
const storeDeadSecondsMax = 24 * 60 * 60;
const durationUnits: Record<string, number> = { h: 3600, m: 60, s: 1 };

// Cluster membership (@strata/cluster's liveness reads it at each refresh; single-node: no effect).
settingDefs.push({
  name: 'server.time_until_store_dead',
  default: '300s',
  description: 'how long a node may be unreachable (no liveness heartbeat) before its replicas are placed on other nodes; 30s to 24h',
  parse(v) {
    const text = v.trim().toLowerCase();
    let seconds = 0;
    if (/^\d+$/.test(text)) seconds = Number(text);
    else {
      const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)];
      if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
        throw new PgError(SqlState.InvalidParameterValue, `invalid value for cluster setting "${this.name}": "${v}" (a duration such as 30s, 5m or 1h30m)`);
      }
      for (const p of parts) seconds += Number(p[1]) * (durationUnits[p[2] as string] as number);
    }
    seconds = Math.round(seconds);
    if (seconds < storeDeadSecondsMin || seconds > storeDeadSecondsMax) {
      throw new PgError(SqlState.InvalidParameterValue, `cluster setting "${this.name}" must be between ${storeDeadSecondsMin}s and ${storeDeadSecondsMax}s: "${v}"`);
    }
    return `${seconds}s`;
  },
});

const defs = new Map(settingDefs.map((d) => [d.name, d]));

/** The storage settings TS writes carry to the engine (command.ts TsStorage). */
export function tsStorageOf(setting: (name: string) => string): TsStorage {
  const type = setting('ts.compression.type');
  const level = setting('ts.compression.level');
  return {
    rowsPerBlock: Number(setting('ts.rows_per_block.max_limit')),
    blocksPerSegment: Number(setting('ts.blocks_per_segment.max_limit')),
    codec: type === 'gzip' ? Codec.Deflate : type === 'disabled' ? Codec.Plain : Codec.Lz4,
    level: level === 'low' ? 1 : level === 'high' ? 9 : 6,
  };
}

export function settingDef(name: string): SettingDef {
  const d = defs.get(name.toLowerCase());
  if (!d) throw new PgError(SqlState.UndefinedObject, `unknown cluster setting "${name}"`, { hint: `known settings: ${settingDefs.map((x) => x.name).join(', ')}` });
  return d;
}

export function settingKey(name: string): Buffer {
  return systemKey('setting', name);
}
