/**
 * The FunctionCall message (PostgreSQL's fastpath.c): a function called by OID with its arguments
 * in text or binary, answered by FunctionCallResponse ('V') and ReadyForQuery. libpq's large-object
 * API (lo_open, loread, lowrite, … — psycopg2's lobject) is its user. Only the functions pg_proc
 * lists may be called (the large-object functions); another OID is 42883 as in PostgreSQL.
 */
import { PgError, SqlState } from '@strata/common';
import { largeObjectProcs } from '@strata/sql';
import type { SqlType } from '@strata/sql';
import { MessageReader, malformed } from './reader.js';

export interface FunctionCall {
  name: string;
  argTypes: SqlType[];
  resultType: SqlType;
  /** Each argument's bytes (null: SQL NULL) and format (0 text, 1 binary). */
  args: { raw: Buffer | null; format: number }[];
  resultFormat: number;
}

export function parseFunctionCall(body: Buffer): FunctionCall {
  const r = new MessageReader(body);
  const oid = r.int32() >>> 0;
  const nf = r.uint16();
  const formats: number[] = [];
  for (let i = 0; i < nf; i++) formats.push(r.int16());
  const n = r.uint16();
  if (nf > 1 && nf !== n) throw malformed(`function call message contains ${nf} argument formats but ${n} arguments`);
  const args: { raw: Buffer | null; format: number }[] = [];
  for (let i = 0; i < n; i++) {
    const len = r.int32();
    const format = nf === 0 ? 0 : nf === 1 ? (formats[0] as number) : (formats[i] as number);
    if (format !== 0 && format !== 1) throw new PgError(SqlState.InvalidParameterValue, `unsupported format code: ${format}`);
    if (len === -1) args.push({ raw: null, format });
    else {
      const start = r.offset;
      r.skip(len);
      args.push({ raw: body.subarray(start, start + len), format });
    }
  }
  const resultFormat = r.int16();
  r.end();
  if (resultFormat !== 0 && resultFormat !== 1) throw new PgError(SqlState.InvalidParameterValue, `unsupported format code: ${resultFormat}`);
  const proc = largeObjectProcs.find((p) => p.oid === oid);
  if (!proc) throw new PgError(SqlState.UndefinedFunction, `function with OID ${oid} does not exist`);
  if (n !== proc.args.length) throw new PgError(SqlState.ProtocolViolation, `function call message contains ${n} arguments but function requires ${proc.args.length}`);
  return { name: proc.name, argTypes: proc.args, resultType: proc.result, args, resultFormat };
}

/** The statement that runs the call with the arguments as parameters $1…$n. */
export function functionCallSql(c: FunctionCall): string {
  return `select pg_catalog.${c.name}(${c.argTypes.map((_t, i) => `$${i + 1}`).join(', ')})`;
}
