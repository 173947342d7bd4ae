/**
 * PostgreSQL's advanced regular expressions (AREs, the syntax of `~`, `regexp_*` and `substring
 * … from`) translated into RE2 syntax, so that they run on a linear-time engine (re2js): no
 * pattern can make a match take exponential time.
 *
 * The translation is a single left-to-right pass that checks the ARE grammar as PostgreSQL does and
 * emits only RE2 constructs it understands; it never passes text through for RE2 to interpret, so
 * RE2-only syntax (`\p{…}`, `\Q…\E`, `(?P<n>…)`) is refused like PostgreSQL refuses it.
 *
 * Not supported (RE2 cannot do them in linear time): back references (`\1`…`\9`) and lookahead
 * constraints (`(?=…)`, `(?!…)`). They fail with 2201B, never with a wrong answer. Lookbehind
 * constraints (`(?<=…)`, `(?<!…)`) are supported (re2js runs captureless lookbehinds in linear
 * time). Word boundaries (`\m \M \y \Y [[:<:]] [[:>:]]`) use ASCII word characters. Basic and
 * extended REs (embedded options `b`, `e`) are refused.
 */
import { PgError, SqlState } from '@strata/common';
import { regexRepeatMax } from '../constants.js';

export interface RegexOptions {
  caseInsensitive: boolean;
  /** `.` and `[^…]` do not match a newline (options n, p). */
  newlineStopsDot: boolean;
  /** `^` and `$` also match at newlines (options n, w). */
  multiline: boolean;
  /** Whitespace and #-comments are ignored (option x). */
  expanded: boolean;
  /** The whole pattern is a literal string (option q, or a `***=` prefix). */
  literal: boolean;
}

export interface Translated {
  /** RE2 syntax. */
  source: string;
  options: RegexOptions;
  /** The pattern uses lookbehind (re2js needs its LOOKBEHINDS flag). */
  lookbehind: boolean;
  /** Some quantifier is non-greedy (then matches follow Perl's leftmost-first rule). */
  nonGreedy: boolean;
  /** Capturing groups, in order. */
  groups: number;
}

export function invalidRegex(what: string): PgError {
  return new PgError(SqlState.InvalidRegularExpression, `invalid regular expression: ${what}`);
}

function unsupported(what: string): PgError {
  return new PgError(
    SqlState.InvalidRegularExpression,
    `invalid regular expression: ${what} are not supported`,
    {
      hint: 'Strata runs regular expressions on a linear-time engine (RE2), which has no back references or lookahead constraints.',
    },
  );
}

export function defaultOptions(): RegexOptions {
  return {
    caseInsensitive: false,
    newlineStopsDot: false,
    multiline: false,
    expanded: false,
    literal: false,
  };
}

/**
 * Applies option letters (embedded `(?…)` options or a regexp_* flags argument, without `g`).
 * Returns false for `b`/`e` (BRE/ERE), which the caller refuses.
 */
export function applyOption(o: RegexOptions, c: string): boolean {
  switch (c) {
    case 'b':
    case 'e':
      return false;
    case 'c':
      o.caseInsensitive = false;
      return true;
    case 'i':
      o.caseInsensitive = true;
      return true;
    case 'm':
    case 'n':
      o.newlineStopsDot = true;
      o.multiline = true;
      return true;
    case 'p':
      o.newlineStopsDot = true;
      o.multiline = false;
      return true;
    case 'w':
      o.newlineStopsDot = false;
      o.multiline = true;
      return true;
    case 's':
      o.newlineStopsDot = false;
      o.multiline = false;
      return true;
    case 'q':
      o.literal = true;
      return true;
    case 't':
      o.expanded = false;
      return true;
    case 'x':
      o.expanded = true;
      return true;
    default:
      throw new PgError(SqlState.InvalidParameterValue, `invalid regular expression option: "${c}"`);
  }
}

const re2Special = new Set(['\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$']);

/** One character as an RE2 literal. */
function lit(c: string): string {
  return re2Special.has(c) ? '\\' + c : c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : c;
}

/** One character as a literal inside an RE2 class. */
function classLit(c: string): string {
  return c === '\\' || c === ']' || c === '[' || c === '^' || c === '-' ? '\\' + c : c === '\n' ? '\\n' : c;
}

/** PostgreSQL's character classes (as glibc's C.UTF-8 classifies characters), as RE2 class items. */
const posixClasses: Record<string, string> = {
  alpha: '\\p{L}',
  alnum: '\\p{L}\\p{Nd}',
  upper: '\\p{Lu}\\p{Lt}',
  lower: '\\p{Ll}',
  digit: '0-9',
  xdigit: '0-9A-Fa-f',
  space: '\\t\\n\\x0B\\f\\r ',
  blank: ' \\t',
  punct: '\\p{P}\\p{S}',
  cntrl: '\\p{Cc}',
  graph: '\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}',
  print: '\\p{L}\\p{M}\\p{N}\\p{P}\\p{S} ',
};

