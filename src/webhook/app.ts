import rateLimit from '@fastify/rate-limit';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { ConnectorError, errorMessage } from '../errors.js';
import { metrics } from '../observe/metrics.js';
import type { ActionOutcome, ResponseRunner } from '../respond/index.js';
import { bearerToken, ReplayGuard, secretEquals, timestampRefusal, verifySignature } from './auth.js';
import type { WebhookConfig } from './config.js';
import { type Alert, type PayloadRoute, parseAlert } from './payloads.js';
import { requestsFor } from './policy.js';
import type { WebhookSecrets } from './secrets.js';
import { fetchSplunkResults } from './splunk-results.js';

export interface WebhookDeps {
  runner: Pick<ResponseRunner, 'run'>;
  secrets: WebhookSecrets;
  log: Logger;
  /** Only for local tests: accept unauthenticated alerts. Logged loudly at start. */
  insecureNoAuth?: boolean;
  now?: () => number;
  /** Replaces the Splunk REST call (tests). */
  fetchSplunkResults?: typeof fetchSplunkResults;
  /** Overrides the client address used for rate limiting (Lambda: the API Gateway source IP). */
  trustProxy?: boolean;
  /** Told of every authenticated, well-formed alert (self-reporting into the SIEM). */
  onAlert?: (alert: Alert) => void;
}

/** Answer body for an accepted alert. */
export interface AlertAnswer {
  alertId: string;
  rule: string;
  matchedPolicies: string[];
  actions: ActionOutcome[];
  warnings: string[];
}

export class WebhookStartError extends ConnectorError {}

interface RouteConfig {
  alertRoute: PayloadRoute;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    alertRoute?: PayloadRoute;
  }
  interface FastifyRequest {
    /** Set for /alerts/generic after the timestamp check, used by the body parser to verify the HMAC. */
    ascSignature?: { timestamp: string; signature: string; verified: boolean };
  }
}

/**
 * The alert receiver. Authentication runs in `onRequest`, before the body is read; for the HMAC route
 * the signature is checked over the raw bytes before JSON parsing. Nothing about an unauthenticated
 * request is parsed, logged or acted on.
 */
export async function createWebhookApp(config: WebhookConfig, deps: WebhookDeps): Promise<FastifyInstance> {
  const { secrets } = deps;
  const insecure = deps.insecureNoAuth === true;
  if (!insecure && !secrets.token && !secrets.hmacSecret) {
    throw new WebhookStartError(
      'WEBHOOK_NO_SECRET',
      'the webhook has no secret: set ASC_WEBHOOK_TOKEN (or webhook.tokenFile) and/or ASC_WEBHOOK_HMAC_SECRET, or pass --insecure-no-auth for a local test',
    );
  }
  const now = deps.now ?? Date.now;
  const replay = new ReplayGuard(config.replayWindowSeconds);
  const log = deps.log.child({ component: 'webhook' });
  if (insecure)
    log.warn(
      'webhook authentication is OFF (--insecure-no-auth): anyone who can reach this port can trigger responses',
    );

  const app = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    // Request logging is ours (onResponse): fastify's would write the URL with its query, i.e. Splunk's token.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    trustProxy: deps.trustProxy ?? false,
    return503OnClosing: true,
  });

  await app.register(rateLimit, {
    global: true,
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.windowSeconds * 1000,
    allowList: (request) => request.url === '/healthz',
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    const signed = request.ascSignature;
    if (signed) {
      if (
        !secrets.hmacSecret ||
        !verifySignature(secrets.hmacSecret, signed.timestamp, raw, signed.signature)
      ) {
        done(httpError(401, 'UNAUTHORIZED', 'signature does not match'), undefined);
        return;
      }
      if (!replay.firstSeen(signed.timestamp, raw, now())) {
        done(httpError(401, 'UNAUTHORIZED', 'replayed request'), undefined);
        return;
      }
      signed.verified = true;
    }
    try {
      done(null, JSON.parse(raw.toString('utf8')));
    } catch {
      done(httpError(400, 'BAD_JSON', 'body is not valid JSON'), undefined);
    }
  });

  const authHook = async (request: FastifyRequest, reply: FastifyReply) => {
    const route = (request.routeOptions.config as Partial<RouteConfig>).alertRoute;
    if (!route || insecure) return;
    const refusal = authenticate(route, request, secrets, config.replayWindowSeconds, now());
    if (refusal) {
      return reply
        .code(401)
        .header('www-authenticate', route === 'kibana' ? 'Bearer' : 'HMAC')
        .send({ error: 'UNAUTHORIZED', message: refusal });
    }
  };
  // Route-level onRequest hooks run in the order they were added; the rate limiter's was added first (by
  // its own onRoute hook), so credential guessing is throttled before it reaches the comparison.
  app.addHook('onRoute', (routeOptions) => {
    if (!(routeOptions.config as Partial<RouteConfig> | undefined)?.alertRoute) return;
    const existing = routeOptions.onRequest;
    routeOptions.onRequest = [...(Array.isArray(existing) ? existing : existing ? [existing] : []), authHook];
  });

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw path: unknown paths must not grow the label set.
    metrics().webhookRequests.inc({
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
    request.log.info(
      {
        method: request.method,
        path: pathOnly(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'webhook request',
    );
  });

  app.setErrorHandler(async (error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error, path: pathOnly(request.url) }, 'webhook request failed');
      return reply.code(500).send({ error: 'INTERNAL', message: 'internal error; see the receiver log' });
    }
    return reply.code(status).send({ error: error.code ?? 'BAD_REQUEST', message: error.message });
  });

  app.setNotFoundHandler(async (_request, reply) =>
    reply.code(404).send({ error: 'NOT_FOUND', message: 'no such route' }),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));

  const handle = (route: PayloadRoute) => async (request: FastifyRequest, reply: FastifyReply) => {
    const parsed = parseAlert(route, request.body);
    if ('error' in parsed) return reply.code(400).send({ error: 'BAD_PAYLOAD', message: parsed.error });
    deps.onAlert?.(parsed.alert);
    const answer = await respond(parsed.alert, config, deps, log);
    return reply.code(202).send(answer);
  };

  for (const route of ['splunk', 'kibana', 'generic'] as const) {
    app.post(
      `/alerts/${route}`,
      {
        config: { alertRoute: route },
        // A signed request whose body never reached the parser (no body, other media type) was not verified.
        preHandler: async (request) => {
          if (route === 'generic' && !insecure && !request.ascSignature?.verified) {
            throw httpError(401, 'UNAUTHORIZED', 'signature not verified');
          }
        },
      },
      handle(route),
    );
  }

  return app;
}

