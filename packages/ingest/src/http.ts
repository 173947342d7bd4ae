/**
 * InfluxDB's write endpoints on the node's HTTP(S) server:
 *
 *   POST /write?db=DB[&precision=n|ns|u|us|ms|s|m|h][&u=USER&p=PASSWORD][&rp=…]     (InfluxDB 1.x)
 *   POST /api/v2/write?bucket=DB[/RP][&org=…][&precision=ns|us|ms|s]               (InfluxDB 2.x)
 *   GET|HEAD /ping                                                                   (204, as InfluxDB)
 *
 * The database must be a time-series database (CREATE TS DATABASE). Bodies may be gzip
 * (Content-Encoding: gzip) and hold any number of lines up to writeBodyBytesMax bytes
 * decompressed (413 past it). Answers are InfluxDB's:
 *
 * - 204: every line written (and durable).
 * - 1.x, 400 `{"error":"…"}`: malformed lines (`unable to parse '<line>': <reason> (line N)`) and
 *   lines the tables refused (`field type conflict: …`) are dropped, every other line is written
 *   ("partial write: … dropped=N", N the lines refused by the tables, as InfluxDB counts).
 * - 2.x, 400 `{"code":"invalid","message":…}`: a malformed line; nothing of the body is written
 *   (InfluxDB 2.x's rule). 422 `{"code":"unprocessable entity",…}`: lines the tables refused were
 *   dropped, the others written.
 * - 401 (credentials missing or wrong, secure mode), 403 (no privilege to create or write the
 *   tables), 404 (no such database), 405, 413, 503 (too many bodies waiting, Retry-After).
 *
 * Authentication: in secure mode every request must carry a Strata user's password — 1.x `u`/`p`
 * query parameters or `Authorization: Basic`, 2.x `Authorization: Token USER:PASSWORD` (InfluxDB
 * 1.8's form; Basic is accepted too) — checked against the role's SCRAM verifier (LOGIN and
 * CONNECT required, as for SQL). In insecure mode nothing is checked: the request acts as the
 * user it names, else root, like trust authentication in SQL.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { PgError, SqlState, logger } from '@strata/common';
import { Session, auditLoginFailed, authorizeSession, checkPassword } from '@strata/sql';
import type { SqlEngine } from '@strata/sql';
import { parseBody } from './batch.js';
import type { RejectedLine } from './batch.js';
import {
  errorLinesReportedMax,
  loginsCachedMax,
  writeBodiesInflightBytesMax,
  writeBodyBytesMax,
  writeRequestsWaitingMax,
} from './constants.js';
import { parsePrecision } from './line_protocol.js';
import { LineProtocolWriter, TableLocks } from './writer.js';
import type { IngestSession } from './writer.js';

type Api = 'v1' | 'v2';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly v2code: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * Bytes of request bodies held on the node. A request takes room for its whole body before reading
 * it and waits, in arrival order, while there is none (its body is not read meanwhile, so TCP
 * holds its client back); past writeRequestsWaitingMax waiting requests, 503.
 * INVARIANT: a request waits only while it holds nothing, so waiting requests cannot deadlock.
 */
export class BodyBudget {
  private used = 0;
  private readonly waiting: { n: number; go: () => void }[] = [];

  constructor(
    readonly bytesMax: number = writeBodiesInflightBytesMax,
    readonly waitingMax: number = writeRequestsWaitingMax,
  ) {}

  get inUse(): number {
    return this.used;
  }

  /** Takes n bytes, waiting for them if others hold too much. A lone request always gets room. */
  async take(n: number): Promise<void> {
    if (this.waiting.length === 0 && (this.used + n <= this.bytesMax || this.used === 0)) {
      this.used += n;
      return;
    }
    if (this.waiting.length >= this.waitingMax)
      throw new HttpError(503, 'too many write requests waiting for memory; retry later', 'unavailable', {
        'Retry-After': '1',
      });
    await new Promise<void>((go) => this.waiting.push({ n, go }));
  }

