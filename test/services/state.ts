import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { displayPath, lockFile, servicesCacheDir, stateFile } from './paths.js';
import { isAlive } from './process.js';

export type ServiceName = 'moto' | 'opensearch' | 'hec';
export const serviceNames: readonly ServiceName[] = ['moto', 'opensearch', 'hec'];

export interface ServiceRecord {
  pid: number;
  port: number;
  url: string;
  logFile: string;
  startedAt: string;
  /** HEC only: where the file exporter writes what the receiver accepted. */
  outputFile?: string;
  /** OpenSearch only: the node's transport port, reserved alongside the HTTP port. */
  transportPort?: number;
}

export interface ServicesState {
  /** The HEC token is made once per checkout and kept, so restarts do not invalidate a running test's view. */
  hecToken: string;
  services: Partial<Record<ServiceName, ServiceRecord>>;
}

export async function readState(): Promise<ServicesState | undefined> {
  let text: string;
  try {
    text = await readFile(stateFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as ServicesState;
  } catch (error) {
    throw new Error(
      `${displayPath(stateFile)} is not valid JSON (${(error as Error).message}); run 'npm run services -- down'`,
    );
  }
}

export async function readOrCreateState(): Promise<ServicesState> {
  return (await readState()) ?? { hecToken: randomUUID(), services: {} };
}

export async function writeState(state: ServicesState): Promise<void> {
  await mkdir(servicesCacheDir, { recursive: true });
  const temporary = `${stateFile}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temporary, stateFile);
}

/**
 * Removes a lock whose holder is gone. Renaming first makes the removal atomic: if another process took the
 * lock over between our read and now, we moved *its* lock and put it straight back.
 */
async function removeStaleLock(lock: string, staleContent: string): Promise<void> {
  const moved = `${lock}.${process.pid}.${Date.now()}.stale`;
  try {
    await rename(lock, moved);
  } catch {
    return; // someone else removed it first
  }
  const content = await readFile(moved, 'utf8').catch(() => staleContent);
  if (content !== staleContent) await link(moved, lock).catch(() => undefined);
  await unlink(moved).catch(() => undefined);
}

/**
 * Serialises up/down/install between concurrent callers in one checkout (parallel vitest runs, CI and a
 * developer). A lock left by a dead process is taken over.
 */
export async function withServicesLock<T>(
  fn: () => Promise<T>,
  options: { timeoutMs?: number; onWait?: (holderPid: number) => void; lockPath?: string } = {},
): Promise<T> {
  const lock = options.lockPath ?? lockFile;
  await mkdir(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  let announced = false;
  for (;;) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const content = await readFile(lock, 'utf8').catch(() => undefined);
    if (content === undefined) continue; // released meanwhile
    const holder = Number.parseInt(content, 10);
    if (Number.isNaN(holder)) {
      // Created but not yet written by its holder, or left empty by a crash long ago.
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 5_000) await removeStaleLock(lock, content);
      else await sleep(50);
      continue;
    }
    if (!isAlive(holder)) {
      await removeStaleLock(lock, content);
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`test services are locked by pid ${holder} (${displayPath(lock)}); gave up waiting`);
    }
    if (!announced) {
      options.onWait?.(holder);
      announced = true;
    }
    await sleep(500);
  }
  try {
    return await fn();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}
