import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, validateConfig } from '../../../src/config/index.js';

function writeConfig(text: string, name = 'config.yml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'asc-config-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('fills defaults when there is no file', () => {
    const config = loadConfig({ env: {} });
    expect(config.aws.region).toBe('us-east-1');
    expect(config.observe.logLevel).toBe('info');
    expect(Object.isFrozen(config.observe)).toBe(true);
  });

  it('names the file and the dotted key of an unknown key', () => {
    const file = writeConfig(
      'sinks:\n  hec:\n    urls: [https://hec.example:8088]\n    token: t\n    tokn: x\n',
    );
    expect(() => loadConfig({ file, env: {} })).toThrow(ConfigError);
    try {
      loadConfig({ file, env: {} });
    } catch (err) {
      const e = err as ConfigError;
      expect(e.message).toContain(file);
      expect(e.message).toContain('sinks.hec.tokn');
      expect(e.code).toBe('CONFIG_INVALID');
      expect(e.details.file).toBe(file);
    }
  });

  it('bounds the dead letter by 8 MiB unless told otherwise, in the file or ASC_DEAD_LETTER_MAX_PENDING_BYTES', () => {
    expect(loadConfig({ env: {} }).deadLetter.maxPendingBytes).toBe(8 * 1024 * 1024);
    const file = writeConfig('deadLetter:\n  maxPendingBytes: 1048576\n');
    expect(loadConfig({ file, env: {} }).deadLetter.maxPendingBytes).toBe(1_048_576);
    const fromEnv = loadConfig({ file, env: { ASC_DEAD_LETTER_MAX_PENDING_BYTES: '33554432' } });
    expect(fromEnv.deadLetter.maxPendingBytes).toBe(32 * 1024 * 1024);
    // Below 64 KiB, the most raw text a rejected record keeps, one entry alone would fill it.
    expect(() => loadConfig({ env: { ASC_DEAD_LETTER_MAX_PENDING_BYTES: '4096' } })).toThrow(
      /deadLetter\.maxPendingBytes \(from ASC_DEAD_LETTER_MAX_PENDING_BYTES\)/,
    );
    expect(() => validateConfig({ deadLetter: { maxPendingBytes: 1.5e6 + 0.5 } })).toThrow(
      /deadLetter\.maxPendingBytes/,
    );
  });

  it('names the key of a wrong type', () => {
    const file = writeConfig('{"observe": {"metricsPort": "nine"}}', 'config.json');
    expect(() => loadConfig({ file, env: {} })).toThrow(/observe\.metricsPort/);
  });

  it('lets the environment override the file and command-line overrides win over both', () => {
    const file = writeConfig('observe:\n  logLevel: debug\naws:\n  region: eu-west-1\n');
    const config = loadConfig({
      file,
      env: {
        AWS_REGION: 'eu-central-1',
        ASC_HEC_URLS: 'https://a:8088, https://b:8088',
        ASC_HEC_TOKEN: 'tok',
        ASC_HEC_MAX_IN_FLIGHT: '8',
        ASC_HEC_ADAPTIVE_CONCURRENCY: 'false',
      },
      overrides: { observe: { logLevel: 'warn' } },
    });
    expect(config.aws.region).toBe('eu-central-1');
    expect(config.sinks.hec?.urls).toEqual(['https://a:8088', 'https://b:8088']);
    expect(config.sinks.hec?.maxInFlight).toBe(8);
    expect(config.sinks.hec?.adaptiveConcurrency.enabled).toBe(false);
    expect(config.observe.logLevel).toBe('warn');
  });

  it('reports a file that cannot be read', () => {
    expect(() => loadConfig({ file: join(tmpdir(), 'no-such-asc-config.yml'), env: {} })).toThrow(
      /cannot read config file/,
    );
  });
});

/** The error `fn` throws; fails the test when it throws none. */
function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('a config file that is not valid YAML', () => {
  it.each([
    [
      'an unclosed quote around a token',
      'sinks:\n  hec:\n    urls: [https://h:8088]\n    token: "SUPERSECRET-1234\n    index: main\n',
      6,
      1,
      'MISSING_CHAR',
    ],
    [
      'a value with ": " in it',
      'webhook:\n  token: x\n  hmacSecret: SUPERSECRET: y\n',
      3,
      15,
      'BLOCK_AS_IMPLICIT_KEY',
    ],
    [
      'an unclosed flow map',
      'sinks:\n  search:\n    auth: {username: u, password: "SUPERSECRET}\n',
      4,
      1,
      'MISSING_CHAR',
    ],
  ])('is reported by file, line, column and kind, never its text: %s', (_label, text, line, column, kind) => {
    const file = writeConfig(text);
    const err = thrown(() => loadConfig({ file, env: {} }));
    expect(err.message).toContain(file);
    expect(err.message).toContain(`line ${line}, column ${column}`);
    expect(err.message).toContain(kind);
    expect(err.details).toMatchObject({ file, line, column });
    // Not in the message, nor in a cause that a logger would serialise.
    expect(err.message).not.toContain('SUPERSECRET');
    expect(err.cause).toBeUndefined();
    expect(JSON.stringify(err)).not.toContain('SUPERSECRET');
  });
});

