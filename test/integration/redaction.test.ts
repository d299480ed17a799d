import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observe/index.js';
import { createResponseRunner } from '../../src/respond/index.js';
import { cloudTrailObjectText, generateCloudTrailRecords } from '../../src/samples/index.js';
import { createWebhookApp, signBody } from '../../src/webhook/index.js';
import { serviceEndpoints } from '../services/endpoints.js';
import { createLogBucket, putObject, queueDepth, waitFor } from './support/aws.js';
import { counterValue, LogCapture, type RunningConsumer, startConsumer } from './support/consumer.js';

// Every secret is unique to this run, so finding one in a log can only mean it leaked.
const run = randomUUID().replaceAll('-', '');
const SECRETS = {
  searchPassword: `pw-${run}-search`,
  searchApiKey: `ak-${run}-search`,
  wrongHecToken: `hec-${run}-wrong`,
  webhookToken: `wh-${run}-token`,
  webhookHmac: `hm-${run}-hmac-secret`,
};
const realHecToken = serviceEndpoints().hec.token;

const running: RunningConsumer[] = [];
afterAll(async () => {
  await Promise.allSettled(running.map((c) => c.stop()));
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function assertNoSecret(text: string, secrets: string[]): void {
  expect(text.length).toBeGreaterThan(0);
  for (const secret of secrets) {
    expect(text, `a log line holds ${secret.slice(0, 6)}…`).not.toContain(secret);
    // A secret cut short in a message is still a leak: no 12-character piece of it may appear either.
    expect(text).not.toContain(secret.slice(-12));
  }
}

function ctObject(seed: number) {
  return gzipSync(cloudTrailObjectText(generateCloudTrailRecords({ seed, count: 10 })));
}

describe('no secret reaches a log line', () => {
  it('a working pipeline with a search password and the HEC token, logging at debug', async () => {
    const services = serviceEndpoints();
    const target = await createLogBucket();
    const prefix = `redact-${run.slice(0, 6)}`;
    await putObject(target, 'AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/r1.json.gz', ctObject(801));
    const consumer = await startConsumer({
      aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
      source: { sqs: { queueUrls: [target.queueUrl], waitTimeSeconds: 1, shutdownGraceSeconds: 2 } },
      sinks: {
        // The test node has no security plugin: it ignores the credentials, the client still sends them.
        search: {
          flavour: 'opensearch',
          node: services.opensearch.url,
          auth: { username: 'admin', password: SECRETS.searchPassword },
          target: { mode: 'index', pattern: `${prefix}-{logType}` },
          flushIntervalMs: 100,
          setup: { auto: true, templatePrefix: prefix },
        },
        hec: { urls: [services.hec.url], token: realHecToken, batch: { maxAgeMs: 100 } },
      },
      deadLetter: { dir: `.cache/test-dead-letter/${prefix}` },
      observe: { logLevel: 'debug' },
    });
    running.push(consumer);
    await waitFor('the object delivered', async () => {
      const { visible, inFlight } = await queueDepth(target.sqs, target.queueUrl);
      return visible + inFlight === 0 && (await counterValue(consumer.metrics, 'asc_objects_total')) === 1;
    });
    // The consumer logged its configuration-bearing start-up lines; the delivered object too.
    expect(consumer.logs.lines.length).toBeGreaterThan(0);
    assertNoSecret(consumer.logs.text(), [SECRETS.searchPassword, realHecToken]);
  });

  it('failing sinks (a refused HEC token, an API key to a closed port) log errors, never the secrets', async () => {
    const services = serviceEndpoints();
    const target = await createLogBucket();
    const prefix = `redact-f-${run.slice(0, 6)}`;
    await putObject(target, 'AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/r2.json.gz', ctObject(802));
    const consumer = await startConsumer({
      aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
      source: {
        sqs: {
          queueUrls: [target.queueUrl],
          waitTimeSeconds: 1,
          visibilityTimeout: 10,
          shutdownGraceSeconds: 0,
        },
      },
      sinks: {
        search: {
          flavour: 'opensearch',
          node: `http://127.0.0.1:${await closedPort()}`,
          auth: { apiKey: SECRETS.searchApiKey },
          target: { mode: 'index', pattern: `${prefix}-{logType}` },
          flushIntervalMs: 100,
          setup: { auto: false },
          retry: { initialDelayMs: 50, maxDelayMs: 200, maxElapsedMs: 1_000 },
        },
        hec: {
          urls: [services.hec.url],
          token: SECRETS.wrongHecToken,
          batch: { maxAgeMs: 100 },
          retry: { initialDelayMs: 50, maxDelayMs: 200, windowMs: 1_000 },
        },
      },
      deadLetter: { dir: `.cache/test-dead-letter/${prefix}` },
      observe: { logLevel: 'debug' },
    });
    running.push(consumer);
    await waitFor(
      'the failures logged as errors or warnings',
      async () => {
        const text = consumer.logs.text();
        return consumer.logs.lines.some((l) => Number(l.level) >= 40) && text.includes('"sink":"hec"');
      },
      30_000,
    );
    await waitFor(
      'the message returned for redelivery',
      async () => {
        return (await counterValue(consumer.metrics, 'asc_sqs_messages_returned_total')) >= 1;
      },
      30_000,
    );
    assertNoSecret(consumer.logs.text(), [SECRETS.searchApiKey, SECRETS.wrongHecToken, realHecToken]);
  });

  it('the webhook, with accepted and refused alerts (token in header and query, HMAC), logs neither secret', async () => {
    const logs = new LogCapture();
    const log = createLogger('debug', logs);
    const config = validateConfig({
      aws: { region: 'us-east-1', endpoint: serviceEndpoints().moto.url },
      respond: { dryRun: true },
      webhook: {
        token: SECRETS.webhookToken,
        policy: [{ match: { rules: ['Redaction Rule'] }, action: 'waf-block-ip', targets: ['source.ip'] }],
      },
    });
    const app = await createWebhookApp(config.webhook, {
      runner: createResponseRunner(config, { log }),
      secrets: { token: SECRETS.webhookToken, hmacSecret: SECRETS.webhookHmac },
      log,
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const kibana = JSON.stringify({
        rule: { id: 'r', name: 'Redaction Rule' },
        alert: { id: 'r', uuid: run },
        alerts: [{ source: { ip: '45.155.205.77' } }],
      });
      const ok = await fetch(`${base}/alerts/kibana`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SECRETS.webhookToken}`, 'content-type': 'application/json' },
        body: kibana,
      });
      expect(ok.status).toBe(202);
      const splunk = await fetch(`${base}/alerts/splunk?token=${SECRETS.webhookToken}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          sid: 's',
          search_name: 'Redaction Rule',
          result: { 'source.ip': '45.155.205.78' },
        }),
      });
      expect(splunk.status).toBe(202);
      const wrong = await fetch(`${base}/alerts/kibana`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SECRETS.webhookToken}x`, 'content-type': 'application/json' },
        body: kibana,
      });
      expect(wrong.status).toBe(401);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const generic = JSON.stringify({ rule: 'Redaction Rule', fields: { 'source.ip': '45.155.205.79' } });
      const signed = await fetch(`${base}/alerts/generic`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-asc-timestamp': timestamp,
          'x-asc-signature': `sha256=${signBody(SECRETS.webhookHmac, timestamp, generic)}`,
        },
        body: generic,
      });
      expect(signed.status).toBeLessThan(500);
    } finally {
      await app.close();
    }
    expect(logs.text()).toContain('/alerts/kibana');
    expect(logs.lines.some((l) => l.status === 401)).toBe(true);
    assertNoSecret(logs.text(), [SECRETS.webhookToken, SECRETS.webhookHmac]);
  });
});
