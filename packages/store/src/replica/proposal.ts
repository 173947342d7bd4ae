/**
 * Commands in the Raft log. Every normal entry a replica proposes carries an envelope:
 *
 *   u8 envelopeVersion (2) | 8 bytes proposal id | u32 leaseSeq | u8 kind | body
 *
 * The proposal id lets the proposer find its waiting client when the entry applies; leaseSeq is
 * the lease under which the leaseholder evaluated the command: a command applies only if that
 * lease is still the range's lease at its log index (otherwise another leaseholder may have
 * served reads or evaluated writes the command did not see), so an old leaseholder's evaluated
 * batch can never apply after a lease change. Conf-change entries carry the same envelope as the
 * conf change's context, with the new range descriptor as body.
 *
 * Entries written before the envelope existed (a store upgraded from the single-node layout) are
 * `16 bytes id | kind | body` and are read as lease sequence 0 (see Replica.envelopeFrom).
 */
import { randomBytes } from 'node:crypto';
import { PgError, SqlState } from '@strata/common';

/** Command kinds. Values 1–8 are those of the single-node log format (kept for replay). */
export const CommandKind = {
  WriteBatch: 1,
  TsWrite: 2,
  TsDrop: 3,
  TsRetain: 4,
  TsDelete: 5,
  TsTagUpdate: 6,
  TsReorganize: 7,
  TsAlter: 8,
  TsReorganizeCommit: 9,
  Gc: 10,
  Lease: 11,
  ChangeReplicas: 12,
  ComputeChecksum: 13,
  TxnWrite: 14,
  SplitTs: 15,
  DropTsRanges: 16,
  MetaUpdate: 17,
} as const;
export type CommandKind = (typeof CommandKind)[keyof typeof CommandKind];

const validKinds = new Set<number>(Object.values(CommandKind));

export const envelopeVersion = 2;
const idBytes = 8;
const headerBytes = 1 + idBytes + 4 + 1;
const legacyIdBytes = 16;

export interface Command {
  /** Proposal id (hex); empty for legacy entries. */
  id: string;
  leaseSeq: number;
  kind: CommandKind;
  body: Buffer;
}

export function newProposalId(): Buffer {
  return randomBytes(idBytes);
}

export function encodeCommand(id: Buffer, leaseSeq: number, kind: CommandKind, body: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(headerBytes + body.length);
  b[0] = envelopeVersion;
  id.copy(b, 1, 0, idBytes);
  b.writeUInt32BE(leaseSeq >>> 0, 1 + idBytes);
  b[1 + idBytes + 4] = kind;
  b.set(body, headerBytes);
  return b;
}

export function decodeCommand(data: Uint8Array, legacy: boolean): Command {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (legacy) {
    if (b.length <= legacyIdBytes) throw corrupt(`legacy command of ${b.length} bytes`);
    return { id: '', leaseSeq: 0, kind: kindOf(b[legacyIdBytes] as number), body: b.subarray(legacyIdBytes + 1) };
  }
  if (b.length < headerBytes || b[0] !== envelopeVersion) throw corrupt(`command envelope version ${b[0]} (${b.length} bytes)`);
  return {
    id: b.subarray(1, 1 + idBytes).toString('hex'),
    leaseSeq: b.readUInt32BE(1 + idBytes),
    kind: kindOf(b[1 + idBytes + 4] as number),
    body: b.subarray(headerBytes),
  };
}

function kindOf(k: number): CommandKind {
  if (!validKinds.has(k)) throw corrupt(`unknown command kind ${k}`);
  return k as CommandKind;
}

function corrupt(what: string): PgError {
  return new PgError(SqlState.DataCorrupted, `raft log: ${what}`);
}
