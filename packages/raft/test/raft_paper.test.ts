/**
 * The rules of the Raft paper (Ongaro & Ousterhout, "In Search of an Understandable Consensus
 * Algorithm", extended version) and of Ongaro's thesis, as table tests. Each test names the
 * section it checks.
 */
import { describe, expect, it } from 'vitest';
import { EntryType, MessageType, StateType, message, NONE } from '../src/index.js';
import { Network, drain, hup, newRaft, prop, storageWithLog } from './helpers.js';

describe('§5.1 terms', () => {
  it('a node that sees a higher term steps down to follower and adopts it', () => {
    for (const state of ['follower', 'candidate', 'leader'] as const) {
      const net = Network.of(3);
      const r = net.get(1);
      if (state !== 'follower') {
        net.isolate(1);
        if (state === 'leader') net.recover();
        net.elect(1);
      }
      const term = r.term;
      r.step(message({ type: MessageType.App, from: 2, to: 1, term: term + 5, index: 0 }));
      expect(r.state, state).toBe(StateType.Follower);
      expect(r.term, state).toBe(term + 5);
      expect(r.lead, state).toBe(2);
    }
  });

  it('requests with a stale term are rejected (the sender learns the newer term)', () => {
    const net = Network.of(3);
    net.elect(1);
    const r = net.get(2);
    drain(r);
    r.step(message({ type: MessageType.App, from: 3, to: 2, term: r.term - 1 }));
    const out = drain(r);
    expect(out).toHaveLength(1);
    expect(out[0]?.type).toBe(MessageType.AppResp);
    expect(out[0]?.term).toBe(r.term);
  });
});

describe('§5.2 leader election', () => {
  it('a follower that hears nothing for the randomized election timeout starts an election', () => {
    const r = newRaft(1, [1, 2, 3], { preVote: false });
    for (let i = 0; i < 2 * r.electionTimeout; i++) r.tick();
    expect(r.state).toBe(StateType.Candidate);
    expect(r.term).toBe(2);
    expect(r.vote).toBe(1);
    const votes = drain(r).filter((m) => m.type === MessageType.Vote);
    expect(votes.map((m) => m.to).sort()).toEqual([2, 3]);
  });

  it('the randomized timeout lies in [electionTimeout, 2 * electionTimeout)', () => {
    const seen = new Set<number>();
    for (let id = 1; id <= 50; id++) {
      const r = newRaft(id, [id]);
      r.becomeFollower(r.term + 1, NONE);
      expect(r.randomizedElectionTimeout).toBeGreaterThanOrEqual(r.electionTimeout);
      expect(r.randomizedElectionTimeout).toBeLessThan(2 * r.electionTimeout);
      seen.add(r.randomizedElectionTimeout);
    }
    expect(seen.size).toBeGreaterThan(3);
  });

  // cluster size, votes granted (besides self), votes rejected → resulting state
  const cases: [number, number, number, StateType][] = [
    [1, 0, 0, StateType.Leader],
    [3, 1, 0, StateType.Leader],
    [3, 0, 1, StateType.Candidate],
    [3, 0, 2, StateType.Follower],
    [5, 2, 0, StateType.Leader],
    [5, 1, 2, StateType.Candidate],
    [5, 1, 3, StateType.Follower],
    [7, 3, 3, StateType.Leader],
    [7, 2, 3, StateType.Candidate],
  ];
  it.each(cases)('size %i, %i granted, %i rejected → %s (a majority wins, §5.2)', (size, granted, rejected, want) => {
    const ids = Array.from({ length: size }, (_, i) => i + 1);
    const r = newRaft(1, ids, { preVote: false });
    hup(r);
    let from = 2;
    for (let i = 0; i < granted; i++) r.step(message({ type: MessageType.VoteResp, from: from++, to: 1, term: r.term }));
    for (let i = 0; i < rejected; i++) r.step(message({ type: MessageType.VoteResp, from: from++, to: 1, term: r.term, reject: true }));
    expect(r.state).toBe(want);
  });

  it('each node votes for at most one candidate per term, first come first served', () => {
    // (vote already cast, candidate asking) → granted?
    const cases: [number, number, boolean][] = [
      [NONE, 2, true],
      [2, 2, true], // the same candidate asking again (a retransmission) is granted again
      [3, 2, false],
    ];
    for (const [voted, cand, want] of cases) {
      const r = newRaft(1, [1, 2, 3], { preVote: false });
      r.becomeFollower(2, NONE);
      r.vote = voted;
      r.step(message({ type: MessageType.Vote, from: cand, to: 1, term: 2, index: 1, logTerm: 1 }));
      const resp = drain(r).find((m) => m.type === MessageType.VoteResp);
      expect(resp?.reject, `voted=${voted} cand=${cand}`).toBe(!want);
    }
  });

  it('election safety: at most one leader per term, even with competing candidates', () => {
    const net = Network.of(5, { preVote: false });
    net.isolate(1);
    net.isolate(2);
    net.elect(1); // alone: cannot win
    net.elect(2);
    net.recover();
    net.elect(3);
    const leaders = [...net.peers.values()].filter((r) => r.state === StateType.Leader);
    expect(leaders).toHaveLength(1);
    const terms = new Map<number, number>();
    for (const r of net.peers.values()) if (r.state === StateType.Leader) terms.set(r.term, (terms.get(r.term) ?? 0) + 1);
    for (const n of terms.values()) expect(n).toBe(1);
  });

  it('a candidate that receives AppendEntries from a leader of its term becomes follower', () => {
    const r = newRaft(1, [1, 2, 3], { preVote: false });
    hup(r);
    expect(r.state).toBe(StateType.Candidate);
    r.step(message({ type: MessageType.App, from: 2, to: 1, term: r.term, index: 1, logTerm: 1 }));
    expect(r.state).toBe(StateType.Follower);
    expect(r.lead).toBe(2);
  });
});

