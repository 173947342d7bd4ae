/**
 * The network address types `inet` (a host address with an optional netmask length) and `cidr`
 * (a network: no bits set right of the mask), as PostgreSQL 15's network.c, inet_net_pton.c and
 * inet_net_ntop.c. A value is held as its output text (which is canonical, so equality of texts
 * is equality of values of one type); the functions here parse it into family, bits and address
 * bytes when they compute. Pure.
 */
import { PgError, SqlState } from '@strata/common';

export interface Inet {
  family: 4 | 6;
  /** Netmask length: 0–32 (IPv4) or 0–128 (IPv6). */
  bits: number;
  /** 4 or 16 bytes, network order. */
  addr: Uint8Array;
}

const maxBits = (f: 4 | 6) => (f === 4 ? 32 : 128);

function invalid(s: string, cidr: boolean): PgError {
  return new PgError(SqlState.InvalidTextRepresentation, `invalid input syntax for type ${cidr ? 'cidr' : 'inet'}: "${s}"`);
}

/** inet_net_pton_ipv4 (inet) and inet_cidr_pton_ipv4 (cidr, with classful default widths), decimal octets. */
function parseV4(s: string, cidr: boolean): { bits: number; addr: Uint8Array } | null {
  const m = /^(\d+(?:\.\d+)*)(?:\/(\d+))?$/.exec(s);
  if (!m) return null;
  const octets = (m[1] as string).split('.').map(Number);
  if (octets.length > 4 || octets.some((o) => o > 255)) return null;
  let bits = m[2] === undefined ? -1 : Number(m[2]);
  if (bits > 32) return null;
  const n = octets.length;
  if (!cidr) {
    // Without a width all four octets are needed; a width may not claim more octets than given.
    if (bits === -1) {
      if (n !== 4) return null;
      bits = 32;
    }
    if (Math.floor(bits / 8) > n) return null;
  } else if (bits === -1) {
    const first = octets[0] as number;
    bits = first >= 240 ? 32 : first >= 224 ? 8 : first >= 192 ? 24 : first >= 128 ? 16 : 8;
    if (bits < n * 8) bits = n * 8;
    if (bits === 8 && first === 224) bits = 4;
  }
  const addr = new Uint8Array(4);
  octets.forEach((o, i) => (addr[i] = o));
  return { bits, addr };
}

/** inet_cidr_pton_ipv6: hex groups, one `::`, an embedded dotted quad at the end, `/bits`. */
function parseV6(s: string): { bits: number; addr: Uint8Array } | null {
  const m = /^([0-9a-fA-F:.]+)(?:\/(\d+))?$/.exec(s);
  if (!m) return null;
  const bits = m[2] === undefined ? 128 : Number(m[2]);
  if (bits > 128) return null;
  let text = m[1] as string;
  const words: number[] = [];
  // An embedded dotted quad at the end stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const q = tail.split('.');
    if (q.length !== 4 || q.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) return null;
    const o = q.map(Number) as [number, number, number, number];
    text = text.slice(0, lastColon + 1) + ((o[0] << 8) | o[1]).toString(16) + ':' + ((o[2] << 8) | o[3]).toString(16);
  }
  const dbl = text.indexOf('::');
  if (dbl !== text.lastIndexOf('::') && dbl >= 0) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const want = 8;
  if (dbl >= 0) {
    const head = groups(text.slice(0, dbl));
    const rest = groups(text.slice(dbl + 2));
    if (!head || !rest || head.length + rest.length >= want) return null;
    words.push(...head, ...new Array<number>(want - head.length - rest.length).fill(0), ...rest);
  } else {
    const all = groups(text);
    if (!all || all.length !== want) return null;
    words.push(...all);
  }
  const addr = new Uint8Array(16);
  words.forEach((w, i) => {
    addr[2 * i] = w >> 8;
    addr[2 * i + 1] = w & 0xff;
  });
  return { bits, addr };
}

/** Whether any bit of `addr` right of the first `bits` is set. */
function hostBitsSet(addr: Uint8Array, bits: number): boolean {
  for (let i = 0; i < addr.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    const mask = keep === 8 ? 0 : 0xff >> keep;
    if (((addr[i] as number) & mask) !== 0) return true;
  }
  return false;
}

/** network_in: text → address (22P02 as PostgreSQL; cidr refuses host bits). */
export function parseInet(s: string, cidr: boolean): Inet {
  const v6 = s.includes(':');
  const p = v6 ? parseV6(s) : parseV4(s, cidr);
  if (!p) throw invalid(s, cidr);
  const family = v6 ? 6 : 4;
  if (cidr && hostBitsSet(p.addr, p.bits)) throw new PgError(SqlState.InvalidTextRepresentation, `invalid cidr value: "${s}"`, { detail: 'Value has bits set to right of mask.' });
  return { family, bits: p.bits, addr: p.addr };
}

