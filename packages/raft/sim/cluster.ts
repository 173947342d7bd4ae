/**
 * A deterministic, seeded simulation of a whole Raft group: nodes, a faulty network, crashes with
 * loss of unsynced writes, partitions, membership changes, leader transfers, log compaction with
 * snapshots, quiescence, and clients running a replicated register. Invariants are checked after
 * every step; client histories are checked for linearizability at the end.
 *
 * Everything random comes from one seeded PRNG, so a failing seed replays exactly.
 */
import {
  ConfChangeType,
  EntryType,
  MemoryStorage,
  MessageType,
  ProposalDroppedError,
  RawNode,
  StateType,
  decodeConfChange,
  mulberry32,
} from '../src/index.js';
import type { ConfChange, ConfState, Entry, Message, ReadOnlyOption, Ready } from '../src/index.js';
import { checkRegisterHistory } from './linearizability.js';
import type { RegisterOp } from './linearizability.js';

export interface SimOptions {
  seed: number;
  /** Initial number of voters (3, 5 or 7). */
  nodes: number;
  /** Ticks of the faulty phase; then the network heals and liveness is checked. */
  ticks: number;
  electionTicks?: number;
  dropRate?: number;
  dupRate?: number;
  /** Maximum message delay in sub-steps (4 sub-steps per tick). */
  maxDelaySubsteps?: number;
  crashes?: boolean;
  partitions?: boolean;
  membership?: boolean;
  transfers?: boolean;
  compaction?: boolean;
  quiescence?: boolean;
  readOnlyOption?: ReadOnlyOption;
  clients?: number;
  /** Collect a trace of events (for debugging a failing seed). */
  trace?: boolean;
}

export class SimFailure extends Error {
  constructor(
    message: string,
    readonly trace: string[],
  ) {
    super(message);
  }
}

export interface SimResult {
  seed: number;
  ticks: number;
  committed: number;
  leadersElected: number;
  ops: { ok: number; fail: number; info: number; reads: number };
  snapshotsSent: number;
  crashes: number;
  confChanges: number;
  transfers: number;
  livenessTicks: number;
  trace: string[];
}

const substepsPerTick = 4;
/**
 * Clock rates differ by up to ±9%. The lease shortens itself by clockDriftTicksMax (2) of
 * electionTicks (10): safe while (10 - 2) / (1 - ε) <= 10 / (1 + ε), i.e. ε <= 1/9 ≈ 11%.
 */
const clockRateSpread = 0.09;
const clientTimeoutTicks = 80;

interface StateMachine {
  value: number;
  appliedIndex: number;
  hash: number;
  confState: ConfState;
  /** client id → last op id applied (dedups proposals duplicated by the network). */
  lastOp: Map<number, number>;
}

function cloneSm(sm: StateMachine): StateMachine {
  return {
    value: sm.value,
    appliedIndex: sm.appliedIndex,
    hash: sm.hash,
    confState: { voters: [...sm.confState.voters], learners: [...sm.confState.learners] },
    lastOp: new Map(sm.lastOp),
  };
}

function encodeSm(sm: StateMachine): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ ...sm, lastOp: [...sm.lastOp] }));
}

function decodeSm(b: Uint8Array): StateMachine {
  const o = JSON.parse(new TextDecoder().decode(b)) as StateMachine & { lastOp: [number, number][] };
  return { ...o, lastOp: new Map(o.lastOp) };
}

interface Op {
  client: number;
  opId: number;
  kind: 'write' | 'read';
  value: number;
}

function encodeOp(op: Op): Uint8Array {
  return new TextEncoder().encode(`${op.client},${op.opId},${op.value}`);
}

function decodeOp(b: Uint8Array): { client: number; opId: number; value: number } {
  const [c, o, v] = new TextDecoder().decode(b).split(',').map(Number);
  return { client: c as number, opId: o as number, value: v as number };
}

function mix(h: number, x: number): number {
  h ^= x;
  return Math.imul(h, 0x01000193) >>> 0;
}

function dataHash(d: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < d.length; i++) h = mix(h, d[i] as number);
  return h;
}

/**
 * A node's disk. Like Strata's store, it generates a snapshot of the current applied state when
 * the leader asks for one, so a snapshot always includes the latest membership.
 */
class SimStorage extends MemoryStorage {
  owner: SimNode | null = null;
  storedSnapshotIndex(): number {
    return super.snapshot().metadata.index;
  }

