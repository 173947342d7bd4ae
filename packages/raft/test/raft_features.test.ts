import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CompactedError,
  ConfChangeType,
  EntryType,
  MemoryStorage,
  MessageType,
  ProgressState,
  ProposalDroppedError,
  RawNode,
  StateType,
  decodeConfChange,
  encodeConfChange,
  message,
  mulberry32,
} from '../src/index.js';
import type { Message } from '../src/index.js';
import { Network, RawCluster, drain, newRaft, newStorage, prop } from './helpers.js';

const ctx = (s: string) => new TextEncoder().encode(s);
const readIndexMsg = (id: number, c: string) =>
  message({ type: MessageType.ReadIndex, from: id, to: id, entries: [{ term: 0, index: 0, type: EntryType.Normal, data: ctx(c) }] });

describe('ReadIndex (thesis §6.4)', () => {
  it('answers only after a quorum acknowledges a heartbeat carrying the request', () => {
    const net = Network.of(3);
    net.elect(1);
    net.propose(1);
    const leader = net.get(1);
    net.ignore(MessageType.HeartbeatResp);
    net.local(1, readIndexMsg(1, 'r1'));
    expect(leader.readStates).toHaveLength(0);
    net.recover();
    net.tick(1); // the next heartbeat round carries the pending request's context
    expect(leader.readStates).toHaveLength(1);
    expect(leader.readStates[0]?.index).toBe(leader.raftLog.committed);
  });

  it('a follower forwards the request and receives the leader’s read index', () => {
    const net = Network.of(3);
    net.elect(1);
    net.propose(1);
    net.local(2, readIndexMsg(2, 'r2'));
    const f = net.get(2);
    expect(f.readStates).toHaveLength(1);
    expect(f.readStates[0]?.index).toBe(net.get(1).raftLog.committed);
    expect(new TextDecoder().decode(f.readStates[0]?.requestCtx)).toBe('r2');
  });

  it('is held back until the new leader has committed an entry of its term', () => {
    const r = newRaft(1, [1, 2, 3], { preVote: false });
    r.becomeCandidate();
    r.becomeLeader();
    drain(r);
    r.step(readIndexMsg(1, 'early'));
    expect(r.readStates).toHaveLength(0);
    r.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index: r.raftLog.lastIndex() }));
    expect(r.committedEntryInCurrentTerm()).toBe(true);
    // Released now: a heartbeat round with its context goes out.
    const hbs = drain(r).filter((m) => m.type === MessageType.Heartbeat && m.context.length > 0);
    expect(hbs.length).toBe(2);
  });

  it('a node without a leader drops the request', () => {
    const r = newRaft(1, [1, 2, 3]);
    expect(r.step(readIndexMsg(1, 'x'))).toBeInstanceOf(ProposalDroppedError);
  });
});

describe('leader leases', () => {
  function leaseNet() {
    const net = Network.of(3, { readOnlyOption: 'lease-based', checkQuorum: true });
    // The post-restart quiet period (one election timeout without votes) applies at start-up.
    net.tickAll(net.get(1).electionTimeout);
    net.elect(1);
    net.propose(1);
    net.tick(1); // a heartbeat round establishes the lease
    return net;
  }

  it('a leader with a valid lease answers reads without a heartbeat round', () => {
    const net = leaseNet();
    const leader = net.get(1);
    expect(leader.leaseValid()).toBe(true);
    net.delivered.length = 0;
    leader.step(readIndexMsg(1, 'fast'));
    expect(leader.readStates).toHaveLength(1);
    expect(drain(leader).filter((m) => m.type === MessageType.Heartbeat)).toHaveLength(0);
  });

  it('the lease ends electionTimeout - clockDriftTicksMax ticks after the last quorum ack', () => {
    const net = leaseNet();
    const leader = net.get(1);
    net.isolate(1);
    const valid: boolean[] = [];
    for (let i = 0; i < leader.electionTimeout; i++) {
      net.tick(1);
      valid.push(leader.leaseValid());
    }
    const lastValid = valid.lastIndexOf(true) + 1; // ticks after isolation the lease still held
    expect(lastValid).toBe(leader.electionTimeout - leader.clockDriftTicksMax - 1);
    // And it falls back to a heartbeat round, which cannot complete while isolated.
    leader.step(readIndexMsg(1, 'slow'));
    expect(leader.readStates).toHaveLength(0);
  });

  it('a followers’ refusal to vote backs the lease: no other node can win while it holds', () => {
    const net = leaseNet();
    net.isolate(1);
    net.elect(2);
    expect(net.get(2).state).not.toBe(StateType.Leader);
  });

  it('a leader that sent TimeoutNow stops trusting its lease for the rest of the term', () => {
    const net = leaseNet();
    const leader = net.get(1);
    net.ignore(MessageType.TimeoutNow);
    net.local(1, message({ type: MessageType.TransferLeader, from: 2 }));
    expect(leader.leaseValid()).toBe(false);
    net.recover();
    const term = leader.term;
    net.tick(1, leader.electionTimeout); // the transfer is abandoned…
    expect(leader.leadTransferee).toBe(0);
    expect(leader.leaseValid()).toBe(false); // …the lease stays revoked this term…
    // …so the leader steps down rather than lead a term in which it can never serve lease reads;
    // the next election gives a leader a fresh term and a usable lease.
    expect(leader.state).toBe(StateType.Follower);
    expect(leader.term).toBe(term);
    for (const id of [2, 3]) net.tick(id, leader.electionTimeout); // followers' leader stickiness passes
    net.elect(1);
    expect(leader.state).toBe(StateType.Leader);
    expect(leader.term).toBeGreaterThan(term);
  });

  it('a restarted node refuses votes for one election timeout (it may be inside a lease)', () => {
    const r = newRaft(1, [1, 2, 3], { readOnlyOption: 'lease-based' });
    r.step(message({ type: MessageType.Vote, from: 2, to: 1, term: 5, index: 10, logTerm: 5 }));
    expect(drain(r)).toHaveLength(0);
    for (let i = 0; i < r.electionTimeout; i++) r.tick();
    drain(r);
    r.step(message({ type: MessageType.Vote, from: 2, to: 1, term: 50, index: 10, logTerm: 5 }));
    expect(drain(r).find((m) => m.type === MessageType.VoteResp)?.reject).toBe(false);
  });
});

