import { ConnectorError, type ErrorDetails } from '../errors.js';

/** A rule file that cannot be used: names the file, the line and, where known, the field. */
export class RuleError extends ConnectorError {
  constructor(message: string, details: ErrorDetails & { file: string; line?: number }, cause?: unknown) {
    const where = details.line ? `${details.file}:${details.line}` : details.file;
    super('RULE_INVALID', `${where}: ${message}`, { details, cause });
  }
}

/** A rule that a backend cannot express (a field without a mapping, an unsupported construct). */
export class RuleCompileError extends ConnectorError {
  constructor(message: string, details: ErrorDetails & { rule: string; backend: string }) {
    super('RULE_COMPILE', `${details.rule} (${details.backend}): ${message}`, { details });
  }
}

/** An installer call that Kibana or Splunk refused. */
export class RuleInstallError extends ConnectorError {
  constructor(message: string, details: ErrorDetails & { target: string }) {
    super('RULE_INSTALL', message, { details });
  }
}
