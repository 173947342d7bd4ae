/**
 * to_char(number, format): a port of PostgreSQL's formatting.c number path (NUMDesc_prepare,
 * NUM_processor, NUM_numpart_to_char, numeric/int/float to_char) in the C locale: 9 0 . , D G
 * S MI PL SG PR L B FM TH th RN rn V EEEE, quoted literals, '#' fill on overflow. Floats are
 * rounded as C's printf rounds their exact binary value (ties to even), numerics half away from
 * zero, each to the pattern's digits.
 */
import { PgError, SqlState } from '@strata/common';
import { Decimal } from '../types/numeric.js';

const NUM_COMMA = 1;
const NUM_DEC = 2;
const NUM_0 = 3;
const NUM_9 = 4;
const NUM_B = 5;
const NUM_C = 6;
const NUM_D = 7;
const NUM_E = 8;
const NUM_FM = 9;
const NUM_G = 10;
const NUM_L = 11;
const NUM_MI = 12;
const NUM_PL = 13;
const NUM_PR = 14;
const NUM_RN = 15;
const NUM_SG = 16;
const NUM_SP = 17;
const NUM_S = 18;
const NUM_TH = 19;
const NUM_V = 20;
const NUM_rn = 21;
const NUM_th = 22;

/** NUM_keywords, in formatting.c's search order. */
const keywords: [string, number][] = [
  [',', NUM_COMMA],
  ['.', NUM_DEC],
  ['0', NUM_0],
  ['9', NUM_9],
  ['B', NUM_B],
  ['C', NUM_C],
  ['D', NUM_D],
  ['EEEE', NUM_E],
  ['FM', NUM_FM],
  ['G', NUM_G],
  ['L', NUM_L],
  ['MI', NUM_MI],
  ['PL', NUM_PL],
  ['PR', NUM_PR],
  ['RN', NUM_RN],
  ['SG', NUM_SG],
  ['SP', NUM_SP],
  ['S', NUM_S],
  ['TH', NUM_TH],
  ['V', NUM_V],
  ['b', NUM_B],
  ['c', NUM_C],
  ['d', NUM_D],
  ['eeee', NUM_E],
  ['fm', NUM_FM],
  ['g', NUM_G],
  ['l', NUM_L],
  ['mi', NUM_MI],
  ['pl', NUM_PL],
  ['pr', NUM_PR],
  ['rn', NUM_rn],
  ['sg', NUM_SG],
  ['sp', NUM_SP],
  ['s', NUM_S],
  ['th', NUM_th],
  ['v', NUM_V],
];

const F_DECIMAL = 1 << 1;
const F_LDECIMAL = 1 << 2;
const F_ZERO = 1 << 3;
const F_BLANK = 1 << 4;
const F_FILLMODE = 1 << 5;
const F_LSIGN = 1 << 6;
const F_BRACKET = 1 << 7;
const F_MINUS = 1 << 8;
const F_PLUS = 1 << 9;
const F_ROMAN = 1 << 10;
const F_MULTI = 1 << 11;
const F_PLUS_POST = 1 << 12;
const F_MINUS_POST = 1 << 13;
const F_EEEE = 1 << 14;

const LSIGN_NONE = 0;
const LSIGN_PRE = -1;
const LSIGN_POST = 1;

interface NumDesc {
  pre: number;
  post: number;
  lsign: number;
  flag: number;
  preLsignNum: number;
  multi: number;
  zeroStart: number;
  zeroEnd: number;
}

type Node = { action: number } | { text: string };

function syntax(msg: string, detail?: string): PgError {
  return new PgError(SqlState.SyntaxError, msg, detail ? { detail } : {});
}

/** parse_format + NUMDesc_prepare for a number format. */
function parseFormat(fmt: string): { nodes: Node[]; num: NumDesc } {
  const num: NumDesc = {
    pre: 0,
    post: 0,
    lsign: LSIGN_NONE,
    flag: 0,
    preLsignNum: 0,
    multi: 0,
    zeroStart: 0,
    zeroEnd: 0,
  };
  const nodes: Node[] = [];
  let i = 0;
  while (i < fmt.length) {
    const kw = keywords.find(([k]) => fmt.startsWith(k, i));
    if (kw) {
      prepare(num, kw[1]);
      nodes.push({ action: kw[1] });
      i += kw[0].length;
      continue;
    }
    const c = fmt[i] as string;
    if (c === '"') {
      i++;
      let t = '';
      while (i < fmt.length && fmt[i] !== '"') {
        if (fmt[i] === '\\' && i + 1 < fmt.length) i++;
        t += fmt[i++];
      }
      i++;
      nodes.push({ text: t });
      continue;
    }
    if (c === '\\' && fmt[i + 1] === '"') {
      nodes.push({ text: '"' });
      i += 2;
      continue;
    }
    nodes.push({ text: c });
    i++;
  }
  return { nodes, num };
}

