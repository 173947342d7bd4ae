/**
 * npm run qa:pgregress -- [--files a,b,…|--all] [--strata URL] [--details DIR]
 *
 * PostgreSQL 15's regression suite, run statement by statement against Strata and a live
 * PostgreSQL 15 side by side (PG_URL, e.g. postgresql://postgres@127.0.0.1:55433/postgres).
 * The suite's files are not in this repository: `qa/pgregress/fetch.sh` puts
 * src/test/regress/{sql,data,expected} of Debian's postgresql-15 source package in
 * qa/pgregress/suite/ (git-ignored).
 *
 * Each file runs in a fresh database on each server after test_setup.sql (the suite's shared
 * tables); both sessions use TimeZone PST8PDT (the suite's) and DateStyle ISO, MDY (the default
 * applications see). Every statement's outcome on Strata is classified against PostgreSQL's (see
 * compare.ts); the runner prints a table per file and writes every difference to DIR/<file>.txt
 * (default qa/pgregress/out/). Without --strata it starts a Strata node from the built CLI.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { StrataProcess } from './strata_process.js';
import { SimpleClient } from './client.js';
import type { Outcome } from './client.js';
import { categories, classify, mentions, render, writtenNames } from './compare.js';
import type { Category } from './compare.js';
import { splitScript, stripComments } from './script.js';
import type { Unit } from './script.js';

/** The application-facing files issue 13 holds to 80% matched and zero wrong answers. */
export const appFiles = [
  'select',
  'join',
  'aggregates',
  'window',
  'with',
  'subselect',
  'union',
  'case',
  'strings',
  'text',
  'numeric',
  'int4',
  'int8',
  'float4',
  'float8',
  'date',
  'timestamp',
  'timestamptz',
  'interval',
  'insert',
  'insert_conflict',
  'update',
  'delete',
  'arrays',
  'json',
  'jsonb',
  'limit',
  'copy2',
  'prepare',
  'transactions',
];

const { values } = parseArgs({
  options: {
    files: { type: 'string' },
    all: { type: 'boolean', default: false },
    strata: { type: 'string' },
    cli: { type: 'string' },
    details: { type: 'string', default: join(import.meta.dirname, 'out') },
    suite: { type: 'string', default: join(import.meta.dirname, 'suite') },
  },
});

const suite = values.suite;
const sqlDir = join(suite, 'sql');
if (!existsSync(sqlDir)) {
  console.error(`no suite in ${suite}: run qa/pgregress/fetch.sh first`);
  process.exit(2);
}
const pgUrl = process.env.PG_URL;
if (pgUrl === undefined) {
  console.error(
    'PG_URL must point at a PostgreSQL 15 server (a superuser, e.g. postgresql://postgres@127.0.0.1:55433/postgres)',
  );
  process.exit(2);
}

interface Endpoint {
  host: string;
  port: number;
  user: string;
}
function endpoint(url: string): Endpoint {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || 'postgres'),
  };
}

const setupUnits = splitScript(readFileSync(join(sqlDir, 'test_setup.sql'), 'utf8'));
let node: StrataProcess | null = null;
async function strataEndpoint(): Promise<Endpoint> {
  if (values.strata !== undefined) return endpoint(values.strata);
  if (node === null || !node.alive()) {
    if (node !== null) console.error(`strata node died; restarting. stderr tail: ${node.stderr.slice(-2000)}`);
    node = await StrataProcess.start(values.cli);
  }
  return { host: '127.0.0.1', port: node.port, user: 'root' };
}

const files = (values.all ? readdirSql() : (values.files?.split(',') ?? appFiles)).filter(
  (f) => f !== 'test_setup',
);
function readdirSql(): string[] {
  const sched = readFileSync(join(suite, 'parallel_schedule'), 'utf8');
  return [...sched.matchAll(/^test:\s*(.*)$/gm)].flatMap((m) => (m[1] as string).trim().split(/\s+/));
}