describe('a configuration error in a key an environment variable set', () => {
  const file = writeConfig('sinks:\n  hec:\n    urls: [https://h:8088]\n    token: abc\n');

  it('names the variable and the value it held', () => {
    const err = thrown(() => loadConfig({ file, env: { ASC_HEC_GZIP: 'yes' } }));
    expect(err.message).toContain(
      'sinks.hec.gzip (from ASC_HEC_GZIP): expected true/false (or 1/0), got "yes"',
    );
    expect(err.details).toMatchObject({ key: 'sinks.hec.gzip', env: 'ASC_HEC_GZIP', file });
    expect(thrown(() => loadConfig({ file, env: { ASC_METRICS_PORT: '9464x' } })).message).toContain(
      'observe.metricsPort (from ASC_METRICS_PORT): expected a number, got "9464x"',
    );
    expect(thrown(() => loadConfig({ file, env: { ASC_LOG_LEVEL: 'INFO' } })).message).toMatch(
      /observe\.logLevel \(from ASC_LOG_LEVEL\): .*expected one of .*, got "INFO"/,
    );
  });

  it('leaves the variable out once a command-line flag set the key', () => {
    const err = thrown(() =>
      loadConfig({ file, env: { ASC_LOG_LEVEL: 'info' }, overrides: { observe: { logLevel: 'loud' } } }),
    );
    expect(err.message).toContain('observe.logLevel:');
    expect(err.message).not.toContain('ASC_LOG_LEVEL');
  });

  it('keys in the file keep the plain message', () => {
    const err = thrown(() =>
      loadConfig({
        file: writeConfig('sinks:\n  hec:\n    urls: [https://h:8088]\n    token: abc\n    gzip: yes\n'),
        env: {},
      }),
    );
    expect(err.message).toMatch(/sinks\.hec\.gzip: /);
    expect(err.message).not.toContain('from ASC_');
  });

  it('echoes a URL without its credentials', () => {
    const err = thrown(() =>
      loadConfig({ file, env: { ASC_HEC_URLS: 'https://admin:hunter2@h:80x88/?token=t0ken' } }),
    );
    expect(err.message).toContain('(from ASC_HEC_URLS)');
    expect(err.message).toContain('https://admin:[redacted]@h:80x88/?token=[redacted]');
    expect(err.message).not.toMatch(/hunter2|t0ken/);
  });

  it('never echoes the value of a secret', () => {
    const weak = thrown(() => loadConfig({ env: { ASC_WEBHOOK_TOKEN: 'short-s3cr3t' } }));
    expect(weak.message).toContain('webhook.token (from ASC_WEBHOOK_TOKEN)');
    expect(weak.message).not.toContain('short-s3cr3t');
    const both = thrown(() =>
      loadConfig({ file, env: { ASC_HEC_TOKEN: 'hec-s3cr3t', ASC_HEC_TOKEN_FILE: '/run/secrets/hec' } }),
    );
    expect(both.message).toContain('sinks.hec.token (from ASC_HEC_TOKEN)');
    expect(both.message).not.toContain('hec-s3cr3t');
    // A check over the whole auth section names the variables below it, without their values.
    const auth = thrown(() =>
      loadConfig({
        env: {
          ASC_SEARCH_NODE: 'https://s:9200',
          ASC_SEARCH_FLAVOUR: 'opensearch',
          ASC_SEARCH_API_KEY: 'key-s3cr3t',
          ASC_SEARCH_USERNAME: 'u',
          ASC_SEARCH_PASSWORD: 'pw-s3cr3t',
        },
      }),
    );
    expect(auth.message).toContain(
      'sinks.search.auth (with ASC_SEARCH_API_KEY, ASC_SEARCH_USERNAME, ASC_SEARCH_PASSWORD)',
    );
    expect(auth.message).not.toMatch(/s3cr3t/);
  });

  it('validateConfig names the variable from the origins it is given, never a secret value', () => {
    const err = thrown(() =>
      validateConfig({ webhook: { hmacSecret: 'short-s3cr3t' } }, 'environment', [
        {
          env: 'ASC_WEBHOOK_HMAC_SECRET',
          path: ['webhook', 'hmacSecret'],
          type: 'string',
          value: 'short-s3cr3t',
        },
      ]),
    );
    expect(err.message).toContain('webhook.hmacSecret (from ASC_WEBHOOK_HMAC_SECRET)');
    expect(err.message).not.toContain('short-s3cr3t');
  });
});
