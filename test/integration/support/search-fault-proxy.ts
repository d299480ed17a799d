import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An HTTP proxy in front of the real OpenSearch node that injects the failures a healthy single node will
 * not produce on demand. Everything it does not fault goes to the node unchanged, and the node's answer
 * comes back unchanged, so what is indexed is decided by the real node.
 */
export interface SearchFaultPlan {
  /**
   * For the next N bulk requests, hold back every k-th document from the node and answer it with an item
   * 429 (es_rejected_execution_exception), as a node with a full write queue does.
   */
  rejectItems?: { requests: number; every: number };
  /** Answer the next N bulk requests with a whole-request status (429, 503) without forwarding them. */
  failRequests?: { requests: number; status: number };
  /**
   * Forward the next N bulk requests to the node but destroy the client connection before the answer: the
   * documents are indexed, the writer does not know it (the worst case for duplicates).
   */
  dropAfterForward?: { requests: number };
}

export interface SearchFaultProxy {
  url: string;
  /** Bulk requests seen, and what was injected. */
  readonly counts: {
    bulk: number;
    itemsRejected: number;
    requestsFailed: number;
    dropped: number;
    refused: number;
  };
  plan(next: SearchFaultPlan): void;
  /** Refuse every connection (reset), as a stopped node does, until up(). */
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export async function createSearchFaultProxy(targetUrl: string): Promise<SearchFaultProxy> {
  const target = new URL(targetUrl);
  let current: SearchFaultPlan = {};
  let isDown = false;
  const counts = { bulk: 0, itemsRejected: 0, requestsFailed: 0, dropped: 0, refused: 0 };
  const sockets = new Set<Socket>();

  const forward = (
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
      const upstream = httpRequest(
        { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const out: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) {
              if (typeof v === 'string' && !['content-length', 'transfer-encoding', 'connection'].includes(k))
                out[k] = v;
            }
            resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
          });
          res.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });

  const send = (
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body: Buffer | string,
  ): void => {
    res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks)).catch((err: unknown) => {
        if (!res.headersSent) send(res, 502, { 'content-type': 'text/plain' }, `proxy error: ${String(err)}`);
        else res.destroy();
      });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const isBulk = req.method === 'POST' && (req.url ?? '').split('?')[0]!.endsWith('/_bulk');
    if (!isBulk) {
      const answer = await forward(req, body);
      send(res, answer.status, answer.headers, answer.body);
      return;
    }
    counts.bulk++;
    const json = { 'content-type': 'application/json' };

    if (current.failRequests && current.failRequests.requests > 0) {
      current.failRequests.requests--;
      counts.requestsFailed++;
      const status = current.failRequests.status;
      const type = status === 429 ? 'es_rejected_execution_exception' : 'unavailable_shards_exception';
      send(
        res,
        status,
        json,
        JSON.stringify({ error: { type, reason: 'injected by the fault proxy' }, status }),
      );
      return;
    }

    if (current.dropAfterForward && current.dropAfterForward.requests > 0) {
      current.dropAfterForward.requests--;
      counts.dropped++;
      await forward(req, body);
      req.socket.destroy();
      return;
    }

    if (current.rejectItems && current.rejectItems.requests > 0) {
      current.rejectItems.requests--;
      const every = current.rejectItems.every;
      const lines = body.toString('utf8').split('\n').filter(Boolean);
      const kept: string[] = [];
      const held: boolean[] = [];
      for (let i = 0; i < lines.length; i += 2) {
        const hold = (i / 2) % every === every - 1;
        held.push(hold);
        if (!hold) kept.push(lines[i]!, lines[i + 1]!);
      }
      let items: unknown[] = [];
      let errors = false;
      if (kept.length > 0) {
        const answer = await forward(req, Buffer.from(`${kept.join('\n')}\n`));
        const parsed = JSON.parse(answer.body.toString('utf8')) as { errors?: boolean; items?: unknown[] };
        items = parsed.items ?? [];
        errors = parsed.errors === true;
      }
      const merged: unknown[] = [];
      let next = 0;
      for (const hold of held) {
        if (hold) {
          counts.itemsRejected++;
          merged.push({
            create: {
              status: 429,
              error: { type: 'es_rejected_execution_exception', reason: 'rejected execution (fault proxy)' },
            },
          });
          errors = true;
        } else {
          merged.push(items[next++]);
        }
      }
      send(res, 200, json, JSON.stringify({ errors, items: merged }));
      return;
    }

    const answer = await forward(req, body);
    send(res, answer.status, answer.headers, answer.body);
  }

  server.on('connection', (socket) => {
    if (isDown) {
      counts.refused++;
      socket.resetAndDestroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    plan(next) {
      current = structuredClone(next);
    },
    down() {
      isDown = true;
      // Kept-alive connections die too, as they do when a node stops.
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    up() {
      isDown = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
