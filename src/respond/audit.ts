import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ActionName } from './config.js';
import type { OutcomeStatus, Requester } from './types.js';

/** One line of the audit log. */
export interface AuditEntry {
  time: string;
  /** `applying` is written before the first AWS write, so an interrupted action still shows its intent. */
  event: OutcomeStatus | 'applying' | 'undoing';
  action: ActionName;
  target: string;
  alertId?: string | undefined;
  requester: Requester;
  dryRun: boolean;
  changes: string[];
  warnings?: string[] | undefined;
  requestIds?: string[] | undefined;
  reason?: string | undefined;
  error?: { code?: string; message: string } | undefined;
}

export interface AuditSink {
  write(entry: AuditEntry): void;
}

/** Append-only JSONL file; each entry is one `write` with O_APPEND, so concurrent writers never interleave. */
export class JsonlAuditLog implements AuditSink {
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
    mkdirSync(dirname(file), { recursive: true });
  }

  write(entry: AuditEntry): void {
    appendFileSync(this.#file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  }
}

/** Keeps entries in memory; for tests and for echoing the audit trail of one CLI command. */
export class MemoryAuditLog implements AuditSink {
  readonly entries: AuditEntry[] = [];

  write(entry: AuditEntry): void {
    this.entries.push(entry);
  }
}

/** Writes each entry to several sinks: the JSONL file (the record of truth) and, say, the SIEM. */
export class TeeAuditLog implements AuditSink {
  readonly #sinks: AuditSink[];

  constructor(...sinks: AuditSink[]) {
    this.#sinks = sinks;
  }

  write(entry: AuditEntry): void {
    for (const sink of this.#sinks) sink.write(entry);
  }
}
