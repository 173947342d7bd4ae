/**
 * Exact numeric functions (sqrt, ln, log, exp, power) with PostgreSQL's result scales
 * (numeric.c: numeric_sqrt, numeric_ln, log_var, numeric_exp, power_var, power_var_int).
 *
 * Values are computed in fixed point on BigInt with guard digits beyond the result scale, then
 * rounded half away from zero to the scale PostgreSQL picks; the scale rules use numeric.c's
 * base-10000 "weight" and first digits, so the number of digits printed matches.
 */
import { PgError, SqlState } from '@strata/common';
import { Decimal } from './numeric.js';
import { SqlStateX } from '../sqlstate.js';

const minSigDigits = 16; // NUMERIC_MIN_SIG_DIGITS
const maxDisplayScale = 1000; // NUMERIC_MAX_DISPLAY_SCALE
/** Extra digits carried through series evaluation so the rounded result is exact. */
const guardDigits = 12;

function clampScale(r: number): number {
  return Math.min(maxDisplayScale, Math.max(0, r));
}

/** numeric.c's NumericVar view: base-10000 digits of |x| and the weight of the first one. */
export function nbase(d: Decimal): { weight: number; digits: number[] } {
  const abs = d.unscaled < 0n ? -d.unscaled : d.unscaled;
  if (abs === 0n) return { weight: 0, digits: [] };
  // Pad the fraction to a multiple of 4 digits so groups align with the decimal point.
  const fracPad = (4 - (d.scale % 4)) % 4;
  let s = (abs * 10n ** BigInt(fracPad)).toString();
  const fracDigits = d.scale + fracPad;
  const intLen = s.length - fracDigits;
  const lead = ((intLen % 4) + 4) % 4;
  if (lead !== 0) s = '0'.repeat(4 - lead) + s;
  const groups: number[] = [];
  for (let i = 0; i < s.length; i += 4) groups.push(Number(s.slice(i, i + 4)));
  const intGroups = Math.ceil(intLen / 4);
  let weight = intGroups - 1;
  while (groups.length > 0 && groups[0] === 0) {
    groups.shift();
    weight--;
  }
  while (groups.length > 0 && groups[groups.length - 1] === 0) groups.pop();
  return { weight, digits: groups };
}

/** floor(sqrt(n)): Newton's iteration from a power of two above the root (it only decreases). */
function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** sqrt(x) rounded to `rscale` digits (x >= 0). */
export function sqrtScaled(x: Decimal, rscale: number): Decimal {
  if (x.sign() < 0)
    throw new PgError(
      SqlStateX.InvalidArgumentForPowerFunction,
      'cannot take square root of a negative number',
    );
  // floor(sqrt(u / 10^s) * 10^(r+1)) = isqrt(u * 10^(2(r+1) - s)).
  let e = 2 * (rscale + 1) - x.scale;
  let extra = 0;
  if (e < 0) {
    extra = Math.ceil(-e / 2);
    e += 2 * extra;
  }
  const q = isqrt(x.unscaled * 10n ** BigInt(e));
  return new Decimal(q, rscale + 1 + extra).rescale(rscale);
}

/** PostgreSQL's numeric sqrt(): at least 16 significant digits, at least the input's scale. */
export function numericSqrt(x: Decimal): Decimal {
  if (x.isNaN()) return x;
  if (x.isInf() && x.sign() > 0) return x;
  if (x.sign() < 0)
    throw new PgError(
      SqlStateX.InvalidArgumentForPowerFunction,
      'cannot take square root of a negative number',
    );
  const w = nbase(x).weight;
  const sweight = Math.trunc(((w + 1) * 4) / 2) - 1;
  return sqrtScaled(x, clampScale(Math.max(minSigDigits - sweight, x.scale)));
}

// ---- fixed point ----------------------------------------------------------------------------

/** A fixed-point number: value = v / 10^p. */
interface Fixed {
  v: bigint;
  p: number;
}

function toFixed(d: Decimal, p: number): Fixed {
  const diff = p - d.scale;
  return { v: diff >= 0 ? d.unscaled * 10n ** BigInt(diff) : d.unscaled / 10n ** BigInt(-diff), p };
}

function fmul(a: Fixed, b: Fixed): Fixed {
  return { v: (a.v * b.v) / 10n ** BigInt(a.p), p: a.p };
}

function fdiv(a: Fixed, b: Fixed): Fixed {
  return { v: (a.v * 10n ** BigInt(a.p)) / b.v, p: a.p };
}