  give(n: number): void {
    this.used -= n;
    while (this.waiting.length > 0) {
      const w = this.waiting[0] as { n: number; go: () => void };
      if (this.used + w.n > this.bytesMax && this.used > 0) break;
      this.waiting.shift();
      this.used += w.n;
      w.go();
    }
  }
}

export interface LineProtocolHttpOptions {
  engine: SqlEngine;
  /** Secure mode: credentials are required and checked. */
  secure: boolean;
  budget?: BodyBudget;
  bodyBytesMax?: number;
}

/** The write endpoints of one node. */
export class LineProtocolHttp {
  private readonly log = logger('ingest');
  private readonly writer = new LineProtocolWriter(new TableLocks());
  private readonly budget: BodyBudget;
  private readonly bodyBytesMax: number;
  /** user → hash of (password, verifier) of recent successful logins (see loginsCachedMax). */
  private readonly logins = new Map<string, string>();
  private nextPid = 1;

  constructor(private readonly opts: LineProtocolHttpOptions) {
    this.budget = opts.budget ?? new BodyBudget();
    this.bodyBytesMax = opts.bodyBytesMax ?? writeBodyBytesMax;
  }

  static handles(path: string): boolean {
    return path === '/write' || path === '/api/v2/write' || path === '/ping';
  }

  async serve(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> {
    if (path === '/ping') {
      res.writeHead(204, { 'X-Influxdb-Version': 'Strata', 'X-Influxdb-Build': 'Strata' });
      res.end();
      req.resume();
      return;
    }
    const api: Api = path === '/write' ? 'v1' : 'v2';
    try {
      if (req.method !== 'POST')
        throw new HttpError(405, `${req.method} is not allowed; write with POST`, 'method not allowed', {
          Allow: 'POST',
        });
      await this.write(api, req, res, new URLSearchParams(query));
    } catch (e) {
      req.resume(); // drain what the client still sends
      if (e instanceof HttpError) {
        answer(res, api, e.status, e.message, e.v2code, e.headers);
        return;
      }
      this.log.error({ err: e }, 'line-protocol write failed');
      answer(res, api, 500, 'internal error', 'internal error');
    }
  }

  private async write(
    api: Api,
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
  ): Promise<void> {
    const dbParam = api === 'v1' ? q.get('db') : q.get('bucket');
    if (!dbParam)
      throw new HttpError(400, api === 'v1' ? 'database is required' : 'bucket is required', 'invalid');
    // A 2.x bucket of InfluxDB 1.8's compatibility API is "database/retention-policy".
    const database = api === 'v2' ? (dbParam.split('/')[0] as string) : dbParam;
    const precision = parsePrecision(q.get('precision'));
    if (precision === null)
      throw new HttpError(
        400,
        `invalid precision "${q.get('precision')}": use ns, us, ms, s${api === 'v1' ? ', m or h' : ''}`,
        'invalid',
      );
    const { user, superuser, roleOid } = await this.authenticate(api, req, q, database);
    const db = this.opts.engine.catalog.view(null).database(database);
    if (!db) throw new HttpError(404, `database not found: "${database}"`, 'not found');
    if (!db.ts)
      throw new HttpError(
        400,
        `database "${database}" is not a time-series database; line protocol writes to one made by CREATE TS DATABASE`,
        'invalid',
      );
    const declared = Number(req.headers['content-length'] ?? NaN);
    const gzip = contentEncoding(req);
    if (!gzip && declared > this.bodyBytesMax) throw tooLarge(this.bodyBytesMax);
    // The body's room in the node's budget is taken before it is read, whole: its exact size
    // when declared and not compressed, else the most a body may decompress to. (Taking it chunk
    // by chunk could leave every request holding part of the budget and waiting for the rest.)
    const held = !gzip && Number.isFinite(declared) ? declared : this.bodyBytesMax;
    await this.budget.take(held);
    const nowUs = Date.now() * 1000;
    try {
      const body = await this.readBody(req, gzip);
      if (!isUtf8(body))
        throw new HttpError(400, `invalid UTF-8 in the body (line ${firstBadUtf8Line(body)})`, 'invalid');
      const batch = parseBody(body, { precision, nowUs });
      if (api === 'v2' && batch.malformed.length > 0)
        throw new HttpError(400, joinMessages(batch.malformed), 'invalid');
      const session = new Session(this.opts.engine, {
        database,
        user,
        backendPid: this.nextPid++,
        superuser,
        roleOid,
      });
      let result;
      try {
        result = await this.writer.write(batch, sqlSession(session), database);
      } catch (e) {
        if (e instanceof PgError && e.code === SqlState.InsufficientPrivilege)
          throw new HttpError(403, e.message, 'forbidden');
        if (e instanceof PgError)
          throw new HttpError(e.code === SqlState.DiskFull ? 507 : 500, e.message, 'internal error');
        throw e;
      } finally {
        session.close();
      }
      const refused = result.rejected;
      if (batch.malformed.length === 0 && refused.length === 0) {
        res.writeHead(204);
        res.end();
        return;
      }
      if (api === 'v2') {
        throw new HttpError(
          422,
          `failure writing points to database: partial write: ${joinMessages(refused)} dropped=${refused.length}`,
          'unprocessable entity',
        );
      }
      const all = [...batch.malformed, ...refused].sort((a, b) => a.line - b.line);
      if (batch.points === 0) throw new HttpError(400, joinMessages(all), 'invalid');
      throw new HttpError(400, `partial write: ${joinMessages(all)} dropped=${refused.length}`, 'invalid');
    } finally {
      this.budget.give(held);
    }
  }

  /** The body, decompressed, at most bodyBytesMax bytes (413 past it). */
  private async readBody(req: IncomingMessage, gzip: boolean): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let total = 0;
    // pipeline, not pipe: a client that goes away mid-body must end the gunzip stream too.
    const source: AsyncIterable<Buffer> = gzip ? pipeline(req, createGunzip(), () => {}) : req;
    try {
      for await (const chunk of source) {
        total += chunk.length;
        if (total > this.bodyBytesMax) throw tooLarge(this.bodyBytesMax);
        chunks.push(chunk);
      }
    } catch (e) {
      if (e instanceof HttpError) throw e;
      const code = (e as { code?: string }).code ?? '';
      if (gzip && code.startsWith('Z_'))
        throw new HttpError(400, `the gzip body is invalid: ${(e as Error).message}`, 'invalid');
      throw new HttpError(400, `the request body could not be read: ${(e as Error).message}`, 'invalid');
    }
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
  }

