import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateIPSetCommand, GetIPSetCommand } from '@aws-sdk/client-wafv2';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.js';
import {
  ActionAlreadyRecordedError,
  createResponseRunner,
  MemoryAuditLog,
  type ResponseRunner,
  S3ActionStore,
} from '../../src/respond/index.js';
import { createWebhookLambda } from '../../src/webhook/index.js';
import { motoClients, runId } from './respond-helpers.js';
import { runCli, writeConfig } from './support/cli.js';

/**
 * The webhook Lambda's action store on S3 (moto): receivers in different containers share it, a person's
 * `respond undo` (the CLI, configured as the stack output says) reads it, and the scheduled sweep expires
 * blocks from it.
 */

const { aws, clients } = motoClients();
const bucket = `asc-state-${runId}`;
const stateS3 = `s3://${bucket}/response-state/${randomUUID().slice(0, 8)}`;
const requester = { source: 'webhook:kibana', rule: 'AWS Console Brute Force' };
let ipv4Set: { name: string; id: string; arn: string };

async function addresses(): Promise<string[]> {
  const out = await clients.waf.send(
    new GetIPSetCommand({ Name: ipv4Set.name, Id: ipv4Set.id, Scope: 'REGIONAL' }),
  );
  return out.IPSet?.Addresses ?? [];
}

async function stateObjects(): Promise<string[]> {
  const prefix = `${stateS3.slice(`s3://${bucket}/`.length)}/records/`;
  const out = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!.slice(prefix.length).replace(/^[0-9a-f]{64}/, 'KEY'));
}

/** One webhook container: its own runner and store instance over the shared prefix. */
function container(now: () => Date = () => new Date(), respond: Record<string, unknown> = {}) {
  const config = validateConfig({
    aws,
    respond: {
      dryRun: false,
      enabled: { 'waf-block-ip': true },
      waf: { ipv4Set: ipv4Set.arn, ttlSeconds: 900 },
      stateS3,
      ...respond,
    },
  });
  const audit = new MemoryAuditLog();
  return { runner: createResponseRunner(config, { clients, audit, now }), audit };
}

const alert = (alertId: string, target: string) => ({
  action: 'waf-block-ip' as const,
  target,
  alertId,
  requester,
  mode: 'auto' as const,
});

/** What the stack's schedule rule does: invoke the webhook Lambda (over `runner`) with a Scheduled Event. */
function scheduledSweep(runner: ResponseRunner) {
  const lambda = createWebhookLambda({
    runner,
    dryRun: false,
    log: { info: () => {}, warn: () => {}, error: () => {} },
    app: async () => {
      throw new Error('a scheduled event must not build the app');
    },
  });
  return lambda({
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:123456789012:rule/asc-ttl-sweep'],
    detail: {},
  });
}

beforeAll(async () => {
  await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const name = `asc-state-it-${runId}`;
  const created = await clients.waf.send(
    new CreateIPSetCommand({ Name: name, Scope: 'REGIONAL', IPAddressVersion: 'IPV4', Addresses: [] }),
  );
  ipv4Set = { name, id: created.Summary!.Id!, arn: created.Summary!.ARN! };
});

describe('the S3 action store against moto', () => {
  it('a second container skips what the first applied; the CLI undo reverts it', async () => {
    const first = container();
    expect(await first.runner.run(alert('k-1', '45.155.204.60'))).toMatchObject({ status: 'applied' });
    const second = container();
    const repeat = await second.runner.run(alert('k-1', '45.155.204.60'));
    expect(repeat).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('already applied for alert k-1'),
    });
    expect(await addresses()).toEqual(['45.155.204.60/32']);
    expect(await stateObjects()).toEqual(['KEY/000001.applied.json']);

    // As a person runs it: the stack's ResponseStateLocation and IP set in the environment.
    const { file } = writeConfig('respond-state-s3', () => ({ aws }));
    const { stdout } = await runCli(
      ['respond', 'undo', 'waf-block-ip', '45.155.204.60', '--config', file, '--json'],
      { env: { ASC_RESPOND_STATE_S3: stateS3, ASC_WAF_IP_SET_ARN: ipv4Set.arn, ASC_RESPOND_AUDIT_LOG: '-' } },
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // Audit lines (`-` = stdout) and then the outcome.
    expect(lines.map((l) => l.event ?? l.status)).toEqual(['undoing', 'undone', 'undone']);
    expect(lines.at(-1)).toMatchObject({ status: 'undone', target: '45.155.204.60/32' });
    expect(await addresses()).toEqual([]);
    expect(await stateObjects()).toEqual(['KEY/000001.applied.json', 'KEY/000001.undone.json']);

    // Undone, the alert no longer answers for itself: still firing, it acts again (a new generation).
    expect((await second.runner.run(alert('k-1', '45.155.204.60'))).status).toBe('applied');
    expect(await stateObjects()).toContain('KEY/000002.applied.json');
    expect((await first.runner.undo('waf-block-ip', '45.155.204.60', { source: 'cli' })).status).toBe(
      'undone',
    );
  });

  it('the scheduled sweep in any container removes a block once its TTL has passed', async () => {
    const clock = { t: Date.now() };
    const { runner } = container(() => new Date(clock.t));
    await runner.run(alert('ttl-1', '45.155.204.61'));
    expect(await addresses()).toEqual(['45.155.204.61/32']);

    const sweepAt = (now: number) => scheduledSweep(container(() => new Date(now)).runner);
    expect(await sweepAt(clock.t + 60_000)).toEqual({ sweep: 'done', outcomes: [] });
    expect(await addresses()).toEqual(['45.155.204.61/32']);
    const swept = await sweepAt(clock.t + 901_000);
    expect(swept).toMatchObject({
      sweep: 'done',
      outcomes: [{ status: 'undone', target: '45.155.204.61/32' }],
    });
    expect(await addresses()).toEqual([]);
    expect(await new S3ActionStore(clients.s3, stateS3).allActive()).toEqual([]);
  });

  it('moto honours If-None-Match: a record whose list came too late is refused by the conditional put', async () => {
    const store = new S3ActionStore(clients.s3, stateS3);
    const record = {
      key: `race-${runId}`,
      action: 'waf-block-ip' as const,
      target: '45.155.204.62/32',
      alertId: 'race',
      requester,
      appliedAt: new Date().toISOString(),
      prior: {},
    };
    await store.add(record);
    await expect(store.add(record)).rejects.toBeInstanceOf(ActionAlreadyRecordedError);
    // A list that has not seen the first put (the other container's race): only S3's precondition stops it.
    const staleList = {
      send: (command: { constructor: { name: string } }) =>
        command.constructor.name === 'ListObjectsV2Command'
          ? Promise.resolve({ Contents: [] })
          : clients.s3.send(command as never),
    } as unknown as S3Client;
    await expect(new S3ActionStore(staleList, stateS3).add(record)).rejects.toBeInstanceOf(
      ActionAlreadyRecordedError,
    );
  });
});

