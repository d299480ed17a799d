import { ConnectorError } from './errors.js';

/**
 * Splunk's rule for index names: lower-case letters, digits, `_` and `-`, not starting with `_` or `-`
 * (the internal indexes that do are not for data). Shared by the HEC sink's routing, the saved searches'
 * and the dashboards' `index IN (…)`.
 */
export const SPLUNK_INDEX_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * `--splunk-index a,b` (rules build|install, dashboards install) as a list, each name checked by
 * Splunk's rule (a usage error otherwise).
 */
export function splunkIndexes(option: string | undefined): string[] | undefined {
  if (option === undefined) return undefined;
  const names = option
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.find((n) => !SPLUNK_INDEX_NAME.test(n));
  if (names.length === 0 || bad !== undefined) {
    throw new ConnectorError(
      'USAGE',
      `--splunk-index: ${bad === undefined ? 'no index given' : `"${bad}" is not a Splunk index name`} (lower-case letters, digits, _ and -)`,
    );
  }
  return names;
}

/** The search term that restricts a search to these indexes, one form for saved searches and views. */
export function splunkIndexTerm(indexes: readonly string[]): string {
  return `index IN (${indexes.join(', ')})`;
}
