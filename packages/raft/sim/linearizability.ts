/**
 * A linearizability checker for a single read/write register (Wing & Gong's search with Lowe's
 * memoization, as in Knossos/Porcupine). Writes carry unique values, so the search stays small.
 *
 * An operation that never returned (`returnTime === Infinity`, an "info" op: timed out, or its
 * node crashed) may take effect at any point after its invocation, or never.
 */

export interface RegisterOp {
  client: number;
  kind: 'write' | 'read';
  /** write: the value written; read: the value returned. */
  value: number;
  invokeTime: number;
  /** Infinity if the outcome is unknown. Reads with unknown outcome should be left out. */
  returnTime: number;
}

interface Ev {
  op: number;
  isCall: boolean;
  time: number;
  prev: Ev | null;
  next: Ev | null;
  match: Ev | null; // call → its return event (null for info ops)
}

export type CheckResult = { ok: true } | { ok: false; reason: string } | { ok: 'unknown'; reason: string };

export function checkRegisterHistory(ops: readonly RegisterOp[], initial: number, stepBudget = 5_000_000): CheckResult {
  // Build the event list ordered by time; at equal times calls come first (treat as concurrent).
  const evs: Ev[] = [];
  ops.forEach((op, i) => {
    const call: Ev = { op: i, isCall: true, time: op.invokeTime, prev: null, next: null, match: null };
    evs.push(call);
    if (op.returnTime !== Infinity) {
      const ret: Ev = { op: i, isCall: false, time: op.returnTime, prev: null, next: null, match: null };
      call.match = ret;
      evs.push(ret);
    }
  });
  evs.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Ev = { op: -1, isCall: false, time: -Infinity, prev: null, next: null, match: null };
  let p = head;
  for (const e of evs) {
    p.next = e;
    e.prev = p;
    p = e;
  }

  let required = ops.filter((o) => o.returnTime !== Infinity).length;
  const linearized = new Uint8Array(ops.length);
  const cache = new Set<string>();
  const stack: { ev: Ev; state: number }[] = [];
  let state = initial;
  let entry: Ev | null = head.next;
  let steps = 0;

  const lift = (e: Ev) => {
    (e.prev as Ev).next = e.next;
    if (e.next) e.next.prev = e.prev;
    const m = e.match;
    if (m) {
      (m.prev as Ev).next = m.next;
      if (m.next) m.next.prev = m.prev;
    }
  };
  const unlift = (e: Ev) => {
    const m = e.match;
    if (m) {
      (m.prev as Ev).next = m;
      if (m.next) m.next.prev = m;
    }
    (e.prev as Ev).next = e;
    if (e.next) e.next.prev = e;
  };
  const key = () => `${state}|${Buffer.from(linearized).toString('latin1')}`;

  while (true) {
    if (required === 0) return { ok: true };
    if (++steps > stepBudget) return { ok: 'unknown', reason: `search budget of ${stepBudget} steps exhausted` };
    if (entry !== null && entry.isCall) {
      const op = ops[entry.op] as RegisterOp;
      let newState = state;
      let legal = true;
      if (op.kind === 'write') newState = op.value;
      else legal = op.value === state;
      if (legal) {
        const saved = state;
        state = newState;
        linearized[entry.op] = 1;
        const k = key();
        if (!cache.has(k)) {
          cache.add(k);
          stack.push({ ev: entry, state: saved });
          if (op.returnTime !== Infinity) required--;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized[entry.op] = 0;
        state = saved;
      }
      entry = entry.next;
      continue;
    }
    // A return event (some op must have been linearized before it) or the end of the list.
    const top = stack.pop();
    if (!top) {
      const at = entry ? ops[entry.op] : undefined;
      return { ok: false, reason: `no linearization${at ? ` (stuck at ${JSON.stringify(at)})` : ''}` };
    }
    state = top.state;
    linearized[top.ev.op] = 0;
    if ((ops[top.ev.op] as RegisterOp).returnTime !== Infinity) required++;
    unlift(top.ev);
    entry = top.ev.next;
  }
}
