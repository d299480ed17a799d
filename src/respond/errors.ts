import { ConnectorError, type ErrorDetails } from '../errors.js';

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
