/**
 * bench:raft — committed proposals per second and payload bytes per second through an in-process
 * 3-node group (RawNode + MemoryStorage, messages passed in memory, no I/O). Measures the Raft
 * state machine's own cost: log handling, progress tracking, Ready assembly.
 *
 *   npm run bench:raft [-- --seconds 3]
 *
 * "unbatched": one proposal, then drive the group until it is applied on the leader.
 * "batched": 256 proposals per driver round in one proposeBatch (what the store does with the
 * proposals that arrive in one event-loop turn), so one MsgApp and one ack carry them all.
 */
import { parseArgs } from 'node:util';
import { MemoryStorage, RawNode, StateType, emptySnapshot, mulberry32 } from '../src/index.js';
import type { Message } from '../src/index.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' } } });
const seconds = Number(values.seconds);

function group(n: number) {
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const nodes = ids.map((id) => {
    const storage = new MemoryStorage();
    const snap = emptySnapshot();
    snap.metadata = { index: 1, term: 1, confState: { voters: ids, learners: [] } };
    storage.applySnapshot(snap);
    return { id, storage, raw: new RawNode({ id, storage, random: mulberry32(id), msgBytesMax: 1 << 20, inflightMsgsMax: 256 }), applied: 0 };
  });
  const queue: Message[] = [];
  const pump = () => {
    let progress = true;
    while (progress) {
      progress = false;
      for (const n of nodes) {
        while (n.raw.hasReady()) {
          progress = true;
          const rd = n.raw.ready();
          if (rd.entries.length) n.storage.append(rd.entries);
          if (rd.hardState) n.storage.setHardState(rd.hardState);
          for (const m of rd.messages) queue.push(m);
          n.applied += rd.committedEntries.length;
          n.raw.advance(rd);
        }
      }
      if (queue.length) {
        progress = true;
        const batch = queue.splice(0, queue.length);
        for (const m of batch) nodes[m.to - 1]?.raw.step(m);
      }
    }
  };
  nodes[0]?.raw.campaign();
  pump();
  if (nodes[0]?.raw.status().softState.raftState !== StateType.Leader) throw new Error('no leader');
  return { nodes, pump, leader: nodes[0] };
}

function run(payloadBytes: number, batch: number): { opsPerSec: number; bytesPerSec: number } {
  const g = group(3);
  const payload = new Uint8Array(payloadBytes).fill(7);
  let committed = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let rounds = 0;
  while (process.hrtime.bigint() < deadline) {
    const before = g.leader.applied;
    if (batch === 1) g.leader.raw.propose(payload);
    else g.leader.raw.proposeBatch(new Array<Uint8Array>(batch).fill(payload));
    g.pump();
    committed += g.leader.applied - before;
    // Compact now and then so memory stays flat over long runs.
    if (++rounds % 64 === 0) {
      for (const n of g.nodes) {
        const applied = n.raw.status().applied;
        if (applied - n.storage.firstIndex() > 10_000) {
          n.storage.createSnapshot(applied, n.raw.status().confState, new Uint8Array());
          n.storage.compact(applied);
        }
      }
    }
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  return { opsPerSec: committed / secs, bytesPerSec: (committed * payloadBytes) / secs };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`bench:raft — 3 voters in one process, ${seconds}s per case (node ${process.version})`);
console.log('case                         proposals/s        payload MB/s');
for (const [name, bytes, batch] of [
  ['16 B, unbatched', 16, 1],
  ['16 B, batched x256', 16, 256],
  ['1 KiB, unbatched', 1024, 1],
  ['1 KiB, batched x256', 1024, 256],
] as const) {
  const r = run(bytes, batch);
  console.log(`${name.padEnd(28)} ${fmt(r.opsPerSec).padStart(12)} ${(r.bytesPerSec / 1e6).toFixed(1).padStart(18)}`);
}
