/**
 * Order-preserving key encoding. Byte-wise comparison of encoded keys equals the order of the
 * values they encode (ascending), so the engine's ordered iteration serves index range scans.
 *
 * Keyspace:
 *   0x01 /Local/<...>                 range-local state (applied index, range descriptors)
 *   0x02 /System/<...>                catalog, settings, sequences
 *   0x03 /Table/<tableID>/<indexID>/<key columns…>
 *   0x04 /TS/<tableID>/<hashPoint>     time-series ranges' spans (no KV data: a TS range's rows
 *                                     live in its entity groups; the span says which devices)
 *   0x05 /Nodes/<...>                 node liveness records and the node registry: the liveness
 *                                     range's span in a cluster (written only by the nodes'
 *                                     heartbeats and decommissioning, never with SQL data)
 *
 * INVARIANT: every stored key is built from self-delimiting components, so no stored key is a
 * proper prefix of another. MVCC appends a fixed 8-byte timestamp suffix relying on this.
 */

export const KeyspaceLocal = 0x01;
export const KeyspaceSystem = 0x02;
export const KeyspaceTable = 0x03;
export const KeyspaceTs = 0x04;
export const KeyspaceNodes = 0x05;

const enum Tag {
  Null = 0x00,
  Int = 0x10,
  Float = 0x20,
  DecimalNeg = 0x30,
  DecimalZero = 0x31,
  DecimalPos = 0x32,
  String = 0x40,
  Bytes = 0x41,
  False = 0x50,
  True = 0x51,
  Uuid = 0x63,
}

/** A growable byte buffer for building keys without per-component allocation. */
export class KeyWriter {
  buf: Uint8Array;
  len = 0;
  private view: DataView;