/** The address without a width (inet_net_ntop with the full width): host(). */
export function formatAddress(x: Inet): string {
  if (x.family === 4) return Array.from(x.addr).join('.');
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((x.addr[2 * i] as number) << 8) | (x.addr[2 * i + 1] as number));
  // The longest run (≥ 2) of zero words becomes "::" (the first of equal runs), as inet_net_ntop_ipv6.
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (cur.base === -1) cur = { base: i, len: 1 };
      else cur.len++;
    } else if (cur.base !== -1) {
      if (best.base === -1 || cur.len > best.len) best = cur;
      cur = { base: -1, len: 0 };
    }
  }
  if (cur.base !== -1 && (best.base === -1 || cur.len > best.len)) best = cur;
  if (best.base !== -1 && best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    // An IPv4 address in the last 32 bits of ::/96 or ::ffff:0:0/96.
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && words[5] === 0xffff))) {
      out += Array.from(x.addr.subarray(12)).join('.');
      break;
    }
    out += (words[i] as number).toString(16);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ':';
  return out;
}

/** network_out: the address, then `/bits` unless it is the full width of an inet. */
export function formatInet(x: Inet, cidr: boolean): string {
  const a = formatAddress(x);
  return cidr || x.bits !== maxBits(x.family) ? `${a}/${x.bits}` : a;
}

/** Canonical text of an input string. */
export function inetIn(s: string, cidr: boolean): string {
  return formatInet(parseInet(s, cidr), cidr);
}

/** Stored values are canonical output texts; inet's parser reads cidr's text too. */
export function inetOf(v: string): Inet {
  return parseInet(v, false);
}

/** The first `bits` bits compared (bitncmp). */
function bitncmp(a: Uint8Array, b: Uint8Array, bits: number): number {
  const whole = Math.floor(bits / 8);
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  const rest = bits % 8;
  if (rest === 0) return 0;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((a[whole] as number) & mask) - ((b[whole] as number) & mask);
}

/** network_cmp: family, then the common prefix, then the width, then the whole address. */
export function compareInet(a: string, b: string): number {
  const x = inetOf(a);
  const y = inetOf(b);
  if (x.family !== y.family) return x.family - y.family;
  const c = bitncmp(x.addr, y.addr, Math.min(x.bits, y.bits));
  if (c !== 0) return c;
  if (x.bits !== y.bits) return x.bits - y.bits;
  return bitncmp(x.addr, y.addr, maxBits(x.family));
}

/** `a << b` (strict), `a <<= b`, `a >> b`, `a >>= b`, `a && b`: containment of networks. */
export function inetContains(op: '<<' | '<<=' | '>>' | '>>=' | '&&', a: string, b: string): boolean {
  const x = inetOf(a);
  const y = inetOf(b);
  if (x.family !== y.family) return false;
  switch (op) {
    case '<<':
      return x.bits > y.bits && bitncmp(x.addr, y.addr, y.bits) === 0;
    case '<<=':
      return x.bits >= y.bits && bitncmp(x.addr, y.addr, y.bits) === 0;
    case '>>':
      return y.bits > x.bits && bitncmp(x.addr, y.addr, x.bits) === 0;
    case '>>=':
      return y.bits >= x.bits && bitncmp(x.addr, y.addr, x.bits) === 0;
    case '&&':
      return bitncmp(x.addr, y.addr, Math.min(x.bits, y.bits)) === 0;
  }
}

function withMask(x: Inet, bits: number, fill: 'zero' | 'ones'): Uint8Array {
  const out = new Uint8Array(x.addr);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    const hostMask = keep === 8 ? 0 : 0xff >> keep;
    out[i] = fill === 'zero' ? (out[i] as number) & ~hostMask & 0xff : (out[i] as number) | hostMask;
  }
  return out;
}

function maskBytes(family: 4 | 6, bits: number, host: boolean): Uint8Array {
  const out = new Uint8Array(family === 4 ? 4 : 16);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    const net = (0xff << (8 - keep)) & 0xff;
    out[i] = host ? ~net & 0xff : net;
  }
  return out;
}

