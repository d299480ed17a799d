import ipaddr from 'ipaddr.js';
import { ConfigError } from '../config/load.js';
import type { ProxyConfig } from './config.js';

type Scheme = 'http' | 'https';

/** One NO_PROXY entry: a host name and its subdomains, an IP range, or every host; optionally one port. */
type Bypass =
  | { kind: 'all' }
  | { kind: 'name'; name: string; port?: string }
  | { kind: 'range'; range: [ipaddr.IPv4 | ipaddr.IPv6, number]; port?: string };

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function parseBypass(entry: string): Bypass | undefined {
  const text = entry.trim().toLowerCase();
  if (text === '') return undefined;
  if (text === '*') return { kind: 'all' };
  if (text.includes('/')) {
    try {
      return { kind: 'range', range: ipaddr.parseCIDR(text) };
    } catch {
      return undefined;
    }
  }
  let host = text;
  let port: string | undefined;
  // `host:port` and `[v6]:port`; a bare IPv6 address has colons but no port.
  const portMatch = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text);
  if (portMatch) [, host, port] = portMatch as unknown as [string, string, string];
  host = unbracket(host);
  if (ipaddr.isValid(host)) {
    const address = ipaddr.process(host);
    const bits = address.kind() === 'ipv4' ? 32 : 128;
    return { kind: 'range', range: [address, bits], ...(port ? { port } : {}) };
  }
  const name = host.replace(/^\*?\./, '');
  return { kind: 'name', name, ...(port ? { port } : {}) };
}

function bypasses(rule: Bypass, host: string, port: string): boolean {
  if (rule.kind === 'all') return true;
  if (rule.port !== undefined && rule.port !== port) return false;
  if (rule.kind === 'name') return host === rule.name || host.endsWith(`.${rule.name}`);
  if (!ipaddr.isValid(host)) return false;
  const address = ipaddr.process(host);
  const [network] = rule.range;
  return address.kind() === network.kind() && address.match(rule.range);
}

/**
 * A proxy URL as curl reads one: `host:port` alone means `http://host:port`. Anything but an http or https
 * proxy is refused at start, naming where it came from and never its text (it may hold a password).
 */
function proxyUrl(value: string | undefined, from: string): URL | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new ConfigError(`${from} is not an http:// or https:// proxy URL`, { key: from });
  }
  return url;
}

/** The proxy URL without its credentials, for messages and logs. */
export function proxyLabel(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/**
 * Which proxy, if any, carries a connection to a destination. Built once from the `proxy` section and the
 * environment (config wins key by key); every HTTP client of the connector asks it.
 */
export class ProxyRoutes {
  private readonly bypass: Bypass[];

  constructor(
    readonly http: URL | undefined,
    readonly https: URL | undefined,
    noProxy: readonly string[] = [],
  ) {
    this.bypass = noProxy.flatMap((entry) => parseBypass(entry) ?? []);
  }

  static from(config: ProxyConfig | undefined, env: NodeJS.ProcessEnv = process.env): ProxyRoutes {
    const fromEnv = (name: string): string | undefined => {
      const value = env[name.toUpperCase()] ?? env[name.toLowerCase()];
      return value?.trim() ? value.trim() : undefined;
    };
    const noProxy = config?.noProxy ?? fromEnv('no_proxy')?.split(/[\s,]+/) ?? [];
    return new ProxyRoutes(
      proxyUrl(config?.http ?? fromEnv('http_proxy'), config?.http ? 'proxy.http' : 'HTTP_PROXY'),
      proxyUrl(config?.https ?? fromEnv('https_proxy'), config?.https ? 'proxy.https' : 'HTTPS_PROXY'),
      noProxy,
    );
  }

  /** Whether any destination goes through a proxy. */
  get enabled(): boolean {
    return this.http !== undefined || this.https !== undefined;
  }

  /** What the routes are, for the start-up log: proxies without credentials, the count of bypasses. */
  describe(): { https?: string; http?: string; noProxy: number } | undefined {
    if (!this.enabled) return undefined;
    return {
      ...(this.https ? { https: proxyLabel(this.https) } : {}),
      ...(this.http ? { http: proxyLabel(this.http) } : {}),
      noProxy: this.bypass.length,
    };
  }

  /** The proxy for a destination given by its parts; undefined: connect directly. */
  proxyForHost(scheme: Scheme, host: string, port: string | number): URL | undefined {
    const proxy = scheme === 'https' ? this.https : this.http;
    if (!proxy) return undefined;
    const name = unbracket(host.toLowerCase()).replace(/\.$/, '');
    const portText = String(port === '' ? (scheme === 'https' ? 443 : 80) : port);
    return this.bypass.some((rule) => bypasses(rule, name, portText)) ? undefined : proxy;
  }

  /** The proxy for a destination URL; undefined: connect directly. */
  proxyFor(target: URL | string): URL | undefined {
    const url = typeof target === 'string' ? new URL(target) : target;
    const scheme = url.protocol === 'https:' ? 'https' : url.protocol === 'http:' ? 'http' : undefined;
    return scheme ? this.proxyForHost(scheme, url.hostname, url.port) : undefined;
  }
}

let current: ProxyRoutes | undefined;

/**
 * Sets the process's routes from the `proxy` section (entry points call it once the config is loaded).
 * Until then, and without one, the environment alone decides, so code that runs before the config (the
 * Lambda's secret lookups) goes through the same proxy. A proxy in force is logged once, without its
 * credentials.
 */
export function useProxyConfig(
  config: ProxyConfig | undefined,
  options: { env?: NodeJS.ProcessEnv; log?: { info(fields: object, message: string): void } } = {},
): ProxyRoutes {
  current = ProxyRoutes.from(config, options.env ?? process.env);
  const proxy = current.describe();
  if (proxy) options.log?.info({ proxy }, 'outbound connections go through a proxy');
  return current;
}

/** The routes in force. */
export function proxyRoutes(): ProxyRoutes {
  current ??= ProxyRoutes.from(undefined);
  return current;
}
