import { hec } from './hec.js';
import { moto } from './moto.js';
import { opensearch } from './opensearch.js';
import { displayPath } from './paths.js';
import {
  freePort,
  isOurProcess,
  ServiceError,
  seconds,
  stopProcessGroup,
  waitUntilHealthy,
} from './process.js';
import type { ServiceDefinition } from './service.js';
import {
  readOrCreateState,
  readState,
  type ServiceName,
  type ServiceRecord,
  type ServicesState,
  serviceNames,
  withServicesLock,
  writeState,
} from './state.js';

export type Log = (line: string) => void;

const definitions: Record<ServiceName, ServiceDefinition> = { moto, opensearch, hec };

const defaultLog: Log = (line) => process.stderr.write(`[services] ${line}\n`);

function lockOptions(log: Log) {
  return { onWait: (pid: number) => log(`waiting for another services command (pid ${pid}) to finish`) };
}

/** Builds or downloads whatever is missing or stale; a no-op when the cache is current. */
export async function installServices(log: Log = defaultLog): Promise<void> {
  await withServicesLock(() => installAll(log), lockOptions(log));
}

async function installAll(log: Log): Promise<void> {
  // One at a time: each step is CPU-heavy, and a failure then names exactly one service.
  for (const name of serviceNames) {
    const definition = definitions[name];
    const result = await definition.install();
    if (result.built) {
      const where = result.logFile ? ` (log: ${displayPath(result.logFile)})` : '';
      log(`${name}: installed in ${seconds(result.ms)}${where}`);
    } else {
      log(`${name}: install cached`);
    }
  }
}

/** A running, healthy service from the state file, or undefined. */
async function liveRecord(name: ServiceName, state: ServicesState): Promise<ServiceRecord | undefined> {
  const record = state.services[name];
  if (!record || !isOurProcess(record.pid)) return undefined;
  const healthy = await definitions[name].healthy(record, state).catch(() => false);
  return healthy ? record : undefined;
}

async function startOne(name: ServiceName, state: ServicesState, log: Log): Promise<ServiceRecord> {
  const definition = definitions[name];
  const stale = state.services[name];
  if (stale && isOurProcess(stale.pid)) {
    log(`${name}: pid ${stale.pid} is running but not healthy; restarting it`);
    await stopProcessGroup(stale.pid);
  }
  const started = Date.now();
  const port = await freePort();
  const process_ = await definition.start({ port, state }).catch((error: unknown) => {
    if (error instanceof ServiceError) throw error;
    throw new ServiceError(
      definition.title,
      definition.logFile,
      `could not start: ${(error as Error).message}`,
    );
  });
  const record: ServiceRecord = {
    pid: process_.pid,
    port,
    url: process_.url,
    logFile: definition.logFile,
    startedAt: new Date().toISOString(),
    ...process_.extra,
  };
  await waitUntilHealthy(definition.title, () => definition.healthy(record, state), {
    pid: record.pid,
    logFile: definition.logFile,
    timeoutMs: definition.startTimeoutMs,
  });
  log(
    `${name}: started in ${seconds(Date.now() - started)} at ${record.url} (pid ${record.pid}, log ${displayPath(record.logFile)})`,
  );
  return record;
}

/**
 * Installs what is missing, reuses live healthy services and starts the others in parallel. Rejects with
 * the failures of every service that could not start, each naming the service and its log.
 */
export async function upServices(log: Log = defaultLog): Promise<ServicesState> {
  return await withServicesLock(async () => {
    await installAll(log);
    const state = await readOrCreateState();
    const failures: Error[] = [];
    await Promise.all(
      serviceNames.map(async (name) => {
        const live = await liveRecord(name, state);
        if (live) {
          log(`${name}: already up at ${live.url} (pid ${live.pid})`);
          return;
        }
        try {
          state.services[name] = await startOne(name, state, log);
        } catch (error) {
          delete state.services[name];
          failures.push(error as Error);
        }
        await writeState(state);
      }),
    );
    await writeState(state);
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      throw new Error(
        `${failures.length} test services failed to start:\n\n${failures.map((failure) => failure.message).join('\n\n')}`,
      );
    }
    return state;
  }, lockOptions(log));
}

export async function downServices(log: Log = defaultLog): Promise<void> {
  await withServicesLock(async () => {
    const state = await readState();
    if (!state) {
      log('nothing to stop');
      return;
    }
    await Promise.all(
      serviceNames.map(async (name) => {
        const record = state.services[name];
        if (!record) return;
        if (isOurProcess(record.pid)) {
          await stopProcessGroup(record.pid);
          log(`${name}: stopped pid ${record.pid}`);
        } else {
          log(`${name}: pid ${record.pid} was not running`);
        }
        delete state.services[name];
      }),
    );
    await writeState(state);
  }, lockOptions(log));
}

export interface ServiceStatus {
  name: ServiceName;
  up: boolean;
  url?: string;
  pid?: number;
  logFile: string;
}

export async function servicesStatus(): Promise<ServiceStatus[]> {
  const state = await readState();
  return await Promise.all(
    serviceNames.map(async (name): Promise<ServiceStatus> => {
      const record = state?.services[name];
      const up = state ? (await liveRecord(name, state)) !== undefined : false;
      return {
        name,
        up,
        logFile: displayPath(record?.logFile ?? definitions[name].logFile),
        ...(record ? { url: record.url, pid: record.pid } : {}),
      };
    }),
  );
}
