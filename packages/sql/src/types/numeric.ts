/**
 * NUMERIC: arbitrary-precision decimals as (bigint unscaled value, scale ≥ 0): value =
 * unscaled × 10^-scale. Special values (PostgreSQL 14+): NaN is scale -1; ±Infinity is scale -2
 * with unscaled ±1. Every method handles them as numeric.c does (NaN above +Infinity above every
 * number; Infinity - Infinity, Infinity × 0 and Infinity / Infinity are NaN). Arithmetic follows PostgreSQL's result-scale rules (numeric.c), so
 * output matches PostgreSQL digit for digit.
 */
import { PgError, SqlState } from '@strata/common';

/** NUMERIC_DSCALE_MAX: the most digits after the point a numeric holds. */
const numericDisplayScaleMax = 16383;

export class Decimal {
  constructor(
    readonly unscaled: bigint,
    readonly scale: number,
  ) {}

  static readonly zero = new Decimal(0n, 0);
  static readonly nan = new Decimal(0n, -1); // scale -1 marks NaN
  static readonly inf = new Decimal(1n, -2); // scale -2 marks ±Infinity (unscaled ±1)
  static readonly negInf = new Decimal(-1n, -2);

  isNaN(): boolean {
    return this.scale === -1;
  }

  isInf(): boolean {
    return this.scale === -2;
  }

  /** NaN or ±Infinity. */
  isSpecial(): boolean {
    return this.scale < 0;
  }

  static fromInt(n: number | bigint): Decimal {
    return new Decimal(BigInt(n), 0);
  }

