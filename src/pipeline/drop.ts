import { createHash } from 'node:crypto';
import { createEvaluator, parseRules, rawDocument } from '../detection/index.js';
import type { RawRecord } from '../types.js';
import type { DropFilterConfig } from './config.js';

/** The name of the first filter a record matches (it is dropped), or undefined (it is shipped). */
export type DropFilter = (record: RawRecord) => string | undefined;

/** A UUID derived from the filter's name: the rule parser wants one, and it must not change between starts. */
function idOf(name: string): string {
  const h = createHash('sha1').update(`drop-filter:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * `pipeline.drop` as one test over raw records. Each filter is a Sigma selection (`match`, and `unless`
 * for what it must spare) on the raw CloudTrail or VPC flow field names, compiled by the detection rules'
 * own parser and evaluated by their evaluator on raw records: the same modifiers (`|startswith`,
 * `|contains`, `|cidr`, `|exists`, …) and the same errors, which name the filter. Undefined when there
 * are no filters, so a pipeline without them does no work per record.
 */
export function compileDropFilters(filters: readonly DropFilterConfig[]): DropFilter | undefined {
  if (filters.length === 0) return undefined;
  const rules = parseRules(
    filters.map((filter, i) => ({
      file: `pipeline.drop[${i}] (${filter.name})`,
      text: JSON.stringify({
        title: filter.name,
        id: idOf(filter.name),
        description: 'records this filter matches are not shipped',
        author: 'config',
        level: 'informational',
        logsource: { product: 'aws', service: filter.logType },
        detection: {
          match: filter.match,
          ...(filter.unless
            ? { unless: filter.unless, condition: 'match and not unless' }
            : { condition: 'match' }),
        },
      }),
    })),
  );
  const evaluator = createEvaluator(rules, { fields: 'raw' });
  return (record) => evaluator.evaluate(rawDocument(record), '', record.logType)[0]?.rule.name;
}
