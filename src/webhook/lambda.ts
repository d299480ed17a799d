import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { FastifyInstance } from 'fastify';
import { loadConfig, resolveSecretArns } from '../config/index.js';
import { logger } from '../observe/index.js';
import { createResponseRunner } from '../respond/index.js';
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

let cached: ReturnType<typeof createLambdaHandler> | undefined;

/**
 * The deployed entry point. Config from ASC_CONFIG_FILE (bundled with the function) and the environment;
 * the audit log and action store paths must point at durable storage (e.g. an EFS mount) for undo and
 * TTL sweeps to work across invocations.
 */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  if (!cached) {
    // Secrets arrive as Secrets Manager ARNs in a deployed function; the webhook reads them from the env.
    Object.assign(process.env, await resolveSecretArns(process.env));
    const config = loadConfig({ file: process.env.ASC_CONFIG_FILE });
    const log = logger();
    const runner = createResponseRunner(config, { log });
    cached = createLambdaHandler(
      createWebhookApp(config.webhook, { runner, secrets: resolveWebhookSecrets(config.webhook), log }),
    );
  }
  return cached(event);
}