/** 2·atanh(z) = ln((1+z)/(1-z)) by its series, for |z| <= 1/3. */
function atanh2(z: Fixed): Fixed {
  const one = 10n ** BigInt(z.p);
  const z2 = (z.v * z.v) / one;
  let term = z.v;
  let sum = 0n;
  for (let k = 1n; term !== 0n; k += 2n) {
    sum += term / k;
    term = (term * z2) / one;
  }
  return { v: 2n * sum, p: z.p };
}

const ln2Cache = new Map<number, bigint>();
function ln2(p: number): Fixed {
  let v = ln2Cache.get(p);
  if (v === undefined) {
    // ln 2 = 2·atanh(1/3).
    v = atanh2({ v: 10n ** BigInt(p) / 3n, p }).v;
    ln2Cache.set(p, v);
  }
  return { v, p };
}

/** ln(x) for x > 0 in fixed point with p digits. */
function lnFixed(x: Fixed): Fixed {
  const p = x.p;
  const one = 10n ** BigInt(p);
  // x = m · 2^k with m in [2/3, 4/3): ln x = k ln 2 + 2 atanh((m-1)/(m+1)).
  let m = x.v;
  let k = 0n;
  const hi = (one * 4n) / 3n;
  const lo = (one * 2n) / 3n;
  while (m >= hi) {
    m >>= 1n;
    k++;
  }
  while (m < lo) {
    m <<= 1n;
    k--;
  }
  const z = fdiv({ v: m - one, p }, { v: m + one, p });
  const r = atanh2(z);
  return { v: r.v + k * ln2(p).v, p };
}

/** e^y in fixed point with p digits. */
function expFixed(y: Fixed): Fixed {
  const p = y.p;
  const one = 10n ** BigInt(p);
  const l2 = ln2(p);
  // y = k ln 2 + r, |r| <= ln 2 / 2; e^y = 2^k e^r.
  let k = y.v / l2.v;
  let r = y.v - k * l2.v;
  if (2n * r > l2.v) {
    k++;
    r -= l2.v;
  } else if (2n * r < -l2.v) {
    k--;
    r += l2.v;
  }
  let sum = one;
  let term = one;
  for (let n = 1n; term !== 0n; n++) {
    term = (term * r) / one / n;
    sum += term;
  }
  return { v: k >= 0n ? sum << k : sum >> -k, p };
}

const ln10Cache = new Map<number, bigint>();
/** ln(x) for a positive Decimal: x = m · 10^e with m in [1, 10) exactly, ln x = ln m + e ln 10. */
function lnDecimal(x: Decimal, p: number): Fixed {
  const digits = x.unscaled.toString().length;
  const e = digits - 1 - x.scale;
  const m = new Decimal(x.unscaled, digits - 1);
  const r = lnFixed(toFixed(m, p));
  if (e === 0) return r;
  let l10 = ln10Cache.get(p);
  if (l10 === undefined) {
    l10 = lnFixed({ v: 10n * 10n ** BigInt(p), p }).v;
    ln10Cache.set(p, l10);
  }
  return { v: r.v + BigInt(e) * l10, p };
}

function roundFixed(f: Fixed, rscale: number): Decimal {
  return new Decimal(f.v, f.p).rescale(rscale);
}

/** numeric.c's estimate_ln_dweight: the decimal weight of ln(x). */
export function estimateLnDweight(x: Decimal): number {
  if (x.sign() <= 0) return 0;
  if (x.cmp(Decimal.parse('0.9')) >= 0 && x.cmp(Decimal.parse('1.1')) <= 0) {
    const d = x.sub(Decimal.fromInt(1));
    const nv = nbase(d);
    if (nv.digits.length === 0) return 0;
    return nv.weight * 4 + Math.trunc(Math.log10(nv.digits[0] as number));
  }
  const nv = nbase(x);
  if (nv.digits.length === 0) return 0;
  let digits = nv.digits[0] as number;
  let dweight = nv.weight * 4;
  if (nv.digits.length > 1) {
    digits = digits * 10000 + (nv.digits[1] as number);
    dweight -= 4;
  }
  const lnv = Math.log(digits) + dweight * 2.302585092994046;
  return Math.trunc(Math.log10(Math.abs(lnv)));
}

