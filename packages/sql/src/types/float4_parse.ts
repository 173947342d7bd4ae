/**
 * Decimal text to float4 rounded once, as strtof does. Reading the text as a double and then
 * rounding to float4 rounds twice, and differs when the double lands exactly halfway between two
 * float4 values ('7038531e-32' is 0x15ae43fd in PostgreSQL, 0x15ae43fe read twice). Only that
 * case can differ (a double strictly nearer one float4 neighbour has the decimal on the same
 * side), so only then is the decimal compared exactly (bigint arithmetic) with the halfway point.
 * Pure.
 */

/** The float4 nearest the decimal `text` (which matches [+-]digits[.digits][e±digits]). */
export function decimalToFloat4(text: string): number {
  const d = Number(text);
  const f = Math.fround(d);
  if (f === d || !Number.isFinite(f) || !Number.isFinite(d)) return f;
  // The two float4 values around d and their midpoint (exact in a double).
  const other = nextFloat4Toward(f, d);
  const mid = (f + other) / 2;
  if (d !== mid) return f;
  const c = compareDecimalToDouble(text, mid);
  if (c === 0) return evenFloat4(f, other);
  const lo = Math.min(f, other);
  const hi = Math.max(f, other);
  return c > 0 ? hi : lo;
}

const buf = new DataView(new ArrayBuffer(8));

/** The float4 adjacent to f in the direction of x. */
function nextFloat4Toward(f: number, x: number): number {
  buf.setFloat32(0, f);
  let bits = buf.getUint32(0);
  const up = x > f;
  if (f === 0) bits = up ? 1 : 0x80000001;
  else if (f > 0 === up) bits += 1;
  else bits -= 1;
  buf.setUint32(0, bits >>> 0);
  return buf.getFloat32(0);
}

/** Of two adjacent float4 values, the one whose last mantissa bit is 0 (ties to even). */
function evenFloat4(a: number, b: number): number {
  buf.setFloat32(0, a);
  return (buf.getUint32(0) & 1) === 0 ? a : b;
}

/** Sign of (decimal text − x), computed exactly. */
function compareDecimalToDouble(text: string, x: number): number {
  const m = /^([+-]?)(\d*)\.?(\d*)(?:e([+-]?\d+))?$/i.exec(text.trim());
  if (!m) return Math.sign(Number(text) - x);
  const neg = m[1] === '-';
  const digits = BigInt((m[2] ?? '') + (m[3] ?? '') || '0');
  const exp10 = Number(m[4] ?? 0) - (m[3] ?? '').length;
  // x = mant × 2^exp2, exactly
  buf.setFloat64(0, Math.abs(x));
  const hiw = buf.getUint32(0);
  const low = buf.getUint32(4);
  const e = (hiw >>> 20) & 0x7ff;
  let mant = (BigInt(hiw & 0xfffff) << 32n) | BigInt(low);
  let exp2: number;
  if (e === 0) exp2 = -1074;
  else {
    mant |= 1n << 52n;
    exp2 = e - 1075;
  }
  // Compare digits × 10^exp10 with mant × 2^exp2, both sides scaled to integers.
  let lhs = digits;
  let rhs = mant;
  if (exp10 >= 0) lhs *= 10n ** BigInt(exp10);
  else rhs *= 10n ** BigInt(-exp10);
  if (exp2 >= 0) rhs <<= BigInt(exp2);
  else lhs <<= BigInt(-exp2);
  // |text| against |x|; the caller's x has the text's sign (it is the text read as a double).
  const c = lhs === rhs ? 0 : lhs > rhs ? 1 : -1;
  return neg ? -c : c;
}