/** psql variables the suite reads (\getenv) and sets (\set, \gset). */
function baseVars(): Map<string, string> {
  return new Map([
    ['abs_srcdir', suite],
    ['abs_builddir', suite],
    ['libdir', '/usr/lib/postgresql/15/lib'],
    ['dlsuffix', '.so'],
  ]);
}
const envNames: Record<string, string> = {
  PG_ABS_SRCDIR: 'abs_srcdir',
  PG_ABS_BUILDDIR: 'abs_builddir',
  PG_LIBDIR: 'libdir',
  PG_DLSUFFIX: 'dlsuffix',
};

/** Interpolates :var, :'var' and :"var" outside quotes, as psql does; null if a variable is unset. */
function interpolate(sql: string, vars: Map<string, string>): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (c === "'" || c === '"') {
      const j = sql.indexOf(c, i + 1);
      const end = j < 0 ? sql.length : j + 1;
      out += sql.slice(i, end);
      i = end;
      continue;
    }
    if (c === ':' && sql[i + 1] === ':') {
      out += '::';
      i += 2;
      continue;
    }
    if (c === ':') {
      const m = /^:(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(sql.slice(i));
      if (m && vars.has(m[2] as string)) {
        const v = vars.get(m[2] as string) as string;
        out += m[1] === "'" ? `'${v.replace(/'/g, "''")}'` : m[1] === '"' ? `"${v.replace(/"/g, '""')}"` : v;
        i += m[0].length;
        continue;
      }
    }
    out += c;
    i++;
  }
  return out;
}

/** \set's arguments: words concatenated, quotes removed, variables interpolated. */
function setValue(args: string, vars: Map<string, string>): string {
  let v = '';
  for (const m of args.matchAll(/'((?:[^']|'')*)'|:'?([A-Za-z_]\w*)'?|(\S+)/g)) {
    if (m[1] !== undefined) v += m[1].replace(/''/g, "'");
    else if (m[2] !== undefined) v += vars.get(m[2]) ?? '';
    else v += m[3] as string;
  }
  return v;
}

interface Side {
  client: SimpleClient;
  files: Map<string, string>;
}

/**
 * Runs one statement on one side. COPY from or to a file name becomes COPY FROM STDIN / TO STDOUT
 * (Strata reads no server files): the runner feeds the file (or what this side's earlier COPY TO
 * wrote under that name) and keeps what COPY TO returns.
 */
async function runOn(side: Side, sql: string, copyData: string | undefined): Promise<Outcome> {
  const m = /^(\s*copy\s+[\s\S]*?\b(from|to)\s+)'((?:[^']|'')*)'([\s\S]*)$/i.exec(sql);
  if (m && /^copy\b/i.test(stripComments(sql).trim())) {
    const path = (m[3] as string).replace(/''/g, "'");
    const isFrom = (m[2] as string).toLowerCase() === 'from';
    const rewritten = `${m[1]}${isFrom ? 'STDIN' : 'STDOUT'}${m[4]}`;
    if (isFrom) {
      const data = side.files.get(path) ?? (existsSync(path) ? readFileSync(path, 'utf8') : null);
      if (data === null)
        return { ok: false, code: '58P01', message: `could not open file "${path}"`, results: [] };
      return side.client.query(rewritten, data);
    }
    const o = await side.client.query(rewritten);
    if (o.ok) {
      side.files.set(path, o.copyOut);
      return { ...o, copyOut: '' };
    }
    return o;
  }
  return side.client.query(sql, copyData ?? '');
}

async function connectBoth(db: string, sEp: Endpoint, pEp: Endpoint): Promise<[Side, Side]> {
  const pg = await SimpleClient.connect(pEp.host, pEp.port, pEp.user, db);
  const st = await SimpleClient.connect(sEp.host, sEp.port, sEp.user, db);
  for (const c of [pg, st]) {
    await c.query("SET TimeZone = 'PST8PDT'");
    await c.query("SET DateStyle = 'ISO, MDY'");
  }
  return [
    { client: pg, files: new Map() },
    { client: st, files: new Map() },
  ];
}