describe('retention of finished records in the S3 store (moto, versioned like the template’s bucket)', () => {
  const versioned = `asc-state-v-${runId}`;
  const location = `s3://${versioned}/response-state`;
  const root = 'response-state/records/';
  const DAY = 86_400_000;

  beforeAll(async () => {
    await clients.s3.send(new CreateBucketCommand({ Bucket: versioned }));
    await clients.s3.send(
      new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Enabled' } }),
    );
  });

  const current = async () =>
    ((await clients.s3.send(new ListObjectsV2Command({ Bucket: versioned, Prefix: root }))).Contents ?? [])
      .map((o) => o.Key!.slice(root.length).replace(/^[0-9a-f]{64}/, 'KEY'))
      .sort();

  it('the scheduled sweep deletes a block it expired once the retention has passed, and keeps the live one', async () => {
    const start = Date.now();
    const runnerAt = (t: number) =>
      container(() => new Date(t), { stateS3: location, stateRetentionDays: 1 }).runner;
    const first = runnerAt(start);
    expect((await first.run(alert('ret-1', '45.155.204.70'))).status).toBe('applied');
    expect((await first.run({ ...alert('ret-2', '45.155.204.71'), ttlSeconds: 0 })).status).toBe('applied');

    const sweepAt = (t: number) => scheduledSweep(runnerAt(t));

    // The TTL passes: the block is removed and its record marked undone (moto's clock dates the marker).
    expect(await sweepAt(start + 901_000)).toMatchObject({
      outcomes: [{ status: 'undone', target: '45.155.204.70/32' }],
    });
    expect(await addresses()).toEqual(['45.155.204.71/32']);
    const all = ['KEY/000001.applied.json', 'KEY/000001.applied.json', 'KEY/000001.undone.json'];
    expect(await current()).toEqual(all);

    // Within the retention nothing goes.
    await sweepAt(Date.now() + DAY - 60_000);
    expect(await current()).toEqual(all);

    // A day after the undo, the finished record goes; the live block (no TTL) stays, however old.
    await sweepAt(Date.now() + DAY + 60_000);
    expect(await current()).toEqual(['KEY/000001.applied.json']);
    const live = await new S3ActionStore(clients.s3, location).allActive();
    expect(live.map((r) => r.alertId)).toEqual(['ret-2']);

    // Deleted in a versioned bucket: delete markers over the old versions, which the bucket's lifecycle
    // rule expires (the webhook role may not delete versions).
    const versions = await clients.s3.send(
      new ListObjectVersionsCommand({ Bucket: versioned, Prefix: root }),
    );
    expect(versions.DeleteMarkers?.map((m) => m.Key!.slice(root.length + 65)).sort()).toEqual([
      '000001.applied.json',
      '000001.undone.json',
    ]);

    // What stays still reverts; the alert of the removed record, still firing, acts again.
    const later = runnerAt(Date.now() + 2 * DAY);
    expect((await later.undo('waf-block-ip', '45.155.204.71', { source: 'cli' })).status).toBe('undone');
    expect((await later.run(alert('ret-1', '45.155.204.70'))).status).toBe('applied');
    expect(await addresses()).toEqual(['45.155.204.70/32']);
    expect((await later.undo('waf-block-ip', '45.155.204.70', { source: 'cli' })).status).toBe('undone');
  });
});
