import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { replayCommandWith } from '../../../src/commands/replay.js';
import { loadConfig } from '../../../src/config/index.js';
import { cloudTrailObjectText, generateCloudTrailRecords } from '../../../src/samples/index.js';
import { captureLogger } from '../sink/hec/helpers.js';
import { failedConsoleLogin as failedLogin } from '../support/console-login.js';

/**
 * A listing that fails part-way (an S3 page refused after earlier pages were replayed) cannot be produced
 * on cue by a directory or the S3 emulator, and an object that cannot be read is counted, not thrown. Set,
 * this error is thrown by the real replay after it has replayed every object, as such a listing would.
 */
const sourceFault = vi.hoisted(() => ({ error: undefined as Error | undefined }));
vi.mock('../../../src/pipeline/replay.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../src/pipeline/replay.js')>();
  return {
    ...actual,
    replay: async (...args: Parameters<typeof actual.replay>) => {
      const progress = await actual.replay(...args);
      if (sourceFault.error) throw sourceFault.error;
      return progress;
    },
  };
});

/** ListObjectsV2 refused, as S3 reports it. */
function listingDenied(): Error {
  return Object.assign(new Error('Access Denied'), {
    name: 'AccessDenied',
    $metadata: { httpStatusCode: 403 },
  });
}

/**
 * A directory of objects to replay and a config whose only rule is `ruleFile` (so that loading rules stays
 * quick), writing ECS to a file sink and alerts to `alertsFile`.
 */
function replayFixture(
  objects: Record<string, string>,
  ruleFile: string,
  options: { alertsFileUnwritable?: boolean } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'asc-replay-'));
  const from = join(dir, 'logs');
  mkdirSync(from);
  for (const [name, text] of Object.entries(objects)) writeFileSync(join(from, name), text);
  const rulesDir = join(dir, 'rules');
  mkdirSync(rulesDir);
  const rule = ruleFile.slice(ruleFile.lastIndexOf('/') + 1);
  copyFileSync(new URL(`../../../rules/${ruleFile}`, import.meta.url), join(rulesDir, rule));
  const alertsFile = join(dir, 'out', 'alerts.ndjson');
  // A directory in the file's place: every append fails.
  if (options.alertsFileUnwritable) mkdirSync(alertsFile, { recursive: true });
  const configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      sinks: { file: { dir: join(dir, 'out'), schema: 'ecs' } },
      deadLetter: { dir: join(dir, 'dead-letter') },
      detection: { rulesDir, alertsFile },
    }),
  );
  return { from, alertsFile, config: loadConfig({ file: configFile, env: {} }) };
}

/**
 * Two CloudTrail objects, the second ending in a burst of failed console sign-ins from one address, and
 * the correlation over that burst as the only rule: its window is still open when the input ends, so its
 * alert is written only when detection is finished.
 */
function burstReplay(options: { alertsFileUnwritable?: boolean } = {}) {
  return replayFixture(
    {
      'ct-1.json': cloudTrailObjectText(generateCloudTrailRecords({ seed: 21, count: 20 })),
      'ct-2.json': cloudTrailObjectText(generateCloudTrailRecords({ seed: 22, count: 5, suspicious: true })),
    },
    'cloudtrail/aws_console_login_failure_burst_per_source_ip.yml',
    options,
  );
}

/** What the command prints on stdout (its summary); the progress line on stderr is silenced. */
function captureOutput(): () => string {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += chunk.toString();
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  return () => out;
}

let exitCodeBefore: typeof process.exitCode;
beforeEach(() => {
  exitCodeBefore = process.exitCode;
  process.exitCode = undefined;
});
afterEach(() => {
  process.exitCode = exitCodeBefore;
  sourceFault.error = undefined;
  vi.restoreAllMocks();
});

describe('replay', () => {
  it('prints its summary and fails when in-stream alerts cannot be written to the alerts file', async () => {
    const { from, alertsFile, config } = replayFixture(
      { 'trail.json': JSON.stringify({ Records: [failedLogin('e1'), failedLogin('e2')] }) },
      'cloudtrail/aws_console_login_failure.yml',
      { alertsFileUnwritable: true },
    );
    const { log, lines } = captureLogger();
    const out = captureOutput();

    const result = await replayCommandWith(config, log, { from });

    expect(result).toMatchObject({ records: 2, failed: 0, deadLettered: 0 });
    expect(JSON.parse(out())).toMatchObject({
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

  it('writes the alerts of open correlation windows when the source fails part-way, and fails with its error', async () => {
    const { from, alertsFile, config } = burstReplay();
    const { log } = captureLogger();
    const out = captureOutput();
    const denied = listingDenied();
    sourceFault.error = denied;

    await expect(replayCommandWith(config, log, { from })).rejects.toBe(denied);

    expect(existsSync(alertsFile)).toBe(true);
    const alerts = readFileSync(alertsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      rule: { id: 'eb705e72-922a-48ab-9707-d1f8fb1fad0e' }, // aws_console_login_failure_burst_per_source_ip
      group: { sourceIPAddress: '203.0.113.66' },
      value: 12,
    });
    // As before: a replay that fails prints no summary; its error is what the command reports.
    expect(out()).toBe('');
    expect(process.exitCode).toBeUndefined();
  });

  it('still fails with the source error when the alerts of the open windows cannot be written either', async () => {
    const { from, alertsFile, config } = burstReplay({ alertsFileUnwritable: true });
    const { log, lines } = captureLogger();
    captureOutput();
    const denied = listingDenied();
    sourceFault.error = denied;

    await expect(replayCommandWith(config, log, { from })).rejects.toBe(denied);

    const lost = lines().filter((l) => l.level === 50 && l.msg === 'in-stream alerts were lost');
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ alertsFile });
    expect(String(lost[0]?.err)).toContain(`1 alert(s) could not be written to ${alertsFile}`);
  });
});
