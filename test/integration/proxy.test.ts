import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { ListIPSetsCommand } from '@aws-sdk/client-wafv2';
import { afterEach, describe, expect, it } from 'vitest';
import { useProxyConfig } from '../../src/network/index.js';
import { s3Client } from '../../src/pipeline/build.js';
import { createResponseClients } from '../../src/respond/clients.js';
import { cloudTrailObjectText, generateCloudTrailRecords } from '../../src/samples/index.js';
import { hecOutputOffset, readHecEvents, serviceEndpoints } from '../services/endpoints.js';
import { type ForwardProxy, startForwardProxy } from '../unit/support/forward-proxy.js';
import { createLogBucket, putObject, queueDepth, waitFor } from './support/aws.js';
import { type RunningConsumer, startConsumer, testSinks } from './support/consumer.js';
import { countDocs, openSearchClient } from './support/opensearch.js';

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
  // Later tests in this file start from no proxy, whatever the machine's environment says.
  useProxyConfig(undefined, { env: {} });
});

async function proxy(credentials?: { username: string; password: string }): Promise<ForwardProxy> {
  const started = await startForwardProxy(credentials);
  running.push({ stop: () => started.close() });
  return started;
}

const hostPort = (url: string) => new URL(url).host;
const ctKey = (n: number) =>
  `AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/29/123456789012_CloudTrail_us-east-1_20261129T0600Z_${n}.json.gz`;

/** A bucket with one CloudTrail object of `count` records, and a consumer on its queue. */
async function deliverThrough(prefix: string, proxyConfig: Record<string, unknown>, count: number) {
  const target = await createLogBucket();
  const records = generateCloudTrailRecords({ seed: 4100, count });
  await putObject(target, ctKey(0), gzipSync(cloudTrailObjectText(records)));
  const config = {
    aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
    source: { sqs: { queueUrls: [target.queueUrl], visibilityTimeout: 10, waitTimeSeconds: 1 } },
    sinks: testSinks(prefix),
    deadLetter: { dir: `.cache/test-dead-letter/${prefix}` },
    proxy: proxyConfig,
  };
  // What `run` does once its config is loaded: the routes apply to every client built after it.
  useProxyConfig(config.proxy as never, { env: {} });
  const consumer: RunningConsumer = await startConsumer(config);
  running.push(consumer);
  return { target, consumer };
}

async function expectDelivered(prefix: string, target: { bucket: string }, count: number, hecStart: number) {
  const os = openSearchClient();
  await waitFor('every record in OpenSearch', async () => (await countDocs(os, `${prefix}-*`)) >= count);
  expect(await countDocs(os, `${prefix}-*`)).toBe(count);
  const hec = serviceEndpoints().hec;
  const atHec = async () =>
    (await readHecEvents(hec.outputFile, { sinceOffset: hecStart })).filter((e) =>
      String(e.source).includes(target.bucket),
    );
  await waitFor('every record at HEC', async () => (await atHec()).length >= count);
  expect(await atHec()).toHaveLength(count);
}

