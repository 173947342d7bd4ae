/**
 * Seeded protocol fuzz inputs. Input i of seed s is a pure function of (s, i), so any failure
 * can be replayed alone (`npm run qa:fuzz -- --seed s --first i --inputs 1`).
 *
 * Kinds: random bytes after a valid startup; random bytes instead of one; mutations of a valid
 * startup packet; mutations of valid simple-query, extended-query and COPY sequences (flipped
 * bytes, wrong / negative / huge lengths, truncation, unknown message types, huge declared lengths
 * with short bodies, invalid UTF-8 in text, parameter counts that disagree with formats); and the
 * valid sequences themselves, so the paths a mutation breaks are also taken whole.
 */
import { serialize } from 'pg-protocol';

/** mulberry32: a small, fast, well-mixed 32-bit PRNG. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** 0 <= n < max */
  int(max: number): number {
    return this.u32() % max;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

export interface FuzzInput {
  kind: string;
  /** Socket writes, in order (a message may be split across them). */
  writes: Buffer[];
}

/** Tables the inputs use; the fuzzer creates them (a bystander has its own). */
export const fuzzSetupSql = 'create table if not exists fuzz_t (a int primary key, b text, c float8, d bool)';

const statements = [
  'select 1',
  "select 'héllo', 2.5::float8, true, null",
  'select * from fuzz_t order by a limit 20',
  'select count(*), sum(c) from fuzz_t',
  "insert into fuzz_t values (1, 'x', 1.5, true) on conflict do nothing",
  "upsert into fuzz_t values (2, 'y', 2.5, false)",
  "update fuzz_t set b = 'z' where a = 2",
  'delete from fuzz_t where a = 3',
  'begin',
  'commit',
  'rollback',
  'select generate_series(1, 200)',
  "set statement_timeout = '2s'",
  'show all',
  "select repeat('ab', 500)",
  'select 1; select 2; select 3',
  'select $1',
  'select a from fuzz_t where a = $1',
  "select 'unterminated",
  'selec syntax error',
  '',
] as const;

const paramStatements = [
  { text: 'select $1::int + 1', types: [23], values: () => ['41'] },
  { text: 'select $1::text || $2::text', types: [25, 25], values: () => ['a', 'b'] },
  { text: "insert into fuzz_t values ($1, $2, 0.5, true) on conflict do nothing", types: [23, 25], values: () => ['4', 'p'] },
  { text: 'select a, b from fuzz_t where a = $1', types: [23], values: () => ['1'] },
  { text: 'select $1::int[]', types: [1007], values: () => ['{1,2,3}'] },
  { text: 'select $1::bytea, $2::float8', types: [17, 701], values: () => ['\\x0102', '1.5'] },
  { text: 'select generate_series(1, 100)', types: [], values: () => [] },
] as const;

const copyData = ['5\tfive\t5.5\tt\n', '6\tsix\t\\N\tf\n7\tseven\t7\tt\n', '8,eight,8,t\n', '\\.\n', 'x\tbad\t1\tt\n', '9\tcaf\\303\\251\t1\tf\n'];

function startup(r: Rng): Buffer {
  const extra: Record<string, string> = {};
  if (r.chance(0.3)) extra.application_name = 'fuzz';
  if (r.chance(0.2)) extra.options = '-c statement_timeout=5000';
  if (r.chance(0.1)) extra.client_encoding = 'UTF8';
  return serialize.startup({ user: 'root', database: 'defaultdb', ...extra });
}

function simple(r: Rng): Buffer[] {
  const n = 1 + r.int(4);
  return Array.from({ length: n }, () => serialize.query(r.pick(statements)));
}

function extended(r: Rng): Buffer[] {
  const s = r.pick(paramStatements);
  const name = r.chance(0.3) ? `s${r.int(4)}` : '';
  const out = [serialize.parse({ name, text: s.text, types: [...s.types] })];
  const binary = r.chance(0.2);
  out.push(serialize.bind({ statement: name, values: s.values(), binary }));
  if (r.chance(0.5)) out.push(serialize.describe({ type: r.pick(['S', 'P'] as const), name: r.chance(0.5) ? name : '' }));
  out.push(serialize.execute({ rows: r.chance(0.3) ? 1 + r.int(50) : 0 }));
  if (r.chance(0.2)) out.push(serialize.execute({}));
  if (r.chance(0.1)) out.push(serialize.close({ type: 'S', name }));
  if (r.chance(0.1)) out.push(serialize.flush());
  out.push(serialize.sync());
  return out;
}

function copy(r: Rng): Buffer[] {
  const csv = r.chance(0.3);
  const extendedCopy = r.chance(0.3);
  const sql = `copy fuzz_t from stdin${csv ? ' (format csv)' : ''}`;
  const out = extendedCopy ? [serialize.parse({ text: sql }), serialize.bind({}), serialize.execute({})] : [serialize.query(sql)];
  const n = 1 + r.int(4);
  for (let i = 0; i < n; i++) out.push(serialize.copyData(Buffer.from(r.pick(copyData))));
  out.push(r.chance(0.9) ? serialize.copyDone() : serialize.copyFail('fuzz'));
  if (extendedCopy) out.push(serialize.sync());
  if (r.chance(0.5)) out.push(serialize.query('select count(*) from fuzz_t'));
  if (r.chance(0.2)) out.push(serialize.query('copy (select * from fuzz_t limit 10) to stdout'));
  return out;
}

/** Offsets of typed messages in a concatenation of them (after the startup packet). */
function messageOffsets(b: Buffer): number[] {
  const at: number[] = [];
  let o = 0;
  while (o + 5 <= b.length) {
    at.push(o);
    const len = b.readInt32BE(o + 1);
    if (len < 4) break;
    o += 1 + len;
  }
  return at;
}

const invalidUtf8 = [[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x00], [0xc0, 0xaf]];

/** Applies one mutation to a byte sequence of typed messages. */
function mutate(r: Rng, b: Buffer): Buffer {
  if (b.length === 0) return r.bytes(1 + r.int(16));
  const offs = messageOffsets(b);
  const m = offs.length > 0 ? (r.pick(offs) as number) : 0;
  switch (r.int(10)) {
    case 0: {
      // flip bytes
      const c = Buffer.from(b);
      for (let k = 1 + r.int(4); k > 0; k--) {
        const at = r.int(c.length);
        c[at] = (c[at] as number) ^ (1 << r.int(8));
      }
      return c;
    }
    case 1: {
      // wrong length: negative, tiny, huge, or a little off
      const c = Buffer.from(b);
      if (m + 5 > c.length) return c;
      const len = c.readInt32BE(m + 1);
      c.writeInt32BE(r.pick([-1, -0x7fffffff, 0, 3, 0x7fffffff, 64 * 1024 * 1024 + 1, (len + 1 + r.int(16)) | 0, Math.max(0, len - 1 - r.int(4)), 10_001]), m + 1);
      return c;
    }
    case 2:
      // truncation
      return b.subarray(0, r.int(b.length));
    case 3: {
      // unknown or wrong message type
      const c = Buffer.from(b);
      c[m] = r.pick([r.int(256), 0x7a, 0x00, 0x46, 0x64, 0x63, 0x66, 0x53]);
      return c;
    }
    case 4: {
      // a huge declared length with a short body
      const h = Buffer.alloc(5);
      h[0] = r.pick([0x51, 0x50, 0x42, 0x64]);
      h.writeInt32BE(1000 + r.int(60 * 1024 * 1024), 1);
      return Buffer.concat([b.subarray(0, m), h, r.bytes(r.int(64))]);
    }
    case 5: {
      // invalid UTF-8 spliced into the text of a message
      const at = Math.min(b.length, m + 5 + r.int(24));
      return Buffer.concat([b.subarray(0, at), Buffer.from(r.pick(invalidUtf8)), b.subarray(at)]);
    }
    case 6: {
      // a Bind whose counts disagree with what follows (formats vs parameters, or too many)
      const c = Buffer.from(b);
      const bi = offs.find((o) => c[o] === 0x42);
      if (bi === undefined) return c;
      const p = c.indexOf(0, c.indexOf(0, bi + 5) + 1) + 1; // after portal and statement names
      if (p + 2 <= c.length) c.writeUInt16BE(r.pick([2, 3, 0xffff, 0x8000, r.int(0x10000)]), p);
      return c;
    }
    case 7:
      // random bytes inserted
      return Buffer.concat([b.subarray(0, m), r.bytes(1 + r.int(32)), b.subarray(m)]);
    case 8:
      // a message duplicated
      return Buffer.concat([b.subarray(0, m), b.subarray(m), b.subarray(m)]);
    default: {
      // a message dropped
      const len = m + 5 <= b.length ? b.readInt32BE(m + 1) : 0;
      return Buffer.concat([b.subarray(0, m), b.subarray(Math.min(b.length, m + 1 + Math.max(4, len)))]);
    }
  }
}

function mutateStartup(r: Rng, s: Buffer): Buffer {
  const c = Buffer.from(s);
  switch (r.int(6)) {
    case 0:
      for (let k = 1 + r.int(4); k > 0; k--) {
        const at = r.int(c.length);
        c[at] = (c[at] as number) ^ (1 << r.int(8));
      }
      return c;
    case 1:
      c.writeInt32BE(r.pick([-1, 0, 4, 7, 10_001, 0x7fffffff, c.length + 1 + r.int(8)]), 0);
      return c;
    case 2:
      return c.subarray(0, r.int(c.length));
    case 3:
      c.writeInt32BE(r.pick([80877103, 80877104, 80877102, 0x00020000, 0x00030001, r.u32() | 0]), 4);
      return c;
    case 4: {
      const at = 8 + r.int(Math.max(1, c.length - 8));
      return Buffer.concat([c.subarray(0, at), Buffer.from(r.pick(invalidUtf8)), c.subarray(at)]);
    }
    default:
      return Buffer.concat([c.subarray(0, 8), r.bytes(r.int(64)), c.subarray(8)]);
  }
}

/** Cuts bytes into 1..4 writes at random points (framing across socket reads). */
function split(r: Rng, b: Buffer): Buffer[] {
  const n = r.chance(0.7) ? 1 : 2 + r.int(3);
  const cuts = Array.from({ length: n - 1 }, () => r.int(b.length + 1)).sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(b.subarray(prev, c));
    prev = c;
  }
  out.push(b.subarray(prev));
  return out.filter((x) => x.length > 0);
}

export function fuzzInput(seed: number, index: number): FuzzInput {
  const r = new Rng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  r.u32();
  const k = r.int(100);
  const st = startup(r);
  if (k < 10) return { kind: 'random-after-startup', writes: [st, r.bytes(1 + r.int(512))] };
  if (k < 14) return { kind: 'random-no-startup', writes: [r.bytes(1 + r.int(64))] };
  if (k < 24) return { kind: 'startup-mutated', writes: split(r, Buffer.concat([mutateStartup(r, st), serialize.query('select 1')])) };
  const gen = k < 46 ? simple : k < 72 ? extended : copy;
  const body = Buffer.concat(gen(r));
  const kind = k < 46 ? 'simple' : k < 72 ? 'extended' : 'copy';
  if (r.chance(0.15)) return { kind: `${kind}-valid`, writes: [st, ...split(r, body)] };
  let m = mutate(r, body);
  if (r.chance(0.3)) m = mutate(r, m);
  return { kind: `${kind}-mutated`, writes: [st, ...split(r, m)] };
}
