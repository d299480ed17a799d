import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cacheDir, displayPath } from './paths.js';

/** A service could not be installed or started; the message names the service and its log file. */
export class ServiceError extends Error {
  constructor(
    readonly service: string,
    readonly logFile: string,
    problem: string,
  ) {
    super(`${service}: ${problem} (log: ${displayPath(logFile)})${logTailForMessage(logFile)}`);
    this.name = 'ServiceError';
  }
}

function logTailForMessage(logFile: string): string {
  const tail = readTailSync(logFile, 25);
  return tail ? `\n--- last lines of ${displayPath(logFile)} ---\n${tail}` : '';
}

function readTailSync(file: string, lines: number): string {
  try {
    // Synchronous: this runs inside an error constructor.
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Asks the kernel for a free loopback port; a checkout records the ports it picked in its own state file. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port of a probe socket'));
      });
    });
  });
}

export interface DetachedProcess {
  pid: number;
}

/**
 * Starts a long-lived service in its own process group with its output in logFile, and lets this
 * process exit without it: services outlive a vitest run so the next run reuses them.
 */
export async function spawnDetached(
  command: string,
  args: readonly string[],
  options: { logFile: string; cwd: string; env?: NodeJS.ProcessEnv },
): Promise<DetachedProcess> {
  await mkdir(path.dirname(options.logFile), { recursive: true });
  // One log per start: a failure message then quotes this start's lines, not an earlier run's.
  const fd = openSync(options.logFile, 'w');
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => {
        if (child.pid === undefined) reject(new Error(`${command} started without a pid`));
        else resolve(child.pid);
      });
    });
    child.unref();
    return { pid };
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM means it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when pid is alive and was started from this checkout's cache (its command line names it). A pid in
 * an old state file may since have been reused by an unrelated process, which must never be signalled.
 */
export function isOurProcess(pid: number | undefined): boolean {
  if (pid === undefined || !isAlive(pid)) return false;
  let commandLine: string;
  try {
    commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // No procfs (macOS): fall back to liveness alone.
    return !existsSync('/proc/self');
  }
  // Arguments are NUL-separated; a cache path starts an argument, an --option= value or a classpath entry.
  return commandLine.split(/[\0=:]/).some((part) => part.startsWith(`${cacheDir}${path.sep}`));
}

/** SIGTERM to the whole process group (the JVM, the collector, moto's workers), SIGKILL after a grace period. */
export async function stopProcessGroup(pid: number, graceMs = 10_000): Promise<void> {
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  };
  if (!isAlive(pid)) return;
  signalGroup('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(100);
  }
  signalGroup('SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (isAlive(pid) && Date.now() < killDeadline) await sleep(50);
}

/**
 * Polls probe() until it returns true. Fails early if the process died, and after timeoutMs otherwise,
 * with an error that names the service and points at its log.
 */
export async function waitUntilHealthy(
  service: string,
  probe: () => Promise<boolean>,
  options: { pid: number; logFile: string; timeoutMs: number; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (!isAlive(options.pid)) {
      throw new ServiceError(
        service,
        options.logFile,
        `process ${options.pid} exited before it became healthy`,
      );
    }
    if (Date.now() >= deadline) {
      throw new ServiceError(
        service,
        options.logFile,
        `not healthy after ${Math.round(options.timeoutMs / 1000)}s (pid ${options.pid} still running)`,
      );
    }
    await sleep(options.intervalMs ?? 250);
  }
}

/** Resolves true when an HTTP GET answers with a status accepted by `ok` within a short timeout. */
export async function httpProbe(
  url: string,
  init: { headers?: Record<string, string>; ok?: (status: number, body: string) => boolean } = {},
): Promise<boolean> {
  const response = await fetch(url, {
    headers: init.headers ?? {},
    signal: AbortSignal.timeout(2_000),
  });
  const body = await response.text();
  return (init.ok ?? ((status) => status >= 200 && status < 300))(response.status, body);
}

/**
 * Runs a build or install step to completion with its output in logFile; a failure names the service, the
 * command and the log. Returns the elapsed milliseconds.
 */
export async function runStep(
  service: string,
  command: string,
  args: readonly string[],
  options: { logFile: string; cwd: string; env?: NodeJS.ProcessEnv },
): Promise<number> {
  await mkdir(path.dirname(options.logFile), { recursive: true });
  const started = Date.now();
  const fd = openSync(options.logFile, 'a');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['ignore', fd, fd],
      });
      child.once('error', (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'ENOENT'
            ? new ServiceError(service, options.logFile, `'${command}' is not installed or not on PATH`)
            : error,
        );
      });
      child.once('exit', (exitCode) => resolve(exitCode));
    });
    if (code !== 0) {
      throw new ServiceError(
        service,
        options.logFile,
        `'${command} ${args.join(' ')}' failed with exit ${code}`,
      );
    }
  } finally {
    closeSync(fd);
  }
  return Date.now() - started;
}

/** A digest of the inputs of a build, so a cached artifact is rebuilt exactly when its inputs change. */
export async function fingerprint(files: readonly string[], extra: readonly string[] = []): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(file);
    hash.update(await readFile(file));
  }
  for (const value of extra) hash.update(value);
  return hash.digest('hex');
}

/** True when the stamp file holds this fingerprint and every artifact exists. */
export async function isUpToDate(
  stampFile: string,
  print: string,
  artifacts: readonly string[],
): Promise<boolean> {
  if (!artifacts.every((artifact) => existsSync(artifact))) return false;
  const recorded = await readFile(stampFile, 'utf8').catch(() => '');
  return recorded.trim() === print;
}

export async function writeStamp(stampFile: string, print: string): Promise<void> {
  await mkdir(path.dirname(stampFile), { recursive: true });
  await writeFile(stampFile, `${print}\n`);
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
