import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.js';
import { ProxyRoutes, proxyLabel } from '../../../src/network/index.js';

const PROXY = 'http://proxy.corp:3128';

describe('ProxyRoutes', () => {
  it('takes each key from the config first, then from the environment in either case', () => {
    const env = {
      HTTPS_PROXY: 'http://env-https:3128',
      http_proxy: 'http://env-http:3128',
      NO_PROXY: 'internal.corp, 10.0.0.0/8',
    };
    const fromEnv = ProxyRoutes.from(undefined, env);
    expect(fromEnv.https?.host).toBe('env-https:3128');
    expect(fromEnv.http?.host).toBe('env-http:3128');
    expect(fromEnv.proxyFor('https://siem.internal.corp')).toBeUndefined();
    expect(fromEnv.proxyFor('https://10.1.2.3:8088')).toBeUndefined();

    const mixed = ProxyRoutes.from({ https: PROXY, noProxy: ['example.org'] }, env);
    expect(mixed.https?.host).toBe('proxy.corp:3128');
    expect(mixed.http?.host).toBe('env-http:3128');
    // The config's noProxy replaces the environment's.
    expect(mixed.proxyFor('https://siem.internal.corp')?.host).toBe('proxy.corp:3128');
    expect(mixed.proxyFor('https://example.org')).toBeUndefined();
  });

  it('reads a proxy given without a scheme as http, as curl does, and refuses other schemes without echoing them', () => {
    expect(ProxyRoutes.from(undefined, { HTTPS_PROXY: 'proxy.corp:3128' }).https?.href).toBe(
      'http://proxy.corp:3128/',
    );
    for (const bad of ['socks5://siem:s3cret@proxy.corp:1080', 'http://', '::::']) {
      let message = '';
      try {
        ProxyRoutes.from(undefined, { HTTPS_PROXY: bad });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toBe('HTTPS_PROXY is not an http:// or https:// proxy URL');
    }
  });

  it('has no proxy when neither the config nor the environment names one', () => {
    const routes = ProxyRoutes.from(undefined, { NO_PROXY: 'x' });
    expect(routes.enabled).toBe(false);
    expect(routes.proxyFor('https://sqs.us-east-1.amazonaws.com')).toBeUndefined();
    expect(routes.describe()).toBeUndefined();
  });

  it('chooses the proxy by the destination scheme', () => {
    const routes = ProxyRoutes.from({ https: PROXY }, {});
    expect(routes.proxyFor('https://s3.amazonaws.com')?.href).toBe(`${PROXY}/`);
    expect(routes.proxyFor('http://hec.internal:8088')).toBeUndefined();
  });

  const cases: [entry: string, destination: string, bypassed: boolean][] = [
    ['internal.corp', 'https://internal.corp', true],
    ['internal.corp', 'https://hec.eu.internal.corp:8088', true],
    ['internal.corp', 'https://notinternal.corp', false],
    ['.internal.corp', 'https://hec.internal.corp', true],
    ['*.internal.corp', 'https://hec.internal.corp', true],
    ['INTERNAL.corp', 'https://Hec.Internal.Corp.', true],
    ['hec.internal.corp:8088', 'https://hec.internal.corp:8088', true],
    ['hec.internal.corp:8088', 'https://hec.internal.corp', false],
    ['s3.amazonaws.com:443', 'https://bucket.s3.amazonaws.com', true],
    ['10.0.0.0/8', 'https://10.20.30.40:9200', true],
    ['10.0.0.0/8', 'https://11.0.0.1', false],
    ['169.254.169.254', 'http://169.254.169.254/latest/api/token', true],
    ['127.0.0.1:4566', 'http://127.0.0.1:4566', true],
    ['127.0.0.1:4566', 'http://127.0.0.1:9200', false],
    ['fd00::/8', 'https://[fd12::1]:8088', true],
    ['[::1]:9200', 'http://[::1]:9200', true],
    ['::1', 'http://[::1]:9200', true],
    ['*', 'https://anything.example', true],
    ['not a cidr/99', 'https://anything.example', false],
  ];
  for (const [entry, destination, bypassed] of cases) {
    it(`noProxy ${entry} ${bypassed ? 'bypasses' : 'does not bypass'} ${destination}`, () => {
      const routes = ProxyRoutes.from({ https: PROXY, http: PROXY, noProxy: [entry] }, {});
      expect(routes.proxyFor(destination) === undefined).toBe(bypassed);
    });
  }

  it('names a proxy without its credentials', () => {
    const routes = ProxyRoutes.from({ https: 'http://siem:s3cret@proxy.corp:3128' }, {});
    expect(proxyLabel(routes.https as URL)).toBe('http://proxy.corp:3128');
    expect(JSON.stringify(routes.describe())).not.toContain('s3cret');
    expect(routes.describe()).toEqual({ https: 'http://proxy.corp:3128', noProxy: 0 });
  });
});

describe('proxy config', () => {
  it('refuses a proxy URL that is not http or https without echoing it', () => {
    let message = '';
    try {
      validateConfig({ proxy: { https: 'socks5://siem:s3cret@proxy.corp:1080' } }, 'test');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/proxy\.https/);
    expect(message).toMatch(/http:\/\/ or https:\/\//);
    expect(message).not.toContain('s3cret');
  });

  it('accepts https and http proxies and a noProxy list', () => {
    const config = validateConfig(
      { proxy: { https: PROXY, http: PROXY, noProxy: ['169.254.169.254', '.internal'] } },
      'test',
    );
    expect(config.proxy?.noProxy).toEqual(['169.254.169.254', '.internal']);
  });
});
