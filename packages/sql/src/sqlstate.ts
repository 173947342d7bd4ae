/**
 * SQLSTATEs the SQL layer raises that @strata/common's SqlState table does not list yet (that
 * package belongs to another layer; these belong there and can move once it lists them). The
 * codes are PostgreSQL's (Appendix A); the cast only widens the table's literal type.
 */
import type { SqlState } from '@strata/common';

export const SqlStateX = {
  IntervalFieldOverflow: '22015' as SqlState,
  InvalidPrecedingOrFollowingSize: '22013' as SqlState,
  InvalidArgumentForNthValue: '22016' as SqlState,
  InvalidArgumentForNtile: '22014' as SqlState,
  ArraySubscriptError: '2202E' as SqlState,
  SubstringError: '22011' as SqlState,
  InvalidArgumentForLogarithm: '2201E' as SqlState,
  InvalidArgumentForPowerFunction: '2201F' as SqlState,
  InvalidArgumentForWidthBucket: '2201G' as SqlState,
  CharacterNotInRepertoire: '22021' as SqlState,
  UntranslatableCharacter: '22P05' as SqlState,
  InvalidDatetimeFormat: '22007' as SqlState,
  InvalidTimeZoneDisplacementValue: '22009' as SqlState,
  DatetimeFieldOverflow: '22008' as SqlState,
  InvalidJsonText: '22P02' as SqlState,
  SqlJsonScalarRequired: '2203F' as SqlState,
  DuplicateAlias: '42712' as SqlState,
} as const;