/** Class escapes: \d \s \w, and their negations outside brackets. */
const classEscapes: Record<string, string> = { d: '0-9', s: '\\t\\n\\x0B\\f\\r ', w: '\\p{L}\\p{Nd}_' };

const isHex = (c: string | undefined) => c !== undefined && /^[0-9A-Fa-f]$/.test(c);
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isAlnum = (c: string) => /^[A-Za-z0-9]$/.test(c);

function codepoint(n: number): string {
  if (!(n >= 0 && n <= 0x10ffff) || (n >= 0xd800 && n <= 0xdfff))
    throw invalidRegex('invalid escape \\ sequence');
  return String.fromCodePoint(n);
}

/**
 * Translates a PostgreSQL ARE (with the options already given, e.g. by `~*` or a flags argument)
 * into RE2 syntax. Throws 2201B for what PostgreSQL refuses and for what RE2 cannot run.
 */
export function translateAre(pattern: string, given: RegexOptions): Translated {
  const o: RegexOptions = { ...given };
  let p = pattern;
  // Director prefixes: ***= makes the rest a literal, ***: an ARE (what we parse anyway).
  if (p.startsWith('***=')) {
    o.literal = true;
    p = p.slice(4);
  } else if (p.startsWith('***:')) p = p.slice(4);
  if (o.literal)
    return { source: [...p].map(lit).join(''), options: o, lookbehind: false, nonGreedy: false, groups: 0 };
  // Embedded options, only at the very start (PostgreSQL refuses them elsewhere).
  const em = /^\(\?([a-z]*)\)/.exec(p);
  if (em) {
    for (const c of em[1] as string)
      if (!applyOption(o, c)) throw unsupported('basic and extended (non-advanced) regular expressions');
    p = p.slice(em[0].length);
    if (o.literal)
      return { source: [...p].map(lit).join(''), options: o, lookbehind: false, nonGreedy: false, groups: 0 };
  }
  const t = new Translator(p, o);
  t.run();
  return { source: t.out, options: o, lookbehind: t.lookbehind, nonGreedy: t.nonGreedy, groups: t.groups };
}

class Translator {
  out = '';
  lookbehind = false;
  nonGreedy = false;
  groups = 0;
  private i = 0;
  /** Open parentheses: 'capture' | 'plain' | 'behind'. */
  private readonly stack: ('capture' | 'plain' | 'behind')[] = [];
  /** Whether the last emitted item may take a quantifier. */
  private quantifiable = false;

  constructor(
    private readonly p: string,
    private readonly o: RegexOptions,
  ) {}

  private get inLookbehind(): boolean {
    return this.stack.includes('behind');
  }