  override snapshot() {
    const n = this.owner;
    const cur = super.snapshot();
    if (n && n.raw && n.sm.appliedIndex > cur.metadata.index && n.sm.appliedIndex <= this.lastIndex()) {
      return this.createSnapshot(n.sm.appliedIndex, n.sm.confState, encodeSm(cloneSm(n.sm)));
    }
    return cur;
  }
}

class SimNode {
  raw: RawNode | null = null;
  sm!: StateMachine;
  /** ReadIndex requests in flight on this node: ctx key → (client op, read index once known). */
  reads = new Map<string, { op: PendingOp; index: number | null }>();
  checkedCommit = 0;
  destroyed = false;
  /** Ticks per simulated tick period: this node's clock rate. */
  rate = 1;
  clock = 0;
  constructor(
    readonly id: number,
    readonly storage: SimStorage,
  ) {
    storage.owner = this;
  }
}

interface PendingOp {
  op: Op;
  node: number;
  invokeTick: number;
  historyIndex: number;
}

interface InFlight {
  at: number;
  seq: number;
  m: Message;
}

export class Simulation {
  readonly o: Required<SimOptions>;
  readonly rand: () => number;
  readonly nodes = new Map<number, SimNode>();
  private net: InFlight[] = [];
  private netSeq = 0;
  private substep = 0;
  private tickNo = 0;
  /** blocked.has(`${a}>${b}`): messages from a to b are dropped (asymmetric partitions). */
  private blocked = new Set<string>();
  private nextNodeId: number;
  private readonly trace: string[] = [];
  /** False once the network has healed: no drops, duplicates or crashes any more. */
  private faultsOn = true;
  private clientsOn = true;

  // Global truth, for invariants.
  private readonly leaderOfTerm = new Map<number, number>();
  /** index → {term, hash} of the entry at that index in every log (Log Matching). */
  private readonly logAt = new Map<string, { hash: number; prevTerm: number | undefined }>();
  /** index → entry committed at that index. */
  private readonly committed = new Map<number, { term: number; hash: number }>();
  private committedMax = 1;
  /** index → state machine hash after applying it (every node must agree). */
  private readonly smHashAt = new Map<number, number>();

  // Clients.
  private readonly history: RegisterOp[] = [];
  private readonly pending = new Map<number, PendingOp>(); // client → op
  private opSeq = 0;
  private valueSeq = 0;
  private ctxSeq = 0;

  readonly stats: SimResult;

  constructor(opts: SimOptions) {
    this.o = {
      electionTicks: 10,
      dropRate: 0.02,
      dupRate: 0.01,
      maxDelaySubsteps: 6,
      crashes: true,
      partitions: true,
      membership: true,
      transfers: true,
      compaction: true,
      quiescence: true,
      readOnlyOption: 'safe',
      clients: 3,
      trace: false,
      ...opts,
    };
    this.rand = mulberry32(opts.seed);
    this.stats = {
      seed: opts.seed,
      ticks: 0,
      committed: 0,
      leadersElected: 0,
      ops: { ok: 0, fail: 0, info: 0, reads: 0 },
      snapshotsSent: 0,
      crashes: 0,
      confChanges: 0,
      transfers: 0,
      livenessTicks: 0,
      trace: this.trace,
    };
    const voters = Array.from({ length: opts.nodes }, (_, i) => i + 1);
    this.nextNodeId = opts.nodes + 1;
    const initial: StateMachine = {
      value: 0,
      appliedIndex: 1,
      hash: 0,
      confState: { voters, learners: [] },
      lastOp: new Map(),
    };
    this.smHashAt.set(1, 0);
    this.committed.set(1, { term: 1, hash: 0 });
    for (const id of voters) {
      const storage = new SimStorage();
      // Bootstrap: every initial member starts from the same snapshot at index 1, term 1.
      storage.applySnapshot({ metadata: { index: 1, term: 1, confState: initial.confState }, data: encodeSm(initial) });
      storage.setHardState({ term: 1, vote: 0, commit: 1 });
      const n = new SimNode(id, storage);
      this.nodes.set(id, n);
      this.start(n);
    }
  }

  private log(s: string): void {
    if (this.o.trace) this.trace.push(`[t${this.tickNo}.${this.substep % substepsPerTick}] ${s}`);
  }