/** power() with an infinite argument: POSIX pow()'s rules, which numeric_power follows. */
function powerWithInfinity(base: Decimal, exp: Decimal): Decimal {
  const b = base.toNumber();
  const e = exp.toNumber();
  if (b === 0 && e < 0) throw new PgError(SqlStateX.InvalidArgumentForPowerFunction, 'zero raised to a negative power is undefined');
  if (b < 0 && Number.isFinite(e) && Math.floor(e) !== e) throw new PgError(SqlStateX.InvalidArgumentForPowerFunction, 'a negative number raised to a non-integer power yields a complex result');
  let r: number;
  if (!Number.isFinite(e)) {
    const ab = Math.abs(b);
    if (ab === 1) r = 1;
    else if (e > 0) r = ab > 1 ? Infinity : 0;
    else r = ab > 1 ? 0 : Infinity;
  } else if (e === 0) r = 1;
  else if (b > 0) r = e > 0 ? Infinity : 0;
  else {
    const oddInt = e === Math.floor(e) && Math.abs(e % 2) === 1;
    r = e > 0 ? (oddInt ? -Infinity : Infinity) : 0;
  }
  if (!Number.isFinite(r)) return r > 0 ? Decimal.inf : Decimal.negInf;
  return r === 1 ? Decimal.fromInt(1) : Decimal.zero;
}

function lnChecks(x: Decimal): void {
  const s = x.sign();
  if (s === 0) throw new PgError(SqlStateX.InvalidArgumentForLogarithm, 'cannot take logarithm of zero');
  if (s < 0)
    throw new PgError(SqlStateX.InvalidArgumentForLogarithm, 'cannot take logarithm of a negative number');
}

/** Working precision for a result of `rscale` digits whose magnitude has decimal weight `dweight`. */
function workDigits(rscale: number, dweight: number): number {
  return rscale + Math.max(0, dweight) + guardDigits;
}

/** PostgreSQL's numeric ln(). */
export function numericLn(x: Decimal): Decimal {
  if (x.isNaN()) return x;
  lnChecks(x);
  if (x.isInf()) return x;
  const rscale = clampScale(Math.max(minSigDigits - estimateLnDweight(x), x.scale));
  return roundFixed(lnDecimal(x, workDigits(rscale, 4)), rscale);
}

/** PostgreSQL's numeric log(base, x) (log(x) is log(10, x)). */
export function numericLog(base: Decimal, x: Decimal): Decimal {
  if (base.isNaN() || x.isNaN()) return Decimal.nan;
  lnChecks(base);
  lnChecks(x);
  if (base.isInf() || x.isInf()) {
    // log(b, Inf) is ±Inf by b's side of 1, log(Inf, x) is 0, log(Inf, Inf) is NaN.
    if (base.isInf() && x.isInf()) return Decimal.nan;
    if (x.isInf()) {
      const c = base.cmp(Decimal.fromInt(1));
      if (c === 0) throw new PgError(SqlState.DivisionByZero, 'division by zero');
      return c > 0 ? Decimal.inf : Decimal.negInf;
    }
    return Decimal.zero;
  }
  const resultDweight = estimateLnDweight(x) - estimateLnDweight(base);
  const rscale = clampScale(Math.max(minSigDigits - resultDweight, base.scale, x.scale));
  const p = workDigits(rscale, Math.abs(resultDweight)) + 10;
  const lb = lnDecimal(base, p);
  if (lb.v === 0n) throw new PgError(SqlState.DivisionByZero, 'division by zero');
  return roundFixed(fdiv(lnDecimal(x, p), lb), rscale);
}

/** PostgreSQL's numeric exp(). */
export function numericExp(x: Decimal): Decimal {
  if (x.isNaN()) return x;
  if (x.isInf()) return x.sign() > 0 ? x : Decimal.zero;
  const xv = x.toNumber();
  const val = Math.max(-2000, Math.min(2000, xv * 0.434294481903252));
  const rscale = clampScale(Math.max(minSigDigits - Math.trunc(val), x.scale));
  // exp_var: |x| >= NUMERIC_MAX_RESULT_SCALE * 3 overflows (or underflows to zero).
  if (Math.abs(xv) >= 6000) {
    if (xv > 0) throw new PgError(SqlState.NumericValueOutOfRange, 'value overflows numeric format');
    return new Decimal(0n, rscale);
  }
  const p = workDigits(rscale, Math.ceil(val)) + 10;
  return roundFixed(expFixed(toFixed(x, p)), rscale);
}

