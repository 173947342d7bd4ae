/**
 * proto/kv.proto Error ⇄ packages/common's error classes. A batch that fails on a remote node
 * fails on the caller with the same class, fields and message as if the store were local — the
 * DistSender and the transaction coordinator decide by class (route elsewhere, retry, refresh,
 * report ambiguity). Any other error was a bug or a local fault on the serving node: it crosses
 * as `internal` with its message and becomes a RemoteInternalError here.
 */
import {
  AmbiguousResultError,
  NotLeaseholderError,
  PgError,
  RangeKeyMismatchError,
  RangeNotFoundError,
  ReadWithinUncertaintyIntervalError,
  ReplicaUnavailableError,
  StrataError,
} from '@strata/common';
import type { PgErrorFields, SqlState } from '@strata/common';
import { WireFormatError, bigU64, numU32, numU64, u32, u64, u64n } from './wire.js';
import type { Wire64 } from './wire.js';

/** An error on the serving node that is none of the structured kinds (SQL clients see XX000). */
export class RemoteInternalError extends StrataError {
  constructor(
    readonly nodeId: number,
    readonly remoteMessage: string,
  ) {
    super(`internal error on node ${nodeId}: ${remoteMessage}`);
  }
}

interface PbPgError {
  code: string;
  detail?: string | null;
  hint?: string | null;
  position?: number | null;
  schema?: string | null;
  table?: string | null;
  column?: string | null;
  constraint?: string | null;
  severity?: string | null;
}

export interface PbError {
  message: string;
  kind?: string;
  notLeaseholder?: { rangeId: Wire64; leaseholderNodeId?: number | null } | null;
  rangeNotFound?: { rangeId: Wire64; nodeId: number } | null;
  rangeKeyMismatch?: { rangeId: Wire64 } | null;
  replicaUnavailable?: { rangeId: Wire64; why: string } | null;
  ambiguousResult?: object | null;
  readWithinUncertainty?: { readTs: Wire64; valueTs: Wire64; key: string } | null;
  pgError?: PbPgError | null;
  internal?: object | null;
}

const pgFieldNames = ['detail', 'hint', 'schema', 'table', 'column', 'constraint'] as const;
const severities = new Set(['ERROR', 'FATAL', 'PANIC']);

function pgToWire(e: PgError): PbPgError {
  const f = e.fields;
  const out: PbPgError = { code: e.code };
  for (const k of pgFieldNames) if (f[k] !== undefined) out[k] = f[k];
  if (f.position !== undefined) out.position = u32(f.position, 'pg error position');
  if (f.severity !== undefined) out.severity = f.severity;
  return out;
}

function pgFromWire(message: string, p: PbPgError): PgError {
  if (!/^[0-9A-Z]{5}$/.test(p.code ?? '')) throw new WireFormatError(`SQLSTATE ${JSON.stringify(p.code)}`);
  const fields: PgErrorFields = {};
  for (const k of pgFieldNames) {
    const v = p[k];
    if (v !== null && v !== undefined) fields[k] = v;
  }
  if (p.position !== null && p.position !== undefined) fields.position = p.position;
  if (p.severity !== null && p.severity !== undefined) {
    if (!severities.has(p.severity)) throw new WireFormatError(`pg error severity ${JSON.stringify(p.severity)}`);
    fields.severity = p.severity as NonNullable<PgErrorFields['severity']>;
  }
  return new PgError(p.code as SqlState, message, fields);
}

/** Whether an error crosses as one of the structured kinds (else it is `internal`, worth a log line). */
export function isStructuredError(e: unknown): boolean {
  return (
    e instanceof NotLeaseholderError ||
    e instanceof RangeNotFoundError ||
    e instanceof RangeKeyMismatchError ||
    e instanceof ReplicaUnavailableError ||
    e instanceof AmbiguousResultError ||
    e instanceof ReadWithinUncertaintyIntervalError ||
    e instanceof PgError
  );
}

export function errorToWire(e: unknown): PbError {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof NotLeaseholderError) {
    return { message, notLeaseholder: { rangeId: u64n(e.rangeId, 'rangeId'), leaseholderNodeId: e.leaseholderNodeId === null ? null : u32(e.leaseholderNodeId, 'leaseholder') } };
  }
  if (e instanceof RangeNotFoundError)
    return {
      message,
      rangeNotFound: { rangeId: u64n(e.rangeId, 'rangeId'), nodeId: u32(e.nodeId, 'nodeId') },
    };
  if (e instanceof RangeKeyMismatchError)
    return { message, rangeKeyMismatch: { rangeId: u64n(e.rangeId, 'rangeId') } };
  if (e instanceof ReplicaUnavailableError)
    return { message, replicaUnavailable: { rangeId: u64n(e.rangeId, 'rangeId'), why: e.why } };
  if (e instanceof AmbiguousResultError) return { message, ambiguousResult: {} };
  if (e instanceof ReadWithinUncertaintyIntervalError) return { message, readWithinUncertainty: { readTs: u64(e.readTs, 'readTs'), valueTs: u64(e.valueTs, 'valueTs'), key: e.key } };
  if (e instanceof PgError) return { message, pgError: pgToWire(e) };
  return { message, internal: {} };
}

/** The error a remote node reported, rebuilt as the same class (`nodeId`: the node that answered). */
export function errorFromWire(p: PbError, nodeId: number): Error {
  const message = p.message ?? '';
  switch (p.kind) {
    case 'notLeaseholder': {
      const x = p.notLeaseholder as NonNullable<PbError['notLeaseholder']>;
      return new NotLeaseholderError(numU64(x.rangeId, 'rangeId'), x.leaseholderNodeId ?? null);
    }
    case 'rangeNotFound': {
      const x = p.rangeNotFound as NonNullable<PbError['rangeNotFound']>;
      return new RangeNotFoundError(numU64(x.rangeId, 'rangeId'), numU32(x.nodeId));
    }
    case 'rangeKeyMismatch': {
      const x = p.rangeKeyMismatch as NonNullable<PbError['rangeKeyMismatch']>;
      const rangeId = numU64(x.rangeId, 'rangeId');
      const prefix = `range ${rangeId}: `;
      return new RangeKeyMismatchError(
        rangeId,
        message.startsWith(prefix) ? message.slice(prefix.length) : message,
      );
    }
    case 'replicaUnavailable': {
      const x = p.replicaUnavailable as NonNullable<PbError['replicaUnavailable']>;
      return new ReplicaUnavailableError(numU64(x.rangeId, 'rangeId'), x.why ?? '');
    }
    case 'ambiguousResult':
      return new AmbiguousResultError(message);
    case 'readWithinUncertainty': {
      const x = p.readWithinUncertainty as NonNullable<PbError['readWithinUncertainty']>;
      return new ReadWithinUncertaintyIntervalError(bigU64(x.readTs), bigU64(x.valueTs), x.key ?? '');
    }
    case 'pgError':
      return pgFromWire(message, p.pgError as PbPgError);
    case 'internal':
      return new RemoteInternalError(nodeId, message);
    default:
      throw new WireFormatError(`error without a kind: ${JSON.stringify(message)}`);
  }
}
