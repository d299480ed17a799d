import type { SearchNode } from './model.js';

/**
 * Sigma's condition language: `and`, `or`, `not`, parentheses, and the quantifiers `1 of x*`,
 * `all of x*`, `1 of them`, `all of them`. Precedence (loosest first): or, and, not.
 */
export class ConditionSyntaxError extends Error {}

type Token = { type: 'word'; text: string; at: number } | { type: '(' | ')'; at: number };

function tokenize(condition: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\()|(\))|([^\s()]+))/gy;
  let match: RegExpExecArray | null;
  let end = 0;
  // biome-ignore lint/suspicious/noAssignInExpressions: a sticky-regex scanner reads clearest this way
  while ((match = re.exec(condition)) !== null) {
    if (match[0].length === 0) break;
    end = re.lastIndex;
    const at = match.index + match[0].length - match[0].trimStart().length;
    if (match[1]) tokens.push({ type: '(', at });
    else if (match[2]) tokens.push({ type: ')', at });
    else if (match[3]) tokens.push({ type: 'word', text: match[3], at });
  }
  if (condition.slice(end).trim() !== '') throw new ConditionSyntaxError(`unexpected text at ${end}`);
  return tokens;
}

/** Parses `condition` over the named searches; each name resolves to its already-built search tree. */
export function parseCondition(condition: string, searches: ReadonlyMap<string, SearchNode>): SearchNode {
  const tokens = tokenize(condition);
  let pos = 0;
  const peekWord = (): string | undefined => {
    const t = tokens[pos];
    return t?.type === 'word' ? t.text.toLowerCase() : undefined;
  };
  const fail = (what: string): never => {
    const t = tokens[pos];
    throw new ConditionSyntaxError(
      t ? `${what} at position ${t.at} ('${t.type === 'word' ? t.text : t.type}')` : `${what} at end`,
    );
  };

  const namesMatching = (pattern: string): string[] => {
    if (pattern === 'them') return [...searches.keys()].filter((n) => !n.startsWith('_'));
    const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
    const names = [...searches.keys()].filter((n) => re.test(n));
    if (names.length === 0) fail(`no search identifier matches '${pattern}'`);
    return names;
  };

  const primary = (): SearchNode => {
    const t = tokens[pos];
    if (!t) return fail('expected a search identifier');
    if (t.type === '(') {
      pos++;
      const inner = orExpr();
      if (tokens[pos]?.type !== ')') fail("expected ')'");
      pos++;
      return inner;
    }
    if (t.type === ')') return fail('unexpected )');
    const word = (t as { text: string }).text;
    const lower = word.toLowerCase();
    if ((lower === '1' || lower === 'any' || lower === 'all') && tokens[pos + 1]?.type === 'word') {
      const next = tokens[pos + 1] as { text: string };
      if (next.text.toLowerCase() === 'of') {
        pos += 2;
        const target = tokens[pos];
        if (target?.type !== 'word') return fail('expected an identifier pattern or them after "of"');
        pos++;
        const items = namesMatching(target.text).map((n) => searches.get(n) as SearchNode);
        return items.length === 1
          ? (items[0] as SearchNode)
          : { kind: lower === 'all' ? 'and' : 'or', items };
      }
    }
    if (['and', 'or', 'not', 'of'].includes(lower)) return fail(`unexpected '${word}'`);
    const search = searches.get(word);
    if (!search) return fail(`unknown search identifier '${word}'`);
    pos++;
    return search;
  };

  const notExpr = (): SearchNode => {
    if (peekWord() === 'not') {
      pos++;
      return { kind: 'not', item: notExpr() };
    }
    return primary();
  };

  const andExpr = (): SearchNode => {
    const items = [notExpr()];
    while (peekWord() === 'and') {
      pos++;
      items.push(notExpr());
    }
    return items.length === 1 ? (items[0] as SearchNode) : { kind: 'and', items };
  };

  const orExpr = (): SearchNode => {
    const items = [andExpr()];
    while (peekWord() === 'or') {
      pos++;
      items.push(andExpr());
    }
    return items.length === 1 ? (items[0] as SearchNode) : { kind: 'or', items };
  };

  if (tokens.length === 0) fail('empty condition');
  const tree = orExpr();
  if (pos < tokens.length) fail('unexpected token');
  return tree;
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
