import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { CreateIPSetCommand } from '@aws-sdk/client-wafv2';
import { validateConfig } from '../../src/config/index.js';
import {
  createResponseClients,
  createResponseRunner,
  JsonlAuditLog,
  type ResponseRunnerOptions,
} from '../../src/respond/index.js';
import { JsonlActionStore } from '../../src/respond/store.js';
import { serviceEndpoints } from '../services/endpoints.js';

export const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** Unique per run, so files that share the one moto server never see each other's resources. */
export const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

export function motoClients() {
  const aws = { region: 'us-east-1', endpoint: serviceEndpoints().moto.url, forcePathStyle: true };
  return { aws, clients: createResponseClients(aws, { waf: { scope: 'REGIONAL' } } as never, credentials) };
}

export async function createIpSets(clients: ReturnType<typeof motoClients>['clients'], name: string) {
  const v4 = await clients.waf.send(
    new CreateIPSetCommand({
      Name: `${name}-v4`,
      Scope: 'REGIONAL',
      IPAddressVersion: 'IPV4',
      Addresses: [],
      Description: 'blocked by aws-siem-connector',
    }),
  );
  const v6 = await clients.waf.send(
    new CreateIPSetCommand({
      Name: `${name}-v6`,
      Scope: 'REGIONAL',
      IPAddressVersion: 'IPV6',
      Addresses: [],
    }),
  );
  return {
    ipv4Set: { name: `${name}-v4`, id: v4.Summary!.Id! },
    ipv6Set: { name: `${name}-v6`, id: v6.Summary!.Id! },
  };
}

/** A role EC2 instances may assume (an instance profile's role). */
export async function createEc2Role(clients: ReturnType<typeof motoClients>['clients'], name: string) {
  await clients.iam.send(
    new CreateRoleCommand({
      RoleName: name,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
    }),
  );
}

/** A runner over moto with live actions, its store and audit in a fresh directory. */
export function liveRunner(
  respond: Record<string, unknown>,
  options: Omit<ResponseRunnerOptions, 'clients'> = {},
) {
  const { aws, clients } = motoClients();
  const dir = mkdtempSync(join(tmpdir(), 'asc-respond-it-'));
  const config = validateConfig({
    aws,
    respond: {
      dryRun: false,
      enabled: { 'waf-block-ip': true, 'iam-disable-user': true, 'ec2-isolate': true },
      auditLog: join(dir, 'audit.jsonl'),
      stateFile: join(dir, 'state.jsonl'),
      ...respond,
    },
  });
  const runner = createResponseRunner(config, {
    clients,
    store: new JsonlActionStore(config.respond.stateFile),
    audit: new JsonlAuditLog(config.respond.auditLog!),
    ...options,
  });
  return { runner, clients, config, dir };
}
