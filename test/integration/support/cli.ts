import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';

export const repo = resolve(import.meta.dirname, '../../..');

/** A fresh working folder under the ignored cache, with a connector config file written into it. */
export function writeConfig(
  group: string,
  config: (dir: string) => Record<string, unknown>,
): { dir: string; file: string } {
  const dir = join(repo, '.cache', group, randomUUID().slice(0, 8));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'connector.yml');
  writeFileSync(file, stringify(config(dir)));
  return { dir, file };
}

// Node itself is the child (tsx as an import hook, not a wrapper process), so a signal reaches the connector.
// `src/cli.ts` runs the command in place; `src/bin.ts` is the installed command, which may first relaunch
// `run` and `replay` with a capped heap (its own test uses it).
const cliArgs = (args: string[], entry = 'src/cli.ts') => ['--import', 'tsx', join(repo, entry), ...args];
const testEnv = (env: NodeJS.ProcessEnv = {}) => ({
  ...process.env,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  ...env,
});

export interface ConnectorProcess {
  child: ChildProcess;
  /** Everything the process wrote to stderr so far (its logs). */
  log(): string;
  exited: Promise<number | null>;
}

/** The connector as users run it: a separate process started by the CLI. */
export function spawnCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; logFile?: string; entry?: 'src/cli.ts' | 'src/bin.ts' } = {},
): ConnectorProcess {
  const child = spawn(process.execPath, cliArgs(args, options.entry), {
    cwd: repo,
    env: testEnv(options.env),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
    if (options.logFile) writeFileSync(options.logFile, log);
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, log: () => log, exited };
}

/** Runs a CLI command to its end; rejects on a non-zero exit. */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, cliArgs(args), {
    cwd: repo,
    env: testEnv(options.env),
    timeout: options.timeoutMs ?? 120_000,
  });
}
