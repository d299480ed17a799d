import type { HecErrorCode } from './errors.js';

/**
 * What to do with one HEC response. The single place that decides; the sink only carries it out.
 * - ok: delivered (or, with indexer ack, wait for the ackId)
 * - retry: transient (busy, internal error, throttled): back off and send the same batch again
 * - split: the receiver refused something inside the batch; isolate the bad event, send the rest
 * - fatal: configuration (token, index, ack mode, channel): stop, tell the operator, keep the data
 */
export type ResponseClass =
  | { kind: 'ok'; ackId?: number }
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  | { kind: 'split'; reason: string; hecCode?: number; invalidEvent?: number }
  | { kind: 'fatal'; reason: string; code: HecErrorCode; hecCode?: number };

type Rule = { kind: 'ok' | 'retry' | 'split' } | { kind: 'fatal'; code: HecErrorCode; hint: string };

/** HEC reply codes (Splunk's "Troubleshoot HTTP Event Collector" table) → class. */
const BY_HEC_CODE: Readonly<Record<number, Rule>> = {
  0: { kind: 'ok' },
  1: { kind: 'fatal', code: 'HEC_TOKEN_DISABLED', hint: 'enable the HEC token in Splunk' },
  2: { kind: 'fatal', code: 'HEC_TOKEN_REQUIRED', hint: 'set sinks.hec.token or ASC_HEC_TOKEN' },
  3: { kind: 'fatal', code: 'HEC_TOKEN_INVALID', hint: 'check the HEC token' },
  4: { kind: 'fatal', code: 'HEC_TOKEN_INVALID', hint: 'check the HEC token' },
  5: { kind: 'split' },
  6: { kind: 'split' },
  7: { kind: 'fatal', code: 'HEC_INDEX_INVALID', hint: "add the index to the token's allowed indexes" },
  8: { kind: 'retry' },
  9: { kind: 'retry' },
  10: {
    kind: 'fatal',
    code: 'HEC_CHANNEL_MISSING',
    hint: 'the token requires indexer ack: set sinks.hec.ack.enabled',
  },
  11: { kind: 'fatal', code: 'HEC_CHANNEL_INVALID', hint: 'the receiver refused the request channel' },
  12: { kind: 'split' },
  13: { kind: 'split' },
  14: {
    kind: 'fatal',
    code: 'HEC_ACK_DISABLED',
    hint: 'the token has indexer ack off: unset sinks.hec.ack.enabled',
  },
  15: { kind: 'split' },
  16: { kind: 'fatal', code: 'HEC_QUERY_AUTH_DISABLED', hint: 'the token does not allow query-string auth' },
  18: { kind: 'retry' },
  19: { kind: 'retry' },
  20: { kind: 'retry' },
  21: { kind: 'fatal', code: 'HEC_TOKEN_INVALID', hint: 'check the HEC token' },
  22: { kind: 'fatal', code: 'HEC_TOKEN_DISABLED', hint: 'enable the HEC token in Splunk' },
};

/** For replies without a HEC JSON body (proxies, load balancers, collectors with plain-text auth errors). */
function byStatus(status: number): Rule {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  if (status === 401 || status === 403) {
    return { kind: 'fatal', code: 'HEC_TOKEN_INVALID', hint: 'check the HEC token' };
  }
  if (status === 404) return { kind: 'fatal', code: 'HEC_ENDPOINT_INVALID', hint: 'check sinks.hec.urls' };
  if (status === 413) return { kind: 'split' };
  if (status === 408 || status === 429 || status >= 500) return { kind: 'retry' };
  if (status === 400) return { kind: 'split' };
  return { kind: 'fatal', code: 'HEC_UNEXPECTED_RESPONSE', hint: 'unexpected HTTP status from HEC' };
}

interface HecReply {
  text?: unknown;
  code?: unknown;
  ackId?: unknown;
  'invalid-event-number'?: unknown;
}

function parseReply(body: string): HecReply | undefined {
  const trimmed = body.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return typeof parsed === 'object' && parsed !== null ? (parsed as HecReply) : undefined;
  } catch {
    return undefined;
  }
}

/** Retry-After: delta seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function classifyResponse(status: number, body: string, retryAfter?: string): ResponseClass {
  const reply = parseReply(body);
  const hecCode = typeof reply?.code === 'number' ? reply.code : undefined;
  const text = typeof reply?.text === 'string' ? reply.text : body.trim().slice(0, 200) || `HTTP ${status}`;
  // A 2xx carrying a non-zero code is still an error; a 5xx with a code the table calls ok is not ok.
  let rule = (hecCode === undefined ? undefined : BY_HEC_CODE[hecCode]) ?? byStatus(status);
  if (rule.kind === 'ok' && (status < 200 || status >= 300)) rule = byStatus(status);
  const reason = `HTTP ${status}${hecCode === undefined ? '' : ` code ${hecCode}`}: ${text}`;
  switch (rule.kind) {
    case 'ok': {
      const ackId = typeof reply?.ackId === 'number' ? reply.ackId : undefined;
      return ackId === undefined ? { kind: 'ok' } : { kind: 'ok', ackId };
    }
    case 'retry': {
      const retryAfterMs = parseRetryAfter(retryAfter);
      return retryAfterMs === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, retryAfterMs };
    }
    case 'split': {
      const n = Number(reply?.['invalid-event-number']);
      return {
        kind: 'split',
        reason,
        ...(hecCode === undefined ? {} : { hecCode }),
        ...(Number.isInteger(n) && n >= 0 ? { invalidEvent: n } : {}),
      };
    }
    case 'fatal':
      return {
        kind: 'fatal',
        code: rule.code,
        reason: `${reason} (${rule.hint})`,
        ...(hecCode === undefined ? {} : { hecCode }),
      };
  }
}
