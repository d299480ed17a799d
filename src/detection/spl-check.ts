/**
 * A small SPL reader for our own output: splits a search into pipeline commands, honouring quotes,
 * backslash escapes and parentheses, and checks every command is one Splunk has. It catches the
 * mistakes a string-building compiler makes (unbalanced quotes or parentheses, a stray pipe).
 */
export const KNOWN_COMMANDS = new Set([
  'search',
  'where',
  'regex',
  'stats',
  'streamstats',
  'eventstats',
  'tstats',
  'bin',
  'dedup',
  'table',
  'fields',
  'eval',
  'rename',
  'sort',
  'spath',
  'head',
  'tail',
  'lookup',
]);

export interface SplCommand {
  name: string;
  args: string;
}

export class SplSyntaxError extends Error {}

export function parseSpl(spl: string): SplCommand[] {
  const commands: string[] = [];
  let current = '';
  let quote: '"' | "'" | undefined;
  let depth = 0;
  for (let i = 0; i < spl.length; i++) {
    const c = spl[i] as string;
    if (quote) {
      current += c;
      if (c === '\\' && i + 1 < spl.length) {
        current += spl[++i];
      } else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth < 0) throw new SplSyntaxError(`unbalanced ')' at ${i}`);
    } else if (c === '|' && depth === 0) {
      commands.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  if (quote) throw new SplSyntaxError(`unterminated ${quote} quote`);
  if (depth !== 0) throw new SplSyntaxError(`${depth} unclosed '('`);
  commands.push(current);
  return commands.map((text, index) => {
    const trimmed = text.trim();
    if (trimmed === '') throw new SplSyntaxError(`empty command at pipeline position ${index + 1}`);
    const [first = '', ...rest] = trimmed.split(/\s+/);
    // The first segment is an implicit `search` unless it names a generating command.
    if (index === 0 && !KNOWN_COMMANDS.has(first.toLowerCase())) return { name: 'search', args: trimmed };
    const name = first.toLowerCase();
    if (!KNOWN_COMMANDS.has(name))
      throw new SplSyntaxError(`unknown command '${first}' at pipeline position ${index + 1}`);
    return { name, args: rest.join(' ') };
  });
}
