/**
 * The drivers' own test suites, each run with its own runner against one server. A suite's tree
 * comes from qa/drivers/fetch.sh (git-ignored qa/drivers/suites/<name>/); nothing of it is in this
 * repository. Each run yields the outcome of every test by a stable id, so the runs against
 * PostgreSQL 15 and Strata can be compared test by test.
 *
 * Where a suite's harness stops at its first failure (node-postgres' files, postgres.js' whole
 * run), the runner makes every test run: node-postgres files run one by one; postgres.js' harness
 * is patched at run time (a copy of its tests/test.js and tests/bootstrap.js in the fetched tree)
 * to run the tests after a failure and to name each passing test. Those patches change which
 * tests run, never what a test checks.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

export type Outcome = 'pass' | 'fail' | 'skip';

/** One server a suite runs against: a superuser URL, and the name its tests use for the superuser. */
export interface Target {
  name: string;
  host: string;
  port: number;
  /** The superuser (postgres on PostgreSQL, root on Strata). */
  user: string;
}

export interface Suite {
  name: string;
  /** Why the numbers mean what they mean, printed under the table. */
  unit: string;
  /** Missing prerequisites, or null when the suite can run. */
  missing(dir: string): string | null;
  /** Creates what the suite expects on the server (databases, users). */
  setupSql(t: Target): string[];
  run(dir: string, t: Target, log: (s: string) => void): Map<string, Outcome>;
}

/** The wall-clock cap of one suite process, so a hang is a failure, not a stuck run (ms). */
const suiteProcessTimeoutMs = 20 * 60_000;
/** The cap of one node-postgres test file (its own harness allows 5 s per test) (ms). */
const nodePgFileTimeoutMs = 120_000;
/** The cap of one psycopg 3 test file (the longest takes ~40 s on PostgreSQL here; a hang costs this much) (ms). */
const psycopg3FileTimeoutMs = 120_000;
const python = '/usr/bin/python3';

function run(cmd: string, args: string[], cwd: string, env: Record<string, string>, timeoutMs: number): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function pyHas(module: string): boolean {
  return spawnSync(python, ['-c', `import ${module}`]).status === 0;
}

const psycopg2: Suite = {
  name: 'psycopg2',
  unit: "tests of psycopg2 2.9.5's tests.test_suite(), run by unittest",
  missing: (dir) => (!existsSync(join(dir, 'tests')) ? 'suite not fetched' : pyHas('psycopg2') ? null : "Debian's python3-psycopg2 is not installed"),
  setupSql: () => ['DROP DATABASE IF EXISTS psycopg2_test', 'CREATE DATABASE psycopg2_test'],
  run(dir, t, log) {
    const tmp = mkdtempSync(join(tmpdir(), 'qa-drivers-'));
    const out = join(tmp, 'out.json');
    const r = run(python, [join(import.meta.dirname, 'unittest_json.py'), dir, out], dir, { PSYCOPG2_TESTDB: 'psycopg2_test', PSYCOPG2_TESTDB_HOST: t.host, PSYCOPG2_TESTDB_PORT: String(t.port), PSYCOPG2_TESTDB_USER: t.user }, suiteProcessTimeoutMs);
    log(r.out);
    const res = new Map<string, Outcome>(existsSync(out) ? Object.entries(JSON.parse(readFileSync(out, 'utf8')) as Record<string, Outcome>) : []);
    rmSync(tmp, { recursive: true, force: true });
    return res;
  },
};

/**
 * psycopg 3's core modules: every top-level tests/test_*.py and tests/types/, not the pool or the
 * C speedups, each file in its own pytest run (a hang costs one file, not the suite). Tests
 * marked `slow` are left out: they are the client's memory-leak loops (test_leak…), minutes of
 * client work that tell nothing about the server.
 */
