import type { BulkItemResult, BulkResult } from './client.js';
import { SearchTransportError } from './client.js';
import type { SearchSinkErrorCode } from './errors.js';

/**
 * What happens to one document after a bulk response. This file is the only place that decides it, so
 * "retried, rejected or failed" means the same thing everywhere in the sink.
 */
export type ItemOutcome =
  | { kind: 'indexed' }
  /** A `create` found the id already there: an earlier attempt or delivery succeeded. */
  | { kind: 'duplicate' }
  | { kind: 'retry'; reason: string }
  /** The document itself is unacceptable to the server; dead letter with the server's reason. */
  | { kind: 'reject'; reason: string }
  /** Not the document's fault and not worth retrying here; the source redelivers it later. */
  | { kind: 'fail'; code: SearchSinkErrorCode; reason: string };

export type RequestOutcome =
  | { kind: 'items'; items: BulkItemResult[] }
  | { kind: 'retry'; reason: string }
  /** The body is too large for the server: send each half on its own. */
  | { kind: 'split'; reason: string }
  | { kind: 'fail'; code: SearchSinkErrorCode; reason: string };

/** Item errors that say the index (not the document) is unusable: dead-lettering would blame the data. */
const INDEX_LEVEL_ERRORS = new Set([
  'index_not_found_exception',
  'index_closed_exception',
  'invalid_index_name_exception',
  'security_exception',
]);

export function classifyItem(item: BulkItemResult | undefined, op: 'create' | 'index'): ItemOutcome {
  const status = item?.status;
  if (status === undefined || status === 0) {
    return { kind: 'fail', code: 'SEARCH_BAD_RESPONSE', reason: 'bulk response has no status for this item' };
  }
  if (status >= 200 && status < 300) return { kind: 'indexed' };
  const type = item?.error?.type;
  if (status === 409 && op === 'create' && type === 'version_conflict_engine_exception') {
    return { kind: 'duplicate' };
  }
  const reason = describeItemError(item);
  // A read-only block (disk flood stage) is lifted by the cluster itself; older versions answer it with 403.
  if (status === 429 || status >= 500 || type === 'cluster_block_exception') return { kind: 'retry', reason };
  if (status === 401 || status === 403 || type === 'security_exception') {
    return { kind: 'fail', code: 'SEARCH_AUTH', reason };
  }
  if (status === 404 || (type !== undefined && INDEX_LEVEL_ERRORS.has(type))) {
    return { kind: 'fail', code: 'SEARCH_FAILED', reason };
  }
  return { kind: 'reject', reason };
}

export function classifyRequest(result: BulkResult | unknown, count: number): RequestOutcome {
  if (result instanceof SearchTransportError) return { kind: 'retry', reason: result.message };
  if (result instanceof Error) return { kind: 'fail', code: 'SEARCH_FAILED', reason: result.message };
  const { status, items, error } = result as BulkResult;
  if (status >= 200 && status < 300) {
    if (items?.length === count) return { kind: 'items', items };
    return {
      kind: 'fail',
      code: 'SEARCH_BAD_RESPONSE',
      reason: `bulk response has ${items?.length ?? 'no'} items for ${count} documents`,
    };
  }
  const reason = `bulk request answered HTTP ${status}${describeBody(error)}`;
  if (status === 413) return { kind: 'split', reason };
  if (status === 429 || status === 408 || status >= 500 || status === 0) return { kind: 'retry', reason };
  if (status === 401 || status === 403) return { kind: 'fail', code: 'SEARCH_AUTH', reason };
  return { kind: 'fail', code: 'SEARCH_FAILED', reason };
}

/** `type: reason (caused by type: reason)`, the server's own words. */
export function describeItemError(item: BulkItemResult | undefined): string {
  const error = item?.error;
  if (!error) return `HTTP ${item?.status ?? 'unknown'}`;
  let text = `${error.type ?? 'error'}: ${error.reason ?? 'no reason given'}`;
  if (error.caused_by?.reason)
    text += ` (caused by ${error.caused_by.type ?? 'error'}: ${error.caused_by.reason})`;
  return `HTTP ${item?.status}: ${text}`;
}

function describeBody(body: unknown): string {
  if (body === undefined || body === null || body === '') return '';
  if (typeof body === 'string') return `: ${body.slice(0, 300)}`;
  const error = (body as { error?: unknown }).error;
  if (typeof error === 'string') return `: ${error.slice(0, 300)}`;
  if (typeof error === 'object' && error !== null) {
    const e = error as { type?: string; reason?: string };
    return `: ${e.type ?? 'error'}: ${e.reason ?? ''}`.slice(0, 300);
  }
  return `: ${JSON.stringify(body).slice(0, 300)}`;
}

/**
 * Exponential back-off with equal jitter: half the step is fixed so that a retry never comes back
 * immediately, half is random so that many writers do not retry in lock step.
 */
export function backoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + random() * (step / 2));
}