  static parse(s: string): Decimal {
    const t = s.trim();
    if (/^nan$/i.test(t)) return Decimal.nan;
    if (/^[+]?inf(inity)?$/i.test(t)) return Decimal.inf;
    if (/^-inf(inity)?$/i.test(t)) return Decimal.negInf;
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(t);
    if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) {
      throw new PgError(SqlState.InvalidTextRepresentation, `invalid input syntax for type numeric: "${s}"`);
    }
    const intPart = m[2] ?? '';
    const frac = m[3] ?? '';
    const exp = m[4] ? Number(m[4]) : 0;
    let digits = (intPart + frac).replace(/^0+(?=\d)/, '') || '0';
    let scale = frac.length - exp;
    if (scale < 0) {
      digits += '0'.repeat(-scale);
      scale = 0;
    }
    let v = BigInt(digits);
    if (m[1] === '-') v = -v;
    return new Decimal(v, scale);
  }

  /**
   * From a JS number, as PostgreSQL's float → numeric casts: printed with `digits` significant
   * digits ("%.*g", 15 for float8, 6 for float4), then read as numeric; without `digits`, the
   * shortest round-trip form.
   */
  static fromFloat(f: number, digits?: number): Decimal {
    if (!Number.isFinite(f)) {
      if (Number.isNaN(f)) return Decimal.nan;
      return f > 0 ? Decimal.inf : Decimal.negInf;
    }
    if (digits === undefined) return Decimal.parse(String(f));
    return Decimal.parse(f.toPrecision(digits)).trimTrailingZeros();
  }

  /** %g drops trailing zeros of the fraction: the same value at the smallest scale (not below 0). */
  trimTrailingZeros(): Decimal {
    if (this.isSpecial() || this.scale <= 0) return this;
    let u = this.unscaled;
    let sc = this.scale;
    while (sc > 0 && u % 10n === 0n) {
      u /= 10n;
      sc--;
    }
    return new Decimal(u, sc);
  }

  toString(): string {
    if (this.isNaN()) return 'NaN';
    if (this.isInf()) return this.unscaled > 0n ? 'Infinity' : '-Infinity';
    const neg = this.unscaled < 0n;
    let s = (neg ? -this.unscaled : this.unscaled).toString();
    if (this.scale > 0) {
      if (s.length <= this.scale) s = '0'.repeat(this.scale - s.length + 1) + s;
      s = s.slice(0, s.length - this.scale) + '.' + s.slice(s.length - this.scale);
    }
    return neg ? '-' + s : s;
  }

  toNumber(): number {
    if (this.isNaN()) return NaN;
    if (this.isInf()) return this.unscaled > 0n ? Infinity : -Infinity;
    return Number(this.toString());
  }

  sign(): number {
    return this.unscaled < 0n ? -1 : this.unscaled > 0n ? 1 : 0;
  }

  rescale(scale: number): Decimal {
    if (this.isSpecial() || scale === this.scale) return this;
    if (scale > this.scale) return new Decimal(this.unscaled * 10n ** BigInt(scale - this.scale), scale);
    // Round half away from zero, as PostgreSQL does.
    const div = 10n ** BigInt(this.scale - scale);
    let q = this.unscaled / div;
    const r = this.unscaled % div;
    const twice = (r < 0n ? -r : r) * 2n;
    if (twice >= div) q += this.unscaled < 0n ? -1n : 1n;
    return new Decimal(q, scale);
  }

  private static align(a: Decimal, b: Decimal): [bigint, bigint, number] {
    const s = Math.max(a.scale, b.scale);
    return [a.rescale(s).unscaled, b.rescale(s).unscaled, s];
  }

  add(b: Decimal): Decimal {
    if (this.isNaN() || b.isNaN()) return Decimal.nan;
    if (this.isInf() || b.isInf()) {
      if (this.isInf() && b.isInf()) return this.unscaled === b.unscaled ? this : Decimal.nan;
      return this.isInf() ? this : b;
    }
    const [x, y, s] = Decimal.align(this, b);
    return new Decimal(x + y, s);
  }

  sub(b: Decimal): Decimal {
    if (this.isNaN() || b.isNaN()) return Decimal.nan;
    if (this.isInf() || b.isInf()) return this.add(b.neg());
    const [x, y, s] = Decimal.align(this, b);
    return new Decimal(x - y, s);
  }

  mul(b: Decimal): Decimal {
    if (this.isNaN() || b.isNaN()) return Decimal.nan;
    if (this.isInf() || b.isInf()) {
      const sa = this.sign();
      const sb = b.sign();
      if (sa === 0 || sb === 0) return Decimal.nan;
      return sa * sb > 0 ? Decimal.inf : Decimal.negInf;
    }
    // The exact product: internal computations (variance's sums of squares) need every digit.
    return new Decimal(this.unscaled * b.unscaled, this.scale + b.scale);
  }

  /** numeric_mul, the SQL `*`: the exact product, rounded when its scale exceeds what a numeric stores. */
  mulStored(b: Decimal): Decimal {
    const p = this.mul(b);
    return p.scale > numericDisplayScaleMax ? p.rescale(numericDisplayScaleMax) : p;
  }

  neg(): Decimal {
    return this.isNaN() ? this : new Decimal(-this.unscaled, this.scale);
  }

  abs(): Decimal {
    return this.unscaled < 0n ? this.neg() : this;
  }

  cmp(b: Decimal): number {
    // PostgreSQL orders NaN above every number and equal to itself, then +Infinity, numbers, -Infinity.
    if (this.isNaN() || b.isNaN()) return this.isNaN() === b.isNaN() ? 0 : this.isNaN() ? 1 : -1;
    if (this.isInf() || b.isInf()) {
      const x = this.isInf() ? Number(this.unscaled) * 2 : 0;
      const y = b.isInf() ? Number(b.unscaled) * 2 : 0;
      if (x !== 0 && y !== 0) return x === y ? 0 : x < y ? -1 : 1;
      if (x !== 0) return x > 0 ? 1 : -1;
      return y > 0 ? -1 : 1;
    }
    const [x, y] = Decimal.align(this, b);
    return x < y ? -1 : x > y ? 1 : 0;
  }

  /** Decimal weight in base-10000 digits, as numeric.c computes it (for the division scale). */
  private weight10000(): number {
    if (this.unscaled === 0n) return 0;
    const abs = this.unscaled < 0n ? -this.unscaled : this.unscaled;
    const digitsBeforePoint = abs.toString().length - this.scale; // may be <= 0
    // weight w such that the first base-10000 digit is 10000^w
    return Math.floor((digitsBeforePoint - 1) / 4);
  }

  private firstDigit10000(): number {
    const abs = this.unscaled < 0n ? -this.unscaled : this.unscaled;
    const s = abs.toString();
    const before = s.length - this.scale;
    const w = this.weight10000();
    // digits of the integer part of |x| / 10000^w
    const shift = before - 4 * w; // 1..4 digits
    if (shift <= 0) return Number(s.slice(0, 0) || '0');
    const padded = shift > s.length ? s + '0'.repeat(shift - s.length) : s.slice(0, shift);
    return Number(padded);
  }

  /** PostgreSQL's select_div_scale: the result scale of numeric division. */
  static divScale(a: Decimal, b: Decimal): number {
    const NUMERIC_MIN_SIG_DIGITS = 16;
    const DEC_DIGITS = 4;
    let weight1 = 0;
    let firstdigit1 = 0;
    if (a.unscaled !== 0n) {
      weight1 = a.weight10000();
      firstdigit1 = a.firstDigit10000();
    }
    let weight2 = 0;
    let firstdigit2 = 0;
    if (b.unscaled !== 0n) {
      weight2 = b.weight10000();
      firstdigit2 = b.firstDigit10000();
    }
    let qweight = weight1 - weight2;
    if (firstdigit1 <= firstdigit2) qweight--;
    let rscale = NUMERIC_MIN_SIG_DIGITS - qweight * DEC_DIGITS;
    rscale = Math.max(rscale, a.scale);
    rscale = Math.max(rscale, b.scale);
    rscale = Math.max(rscale, 0);
    rscale = Math.min(rscale, 1000);
    return rscale;
  }

  div(b: Decimal, scale?: number): Decimal {
    if (this.isNaN() || b.isNaN()) return Decimal.nan;
    if (this.isInf() || b.isInf()) {
      if (this.isInf() && b.isInf()) return Decimal.nan;
      if (b.isInf()) return Decimal.zero;
      if (b.sign() === 0) throw new PgError(SqlState.DivisionByZero, 'division by zero');
      return this.sign() * b.sign() > 0 ? Decimal.inf : Decimal.negInf;
    }
    if (b.unscaled === 0n) throw new PgError(SqlState.DivisionByZero, 'division by zero');
    const rscale = scale ?? Decimal.divScale(this, b);
    // (x / 10^sa) / (y / 10^sb) = x * 10^(rscale + sb - sa) / y, computed with one extra digit, rounded.
    const exp = rscale + b.scale - this.scale + 1;
    let num = this.unscaled;
    let den = b.unscaled;
    if (exp >= 0) num *= 10n ** BigInt(exp);
    else den *= 10n ** BigInt(-exp);
    const q = num / den; // truncated, one extra digit
    return new Decimal(q, rscale + 1).rescale(rscale);
  }

  mod(b: Decimal): Decimal {
    if (this.isNaN() || b.isNaN()) return Decimal.nan;
    if (this.isInf()) {
      if (b.sign() === 0 && !b.isInf()) throw new PgError(SqlState.DivisionByZero, 'division by zero');
      return Decimal.nan;
    }
    if (b.isInf()) return this;
    if (b.unscaled === 0n) throw new PgError(SqlState.DivisionByZero, 'division by zero');
    const [x, y, s] = Decimal.align(this, b);
    return new Decimal(x % y, s);
  }

  trunc(scale = 0): Decimal {
    if (this.isSpecial() || scale >= this.scale) return this;
    const div = 10n ** BigInt(this.scale - scale);
    return new Decimal(this.unscaled / div, scale);
  }

  round(scale = 0): Decimal {
    return this.rescale(scale);
  }

  floor(): Decimal {
    if (this.isSpecial()) return this;
    const t = this.trunc(0);
    return this.sign() < 0 && t.cmp(this) !== 0 ? t.sub(Decimal.fromInt(1)) : t;
  }

  ceil(): Decimal {
    if (this.isSpecial()) return this;
    const t = this.trunc(0);
    return this.sign() > 0 && t.cmp(this) !== 0 ? t.add(Decimal.fromInt(1)) : t;
  }

  /** Digits and exponent for the order-preserving key encoding. */
  keyParts(): { sign: -1 | 0 | 1; digits: string; exp: number } {
    // Specials take the largest exponent the key encoding holds: ±Infinity beyond every number,
    // NaN (one more digit) above +Infinity, as PostgreSQL orders them.
    if (this.isNaN()) return { sign: 1, digits: '99', exp: 32767 };
    if (this.isInf()) return { sign: this.unscaled > 0n ? 1 : -1, digits: '9', exp: 32767 };
    if (this.unscaled === 0n) return { sign: 0, digits: '', exp: 0 };
    const neg = this.unscaled < 0n;
    const s = (neg ? -this.unscaled : this.unscaled).toString();
    const exp = s.length - this.scale;
    return { sign: neg ? -1 : 1, digits: s.replace(/0+$/, ''), exp };
  }

  /** Applies a NUMERIC(precision, scale) type modifier. */
  applyTypmod(precision: number, scale: number): Decimal {
    if (this.isNaN()) return this;
    if (this.isInf()) {
      throw new PgError(SqlState.NumericValueOutOfRange, 'numeric field overflow', { detail: `A field with precision ${precision}, scale ${scale} cannot hold an infinite value.` });
    }
    const r = this.rescale(scale);
    const abs = r.unscaled < 0n ? -r.unscaled : r.unscaled;
    const intDigits = abs === 0n ? 0 : Math.max(0, abs.toString().length - scale);
    if (intDigits > precision - scale) {
      throw new PgError(SqlState.NumericValueOutOfRange, 'numeric field overflow', {
        detail: `A field with precision ${precision}, scale ${scale} must round to an absolute value less than ${precision - scale === 0 ? '1' : `10^${precision - scale}`}.`,
      });
    }
    return r;
  }
}
