/**
 * interval × float and interval ÷ float as timestamp.c's interval_mul/interval_div: months and
 * days scaled and truncated, their fractions cascaded into days and seconds (30-day months,
 * rounded to microseconds), results range-checked (22008).
 */
import { PgError, SqlState } from '@strata/common';
import type { Interval } from './datetime.js';

const secsPerDay = 86400;
const usPerSec = 1_000_000;

function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
const tsRound = (j: number) => rint(j * 1_000_000) / 1_000_000;

function outOfRange(): PgError {
  return new PgError(SqlState.DatetimeFieldOverflow, 'interval out of range');
}

function fitsInt32(x: number): boolean {
  return !Number.isNaN(x) && x >= -2147483648 && x < 2147483648;
}

function scale(span: Interval, mulMonths: number, mulDays: number, mulTime: (t: number) => number): Interval {
  if (!fitsInt32(mulMonths) || !fitsInt32(mulDays)) throw outOfRange();
  const months = Math.trunc(mulMonths);
  let days = Math.trunc(mulDays);
  const monthRemainderDays = tsRound((mulMonths - months) * 30);
  let secRemainder = tsRound(
    (mulDays - days + monthRemainderDays - Math.trunc(monthRemainderDays)) * secsPerDay,
  );
  if (Math.abs(secRemainder) >= secsPerDay) {
    days += Math.trunc(secRemainder / secsPerDay);
    secRemainder -= Math.trunc(secRemainder / secsPerDay) * secsPerDay;
  }
  days += Math.trunc(monthRemainderDays);
  if (!fitsInt32(days)) throw outOfRange();
  const time = rint(mulTime(span.micros) + secRemainder * usPerSec);
  if (!Number.isFinite(time) || Math.abs(time) >= 2 ** 63) throw outOfRange();
  return { months, days, micros: time };
}

export function intervalMul(span: Interval, factor: number): Interval {
  if (Number.isNaN(factor)) throw outOfRange();
  return scale(span, span.months * factor, span.days * factor, (t) => t * factor);
}

export function intervalDiv(span: Interval, factor: number): Interval {
  if (factor === 0) throw new PgError(SqlState.DivisionByZero, 'division by zero');
  if (Number.isNaN(factor)) throw outOfRange();
  return scale(span, span.months / factor, span.days / factor, (t) => t / factor);
}
