import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli.js';

/** An SQS endpoint that answers every call with "queue does not exist", as for a wrong queue URL. */
async function noSuchQueue(): Promise<{ server: Server; url: string; calls: () => number }> {
  let calls = 0;
  const server = createServer((req, res) => {
    calls++;
    req.resume();
    req.on('end', () => {
      res.writeHead(400, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender',
      });
      res.end(
        JSON.stringify({
          __type: 'com.amazonaws.sqs#QueueDoesNotExist',
          message: 'The specified queue does not exist.',
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls: () => calls };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

let sqs: Server | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await new Promise<void>((r) => (sqs ? sqs.close(() => r()) : r()));
});

describe('run', () => {
  // Loading the bundled rules for in-stream detection takes a few seconds under the test transform.
  it('closes the metrics server and everything else it started when start-up fails, and fails', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    const endpoint = await noSuchQueue();
    sqs = endpoint.server;
    const dir = mkdtempSync(join(tmpdir(), 'asc-run-'));
    const metricsPort = await freePort();
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        aws: { region: 'us-east-1', endpoint: endpoint.url },
        source: {
          sqs: { queueUrls: [`${endpoint.url}/123456789012/missing`], shutdownGraceSeconds: 1 },
        },
        sinks: { file: { dir: join(dir, 'out'), schema: 'ecs' } },
        deadLetter: { dir: join(dir, 'dead-letter') },
        detection: { alertsFile: join(dir, 'out', 'alerts.ndjson') },
        observe: { metricsPort, logLevel: 'silent', selfReportIntervalSeconds: 0 },
      }),
    );
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    let printed = '';
    try {
      code = await main(['node', 'aws-siem-connector', 'run', '--config', configFile]);
    } finally {
      printed = stderr.mock.calls.map((c) => String(c[0])).join('');
      stderr.mockRestore();
    }
    expect(endpoint.calls()).toBeGreaterThan(0);
    expect(code).toBe(1);
    expect(printed).toContain('[SQS_QUEUE_UNREACHABLE]');
    // Nothing is left to keep the process alive and answer /healthz for a consumer that never started.
    await expect(fetch(`http://127.0.0.1:${metricsPort}/healthz`)).rejects.toThrow();
  }, 30_000);
});
