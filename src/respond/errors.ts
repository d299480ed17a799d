import { ConnectorError, type ErrorDetails, errorMessage } from '../errors.js';

/** A guardrail refused the target (private address, protected principal, …). Nothing was changed. */
export class ActionRefusedError extends ConnectorError {
  constructor(reason: string, details: ErrorDetails = {}) {
    super('RESPOND_REFUSED', reason, { details });
  }
}

/** An AWS call failed after the SDK's own retries; what had been changed so far is in `details`. */
export class ActionFailedError extends ConnectorError {
  constructor(message: string, details: ErrorDetails = {}, cause?: unknown) {
    super('RESPOND_FAILED', message, { details, cause });
  }
}

/**
 * An apply that failed after it had changed something. `prior` holds exactly what was changed, so that
 * the runner records it and undo can revert a half-done action; a retry then plans from the new state.
 */
export class PartialApplyError extends ConnectorError {
  readonly prior: unknown;
  readonly changes: string[];
  readonly requestIds: string[];

  constructor(cause: unknown, done: { prior: unknown; changes: string[]; requestIds: string[] }) {
    super('RESPOND_PARTIAL', `failed after ${done.changes.length} change(s): ${errorMessage(cause)}`, {
      cause,
    });
    this.prior = done.prior;
    this.changes = done.changes;
    this.requestIds = done.requestIds;
  }
}

/** What an apply throws when a step fails: the error itself when nothing had changed yet. */
export function afterChanges(
  cause: unknown,
  done: { prior: unknown; changes: string[]; requestIds: string[] },
): unknown {
  return done.changes.length === 0 ? cause : new PartialApplyError(cause, done);
}

/**
 * A shared action store already holds an active record under this key: another receiver (a concurrent
 * Lambda container) acted on the same alert and recorded it first.
 */
export class ActionAlreadyRecordedError extends ConnectorError {
  constructor(key: string) {
    super('RESPOND_ALREADY_RECORDED', `an active record already exists under ${key}`, { details: { key } });
  }
}