/** host(), masklen(), family(), network(), netmask(), hostmask(), broadcast(), text(), abbrev(), set_masklen(). */
export const inetFunctions = {
  host: (v: string) => formatAddress(inetOf(v)),
  masklen: (v: string) => inetOf(v).bits,
  family: (v: string) => inetOf(v).family,
  network: (v: string) => {
    const x = inetOf(v);
    return formatInet({ ...x, addr: withMask(x, x.bits, 'zero') }, true);
  },
  broadcast: (v: string) => {
    const x = inetOf(v);
    return formatInet({ ...x, addr: withMask(x, x.bits, 'ones') }, false);
  },
  netmask: (v: string) => {
    const x = inetOf(v);
    return formatInet({ family: x.family, bits: maxBits(x.family), addr: maskBytes(x.family, x.bits, false) }, false);
  },
  hostmask: (v: string) => {
    const x = inetOf(v);
    return formatInet({ family: x.family, bits: maxBits(x.family), addr: maskBytes(x.family, x.bits, true) }, false);
  },
  /** network_show: always with the width (the text cast of inet). */
  text: (v: string) => {
    const x = inetOf(v);
    return `${formatAddress(x)}/${x.bits}`;
  },
  /** inet_abbrev / cidr_abbrev (IPv4: only the octets the width covers). */
  abbrev: (v: string, cidr: boolean) => {
    const x = inetOf(v);
    if (!cidr) return formatInet(x, false);
    if (x.family === 6) throw new PgError(SqlState.FeatureNotSupported, 'abbrev(cidr) of IPv6 networks is not supported');
    if (x.bits === 0) return '0/0';
    const n = Math.ceil(x.bits / 8);
    return `${Array.from(x.addr.subarray(0, n)).join('.')}/${x.bits}`;
  },
  setMasklen: (v: string, bits: number, cidr: boolean) => {
    const x = inetOf(v);
    const max = maxBits(x.family);
    const b = bits === -1 ? max : bits;
    if (b < 0 || b > max) throw new PgError(SqlState.InvalidParameterValue, `invalid mask length: ${bits}`);
    return formatInet({ ...x, bits: b, addr: cidr ? withMask(x, b, 'zero') : x.addr }, cidr);
  },
  /** inet → cidr: the network (host bits cleared), width kept. */
  toCidr: (v: string) => {
    const x = inetOf(v);
    return formatInet({ ...x, addr: withMask(x, x.bits, 'zero') }, true);
  },
  /** cidr → inet: same address and width, printed as inet. */
  toInet: (v: string) => formatInet(inetOf(v), false),
};

/** inet_send: family (2 = IPv4, 3 = IPv6), bits, is_cidr, address length, address. */
export function inetToBinary(v: string, cidr: boolean): Buffer {
  const x = inetOf(v);
  return Buffer.concat([Buffer.from([x.family === 4 ? 2 : 3, x.bits, cidr ? 1 : 0, x.addr.length]), Buffer.from(x.addr)]);
}

/** inet_recv with its checks (22P03). */
export function inetFromBinary(b: Buffer, cidr: boolean): string {
  const bad = (what: string) => new PgError(SqlState.InvalidBinaryRepresentation, `invalid ${what} in external "${cidr ? 'cidr' : 'inet'}" value`);
  if (b.length < 4) throw new PgError(SqlState.ProtocolViolation, 'insufficient data left in message');
  const fam = b[0];
  if (fam !== 2 && fam !== 3) throw bad('address family');
  const family = fam === 2 ? 4 : 6;
  const bits = b[1] as number;
  if (bits > maxBits(family)) throw bad('bits');
  const nb = b[3] as number;
  if (nb !== (family === 4 ? 4 : 16)) throw bad('length');
  if (b.length !== 4 + nb) throw new PgError(SqlState.ProtocolViolation, 'insufficient data left in message');
  const x: Inet = { family, bits, addr: new Uint8Array(b.subarray(4)) };
  if (cidr && hostBitsSet(x.addr, bits)) throw new PgError(SqlState.InvalidBinaryRepresentation, 'invalid external "cidr" value', { detail: 'Value has bits set to right of mask.' });
  return formatInet(x, cidr);
}

/** The address as an unsigned integer (bigint), and back. */
function addrToBig(a: Uint8Array): bigint {
  let n = 0n;
  for (const b of a) n = (n << 8n) | BigInt(b);
  return n;
}
function bigToAddr(n: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/**
 * inet ± bigint (inetpl, inetmi_int8), inet − inet (inetmi), inet & | inet (inetand, inetor), as
 * network.c: the width is kept (the wider of two for & and |); a result outside the family's
 * addresses is 22003 `result is out of range`; mixing families is 22023.
 */
export const inetArithmetic = {
  plus(v: string, n: bigint, cidr: boolean): string {
    const x = inetOf(v);
    const max = (1n << BigInt(x.addr.length * 8)) - 1n;
    const r = addrToBig(x.addr) + n;
    if (r < 0n || r > max) throw new PgError(SqlState.NumericValueOutOfRange, 'result is out of range');
    return formatInet({ ...x, addr: bigToAddr(r, x.addr.length) }, cidr);
  },
  minus(a: string, b: string): bigint {
    const x = inetOf(a);
    const y = inetOf(b);
    if (x.family !== y.family) throw new PgError(SqlState.InvalidParameterValue, 'cannot subtract inet values of different sizes');
    const r = addrToBig(x.addr) - addrToBig(y.addr);
    if (r > 9223372036854775807n || r < -9223372036854775808n) throw new PgError(SqlState.NumericValueOutOfRange, 'result is out of range');
    return r;
  },
  bitwise(op: '&' | '|', a: string, b: string): string {
    const x = inetOf(a);
    const y = inetOf(b);
    if (x.family !== y.family) throw new PgError(SqlState.InvalidParameterValue, `cannot ${op === '&' ? 'AND' : 'OR'} inet values of different sizes`);
    const addr = x.addr.map((v, i) => (op === '&' ? v & (y.addr[i] as number) : v | (y.addr[i] as number)));
    return formatInet({ family: x.family, bits: Math.max(x.bits, y.bits), addr }, false);
  },
};