/** Returns why the request is refused, or undefined when it may proceed to body parsing. */
function authenticate(
  route: PayloadRoute,
  request: FastifyRequest,
  secrets: WebhookSecrets,
  windowSeconds: number,
  now: number,
): string | undefined {
  switch (route) {
    case 'splunk': {
      const token = (request.query as Record<string, unknown> | undefined)?.token;
      if (!secrets.token) return 'token authentication is not configured';
      if (typeof token !== 'string' || !secretEquals(token, secrets.token)) return 'missing or wrong token';
      return undefined;
    }
    case 'kibana': {
      const token = bearerToken(request.headers.authorization);
      if (!secrets.token) return 'token authentication is not configured';
      if (!token || !secretEquals(token, secrets.token)) return 'missing or wrong bearer token';
      return undefined;
    }
    case 'generic': {
      if (!secrets.hmacSecret) return 'HMAC authentication is not configured';
      const timestamp = header(request, 'x-asc-timestamp');
      const signature = header(request, 'x-asc-signature');
      if (!timestamp || !signature) return 'X-ASC-Timestamp and X-ASC-Signature are required';
      if (!/^\d{1,12}$/.test(timestamp)) return 'X-ASC-Timestamp must be Unix seconds';
      const stale = timestampRefusal(Number(timestamp), now, windowSeconds);
      if (stale) return stale;
      if (!/^(sha256=)?[0-9a-fA-F]{64}$/.test(signature)) return 'X-ASC-Signature must be sha256=<hex>';
      request.ascSignature = { timestamp, signature, verified: false };
      return undefined;
    }
  }
}

async function respond(
  alert: Alert,
  config: WebhookConfig,
  deps: WebhookDeps,
  log: Logger,
): Promise<AlertAnswer> {
  const warnings: string[] = [];
  if (alert.sid && config.splunk && deps.secrets.splunkToken) {
    try {
      const fetcher = deps.fetchSplunkResults ?? fetchSplunkResults;
      const rows = await fetcher(alert.sid, {
        restUrl: config.splunk.restUrl,
        token: deps.secrets.splunkToken,
        maxResults: config.splunk.maxResults,
        timeoutMs: config.splunk.timeoutMs,
      });
      if (rows.length > 0) alert.rows = rows;
    } catch (err) {
      warnings.push(`could not fetch all Splunk results, used the first row only: ${errorMessage(err)}`);
      log.warn({ sid: alert.sid, err: errorMessage(err) }, 'Splunk results fetch failed');
    }
  }
  const { requests, overflow, matched } = requestsFor(alert, config.policy, config.maxTargetsPerAlert);
  if (matched.length === 0) warnings.push(`no policy matches rule "${alert.ruleName}"`);
  else if (requests.length === 0)
    warnings.push('a policy matched but no alert row holds a value at its target fields');
  const requester = { source: `webhook:${alert.route}`, rule: alert.ruleName };
  const actions: ActionOutcome[] = [];
  // One at a time: WAF allows about one update per second per account, and order keeps the audit readable.
  for (const request of requests) {
    actions.push(
      await deps.runner.run({
        action: request.action,
        target: request.target,
        alertId: alert.alertId,
        requester,
        mode: 'auto',
        ttlSeconds: request.ttlSeconds,
      }),
    );
  }
  for (const request of overflow) {
    actions.push({
      action: request.action,
      target: request.target,
      status: 'skipped',
      reason: `more than ${config.maxTargetsPerAlert} targets in one alert (webhook.maxTargetsPerAlert)`,
      changes: [],
      warnings: [],
      requestIds: [],
    });
  }
  return { alertId: alert.alertId, rule: alert.ruleName, matchedPolicies: matched, actions, warnings };
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value.trim() : undefined;
}

function pathOnly(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function httpError(
  statusCode: number,
  code: string,
  message: string,
): Error & { statusCode: number; code: string } {
  return Object.assign(new Error(message), { statusCode, code });
}
