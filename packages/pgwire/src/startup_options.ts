/**
 * The startup packet's `options` parameter (libpq's `options=-c search_path=x`, PGOPTIONS), read
 * as PostgreSQL reads it: split into words at whitespace with backslash escaping the next
 * character (`pg_split_opts`), then the server switches `-c name=value`, `-cname=value` and
 * `--name=value` (`process_postgres_switches`; dashes in names become underscores). Other server
 * switches are refused rather than ignored, so a client never runs with a setting it asked for
 * and did not get.
 */
import { PgError, SqlState } from '@strata/common';

/** PostgreSQL's pg_split_opts: whitespace separates words; a backslash takes the next character literally. */
export function splitOptions(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i] as string)) i++;
    if (i >= s.length) break;
    let word = '';
    while (i < s.length && !/\s/.test(s[i] as string)) {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      word += s[i];
      i++;
    }
    out.push(word);
  }
  return out;
}

function fatal(code: SqlState, message: string, hint?: string): PgError {
  return new PgError(code, message, { severity: 'FATAL', ...(hint ? { hint } : {}) });
}

/** One `name=value` of a switch; PostgreSQL's ParseLongOption (dashes in the name become underscores). */
function nameValue(arg: string, shown: string): [string, string] {
  const eq = arg.indexOf('=');
  if (eq < 0) throw fatal(SqlState.SyntaxError, `${shown} requires a value`);
  return [arg.slice(0, eq).replace(/-/g, '_'), arg.slice(eq + 1)];
}

/** The settings an `options` string asks for, in order (22023/42601 FATAL for what PostgreSQL refuses or we do not offer). */
export function parseStartupOptions(options: string): [string, string][] {
  const args = splitOptions(options);
  const out: [string, string][] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-c') {
      const next = args[++i];
      if (next === undefined) throw fatal(SqlState.SyntaxError, 'invalid command-line argument for server process: -c', 'Try "postgres --help" for more information.');
      out.push(nameValue(next, `-c ${next}`));
    } else if (a.startsWith('-c')) {
      out.push(nameValue(a.slice(2), a));
    } else if (a.startsWith('--') && a.length > 2) {
      out.push(nameValue(a.slice(2), a));
    } else if (a.startsWith('-')) {
      throw fatal(SqlState.FeatureNotSupported, `server switch "${a}" in the startup options is not supported: use -c name=value`);
    } else {
      throw fatal(SqlState.SyntaxError, `invalid command-line argument for server process: ${a}`, 'Try "postgres --help" for more information.');
    }
  }
  return out;
}
