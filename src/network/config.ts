import { z } from 'zod';

// The value is left out of the message: a proxy URL may carry a password.
const proxyUrl = z.url({
  protocol: /^https?$/,
  error: 'must be an http:// or https:// URL of the proxy',
});

/**
 * An outbound HTTP proxy for every connection the connector opens (AWS APIs, HEC, Elasticsearch or
 * OpenSearch, Kibana and Splunk's REST API). Each key left out is taken from the environment the way
 * curl and the AWS CLI read it: HTTPS_PROXY, HTTP_PROXY and NO_PROXY (upper or lower case).
 */
export const proxyConfigSchema = z.strictObject({
  /** Proxy for https:// destinations; `http://user:password@host:port` when it asks for credentials. */
  https: proxyUrl.optional(),
  /** Proxy for http:// destinations. */
  http: proxyUrl.optional(),
  /**
   * Destinations reached directly: a host name (with its subdomains; a leading `.` or `*.` means the
   * same), `host:port`, an IP address or CIDR range, or `*` for all.
   */
  noProxy: z.array(z.string().min(1)).optional(),
});
export type ProxyConfig = z.infer<typeof proxyConfigSchema>;