describe('learners and membership (single-step, thesis §4.1)', () => {
  function cluster(voters: number[], learners: number[]) {
    const all = [...voters, ...learners];
    const rs = all.map((id) => {
      const s = newStorage(voters, learners);
      return newRaft(id, voters, { preVote: false }, s);
    });
    return new Network(rs);
  }

  it('learners receive the log but neither vote nor count toward commitment', () => {
    const net = cluster([1, 2, 3], [4]);
    net.elect(1);
    net.isolate(2);
    net.isolate(3);
    net.propose(1);
    // 1 + learner 4 is not a majority of {1,2,3}.
    expect(net.get(1).raftLog.committed).toBe(2);
    expect(net.get(4).raftLog.lastIndex()).toBe(3);
    expect(net.get(4).promotable()).toBe(false);
    net.tick(4, 100);
    expect(net.get(4).state).toBe(StateType.Follower);
  });

  it('promotes a learner with AddNode; it then counts toward the quorum', () => {
    const net = cluster([1, 2, 3], [4]);
    net.elect(1);
    for (const r of net.peers.values()) r.applyConfChange({ type: ConfChangeType.AddNode, nodeId: 4 });
    expect(net.get(1).trk.voters.has(4)).toBe(true);
    net.isolate(2);
    net.propose(1); // {1,3,4} of {1,2,3,4}: a majority
    expect(net.get(1).raftLog.committed).toBe(3);
  });

  it('allows only one unapplied conf change at a time', () => {
    const net = Network.of(3);
    net.elect(1);
    const leader = net.get(1);
    // A fresh leader first needs its own entries applied (pendingConfIndex = last index).
    leader.raftLog.appliedTo(leader.raftLog.committed);
    const cc = (id: number) => message({ type: MessageType.Prop, entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange({ type: ConfChangeType.AddLearner, nodeId: id }) }] });
    expect(leader.step(cc(4))).toBeUndefined();
    expect(leader.step(cc(5))).toBeInstanceOf(ProposalDroppedError);
  });

  it('a removed node never votes again, and a removed leader steps down', () => {
    const net = Network.of(3);
    net.elect(1);
    const r3 = net.get(3);
    r3.applyConfChange({ type: ConfChangeType.RemoveNode, nodeId: 3 });
    expect(r3.removed).toBe(true);
    for (let i = 0; i < 3 * r3.electionTimeout; i++) r3.tick(); // out of the leader's lease; never campaigns
    expect(r3.state).toBe(StateType.Follower);
    drain(r3);
    r3.step(message({ type: MessageType.Vote, from: 2, to: 3, term: r3.term + 10, index: 100, logTerm: 100 }));
    expect(drain(r3).find((m) => m.type === MessageType.VoteResp)?.reject).toBe(true);
    const r1 = net.get(1);
    r1.applyConfChange({ type: ConfChangeType.RemoveNode, nodeId: 1 });
    expect(r1.state).toBe(StateType.Follower);
  });

  it('conf changes round-trip through their entry encoding', () => {
    for (const type of [ConfChangeType.AddNode, ConfChangeType.RemoveNode, ConfChangeType.AddLearner]) {
      expect(decodeConfChange(encodeConfChange({ type, nodeId: 4_000_000_000 }))).toEqual({ type, nodeId: 4_000_000_000 });
    }
    expect(() => decodeConfChange(new Uint8Array([9, 0, 0, 0, 1]))).toThrow(/unknown type/);
  });
});