function prepare(num: NumDesc, id: number): void {
  const is = (f: number) => (num.flag & f) !== 0;
  if (is(F_EEEE) && id !== NUM_E) throw syntax('"EEEE" must be the last pattern used');
  switch (id) {
    case NUM_9:
      if (is(F_BRACKET)) throw syntax('"9" must be ahead of "PR"');
      if (is(F_MULTI)) {
        ++num.multi;
        break;
      }
      if (is(F_DECIMAL)) ++num.post;
      else ++num.pre;
      break;
    case NUM_0:
      if (is(F_BRACKET)) throw syntax('"0" must be ahead of "PR"');
      if (!is(F_ZERO) && !is(F_DECIMAL)) {
        num.flag |= F_ZERO;
        num.zeroStart = num.pre + 1;
      }
      if (!is(F_DECIMAL)) ++num.pre;
      else ++num.post;
      num.zeroEnd = num.pre + num.post;
      break;
    case NUM_B:
      if (num.pre === 0 && num.post === 0 && !is(F_ZERO)) num.flag |= F_BLANK;
      break;
    case NUM_D:
    case NUM_DEC:
      if (id === NUM_D) num.flag |= F_LDECIMAL;
      if (is(F_DECIMAL)) throw syntax('multiple decimal points');
      if (is(F_MULTI)) throw syntax('cannot use "V" and decimal point together');
      num.flag |= F_DECIMAL;
      break;
    case NUM_FM:
      num.flag |= F_FILLMODE;
      break;
    case NUM_S:
      if (is(F_LSIGN)) throw syntax('cannot use "S" twice');
      if (is(F_PLUS) || is(F_MINUS) || is(F_BRACKET))
        throw syntax('cannot use "S" and "PL"/"MI"/"SG"/"PR" together');
      if (!is(F_DECIMAL)) {
        num.lsign = LSIGN_PRE;
        num.preLsignNum = num.pre;
        num.flag |= F_LSIGN;
      } else if (num.lsign === LSIGN_NONE) {
        num.lsign = LSIGN_POST;
        num.flag |= F_LSIGN;
      }
      break;
    case NUM_MI:
      if (is(F_LSIGN)) throw syntax('cannot use "S" and "MI" together');
      num.flag |= F_MINUS;
      if (is(F_DECIMAL)) num.flag |= F_MINUS_POST;
      break;
    case NUM_PL:
      if (is(F_LSIGN)) throw syntax('cannot use "S" and "PL" together');
      num.flag |= F_PLUS;
      if (is(F_DECIMAL)) num.flag |= F_PLUS_POST;
      break;
    case NUM_SG:
      if (is(F_LSIGN)) throw syntax('cannot use "S" and "SG" together');
      num.flag |= F_MINUS | F_PLUS;
      break;
    case NUM_PR:
      if (is(F_LSIGN) || is(F_PLUS) || is(F_MINUS))
        throw syntax('cannot use "PR" and "S"/"PL"/"MI"/"SG" together');
      num.flag |= F_BRACKET;
      break;
    case NUM_rn:
    case NUM_RN:
      num.flag |= F_ROMAN;
      break;
    case NUM_V:
      if (is(F_DECIMAL)) throw syntax('cannot use "V" and decimal point together');
      num.flag |= F_MULTI;
      break;
    case NUM_E:
      if (is(F_EEEE)) throw syntax('cannot use "EEEE" twice');
      if (
        is(F_BLANK) ||
        is(F_FILLMODE) ||
        is(F_LSIGN) ||
        is(F_BRACKET) ||
        is(F_MINUS) ||
        is(F_PLUS) ||
        is(F_ROMAN) ||
        is(F_MULTI)
      ) {
        throw syntax(
          '"EEEE" is incompatible with other formats',
          '"EEEE" may only be used together with digit and decimal point patterns.',
        );
      }
      num.flag |= F_EEEE;
      break;
    default:
      break;
  }
}

