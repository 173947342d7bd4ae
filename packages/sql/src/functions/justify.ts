/**
 * justify_days, justify_hours and justify_interval as PostgreSQL's timestamp.c computes them:
 * whole 30-day months and 24-hour days are moved up, then signs are made consistent ('1 mon -1
 * day' is '29 days'), and a field pushed beyond int32 is 22008 "interval out of range".
 */
import { PgError, SqlState } from '@strata/common';
import { T } from '../types/types.js';
import type { Interval } from '../types/datetime.js';
import { def } from './registry.js';

const usPerDay = 86_400_000_000;
const daysPerMonth = 30;
const int32Min = -2147483648;
const int32Max = 2147483647;

function add32(a: number, b: number): number {
  const r = a + b;
  if (r < int32Min || r > int32Max) throw new PgError(SqlState.DatetimeFieldOverflow, 'interval out of range');
  return r;
}

export function justifyDays(iv: Interval): Interval {
  let { months, days } = iv;
  const whole = Math.trunc(days / daysPerMonth);
  days -= whole * daysPerMonth;
  months = add32(months, whole);
  if (months > 0 && days < 0) {
    days += daysPerMonth;
    months--;
  } else if (months < 0 && days > 0) {
    days -= daysPerMonth;
    months++;
  }
  return { months, days, micros: iv.micros };
}

export function justifyHours(iv: Interval): Interval {
  let { days, micros } = iv;
  const whole = Math.trunc(micros / usPerDay);
  micros -= whole * usPerDay;
  days = add32(days, whole);
  if (days > 0 && micros < 0) {
    micros += usPerDay;
    days--;
  } else if (days < 0 && micros > 0) {
    micros -= usPerDay;
    days++;
  }
  return { months: iv.months, days, micros };
}

export function justifyInterval(iv: Interval): Interval {
  let { months, days, micros } = iv;
  // Pre-justify days when it may prevent an overflow (same signs).
  if ((days > 0 && micros > 0) || (days < 0 && micros < 0)) {
    const wm = Math.trunc(days / daysPerMonth);
    days -= wm * daysPerMonth;
    months = add32(months, wm);
  }
  const wd = Math.trunc(micros / usPerDay);
  micros -= wd * usPerDay;
  days = add32(days, wd);
  const wm = Math.trunc(days / daysPerMonth);
  days -= wm * daysPerMonth;
  months = add32(months, wm);
  if (months > 0 && (days < 0 || (days === 0 && micros < 0))) {
    days += daysPerMonth;
    months--;
  } else if (months < 0 && (days > 0 || (days === 0 && micros > 0))) {
    days -= daysPerMonth;
    months++;
  }
  if (days > 0 && micros < 0) {
    micros += usPerDay;
    days--;
  } else if (days < 0 && micros > 0) {
    micros -= usPerDay;
    days++;
  }
  return { months, days, micros };
}

def('justify_days', { args: [T.interval], result: T.interval, fn: ([v]) => justifyDays(v as Interval) });
def('justify_hours', { args: [T.interval], result: T.interval, fn: ([v]) => justifyHours(v as Interval) });
def('justify_interval', { args: [T.interval], result: T.interval, fn: ([v]) => justifyInterval(v as Interval) });
