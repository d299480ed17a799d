export { ProxyTunnelError } from './agents.js';
export { awsHttpOptions } from './aws.js';
export { type ProxyConfig, proxyConfigSchema } from './config.js';
export { ProxyRoutes, proxyLabel, proxyRoutes, useProxyConfig } from './proxy.js';
export { proxyDispatcherFor, routedFetch } from './undici.js';