const rm1 = ['I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX'];
const rm10 = ['X', 'XX', 'XXX', 'XL', 'L', 'LX', 'LXX', 'LXXX', 'XC'];
const rm100 = ['C', 'CC', 'CCC', 'CD', 'D', 'DC', 'DCC', 'DCCC', 'CM'];

function intToRoman(n: number): string {
  if (n > 3999 || n < 1) return '#'.repeat(15);
  const s = String(n);
  let out = '';
  for (let k = 0; k < s.length; k++) {
    const d = Number(s[k]) - 1;
    if (d < 0) continue;
    const len = s.length - k;
    if (len > 3) out += 'M'.repeat(d + 1);
    else out += (len === 3 ? rm100 : len === 2 ? rm10 : rm1)[d];
  }
  return out;
}

function getTh(num: string, upper: boolean): string {
  const len = num.length;
  let last = num.charCodeAt(len - 1) - 48;
  if (!(last >= 0 && last <= 9))
    throw new PgError(SqlState.InvalidTextRepresentation, `"${num}" is not a number`);
  if (len > 1 && num[len - 2] === '1') last = 0;
  const s = last === 1 ? 'st' : last === 2 ? 'nd' : last === 3 ? 'rd' : 'th';
  return upper ? s.toUpperCase() : s;
}

/** The exact decimal value of a double (every finite double is a finite decimal). */
function exactDecimal(x: number): Decimal {
  if (x === 0) return Decimal.zero;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (exp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = exp - 1075;
  }
  if (e >= 0) return new Decimal(sign * (mant << BigInt(e)), 0);
  // mant / 2^-e = mant * 5^-e / 10^-e
  return new Decimal(sign * mant * 5n ** BigInt(-e), -e);
}

/** C's "%.*f" of a double: its exact value rounded to `digits` places, ties to even. */
function cFixed(x: number, digits: number): string {
  const d = exactDecimal(x);
  if (digits >= d.scale) return d.rescale(digits).toString();
  const div = 10n ** BigInt(d.scale - digits);
  const neg = d.unscaled < 0n;
  const a = neg ? -d.unscaled : d.unscaled;
  let q = a / div;
  const r = a % div;
  if (r * 2n > div || (r * 2n === div && q % 2n === 1n)) q++;
  const s = new Decimal(neg ? -q : q, digits).toString();
  return neg && q === 0n ? '-' + s : s;
}

/** "%.*e" with a two-digit exponent: for doubles ties to even, for numerics half away from zero. */
function sciText(v: Decimal, digits: number, tiesEven: boolean): string {
  if (v.sign() === 0) return `${(0).toFixed(digits)}e+00`;
  const neg = v.sign() < 0;
  const a = neg ? v.neg() : v;
  const len = a.unscaled.toString().length;
  let exp10 = len - 1 - a.scale;
  const shift = a.scale - (digits - exp10);
  let m: bigint;
  if (shift > 0) {
    const div = 10n ** BigInt(shift);
    m = a.unscaled / div;
    const r = a.unscaled % div;
    if (r * 2n > div || (r * 2n === div && (!tiesEven || m % 2n === 1n))) m++;
  } else m = a.unscaled * 10n ** BigInt(-shift);
  if (m.toString().length > digits + 1) {
    m /= 10n;
    exp10++;
  }
  const ms = new Decimal(m, digits).toString();
  return `${neg ? '-' : ''}${ms}e${exp10 < 0 ? '-' : '+'}${String(Math.abs(exp10)).padStart(2, '0')}`;
}

/** The value to format: a Decimal (integers and numeric) or a float (with its type's digits). */
export type ToCharNumber = { kind: 'decimal'; v: Decimal } | { kind: 'float'; v: number; float4: boolean };

