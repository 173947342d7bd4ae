/**
 * Test helpers: raft nodes wired through a synchronous in-memory network (etcd's `network`).
 * Messages are delivered depth-first until none are left; links can be cut or message types
 * ignored. Unstable entries are persisted to each node's MemoryStorage as a driver would.
 */
import { MemoryStorage, MessageType, Raft, RawNode, message, mulberry32, EntryType, emptyBytes } from '../src/index.js';
import type { Entry, Message, RaftConfig } from '../src/index.js';

export function newStorage(voters: number[], learners: number[] = []): MemoryStorage {
  const s = new MemoryStorage();
  s.applySnapshot({ metadata: { index: 1, term: 1, confState: { voters, learners } }, data: emptyBytes });
  s.setHardState({ term: 1, vote: 0, commit: 1 });
  return s;
}

export function newRaft(id: number, voters: number[], opts: Partial<RaftConfig> = {}, storage?: MemoryStorage): Raft {
  return new Raft({
    id,
    storage: storage ?? newStorage(voters),
    random: mulberry32(id * 7919),
    electionTicks: 10,
    heartbeatTicks: 1,
    ...opts,
  });
}

export function ents(...terms: number[]): Entry[] {
  return terms.map((t, i) => ({ term: t, index: i + 2, type: EntryType.Normal, data: new Uint8Array([i]) }));
}

/** A storage holding the bootstrap snapshot at (1,1) followed by entries with the given terms at index 2, 3, … */
export function storageWithLog(voters: number[], terms: number[], hsTerm?: number): MemoryStorage {
  const s = newStorage(voters);
  s.append(ents(...terms));
  s.setHardState({ term: hsTerm ?? Math.max(1, ...terms), vote: 0, commit: 1 });
  return s;
}

export function drain(r: Raft): Message[] {
  const m = r.msgs;
  r.msgs = [];
  return m;
}

export function prop(data = 'x'): Message {
  return message({ type: MessageType.Prop, entries: [{ term: 0, index: 0, type: EntryType.Normal, data: new TextEncoder().encode(data) }] });
}

export function hup(r: Raft): void {
  r.step(message({ type: MessageType.Hup, from: r.id }));
}

export class Network {
  readonly peers = new Map<number, Raft>();
  readonly storage = new Map<number, MemoryStorage>();
  private cut = new Set<string>();
  private ignored = new Set<MessageType>();
  /** Every message delivered, for assertions about traffic. */
  readonly delivered: Message[] = [];

  constructor(nodes: Raft[]) {
    for (const r of nodes) {
      this.peers.set(r.id, r);
      this.storage.set(r.id, r.raftLog.storage as MemoryStorage);
    }
  }

  static of(n: number, opts: Partial<RaftConfig> = {}): Network {
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    return new Network(ids.map((id) => newRaft(id, ids, opts)));
  }

  get(id: number): Raft {
    const r = this.peers.get(id);
    if (!r) throw new Error(`no peer ${id}`);
    return r;
  }

  cutLink(a: number, b: number): void {
    this.cut.add(`${a}>${b}`).add(`${b}>${a}`);
  }

  isolate(id: number): void {
    for (const other of this.peers.keys()) if (other !== id) this.cutLink(id, other);
  }

  ignore(t: MessageType): void {
    this.ignored.add(t);
  }

  recover(): void {
    this.cut.clear();
    this.ignored.clear();
  }

  /** Persists each node's unstable entries to its storage, as a driver would before sending. */
  persist(r: Raft): void {
    const s = this.storage.get(r.id) as MemoryStorage;
    if (r.raftLog.unstable.snapshot) {
      s.applySnapshot(r.raftLog.unstable.snapshot);
      r.raftLog.stableSnapTo(r.raftLog.unstable.snapshot.metadata.index);
    }
    const u = r.raftLog.unstableEntries();
    if (u.length > 0) {
      s.append(u);
      const last = u[u.length - 1] as Entry;
      r.raftLog.stableTo(last.index, last.term);
    }
    s.setHardState(r.hardState());
  }

  /** Delivers msgs and everything they cause, until the network is quiet. */
  send(...msgs: Message[]): void {
    const queue = [...msgs];
    let guard = 0;
    while (queue.length > 0) {
      if (++guard > 100_000) throw new Error('network does not quiesce');
      const m = queue.shift() as Message;
      const r = this.peers.get(m.to);
      if (!r || this.cut.has(`${m.from}>${m.to}`) || this.ignored.has(m.type)) continue;
      this.delivered.push(m);
      r.step(m);
      this.persist(r);
      queue.push(...drain(r));
    }
  }

  /** Steps a local message into node `id` and delivers everything that follows. */
  local(id: number, m: Message): void {
    const r = this.get(id);
    m.from = m.from || id;
    r.step(m);
    this.persist(r);
    this.send(...drain(r));
  }

  elect(id: number): void {
    this.local(id, message({ type: MessageType.Hup, from: id }));
  }

  propose(id: number, data = 'x'): void {
    this.local(id, prop(data));
  }

  tick(id: number, n = 1): void {
    const r = this.get(id);
    for (let i = 0; i < n; i++) {
      r.tick();
      this.persist(r);
      this.send(...drain(r));
    }
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) for (const id of [...this.peers.keys()]) this.tick(id);
  }
}

/** RawNodes driven through the full Ready/advance contract, with in-memory message passing. */
export class RawCluster {
  readonly nodes = new Map<number, { raw: RawNode; storage: MemoryStorage }>();

  constructor(n: number) {
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    for (const id of ids) {
      const storage = newStorage(ids);
      this.nodes.set(id, { storage, raw: new RawNode({ id, storage, random: mulberry32(id) }) });
    }
  }

  raw(id: number): RawNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n.raw;
  }

  /** Drives every node's Ready until nothing is left to do. Returns the messages delivered. */
  pump(): Message[] {
    const delivered: Message[] = [];
    let busy = true;
    while (busy) {
      busy = false;
      const out: Message[] = [];
      for (const { raw, storage } of this.nodes.values()) {
        while (raw.hasReady()) {
          busy = true;
          const rd = raw.ready();
          if (rd.snapshot) storage.applySnapshot(rd.snapshot);
          storage.append(rd.entries);
          if (rd.hardState) storage.setHardState(rd.hardState);
          out.push(...rd.messages);
          raw.advance(rd);
        }
      }
      for (const m of out) {
        this.nodes.get(m.to)?.raw.step(m);
        delivered.push(m);
      }
    }
    return delivered;
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const { raw } of this.nodes.values()) raw.tick();
      this.pump();
    }
  }
}
