import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CFN_LINT_VERSION = '1.58.0';
// Our own venv under the ignored .cache/, so it never collides with the services' Python.
const venv = path.join(repo, '.cache', 'venv-cfnlint');
const cfnLint = path.join(venv, 'bin', 'cfn-lint');

/** Installs the pinned cfn-lint once (idempotent: reused when the pinned version is already there). */
async function ensureCfnLint(): Promise<void> {
  if (existsSync(cfnLint)) {
    const { stdout } = await run(cfnLint, ['--version']).catch(() => ({ stdout: '' }));
    if (stdout.includes(CFN_LINT_VERSION)) return;
  }
  if (!existsSync(path.join(venv, 'bin', 'python'))) await run('python3', ['-m', 'venv', venv]);
  await run(path.join(venv, 'bin', 'pip'), ['install', '--quiet', `cfn-lint==${CFN_LINT_VERSION}`], {
    timeout: 300_000,
  });
}

describe('cfn-lint', () => {
  beforeAll(ensureCfnLint, 400_000);

  it.each(['deploy/cloudformation/template.yaml', 'deploy/container/ecs-fargate.yaml'])(
    '%s passes with no error, warning or informational finding',
    async (rel) => {
      const result = await run(cfnLint, ['--format', 'parseable', path.join(repo, rel)]).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
      );
      expect(result.stdout).toBe('');
      expect(result.code).toBe(0);
    },
    120_000,
  );

  it('would fail a template with an error (the check is live)', async () => {
    const bad = path.join(repo, '.cache', 'cfn-lint-planted.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      bad,
      'Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      VisibilityTimeout: 99999\n',
    );
    const code = await run(cfnLint, [bad]).then(
      () => 0,
      (e: { code: number }) => e.code,
    );
    expect(code).not.toBe(0);
  }, 120_000);
});
