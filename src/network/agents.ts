import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { ConnectorError } from '../errors.js';
import { type ProxyRoutes, proxyLabel } from './proxy.js';

type ConnectOptions = { host?: string | null; port?: number | string | null };
type Connected = (err: Error | null, socket?: Duplex | null) => void;
type CreateConnection = (options: ConnectOptions, callback?: Connected) => Duplex | undefined;

/** What a proxy's refusal of a tunnel means for the operator, by its HTTP status. */
const REFUSALS: Record<number, string> = {
  403: 'the proxy forbids this destination or port',
  407: 'proxy authentication required: check the credentials in the proxy URL',
};

/** A CONNECT tunnel the proxy refused or that failed; the proxy is named without its credentials. */
export class ProxyTunnelError extends ConnectorError {
  constructor(proxy: URL, destination: string, cause: Error) {
    // hpagent reports a refusal as "Bad response: <status>".
    const status = Number(/^Bad response: (\d{3})$/.exec(cause.message)?.[1]) || undefined;
    const reason = status
      ? `HTTP ${status}${REFUSALS[status] ? ` (${REFUSALS[status]})` : ''}`
      : cause.message;
    super('PROXY_TUNNEL_FAILED', `proxy ${proxyLabel(proxy)}: no tunnel to ${destination}: ${reason}`, {
      cause,
      details: { proxy: proxyLabel(proxy), destination, ...(status ? { status } : {}) },
    });
  }
}

/**
 * Node agents that open each connection through the proxy its destination is routed to (a CONNECT tunnel,
 * hpagent's), or directly for NO_PROXY destinations. One agent keeps both kinds of sockets: Node pools
 * them by destination, so keep-alive works as without a proxy.
 */
function routed(
  Base: typeof HttpProxyAgent | typeof HttpsProxyAgent,
  direct: CreateConnection,
  scheme: 'http' | 'https',
) {
  return class extends (Base as typeof HttpsProxyAgent) {
    constructor(
      private readonly routes: ProxyRoutes,
      proxy: URL,
      options: https.AgentOptions,
    ) {
      super({ ...options, proxy });
    }

    override createConnection(options: ConnectOptions, callback: Connected): Duplex | undefined {
      const host = options.host ?? 'localhost';
      const port = options.port ?? (scheme === 'https' ? 443 : 80);
      const proxy = this.routes.proxyForHost(scheme, host, port);
      if (!proxy) return direct.call(this, options);
      const viaProxy = (Base.prototype as unknown as { createConnection: CreateConnection }).createConnection;
      viaProxy.call(this, options, (err, socket) =>
        err ? callback(new ProxyTunnelError(proxy, `${host}:${port}`, err)) : callback(null, socket),
      );
      return undefined;
    }
  };
}

const RoutedHttpAgent = routed(
  HttpProxyAgent,
  (http.Agent.prototype as unknown as { createConnection: CreateConnection }).createConnection,
  'http',
);
const RoutedHttpsAgent = routed(
  HttpsProxyAgent,
  (https.Agent.prototype as unknown as { createConnection: CreateConnection }).createConnection,
  'https',
);

/**
 * Agents for Node's http and https modules under these routes: plain ones for a scheme without a proxy.
 * `options` are the agent options the client would use without a proxy (keep-alive, socket limits).
 */
export function routedAgents(
  routes: ProxyRoutes,
  options: http.AgentOptions,
): { httpAgent: http.Agent; httpsAgent: https.Agent } {
  return {
    httpAgent: routes.http ? new RoutedHttpAgent(routes, routes.http, options) : new http.Agent(options),
    httpsAgent: routes.https ? new RoutedHttpsAgent(routes, routes.https, options) : new https.Agent(options),
  };
}
