/**
 * JSON aggregates and bitwise aggregates: json_agg/jsonb_agg (NULL values kept as JSON null),
 * json_object_agg/jsonb_object_agg (NULL keys refused), bit_and/bit_or/bit_xor over integers;
 * each NULL for an empty group, as PostgreSQL.
 */
import { PgError, SqlState } from '@strata/common';
import { toJsonText, toJsonb } from '../functions/json_build.js';
import { formatValue } from '../types/types.js';
import type { SqlType, Value } from '../types/types.js';
import type { Accumulator } from './aggregate.js';

export const jsonAggregateNames = new Set([
  'json_agg',
  'jsonb_agg',
  'json_object_agg',
  'jsonb_object_agg',
  'bit_and',
  'bit_or',
  'bit_xor',
]);

export function jsonAggregate(name: string, types: SqlType[]): Accumulator {
  const t0 = types[0] as SqlType;
  const t1 = types[1] as SqlType;
  switch (name) {
    case 'json_agg': {
      // json_agg_transfn: ", " between elements, plus "\n " before a non-NULL array or record.
      const structured = t0.kind === 'array' || t0.kind === 'record';
      let text = '';
      let n = 0;
      return {
        add([v], ctx) {
          if (n++ > 0) text += v !== null && v !== undefined && structured ? ', \n ' : ', ';
          text += toJsonText(v ?? null, t0, ctx);
        },
        result: () => (n === 0 ? null : { json: '[' + text + ']' }),
      };
    }
    case 'jsonb_agg': {
      const items: unknown[] = [];
      let any = false;
      return {
        add([v], ctx) {
          any = true;
          items.push(toJsonb(v ?? null, t0, ctx));
        },
        result: () => (any ? { jsonb: items } : null),
      };
    }
    case 'json_object_agg':
    case 'jsonb_object_agg': {
      const textParts: string[] = [];
      const obj: Record<string, unknown> = {};
      let any = false;
      return {
        add([k, v], ctx) {
          if (k === null || k === undefined)
            throw new PgError(SqlState.NullValueNotAllowed, 'field name must not be null');
          any = true;
          const key = typeof k === 'string' ? k : (formatValue(k, t0, ctx.vctx) as string);
          if (name === 'json_object_agg')
            textParts.push(`${JSON.stringify(key)} : ${toJsonText(v ?? null, t1, ctx)}`);
          else obj[key] = toJsonb(v ?? null, t1, ctx);
        },
        result: () =>
          !any
            ? null
            : name === 'json_object_agg'
              ? { json: '{ ' + textParts.join(', ') + ' }' }
              : { jsonb: obj },
      };
    }
    default: {
      // bit_and / bit_or / bit_xor over int2/int4/int8.
      let acc: Value = null;
      return {
        add([v]) {
          if (v === null || v === undefined) return;
          if (acc === null) {
            acc = v;
            return;
          }
          if (typeof v === 'bigint') {
            const a = acc as bigint;
            acc = name === 'bit_and' ? a & v : name === 'bit_or' ? a | v : a ^ v;
          } else {
            const a = acc as number;
            const b = v as number;
            acc = name === 'bit_and' ? a & b : name === 'bit_or' ? a | b : a ^ b;
          }
        },
        result: () => acc,
      };
    }
  }
}
