/**
 * `time with time zone` (timetz), as PostgreSQL 15's date.c: a time of day and a fixed UTC
 * offset. A value is held as its output text (`12:34:56.5+02`, canonical: one text per value);
 * the functions here read it back into microseconds and the zone when they compute. `zone` is
 * PostgreSQL's: seconds WEST of UTC (so `+02` is −7200). Pure.
 */
import { PgError, SqlState } from '@strata/common';
import { formatOffset, formatTime, usPerDay, usPerSec } from './datetime.js';

export interface TimeTz {
  /** Microseconds since midnight, 0 to 24:00:00 inclusive (PostgreSQL allows 24:00:00). */
  us: number;
  /** Seconds west of UTC. */
  zone: number;
}

/** PostgreSQL's TZDISP_LIMIT: a zone of at most ±15:59:59. */
const zoneSecondsMax = 15 * 3600 + 59 * 60 + 59;

/** timetz_out: the time, then the offset (hours, and minutes/seconds when not zero). */
export function formatTimeTz(x: TimeTz): string {
  return formatTime(x.us) + formatOffset(-x.zone);
}

/** Reads a stored (canonical) value back. */
export function timeTzOf(v: string): TimeTz {
  const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?$/.exec(v);
  if (!m) throw new PgError(SqlState.InternalError, `corrupt timetz value "${v}"`);
  const us = ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * usPerSec + (m[4] ? Number(m[4].padEnd(6, '0')) : 0);
  const off = Number(m[6]) * 3600 + Number(m[7] ?? 0) * 60 + Number(m[8] ?? 0);
  return { us, zone: m[5] === '+' ? -off : off };
}

export function makeTimeTz(us: number, zone: number): string {
  if (Math.abs(zone) > zoneSecondsMax) throw new PgError(SqlState.InvalidTimeZoneDisplacementValue, 'time zone displacement out of range');
  return formatTimeTz({ us, zone });
}

/** timetz_cmp: the UTC instant first, then the zone (equal only when both parts are). */
export function compareTimeTz(a: string, b: string): number {
  const x = timeTzOf(a);
  const y = timeTzOf(b);
  const tx = x.us + x.zone * usPerSec;
  const ty = y.us + y.zone * usPerSec;
  if (tx !== ty) return tx < ty ? -1 : 1;
  return x.zone === y.zone ? 0 : x.zone > y.zone ? 1 : -1;
}

/** timetz_send: int64 microseconds, int32 zone (seconds west). */
export function timeTzToBinary(v: string): Buffer {
  const x = timeTzOf(v);
  const b = Buffer.alloc(12);
  b.writeBigInt64BE(BigInt(x.us), 0);
  b.writeInt32BE(x.zone, 8);
  return b;
}

/** timetz_recv with its range checks. */
export function timeTzFromBinary(b: Buffer): string {
  if (b.length !== 12) throw new PgError(SqlState.InvalidBinaryRepresentation, `incorrect binary data format (want 12 bytes for timetz, got ${b.length})`);
  const us = Number(b.readBigInt64BE(0));
  const zone = b.readInt32BE(8);
  if (us < 0 || us > usPerDay) throw new PgError(SqlState.NumericValueOutOfRange, 'time out of range');
  if (Math.abs(zone) > zoneSecondsMax) throw new PgError(SqlState.InvalidTimeZoneDisplacementValue, 'time zone displacement out of range');
  return formatTimeTz({ us, zone });
}