  run(): void {
    const p = this.p;
    while (this.i < p.length) {
      const c = p[this.i] as string;
      if (
        this.o.expanded &&
        (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v')
      ) {
        this.i++;
        continue;
      }
      if (this.o.expanded && c === '#') {
        while (this.i < p.length && p[this.i] !== '\n') this.i++;
        continue;
      }
      switch (c) {
        case '\\':
          this.escape();
          break;
        case '(':
          this.open();
          break;
        case ')':
          if (this.stack.length === 0) throw invalidRegex('parentheses () not balanced');
          this.stack.pop();
          this.out += ')';
          this.i++;
          this.quantifiable = true;
          break;
        case '[':
          this.bracket();
          break;
        case '*':
        case '+':
        case '?':
          this.quantifier(c);
          break;
        case '{':
          if (isDigit(p[this.i + 1])) this.bound();
          else this.atom('\\{');
          break;
        case '|':
          this.out += '|';
          this.i++;
          this.quantifiable = false;
          break;
        case '^':
        case '$':
          this.out += c;
          this.i++;
          this.quantifiable = false;
          break;
        case '.':
          this.atom('.'); // the DOTALL flag decides whether it matches a newline
          break;
        default: {
          const cp = p.codePointAt(this.i) as number;
          const ch = String.fromCodePoint(cp);
          this.i += ch.length - 1;
          this.atom(lit(ch));
        }
      }
    }
    if (this.stack.length > 0) throw invalidRegex('parentheses () not balanced');
  }

  /** Emits a quantifiable item and moves past one character of the pattern. */
  private atom(s: string, advance = 1): void {
    this.out += s;
    this.i += advance;
    this.quantifiable = true;
  }

  private quantifier(c: string): void {
    if (!this.quantifiable) throw invalidRegex('quantifier operand invalid');
    this.i++;
    let q = c;
    if (this.p[this.i] === '?') {
      q += '?';
      this.i++;
      this.nonGreedy = true;
    }
    this.out += q;
    this.quantifiable = false;
  }

  private bound(): void {
    if (!this.quantifiable) throw invalidRegex('quantifier operand invalid');
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.p.slice(this.i, this.i + 24));
    if (!m)
      throw invalidRegex(
        /^\{\d+(,\d*)?$/.test(this.p.slice(this.i))
          ? 'braces {} not balanced'
          : 'invalid repetition count(s)',
      );
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : m[3] === '' ? Infinity : Number(m[3]);
    if (lo > regexRepeatMax || (hi !== Infinity && (hi > regexRepeatMax || hi < lo)))
      throw invalidRegex('invalid repetition count(s)');
    this.i += m[0].length;
    let q = m[0];
    if (this.p[this.i] === '?') {
      q += '?';
      this.i++;
      this.nonGreedy = true;
    }
    this.out += q;
    this.quantifiable = false;
  }

  private open(): void {
    const p = this.p;
    if (p[this.i + 1] !== '?') {
      this.i++;
      if (this.inLookbehind) {
        // Parentheses inside lookaround constraints do not capture (PostgreSQL's rule too).
        this.stack.push('plain');
        this.out += '(?:';
      } else {
        this.stack.push('capture');
        this.groups++;
        this.out += '(';
      }
      this.quantifiable = false;
      return;
    }
    const k = p.slice(this.i + 2, this.i + 4);
    if (k[0] === ':') {
      this.stack.push('plain');
      this.out += '(?:';
      this.i += 3;
    } else if (k[0] === '=' || k[0] === '!') {
      throw unsupported('lookahead constraints (?= and (?!');
    } else if (k === '<=' || k === '<!') {
      this.stack.push('behind');
      this.lookbehind = true;
      this.out += '(?' + k;
      this.i += 4;
    } else throw invalidRegex('quantifier operand invalid');
    this.quantifiable = false;
  }

  private escape(): void {
    const p = this.p;
    const c = p[this.i + 1];
    if (c === undefined) throw invalidRegex('invalid escape \\ sequence');
    // Constraint escapes.
    switch (c) {
      case 'A':
        this.out += '\\A';
        this.i += 2;
        this.quantifiable = false;
        return;
      case 'Z':
        this.out += '\\z';
        this.i += 2;
        this.quantifiable = false;
        return;
      case 'y':
        this.out += '\\b';
        this.i += 2;
        this.quantifiable = false;
        return;
      case 'Y':
        this.out += '\\B';
        this.i += 2;
        this.quantifiable = false;
        return;
      case 'm':
      case 'M':
        this.wordEdge(c === 'm');
        this.i += 2;
        return;
      default:
        break;
    }
    // Class-shorthand escapes.
    const cls = classEscapes[c.toLowerCase()];
    if (cls !== undefined && (c === 'd' || c === 's' || c === 'w' || c === 'D' || c === 'S' || c === 'W')) {
      this.atom(c === c.toLowerCase() ? `[${cls}]` : `[^${cls}]`, 2);
      return;
    }
    if (isDigit(c) && c !== '0') throw unsupported('back references (\\1 … \\9)');
    const ch = this.charEscape();
    this.out += lit(ch);
    this.quantifiable = true;
  }

  /** `\m` (start of a word) and `\M` (end of a word), from a boundary and a lookbehind. */
  private wordEdge(start: boolean): void {
    this.out += start ? '\\b(?<!\\w)' : '\\b(?<=\\w)';
    this.lookbehind = true;
    this.quantifiable = false;
  }

  /**
   * A character-entry escape at this.i (the backslash): returns the character and moves past it.
   * Shared by the outside of brackets and their inside.
   */
  private charEscape(): string {
    const p = this.p;
    const c = p[this.i + 1] as string;
    this.i += 2;
    switch (c) {
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'B':
        return '\\';
      case 'e':
        return '\x1b';
      case 'f':
        return '\f';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'v':
        return '\v';
      case 'c': {
        const x = p[this.i];
        if (x === undefined) throw invalidRegex('invalid escape \\ sequence');
        this.i++;
        return String.fromCharCode(x.charCodeAt(0) & 0x1f);
      }
      case 'u':
      case 'U': {
        const n = c === 'u' ? 4 : 8;
        const h = p.slice(this.i, this.i + n);
        if (h.length !== n || ![...h].every(isHex)) throw invalidRegex('invalid escape \\ sequence');
        this.i += n;
        return codepoint(parseInt(h, 16));
      }
      case 'x': {
        let j = this.i;
        while (j < p.length && j - this.i < 8 && isHex(p[j])) j++;
        if (j === this.i) throw invalidRegex('invalid escape \\ sequence');
        const v = parseInt(p.slice(this.i, j), 16);
        this.i = j;
        return codepoint(v);
      }
      case '0': {
        let j = this.i;
        while (
          j < p.length &&
          j - this.i < 2 &&
          p[j] !== undefined &&
          (p[j] as string) >= '0' &&
          (p[j] as string) <= '7'
        )
          j++;
        const v = j === this.i ? 0 : parseInt(p.slice(this.i, j), 8);
        this.i = j;
        return codepoint(v);
      }
      default:
        if (isAlnum(c)) throw invalidRegex('invalid escape \\ sequence');
        {
          // Any other character stands for itself (a whole code point).
          const cp = p.codePointAt(this.i - 1) as number;
          const ch = String.fromCodePoint(cp);
          this.i += ch.length - 1;
          return ch;
        }
    }
  }

  private bracket(): void {
    const p = this.p;
    // [[:<:]] and [[:>:]]: PostgreSQL's start and end of a word.
    if (p.startsWith('[[:<:]]', this.i) || p.startsWith('[[:>:]]', this.i)) {
      this.wordEdge(p[this.i + 3] === '<');
      this.i += 7;
      return;
    }
    this.i++;
    let negate = false;
    if (p[this.i] === '^') {
      negate = true;
      this.i++;
    }
    let items = '';
    let first = true;
    for (;;) {
      if (this.i >= p.length) throw invalidRegex('brackets [] not balanced');
      const c = p[this.i] as string;
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      if (c === '[' && (p[this.i + 1] === ':' || p[this.i + 1] === '.' || p[this.i + 1] === '=')) {
        const kind = p[this.i + 1] as string;
        const end = p.indexOf(kind + ']', this.i + 2);
        if (end < 0) throw invalidRegex('brackets [] not balanced');
        const name = p.slice(this.i + 2, end);
        this.i = end + 2;
        if (kind === ':') {
          const cls = posixClasses[name];
          if (cls === undefined) throw invalidRegex('invalid character class');
          items += cls;
        } else {
          // Collating elements and equivalence classes: single characters only (C collation).
          if ([...name].length !== 1) throw invalidRegex('invalid collating element');
          items += this.rangeTail(name);
        }
        continue;
      }
      if (c === '\\') {
        const e = p[this.i + 1];
        if (e !== undefined && (e === 'd' || e === 's' || e === 'w')) {
          items += classEscapes[e];
          this.i += 2;
          continue;
        }
        if (e !== undefined && (e === 'D' || e === 'S' || e === 'W'))
          throw invalidRegex('invalid escape \\ sequence');
        if (isDigit(e) && e !== '0') throw unsupported('back references (\\1 … \\9)');
        const ch = this.charEscape();
        items += this.rangeTail(ch);
        continue;
      }
      const cp = p.codePointAt(this.i) as number;
      const ch = String.fromCodePoint(cp);
      this.i += ch.length;
      items += this.rangeTail(ch);
    }
    if (negate && this.o.newlineStopsDot) items += '\\n';
    this.out += (negate ? '[^' : '[') + items + ']';
    this.quantifiable = true;
  }

  /** After one bracket character `lo`: a range `lo-hi` if one follows, else `lo` alone. */
  private rangeTail(lo: string): string {
    const p = this.p;
    if (p[this.i] === '-' && p[this.i + 1] !== undefined && p[this.i + 1] !== ']') {
      this.i++;
      let hi: string;
      if (p[this.i] === '\\') hi = this.charEscape();
      else if (p[this.i] === '[' && (p[this.i + 1] === '.' || p[this.i + 1] === '=')) {
        const kind = p[this.i + 1] as string;
        const end = p.indexOf(kind + ']', this.i + 2);
        if (end < 0) throw invalidRegex('brackets [] not balanced');
        hi = p.slice(this.i + 2, end);
        if ([...hi].length !== 1) throw invalidRegex('invalid collating element');
        this.i = end + 2;
      } else {
        const cp = p.codePointAt(this.i) as number;
        hi = String.fromCodePoint(cp);
        this.i += hi.length;
      }
      if ((lo.codePointAt(0) as number) > (hi.codePointAt(0) as number))
        throw invalidRegex('invalid character range');
      return classLit(lo) + '-' + classLit(hi);
    }
    return classLit(lo);
  }
}
