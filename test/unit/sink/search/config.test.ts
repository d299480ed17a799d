import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../../src/config/index.js';
import { searchSinkConfigSchema } from '../../../../src/sink/search/index.js';
import { openSearchClientOptions } from '../../../../src/sink/search/opensearch-client.js';

const parse = (input: Record<string, unknown>) => searchSinkConfigSchema.safeParse(input);

describe('search sink config', () => {
  it('defaults to data streams in the default namespace, 5 MB requests and TLS verification on', () => {
    const cfg = searchSinkConfigSchema.parse({ flavour: 'opensearch', node: 'https://search.example:9200' });
    expect(cfg.target).toEqual({ mode: 'datastream', namespace: 'default' });
    expect(cfg.flushBytes).toBe(5_000_000);
    expect(cfg.tls.rejectUnauthorized).toBe(true);
    expect(cfg.setup.auto).toBe(true);
  });

  it.each([
    [{ flavour: 'opensearch' }, 'node'],
    [{ flavour: 'opensearch', node: 'https://a', cloudId: 'x:y' }, 'node'],
    [{ flavour: 'opensearch', cloudId: 'x:y' }, 'cloudId'],
    [{ flavour: 'elasticsearch', node: 'https://a', auth: { sigv4: { region: 'us-east-1' } } }, 'auth.sigv4'],
    [
      { flavour: 'opensearch', node: 'https://a', auth: { apiKey: 'k', username: 'u', password: 'p' } },
      'auth',
    ],
    [{ flavour: 'opensearch', node: 'https://a', auth: { username: 'u' } }, 'auth.password'],
    [
      { flavour: 'opensearch', node: 'https://a', target: { mode: 'index', pattern: 'aws-{yyyy}' } },
      'target.pattern',
    ],
    [
      { flavour: 'opensearch', node: 'https://a', target: { mode: 'datastream', namespace: 'Prod-1' } },
      'target.namespace',
    ],
    [{ flavour: 'opensearch', node: 'https://a', flushbytes: 1 }, ''],
  ])('rejects %j at %s', (input, path) => {
    const result = parse(input);
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toContain(path);
  });

  it.each([
    ['AWS-{logType}-{yyyy.MM.dd}', 'lower case'],
    ['aws-{LogType}', 'unknown placeholder {LogType}'],
    ['_aws-{logType}', 'must not start with _, - or +'],
    ['-aws-{logType}', 'must not start with _, - or +'],
    ['aws {logType}', 'found space'],
    ['aws:{logType}', 'found :'],
    ['aws#{logType}', 'found #'],
    ['aws-{logType}-*', 'found *'],
    ['aws,x-{logType}', 'found ,'],
    ['aws/{logType}', 'found /'],
    ['aws-{logType}-{date}', 'unknown placeholder {date}'],
    ['aws-{logType}-{yyyy', 'unknown placeholder {yyyy'],
    [`${'a'.repeat(250)}-{logType}`, '255 bytes'],
  ])('refuses the index pattern %s, which the server can never use (%s)', (pattern, message) => {
    const result = parse({ flavour: 'opensearch', node: 'https://a', target: { mode: 'index', pattern } });
    expect(result.success).toBe(false);
    const issue = result.error!.issues.find((i) => i.path.join('.') === 'target.pattern');
    expect(issue?.message).toContain(message);
  });

  it.each([
    'aws-{logType}-{yyyy.MM.dd}',
    '{logType}-{yyyy-MM-dd}',
    'logs_aws.{logType}-{yyyy}.{MM}.{dd}',
    'aws-{logType}',
  ])('accepts the index pattern %s; upper case stays legal inside date placeholders', (pattern) => {
    expect(
      parse({ flavour: 'opensearch', node: 'https://a', target: { mode: 'index', pattern } }).success,
    ).toBe(true);
  });

  it('validates as the sinks.search section of the whole config', () => {
    const cfg = validateConfig({
      sinks: { search: { flavour: 'elasticsearch', cloudId: 'c:ZXhhbXBsZQ==' } },
    });
    expect(cfg.sinks.search?.cloudId).toBe('c:ZXhhbXBsZQ==');
  });

  it('reads a password from a file, and names the file (never the secret) when it cannot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'asc-search-'));
    const file = join(dir, 'password');
    writeFileSync(file, 'from-file\n');
    const cfg = searchSinkConfigSchema.parse({
      flavour: 'opensearch',
      node: 'https://a',
      auth: { username: 'u', passwordFile: file },
    });
    expect(openSearchClientOptions(cfg).auth).toEqual({ username: 'u', password: 'from-file' });
    const missing = searchSinkConfigSchema.parse({
      flavour: 'opensearch',
      node: 'https://a',
      auth: { username: 'u', passwordFile: join(dir, 'nope') },
    });
    expect(() => openSearchClientOptions(missing)).toThrow(/cannot read auth.password file .*nope/);
  });
});
