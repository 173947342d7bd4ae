/**
 * A TSBS "devops cpu-only" data generator: hosts with TSBS's 10 tags, one reading every 10 s
 * per host with 10 integer usage_* fields as random walks clamped to [0, 100]. Seeded, so every
 * system gets the same rows. Rows come in time order, all hosts per timestamp (as TSBS writes).
 */
import { mulberry32 } from '@strata/raft';

export const fields = [
  'usage_user',
  'usage_system',
  'usage_idle',
  'usage_nice',
  'usage_iowait',
  'usage_irq',
  'usage_softirq',
  'usage_steal',
  'usage_guest',
  'usage_guest_nice',
] as const;

export const tagNames = ['hostname', 'region', 'datacenter', 'rack', 'os', 'arch', 'team', 'service', 'service_version', 'service_environment'] as const;

export const intervalMs = 10_000;
export const startMs = Date.UTC(2016, 0, 1);

/** The seeded PRNG (mulberry32) the Raft simulator uses too. */
export const rng = mulberry32;

const regions = ['us-east-1', 'us-west-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-northeast-1', 'sa-east-1'];

export type Host = string[]; // tag values in tagNames order

export function hosts(n: number): Host[] {
  const r = rng(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  return Array.from({ length: n }, (_, i) => {
    const region = pick(regions);
    return [
      `host_${i}`,
      region,
      `${region}${pick(['a', 'b', 'c'])}`,
      String(Math.floor(r() * 100)),
      pick(['Ubuntu16.10', 'Ubuntu16.04LTS', 'Ubuntu15.10']),
      pick(['x64', 'x86']),
      pick(['SF', 'NYC', 'LON', 'CHI']),
      String(Math.floor(r() * 20)),
      String(Math.floor(r() * 2)),
      pick(['production', 'staging', 'test']),
    ];
  });
}

export interface Reading {
  ms: number;
  host: number;
  values: number[];
}

/** Every reading of `hostCount` hosts over `hours`, in time order. */
export function* readings(hostCount: number, hours: number): Generator<Reading> {
  const r = rng(7);
  const state = Array.from({ length: hostCount }, () => fields.map(() => Math.floor(r() * 100)));
  const steps = (hours * 3600_000) / intervalMs;
  for (let s = 0; s < steps; s++) {
    const ms = startMs + s * intervalMs;
    for (let h = 0; h < hostCount; h++) {
      const v = state[h] as number[];
      for (let f = 0; f < v.length; f++) v[f] = Math.max(0, Math.min(100, (v[f] as number) + Math.floor(r() * 11) - 5));
      yield { ms, host: h, values: v.slice() };
    }
  }
}

export const isoOf = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('.000Z', '+00');
