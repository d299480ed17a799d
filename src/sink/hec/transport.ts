import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client, type Dispatcher } from 'undici';
import type { HecSinkConfig } from './config.js';

export interface HecResponse {
  status: number;
  body: string;
  retryAfter?: string;
}

/** One HEC base URL, with its down/up state (from failed sends and /health probes). */
export class Endpoint {
  readonly origin: string;
  readonly basePath: string;
  downUntil = 0;
  private failures = 0;

  constructor(readonly url: string) {
    const parsed = new URL(url);
    this.origin = parsed.origin;
    // Accept both a bare base URL and one that already names a collector path.
    this.basePath = parsed.pathname.replace(/\/services\/collector.*$/, '').replace(/\/+$/, '');
  }

  isUp(now: number): boolean {
    return this.downUntil <= now;
  }

  markDown(now: number, retryAfterMs: number | undefined, maxMs: number): void {
    this.failures++;
    const backoff = Math.min(maxMs, 250 * 2 ** Math.min(this.failures - 1, 16));
    this.downUntil = now + Math.max(retryAfterMs ?? 0, backoff);
  }

  markUp(): void {
    this.failures = 0;
    this.downUntil = 0;
  }
}

/**
 * One keep-alive connection to one endpoint with its own channel: HEC ackIds are per channel, and a
 * channel is bound to the indexer that served it, so a channel per connection keeps acks answerable.
 */
export class Lane {
  readonly channel = randomUUID();
  busy = false;

  constructor(
    readonly endpoint: Endpoint,
    private readonly dispatcher: Dispatcher,
    private readonly authorization: string,
    private readonly timeoutMs: number,
  ) {}

  private async call(
    method: 'GET' | 'POST',
    path: string,
    body: Buffer | string | undefined,
    headers: Record<string, string>,
  ): Promise<HecResponse> {
    const res = await this.dispatcher.request({
      origin: this.endpoint.origin,
      path: `${this.endpoint.basePath}${path}`,
      method,
      headers: {
        authorization: this.authorization,
        'x-splunk-request-channel': this.channel,
        ...headers,
      },
      ...(body === undefined ? {} : { body }),
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const text = await res.body.text();
    const retryAfter = res.headers['retry-after'];
    return {
      status: res.statusCode,
      body: text,
      ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
    };
  }

  postEvents(body: Buffer, gzip: boolean): Promise<HecResponse> {
    return this.call('POST', '/services/collector/event', body, {
      'content-type': 'application/json',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
  }

  pollAcks(ids: number[]): Promise<HecResponse> {
    return this.call('POST', '/services/collector/ack', JSON.stringify({ acks: ids }), {
      'content-type': 'application/json',
    });
  }

  health(): Promise<HecResponse> {
    return this.call('GET', '/services/collector/health', undefined, {});
  }
}

export function resolveToken(config: HecSinkConfig): string {
  if (config.token) return config.token;
  // The schema guarantees one of the two.
  return readFileSync(config.tokenFile!, 'utf8').trim();
}

/** A keep-alive client per lane, TLS verified unless the operator turned it off, with an optional CA. */
export function laneDispatcher(endpoint: Endpoint, config: HecSinkConfig): Dispatcher {
  const ca = config.tls.caFile ? readFileSync(config.tls.caFile, 'utf8') : undefined;
  return new Client(endpoint.origin, {
    pipelining: 1,
    keepAliveTimeout: 30_000,
    connect: { rejectUnauthorized: config.tls.rejectUnauthorized, ...(ca ? { ca } : {}) },
  });
}
