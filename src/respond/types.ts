import type { ActionName } from './config.js';

/** Who asked for an action; every audit line carries it. */
export interface Requester {
  /** `webhook:splunk`, `webhook:kibana`, `webhook:generic`, `cli`, `sweeper`, `lambda:…`. */
  source: string;
  rule?: string | undefined;
  /** The person, for the CLI. */
  user?: string | undefined;
}

/** What a responder would change, computed from AWS state read just now; `changes` empty = nothing to do. */
export interface ResponderPlan<D = unknown> {
  action: ActionName;
  /** Normalised target (e.g. `203.0.113.7/32`, `user/alice`, `i-0abc…`). */
  target: string;
  changes: string[];
  warnings: string[];
  /** What apply needs (resolved ids, current state); opaque to the runner. */
  detail: D;
}

export interface ApplyResult<S = unknown> {
  changes: string[];
  /** `$metadata.requestId` of every write call. */
  requestIds: string[];
  /** Exactly what was changed, so that undo restores it and nothing else. */
  prior: S;
}

export interface UndoResult {
  changes: string[];
  requestIds: string[];
  warnings: string[];
}

export interface PlanContext {
  alertId?: string;
  /**
   * The target as the alert or person wrote it. An ARN names an account and a role that the normalised
   * target (`user/alice`, `i-0abc…`) no longer carries; the plan checks them against what AWS reports.
   */
  requested?: string;
}

/**
 * One response action. `plan` only reads; `apply` changes AWS to match the plan; `undo` restores what a
 * given `apply` recorded. All three are idempotent: running one twice changes nothing the second time.
 */
export interface Responder<D = unknown, S = unknown> {
  readonly action: ActionName;
  /**
   * The canonical form of a target, syntax only, no AWS call; throws `ActionRefusedError` for what is not
   * a target at all. Undo uses this alone: a guardrail added after an action must not keep a person (or
   * the TTL sweeper) from reverting it.
   */
  normalise(target: string): string;
  /** Static guardrails on a normalised target (protected names, allow-list, ranges), no AWS call. */
  guard(target: string): void;
  plan(target: string, context?: PlanContext): Promise<ResponderPlan<D>>;
  apply(plan: ResponderPlan<D>): Promise<ApplyResult<S>>;
  undo(prior: S): Promise<UndoResult>;
  /** For undo without a stored record (only where the prior state is implied by the target). */
  priorWithoutRecord?(target: string): S | undefined;
}

export type OutcomeStatus = 'planned' | 'applied' | 'unchanged' | 'skipped' | 'refused' | 'failed' | 'undone';

/** The answer for one action: what the webhook returns and the CLI prints. */
export interface ActionOutcome {
  action: ActionName;
  target: string;
  status: OutcomeStatus;
  reason?: string;
  changes: string[];
  warnings: string[];
  requestIds: string[];
  /** ISO time at which a WAF block will be swept. */
  expiresAt?: string;
}
