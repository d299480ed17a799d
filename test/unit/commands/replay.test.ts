import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { replayCommandWith } from '../../../src/commands/replay.js';
import { loadConfig } from '../../../src/config/index.js';
import { captureLogger } from '../sink/hec/helpers.js';

/** A failed console sign-in, which the single-event console-login-failure rule alerts on. */
function failedLogin(id: string): Record<string, unknown> {
  return {
    eventVersion: '1.08',
    eventTime: '2026-11-28T10:00:00Z',
    eventID: id,
    awsRegion: 'us-east-1',
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    eventType: 'AwsConsoleSignIn',
    sourceIPAddress: '203.0.113.50',
    recipientAccountId: '111122223333',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDA',
      accountId: '111122223333',
      userName: 'alice',
      arn: 'arn:aws:iam::111122223333:user/alice',
    },
    responseElements: { ConsoleLogin: 'Failure' },
    errorMessage: 'Failed authentication',
  };
}

let exitCodeBefore: typeof process.exitCode;
beforeEach(() => {
  exitCodeBefore = process.exitCode;
  process.exitCode = undefined;
});
afterEach(() => {
  process.exitCode = exitCodeBefore;
  vi.restoreAllMocks();
});

describe('replay', () => {
  it('prints its summary and fails when in-stream alerts cannot be written to the alerts file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asc-replay-'));
    const from = join(dir, 'logs');
    mkdirSync(from);
    writeFileSync(
      join(from, 'trail.json'),
      JSON.stringify({ Records: [failedLogin('e1'), failedLogin('e2')] }),
    );
    // Only the one rule, so that loading rules stays quick.
    const rulesDir = join(dir, 'rules');
    mkdirSync(rulesDir);
    copyFileSync(
      new URL('../../../rules/cloudtrail/aws_console_login_failure.yml', import.meta.url),
      join(rulesDir, 'aws_console_login_failure.yml'),
    );
    const alertsFile = join(dir, 'out', 'alerts.ndjson');
    mkdirSync(alertsFile, { recursive: true }); // a directory in the file's place: every append fails
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        sinks: { file: { dir: join(dir, 'out'), schema: 'ecs' } },
        deadLetter: { dir: join(dir, 'dead-letter') },
        detection: { rulesDir, alertsFile },
      }),
    );
    const config = loadConfig({ file: configFile, env: {} });
    const { log, lines } = captureLogger();
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out += chunk.toString();
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true); // the progress line

    const result = await replayCommandWith(config, log, { from });

    expect(result).toMatchObject({ records: 2, failed: 0, deadLettered: 0 });
    expect(JSON.parse(out)).toMatchObject({
      objects: 1,
      records: 2,
      deadLettered: 0,
      failed: 0,
      alerts: 2,
      alertsFile,
      alertsUnwritten: 2,
    });
    const lost = lines().filter((l) => l.level === 50 && l.msg === 'in-stream alerts were lost');
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ alertsFile });
    expect(String(lost[0]?.err)).toContain(`could not be written to ${alertsFile}`);
    expect(process.exitCode).toBe(1);
  });
});
