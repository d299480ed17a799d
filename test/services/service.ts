import type { ServiceName, ServiceRecord, ServicesState } from './state.js';

export interface InstallResult {
  /** False when the cached build was up to date and nothing ran. */
  built: boolean;
  ms: number;
  logFile?: string;
}

export interface StartContext {
  port: number;
  state: ServicesState;
}

export interface StartedProcess {
  pid: number;
  url: string;
  extra?: Pick<ServiceRecord, 'outputFile' | 'transportPort'>;
}

/** One local stand-in for a real peer: how to build it, start it detached, and tell that it serves. */
export interface ServiceDefinition {
  name: ServiceName;
  title: string;
  logFile: string;
  startTimeoutMs: number;
  install(): Promise<InstallResult>;
  start(context: StartContext): Promise<StartedProcess>;
  healthy(record: ServiceRecord, state: ServicesState): Promise<boolean>;
}
