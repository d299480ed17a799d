import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.js';

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