async function freshDatabase(ep: Endpoint, db: string): Promise<void> {
  const admin = await SimpleClient.connect(ep.host, ep.port, ep.user, ep === pgEp ? 'postgres' : 'defaultdb');
  await admin.query(`DROP DATABASE IF EXISTS ${db}`);
  const o = await admin.query(`CREATE DATABASE ${db}`);
  admin.end();
  if (!o.ok) throw new Error(`create database ${db}: ${o.message}`);
}

type Counts = Record<Category, number> & { statements: number };
/** Appends one entry to a file's detail report. */
type Detail = (entry: string) => void;
function zero(): Counts {
  const c = { statements: 0 } as Counts;
  for (const k of categories) c[k] = 0;
  return c;
}

const pgEp = endpoint(pgUrl);

/** Applies the psql meta-commands the runner understands (\\set, \\unset, \\getenv); others are skipped. */
function metaCommand(u: Unit & { kind: 'meta' }, vars: Map<string, string>): void {
  if (u.cmd === 'set') {
    const m = /^(\S+)\s*(.*)$/.exec(u.args);
    if (m) vars.set(m[1] as string, setValue(m[2] as string, vars));
  } else if (u.cmd === 'unset') vars.delete(u.args.trim());
  else if (u.cmd === 'getenv') {
    const [name, env] = u.args.trim().split(/\s+/);
    if (name !== undefined && env !== undefined && envNames[env] !== undefined)
      vars.set(name, vars.get(envNames[env]) ?? '');
  }
}