/** to_char(number, format). */
export function numberToChar(x: ToCharNumber, fmt: string): string {
  if (fmt === '') return '';
  const { nodes, num } = parseFormat(fmt);
  const is = (f: number) => (num.flag & f) !== 0;
  let numstr: string;
  let sign = '+';
  let outPreSpaces = 0;
  const nan = x.kind === 'float' ? Number.isNaN(x.v) : x.v.isNaN();
  const inf = x.kind === 'float' ? !Number.isFinite(x.v) && !nan : x.v.isInf();
  if (is(F_ROMAN)) {
    let n: number;
    if (x.kind === 'float') {
      if (nan || inf) throw new PgError(SqlState.NumericValueOutOfRange, 'integer out of range');
      const r = Math.round(x.v);
      n = Math.abs(x.v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
    } else {
      if (nan) throw new PgError(SqlState.FeatureNotSupported, 'cannot convert NaN to integer');
      if (inf) throw new PgError(SqlState.FeatureNotSupported, 'cannot convert infinity to integer');
      const r = x.v.rescale(0);
      if (r.unscaled > 2147483647n || r.unscaled < -2147483648n)
        throw new PgError(SqlState.NumericValueOutOfRange, 'integer out of range');
      n = Number(r.unscaled);
    }
    numstr = intToRoman(n);
  } else if (is(F_EEEE)) {
    if (nan || inf) {
      numstr = ' ' + '#'.repeat(num.pre + num.post + 5);
      numstr = numstr.slice(0, num.pre + 1) + '.' + numstr.slice(num.pre + 2);
    } else {
      const t =
        x.kind === 'float' ? sciText(exactDecimal(x.v), num.post, true) : sciText(x.v, num.post, false);
      numstr = t.startsWith('-') ? t : ' ' + t;
    }
  } else {
    let pre = num.pre;
    let post = num.post;
    let orgnum: string;
    if (x.kind === 'float') {
      let val = x.v;
      if (is(F_MULTI)) {
        val = val * 10 ** num.multi;
        pre += num.multi;
      }
      if (nan || inf) orgnum = Number.isNaN(val) ? 'NaN' : val > 0 ? 'Infinity' : '-Infinity';
      else {
        const maxDigits = x.float4 ? 6 : 15;
        const preLen = cFixed(Math.abs(val), 0).length;
        if (preLen >= maxDigits) post = 0;
        else if (preLen + post > maxDigits) post = maxDigits - preLen;
        orgnum = cFixed(val, post);
      }
    } else {
      let val = x.v;
      if (is(F_MULTI)) {
        val = val.mul(new Decimal(10n ** BigInt(num.multi), 0));
        pre += num.multi;
      }
      orgnum = val.isNaN() ? 'NaN' : val.rescale(post).toString();
    }
    num.pre = pre;
    num.post = post;
    if (orgnum.startsWith('-')) {
      sign = '-';
      numstr = orgnum.slice(1);
    } else numstr = orgnum;
    const dot = numstr.indexOf('.');
    const preLen = dot >= 0 ? dot : numstr.length;
    if (numstr === 'NaN' || numstr === 'Infinity') {
      numstr = '#'.repeat(num.pre + num.post + 1);
      numstr = numstr.slice(0, num.pre) + '.' + numstr.slice(num.pre + 1);
    } else if (preLen < num.pre) outPreSpaces = num.pre - preLen;
    else if (preLen > num.pre) {
      numstr = '#'.repeat(num.pre + num.post + 1);
      numstr = numstr.slice(0, num.pre) + '.' + numstr.slice(num.pre + 1);
    }
  }
  return processor(nodes, num, numstr, outPreSpaces, sign);
}

/** NUM_processor (to_char direction). */
function processor(
  nodes: Node[],
  num: NumDesc,
  number: string,
  outPreSpaces0: number,
  sign0: string,
): string {
  const is = (f: number) => (num.flag & f) !== 0;
  let sign = sign0;
  let signWrote: boolean;
  let outPreSpaces = outPreSpaces0;
  if (num.zeroStart) --num.zeroStart;
  if (is(F_EEEE)) return number;
  if (is(F_ROMAN)) {
    num.lsign = num.preLsignNum = num.post = num.pre = 0;
    outPreSpaces = 0;
    sign = '';
    num.flag = (is(F_FILLMODE) ? F_FILLMODE : 0) | F_ROMAN;
  }
  if (is(F_PLUS) || is(F_MINUS)) signWrote = !(is(F_PLUS) && !is(F_MINUS));
  else {
    if (sign !== '-') {
      if (is(F_BRACKET) && is(F_FILLMODE)) num.flag &= ~F_BRACKET;
      if (is(F_MINUS)) num.flag &= ~F_MINUS;
    } else if (is(F_PLUS)) num.flag &= ~F_PLUS;
    signWrote = sign === '+' && is(F_FILLMODE) && !is(F_LSIGN);
    if (num.lsign === LSIGN_PRE && num.pre === num.preLsignNum) num.lsign = LSIGN_POST;
  }
  let numCount = num.post + num.pre - 1;
  // Positions index `number`; lastRelevant is a position or -1.
  let lastRelevant = -1;
  if (is(F_FILLMODE) && is(F_DECIMAL)) {
    const p = number.indexOf('.');
    if (p >= 0) {
      lastRelevant = p;
      for (let k = p + 1; k < number.length; k++) if (number[k] !== '0') lastRelevant = k;
      if (num.zeroEnd > outPreSpaces) {
        const lastZeroPos = Math.min(number.length - 1, num.zeroEnd - outPreSpaces);
        if (lastRelevant < lastZeroPos) lastRelevant = lastZeroPos;
      }
    }
  }
  if (!signWrote && outPreSpaces === 0) ++numCount;
  const decimal = '.';
  const thousands = ',';
  const currency = ' ';
  let out = '';
  let numIn = false;
  let numCurr = 0;
  let np = 0; // number_p
  const numAt = (k: number) => number[k] ?? '';
  const predecSpace = () => !is(F_ZERO) && np === 0 && numAt(0) === '0' && num.post !== 0;
  const numpart = (id: number): void => {
    if (is(F_ROMAN)) return;
    numIn = false;
    if (
      !signWrote &&
      (numCurr >= outPreSpaces || (is(F_ZERO) && num.zeroStart === numCurr)) &&
      (!predecSpace() || (lastRelevant >= 0 && numAt(lastRelevant) === '.'))
    ) {
      if (is(F_LSIGN)) {
        if (num.lsign === LSIGN_PRE) {
          out += sign === '-' ? '-' : '+';
          signWrote = true;
        }
      } else if (is(F_BRACKET)) {
        out += sign === '+' ? ' ' : '<';
        signWrote = true;
      } else if (sign === '+') {
        if (!is(F_FILLMODE)) out += ' ';
        signWrote = true;
      } else if (sign === '-') {
        out += '-';
        signWrote = true;
      }
    }
    if (id === NUM_9 || id === NUM_0 || id === NUM_D || id === NUM_DEC) {
      if (numCurr < outPreSpaces && (num.zeroStart > numCurr || !is(F_ZERO))) {
        if (!is(F_FILLMODE)) out += ' ';
      } else if (is(F_ZERO) && numCurr < outPreSpaces && num.zeroStart <= numCurr) {
        out += '0';
        numIn = true;
      } else {
        if (numAt(np) === '.') {
          if (lastRelevant < 0 || numAt(lastRelevant) !== '.') out += decimal;
          else if (is(F_FILLMODE) && lastRelevant >= 0 && numAt(lastRelevant) === '.') out += decimal;
        } else {
          if (lastRelevant >= 0 && np > lastRelevant && id !== NUM_0) {
            // trailing zeros dropped by FM
          } else if (predecSpace()) {
            if (!is(F_FILLMODE)) out += ' ';
            else if (lastRelevant >= 0 && numAt(lastRelevant) === '.') out += '0';
          } else {
            out += numAt(np);
            numIn = true;
          }
        }
        if (np < number.length) ++np;
      }
      let end = numCount + (outPreSpaces ? 1 : 0) + (is(F_DECIMAL) ? 1 : 0);
      if (lastRelevant >= 0 && lastRelevant === np) end = numCurr;
      if (numCurr + 1 === end) {
        if (signWrote && is(F_BRACKET)) out += sign === '+' ? ' ' : '>';
        else if (is(F_LSIGN) && num.lsign === LSIGN_POST) out += sign === '-' ? '-' : '+';
      }
    }
    ++numCurr;
  };
  for (const n of nodes) {
    if ('text' in n) {
      out += n.text;
      continue;
    }
    switch (n.action) {
      case NUM_9:
      case NUM_0:
      case NUM_DEC:
      case NUM_D:
        numpart(n.action);
        break;
      case NUM_COMMA:
        if (!numIn) {
          if (!is(F_FILLMODE)) out += ' ';
        } else out += ',';
        break;
      case NUM_G:
        if (!numIn) {
          if (!is(F_FILLMODE)) out += ' ';
        } else out += thousands;
        break;
      case NUM_L:
        out += currency;
        break;
      case NUM_RN:
        out += is(F_FILLMODE) ? number : number.padStart(15);
        break;
      case NUM_rn:
        out += is(F_FILLMODE) ? number.toLowerCase() : number.toLowerCase().padStart(15);
        break;
      case NUM_th:
      case NUM_TH:
        if (is(F_ROMAN) || number[0] === '#' || sign === '-' || is(F_DECIMAL)) break;
        out += getTh(number, n.action === NUM_TH);
        break;
      case NUM_MI:
        if (sign === '-') out += '-';
        else if (!is(F_FILLMODE)) out += ' ';
        break;
      case NUM_PL:
        if (sign === '+') out += '+';
        else if (!is(F_FILLMODE)) out += ' ';
        break;
      case NUM_SG:
        out += sign;
        break;
      default:
        break;
    }
  }
  return out;
}

/** to_number(text, format): NUM_processor's input direction (NUM_numpart_from_char), then numeric_in with the format's precision and scale. */
export function numberFromChar(input: string, fmt: string): Decimal {
  const { nodes, num } = parseFormat(fmt);
  const is = (f: number) => (num.flag & f) !== 0;
  if (is(F_EEEE)) throw new PgError(SqlState.FeatureNotSupported, '"EEEE" not supported for input');
  if (is(F_ROMAN)) throw new PgError(SqlState.FeatureNotSupported, '"RN" not supported for input');
  const inp = input;
  const n = inp.length;
  let p = 0;
  let sign = ' ';
  let digits = '';
  let readPre = 0;
  let readPost = 0;
  let readDec = false;
  const overload = () => p >= n;
  const eatNonData = (k: number) => {
    while (k-- > 0) {
      if (overload()) break;
      if ('0123456789.,+-'.includes(inp[p] as string)) break;
      p++;
    }
  };
  const numpart = (): void => {
    let isread = false;
    if (overload()) return;
    if (inp[p] === ' ') p++;
    if (overload()) return;
    if (sign === ' ' && readPre + readPost === 0) {
      if (is(F_LSIGN) && num.lsign === LSIGN_PRE) {
        if (inp[p] === '-') {
          p++;
          sign = '-';
        } else if (inp[p] === '+') {
          p++;
          sign = '+';
        }
      } else if (inp[p] === '-' || (is(F_BRACKET) && inp[p] === '<')) {
        sign = '-';
        p++;
      } else if (inp[p] === '+') {
        sign = '+';
        p++;
      }
    }
    if (overload()) return;
    const c = inp[p] as string;
    if (c >= '0' && c <= '9') {
      if (readDec && readPost === num.post) return;
      digits += c;
      if (readDec) readPost++;
      else readPre++;
      isread = true;
    } else if (is(F_DECIMAL) && !readDec && c === '.') {
      digits += '.';
      readDec = true;
      isread = true;
    }
    if (overload()) return;
    if (sign === ' ' && readPre + readPost > 0) {
      if (is(F_LSIGN) && isread && p + 1 < n && !/[0-9]/.test(inp[p + 1] as string)) {
        const nx = inp[p + 1];
        if (nx === '-' || nx === '+') {
          p++;
          sign = nx;
        }
      } else if (!isread && !is(F_LSIGN) && (is(F_PLUS) || is(F_MINUS))) {
        if (inp[p] === '-' || inp[p] === '+') sign = inp[p] as string;
      }
    }
  };
  for (const node of nodes) {
    if (overload()) break;
    if ('text' in node) {
      p += [...node.text].length;
      continue;
    }
    switch (node.action) {
      case NUM_9:
      case NUM_0:
      case NUM_DEC:
      case NUM_D:
        numpart();
        break;
      case NUM_COMMA:
      case NUM_G:
        if (is(F_FILLMODE)) continue;
        if (inp[p] !== ',') continue;
        break;
      case NUM_L:
        eatNonData(1);
        continue;
      case NUM_th:
      case NUM_TH:
        eatNonData(2);
        continue;
      case NUM_MI:
        if (inp[p] === '-') sign = '-';
        else {
          eatNonData(1);
          continue;
        }
        break;
      case NUM_PL:
        if (inp[p] === '+') sign = '+';
        else {
          eatNonData(1);
          continue;
        }
        break;
      case NUM_SG:
        if (inp[p] === '-' || inp[p] === '+') sign = inp[p] as string;
        else {
          eatNonData(1);
          continue;
        }
        break;
      default:
        continue;
    }
    p++;
  }
  if (digits.endsWith('.')) digits = digits.slice(0, -1);
  const text = (sign === '-' ? '-' : '') + digits;
  if (digits === '') throw new PgError(SqlState.InvalidTextRepresentation, `invalid input syntax for type numeric: "${sign}"`);
  const scale = readPost;
  const precision = num.pre + num.multi + scale;
  let v = Decimal.parse(text);
  if (precision > 0) v = v.applyTypmod(precision, scale);
  if (is(F_MULTI)) v = v.mul(new Decimal(1n, num.multi));
  return v;
}
