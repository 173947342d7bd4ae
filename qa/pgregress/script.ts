/**
 * Splits a psql script (a PostgreSQL regression test file) into the units psql would send.
 *
 * psql's own lexer (src/fe_utils/psqlscan.l) decides where a statement ends: at a semicolon that is
 * outside quotes, comments, dollar quotes and parentheses (and outside a `BEGIN ATOMIC … END`
 * function body). A backslash outside quotes starts a meta-command that runs to the end of the
 * line; `\g`-family meta-commands send the buffered statement. `COPY … FROM STDIN` is followed by
 * data lines up to `\.`. This module reproduces those rules closely enough for the regression
 * suite; it does not evaluate `\if` blocks.
 */

export type Unit =
  | { kind: 'sql'; sql: string; line: number; gset?: string; copyData?: string }
  | { kind: 'meta'; cmd: string; args: string; line: number };

/** Splits `text` into statements and meta-commands in file order. */
export function splitScript(text: string): Unit[] {
  const out: Unit[] = [];
  let buf = '';
  let bufLine = 0;
  let i = 0;
  let line = 1;
  let paren = 0;
  let beginDepth = 0;
  const n = text.length;
  const push = (gset?: string): void => {
    const sql = buf.trim();
    if (sql !== '') {
      const u: Unit = { kind: 'sql', sql, line: bufLine };
      if (gset !== undefined) u.gset = gset;
      out.push(u);
      if (/^copy\b[\s\S]*\bfrom\s+stdin\b/i.test(stripComments(sql))) {
        // The data follows the statement's line, up to a line holding only "\.".
        const nl = text.indexOf('\n', i);
        let j = nl < 0 ? n : nl + 1;
        const data: string[] = [];
        while (j < n) {
          const e = text.indexOf('\n', j);
          const l = text.slice(j, e < 0 ? n : e);
          j = e < 0 ? n : e + 1;
          line++;
          if (l === '\\.') break;
          data.push(l + '\n');
        }
        u.copyData = data.join('');
        if (nl >= 0) line++;
        i = j;
      }
    }
    buf = '';
    paren = 0;
    beginDepth = 0;
  };
  while (i < n) {
    const c = text[i] as string;
    if (buf.trim() === '' && c !== '\n' && !/\s/.test(c)) bufLine = line;
    if (c === '\n') {
      line++;
      buf += c;
      i++;
      continue;
    }
    if (c === '-' && text[i + 1] === '-') {
      const e = text.indexOf('\n', i);
      i = e < 0 ? n : e;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (text[j] === '/' && text[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (text[j] === '*' && text[j + 1] === '/') {
          depth--;
          j += 2;
        } else {
          if (text[j] === '\n') line++;
          j++;
        }
      }
      buf += text.slice(i, j).replace(/[^\n]/g, ' ');
      i = j;
      continue;
    }
    if (c === "'" || c === '"') {
      // A quoted string or identifier; '' and "" double the quote. E'' strings take backslashes.
      const escapes = c === "'" && /[eE]$/.test(buf) && !/\w[eE]$/.test(buf);
      let j = i + 1;
      while (j < n) {
        const d = text[j];
        if (escapes && d === '\\') {
          j += 2;
          continue;
        }
        if (d === c) {
          if (text[j + 1] === c) {
            j += 2;
            continue;
          }
          break;
        }
        if (d === '\n') line++;
        j++;
      }
      buf += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 64));
      if (m && !/[\w$]$/.test(buf)) {
        const tag = m[0];
        const e = text.indexOf(tag, i + tag.length);
        const end = e < 0 ? n : e + tag.length;
        const body = text.slice(i, end);
        line += (body.match(/\n/g) ?? []).length;
        buf += body;
        i = end;
        continue;
      }
    }
    if (c === '\\') {
      if (text[i + 1] === '\\') {
        // "\\" separates a statement from the meta-command part of the line; treat as a break.
        i += 2;
        continue;
      }
      if (text[i + 1] === ';') {
        // "\;" keeps the semicolon in the buffer without sending (several statements in one Query).
        buf += ';';
        i += 2;
        continue;
      }
      const e = text.indexOf('\n', i);
      const cmdLine = text.slice(i + 1, e < 0 ? n : e);
      const m = /^(\S+)\s*(.*)$/.exec(cmdLine);
      const cmd = m ? (m[1] as string) : '';
      const args = m ? (m[2] as string) : '';
      i = e < 0 ? n : e;
      if (cmd === 'copy' && buf.trim() === '') {
        // psql's \copy runs COPY with the client's files; the runner treats it as COPY … STDIN/STDOUT.
        bufLine = line;
        buf = 'COPY ' + args.replace(/;\s*$/, '');
        push();
        continue;
      }
      if (/^g(set|x|exec|desc)?$/.test(cmd)) {
        push(cmd === 'gset' ? args.trim() : undefined);
        continue;
      }
      if (buf.trim() !== '') {
        // A meta-command in the middle of a statement: psql runs it at once and keeps the buffer.
        out.push({ kind: 'meta', cmd, args, line });
        continue;
      }
      out.push({ kind: 'meta', cmd, args, line });
      continue;
    }
    if (c === '(') paren++;
    else if (c === ')') paren = Math.max(0, paren - 1);
    else if (/[A-Za-z_]/.test(c) && !/[\w$]$/.test(buf)) {
      const m = /^[A-Za-z_][\w$]*/.exec(text.slice(i, i + 64)) as RegExpExecArray;
      const w = m[0].toLowerCase();
      // BEGIN ATOMIC … END (a SQL-standard function body) holds semicolons, as in psqlscan.l.
      if (w === 'begin' && /^begin\s+atomic\b/i.test(text.slice(i, i + 32))) beginDepth++;
      else if (w === 'case' && beginDepth > 0) beginDepth++;
      else if (w === 'end' && beginDepth > 0) beginDepth--;
      buf += m[0];
      i += m[0].length;
      continue;
    }
    if (c === ';' && paren === 0 && beginDepth === 0) {
      buf += ';';
      i++;
      push();
      continue;
    }
    buf += c;
    i++;
  }
  push();
  return out;
}

/** The statement without comments, for keyword tests. */
export function stripComments(sql: string): string {
  return sql.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ');
}