const psycopg3: Suite = {
  name: 'psycopg3',
  unit: "tests of psycopg 3.1.7's tests/test_*.py and tests/types/ not marked slow, run by pytest file by file (random order off)",
  missing: (dir) =>
    !existsSync(join(dir, 'tests')) || !existsSync(join(dir, 'pyproject.toml')) ? 'suite not fetched (tests/ and pyproject.toml, whose pytest options it needs)' : !pyHas('psycopg') ? "Debian's python3-psycopg is not installed" : !pyHas('pytest_asyncio') ? "Debian's python3-pytest and python3-pytest-asyncio are not installed" : null,
  setupSql: () => ['DROP DATABASE IF EXISTS psycopg3_test', 'CREATE DATABASE psycopg3_test'],
  run(dir, t, log) {
    const tmp = mkdtempSync(join(tmpdir(), 'qa-drivers-'));
    const files = [
      ...readdirSync(join(dir, 'tests'))
        .filter((f) => /^test_.*\.py$/.test(f))
        .map((f) => `tests/${f}`),
      ...readdirSync(join(dir, 'tests/types'))
        .filter((f) => /^test_.*\.py$/.test(f))
        .map((f) => `tests/types/${f}`),
    ].sort();
    const dsn = `host=${t.host} port=${t.port} user=${t.user} dbname=psycopg3_test`;
    const res = new Map<string, Outcome>();
    for (const [i, file] of files.entries()) {
      const xml = join(tmp, `junit${i}.xml`);
      // A fresh cache directory per run: its conftest refuses to run after a run that did not
      // finish (a "segfault" flag in the cache), which would take the next file down too.
      const r = run(python, ['-m', 'pytest', '-q', '-p', 'no:randomly', '-m', 'not slow', '-o', `cache_dir=${join(tmp, `cache${i}`)}`, `--junitxml=${xml}`, '--test-dsn', dsn, file], dir, {}, psycopg3FileTimeoutMs);
      log(`== ${file} (exit ${r.status})\n${r.out}`);
      if (existsSync(xml)) for (const [id, o] of parseJunit(readFileSync(xml, 'utf8'))) res.set(id, o);
      else res.set(`${file} (file did not finish)`, 'fail');
    }
    rmSync(tmp, { recursive: true, force: true });
    return res;
  },
};

/** The outcome of each testcase of a pytest JUnit XML report. */
export function parseJunit(xml: string): Map<string, Outcome> {
  const res = new Map<string, Outcome>();
  const re = /<testcase ([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) {
    const attrs = m[1] ?? '';
    const cls = /(?:^|\s)classname="([^"]*)"/.exec(attrs)?.[1] ?? '';
    const name = /(?:^|\s)name="([^"]*)"/.exec(attrs)?.[1] ?? '';
    const body = m[3] ?? '';
    const outcome: Outcome = /<(failure|error)\b/.test(body) ? 'fail' : /<skipped\b/.test(body) ? 'skip' : 'pass';
    const id = `${cls}::${name}`;
    // A test whose teardown errs is reported twice; the failure wins.
    if (res.get(id) !== 'fail') res.set(id, outcome);
  }
  return res;
}

function findFiles(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...findFiles(p, re));
    else if (re.test(e)) out.push(p);
  }
  return out.sort();
}

const nodePgDevDeps = ['async@2.6.4', 'bluebird@3.7.2', 'co@4.6.0', 'pg-copy-streams@0.3.0'];

/**
 * node-postgres' integration tests (packages/pg/test/integration/**\/*-tests.js), each file run by
 * node as its Makefile does. A file's harness exits at its first failing test, so the unit is a
 * test that printed ✔, plus one "(file exits 0)" per file for the assertions outside named tests.
 */
const nodePostgres: Suite = {
  name: 'node-postgres',
  unit: 'named tests of pg 8.23.0 packages/pg/test/integration that print ✔, plus one "(file exits 0)" per file',
  missing(dir) {
    if (!existsSync(join(dir, 'packages/pg/test/integration'))) return 'suite not fetched';
    if (!existsSync(join(dir, 'node_modules/pg-copy-streams'))) {
      writeFileSync(join(dir, 'package.json'), '{"private":true}\n');
      const r = run('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--no-package-lock', ...nodePgDevDeps], dir, {}, 300_000);
      if (r.status !== 0) return `npm install of its dev dependencies failed: ${r.out.slice(-500)}`;
    }
    return null;
  },
  setupSql: () => [],
  run(dir, t, log) {
    const pkg = join(dir, 'packages/pg');
    const res = new Map<string, Outcome>();
    const env = { PGHOST: t.host, PGPORT: String(t.port), PGUSER: t.user, PGDATABASE: 'postgres', PGPASSWORD: '' };
    for (const file of findFiles(join(pkg, 'test/integration'), /-tests\.js$/)) {
      const rel = relative(pkg, file);
      const r = run(process.execPath, [file], pkg, env, nodePgFileTimeoutMs);
      log(`== ${rel} (exit ${r.status})\n${r.out}`);
      for (const line of r.out.split('\n')) {
        const m = /^ {2}(.+) ✔$/.exec(line);
        if (m) res.set(`${rel} :: ${m[1]}`, 'pass');
        const f = /^ {2}(.+) FAILED!$/.exec(line);
        if (f) res.set(`${rel} :: ${f[1]}`, 'fail');
        const s = /^ {2}(.+) \? - SKIPPED$/.exec(line);
        if (s) res.set(`${rel} :: ${s[1]}`, 'skip');
      }
      res.set(`${rel} :: (file exits 0)`, r.status === 0 ? 'pass' : 'fail');
    }
    return res;
  },
};

