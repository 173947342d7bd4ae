/**
 * A minimal simple-query protocol client for the conformance runner: one Query message per
 * statement, every result set kept as text (column names, type OIDs, rows, command tags),
 * errors kept with their SQLSTATE, COPY FROM STDIN fed from memory and COPY TO STDOUT collected.
 * It talks to PostgreSQL and Strata the same way, so their answers can be compared byte for byte.
 */
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { parse, serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';

export interface ResultSet {
  columns: string[];
  types: number[];
  /** The first rowsKeptMax rows (longer results are compared by count and digests). */
  rows: (string | null)[][];
  count: number;
  /** Digests of every row: in order, and order-independent (a sum of row hashes). */
  orderedDigest: string;
  unorderedDigest: bigint;
  tag: string;
}

export type Outcome =
  | { ok: true; results: ResultSet[]; copyOut: string }
  | { ok: false; code: string; message: string; results: ResultSet[] };

/** Rows kept per result set: enough for every regression query's output; bounded so a runaway result cannot exhaust the runner. */
export const rowsKeptMax = 20_000;
/** Field bytes kept: longer values are replaced by their digest. */
const fieldCharsMax = 100_000;

function rowHash(r: (string | null)[]): { text: string; h: bigint } {
  const text = r.map((v) => (v === null ? '\u0000N' : v)).join('\u0001');
  const d = createHash('sha1').update(text).digest();
  return { text, h: d.readBigUInt64BE(0) };
}

/** Statement time limit, seconds: long enough for the suite's largest statements on a loaded CI core, short enough that a hang does not stall the run. */
export const statementTimeoutS = 20;

export class SimpleClient {
  private queue: BackendMessage[] = [];
  private waiter: (() => void) | null = null;
  closed = false;
  private key: { pid: number; secret: number } | null = null;
  private constructor(
    private readonly socket: Socket,
    readonly host: string,
    readonly port: number,
  ) {}

  static async connect(host: string, port: number, user: string, database: string): Promise<SimpleClient> {
    const socket = connect(port, host);
    await new Promise<void>((res, rej) => {
      socket.once('connect', () => res());
      socket.once('error', rej);
    });
    const c = new SimpleClient(socket, host, port);
    socket.on('error', () => {
      c.closed = true;
      c.wake();
    });
    socket.on('close', () => {
      c.closed = true;
      c.wake();
    });
    void parse(socket, (m) => {
      if (m.name === 'backendKeyData') {
        const k = m as unknown as { processID: number; secretKey: number };
        c.key = { pid: k.processID, secret: k.secretKey };
      }
      c.queue.push(m);
      c.wake();
    });
    socket.write(serialize.startup({ user, database, client_encoding: 'UTF8' }));
    for (;;) {
      const m = await c.next(30_000);
      if (m === null || m === 'timeout') throw new Error('connection closed or silent during startup');
      if (m.name === 'error')
        throw new Error(`startup failed: ${(m as unknown as { message: string }).message}`);
      if (m.name === 'readyForQuery') return c;
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  private async next(timeoutMs: number): Promise<BackendMessage | null | 'timeout'> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.queue.shift();
      if (m) return m;
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((res) => {
        this.waiter = res;
        setTimeout(res, Math.min(left, 1000));
      });
    }
  }

  private async cancel(): Promise<void> {
    if (!this.key) return;
    const s = connect(this.port, this.host);
    await new Promise<void>((res) => {
      s.once('connect', () => res());
      s.once('error', () => res());
    });
    const b = Buffer.alloc(16);
    b.writeInt32BE(16, 0);
    b.writeInt32BE(80877102, 4);
    b.writeInt32BE(this.key.pid, 8);
    b.writeInt32BE(this.key.secret, 12);
    s.end(b);
  }

  /** Sends one Query message; `copyIn` feeds COPY FROM STDIN. Never throws for SQL errors. */
  async query(sql: string, copyIn = ''): Promise<Outcome> {
    if (this.closed) return { ok: false, code: 'CLOSED', message: 'connection closed', results: [] };
    this.socket.write(serialize.query(sql));
    const results: ResultSet[] = [];
    let cur: ResultSet | null = null;
    let ordered: ReturnType<typeof createHash> | null = null;
    let err: { code: string; message: string } | null = null;
    let copyOut = '';
    let cancelled = false;
    // The limit is on the whole statement (a result that never ends keeps sending rows).
    let deadline = Date.now() + statementTimeoutS * 1000;
    for (;;) {
      const m = Date.now() > deadline ? 'timeout' : await this.next(Math.max(1, deadline - Date.now()));
      if (m === null) return { ok: false, code: 'CLOSED', message: 'connection closed', results };
      if (m === 'timeout') {
        if (cancelled) {
          this.socket.destroy();
          this.closed = true;
          return { ok: false, code: 'TIMEOUT', message: 'no answer after cancel', results };
        }
        cancelled = true;
        deadline = Date.now() + statementTimeoutS * 1000;
        await this.cancel();
        continue;
      }
      switch (m.name) {
        case 'rowDescription': {
          const f = (m as unknown as { fields: { name: string; dataTypeID: number }[] }).fields;
          cur = { columns: f.map((x) => x.name), types: f.map((x) => x.dataTypeID), rows: [], tag: '', count: 0, orderedDigest: '', unorderedDigest: 0n };
          ordered = createHash('sha1');
          break;
        }
        case 'dataRow': {
          const fields = (m as unknown as { fields: (string | null)[] }).fields;
          if (!cur) break;
          const row = fields.map((v) => (v === null ? null : v.length > fieldCharsMax ? `<${v.length} chars, sha1 ${createHash('sha1').update(v).digest('hex')}>` : String(v)));
          const rh = rowHash(row);
          ordered?.update(rh.text + '\n');
          cur.unorderedDigest = (cur.unorderedDigest + rh.h) & 0xffffffffffffffffn;
          cur.count++;
          if (cur.rows.length < rowsKeptMax) cur.rows.push(row);
          break;
        }
        case 'commandComplete': {
          const tag = (m as unknown as { text: string }).text;
          if (cur) {
            cur.tag = tag;
            cur.orderedDigest = ordered?.digest('hex') ?? '';
            results.push(cur);
            cur = null;
          } else results.push({ columns: [], types: [], rows: [], tag, count: 0, orderedDigest: '', unorderedDigest: 0n });
          break;
        }
        case 'emptyQuery':
          results.push({ columns: [], types: [], rows: [], tag: '', count: 0, orderedDigest: '', unorderedDigest: 0n });
          break;
        case 'error': {
          const e = m as unknown as { code: string; message: string };
          if (err === null) err = { code: cancelled ? 'TIMEOUT' : e.code, message: e.message };
          cur = null;
          break;
        }
        case 'copyInResponse':
          if (copyIn !== '') this.socket.write(serialize.copyData(Buffer.from(copyIn)));
          this.socket.write(serialize.copyDone());
          break;
        case 'copyData':
          if (copyOut.length < 10_000_000) copyOut += (m as unknown as { chunk: Buffer }).chunk.toString();
          break;
        case 'readyForQuery':
          if (err) return { ok: false, code: err.code, message: err.message, results };
          return { ok: true, results, copyOut };
        default:
          break;
      }
    }
  }

  end(): void {
    if (!this.closed) this.socket.end(serialize.end());
    this.closed = true;
  }
}