describe('§5.3 log replication', () => {
  it('a leader replicates a proposal and commits it once a majority stores it', () => {
    const net = Network.of(3);
    net.elect(1);
    net.propose(1, 'hello');
    for (const r of net.peers.values()) {
      expect(r.raftLog.committed).toBe(3); // bootstrap 1, leader no-op 2, proposal 3
      const e = r.raftLog.slice(3, 4, 1e9)[0];
      expect(new TextDecoder().decode(e?.data)).toBe('hello');
    }
  });

  it('does not commit without a majority', () => {
    const net = Network.of(5);
    net.elect(1);
    net.isolate(3);
    net.isolate(4);
    net.isolate(5);
    net.propose(1);
    expect(net.get(1).raftLog.committed).toBe(2);
    net.recover();
    net.tick(1); // heartbeat → lagging followers catch up
    expect(net.get(1).raftLog.committed).toBe(3);
  });

  // AppendEntries consistency check: follower log terms (from index 2), (prevIndex, prevTerm) → accepted?
  const consistency: [number[], number, number, boolean][] = [
    [[1, 1], 3, 1, true],
    [[1, 1], 3, 2, false], // same index, other term
    [[1, 1], 4, 1, false], // gap
    [[1, 2], 2, 1, true], // accepted; conflicting suffix will be truncated
    [[], 1, 1, true],
  ];
  it.each(consistency)('follower log %j, prev (%i, %i) → accepted %s (Log Matching, §5.3)', (terms, prevIndex, prevTerm, accepted) => {
    const r = newRaft(1, [1, 2], {}, storageWithLog([1, 2], terms, 3));
    r.step(message({ type: MessageType.App, from: 2, to: 1, term: 3, index: prevIndex, logTerm: prevTerm, entries: [{ term: 3, index: prevIndex + 1, type: EntryType.Normal, data: new Uint8Array([9]) }] }));
    const resp = drain(r).find((m) => m.type === MessageType.AppResp);
    expect(resp?.reject).toBe(!accepted);
    if (accepted) {
      expect(r.raftLog.lastIndex()).toBe(prevIndex + 1);
      expect(r.raftLog.term(prevIndex + 1)).toBe(3);
    }
  });

  it('a follower deletes conflicting entries and everything after them', () => {
    const r = newRaft(1, [1, 2], {}, storageWithLog([1, 2], [1, 2, 2, 2], 3));
    r.step(message({ type: MessageType.App, from: 2, to: 1, term: 3, index: 2, logTerm: 1, entries: [{ term: 3, index: 3, type: EntryType.Normal, data: new Uint8Array() }] }));
    expect(r.raftLog.lastIndex()).toBe(3);
    expect(r.raftLog.term(3)).toBe(3);
  });

  it('fast backtracking skips a whole divergent term in one round trip', () => {
    // Figure 7 (f)-like follower: many entries of terms 2 and 3 the leader never had.
    const leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const followerTerms = [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3];
    const s1 = storageWithLog([1, 2], leaderTerms, 6);
    const s2 = storageWithLog([1, 2], followerTerms, 6);
    const net = new (Network as unknown as new (rs: ReturnType<typeof newRaft>[]) => Network)([newRaft(1, [1, 2], { preVote: false }, s1), newRaft(2, [1, 2], { preVote: false }, s2)]);
    net.elect(1);
    const rejects = net.delivered.filter((m) => m.type === MessageType.AppResp && m.reject).length;
    expect(net.get(1).state).toBe(StateType.Leader);
    expect(net.get(2).raftLog.lastIndex()).toBe(net.get(1).raftLog.lastIndex());
    for (let i = 2; i <= net.get(1).raftLog.lastIndex(); i++) expect(net.get(2).raftLog.term(i)).toBe(net.get(1).raftLog.term(i));
    // Naive decrement-by-one would need ~8 rejections; term-skipping needs at most 2.
    expect(rejects).toBeLessThanOrEqual(2);
  });

  it('batches entries per message under the byte limit', () => {
    const net = Network.of(2, { msgBytesMax: 200 });
    net.elect(1);
    net.isolate(2);
    for (let i = 0; i < 10; i++) net.propose(1, 'x'.repeat(50));
    net.recover();
    net.delivered.length = 0;
    net.tick(1);
    const apps = net.delivered.filter((m) => m.type === MessageType.App && m.entries.length > 0);
    expect(apps.length).toBeGreaterThan(1);
    for (const m of apps) {
      const bytes = m.entries.reduce((n, e) => n + e.data.length + 24, 0);
      expect(m.entries.length === 1 || bytes <= 200).toBe(true);
    }
    expect(net.get(2).raftLog.lastIndex()).toBe(net.get(1).raftLog.lastIndex());
  });

  it('bounds in-flight appends to one follower (flow control)', () => {
    const r = newRaft(1, [1, 2], { inflightMsgsMax: 3, preVote: false });
    hup(r);
    r.step(message({ type: MessageType.VoteResp, from: 2, to: 1, term: r.term }));
    expect(r.state).toBe(StateType.Leader);
    // Put the follower in replicate state by acknowledging the leader's no-op.
    r.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index: 2 }));
    drain(r);
    for (let i = 0; i < 10; i++) r.step(prop());
    const apps = drain(r).filter((m) => m.type === MessageType.App);
    expect(apps).toHaveLength(3);
  });
});