/** Runs a list of units on both sides, classifying each statement; returns the counts. */
async function runUnits(
  units: Unit[],
  pg: Side,
  st: Side,
  vars: Map<string, string>,
  detail: Detail,
  label: string,
): Promise<Counts> {
  const counts = zero();
  const tainted = new Set<string>();
  let failedInTxn = false;
  for (const u of units) {
    if (u.kind === 'meta') {
      metaCommand(u, vars);
      continue;
    }
    const sql = interpolate(u.sql, vars);
    const pgOut = await runOn(pg, sql, u.copyData);
    const t0 = Date.now();
    const stOut = await runOn(st, sql, u.copyData);
    const ms = Date.now() - t0;
    if (ms > 5000) console.error(`  slow on strata (${ms} ms): ${label}:${u.line}`);
    if (u.gset !== undefined && pgOut.ok) {
      const r = pgOut.results[pgOut.results.length - 1];
      const row = r?.rows[0];
      if (r && row) r.columns.forEach((c, j) => vars.set(u.gset + c, row[j] ?? ''));
    }
    let cat = classify(sql, pgOut, stOut);
    const bare = stripComments(sql);
    const isQuery = /^\s*(select|values|table|show|explain|\()/i.test(bare) || (/^\s*with\b/i.test(bare) && writtenNames(sql).length === 0);
    if (cat === 'wrong' && mentions(sql, tainted)) cat = 'tainted';
    // COMMIT answers ROLLBACK when an earlier statement of the transaction failed on Strata only.
    if (cat === 'wrong' && /^\s*(commit|end)\b/i.test(bare) && failedInTxn) cat = 'tainted';
    if (cat === 'error' || cat === 'garbage') failedInTxn = true;
    if (/^\s*(commit|end|rollback|abort)\b/i.test(bare) && !/\bto\b/i.test(bare)) failedInTxn = false;
    if (!isQuery && cat !== 'match') for (const n of writtenNames(sql)) tainted.add(n);
    counts.statements++;
    counts[cat]++;
    if (cat !== 'match') detail(`--- ${label}:${u.line} [${cat}]\n${sql}\n  pg:     ${render(pgOut)}\n  strata: ${render(stOut)}\n`);
    if (stOut.ok === false && (stOut.code === 'CLOSED' || stOut.code === 'TIMEOUT')) {
      detail(`--- ${label}:${u.line}: the Strata session was lost (${stOut.code}); reconnecting\n`);
      st.client = await recoverStrata(st.client, 'pgr_' + (label.split(':')[0] as string));
    }
  }
  return counts;
}

/**
 * A new Strata session after one was lost or stuck: reconnects, or (when the runner started the
 * node and it does not answer) restarts the node; a database lost with the node is created empty.
 */
async function recoverStrata(old: SimpleClient, db: string): Promise<SimpleClient> {
  old.end();
  for (let attempt = 0; attempt < 2; attempt++) {
    const ep = await strataEndpoint();
    try {
      const c = await SimpleClient.connect(ep.host, ep.port, ep.user, db);
      await c.query("SET TimeZone = 'PST8PDT'");
      return c;
    } catch {
      if (node !== null && attempt === 0) {
        console.error(`strata does not answer; restarting it`);
        node.stop(true);
        node = null;
        const ep2 = await strataEndpoint();
        await freshDatabase(ep2, db);
        // The restarted node lost the database: set it up again (uncounted) so the file goes on.
        const c = await SimpleClient.connect(ep2.host, ep2.port, ep2.user, db);
        await c.query("SET TimeZone = 'PST8PDT'");
        const vars = baseVars();
        for (const u of setupUnits) {
          if (u.kind === 'meta') metaCommand(u, vars);
          else await runOn({ client: c, files: new Map() }, interpolate(u.sql, vars), u.copyData);
        }
        return c;
      }
    }
  }
  throw new Error('cannot reach strata');
}

mkdirSync(values.details, { recursive: true });
const table: [string, Counts][] = [];
let setupCounts: Counts | null = null;
for (const f of files) {
  const path = join(sqlDir, `${f}.sql`);
  if (!existsSync(path)) {
    console.error(`skipping ${f}: no ${path}`);
    continue;
  }
  const sEp = await strataEndpoint();
  const db = `pgr_${f}`;
  await freshDatabase(pgEp, db);
  await freshDatabase(sEp, db);
  const [pg, st] = await connectBoth(db, sEp, pgEp);
  const vars = baseVars();
  const detailPath = join(values.details, `${f}.txt`);
  writeFileSync(detailPath, '');
  const detail: Detail = (e) => appendFileSync(detailPath, e + '\n');
  const sc = await runUnits(setupUnits, pg, st, vars, setupCounts === null ? detail : () => {}, `${f}:test_setup`);
  setupCounts ??= sc;
  const counts = await runUnits(splitScript(readFileSync(path, 'utf8')), pg, st, vars, detail, f);
  pg.client.end();
  st.client.end();
  table.push([f, counts]);
  console.error(`${f}: ${counts.statements} statements, ${counts.match} matched, ${counts.wrong} wrong`);
}

const pct = (a: number, b: number): string => (b === 0 ? '-' : `${Math.round((1000 * a) / b) / 10}%`);
const header = ['file', 'stmts', ...categories, 'matched%'];
const lines = [header];
const total = zero();
for (const [f, c] of table) {
  lines.push([f, String(c.statements), ...categories.map((k) => String(c[k])), pct(c.match, c.statements)]);
  total.statements += c.statements;
  for (const k of categories) total[k] += c[k];
}
lines.push([
  'TOTAL',
  String(total.statements),
  ...categories.map((k) => String(total[k])),
  pct(total.match, total.statements),
]);
if (setupCounts)
  lines.push([
    '(test_setup)',
    String(setupCounts.statements),
    ...categories.map((k) => String(setupCounts[k])),
    pct(setupCounts.match, setupCounts.statements),
  ]);
const widths = header.map((_, j) => Math.max(...lines.map((l) => (l[j] as string).length)));
for (const l of lines)
  console.log(
    l.map((v, j) => (j === 0 ? v.padEnd(widths[j] as number) : v.padStart(widths[j] as number))).join('  '),
  );
console.log(`details: ${values.details}/<file>.txt`);
(node as StrataProcess | null)?.stop(false);
process.exit(0);
