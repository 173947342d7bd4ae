/**
 * Replaying a range's TS commands when the store opens. The KV engine's applied index may be
 * ahead of what the TS engine made durable (TS groups flush on their own schedule): the TS
 * commands the log still holds up to the applied index are applied again — each entity group
 * skips what its files already hold (TsEngine), so nothing is applied twice. The log keeps every
 * entry a group had not made durable (the raft-log queue never truncates past a dirty group), and
 * entries at or below the truncated index were durable in every group when it was truncated.
 *
 * A command rejected at apply because it ran under an older lease is skipped again: the lease
 * history says which lease each entry ran under.
 */
import { EntryType } from '@strata/raft';
import type { Engine } from '@strata/kv';
import type { TsEngine } from '@strata/ts';
import type { LogFile } from '../raftlog/logfile.js';
import { applyTsCommand, isTsCommand } from './apply.js';
import { CommandKind, decodeCommand } from './proposal.js';
import { leaseSeqAt } from './state.js';
import type { ReplicaState } from './state.js';

/** Returns the number of TS commands applied again. */
export function replayTsCommands(_engine: Engine, log: LogFile, ts: TsEngine, rangeId: number, state: ReplicaState): number {
  const first = log.firstIndex(rangeId);
  if (first === 0) return 0;
  const to = Math.min(state.applied.index, log.lastIndex(rangeId));
  const history = state.leaseHistory.slice();
  let n = 0;
  for (let lo = Math.max(first, 1); lo <= to; ) {
    const batch = log.entries(rangeId, lo, to + 1, 8 * 1024 * 1024);
    for (const e of batch) {
      if (e.type !== EntryType.Normal || e.data.length === 0) continue;
      const legacy = e.index < state.envelopeFrom;
      if (!legacy && e.index <= state.truncated.index) continue;
      const cmd = decodeCommand(e.data, legacy);
      if (!isTsCommand(cmd.kind)) continue;
      if (!legacy && cmd.leaseSeq !== leaseSeqAt(history, e.index)) continue;
      // A rewrite's commit waits for its job; at replay the job is started and waited for by the
      // replica's normal apply path instead (the commit is above the applied index then), or its
      // effect is already durable (at or below the applied index: the group skips it).
      if (cmd.kind === CommandKind.TsReorganizeCommit) continue;
      void applyTsCommand(ts, rangeId, e.index, cmd.kind, Buffer.from(cmd.body));
      n++;
    }
    lo = (batch[batch.length - 1]?.index ?? to) + 1;
  }
  return n;
}