describe('§5.4 safety', () => {
  // Candidate (lastIndex, lastTerm) vs voter log of terms [1, 2, 2] at indexes 2..4 (last: 4, term 2).
  const upToDate: [number, number, boolean][] = [
    [4, 2, true],
    [5, 2, true],
    [3, 2, false],
    [2, 3, true], // higher last term wins regardless of length
    [10, 1, false], // lower last term loses regardless of length
  ];
  it.each(upToDate)('§5.4.1 voter grants a candidate with last (%i, %i): %s', (idx, term, granted) => {
    const r = newRaft(1, [1, 2], { preVote: false }, storageWithLog([1, 2], [1, 2, 2], 3));
    r.step(message({ type: MessageType.Vote, from: 2, to: 1, term: 4, index: idx, logTerm: term }));
    const resp = drain(r).find((m) => m.type === MessageType.VoteResp);
    expect(resp?.reject).toBe(!granted);
  });

  // Figure 8: the leader of term 4 holds entries of terms 1 and 2 (indexes 2, 3) it did not create.
  // A follower acknowledging index i → the leader's commit index (1 = nothing new committed).
  const figure8: [number, number][] = [
    [2, 1], // term-1 entry on a majority: not committed by counting
    [3, 1], // term-2 entry on a majority: still not committed (Figure 8's danger)
    [4, 4], // the leader's own no-op (term 4) on a majority: commits it and everything before
    [5, 5],
  ];
  it.each(figure8)('§5.4.2 only current-term entries commit by counting replicas: ack at %i → commit %i (Figure 8)', (ack, want) => {
    const r = newRaft(1, [1, 2, 3], { preVote: false }, storageWithLog([1, 2, 3], [1, 2], 3));
    r.becomeCandidate();
    r.becomeLeader(); // term 4, no-op at index 4
    r.step(prop()); // index 5
    expect(r.term).toBe(4);
    r.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index: ack }));
    expect(r.raftLog.committed).toBe(want);
  });

  it('Leader Completeness: a node missing committed entries cannot become leader', () => {
    const net = Network.of(3, { preVote: false, checkQuorum: false });
    net.elect(1);
    net.isolate(3);
    net.propose(1, 'a');
    net.propose(1, 'b');
    expect(net.get(1).raftLog.committed).toBe(4);
    net.recover();
    net.isolate(1);
    // 3 lacks the committed entries: 2 refuses its vote, so it cannot win.
    net.elect(3);
    expect(net.get(3).state).not.toBe(StateType.Leader);
    net.elect(2);
    expect(net.get(2).state).toBe(StateType.Leader);
    expect(net.get(2).raftLog.term(4)).toBe(net.get(1).raftLog.term(4));
  });

  it('a new leader commits earlier entries by committing a no-op of its own term (§8)', () => {
    const net = Network.of(3, { checkQuorum: false });
    net.elect(1);
    net.isolate(1);
    net.recover();
    const before = net.get(2).raftLog.committed;
    net.elect(2);
    const r = net.get(2);
    expect(r.raftLog.committed).toBeGreaterThan(before);
    expect(r.raftLog.term(r.raftLog.committed)).toBe(r.term);
  });
});

