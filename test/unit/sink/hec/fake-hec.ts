import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** What one request to the fake looked like, decoded. */
export interface SeenRequest {
  path: string;
  headers: IncomingMessage['headers'];
  events: Record<string, unknown>[];
  raw: string;
  /** The client's port: one per connection. */
  remotePort: number | undefined;
}

export type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'destroy';

/** A scripted HEC stand-in for unit tests: each handler decides the reply from the decoded request. */
export interface FakeHec {
  url: string;
  requests: SeenRequest[];
  onEvent: (req: SeenRequest, n: number) => Reply | Promise<Reply>;
  onAck: (ids: number[], req: SeenRequest) => Reply;
  onHealth: () => Reply;
  /** GET /services/collector/health requests seen. */
  healthChecks: number;
  close(): Promise<void>;
}

export function parseStacked(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** `tls`: serve HTTPS with these options (key and certificate; `requestCert` to ask for the client's). */
export async function startFakeHec(options: { tls?: HttpsServerOptions } = {}): Promise<FakeHec> {
  let server: Server;
  const fake: FakeHec = {
    url: '',
    requests: [],
    onEvent: () => ({ status: 200, body: { text: 'Success', code: 0 } }),
    onAck: (ids) => ({ status: 200, body: { acks: Object.fromEntries(ids.map((id) => [id, true])) } }),
    onHealth: () => ({ status: 200, body: { text: 'HEC is healthy', code: 17 } }),
    healthChecks: 0,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Every socket, also those whose TLS handshake never finished (the server does not track them).
        for (const socket of sockets) socket.destroy();
      }),
  };
  let eventCount = 0;
  const sockets = new Set<Socket>();
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const raw = body.toString('utf8');
      const path = req.url ?? '';
      const seen: SeenRequest = {
        path,
        headers: req.headers,
        events: [],
        raw,
        remotePort: req.socket.remotePort,
      };
      let reply: Reply;
      if (path.startsWith('/services/collector/ack')) {
        reply = fake.onAck((JSON.parse(raw) as { acks: number[] }).acks, seen);
      } else if (path.startsWith('/services/collector/health')) {
        fake.healthChecks++;
        reply = fake.onHealth();
      } else {
        seen.events = parseStacked(raw);
        fake.requests.push(seen);
        reply = await fake.onEvent(seen, eventCount++);
      }
      if (reply === 'destroy') {
        req.socket.destroy();
        return;
      }
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(text);
    });
  };
  server = options.tls ? createHttpsServer(options.tls, handle) : createServer(handle);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const scheme = options.tls ? 'https' : 'http';
  fake.url = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
