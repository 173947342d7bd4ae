/**
 * bench:kv-engines — why lmdb: the candidate embedded ordered KV engines on the operations the
 * MVCC layer needs, same data, same machine, one run:
 *   - point reads of random keys (MVCC gets, index lookups)
 *   - short range scans (100 consecutive keys: index range scans)
 *   - batched writes (1,000 keys per atomic batch: a Raft round applied)
 * Engines: lmdb (lmdb-js, overlappingSync as in Strata) and LevelDB (classic-level, no sync). Strata's
 * raft log is the durable WAL; the engine is flushed asynchronously).
 *
 *   npm run bench:kv-engines [-- --keys 200000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClassicLevel } from 'classic-level';
import { open } from 'lmdb';

const { values } = parseArgs({ options: { keys: { type: 'string', default: '200000' } } });
const n = Number(values.keys);
const key = (i: number) => {
  const b = Buffer.alloc(16);
  b.write('k', 0);
  b.writeUInt32BE(i, 4);
  return b;
};
const val = Buffer.alloc(100, 7);
const rand = (() => {
  let s = 42;
  return () => ((s = (s * 1103515245 + 12345) >>> 0) % n);
})();

interface Result {
  load: number;
  get: number;
  scan: number;
  batch: number;
}

function opsPerSec(count: number, startNs: bigint): number {
  return count / (Number(process.hrtime.bigint() - startNs) / 1e9);
}

async function benchLmdb(dir: string): Promise<Result> {
  const db = open<Buffer, Buffer>({ path: join(dir, 'lmdb'), encoding: 'binary', keyEncoding: 'binary', compression: false, overlappingSync: true });
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i += 1000) {
    db.transactionSync(() => {
      for (let j = i; j < Math.min(n, i + 1000); j++) db.putSync(key(j), val);
    });
  }
  const load = opsPerSec(n, t);
  const reads = 200_000;
  t = process.hrtime.bigint();
  for (let i = 0; i < reads; i++) db.getBinary(key(rand()));
  const get = opsPerSec(reads, t);
  const scans = 20_000;
  t = process.hrtime.bigint();
  for (let i = 0; i < scans; i++) {
    const s = rand();
    let c = 0;
    for (const _ of db.getRange({ start: key(s), end: key(s + 100) })) c++;
    void c;
  }
  const scan = opsPerSec(scans, t);
  const batches = 200;
  t = process.hrtime.bigint();
  for (let b = 0; b < batches; b++) {
    db.transactionSync(() => {
      for (let j = 0; j < 1000; j++) db.putSync(key(rand()), val);
    });
  }
  const batch = opsPerSec(batches * 1000, t);
  await db.close();
  return { load, get, scan, batch };
}

async function benchLevel(dir: string): Promise<Result> {
  const db = new ClassicLevel<Buffer, Buffer>(join(dir, 'level'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i += 1000) {
    const ops = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) ops.push({ type: 'put' as const, key: key(j), value: val });
    await db.batch(ops);
  }
  const load = opsPerSec(n, t);
  const reads = 200_000;
  t = process.hrtime.bigint();
  // LevelDB reads are asynchronous; issue them in parallel chunks (its best case).
  for (let i = 0; i < reads; i += 1000) await Promise.all(Array.from({ length: 1000 }, () => db.get(key(rand()))));
  const get = opsPerSec(reads, t);
  const scans = 20_000;
  t = process.hrtime.bigint();
  for (let i = 0; i < scans; i++) {
    const s = rand();
    let c = 0;
    for await (const _ of db.iterator({ gte: key(s), lt: key(s + 100) })) c++;
    void c;
  }
  const scan = opsPerSec(scans, t);
  const batches = 200;
  t = process.hrtime.bigint();
  for (let b = 0; b < batches; b++) {
    const ops = Array.from({ length: 1000 }, () => ({ type: 'put' as const, key: key(rand()), value: val }));
    await db.batch(ops);
  }
  const batch = opsPerSec(batches * 1000, t);
  await db.close();
  return { load, get, scan, batch };
}

const dir = mkdtempSync(join(tmpdir(), 'kv-engines-'));
try {
  process.stdout.write(`bench:kv-engines — ${n} keys (16 B keys, 100 B values), node ${process.version}\n`);
  const l = await benchLmdb(dir);
  const v = await benchLevel(dir);
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US').padStart(12);
  process.stdout.write(`${'operation'.padEnd(34)}${'lmdb'.padStart(12)}${'LevelDB'.padStart(12)}${'ratio'.padStart(8)}\n`);
  for (const [name, a, b] of [
    ['load (keys/s, batches of 1000)', l.load, v.load],
    ['point get (ops/s)', l.get, v.get],
    ['range scan of 100 keys (scans/s)', l.scan, v.scan],
    ['random batched put (keys/s)', l.batch, v.batch],
  ] as const) {
    process.stdout.write(`${name.padEnd(34)}${fmt(a)}${fmt(b)}${(a / b).toFixed(2).padStart(8)}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
