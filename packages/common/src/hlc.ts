/**
 * A hybrid logical clock (Kulkarni et al.): timestamps are (wall milliseconds, logical counter),
 * packed into one unsigned 64-bit bigint as wall << 20 | logical. They are monotonic on a node
 * even if the wall clock steps back, and stay close to real time. 44 bits of milliseconds last
 * until the year 2527; 20 bits allow a million events per millisecond.
 */
export type Timestamp = bigint;

export const logicalBits = 20n;
const logicalMask = (1n << logicalBits) - 1n;

export const zeroTimestamp: Timestamp = 0n;
export const maxTimestamp: Timestamp = (1n << 64n) - 1n;

export function makeTimestamp(wallMs: number, logical: number): Timestamp {
  return (BigInt(wallMs) << logicalBits) | BigInt(logical);
}

export function wallMs(ts: Timestamp): number {
  return Number(ts >> logicalBits);
}

export function logical(ts: Timestamp): number {
  return Number(ts & logicalMask);
}

export function formatTimestamp(ts: Timestamp): string {
  return `${wallMs(ts)}.${logical(ts)}`;
}

export class HybridClock {
  private last: Timestamp = zeroTimestamp;
  constructor(private readonly physicalNow: () => number = Date.now) {}

  /** A timestamp greater than every one this clock returned or observed. */
  now(): Timestamp {
    const phys = makeTimestamp(this.physicalNow(), 0);
    this.last = phys > this.last ? phys : this.last + 1n;
    return this.last;
  }

  /** Advances past a timestamp seen from elsewhere (a remote node, a log replay). */
  update(ts: Timestamp): void {
    if (ts > this.last) this.last = ts;
  }
}

export function writeTimestamp(buf: Uint8Array, offset: number, ts: Timestamp): void {
  new DataView(buf.buffer, buf.byteOffset, buf.byteLength).setBigUint64(offset, ts, false);
}

export function readTimestamp(buf: Uint8Array, offset: number): Timestamp {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(offset, false);
}