  private fail(msg: string): never {
    throw new SimFailure(`${msg}\n  replay: npm run qa:raft-sim -- ${replayArgs(this.o)}`, this.trace);
  }

  private chance(p: number): boolean {
    return this.rand() < p;
  }

  private pick<T>(xs: readonly T[]): T | undefined {
    if (xs.length === 0) return undefined;
    return xs[Math.floor(this.rand() * xs.length)];
  }

  // ---- node lifecycle ------------------------------------------------------------------------

  private start(n: SimNode): void {
    n.rate = 1 + (this.rand() * 2 - 1) * clockRateSpread;
    n.clock = this.rand();
    const snap = n.storage.snapshot();
    n.sm = snap.metadata.index > 0 ? decodeSm(snap.data) : { value: 0, appliedIndex: 0, hash: 0, confState: { voters: [], learners: [] }, lastOp: new Map() };
    n.raw = new RawNode({
      id: n.id,
      storage: n.storage,
      random: this.rand,
      electionTicks: this.o.electionTicks,
      heartbeatTicks: 1,
      applied: snap.metadata.index,
      checkQuorum: true,
      preVote: true,
      readOnlyOption: this.o.readOnlyOption,
      msgBytesMax: 4096,
      inflightMsgsMax: 16,
    });
    n.checkedCommit = Math.max(snap.metadata.index, 0);
    n.reads.clear();
    this.log(`start ${n.id} (snap ${snap.metadata.index}, last ${n.storage.lastIndex()})`);
  }

