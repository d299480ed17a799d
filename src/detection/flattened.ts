import { loadFieldMap } from './fieldmap.js';
import type { FieldMatch, LogService, SigmaValue } from './model.js';
import { parseWildcard, type Segment } from './search.js';

/**
 * The CloudTrail blobs (requestParameters, ...) live twice in an ECS document: as a `flattened` object
 * and as its Java `Map.toString()` string (`{policyArn=arn:...:policy/X, userName=bob}`, a keyword).
 * Elasticsearch answers only term, prefix, range, match, query_string and exists queries on flattened
 * sub-fields (no wildcard queries), and ES|QL cannot read flattened fields at all, so what those cannot
 * say is asked of the string form: `key=<value>` followed by `,` `}` or `]`.
 */
export interface StringForm {
  /** The keyword field holding the Map.toString text. */
  field: string;
  /** The last key of the Sigma path: the one written just before the value. */
  key: string;
}

/** The string form behind a Sigma field that resolves into a flattened blob; undefined otherwise. */
export function stringFormOf(service: LogService, sigmaField: string): StringForm | undefined {
  const map = loadFieldMap('ecs')[service];
  if (map.fields[sigmaField] !== undefined) return undefined;
  for (const [prefix, field] of Object.entries(map.strings)) {
    if (sigmaField.startsWith(`${prefix}.`))
      return { field, key: sigmaField.slice(sigmaField.lastIndexOf('.') + 1) };
  }
  return undefined;
}

/** The whole value a match accepts, as literal text and wildcards. */
export function valueSegments(m: FieldMatch, value: SigmaValue): Segment[] {
  const text = String(value);
  switch (m.op) {
    case 'exists':
      return [{ wild: '*' }];
    case 'contains':
      return [{ wild: '*' }, { text }, { wild: '*' }];
    case 'startswith':
      return [{ text }, { wild: '*' }];
    case 'endswith':
      return [{ wild: '*' }, { text }];
    case 'wildcard':
      return parseWildcard(text);
    default:
      return [{ text }];
  }
}

const TERMINATORS = [',', '}', ']'];

/**
 * Wildcard patterns over the whole string for `key=<value>`: one per character that can end a value,
 * or one when the value pattern ends in `*` already. `*key=` can also match a longer key ending in
 * `key`, and a trailing `*` can run past the value: the string form answers a little wider than the
 * object would.
 */
export function stringPatterns(form: StringForm, value: Segment[]): Segment[][] {
  const head: Segment[] = [{ wild: '*' }, { text: `${form.key}=` }, ...value];
  const last = value[value.length - 1];
  if (last && 'wild' in last && last.wild === '*') return [head];
  return TERMINATORS.map((t) => [...head, { text: t }, { wild: '*' }]);
}

/** A regular expression (Lucene syntax, whole-string) for `key=<value>` in the string form. */
export function stringRegex(form: StringForm, value: Segment[]): string {
  const body = value.map((s) => ('wild' in s ? (s.wild === '*' ? '[^,}\\]]*' : '.') : luceneEscape(s.text)));
  return `.*[{ ]${luceneEscape(form.key)}=${body.join('')}[,}\\]].*`;
}

function luceneEscape(text: string): string {
  return text.replace(/[.?+*|{}[\]()"\\#@&<>~]/g, '\\$&');
}
