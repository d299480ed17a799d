import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';

/**
 * A small fault-injecting HTTP proxy in front of the real HEC receiver, for the error paths the receiver
 * cannot produce itself: 503 storms with Retry-After, dropped connections (before or after the receiver
 * took the data), refused single events (code 6 with invalid-event-number), disabled tokens, delayed or
 * lost indexer acks, and a receiver with room for only so many requests at once. Everything it does not
 * intercept goes to the receiver unchanged.
 */

export interface ProxiedRequest {
  /** 0-based count of event posts seen so far. */
  n: number;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The decoded stacked-JSON envelopes, for event posts. */
  events: Record<string, unknown>[];
}

export type FaultAction =
  | { kind: 'pass' }
  | { kind: 'reply'; status: number; body: unknown; headers?: Record<string, string> }
  /** Close the socket without forwarding: the receiver never saw the batch. */
  | { kind: 'drop' }
  /** Forward, then close the socket instead of answering: the receiver has the batch, the client cannot know. */
  | { kind: 'drop-after-forward' }
  | { kind: 'delay'; ms: number };

export interface FaultProxy {
  url: string;
  onEvent: (req: ProxiedRequest) => FaultAction | Promise<FaultAction>;
  /**
   * True to hold back an ackId: the proxy answers `false` for it without asking the receiver. Acks are
   * read-once, so hiding a receiver's `true` would lose it for good; holding the question keeps it, and
   * lets a test model a late ack (hold for a while) or a lost one (hold forever).
   */
  holdAck: (channel: string, ackId: number) => boolean;
  /**
   * When set, an event post that arrives while this many are open (delayed, forwarded or being answered)
   * is refused with 503 "Server is busy" (HEC code 9) before `onEvent` sees it and never reaches the
   * receiver: a receiver whose queues are full above that concurrency.
   */
  capacity: number | undefined;
  counts: {
    eventPosts: number;
    forwarded: number;
    ackPolls: number;
    faults: number;
    /** Event posts refused because `capacity` were open. */
    overCapacity: number;
    /** The most event posts open at once that were let in. */
    peakOpen: number;
  };
  close(): Promise<void>;
}

export function decodeEvents(body: Buffer, encoding: string | undefined): Record<string, unknown>[] {
  const text = (encoding === 'gzip' ? gunzipSync(body) : body).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function forwardHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k === 'host' || k === 'content-length' || k === 'connection' || v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  let server: Server;
  const proxy: FaultProxy = {
    url: '',
    onEvent: () => ({ kind: 'pass' }),
    holdAck: () => false,
    capacity: undefined,
    counts: { eventPosts: 0, forwarded: 0, ackPolls: 0, faults: 0, overCapacity: 0, peakOpen: 0 },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  let openEventPosts = 0;

  async function forward(req: IncomingMessage, body: Buffer) {
    proxy.counts.forwarded++;
    const res = await request(`${target}${req.url ?? '/'}`, {
      method: (req.method ?? 'GET') as 'GET' | 'POST',
      headers: forwardHeaders(req.headers),
      ...(req.method === 'GET' ? {} : { body }),
    });
    return { status: res.statusCode, text: await res.body.text(), headers: res.headers };
  }

  function answer(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const path = req.url ?? '/';
    if (path.startsWith('/services/collector/ack')) {
      proxy.counts.ackPolls++;
      const channel = String(req.headers['x-splunk-request-channel'] ?? '');
      const asked = (JSON.parse(body.toString('utf8')) as { acks: number[] }).acks;
      const held = asked.filter((id) => proxy.holdAck(channel, id));
      const ask = asked.filter((id) => !held.includes(id));
      const acks: Record<string, boolean> = Object.fromEntries(held.map((id) => [String(id), false]));
      if (held.length > 0) proxy.counts.faults++;
      if (ask.length > 0) {
        const upstream = await forward(req, Buffer.from(JSON.stringify({ acks: ask })));
        if (upstream.status !== 200) return answer(res, upstream.status, upstream.text);
        Object.assign(acks, (JSON.parse(upstream.text) as { acks: Record<string, boolean> }).acks);
      }
      return answer(res, 200, { acks });
    }
    if (!path.startsWith('/services/collector/event')) {
      const upstream = await forward(req, body);
      return answer(res, upstream.status, upstream.text);
    }
    const seen: ProxiedRequest = {
      n: proxy.counts.eventPosts++,
      path,
      headers: req.headers,
      body,
      events: decodeEvents(body, req.headers['content-encoding'] as string | undefined),
    };
    if (proxy.capacity !== undefined && openEventPosts >= proxy.capacity) {
      proxy.counts.faults++;
      proxy.counts.overCapacity++;
      return answer(res, 503, { text: 'Server is busy', code: 9 });
    }
    openEventPosts++;
    proxy.counts.peakOpen = Math.max(proxy.counts.peakOpen, openEventPosts);
    try {
      await handleEvent(req, res, body, seen);
    } finally {
      openEventPosts--;
    }
  }

  async function handleEvent(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    seen: ProxiedRequest,
  ): Promise<void> {
    let action = await proxy.onEvent(seen);
    if (action.kind === 'delay') {
      proxy.counts.faults++;
      await new Promise((r) => setTimeout(r, (action as { ms: number }).ms));
      action = { kind: 'pass' };
    }
    switch (action.kind) {
      case 'reply':
        proxy.counts.faults++;
        return answer(res, action.status, action.body, action.headers);
      case 'drop':
        proxy.counts.faults++;
        req.socket.destroy();
        return;
      case 'drop-after-forward':
        proxy.counts.faults++;
        await forward(req, body);
        req.socket.destroy();
        return;
      default: {
        const upstream = await forward(req, body);
        return answer(res, upstream.status, upstream.text);
      }
    }
  }

  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((err: unknown) => {
        if (!res.headersSent) answer(res, 502, { text: `fault proxy: ${String(err)}`, code: 8 });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