  /** Who the request acts as (401 when secure mode cannot tell; 404/403 for the database as SQL login would). */
  private async authenticate(
    api: Api,
    req: IncomingMessage,
    q: URLSearchParams,
    database: string,
  ): Promise<{ user: string; superuser: boolean; roleOid: number }> {
    const cred = credentials(api, req, q);
    const engine = this.opts.engine;
    const auth = await engine.auth.view(null);
    const remote = req.socket.remoteAddress ?? '';
    const unauthorized = (message: string) =>
      new HttpError(401, message, 'unauthorized', { 'WWW-Authenticate': 'Basic realm="Strata"' });
    let user: string;
    if (this.opts.secure) {
      if (!cred || cred.password === null) throw unauthorized('unable to parse authentication credentials');
      user = cred.user;
      const role = auth.role(user);
      const verifier = role?.password ?? null;
      const key = createHash('sha256')
        .update(`${cred.password}\u0000${verifier ?? ''}`)
        .digest('hex');
      if (!verifier || this.logins.get(user) !== key) {
        if (!verifier || !(await checkPassword(cred.password, verifier))) {
          auditLoginFailed({
            user,
            database,
            remote,
            method: 'password',
            ssl: true,
            reason: role ? (verifier ? 'wrong password' : 'no password set') : 'no such role',
          });
          throw unauthorized('authorization failed');
        }
        if (this.logins.size >= loginsCachedMax) this.logins.clear();
        this.logins.set(user, key);
      }
    } else {
      user = cred?.user || 'root';
      if (!auth.role(user)) throw unauthorized(`authorization failed: role "${user}" does not exist`);
    }
    try {
      const role = authorizeSession(engine, auth, user, database);
      return { user, superuser: auth.isSuperuser(role.oid), roleOid: role.oid };
    } catch (e) {
      if (e instanceof PgError && e.code === SqlState.InvalidCatalogName)
        throw new HttpError(404, `database not found: "${database}"`, 'not found');
      if (e instanceof PgError && e.code === SqlState.InsufficientPrivilege)
        throw new HttpError(403, e.message, 'forbidden');
      if (e instanceof PgError) throw unauthorized(`authorization failed: ${e.message}`);
      throw e;
    }
  }
}