describe('snapshots (§7)', () => {
  it('a follower behind the compacted log receives a snapshot, and catches up after it', () => {
    const net = Network.of(3);
    net.elect(1);
    net.isolate(3);
    for (let i = 0; i < 10; i++) net.propose(1);
    const s1 = net.storage.get(1) as MemoryStorage;
    const leader = net.get(1);
    const applied = leader.raftLog.committed;
    leader.raftLog.appliedTo(applied);
    s1.createSnapshot(applied, leader.trk.confState(), ctx('state@' + applied));
    s1.compact(applied);
    net.recover();
    net.tick(1, 3);
    const f = net.get(3);
    expect(net.delivered.some((m) => m.type === MessageType.Snap && m.to === 3)).toBe(true);
    expect(f.raftLog.committed).toBe(leader.raftLog.committed);
    expect(new TextDecoder().decode((net.storage.get(3) as MemoryStorage).snapshot().data)).toBe('state@' + applied);
  });

  it('a failed snapshot is reported, and the leader retries', () => {
    const r = newRaft(1, [1, 2], { preVote: false });
    r.becomeCandidate();
    r.becomeLeader();
    const pr = r.trk.progress.get(2);
    pr?.becomeSnapshot(5);
    r.step(message({ type: MessageType.SnapStatus, from: 2, reject: true }));
    expect(pr?.state).toBe(ProgressState.Probe);
    expect(pr?.pendingSnapshot).toBe(0);
  });

  it('rejects a snapshot that does not include this node', () => {
    const r = newRaft(3, [1, 2, 3]);
    r.becomeFollower(2, 1);
    r.step(message({ type: MessageType.Snap, from: 1, to: 3, term: 2, snapshot: { metadata: { index: 50, term: 2, confState: { voters: [1, 2], learners: [] } }, data: new Uint8Array() } }));
    expect(r.raftLog.committed).toBeLessThan(50);
  });
});

describe('proposals', () => {
  it('a follower forwards proposals to the leader', () => {
    const net = Network.of(3);
    net.elect(1);
    net.propose(2, 'via-follower');
    const last = net.get(1).raftLog.lastIndex();
    expect(new TextDecoder().decode(net.get(1).raftLog.slice(last, last + 1, 1e9)[0]?.data)).toBe('via-follower');
  });

  it('drops proposals with ProposalDroppedError when no leader is known or forwarding is off', () => {
    expect(newRaft(1, [1, 2, 3]).step(prop())).toBeInstanceOf(ProposalDroppedError);
    const net = Network.of(3, { disableProposalForwarding: true });
    net.elect(1);
    expect(net.get(2).step(prop())).toBeInstanceOf(ProposalDroppedError);
  });

  it('drops proposals past the uncommitted-bytes bound', () => {
    const net = Network.of(3, { uncommittedEntriesBytesMax: 1000 });
    net.elect(1);
    net.isolate(1);
    const leader = net.get(1);
    let dropped = 0;
    for (let i = 0; i < 50; i++) if (leader.step(prop('x'.repeat(100)))) dropped++;
    expect(dropped).toBeGreaterThan(0);
    expect(leader.uncommittedBytes).toBeLessThanOrEqual(1000);
  });
});