describe('an outbound HTTP proxy', () => {
  it('carries SQS, S3, HEC and OpenSearch traffic through CONNECT tunnels, and delivers everything', async () => {
    const forward = await proxy();
    const prefix = `px1-${randomUUID().slice(0, 6)}`;
    const hecStart = hecOutputOffset();
    const { target } = await deliverThrough(prefix, { http: forward.url }, 30);
    await expectDelivered(prefix, target, 30, hecStart);
    await waitFor('the queue to empty', async () => {
      const depth = await queueDepth(target.sqs, target.queueUrl);
      return depth.visible + depth.inFlight === 0;
    });
    const services = serviceEndpoints();
    const tunnels = new Set(forward.tunnels);
    expect(tunnels).toContain(hostPort(target.endpoint));
    expect(tunnels).toContain(hostPort(services.hec.url));
    expect(tunnels).toContain(hostPort(services.opensearch.url));
  }, 120_000);

  it('reaches NO_PROXY destinations directly and the rest through the proxy, with credentials', async () => {
    const forward = await proxy({ username: 'siem', password: 'pr0xy-s3cret' });
    const services = serviceEndpoints();
    const prefix = `px2-${randomUUID().slice(0, 6)}`;
    const hecStart = hecOutputOffset();
    const { target, consumer } = await deliverThrough(
      prefix,
      { http: forward.url, noProxy: [hostPort(services.opensearch.url)] },
      20,
    );
    await expectDelivered(prefix, target, 20, hecStart);
    const tunnels = new Set(forward.tunnels);
    expect(tunnels).not.toContain(hostPort(services.opensearch.url));
    expect(tunnels).toContain(hostPort(services.hec.url));
    expect(tunnels).toContain(hostPort(target.endpoint));
    expect(forward.refused).toBe(0);
    expect(consumer.logs.text()).not.toContain('pr0xy-s3cret');
  }, 120_000);

  it('sends AWS responses (WAF) through the proxy', async () => {
    const forward = await proxy();
    const moto = serviceEndpoints().moto.url;
    useProxyConfig({ http: forward.url }, { env: {} });
    const clients = createResponseClients(
      { region: 'us-east-1', endpoint: moto, forcePathStyle: true },
      { waf: { scope: 'REGIONAL' } as never },
      { accessKeyId: 'test', secretAccessKey: 'test' },
    );
    running.push({
      stop: async () => {
        for (const client of Object.values(clients)) client.destroy();
      },
    });
    const listed = await clients.waf.send(new ListIPSetsCommand({ Scope: 'REGIONAL' }));
    expect(Array.isArray(listed.IPSets)).toBe(true);
    expect(forward.tunnels).toContain(hostPort(moto));
  }, 60_000);

  it('a consumer whose proxy refuses its credentials does not start; the error names the proxy, not the password', async () => {
    const forward = await proxy({ username: 'siem', password: 'right-one' });
    const wrong = new URL(forward.url);
    wrong.password = 'wr0ng-s3cret';
    const target = await createLogBucket();
    const config = {
      aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
      source: { sqs: { queueUrls: [target.queueUrl], waitTimeSeconds: 1 } },
      sinks: { file: { dir: `.cache/test-proxy-${randomUUID().slice(0, 6)}` } },
      proxy: { http: wrong.href },
    };
    useProxyConfig(config.proxy, { env: {} });
    const failure = await startConsumer(config).then(
      (consumer) => {
        running.push(consumer);
        return undefined;
      },
      (err: Error) => err,
    );
    expect(failure).toBeInstanceOf(Error);
    const text = `${failure?.message} ${String((failure as { cause?: unknown })?.cause)}`;
    expect(text).toMatch(/proxy http:\/\/127\.0\.0\.1:\d+/);
    expect(text).not.toContain('wr0ng-s3cret');
  }, 60_000);

  it('fails with an error that names the proxy, not its password, when the proxy refuses the credentials', async () => {
    const forward = await proxy({ username: 'siem', password: 'right-one' });
    const wrong = new URL(forward.url);
    wrong.password = 'wr0ng-s3cret';
    const moto = serviceEndpoints().moto.url;
    useProxyConfig({ http: wrong.href }, { env: {} });
    const s3 = s3Client({ region: 'us-east-1', endpoint: moto, forcePathStyle: true });
    running.push({ stop: async () => s3.destroy() });
    const failure = await s3.send(new HeadBucketCommand({ Bucket: 'any' })).then(
      () => undefined,
      (err: Error & { code?: string }) => err,
    );
    expect(failure?.code).toBe('PROXY_TUNNEL_FAILED');
    expect(failure?.message).toMatch(
      new RegExp(
        `proxy http://127\\.0\\.0\\.1:\\d+: no tunnel to ${hostPort(moto).replace('.', '\\.')}.*407`,
      ),
    );
    expect(failure?.message).toMatch(/HTTP 407 \(proxy authentication required: check the credentials/);
    expect(failure?.message).not.toContain('wr0ng-s3cret');
    expect(forward.refused).toBeGreaterThan(0);
  }, 60_000);
});
