import { errorMessage } from '../../errors.js';
import { proxyRoutes } from '../../network/index.js';
import type { SearchSinkConfig } from './config.js';

/** One item of a bulk response, reduced to what deciding its outcome needs. */
export interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } } | undefined;
}

/** A bulk request's answer. `items` is in request order when the server processed the request. */
export interface BulkResult {
  status: number;
  errors?: boolean;
  items?: BulkItemResult[];
  /** Whole-request error body (4xx/5xx), kept for the error message. */
  error?: unknown;
}

export interface JsonResponse {
  status: number;
  body: unknown;
}

/**
 * The little the sink and the installer need from a search cluster. Each method returns HTTP statuses
 * instead of throwing them, so the sink decides retry or reject in one place; connection-level failures
 * (refused, reset, timeout) throw a `SearchTransportError`.
 */
export interface SearchClient {
  readonly flavour: SearchSinkConfig['flavour'];
  /** POST /_bulk with a ready NDJSON body. */
  bulk(body: Buffer): Promise<BulkResult>;
  /** Any JSON request (templates, policies, counts). */
  request(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD',
    path: string,
    body?: unknown,
  ): Promise<JsonResponse>;
  close(): Promise<void>;
}

/** A request that never got an HTTP answer: connection refused or reset, timeout, no living node. */
export class SearchTransportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SearchTransportError';
  }
}

/** Only what a bulk response needs: errors flag, and each item's status and error. Keeps parsing cheap. */
export const BULK_FILTER_PATH =
  'errors,items.*.status,items.*.error.type,items.*.error.reason,items.*.error.caused_by';

/** Both clients raise `ResponseError` (with `meta.statusCode` and `meta.body`) for HTTP errors. */
export function responseOf(err: unknown): JsonResponse | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const meta = (err as { meta?: { statusCode?: unknown; body?: unknown } }).meta;
  if (meta && typeof meta.statusCode === 'number' && meta.statusCode > 0) {
    return { status: meta.statusCode, body: meta.body };
  }
  return undefined;
}

/** Flattens a bulk response's items (`[{create: {...}}]`) to `[{status, error}]`. */
export function toBulkResult(status: number, body: unknown): BulkResult {
  if (typeof body !== 'object' || body === null) return { status, error: body };
  const raw = body as { errors?: boolean; items?: Array<Record<string, BulkItemResult>> };
  if (!Array.isArray(raw.items)) return { status, error: body };
  const items = raw.items.map((entry) => {
    for (const key in entry) return entry[key] as BulkItemResult;
    return { status: 0 };
  });
  return { status, errors: raw.errors === true, items };
}

/** Runs one JSON request: HTTP errors come back as statuses, only connection failures throw. */
export async function sendRequest(
  product: string,
  call: () => Promise<{ statusCode: number | null; body: unknown }>,
): Promise<JsonResponse> {
  try {
    const res = await call();
    return { status: res.statusCode ?? 0, body: res.body };
  } catch (err) {
    const response = responseOf(err);
    if (response) return response;
    throw new SearchTransportError(`${product} request failed: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * The proxy for the cluster's nodes, as a URL for the client's `proxy` option. A client takes one proxy
 * for all its nodes, so the first node decides.
 */
export function searchProxy(node: string | string[] | undefined): string | undefined {
  const first = Array.isArray(node) ? node[0] : node;
  return first ? proxyRoutes().proxyFor(first)?.href : undefined;
}
