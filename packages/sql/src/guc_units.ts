/**
 * Integer settings with a time unit (statement_timeout and friends), read and written as
 * PostgreSQL's guc.c does: `parse_int` (a C integer — decimal, 0x hex or 0 octal — or a decimal
 * fraction, optionally followed by a case-sensitive unit, rounded half to even to the base unit)
 * and `_ShowOption` (the largest unit that divides the value exactly: `3s`, `1min`, `1500ms`; 0
 * without a unit). Clients parse the shown value (`SHOW statement_timeout` → `3s`), so it must
 * be PostgreSQL's text, not ours.
 */
import { PgError, SqlState } from '@strata/common';

/** The time units of a millisecond-based setting, largest first (guc.c's memory_unit_conversion_table order). */
const msUnits: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['min', 60_000],
  ['s', 1000],
  ['ms', 1],
  ['us', 0.001],
];

const intMax = 2_147_483_647;
const intMin = -2_147_483_648;

/** Settings whose value is an int4 number of milliseconds, with their allowed range. */
export const msSettings: ReadonlyMap<string, { min: number; max: number }> = new Map([
  ['statement_timeout', { min: 0, max: intMax }],
  ['lock_timeout', { min: 0, max: intMax }],
  ['idle_in_transaction_session_timeout', { min: 0, max: intMax }],
  ['idle_session_timeout', { min: 0, max: intMax }],
]);

const unitHint = 'Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".';

function invalid(name: string, value: string, hint: string | undefined): PgError {
  return new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "${name}": "${value}"`, hint ? { hint } : {});
}

/** C's rint() in the default rounding mode: halves go to the even neighbour. */
function rintHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Parses a value of a millisecond setting as PostgreSQL does; returns milliseconds (22023 when invalid or out of range). */
export function parseMsSetting(name: string, value: string, range = msSettings.get(name) ?? { min: 0, max: intMax }): number {
  const s = value.replace(/^\s+/, '');
  // strtol(…, 0): sign, then 0x hex, 0 octal or decimal digits.
  const int = /^([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)/.exec(s);
  let n: number;
  let rest: string;
  if (int && !/^[.eE]/.test(s.slice(int[0].length))) {
    const digits = int[2] as string;
    const mag = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits.startsWith('0') ? parseInt(digits, 8) : Number(digits);
    n = int[1] === '-' ? -mag : mag;
    rest = s.slice(int[0].length);
    if (n > intMax || n < intMin) throw invalid(name, value, 'Value exceeds integer range.');
  } else {
    // A fraction or exponent: strtod.
    const dbl = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(s);
    if (!dbl) throw invalid(name, value, undefined);
    n = Number(dbl[0]);
    rest = s.slice(dbl[0].length);
  }
  rest = rest.replace(/^\s+/, '');
  let ms = n;
  if (rest !== '') {
    const m = /^([a-zA-Z]+)\s*$/.exec(rest);
    const unit = m ? msUnits.find(([u]) => u === m[1]) : undefined;
    if (!unit) throw invalid(name, value, unitHint);
    ms = n * unit[1];
  }
  ms = rintHalfEven(ms);
  if (!Number.isFinite(ms) || ms > intMax || ms < intMin) throw invalid(name, value, 'Value exceeds integer range.');
  if (ms < range.min || ms > range.max) {
    throw new PgError(SqlState.InvalidParameterValue, `${ms} ms is outside the valid range for parameter "${name}" (${range.min} .. ${range.max})`);
  }
  return ms;
}

/** How PostgreSQL shows a millisecond setting: 0 bare, else in the largest unit dividing it. */
export function formatMsSetting(ms: number): string {
  if (ms <= 0) return String(ms);
  for (const [u, mult] of msUnits) if (mult >= 1 && ms % mult === 0) return `${ms / mult}${u}`;
  return `${ms}ms`;
}