/** PostgreSQL's numeric power(base, exp) and `^`. */
export function numericPower(base: Decimal, exp: Decimal): Decimal {
  if (base.isNaN() || exp.isNaN()) {
    // NaN ^ 0 = 1 and 1 ^ NaN = 1, as in PostgreSQL.
    if (!exp.isNaN() && exp.sign() === 0) return Decimal.fromInt(1);
    if (!base.isNaN() && base.cmp(Decimal.fromInt(1)) === 0) return Decimal.fromInt(1);
    return Decimal.nan;
  }
  if (base.isInf() || exp.isInf()) return powerWithInfinity(base, exp);
  const isInt = exp.trunc(0).cmp(exp) === 0;
  if (base.sign() === 0 && exp.sign() < 0)
    throw new PgError(
      SqlStateX.InvalidArgumentForPowerFunction,
      'zero raised to a negative power is undefined',
    );
  if (base.sign() < 0 && !isInt)
    throw new PgError(
      SqlStateX.InvalidArgumentForPowerFunction,
      'a negative number raised to a non-integer power yields a complex result',
    );
  if (isInt) {
    const e = exp.trunc(0).unscaled;
    if (e >= -2147483648n && e <= 2147483647n) {
      // power_var (PostgreSQL 15): integer exponents use power_var_int at
      // max(16, base's scale) digits, computed exactly and rounded.
      const rscale = clampScale(Math.max(minSigDigits, base.scale));
      const n = Number(e);
      if (n === 0) return new Decimal(10n ** BigInt(rscale), rscale);
      const absN = Math.abs(n);
      // The result's decimal weight, from the base's digits and exponent.
      const bw = base.unscaled.toString().replace('-', '').length - base.scale;
      const f =
        n * (bw - 1 + Math.log10(Number(`0.${base.unscaled.toString().replace('-', '').slice(0, 15)}`) * 10));
      if (f > 131072) throw new PgError(SqlState.NumericValueOutOfRange, 'value overflows numeric format');
      if (f + 1 < -rscale) return new Decimal(0n, rscale);
      const sizeDigits = absN * base.unscaled.toString().length;
      if (sizeDigits <= 20_000) {
        const pw = new Decimal(base.unscaled ** BigInt(absN), base.scale * absN);
        if (n > 0) return pw.rescale(rscale);
        return Decimal.fromInt(1).div(pw, rscale);
      }
      // Too many digits to multiply out: e^(n · ln|base|) with the sign of the odd power.
      const p = workDigits(rscale, Math.ceil(f)) + 20;
      const y = fmul(lnDecimal(base.abs(), p), { v: BigInt(n) * 10n ** BigInt(p), p });
      const r = roundFixed(expFixed(y), rscale);
      return base.sign() < 0 && absN % 2 === 1 ? r.neg() : r;
    }
  }
  if (base.sign() === 0) return new Decimal(0n, minSigDigits);
  // Non-integer exponents: e^(exp · ln(base)) with PostgreSQL's scale choice.
  const approx = exp.toNumber() * Math.log(base.toNumber());
  if (Math.abs(approx) > 2000 * 3.01) {
    if (approx > 0) throw new PgError(SqlState.NumericValueOutOfRange, 'value overflows numeric format');
    return new Decimal(0n, maxDisplayScale);
  }
  const val = approx * 0.434294481903252;
  const rscale = clampScale(Math.max(minSigDigits - Math.trunc(val), base.scale, exp.scale));
  const p = workDigits(rscale, Math.ceil(val)) + 20;
  const y = fmul(lnDecimal(base, p), toFixed(exp, p));
  return roundFixed(expFixed(y), rscale);
}

/**
 * var_samp/var_pop/stddev_samp/stddev_pop over exact sums, as numeric_stddev_internal: the
 * numerator N·ΣX² − (ΣX)² at twice ΣX's scale, divided at select_div_scale, the square root
 * taken of the rounded variance at the same scale.
 */
export function numericVariance(
  n: bigint,
  sumX: Decimal,
  sumX2: Decimal,
  sample: boolean,
  stddev: boolean,
): Decimal | null {
  if (n === 0n || (sample && n <= 1n)) return null;
  if (sumX.isSpecial() || sumX2.isSpecial()) return Decimal.nan;
  const rs = sumX.scale * 2;
  const N = Decimal.fromInt(n);
  const num = N.mul(sumX2).rescale(rs).sub(sumX.mul(sumX).rescale(rs));
  if (num.sign() <= 0) return new Decimal(0n, 0);
  const den = sample ? N.mul(Decimal.fromInt(n - 1n)) : N.mul(N);
  const rscale = Decimal.divScale(num, den);
  const variance = num.div(den, rscale);
  return stddev ? sqrtScaled(variance, rscale) : variance;
}
