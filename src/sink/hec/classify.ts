import type { HecErrorCode } from './errors.js';

/**
 * What to do with one HEC response. The single place that decides; the sink only carries it out.
 * - ok: delivered (or, with indexer ack, wait for the ackId)
 * - retry: transient (busy, internal error, throttled): back off and send the same batch again
 * - split: the receiver refused something inside the batch; isolate the bad event, send the rest
 * - fatal: configuration (token, index, ack mode, channel, a URL that does not reach HEC): stop, tell the
 *   operator, keep the data (records are failed back for redelivery, never acked)
 */
export type ResponseClass =
  | { kind: 'ok'; ackId?: number }
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  | { kind: 'split'; reason: string; hecCode?: number; invalidEvent?: number }
  | { kind: 'fatal'; reason: string; code: HecErrorCode; hecCode?: number };

type Rule =
  | { kind: 'ok' | 'retry' | 'split' }
  /** `foreign`: the reply is not HEC's, so the reason describes what came back instead of quoting HEC. */
  | { kind: 'fatal'; code: HecErrorCode; hint: string; foreign?: string };

/** HEC reply codes (Splunk's "Troubleshoot HTTP Event Collector" table) → class. */
const BY_HEC_CODE: Readonly<Record<number, Rule>> = {
  0: { kind: 'ok' },
  1: { kind: 'fatal', code: 'HEC_TOKEN_DISABLED', hint: 'enable the HEC token in Splunk' },
  2: { kind: 'fatal', code: 'HEC_TOKEN_REQUIRED', hint: 'set sinks.hec.token or ASC_HEC_TOKEN' },
  3: { kind: 'fatal', code: 'HEC_TOKEN_INVALID', hint: 'check the HEC token' },
  4: { kind: 'fatal', code: 'HEC_TOKEN_INVALID', hint: 'check the HEC token' },
  5: { kind: 'split' },
  6: { kind: 'split' },
  7: {
    kind: 'fatal',
    code: 'HEC_INDEX_INVALID',
    hint: "each index the sink names (sinks.hec.index, indexes, accountIndexes) must exist and be among the token's allowed indexes",
  },
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

const is2xx = (status: number) => status >= 200 && status < 300;

/** For replies without a HEC JSON body (proxies, load balancers, collectors with plain-text auth errors). */
function byStatus(status: number): Rule {
  // HEC (Splunk, and the OpenTelemetry Collector's HEC receiver) always answers success with a JSON body
  // carrying code 0. A 2xx without one came from something else: a load balancer's fixed 200, a login
  // proxy's page, an empty 204. Counting it as delivered would delete the SQS message and lose the data.
  if (is2xx(status)) {
    return {
      kind: 'fatal',
      code: 'HEC_FOREIGN_RESPONSE',
      foreign: "without HEC's success reply (a JSON body with code 0)",
      hint: 'sinks.hec.urls must reach HEC itself, not a load balancer default page, a login proxy or another service; nothing was counted as delivered',
    };
  }
  if (status === 401 || status === 403) {
    return { kind: 'fatal', code: 'HEC_TOKEN_INVALID', hint: 'check the HEC token' };
  }
  if (status === 404) return { kind: 'fatal', code: 'HEC_ENDPOINT_INVALID', hint: 'check sinks.hec.urls' };
  // Too large for HEC's max_content_length or a proxy's body limit: smaller requests may pass, and an
  // event that is too large alone is rejected (dead letter) by the sink.
  if (status === 413) return { kind: 'split' };
  if (status === 408 || status === 429 || status >= 500) return { kind: 'retry' };
  // A 400 that carries no HEC code is not about an event (HEC names those with codes 5, 6, 12, 13, 15):
  // it is a proxy or load balancer refusing the request (HTTP sent to an HTTPS port, headers too large).
  // Splitting would halve down to single events and dead-letter every one of them.
  if (status === 400) {
    return {
      kind: 'fatal',
      code: 'HEC_FOREIGN_RESPONSE',
      foreign: 'without a HEC reply code',
      hint: 'something in front of HEC refused the request (scheme or port of sinks.hec.urls, a proxy limit)',
    };
  }
  return { kind: 'fatal', code: 'HEC_UNEXPECTED_RESPONSE', hint: 'unexpected HTTP status from HEC' };
}

/**
 * What came back, for an operator: status, content type and the first bytes of the body, on one line.
 * Never headers (they may carry cookies); the sink also masks the token should a body echo it.
 */
export function describeReply(status: number, body: string, contentType: string | undefined): string {
  const start = body.replace(/\s+/g, ' ').trim().slice(0, 120);
  const shown = start === '' ? 'an empty body' : `a body starting ${JSON.stringify(start)}`;
  return `HTTP ${status}, content-type ${contentType ?? 'none'}, ${shown}`;
}

interface HecReply {
  text?: unknown;
  code?: unknown;
  ackId?: unknown;
  acks?: unknown;
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

export function classifyResponse(
  status: number,
  body: string,
  retryAfter?: string,
  contentType?: string,
): ResponseClass {
  const reply = parseReply(body);
  const hecCode = typeof reply?.code === 'number' ? reply.code : undefined;
  const text = typeof reply?.text === 'string' ? reply.text : body.trim().slice(0, 200) || `HTTP ${status}`;
  // A 2xx carrying a non-zero code is still an error; a 5xx with a code the table calls ok is not ok. A
  // code HEC does not define is no better than none: the status decides.
  let rule = (hecCode === undefined ? undefined : BY_HEC_CODE[hecCode]) ?? byStatus(status);
  if (rule.kind === 'ok' && !is2xx(status)) rule = byStatus(status);
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
        reason: rule.foreign
          ? `the reply was not HEC's: ${describeReply(status, body, contentType)} ${rule.foreign} (${rule.hint})`
          : `${reason} (${rule.hint})`,
        ...(hecCode === undefined ? {} : { hecCode }),
      };
  }
}

export type AckPollClass =
  | { kind: 'ok'; acks: Map<number, boolean> }
  | Exclude<ResponseClass, { kind: 'ok' }>;

/**
 * A reply to /services/collector/ack. HEC answers a poll with the `acks` map alone (no code), so the map
 * is its success reply; a 2xx without one is not HEC's and must not be read as "nothing acked yet".
 */
export function classifyAckPoll(
  status: number,
  body: string,
  retryAfter?: string,
  contentType?: string,
): AckPollClass {
  const reply = parseReply(body);
  const acks = reply?.acks;
  if (is2xx(status) && typeof acks === 'object' && acks !== null && !Array.isArray(acks)) {
    const read = new Map<number, boolean>();
    for (const [id, done] of Object.entries(acks)) {
      if (typeof done === 'boolean' && Number.isInteger(Number(id))) read.set(Number(id), done);
    }
    return { kind: 'ok', acks: read };
  }
  const verdict = classifyResponse(status, body, retryAfter, contentType);
  if (verdict.kind !== 'ok') return verdict;
  return {
    kind: 'fatal',
    code: 'HEC_FOREIGN_RESPONSE',
    reason: `the reply was not HEC's: ${describeReply(status, body, contentType)} without an acks map (sinks.hec.urls must reach HEC itself)`,
  };
}

/**
 * A reply to /services/collector/health, asked before an endpoint that failed gets batches again. Only
 * what a send would also retry (busy, unhealthy, throttled, failing) keeps it down; any other answer (a
 * proxy that does not pass /health on, say) cannot tell, so the next batch's own reply decides.
 */
export function classifyHealth(status: number): 'up' | 'down' {
  const rule = byStatus(status);
  return rule.kind === 'retry' ? 'down' : 'up';
}
