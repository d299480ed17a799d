/**
 * One error type for everything the connector reports to a user. `code` is stable (documented, matched
 * by tests and alerting); `details` carries the data an operator needs to find the problem (bucket, key,
 * record index, HTTP status, config file and key).
 */
export type ErrorDetails = Record<string, string | number | boolean | undefined>;

export class ConnectorError extends Error {
  readonly code: string;
  readonly details: ErrorDetails;

  constructor(code: string, message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, ...this.details };
  }
}

/** A command or capability that is declared but not built yet. The CLI maps it to exit status 2. */
export class NotImplementedError extends ConnectorError {
  constructor(what: string) {
    super('NOT_IMPLEMENTED', `${what}: not implemented yet`);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