describe('RawNode', () => {
  function single(): { node: RawNode; storage: MemoryStorage } {
    const storage = newStorage([1]);
    return { node: new RawNode({ id: 1, storage, random: mulberry32(1) }), storage };
  }
  function drive(node: RawNode, storage: MemoryStorage, sent: Message[] = []): string[] {
    const applied: string[] = [];
    while (node.hasReady()) {
      const rd = node.ready();
      storage.append(rd.entries);
      if (rd.hardState) storage.setHardState(rd.hardState);
      sent.push(...rd.messages);
      for (const e of rd.committedEntries) if (e.data.length > 0) applied.push(new TextDecoder().decode(e.data));
      node.advance(rd);
    }
    return applied;
  }

  it('a single voter elects itself and applies proposals through Ready/advance', () => {
    const { node, storage } = single();
    node.campaign();
    drive(node, storage);
    expect(node.status().softState.raftState).toBe(StateType.Leader);
    const h = node.propose(ctx('a'));
    expect(h.kind).toBe('appended');
    expect(drive(node, storage)).toEqual(['a']);
    expect(storage.hardState.commit).toBe(storage.lastIndex());
  });

  it('survives a restart from storage: term, vote and log are kept, nothing is applied twice', () => {
    const { node, storage } = single();
    node.campaign();
    drive(node, storage);
    node.propose(ctx('a'));
    drive(node, storage);
    const term = node.status().hardState.term;
    const again = new RawNode({ id: 1, storage, random: mulberry32(2), applied: storage.hardState.commit });
    expect(again.status().hardState.term).toBe(term);
    expect(again.raft.raftLog.lastIndex()).toBe(storage.lastIndex());
    expect(drive(again, storage)).toEqual([]);
  });

  it('refuses a second ready() before advance()', () => {
    const { node } = single();
    node.campaign();
    node.ready();
    expect(() => node.ready()).toThrow(/advance/);
  });

  it('quiesces an idle group, ignores ticks while quiesced, and wakes on a message', () => {
    const c = new RawCluster(3);
    c.raw(1).campaign();
    c.pump();
    c.raw(1).propose(ctx('a'));
    c.pump();
    c.tickAll(); // heartbeats bring every follower's commit index up to date
    const leader = c.raw(1);
    expect(leader.canQuiesce()).toBe(true);
    expect(leader.quiesce()).toBe(true);
    c.pump();
    for (const id of [1, 2, 3]) expect(c.raw(id).isQuiesced()).toBe(true);
    // Idle: a hundred ticks send nothing and start no election.
    for (let i = 0; i < 100; i++) for (const id of [1, 2, 3]) c.raw(id).tick();
    expect(c.pump()).toHaveLength(0);
    expect(c.raw(2).status().softState.raftState).toBe(StateType.Follower);
    // A proposal wakes the leader; its appends wake the followers.
    leader.propose(ctx('b'));
    c.pump();
    for (const id of [1, 2, 3]) expect(c.raw(id).isQuiesced()).toBe(false);
    // Lease acknowledgements from before quiescence no longer count.
    expect(leader.status().leaseValid).toBe(false);
  });

  it('a quiesced follower woken by the store (leader dead) campaigns', () => {
    const c = new RawCluster(3);
    c.raw(1).campaign();
    c.pump();
    c.tickAll();
    expect(c.raw(1).quiesce()).toBe(true);
    c.pump();
    c.nodes.delete(1); // the leader's node dies
    c.raw(2).wake();
    c.raw(3).wake();
    c.tickAll(40);
    const states = [2, 3].map((id) => c.raw(id).status().softState.raftState);
    expect(states).toContain(StateType.Leader);
  });
});

describe('MemoryStorage', () => {
  it('serves entries and terms, and reports compaction', () => {
    const s = newStorage([1]);
    s.append([2, 3, 4, 5].map((i) => ({ index: i, term: 2, type: EntryType.Normal, data: new Uint8Array(10) })));
    expect(s.firstIndex()).toBe(2);
    expect(s.lastIndex()).toBe(5);
    expect(s.entries(2, 6, 1e9).map((e) => e.index)).toEqual([2, 3, 4, 5]);
    expect(s.entries(2, 6, 40).map((e) => e.index)).toEqual([2]); // byte bound, at least one
    s.createSnapshot(4, { voters: [1], learners: [] }, new Uint8Array());
    s.compact(4);
    expect(() => s.entries(3, 5, 1e9)).toThrow(CompactedError);
    expect(s.term(4)).toBe(2);
    expect(s.entries(5, 6, 1e9).map((e) => e.index)).toEqual([5]);
  });

  it('truncates a conflicting suffix on append', () => {
    const s = newStorage([1]);
    s.append([2, 3, 4].map((i) => ({ index: i, term: 2, type: EntryType.Normal, data: new Uint8Array() })));
    s.append([{ index: 3, term: 3, type: EntryType.Normal, data: new Uint8Array() }]);
    expect(s.lastIndex()).toBe(3);
    expect(s.term(3)).toBe(3);
  });
});

describe('purity', () => {
  it('packages/raft/src imports nothing of ours, no I/O modules and no timers', () => {
    const dir = join(import.meta.dirname, '..', 'src');
    for (const f of readdirSync(dir)) {
      const src = readFileSync(join(dir, f), 'utf8');
      for (const m of src.matchAll(/from '([^']+)'/g)) {
        const spec = m[1] as string;
        expect(spec.startsWith('./'), `${f} imports ${spec}`).toBe(true);
      }
      expect(src, f).not.toMatch(/\b(setTimeout|setInterval|setImmediate|Date\.now|performance\.now|Math\.random)\b/);
      expect(src, f).not.toMatch(/require\(/);
    }
  });
});
