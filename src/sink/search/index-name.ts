/** Date placeholders of an index pattern (UTC, from the document's @timestamp). */
export const DATE_PLACEHOLDERS = /\{(yyyy\.MM\.dd|yyyy-MM-dd|yyyy|MM|dd)\}/g;

/** Every placeholder an index pattern may hold; anything else in braces would reach the server as is. */
const PLACEHOLDER = /\{(logType|account|yyyy\.MM\.dd|yyyy-MM-dd|yyyy|MM|dd)\}/g;

/** Longest text each placeholder becomes, to bound the name's length. */
const LONGEST: Record<string, string> = {
  logType: 'cloudtrail',
  account: '000000000000',
  'yyyy.MM.dd': '2000.01.01',
  'yyyy-MM-dd': '2000-01-01',
  yyyy: '2000',
  MM: '01',
  dd: '01',
};

/** Elasticsearch and OpenSearch refuse index names longer than this many bytes. */
const MAX_NAME_BYTES = 255;

/**
 * Why an index pattern can never name a usable index, or undefined when it can. The server's rules:
 * lower case only; not starting with `_`, `-` or `+`; none of `\ / * ? " < > | , # :` nor spaces. We
 * allow only `a-z 0-9 _ . -` besides the placeholders, which is inside those rules and leaves no room for
 * characters a query or URL would have to escape. Upper case stays legal inside a placeholder's braces
 * (`{yyyy.MM.dd}`): those never reach the server.
 */
export function indexPatternProblem(pattern: string): string | undefined {
  const unknown = pattern.replace(PLACEHOLDER, '').match(/\{[^}]*\}?/);
  if (unknown) {
    return `unknown placeholder ${unknown[0]}: use {logType}, {account}, {yyyy}, {MM}, {dd}, {yyyy.MM.dd} or {yyyy-MM-dd}`;
  }
  const name = pattern.replace(PLACEHOLDER, (_, token: string) => LONGEST[token]!);
  const bad = [...new Set(name.replace(/[a-z0-9_.-]/g, ''))];
  if (bad.length > 0) {
    const shown = bad.map((c) => (c === ' ' ? 'space' : c)).join(' ');
    const upper = bad.some((c) => c !== c.toLowerCase());
    return `index names must be lower case and use only a-z, 0-9, _ . - besides {placeholders}; found ${shown}${upper ? ' (upper case is allowed only inside a placeholder)' : ''}`;
  }
  if (/^[_\-+]/.test(name)) return `index names must not start with _, - or +: ${pattern}`;
  if (name === '.' || name === '..') return 'an index cannot be named . or ..';
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    return `index names are limited to ${MAX_NAME_BYTES} bytes; this pattern can make ${Buffer.byteLength(name)}`;
  }
  return undefined;
}
