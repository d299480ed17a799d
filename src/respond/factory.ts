import type { ConnectorConfig } from '../config/index.js';
import { type AuditSink, JsonlAuditLog } from './audit.js';
import { createResponseClients, type ResponseClients, type StaticCredentials } from './clients.js';
import { Ec2IsolateResponder } from './ec2.js';
import { IamDisableResponder } from './iam.js';
import { type ActionRequest, ResponseRunner, type RunnerDeps } from './runner.js';
import { ActionStore } from './store.js';
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
}

/** Builds the runner with its three responders, store and audit log from validated config. */
export function createResponseRunner(
  config: ConnectorConfig,
  options: ResponseRunnerOptions = {},
): ResponseRunner {
  const clients = options.clients ?? createResponseClients(config.aws, config.respond, options.credentials);
  const now = options.now;
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
    store: options.store ?? new ActionStore(config.respond.stateFile),
    audit: options.audit ?? new JsonlAuditLog(config.respond.auditLog),
    log: options.log,
    ...(now ? { now } : {}),
  });
}

export type { ActionRequest };
