import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../errors.js';
import type { Metrics } from './metrics.js';

export type ReadinessCheck = { name: string; check: () => Promise<void> };

/**
 * /metrics (Prometheus text), /healthz (the process is alive) and /readyz (every sink and queue answers)
 * for the long-running mode. Readiness results are cached briefly so that a scraping load balancer does
 * not turn into load on the SIEM.
 */
export async function startObserveServer(options: {
  port: number;
  host?: string;
  metrics: Metrics;
  checks: ReadinessCheck[];
  cacheMs?: number;
}): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const cacheMs = options.cacheMs ?? 5000;
  let cached: { at: number; body: { ready: boolean; checks: Record<string, string> } } | undefined;

  const readiness = async () => {
    if (cached && Date.now() - cached.at < cacheMs) return cached.body;
    const results = await Promise.all(
      options.checks.map(async (c) => {
        try {
          await c.check();
          return [c.name, 'ok'] as const;
        } catch (err) {
          return [c.name, errorMessage(err)] as const;
        }
      }),
    );
    const body = { ready: results.every(([, r]) => r === 'ok'), checks: Object.fromEntries(results) };
    cached = { at: Date.now(), body };
    return body;
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return reply(405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') return reply(200, 'application/json', '{"status":"ok"}\n');
    if (path === '/metrics') {
      options.metrics.registry.metrics().then(
        (text) => reply(200, options.metrics.registry.contentType, text),
        (err: unknown) => reply(500, 'text/plain', `${errorMessage(err)}\n`),
      );
      return;
    }
    if (path === '/readyz') {
      readiness().then((body) =>
        reply(body.ready ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`),
      );
      return;
    }
    reply(404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', resolve);
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