  constructor(capacity = 64) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
    this.view = new DataView(nb.buffer);
  }

  byte(b: number): this {
    this.ensure(1);
    this.buf[this.len++] = b;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  u32(n: number): this {
    this.ensure(4);
    this.view.setUint32(this.len, n, false);
    this.len += 4;
    return this;
  }

  /** Signed 64-bit integer, sign bit flipped so negatives sort first. */
  int(v: bigint | number): this {
    this.ensure(9);
    this.buf[this.len++] = Tag.Int;
    this.view.setBigUint64(this.len, BigInt.asUintN(64, BigInt(v)) ^ (1n << 63n), false);
    this.len += 8;
    return this;
  }

  float(v: number): this {
    this.ensure(9);
    this.buf[this.len++] = Tag.Float;
    const at = this.len;
    this.view.setFloat64(at, v === 0 ? 0 : Number.isNaN(v) ? NaN : v, false); // -0 sorts as 0
    if ((this.buf[at] as number) & 0x80) {
      for (let i = 0; i < 8; i++) this.buf[at + i] = ~(this.buf[at + i] as number) & 0xff;
    } else {
      this.buf[at] = (this.buf[at] as number) | 0x80;
    }
    this.len += 8;
    return this;
  }

  /**
   * A decimal given as sign, digit string without leading/trailing zeros and exponent e such that
   * value = 0.d1d2… × 10^e. Positive: tag, e+32768 (u16), digits, 0x00. Negative: everything
   * inverted so larger magnitudes sort first.
   */
  decimal(sign: -1 | 0 | 1, digits: string, exp: number): this {
    if (sign === 0) return this.byte(Tag.DecimalZero);
    this.ensure(4 + digits.length);
    const neg = sign < 0;
    this.buf[this.len++] = neg ? Tag.DecimalNeg : Tag.DecimalPos;
    const e = (exp + 32768) & 0xffff;
    this.buf[this.len++] = neg ? ~(e >> 8) & 0xff : e >> 8;
    this.buf[this.len++] = neg ? ~e & 0xff : e & 0xff;
    for (let i = 0; i < digits.length; i++) {
      const d = digits.charCodeAt(i) - 47; // 1..10, never 0 so the terminator sorts first
      this.buf[this.len++] = neg ? 0xff - d : d;
    }
    this.buf[this.len++] = neg ? 0xff : 0x00;
    return this;
  }

  /** Bytes with 0x00 escaped as 0x00 0xff and terminated by 0x00 0x01. */
  private escaped(tag: number, b: Uint8Array): this {
    this.ensure(b.length * 2 + 3);
    this.buf[this.len++] = tag;
    for (let i = 0; i < b.length; i++) {
      const c = b[i] as number;
      this.buf[this.len++] = c;
      if (c === 0) this.buf[this.len++] = 0xff;
    }
    this.buf[this.len++] = 0x00;
    this.buf[this.len++] = 0x01;
    return this;
  }

  string(s: string): this {
    return this.escaped(Tag.String, textEncoder.encode(s));
  }

  rawBytes(b: Uint8Array): this {
    return this.escaped(Tag.Bytes, b);
  }

  bool(b: boolean): this {
    return this.byte(b ? Tag.True : Tag.False);
  }

  uuid(b: Uint8Array): this {
    this.ensure(17);
    this.buf[this.len++] = Tag.Uuid;
    this.buf.set(b, this.len);
    this.len += 16;
    return this;
  }

  null(): this {
    return this.byte(Tag.Null);
  }

  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

const textEncoder = new TextEncoder();

export function tablePrefix(tableId: number): Buffer {
  return new KeyWriter(8).byte(KeyspaceTable).u32(tableId).finish();
}

/**
 * The key of a hash point of a time-series table (KWDB's `/Table/<id>/<hashPoint>`, in its own
 * keyspace here so that TS ranges never cut the relational keyspace): a TS range holding hash
 * points [a, b) of table t spans [tsRangeKey(t, a), tsRangeKey(t, b)).
 */
export function tsRangeKey(tableId: number, hashPoint: number): Buffer {
  return new KeyWriter(9).byte(KeyspaceTs).u32(tableId).u32(hashPoint).finish();
}

/** The table and hash point of a tsRangeKey (null for any other key). */
export function decodeTsRangeKey(k: Uint8Array): { tableId: number; hashPoint: number } | null {
  if (k.length !== 9 || k[0] !== KeyspaceTs) return null;
  const v = new DataView(k.buffer, k.byteOffset, k.byteLength);
  return { tableId: v.getUint32(1), hashPoint: v.getUint32(5) };
}

/** Where the time-series keyspace starts (the first range ends here once a TS table is split). */
export const tsKeyspaceStart = Buffer.from([KeyspaceTs]);

export function indexPrefix(tableId: number, indexId: number): Buffer {
  return new KeyWriter(12).byte(KeyspaceTable).u32(tableId).u32(indexId).finish();
}

export function indexWriter(tableId: number, indexId: number): KeyWriter {
  return new KeyWriter(32).byte(KeyspaceTable).u32(tableId).u32(indexId);
}

export function systemKey(...parts: (string | number)[]): Buffer {
  const w = new KeyWriter(32).byte(KeyspaceSystem);
  for (const p of parts) {
    if (typeof p === 'number') w.int(p);
    else w.string(p);
  }
  return w.finish();
}

/** A key of the /Nodes keyspace (node liveness and registry; see the keyspace table above). */
export function nodesKey(...parts: (string | number)[]): Buffer {
  const w = new KeyWriter(32).byte(KeyspaceNodes);
  for (const p of parts) {
    if (typeof p === 'number') w.int(p);
    else w.string(p);
  }
  return w.finish();
}

/** The /Nodes keyspace: [start, end). */
export const nodesKeyspaceStart = Buffer.from([KeyspaceNodes]);
export const nodesKeyspaceEnd = Buffer.from([KeyspaceNodes + 1]);

export function localKey(...parts: (string | number)[]): Buffer {
  const w = new KeyWriter(32).byte(KeyspaceLocal);
  for (const p of parts) {
    if (typeof p === 'number') w.int(p);
    else w.string(p);
  }
  return w.finish();
}

/** The smallest key greater than every key with this prefix. */
export function prefixEnd(prefix: Uint8Array): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if ((b[i] as number) < 0xff) {
      b[i] = (b[i] as number) + 1;
      return b.subarray(0, i + 1);
    }
  }
  return Buffer.from([0xff, 0xff, 0xff, 0xff]);
}

export const keyMin = Buffer.alloc(0);
export const keyMax = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** A readable rendering for logs and errors: /Table/52/1/… */
export function prettyKey(k: Uint8Array): string {
  if (k.length === 0) return '/Min';
  const ks = k[0];
  const hex = Buffer.from(k.subarray(1)).toString('hex');
  if (Buffer.compare(k, keyMax) === 0) return '/Max';
  if (ks === KeyspaceTable && k.length >= 5) {
    const v = new DataView(k.buffer, k.byteOffset, k.byteLength);
    if (k.length < 9) return `/Table/${v.getUint32(1)}${k.length > 5 ? `/${Buffer.from(k.subarray(5)).toString('hex')}` : ''}`;
    const rest = Buffer.from(k.subarray(9)).toString('hex');
    return `/Table/${v.getUint32(1)}/${v.getUint32(5)}${rest ? `/${rest}` : ''}`;
  }
  if (ks === KeyspaceTs) {
    const t = decodeTsRangeKey(k);
    return t ? `/TS/${t.tableId}/${t.hashPoint}` : hex ? `/TS/${hex}` : '/TS';
  }
  if (ks === KeyspaceSystem) return `/System/${hex}`;
  if (ks === KeyspaceNodes) return hex ? `/Nodes/${hex}` : '/Nodes';
  if (ks === KeyspaceNodes + 1 && k.length === 1) return '/Nodes/Max';
  if (ks === KeyspaceLocal) return `/Local/${hex}`;
  return `/${Buffer.from(k).toString('hex')}`;
}
