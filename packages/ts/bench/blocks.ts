/**
 * bench:ts-blocks — encoding throughput and bytes per metric of columnar blocks on TSBS
 * "devops cpu-only"-like data (10 integer usage_* random walks in 0..100, 10 s interval).
 *   npm run bench:ts-blocks
 */
import { ColumnType, blockRowsDefault, encodeBlock, readBlockHeader, readColumn } from '../src/block.js';
import type { ColumnData } from '../src/block.js';

let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
const blocks = 200;
const rows = blockRowsDefault;
const data: ColumnData[][] = [];
for (let b = 0; b < blocks; b++) {
  const ts = BigInt64Array.from({ length: rows }, (_, i) => 1_451_606_400_000n + BigInt(b * rows + i) * 10_000n);
  const cols: ColumnData[] = [{ type: ColumnType.Timestamp, values: ts, nulls: null }];
  for (let c = 0; c < 10; c++) {
    let v = Math.floor(rand() * 100);
    cols.push({ type: ColumnType.Int64, values: BigInt64Array.from({ length: rows }, () => BigInt((v = Math.max(0, Math.min(100, v + Math.floor(rand() * 11) - 5))))), nulls: null });
  }
  data.push(cols);
}
const metrics = blocks * rows * 10;
for (const compress of [false, true]) {
  let t = process.hrtime.bigint();
  const enc = data.map((d) => encodeBlock(d, compress));
  const encSec = Number(process.hrtime.bigint() - t) / 1e9;
  const bytes = enc.reduce((n, b) => n + b.length, 0);
  t = process.hrtime.bigint();
  let check = 0;
  for (const b of enc) {
    const h = readBlockHeader(b);
    for (let i = 0; i < h.columns.length; i++) check += readColumn(b, h, i).values.length;
  }
  const decSec = Number(process.hrtime.bigint() - t) / 1e9;
  process.stdout.write(
    `${compress ? 'typed encodings + lz4' : 'typed encodings only '}: ${(bytes / metrics).toFixed(3)} bytes/metric, encode ${Math.round(metrics / encSec).toLocaleString('en-US')} metrics/s, decode ${Math.round(metrics / decSec).toLocaleString('en-US')} metrics/s (${check} values)\n`,
  );
}
