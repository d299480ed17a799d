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

/** The `respond.auditLog` value that sends audit lines to stdout. */
export const AUDIT_TO_STDOUT = '-';

/**
 * One JSON line per entry on stdout, for Lambda: CloudWatch Logs keeps them, and the deployment's metric
 * filters count them (they match `requester.source`, which log lines do not carry at the top level). The
 * line is the same as a line of the JSONL file. On Linux a write to a pipe or file is synchronous, so the
 * line is out before the action starts.
 */
export class StdoutAuditLog implements AuditSink {
  readonly #write: (line: string) => void;

  constructor(write: (line: string) => void = (line) => void process.stdout.write(line)) {
    this.#write = write;
  }

  write(entry: AuditEntry): void {
    this.#write(`${JSON.stringify(entry)}\n`);
  }
}

/** Where `respond.auditLog` sends audit lines when unset: stdout in Lambda, where the code is read-only. */
export function auditLogTarget(
  respond: { auditLog?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): string {
  return respond.auditLog ?? (env.AWS_LAMBDA_FUNCTION_NAME ? AUDIT_TO_STDOUT : 'audit/actions.jsonl');
}

/** The sink a `respond.auditLog` value names: `-` is stdout, anything else a JSONL file. */
export function createAuditLog(target: string): AuditSink {
  return target === AUDIT_TO_STDOUT ? new StdoutAuditLog() : new JsonlAuditLog(target);
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
