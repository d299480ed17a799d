import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
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
 * Serialises up/down/install between concurrent callers in one checkout (parallel vitest runs, CI and a
 * developer). A lock left by a dead process is taken over.
 */
export async function withServicesLock<T>(
  fn: () => Promise<T>,
  options: { timeoutMs?: number; onWait?: (holderPid: number) => void } = {},
): Promise<T> {
  await mkdir(servicesCacheDir, { recursive: true });
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  let announced = false;
  for (;;) {
    try {
      await writeFile(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
    if (!isAlive(holder)) {
      await unlink(lockFile).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `test services are locked by pid ${holder} (${displayPath(lockFile)}); gave up waiting`,
      );
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
    await unlink(lockFile).catch(() => undefined);
  }
}