describe('thesis §9.6 pre-vote', () => {
  it('a partitioned node does not increase its term, and does not disrupt the leader when it returns', () => {
    const net = Network.of(3, { preVote: true });
    net.elect(1);
    const term = net.get(1).term;
    net.isolate(3);
    net.tick(3, 100);
    expect(net.get(3).term).toBe(term);
    expect(net.get(3).state).toBe(StateType.PreCandidate);
    net.recover();
    net.tick(1); // heartbeat
    expect(net.get(1).state).toBe(StateType.Leader);
    expect(net.get(1).term).toBe(term);
    expect(net.get(3).state).toBe(StateType.Follower);
  });

  it('without pre-vote the same partition does disrupt the leader (the problem pre-vote solves)', () => {
    const net = Network.of(3, { preVote: false, checkQuorum: false });
    net.elect(1);
    const term = net.get(1).term;
    net.isolate(3);
    net.tick(3, 100);
    expect(net.get(3).term).toBeGreaterThan(term);
    net.recover();
    net.elect(3);
    expect(net.get(1).term).toBeGreaterThan(term);
  });

  it('pre-vote responses never change the voter’s term', () => {
    const r = newRaft(1, [1, 2, 3]);
    const term = r.term;
    r.step(message({ type: MessageType.PreVote, from: 2, to: 1, term: term + 1, index: 5, logTerm: 5 }));
    expect(r.term).toBe(term);
    expect(drain(r).find((m) => m.type === MessageType.PreVoteResp)?.reject).toBe(false);
  });
});

describe('thesis §6.2 check-quorum', () => {
  it('a leader that does not hear from a quorum for an election timeout steps down', () => {
    const net = Network.of(3, { checkQuorum: true });
    net.elect(1);
    net.isolate(1);
    // The first check after isolation still sees the activity from before; the second does not.
    net.tick(1, 2 * net.get(1).electionTimeout);
    expect(net.get(1).state).toBe(StateType.Follower);
  });

  it('a follower that heard from a leader recently ignores vote requests (leader stickiness)', () => {
    const net = Network.of(3, { checkQuorum: true, preVote: false });
    net.elect(1);
    const r2 = net.get(2);
    r2.step(message({ type: MessageType.Vote, from: 3, to: 2, term: r2.term + 1, index: 99, logTerm: 99 }));
    expect(drain(r2)).toHaveLength(0);
    expect(r2.lead).toBe(1);
  });
});

describe('leader transfer (thesis §3.10)', () => {
  it('transfers leadership to an up-to-date follower', () => {
    const net = Network.of(3);
    net.elect(1);
    net.local(1, message({ type: MessageType.TransferLeader, from: 3 }));
    expect(net.get(3).state).toBe(StateType.Leader);
    expect(net.get(1).state).toBe(StateType.Follower);
  });

  it('catches a lagging transferee up first, and drops proposals meanwhile', () => {
    const net = Network.of(3);
    net.elect(1);
    net.isolate(3);
    net.propose(1);
    net.local(1, message({ type: MessageType.TransferLeader, from: 3 }));
    expect(net.get(1).leadTransferee).toBe(3);
    expect(net.get(1).step(prop())).toBeInstanceOf(Error);
    net.recover();
    net.tick(1);
    expect(net.get(3).state).toBe(StateType.Leader);
  });

  it('aborts a transfer that does not finish within an election timeout', () => {
    const net = Network.of(3);
    net.elect(1);
    net.isolate(3);
    net.local(1, message({ type: MessageType.TransferLeader, from: 3 }));
    net.cutLink(1, 3);
    net.tick(1, net.get(1).electionTimeout);
    expect(net.get(1).leadTransferee).toBe(NONE);
    expect(net.get(1).state).toBe(StateType.Leader);
  });
});
