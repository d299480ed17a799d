import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

export interface BusyProxy {
  url: string;
  /** Event posts answered with 503 instead of being forwarded. */
  refused(): number;
  close(): Promise<void>;
}

/** Request headers that describe the request itself; the rest (host, connection, length) are hop-by-hop. */
const FORWARDED = ['authorization', 'content-type', 'content-encoding', 'x-splunk-request-channel'];

function forwardable(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED) {
    const value = headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

/**
 * A HEC endpoint under load, in front of a real receiver: every `nth` event post is answered with what a
 * busy Splunk indexer answers (HTTP 503, HEC code 9) and not forwarded; everything else is passed on.
 * It shows what each client does with the refused batches: resend them or lose them.
 */
export async function startBusyProxy(target: string, nth: number): Promise<BusyProxy> {
  let posts = 0;
  let refused = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const isEventPost = req.method === 'POST' && (req.url ?? '').startsWith('/services/collector/event');
      if (isEventPost && ++posts % nth === 0) {
        refused++;
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"text":"Server is busy","code":9}');
        return;
      }
      const body = Buffer.concat(chunks);
      request(new URL(req.url ?? '/', target), {
        method: req.method as 'GET' | 'POST',
        headers: forwardable(req.headers),
        ...(body.length > 0 ? { body } : {}),
      })
        .then(async (upstream) => {
          const answer = Buffer.from(await upstream.body.arrayBuffer());
          res.writeHead(upstream.statusCode, { 'content-type': 'application/json' });
          res.end(answer);
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
