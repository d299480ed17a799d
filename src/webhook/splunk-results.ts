import { ConnectorError } from '../errors.js';
import { routedFetch } from '../network/index.js';

export interface SplunkResultsOptions {
  restUrl: string;
  token: string;
  maxResults: number;
  timeoutMs: number;
}

/**
 * Every result row of a finished search, from Splunk's REST API
 * (`GET /services/search/jobs/{sid}/results?output_mode=json`). Splunk's webhook action carries only the
 * first row, so alerts that name several attackers need this. TLS is verified (the platform's fetch, or undici's through a proxy).
 */
export async function fetchSplunkResults(
  sid: string,
  options: SplunkResultsOptions,
): Promise<Record<string, unknown>[]> {
  const url = new URL(`services/search/jobs/${encodeURIComponent(sid)}/results`, withSlash(options.restUrl));
  url.searchParams.set('output_mode', 'json');
  url.searchParams.set('count', String(options.maxResults));
  const response = await routedFetch(url, {
    headers: { authorization: `Bearer ${options.token}`, accept: 'application/json' },
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  if (!response.ok) {
    throw new ConnectorError('SPLUNK_RESULTS_FAILED', `Splunk results for ${sid}: HTTP ${response.status}`, {
      details: { sid, status: response.status },
    });
  }
  const body = (await response.json()) as { results?: unknown };
  if (!Array.isArray(body.results)) {
    throw new ConnectorError('SPLUNK_RESULTS_FAILED', `Splunk results for ${sid}: no results array`, {
      details: { sid },
    });
  }
  return body.results
    .filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null && !Array.isArray(r))
    .slice(0, options.maxResults);
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
