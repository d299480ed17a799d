import { ConnectorError, type ErrorDetails } from '../errors.js';

/** A dashboard source file is invalid (DASHBOARD_SPEC_INVALID). */
export class DashboardSpecError extends ConnectorError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('DASHBOARD_SPEC_INVALID', message, { details });
  }
}

/** Kibana or Splunk refused or failed an install request (DASHBOARD_INSTALL_FAILED). */
export class DashboardInstallError extends ConnectorError {
  constructor(message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super('DASHBOARD_INSTALL_FAILED', message, options);
  }
}
