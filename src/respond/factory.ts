import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectorConfig } from '../config/index.js';
import { type AuditSink, auditLogTarget, createAuditLog } from './audit.js';
import { createResponseClients, type ResponseClients, type StaticCredentials } from './clients.js';
import type { RespondConfig } from './config.js';
import { Ec2IsolateResponder } from './ec2.js';
import { IamDisableResponder } from './iam.js';
import { type ActionRequest, ResponseRunner, type RunnerDeps } from './runner.js';
import { S3ActionStore } from './s3-store.js';
import { type ActionStore, JsonlActionStore } from './store.js';
import { WafBlockResponder, type WafResponderOptions } from './waf.js';

export interface ResponseRunnerOptions {
  /** Injected SDK clients (tests); by default built from `config.aws`. */
  clients?: ResponseClients;
  credentials?: StaticCredentials;
  audit?: AuditSink;
  store?: ActionStore;
  log?: RunnerDeps['log'];
  now?: () => Date;
  /** Test hook passed to the WAF responder. */
  wafBeforeUpdate?: WafResponderOptions['beforeUpdate'];
  /** Decides the Lambda defaults of the audit log and the state file (tests); `process.env` otherwise. */
  env?: NodeJS.ProcessEnv;
}

/** Builds the runner with its three responders, store and audit log from validated config. */
export function createResponseRunner(
  config: ConnectorConfig,
  options: ResponseRunnerOptions = {},
): ResponseRunner {
  const clients = options.clients ?? createResponseClients(config.aws, config.respond, options.credentials);
  const now = options.now;
  const env = options.env ?? process.env;
  return new ResponseRunner(config.respond, {
    responders: {
      'waf-block-ip': new WafBlockResponder({
        client: clients.waf,
        config: config.respond.waf,
        ...(options.wafBeforeUpdate ? { beforeUpdate: options.wafBeforeUpdate } : {}),
      }),
      'iam-disable-user': new IamDisableResponder({
        client: clients.iam,
        config: config.respond.iam,
        ...(now ? { now } : {}),
      }),
      'ec2-isolate': new Ec2IsolateResponder({
        ec2: clients.ec2,
        iam: clients.iam,
        autoScaling: clients.autoScaling,
        config: config.respond.ec2,
        ...(now ? { now } : {}),
      }),
    },
    store: options.store ?? createActionStore(config.respond, clients, { env, log: options.log }),
    audit: options.audit ?? createAuditLog(auditLogTarget(config.respond, env)),
    log: options.log,
    ...(now ? { now } : {}),
  });
}

/**
 * The store `respond.stateS3` or `respond.stateFile` names. With neither, Lambda gets a file in the
 * temporary directory (its code directory is read-only), which lives as long as one container: said
 * loudly, because idempotency, undo and TTL sweeps then do not span containers.
 */
export function createActionStore(
  respond: Pick<RespondConfig, 'stateFile' | 'stateS3'>,
  clients: Pick<ResponseClients, 's3'>,
  options: { env?: NodeJS.ProcessEnv; log?: RunnerDeps['log'] } = {},
): ActionStore {
  if (respond.stateS3) return new S3ActionStore(clients.s3, respond.stateS3);
  if (respond.stateFile) return new JsonlActionStore(respond.stateFile);
  if ((options.env ?? process.env).AWS_LAMBDA_FUNCTION_NAME) {
    const file = join(tmpdir(), 'asc-respond-state.jsonl');
    options.log?.warn(
      { stateFile: file },
      'respond.stateS3 is not set: the action store lives in this Lambda container only, so idempotency, undo and TTL sweeps do not survive it',
    );
    return new JsonlActionStore(file);
  }
  return new JsonlActionStore('audit/state.jsonl');
}

export type { ActionRequest };