/**
 * postgres.js 3.4.9's tests/index.js. Its harness skips every test after the first failure and
 * prints a ✅ without a name; the run-time copy runs them all and names each result. Its
 * bootstrap (ALTER SYSTEM, createdb as the OS user) is replaced by setupSql.
 */
const postgresJs: Suite = {
  name: 'postgres.js',
  unit: "tests of postgres 3.4.9's tests/index.js (its harness patched at run time to run every test)",
  missing: (dir) => (existsSync(join(dir, 'tests/index.js')) ? null : 'suite not fetched'),
  // Its tests connect without a database too (the default: the user's name), so the superuser's
  // database must exist, as `postgres` does on PostgreSQL.
  setupSql: (t) => [
    ...(t.user === 'postgres' ? [] : [`DROP DATABASE IF EXISTS ${t.user}`, `CREATE DATABASE ${t.user}`]),
    'DROP DATABASE IF EXISTS postgres_js_test',
    'DROP USER IF EXISTS postgres_js_test',
    'DROP USER IF EXISTS postgres_js_test_md5',
    'DROP USER IF EXISTS postgres_js_test_scram',
    'CREATE USER postgres_js_test',
    "CREATE USER postgres_js_test_md5 WITH PASSWORD 'postgres_js_test_md5'",
    "CREATE USER postgres_js_test_scram WITH PASSWORD 'postgres_js_test_scram'",
    'CREATE DATABASE postgres_js_test',
    'GRANT ALL ON DATABASE postgres_js_test TO postgres_js_test',
    'ALTER DATABASE postgres_js_test OWNER TO postgres_js_test',
  ],
  run(dir, t, log) {
    patchPostgresJs(dir);
    const env = { PGHOST: t.host, PGPORT: String(t.port), PGUSER: t.user };
    const r = run(process.execPath, ['tests/index.js'], dir, env, suiteProcessTimeoutMs);
    log(r.out);
    const res = new Map<string, Outcome>();
    for (const line of r.out.split('\n')) {
      const ok = /^✅ (.*)$/.exec(line);
      if (ok) res.set(ok[1] as string, 'pass');
      const bad = /^⛔️ (.*) at line (\d+) (failed|never finished|cleanup failed)/.exec(line);
      if (bad) res.set(`${bad[1]} @${bad[2]}`, 'fail');
    }
    return res;
  },
};

/** The run-time changes to postgres.js' harness described above; idempotent. */
function patchPostgresJs(dir: string): void {
  const testJs = join(dir, 'tests/test.js');
  let src = readFileSync(testJs, 'utf8');
  src = src.replace(/failed\s*\?\s*\(ignored\+\+, ignore\)\s*:\s*fn\(\)/, 'fn()');
  src = src.replace("process.stdout.write('✅')", "process.stdout.write('\\n✅ ' + tests[line].name + ' @' + line + '\\n')");
  // Its report stops at the first failure (every() on a callback that returns nothing): list them all.
  src = src.replace('Object.values(tests).every((x) => {', 'Object.values(tests).forEach((x) => {');
  // Tests that fail on a server can leave connections open, which keep node alive after the report.
  src = src.replace(/(\(process\.exitCode = 1\))\n\}/, '$1\n  setTimeout(() => process.exit(), 2000).unref()\n}');
  writeFileSync(testJs, src);
  const boot = join(dir, 'tests/bootstrap.js');
  const lines = readFileSync(boot, 'utf8').split('\n');
  writeFileSync(boot, lines.filter((l) => !/^exec\(/.test(l)).join('\n'));
}

export const allSuites: Suite[] = [psycopg2, psycopg3, nodePostgres, postgresJs];
