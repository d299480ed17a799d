import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../errors.js';
import { withTimeout } from '../timeout.js';
import type { Metrics } from './metrics.js';

export type ReadinessCheck = { name: string; check: () => Promise<void> };

/**
 * /metrics (Prometheus text), /healthz (the process is alive) and /readyz (every sink and queue answers)
 * for the long-running mode. Readiness results are cached briefly so that a scraping load balancer does
 * not turn into load on the SIEM; probes that arrive while a round of checks runs share it, and each
 * check is bounded by `checkTimeoutMs`, so that a SIEM that accepts connections but never answers makes
 * the process not ready instead of piling up probes that hang.
 */
export async function startObserveServer(options: {
  port: number;
  host?: string;
  metrics: Metrics;
  checks: ReadinessCheck[];
  cacheMs?: number;
  checkTimeoutMs?: number;
}): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const cacheMs = options.cacheMs ?? 5000;
  const timeoutMs = options.checkTimeoutMs ?? 3000;
  type Readiness = { ready: boolean; checks: Record<string, string> };
  let cached: { at: number; body: Readiness } | undefined;
  let round: Promise<Readiness> | undefined;
  // A check that outlived its time-out is not started again while it still runs: the next round waits
  // on the same call (with a time-out of its own), so a hung dependency holds one call, not one per round.
  const running = new Map<ReadinessCheck, Promise<void>>();

  const runCheck = (c: ReadinessCheck): Promise<void> => {
    let call = running.get(c);
    if (!call) {
      // A check that throws instead of rejecting still counts as a failed check.
      const started = Promise.resolve().then(() => c.check());
      call = started;
      running.set(c, started);
      started.then(
        () => running.delete(c),
        () => running.delete(c),
      );
    }
    return call;
  };

  const bounded = (c: ReadinessCheck): Promise<string> => {
    const answered = runCheck(c).then(
      () => 'ok',
      (err: unknown) => errorMessage(err),
    );
    return withTimeout(answered, timeoutMs, `no answer within ${timeoutMs} ms`, { unref: true });
  };

  const evaluate = async (): Promise<Readiness> => {
    const results = await Promise.all(options.checks.map(async (c) => [c.name, await bounded(c)] as const));
    const body = { ready: results.every(([, r]) => r === 'ok'), checks: Object.fromEntries(results) };
    cached = { at: Date.now(), body };
    return body;
  };

  const readiness = (): Promise<Readiness> => {
    if (cached && Date.now() - cached.at < cacheMs) return Promise.resolve(cached.body);
    round ??= evaluate().finally(() => {
      round = undefined;
    });
    return round;
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
