/**
 * Long lists of literals folded before the recursive descent: `IN (1, 2, …)` and `VALUES (…),
 * (…), …` with thousands of plain number or string literals are turned into one token holding
 * the finished AST nodes, in a flat loop that returns to the event loop between slices. The
 * recursive descent, which cannot yield, then sees a handful of tokens instead of millions, so
 * a 10 MB statement holds the event loop for milliseconds, not for the whole parse.
 *
 * The nodes are exactly those the parser builds for the same tokens (listLiteral); anything
 * else in a list (an expression, DEFAULT, a parameter) ends the folded run and the parser takes
 * the rest as usual.
 */
import { bulkListItemsMin, lexSliceTokens } from '../constants.js';
import type { BulkValues, Expr } from './ast.js';
import type { Token } from './lexer.js';

function literalOf(t: Token): Expr | null {
  if (t.type === 'string') return { kind: 'literal', value: t.value, literalType: 'string', pos: t.pos };
  if (t.type === 'number')
    return {
      kind: 'literal',
      value: t.value,
      literalType: /^\d+$/.test(t.value) ? 'integer' : 'decimal',
      pos: t.pos,
    };
  return null;
}

const isPunct = (t: Token | undefined, v: string) => t !== undefined && t.type === 'punct' && t.value === v;

/** `( lit , lit , … )` at i: the items and the index of the closing parenthesis, or null. */
function literalTuple(toks: Token[], i: number): { items: Expr[]; close: number } | null {
  if (!isPunct(toks[i], '(')) return null;
  const items: Expr[] = [];
  let j = i + 1;
  for (;;) {
    const e = literalOf(toks[j] as Token);
    if (!e) return null;
    items.push(e);
    if (isPunct(toks[j + 1], ')')) return { items, close: j + 1 };
    if (!isPunct(toks[j + 1], ',')) return null;
    j += 2;
  }
}

/**
 * `( lit , lit , … )` at i as a long IN list, in slices: the items, their values as a set when
 * they allow one, and the index of the closing parenthesis; null if it is not such a list.
 */
async function literalList(
  toks: Token[],
  i: number,
  pause: (work: number) => Promise<void>,
): Promise<{ items: Expr[]; bulk: BulkValues; close: number } | null> {
  if (!isPunct(toks[i], '(')) return null;
  const items: Expr[] = [];
  let ints: Set<number> | null = new Set();
  let strings: Set<string> | null = new Set();
  let j = i + 1;
  for (;;) {
    const t = toks[j] as Token;
    const e = literalOf(t);
    if (!e) return null;
    items.push(e);
    if (t.type === 'string') {
      ints = null;
      strings?.add(t.value);
    } else {
      strings = null;
      const n = Number(t.value);
      if (ints && Number.isSafeInteger(n) && n >= -2147483648 && n <= 2147483647 && /^\d+$/.test(t.value))
        ints.add(n);
      else ints = null;
    }
    if (isPunct(toks[j + 1], ')')) return { items, bulk: { ints, strings }, close: j + 1 };
    if (!isPunct(toks[j + 1], ',')) return null;
    j += 2;
    if (items.length % 8192 === 0) await pause(16384);
  }
}

export async function foldLiteralLists(toks: Token[]): Promise<Token[]> {
  const out: Token[] = [];
  let budget = lexSliceTokens;
  const pause = async (work: number) => {
    budget -= work;
    if (budget > 0) return;
    budget = lexSliceTokens;
    await new Promise((res) => setImmediate(res));
  };
  for (let i = 0; i < toks.length;) {
    const t = toks[i] as Token;
    if (t.type === 'ident' && t.value === 'in' && isPunct(toks[i + 1], '(')) {
      const list = await literalList(toks, i + 1, pause);
      if (list && list.items.length >= bulkListItemsMin) {
        out.push(
          t,
          toks[i + 1] as Token,
          {
            type: 'literals',
            value: '',
            pos: (toks[i + 2] as Token).pos,
            items: list.items,
            bulk: list.bulk,
          },
          toks[list.close] as Token,
        );
        i = list.close + 1;
        continue;
      }
    }
    if (t.type === 'ident' && t.value === 'values') {
      const rows: Expr[][] = [];
      let j = i + 1;
      let end = i; // the last token of the last folded row
      for (;;) {
        const tuple = literalTuple(toks, j);
        if (!tuple || (rows.length > 0 && tuple.items.length !== (rows[0] as Expr[]).length)) break;
        rows.push(tuple.items);
        end = tuple.close;
        if (rows.length % 4096 === 0) await pause(4096 * 2 * tuple.items.length);
        if (!isPunct(toks[tuple.close + 1], ',')) break;
        j = tuple.close + 2;
      }
      if (rows.length >= bulkListItemsMin) {
        out.push(t, { type: 'rows', value: '', pos: (toks[i + 1] as Token).pos, rows });
        i = end + 1;
        continue;
      }
    }
    out.push(t);
    i++;
    if (i % lexSliceTokens === 0) await pause(0);
  }
  return out;
}
