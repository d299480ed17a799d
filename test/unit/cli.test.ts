import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EXIT, exitStatusFor, main } from '../../src/cli.js';
import { ConnectorError } from '../../src/errors.js';

async function runCli(...args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  let stderr = '';
  let stdout = '';
  const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const outSpy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  try {
    const code = await main(['node', 'aws-siem-connector', ...args]);
    return { code, stderr, stdout };
  } finally {
    errSpy.mockRestore();
    outSpy.mockRestore();
  }
}

describe('cli', () => {
  it('prints the package version', async () => {
    const { code, stdout } = await runCli('--version');
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 on an unknown command', async () => {
    const { code, stderr } = await runCli('frobnicate');
    expect(code).toBe(2);
    expect(stderr).toContain("unknown command 'frobnicate'");
  });

  it('rejects an unknown log level', async () => {
    const { code } = await runCli('--log-level', 'loud', 'map');
    expect(code).toBe(2);
  });
});

/** A config file holding `text`, in a directory of its own. */
function configFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'asc-cli-')), 'c.yml');
  writeFileSync(file, text);
  return file;
}

describe('exit statuses', () => {
  beforeEach(() => {
    // Nothing from the machine's environment: no webhook secret, audit to stdout, quiet logs.
    for (const name of ['ASC_WEBHOOK_TOKEN', 'ASC_WEBHOOK_HMAC_SECRET', 'ASC_HEC_URLS', 'ASC_SQS_QUEUE_URLS'])
      vi.stubEnv(name, '');
    vi.stubEnv('ASC_RESPOND_AUDIT_LOG', '-');
    vi.stubEnv('ASC_LOG_LEVEL', 'silent');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each([
    ['a time that is not one', ['replay', '--from', 'samples', '--since', 'notadate'], 'USAGE'],
    ['a port that is not a number', ['webhook', 'serve', '--port', 'abc'], 'USAGE'],
    ['an unknown response action', ['respond', 'plan', 'bogus-action', 'x'], 'USAGE'],
    ['a webhook without a secret', ['webhook', 'serve', '--port', '0'], 'WEBHOOK_NO_SECRET'],
  ])('are 2 for usage and configuration errors: %s', async (_label, args, code) => {
    const { code: status, stderr } = await runCli(...args);
    expect(stderr).toContain(`[${code}]`);
    expect(status).toBe(2);
  });

  it.each([
    ['token file', 'sinks.hec.tokenFile', (file: string) => `    tokenFile: ${file}\n`],
    [
      'CA file',
      'sinks.hec.tls.caFile',
      (file: string) => `    token: t0k3n-value-long-enough\n    tls:\n      caFile: ${file}\n`,
    ],
  ])('are 2 for a HEC %s that is not there, naming the key and the path', async (_what, key, hec) => {
    const missing = join(mkdtempSync(join(tmpdir(), 'asc-cli-')), 'no-such-file');
    const config = configFile(
      `sinks:\n  hec:\n    urls: [https://127.0.0.1:1]\n${hec(missing)}detection:\n  enabled: false\n`,
    );
    const { code, stderr } = await runCli('run', '--config', config);
    expect(stderr).toContain(`${key} ${missing}`);
    expect(code).toBe(2);
  });

  it('are 2 for a config file with a YAML error, which is never quoted', async () => {
    const config = configFile('sinks:\n  hec:\n    urls: [https://h:8088]\n    token: "SUPERSECRET\n');
    const { code, stderr } = await runCli('run', '--config', config);
    expect(code).toBe(2);
    expect(stderr).toContain('line 5, column 1');
    expect(stderr).not.toContain('SUPERSECRET');
  });

  it('classify every usage and configuration code in one place, and nothing else', () => {
    for (const code of ['USAGE', 'CONFIG_INVALID', 'NOT_IMPLEMENTED', 'WEBHOOK_NO_SECRET', 'SEARCH_CONFIG'])
      expect(exitStatusFor(new ConnectorError(code, 'x'))).toBe(EXIT.usage);
    for (const code of ['HEC_TOKEN_INVALID', 'REPLAY_INCOMPLETE', 'MAP_FAILED'])
      expect(exitStatusFor(new ConnectorError(code, 'x'))).toBe(EXIT.failed);
    expect(exitStatusFor(new Error('boom'))).toBe(EXIT.failed);
  });
});
