import { type Dispatcher, ProxyAgent, fetch as undiciFetch } from 'undici';
import { proxyRoutes } from './proxy.js';

const agents = new Map<string, ProxyAgent>();

/**
 * The dispatcher for undici requests to `target`: a tunnel through its proxy, shared by every request
 * through that proxy; undefined when the destination is reached directly (undici's default).
 */
export function proxyDispatcherFor(target: URL | string): Dispatcher | undefined {
  const proxy = proxyRoutes().proxyFor(target);
  if (!proxy) return undefined;
  let agent = agents.get(proxy.href);
  if (!agent) {
    agent = new ProxyAgent({ uri: proxy.href });
    agents.set(proxy.href, agent);
  }
  return agent;
}

/**
 * `fetch` for the connector's REST calls (Kibana, Splunk's management port, the webhook's result reads):
 * the platform's own, or undici's through the destination's proxy. The request is first built by the
 * platform's `Request`, so bodies the callers make with the platform's FormData, Blob or URLSearchParams
 * reach undici as the bytes and content type the platform would have sent.
 */
export const routedFetch: typeof fetch = async (input, init) => {
  const url = input instanceof Request ? input.url : String(input);
  const dispatcher = proxyDispatcherFor(url);
  if (!dispatcher) return fetch(input, init);
  const request = new Request(input, init);
  const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
  const response = await undiciFetch(request.url, {
    method: request.method,
    headers: [...request.headers],
    redirect: request.redirect,
    ...(body ? { body } : {}),
    ...(init?.signal ? { signal: init.signal } : {}),
    dispatcher,
  });
  return response as unknown as Response;
};