  private crash(n: SimNode): void {
    if (!n.raw) return;
    n.raw = null;
    for (const { op } of n.reads.values()) this.finishInfo(op);
    n.reads.clear();
    for (const p of [...this.pending.values()]) if (p.node === n.id && p.op.kind === 'write') this.finishInfo(p);
    this.stats.crashes++;
    this.log(`crash ${n.id}`);
    // Node liveness tells the others a node died: quiesced replicas wake up.
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const n of this.nodes.values()) n.raw?.wake();
  }

  private live(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.raw !== null).sort((a, b) => a.id - b.id);
  }

  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.live()) {
      const r = (n.raw as RawNode).raft;
      if (r.state === StateType.Leader && (!best || r.term > (best.raw as RawNode).raft.term)) best = n;
    }
    return best;
  }

  // ---- the network -----------------------------------------------------------------------------

  private send(m: Message): void {
    const lossless = !this.faultsOn;
    if (this.blocked.has(`${m.from}>${m.to}`)) {
      this.onDropped(m);
      return;
    }
    if (!lossless && this.chance(this.o.dropRate)) {
      this.onDropped(m);
      return;
    }
    const copies = !lossless && this.chance(this.o.dupRate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const delay = 1 + Math.floor(this.rand() * this.o.maxDelaySubsteps);
      this.net.push({ at: this.substep + delay, seq: this.netSeq++, m });
    }
  }

  private onDropped(m: Message): void {
    if (m.type === MessageType.Snap) {
      const from = this.nodes.get(m.from);
      from?.raw?.reportSnapshot(m.to, 'failure');
    }
  }

  private deliverDue(): void {
    const due = this.net.filter((f) => f.at <= this.substep);
    if (due.length === 0) return;
    this.net = this.net.filter((f) => f.at > this.substep);
    // Deliver in a random order: reordering within and across senders.
    for (let i = due.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [due[i], due[j]] = [due[j] as InFlight, due[i] as InFlight];
    }
    for (const f of due) {
      const to = this.nodes.get(f.m.to);
      if (!to || !to.raw) {
        this.onDropped(f.m);
        continue;
      }
      if (this.blocked.has(`${f.m.from}>${f.m.to}`)) {
        this.onDropped(f.m);
        continue;
      }
      if (process.env.SIM_MSGS && this.tickNo > Number(process.env.SIM_MSGS)) this.log(`deliver ${f.m.type} ${f.m.from}->${f.m.to} term ${f.m.term} idx ${f.m.index} logTerm ${f.m.logTerm} n=${f.m.entries.length} commit ${f.m.commit} rej ${f.m.reject} hint ${f.m.rejectHint}`);
      to.raw.step(f.m);
      if (f.m.type === MessageType.Snap) {
        this.nodes.get(f.m.from)?.raw?.reportSnapshot(f.m.to, 'finish');
      }
      this.process(to);
    }
  }

  // ---- driving a node's Ready ------------------------------------------------------------------

  private process(n: SimNode): void {
    const lossless = !this.faultsOn;
    let guard = 0;
    while (n.raw && n.raw.hasReady()) {
      if (++guard > 1000) this.fail(`node ${n.id}: Ready loop does not converge`);
      const rd = n.raw.ready();
      if (this.o.crashes && !lossless && this.chance(0.002)) {
        // Crash in the middle of persisting: a random prefix of the new entries reaches the disk,
        // the HardState and all messages are lost.
        const k = Math.floor(this.rand() * (rd.entries.length + 1));
        if (k > 0) this.persistEntries(n, rd.entries.slice(0, k));
        n.raw.abandonReady();
        this.log(`crash ${n.id} mid-ready after ${k}/${rd.entries.length} entries`);
        this.crash(n);
        return;
      }
      this.handleReady(n, rd);
    }
  }

  private persistEntries(n: SimNode, ents: Entry[]): void {
    if (ents.length > 0) this.log(`${n.id} persist [${ents.map((e) => `${e.index}:${e.term}`).join(' ')}] onto last ${n.storage.lastIndex()}`);
    n.storage.append(ents);
    // Log Matching (§5.3): same index and term ⇒ same entry and same preceding term.
    for (const e of ents) {
      const prevTerm = e.index - 1 >= n.storage.firstIndex() - 1 ? safeTerm(n.storage, e.index - 1) : undefined;
      const k = `${e.index}:${e.term}`;
      const h = dataHash(e.data) ^ e.type;
      const seen = this.logAt.get(k);
      if (!seen) this.logAt.set(k, { hash: h, prevTerm });
      else {
        if (seen.hash !== h) this.fail(`log matching: two different entries at index ${e.index} term ${e.term}`);
        if (seen.prevTerm !== undefined && prevTerm !== undefined && seen.prevTerm !== prevTerm) {
          this.fail(`log matching: entry ${e.index}:${e.term} preceded by terms ${seen.prevTerm} and ${prevTerm}`);
        }
      }
    }
  }

  private handleReady(n: SimNode, rd: Ready): void {
    const raw = n.raw as RawNode;
    if (rd.softState && rd.softState.raftState === StateType.Leader) {
      const term = raw.raft.term;
      const prev = this.leaderOfTerm.get(term);
      if (prev !== undefined && prev !== n.id) this.fail(`election safety: two leaders in term ${term}: ${prev} and ${n.id}`);
      if (prev === undefined) this.stats.leadersElected++;
      this.leaderOfTerm.set(term, n.id);
      this.log(`${n.id} leader at term ${term}`);
      // Leader Completeness (§5.4): the new leader's log holds every committed entry.
      for (let i = raw.raft.raftLog.firstIndex(); i <= this.committedMax; i++) {
        const c = this.committed.get(i);
        const t = raw.raft.raftLog.termOrUndefined(i);
        if (c && t !== c.term) this.fail(`leader completeness: leader ${n.id} (term ${term}) has term ${t} at committed index ${i} (term ${c.term})`);
      }
    }
    // 1. persist
    if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
    this.persistEntries(n, rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    // 2. send
    for (const m of rd.messages) {
      if (m.type === MessageType.Snap) this.stats.snapshotsSent++;
      this.send(m);
    }
    // 3. apply
    if (rd.snapshot) {
      const sm = decodeSm(rd.snapshot.data);
      const want = this.smHashAt.get(rd.snapshot.metadata.index);
      if (want !== undefined && want !== sm.hash) this.fail(`snapshot at ${rd.snapshot.metadata.index} disagrees with the applied history`);
      n.sm = sm;
      this.log(`${n.id} installed snapshot ${rd.snapshot.metadata.index}`);
    }
    if (rd.committedEntries.length > 0) this.log(`${n.id} apply [${rd.committedEntries[0]?.index}..${rd.committedEntries[rd.committedEntries.length - 1]?.index}] sm=${n.sm.appliedIndex} raftApplied=${raw.raft.raftLog.applied} first=${raw.raft.raftLog.firstIndex()} sfirst=${n.storage.firstIndex()} slast=${n.storage.lastIndex()} uoff=${raw.raft.raftLog.unstable.offset} ulen=${raw.raft.raftLog.unstable.entries.length} commit=${raw.raft.raftLog.committed}`);
    for (const e of rd.committedEntries) this.apply(n, e);
    for (const rs of rd.readStates) {
      const key = Buffer.from(rs.requestCtx).toString('hex');
      const r = n.reads.get(key);
      if (r) r.index = rs.index;
    }
    raw.advance(rd);
    this.checkCommitted(n);
    this.completeReads(n);
  }

  private apply(n: SimNode, e: Entry): void {
    const sm = n.sm;
    if (e.index !== sm.appliedIndex + 1) {
      const rl = (n.raw as RawNode).raft.raftLog;
      this.log(`DEBUG storage ${JSON.stringify(n.storage.entries(n.storage.firstIndex(), n.storage.lastIndex() + 1, 1e12).map((x) => x.index))} rl.slice=${JSON.stringify(rl.slice(rl.applied + 1, rl.committed + 1, 1e12).map((x) => x.index))} state=${(n.raw as RawNode).raft.state}`);
      this.fail(`node ${n.id} applied ${e.index} after ${sm.appliedIndex}`);
    }
    const c = this.committed.get(e.index);
    const h = dataHash(e.data) ^ e.type;
    if (c && (c.term !== e.term || c.hash !== h)) this.fail(`state machine safety: node ${n.id} applied a different entry at ${e.index}`);
    if (!c) this.recordCommitted(e.index, e.term, h);
    if (e.type === EntryType.ConfChange) {
      const cc = decodeConfChange(e.data);
      sm.confState = (n.raw as RawNode).applyConfChange(cc);
      this.log(`${n.id} applied conf change ${JSON.stringify(cc)} → ${JSON.stringify(sm.confState)}`);
    } else if (e.data.length > 0) {
      const op = decodeOp(e.data);
      if ((sm.lastOp.get(op.client) ?? -1) < op.opId) {
        sm.lastOp.set(op.client, op.opId);
        sm.value = op.value;
        const p = this.pending.get(op.client);
        if (p && p.node === n.id && p.op.opId === op.opId) this.finishOk(p, op.value);
      }
    }
    sm.appliedIndex = e.index;
    sm.hash = mix(mix(sm.hash, e.index), h);
    const want = this.smHashAt.get(e.index);
    if (want === undefined) this.smHashAt.set(e.index, sm.hash);
    else if (want !== sm.hash) this.fail(`node ${n.id} diverged: state after ${e.index} differs`);
  }

  private recordCommitted(index: number, term: number, hash: number): void {
    this.committed.set(index, { term, hash });
    if (index > this.committedMax) this.committedMax = index;
  }

  /** Committed entries are never lost or changed: check what this node calls committed. */
  private checkCommitted(n: SimNode): void {
    const r = (n.raw as RawNode).raft;
    const commit = r.raftLog.committed;
    const lo = Math.max(n.checkedCommit + 1, r.raftLog.firstIndex());
    for (let i = lo; i <= commit; i++) {
      const ents = r.raftLog.slice(i, i + 1, Number.MAX_SAFE_INTEGER);
      const e = ents[0] as Entry;
      const h = dataHash(e.data) ^ e.type;
      const c = this.committed.get(i);
      if (!c) this.recordCommitted(i, e.term, h);
      else if (c.term !== e.term || c.hash !== h) this.fail(`committed entry ${i} changed on node ${n.id}: term ${c.term}→${e.term}`);
    }
    if (commit > n.checkedCommit) n.checkedCommit = commit;
    this.stats.committed = this.committedMax;
  }

  // ---- clients ---------------------------------------------------------------------------------

  private startClientOps(): void {
    if (!this.clientsOn) return;
    for (let c = 1; c <= this.o.clients; c++) {
      if (this.pending.has(c) || !this.chance(0.15)) continue;
      // Mostly the newest leader; sometimes any node that believes it leads (a deposed leader
      // that has not noticed yet is where stale reads would show up); sometimes any node.
      const lead = this.leader();
      const believers = this.live().filter((n) => (n.raw as RawNode).raft.state === StateType.Leader);
      const r = this.rand();
      const target = r < 0.5 && lead ? lead : r < 0.8 && believers.length > 0 ? this.pick(believers) : this.pick(this.live());
      if (!target || !target.raw) continue;
      const kind = this.chance(0.5) ? 'write' : 'read';
      const op: Op = { client: c, opId: ++this.opSeq, kind, value: kind === 'write' ? ++this.valueSeq : 0 };
      const p: PendingOp = { op, node: target.id, invokeTick: this.tickNo, historyIndex: -1 };
      try {
        if (kind === 'write') {
          target.raw.propose(encodeOp(op));
        } else {
          const ctx = new Uint8Array(8);
          new DataView(ctx.buffer).setFloat64(0, ++this.ctxSeq);
          target.raw.readIndex(ctx);
          target.reads.set(Buffer.from(ctx).toString('hex'), { op: p, index: null });
        }
      } catch (e) {
        if (e instanceof ProposalDroppedError) {
          // Definitely not applied: a failed op, which the history can leave out.
          this.log(`client ${c} ${kind} at ${target.id} dropped: ${e.reason}`);
          this.stats.ops.fail++;
          continue;
        }
        throw e;
      }
      p.historyIndex = this.history.length;
      this.history.push({ client: c, kind, value: op.value, invokeTime: this.substep, returnTime: Infinity });
      this.pending.set(c, p);
      this.process(target);
    }
  }

  private completeReads(n: SimNode): void {
    for (const [k, r] of n.reads) {
      if (r.index === null || n.sm.appliedIndex < r.index) continue;
      n.reads.delete(k);
      this.finishOk(r.op, n.sm.value);
    }
  }

  private finishOk(p: PendingOp, value: number): void {
    if (this.pending.get(p.op.client) !== p) return;
    this.pending.delete(p.op.client);
    const h = this.history[p.historyIndex] as RegisterOp;
    h.returnTime = this.substep;
    if (p.op.kind === 'read') {
      h.value = value;
      this.stats.ops.reads++;
    }
    this.stats.ops.ok++;
  }

  private finishInfo(p: PendingOp): void {
    if (this.pending.get(p.op.client) !== p) return;
    this.pending.delete(p.op.client);
    // A read with unknown outcome had no effect: drop it from the history. A write stays, open.
    if (p.op.kind === 'read') this.history[p.historyIndex] = { ...(this.history[p.historyIndex] as RegisterOp), kind: 'read', invokeTime: -1, returnTime: -2 };
    this.stats.ops.info++;
  }

  private timeoutClients(): void {
    for (const p of [...this.pending.values()]) {
      if (this.tickNo - p.invokeTick > clientTimeoutTicks) {
        this.nodes.get(p.node)?.reads.forEach((r, k, m) => {
          if (r.op === p) m.delete(k);
        });
        this.finishInfo(p);
      }
    }
  }

  // ---- faults and operations ---------------------------------------------------------------

  private randomFaults(): void {
    const o = this.o;
    const members = [...this.nodes.values()].filter((n) => !n.destroyed);
    if (o.crashes && this.chance(0.01)) {
      const live = this.live();
      // Keep a majority of the initial size alive most of the time so progress happens.
      if (live.length > Math.floor(o.nodes / 2) + 1) {
        const n = this.pick(live);
        if (n) this.crash(n);
      }
    }
    if (o.crashes && this.chance(0.03)) {
      const down = members.filter((n) => !n.raw);
      const n = this.pick(down);
      if (n) this.start(n);
    }
    if (o.partitions && this.chance(0.006)) {
      this.blocked.clear();
      const ids = members.map((n) => n.id);
      const kind = this.rand();
      if (kind < 0.4) {
        // Symmetric split into two sides.
        const side = new Set(ids.filter(() => this.chance(0.5)));
        for (const a of ids) for (const b of ids) if (side.has(a) !== side.has(b)) this.blocked.add(`${a}>${b}`);
        this.log(`partition ${[...side].join(',')} | rest`);
      } else if (kind < 0.7) {
        // Asymmetric: one node can send but not receive (or the reverse).
        const x = this.pick(ids) as number;
        const inbound = this.chance(0.5);
        for (const b of ids) if (b !== x) this.blocked.add(inbound ? `${b}>${x}` : `${x}>${b}`);
        this.log(`asymmetric partition of ${x} (${inbound ? 'inbound' : 'outbound'} blocked)`);
      } else {
        // Isolate the leader.
        const l = this.leader();
        if (l) for (const b of ids) if (b !== l.id) this.blocked.add(`${l.id}>${b}`).add(`${b}>${l.id}`);
        this.log(`isolate leader ${l?.id}`);
      }
      this.wakeAll();
    }
    if (o.partitions && this.blocked.size > 0 && this.chance(0.02)) {
      this.blocked.clear();
      this.log('heal');
    }
    if (o.membership && this.chance(0.004)) this.randomConfChange();
    if (o.transfers && this.chance(0.005)) {
      const l = this.leader();
      if (l) {
        const to = this.pick([...(l.raw as RawNode).raft.trk.voters].filter((id) => id !== l.id));
        if (to) {
          this.stats.transfers++;
          this.log(`transfer ${l.id} → ${to}`);
          (l.raw as RawNode).transferLeader(to);
          this.process(l);
        }
      }
    }
    if (o.quiescence && this.chance(0.01)) {
      const l = this.leader();
      if (l && (l.raw as RawNode).quiesce()) {
        this.log(`${l.id} quiesced`);
        this.process(l);
      }
    }
  }

  private randomConfChange(): void {
    const l = this.leader();
    if (!l || !l.raw) return;
    const cs = l.raw.raft.trk.confState();
    let cc: ConfChange | undefined;
    const r = this.rand();
    if (cs.learners.length > 0 && r < 0.4) {
      cc = { type: ConfChangeType.AddNode, nodeId: this.pick(cs.learners) as number };
    } else if (r < 0.7 && cs.voters.length + cs.learners.length < this.o.nodes + 2) {
      const id = this.nextNodeId++;
      const n = new SimNode(id, new SimStorage());
      this.nodes.set(id, n);
      this.start(n);
      cc = { type: ConfChangeType.AddLearner, nodeId: id };
    } else if (cs.voters.length > 3) {
      cc = { type: ConfChangeType.RemoveNode, nodeId: this.pick(cs.voters.filter((v) => v !== l.id)) as number };
    }
    if (!cc) return;
    try {
      l.raw.proposeConfChange(cc);
      this.stats.confChanges++;
      this.log(`propose conf change ${JSON.stringify(cc)} at ${l.id}`);
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
    this.process(l);
  }

  /** Nodes removed from the configuration by a committed, applied change are destroyed. */
  private reapRemoved(): void {
    for (const n of this.nodes.values()) {
      if (!n.raw || n.destroyed) continue;
      if (n.raw.raft.removed && n.raw.raft.state !== StateType.Leader) {
        n.raw = null;
        n.destroyed = true;
        this.log(`destroy removed node ${n.id}`);
      }
    }
  }

  private compact(): void {
    for (const n of this.live()) {
      const applied = n.sm.appliedIndex;
      if (applied - n.storage.firstIndex() > 40 && applied > n.storage.storedSnapshotIndex()) {
        n.storage.createSnapshot(applied, n.sm.confState, encodeSm(cloneSm(n.sm)));
        n.storage.compact(applied - 5);
      }
    }
  }

  // ---- the main loop ---------------------------------------------------------------------------

  private substepOnce(faults: boolean): void {
    this.faultsOn = faults;
    this.substep++;
    this.deliverDue();
    // Each node's clock runs at its own rate, within the drift the lease assumes (see
    // clockRateSpread): a node ticks whenever its own clock has advanced by one tick.
    for (const n of this.live()) {
      n.clock += n.rate / substepsPerTick;
      if (n.clock >= 1) {
        n.clock -= 1;
        (n.raw as RawNode).tick();
        this.process(n);
      }
    }
    if (this.substep % substepsPerTick === 0) {
      this.tickNo++;
      if (faults) this.randomFaults();
      this.startClientOps();
      this.timeoutClients();
      if (this.o.compaction && this.tickNo % 7 === 0) this.compact();
      this.reapRemoved();
    }
  }

  run(): SimResult {
    for (let i = 0; i < this.o.ticks * substepsPerTick; i++) this.substepOnce(true);
    // Heal: everything restarts, the network becomes reliable.
    this.blocked.clear();
    this.o.dropRate = 0;
    this.o.dupRate = 0;
    for (const n of this.nodes.values()) if (!n.destroyed && !n.raw) this.start(n);
    this.wakeAll();
    this.log('healed');
    const healedAt = this.tickNo;
    // Liveness: a leader is elected and a fresh proposal commits within a bounded number of ticks.
    const bound = 12 * this.o.electionTicks + clientTimeoutTicks;
    // The probe write may be lost if its leader is deposed; then it is proposed again (a new op).
    let marker: { opId: number; index: number; term: number } | null = null;
    let markers = 0;
    let done = false;
    while (!done) {
      this.substepOnce(false);
      if (this.tickNo - healedAt > bound) {
        const l = this.leader();
        const st = this.live().map((n) => `${n.id}:${(n.raw as RawNode).raft.state[0]}${(n.raw as RawNode).raft.term} c${(n.raw as RawNode).raft.raftLog.committed} a${n.sm.appliedIndex} l${(n.raw as RawNode).raft.raftLog.lastIndex()}${(n.raw as RawNode).raft.removed ? ' removed' : ''}${(n.raw as RawNode).raft.quiesced ? ' q' : ''}`);
        this.fail(`liveness: no commit within ${bound} ticks after healing (leader ${l?.id ?? 'none'}, conf ${JSON.stringify(l?.raw?.raft.trk.confState())}, nodes ${st.join(' ')})`);
      }
      const l = this.leader();
      const lost = marker !== null && l?.raw && l.raw.raft.raftLog.termOrUndefined(marker.index) !== undefined && l.raw.raft.raftLog.termOrUndefined(marker.index) !== marker.term;
      if (l && l.raw && (marker === null || lost) && l.raw.raft.committedEntryInCurrentTerm()) {
        try {
          const opId = ++markers;
          const h = l.raw.propose(encodeOp({ client: 0, opId, kind: 'write', value: -opId }));
          if (h.kind === 'appended') {
            marker = { opId, index: h.index, term: h.term };
            this.log(`liveness probe ${opId} proposed at ${l.id}: ${JSON.stringify(h)}`);
            // The probe write is part of the register's history; its completion is not tracked.
            this.history.push({ client: 0, kind: 'write', value: -opId, invokeTime: this.substep, returnTime: Infinity });
          }
          this.process(l);
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
        }
      }
      if (marker !== null) done = this.live().some((n) => n.sm.lastOp.has(0));
    }
    this.stats.livenessTicks = this.tickNo - healedAt;
    // Let outstanding client ops settle; then, with no new client ops, everything converges.
    for (let i = 0; i < (clientTimeoutTicks + 20) * substepsPerTick; i++) this.substepOnce(false);
    this.clientsOn = false;
    for (let i = 0; i < (clientTimeoutTicks + 20) * substepsPerTick; i++) this.substepOnce(false);
    for (const p of [...this.pending.values()]) this.finishInfo(p);
    this.checkConvergence();
    this.checkLinearizable();
    this.stats.ticks = this.tickNo;
    return this.stats;
  }

  private checkConvergence(): void {
    const l = this.leader();
    if (!l) this.fail('no leader after the settle phase');
    const lr = (l.raw as RawNode).raft;
    for (const id of lr.trk.memberIds()) {
      const n = this.nodes.get(id);
      if (!n || !n.raw) continue;
      if (n.sm.appliedIndex < lr.raftLog.committed) {
        this.log(`DEBUG leader ${l.id} progress of ${id}: ${lr.trk.progress.get(id)?.toString()}; node term ${n.raw.raft.term} lead ${n.raw.raft.lead} state ${n.raw.raft.state} last ${n.raw.raft.raftLog.lastIndex()} leader first ${lr.raftLog.firstIndex()} leaderQuiesced ${lr.quiesced} nodeQuiesced ${n.raw.raft.quiesced} net ${this.net.length} leaderTerm ${lr.term} tick ${lr.tickCount}`);
        this.fail(`node ${id} did not catch up: applied ${n.sm.appliedIndex}, leader committed ${lr.raftLog.committed}`);
      }
    }
  }

  private checkLinearizable(): void {
    const ops = this.history.filter((h) => h.invokeTime >= 0);
    const res = checkRegisterHistory(ops, 0);
    if (res.ok === false) this.fail(`linearizability: ${res.reason} in a history of ${ops.length} ops`);
  }
}

function safeTerm(s: MemoryStorage, i: number): number | undefined {
  try {
    return s.term(i);
  } catch {
    return undefined;
  }
}

export function replayArgs(o: Required<SimOptions> | SimOptions): string {
  return `--seed ${o.seed} --nodes ${o.nodes} --ticks ${o.ticks}${o.readOnlyOption === 'lease-based' ? ' --lease' : ''}`;
}

export function runSimulation(opts: SimOptions): SimResult {
  return new Simulation(opts).run();
}
