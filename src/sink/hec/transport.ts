import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client, type Dispatcher, getSetCookies, Headers, ProxyAgent } from 'undici';
import { ConfigError } from '../../config/load.js';
import { errorMessage } from '../../errors.js';
import { proxyRoutes } from '../../network/index.js';
import { tlsOptions } from '../tls.js';
import type { HecSinkConfig } from './config.js';

export interface HecResponse {
  status: number;
  body: string;
  retryAfter?: string;
  /** Only to tell an operator what answered when the reply is not HEC's. */
  contentType?: string;
}

/**
 * One HEC base URL, with its health: up; down until `downUntil` after a failed send (back-off); then due
 * for a /services/collector/health probe, which brings it up again or keeps it down for another interval.
 */
export class Endpoint {
  readonly origin: string;
  readonly basePath: string;
  downUntil = 0;
  /** A health probe is in flight: nothing else is sent to the endpoint until it answers. */
  probing = false;
  private failures = 0;

  constructor(readonly url: string) {
    const parsed = new URL(url);
    this.origin = parsed.origin;
    // Accept both a bare base URL and one that already names a collector path.
    this.basePath = parsed.pathname.replace(/\/services\/collector.*$/, '').replace(/\/+$/, '');
  }

  /** Its down time is over (it may still need a probe first: see `needsProbe`). */
  isUp(now: number): boolean {
    return this.downUntil <= now;
  }

  /** Failed since it last answered well: ask /health whether it recovered before sending it a batch. */
  get needsProbe(): boolean {
    return this.failures > 0;
  }

  /**
   * A send failed. Retry-After is honoured up to `maxMs` (the retry's max delay): a proxy's
   * `Retry-After: 900` must not hold every batch past its retry window, and after the down time a /health
   * probe, not a batch, checks whether the endpoint really is back.
   */
  markDown(now: number, retryAfterMs: number | undefined, maxMs: number): void {
    this.failures++;
    const backoff = Math.min(maxMs, 250 * 2 ** Math.min(this.failures - 1, 16));
    this.downUntil = now + Math.min(maxMs, Math.max(retryAfterMs ?? 0, backoff));
  }

  /** A probe said it is still unhealthy: probe again after `intervalMs`. */
  stillDown(now: number, intervalMs: number): void {
    this.downUntil = now + intervalMs;
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
  /**
   * Cookies the endpoint set on this lane, sent back on its every request. A load balancer in front of
   * several indexers keeps a client on one of them by a cookie (AWS ALB/ELB stickiness, F5, nginx): without
   * it the ack polls of a channel reach indexers that never saw its batches, never come true, and the
   * batches are sent again after the ack time-out.
   */
  private readonly cookies = new Map<string, string>();

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
        ...(this.cookies.size > 0 ? { cookie: cookieHeader(this.cookies) } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body }),
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const text = await res.body.text();
    const setCookie = res.headers['set-cookie'];
    if (setCookie !== undefined) keepCookies(this.cookies, setCookie);
    const retryAfter = res.headers['retry-after'];
    const contentType = res.headers['content-type'];
    return {
      status: res.statusCode,
      body: text,
      ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
      ...(typeof contentType === 'string' ? { contentType } : {}),
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

/** At most this many cookies per lane, each at most this long: a misbehaving endpoint cannot grow requests. */
const MAX_COOKIES = 16;
const MAX_COOKIE_LENGTH = 4096;

/**
 * Applies `Set-Cookie` headers (parsed by undici): name and value kept, one whose expiry is past
 * (`Max-Age=0`, an old `Expires`) removed. A lane talks to one origin, so domain and path need no matching.
 */
export function keepCookies(cookies: Map<string, string>, setCookie: string | string[]): void {
  const headers = new Headers();
  for (const header of Array.isArray(setCookie) ? setCookie : [setCookie])
    headers.append('set-cookie', header);
  // undici gives null for a header it refuses (one over 4 KiB among them).
  for (const cookie of getSetCookies(headers) as (ReturnType<typeof getSetCookies>[number] | null)[]) {
    if (!cookie || cookie.name === '') continue;
    const { name, value, maxAge, expires } = cookie;
    const expired =
      (maxAge !== undefined && maxAge <= 0) || (expires !== undefined && Number(expires) <= Date.now());
    if (expired) cookies.delete(name);
    else if (
      name.length + value.length <= MAX_COOKIE_LENGTH &&
      (cookies.has(name) || cookies.size < MAX_COOKIES)
    )
      cookies.set(name, value);
  }
}

function cookieHeader(cookies: Map<string, string>): string {
  return [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

export function resolveToken(config: HecSinkConfig): string {
  if (config.token) return config.token;
  // The schema guarantees one of the two.
  const file = config.tokenFile!;
  const text = readConfiguredFile('sinks.hec.tokenFile', file);
  // A file written by echo or an editor ends in a line break, which is no part of the token and would
  // make HEC refuse the Authorization header.
  const token = text.trim();
  if (!token) {
    throw new ConfigError(`sinks.hec.tokenFile ${file} is empty`, { key: 'sinks.hec.tokenFile', path: file });
  }
  return token;
}

/** A missing or unreadable file the config names is a configuration error (exit 2), named by key and path. */
function readConfiguredFile(key: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read ${key} ${file}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`,
      { key, path: file },
      err,
    );
  }
}

/**
 * A keep-alive connection per lane, TLS verified unless the operator turned it off, with an optional CA;
 * through a tunnel when the endpoint is routed to a proxy (TLS still end to end with the indexer).
 */
export function laneDispatcher(endpoint: Endpoint, config: HecSinkConfig): Dispatcher {
  const tls = tlsOptions(config.tls, (key, file) => readConfiguredFile(`sinks.hec.tls.${key}`, file));
  const connection = { pipelining: 1, keepAliveTimeout: 30_000 };
  const proxy = proxyRoutes().proxyFor(endpoint.origin);
  if (proxy) return new ProxyAgent({ uri: proxy.href, requestTls: tls, connections: 1, ...connection });
  return new Client(endpoint.origin, { ...connection, connect: tls });
}
