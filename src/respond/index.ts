export {
  AUDIT_TO_STDOUT,
  type AuditEntry,
  type AuditSink,
  auditLogTarget,
  createAuditLog,
  JsonlAuditLog,
  MemoryAuditLog,
  StdoutAuditLog,
  TeeAuditLog,
} from './audit.js';
export { createResponseClients, type ResponseClients, type StaticCredentials } from './clients.js';
export {
  ACTION_NAMES,
  type ActionName,
  parseIpSetArn,
  type RespondConfig,
  respondConfigSchema,
} from './config.js';
export { Ec2IsolateResponder } from './ec2.js';
export { ActionAlreadyRecordedError, ActionFailedError, ActionRefusedError } from './errors.js';
export { createActionStore, createResponseRunner, type ResponseRunnerOptions } from './factory.js';
export { IamDisableResponder, parsePrincipal } from './iam.js';
export { normaliseBlockTarget } from './ip.js';
export {
  type ActionRequest,
  type CompactionReport,
  idempotencyKey,
  ResponseRunner,
  type RunMode,
} from './runner.js';
export { S3ActionStore } from './s3-store.js';
export {
  type ActionRecord,
  type ActionStore,
  type CompactOptions,
  type CompactResult,
  JsonlActionStore,
} from './store.js';
export type { ActionOutcome, OutcomeStatus, Requester, Responder } from './types.js';
export { WafBlockResponder } from './waf.js';
