import { NodeHttpHandler } from '@smithy/node-http-handler';
import { routedAgents } from './agents.js';
import { proxyRoutes } from './proxy.js';

/**
 * Client options that send an AWS SDK client's requests through the proxy (spread into the client's
 * config). Empty without a proxy, leaving the SDK's own handler. Each client gets its own handler: a
 * client's `destroy()` destroys its handler's sockets. The agents keep the SDK's defaults otherwise.
 */
export function awsHttpOptions(): { requestHandler?: NodeHttpHandler } {
  const routes = proxyRoutes();
  if (!routes.enabled) return {};
  return { requestHandler: new NodeHttpHandler(routedAgents(routes, { keepAlive: true, maxSockets: 50 })) };
}