/** The credentials a request carries: 1.x u/p parameters, Basic, or Token user:password. */
function credentials(
  api: Api,
  req: IncomingMessage,
  q: URLSearchParams,
): { user: string; password: string | null } | null {
  const h = req.headers.authorization;
  if (h) {
    const m = /^(Basic|Token|Bearer)\s+(.*)$/i.exec(h.trim());
    if (m) {
      const scheme = (m[1] as string).toLowerCase();
      const raw =
        scheme === 'basic' ? Buffer.from(m[2] as string, 'base64').toString('utf8') : (m[2] as string);
      const colon = raw.indexOf(':');
      if (colon > 0) return { user: raw.slice(0, colon), password: raw.slice(colon + 1) };
      return null;
    }
    return null;
  }
  if (api === 'v1' && q.has('u')) return { user: q.get('u') as string, password: q.get('p') };
  return null;
}

function contentEncoding(req: IncomingMessage): boolean {
  const e = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (e === '' || e === 'identity') return false;
  if (e === 'gzip' || e === 'x-gzip') return true;
  throw new HttpError(
    415,
    `Content-Encoding "${e}" is not supported: send identity or gzip`,
    'unsupported media type',
  );
}

function tooLarge(max: number): HttpError {
  return new HttpError(
    413,
    `Request Entity Too Large: the body exceeds the limit of ${max} bytes (decompressed); send fewer lines per request`,
    'request too large',
  );
}

/** Rejected lines' messages, one a line, at most errorLinesReportedMax of them. */
function joinMessages(lines: readonly RejectedLine[]): string {
  const shown = lines.slice(0, errorLinesReportedMax).map((l) => l.message);
  if (lines.length > errorLinesReportedMax)
    shown.push(`… and ${lines.length - errorLinesReportedMax} more lines refused`);
  return shown.join('\n');
}

function firstBadUtf8Line(body: Buffer): number {
  let line = 1;
  let start = 0;
  for (let i = 0; i <= body.length; i++) {
    if (i === body.length || body[i] === 10) {
      if (!isUtf8(body.subarray(start, i))) return line;
      line++;
      start = i + 1;
    }
  }
  return line;
}

function answer(
  res: ServerResponse,
  api: Api,
  status: number,
  message: string,
  v2code: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = api === 'v1' ? JSON.stringify({ error: message }) : JSON.stringify({ code: v2code, message });
  const h: Record<string, string> = { 'Content-Type': 'application/json', ...headers };
  // InfluxDB 1.x repeats the error in a header (newlines flattened: headers cannot carry them).
  if (api === 'v1')
    h['X-Influxdb-Error'] = message
      .replace(/[\r\n]+/g, ' ')
      .slice(0, 1024)
      .replace(/[^\x20-\x7e]/g, '?');
  res.writeHead(status, h);
  res.end(body);
}

/** The writer's view of a SQL session: DDL runs as simple queries, outside transactions. */
function sqlSession(s: Session): IngestSession {
  const sink = {
    rowDescription() {},
    row() {},
    complete() {},
    notice() {},
    empty() {},
  };
  return {
    tsIngestTarget: (name) => s.tsIngestTarget(name),
    ddl: async (sql) => {
      try {
        await s.simpleQuery(sql, sink);
      } catch (e) {
        s.onError();
        throw e;
      }
    },
  };
}
