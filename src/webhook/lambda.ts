import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { FastifyInstance } from 'fastify';
import { loadConfig, resolveSecretArns } from '../config/index.js';
import { useProxyConfig } from '../network/index.js';
import { alertDocument, createLogger, type Logger, setLogger } from '../observe/index.js';
import { type ActionOutcome, createResponseRunner, type ResponseRunner } from '../respond/index.js';
import { isScheduledEvent, type ScheduledEvent } from '../scheduled-event.js';
import { createWebhookApp } from './app.js';
import { resolveWebhookSecrets } from './secrets.js';

/**
 * Serves API Gateway HTTP API (payload v2) and Lambda function URL events with the same fastify app as
 * `webhook serve`, through `inject`: the same authentication, limits and answers, no socket.
 */
export function createLambdaHandler(app: Promise<FastifyInstance> | FastifyInstance) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const instance = await app;
    const body =
      event.body === undefined
        ? undefined
        : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(event.headers ?? {}))
      if (value !== undefined) headers[name.toLowerCase()] = value;
    if (event.cookies?.length) headers.cookie = event.cookies.join('; ');
    const response = await instance.inject({
      method: event.requestContext.http.method as 'POST',
      url: event.rawQueryString ? `${event.rawPath}?${event.rawQueryString}` : event.rawPath,
      headers,
      ...(body === undefined ? {} : { payload: body }),
      // The rate limit keys on the caller's address as API Gateway saw it.
      remoteAddress: event.requestContext.http.sourceIp,
    });
    return {
      statusCode: response.statusCode,
      headers: { 'content-type': String(response.headers['content-type'] ?? 'application/json') },
      body: response.body,
    };
  };
}

export { isScheduledEvent, type ScheduledEvent };

function isHttpEvent(event: unknown): event is APIGatewayProxyEventV2 {
  if (!isPlainObject(event)) return false;
  const context = (event as { requestContext?: unknown }).requestContext;
  return (
    typeof (event as { rawPath?: unknown }).rawPath === 'string' &&
    isPlainObject(context) &&
    isPlainObject((context as { http?: unknown }).http) &&
    typeof (context as { http: { method?: unknown } }).http.method === 'string'
  );
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The answer to a scheduled invocation (EventBridge ignores it; it shows in a test invoke). */
export interface SweepAnswer {
  sweep: 'done' | 'skipped';
  reason?: string;
  outcomes: ActionOutcome[];
}

export interface WebhookLambdaDeps {
  /** Built on the first HTTP request only, so a scheduled sweep needs no webhook secret. */
  app: () => Promise<FastifyInstance>;
  runner: Pick<ResponseRunner, 'sweep'>;
  /** Dry run changes nothing in AWS, removing expired blocks included (as with `webhook serve`). */
  dryRun: boolean;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/**
 * One function, two kinds of invocation: HTTP requests (function URL, API Gateway) are alerts and go
 * through the app with its authentication; an EventBridge schedule removes expired WAF blocks from the
 * shared action store, then the records finished longer than `respond.stateRetentionDays` ago. Anything
 * else is refused without touching either.
 */
export function createWebhookLambda(deps: WebhookLambdaDeps) {
  let http: ReturnType<typeof createLambdaHandler> | undefined;
  return async (event: unknown): Promise<APIGatewayProxyStructuredResultV2 | SweepAnswer> => {
    if (isScheduledEvent(event)) return sweep(deps, event);
    if (isHttpEvent(event)) {
      http ??= createLambdaHandler(
        deps.app().catch((err: unknown) => {
          http = undefined; // a later request tries again (e.g. once the secret exists)
          throw err;
        }),
      );
      return http(event);
    }
    deps.log.warn(
      { keys: isPlainObject(event) ? Object.keys(event).slice(0, 20) : typeof event },
      'webhook Lambda invoked with an event that is neither an HTTP request nor a scheduled event: ignored',
    );
    return {
      statusCode: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: 'UNSUPPORTED_EVENT', message: 'not an HTTP request or a schedule' }),
    };
  };
}

async function sweep(deps: WebhookLambdaDeps, event: ScheduledEvent): Promise<SweepAnswer> {
  if (deps.dryRun) {
    const reason = 'dry run (respond.dryRun is true): expired WAF blocks are left until `respond sweep`';
    deps.log.info({ rule: event.resources[0] }, `TTL sweep skipped: ${reason}`);
    return { sweep: 'skipped', reason, outcomes: [] };
  }
  try {
    const outcomes = await deps.runner.sweep();
    deps.log.info(
      {
        rule: event.resources[0],
        swept: outcomes.length,
        failed: outcomes.filter((o) => o.status === 'failed').length,
      },
      'TTL sweep done',
    );
    return { sweep: 'done', outcomes };
  } catch (err) {
    // Thrown on: the invocation fails, Lambda's Errors metric counts it and EventBridge retries.
    deps.log.error({ err, rule: event.resources[0] }, 'TTL sweep failed');
    throw err;
  }
}

let built: Promise<ReturnType<typeof createWebhookLambda>> | undefined;

/**
 * The deployed entry point. Config from the environment (the templates set every key the function needs)
 * and, optionally, ASC_CONFIG_FILE bundled with the function. In Lambda the audit log defaults to stdout
 * and the action store should be `respond.stateS3` (ASC_RESPOND_STATE_S3), shared by every container.
 */
export async function handler(event: unknown): Promise<APIGatewayProxyStructuredResultV2 | SweepAnswer> {
  built ??= buildWebhookLambda().catch((err: unknown) => {
    built = undefined;
    throw err;
  });
  return (await built)(event);
}

async function buildWebhookLambda(): Promise<ReturnType<typeof createWebhookLambda>> {
  // Secrets arrive as Secrets Manager ARNs in a deployed function; the webhook reads them from the env.
  Object.assign(process.env, await resolveSecretArns(process.env));
  const config = loadConfig({ file: process.env.ASC_CONFIG_FILE });
  const log = createLogger(config.observe.logLevel);
  setLogger(log);
  useProxyConfig(config.proxy, { log });
  const runner = createResponseRunner(config, { log });
  log.info(
    {
      dryRun: config.respond.dryRun,
      enabled: config.respond.enabled,
      state: config.respond.stateS3 ?? config.respond.stateFile ?? 'container-local',
    },
    'webhook Lambda ready',
  );
  return createWebhookLambda({
    runner,
    dryRun: config.respond.dryRun,
    log,
    app: () =>
      createWebhookApp(config.webhook, {
        runner,
        secrets: resolveWebhookSecrets(config.webhook),
        log,
        // One JSON line per accepted alert on stdout: the deployment's AlertsReceived metric filter
        // counts `event.kind = "alert"`.
        onAlert: (alert) =>
          void process.stdout.write(
            `${JSON.stringify(alertDocument({ rule: alert.ruleName, id: alert.alertId, route: alert.route }))}\n`,
          ),
      }),
  });
}
