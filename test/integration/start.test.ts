import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');

describe('npm start (the embedded demo)', () => {
  it('replays the bundled samples into ./out with no AWS account and no SIEM, and prints a summary', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'asc-start-'));
    // What `npm start` runs, from a directory of the user's choosing.
    const { stdout } = await promisify(execFile)(
      join(repo, 'node_modules/.bin/tsx'),
      [join(repo, 'src/cli.ts'), 'run'],
      {
        cwd,
        env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', ASC_LOG_LEVEL: 'warn' },
        timeout: 120_000,
      },
    );
    const summary = JSON.parse(stdout.slice(stdout.indexOf('{')));
    expect(summary.objects).toBeGreaterThan(0);
    expect(summary.records).toBeGreaterThan(0);
    expect(summary.failed).toBe(0);
    expect(summary.deadLettered).toBe(0);
    const files = readdirSync(join(cwd, 'out')).sort();
    expect(files).toEqual(expect.arrayContaining(['cloudtrail.ecs.ndjson', 'vpcflow.ecs.ndjson']));
    const lines = files
      .filter((f) => f.endsWith('.ecs.ndjson'))
      .flatMap((f) =>
        readFileSync(join(cwd, 'out', f), 'utf8')
          .trim()
          .split('\n'),
      );
    expect(lines).toHaveLength(summary.records);
    // The samples hold an attack story (failed console logins, StopLogging, a backdoor access key, a scan).
    expect(summary.alerts).toBeGreaterThan(0);
    const alerts = readFileSync(join(cwd, 'out', 'alerts.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(alerts).toHaveLength(summary.alerts);
    expect(alerts.map((a) => a.rule.name)).toContain('CloudTrail logging stopped');
    const first = JSON.parse(lines[0]!);
    expect(first['@timestamp']).toBeDefined();
    expect(first.event.module).toBe('aws');
  });
});
