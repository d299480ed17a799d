import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { metrics } from '../observe/metrics.js';
import { WindowRateLimiter } from '../rate-limit.js';
import type { AuditEntry, AuditSink } from './audit.js';
import type { ActionName, RespondConfig } from './config.js';
import { ActionAlreadyRecordedError, ActionRefusedError, PartialApplyError } from './errors.js';
import { CircuitBreaker } from './limits.js';
import type { ActionRecord, ActionStore, CompactResult } from './store.js';
import type { ActionOutcome, Requester, Responder } from './types.js';

/**
 * How the caller wants it done. `auto` (alerts) applies only when `respond.dryRun` is false and the
 * action is enabled; `apply` is a person's explicit decision (the CLI) and acts whatever those say;
 * `plan` never changes anything. Guardrails, rate limits, the breaker and the audit apply to all three.
 */
export type RunMode = 'auto' | 'plan' | 'apply';

export interface ActionRequest {
  action: ActionName;
  target: string;
  alertId: string;
  requester: Requester;
  mode: RunMode;
  /** WAF blocks: overrides respond.waf.ttlSeconds (0 = until undone). */
  ttlSeconds?: number | undefined;
}

/** What one compaction of the action store did (or, planned, would do). */
export interface CompactionReport {
  dryRun: boolean;
  retentionDays: number;
  /** Records undone at or before this time are finished for good. */
  finishedBefore: string;
  removed: CompactResult['removed'];
  /** More were due than one compaction removes; the next sweep goes on. */
  more: boolean;
}

const DAY_MS = 86_400_000;

export interface RunnerDeps {
  responders: Partial<Record<ActionName, Responder>>;
  store: ActionStore;
  audit: AuditSink;
  log?: Pick<Logger, 'info' | 'warn' | 'error'> | undefined;
  now?: () => Date;
}

/**
 * The one place that decides whether an action runs: idempotency, dry-run, rate limit, circuit breaker,
 * then the responder; and the one place that writes the audit log and the action store. Never throws
 * for an action's failure: every request ends in an outcome.
 */
export class ResponseRunner {
  readonly #config: RespondConfig;
  readonly #deps: RunnerDeps;
  readonly #now: () => Date;
  readonly #limiters = new Map<ActionName, WindowRateLimiter>();
  readonly #breaker: CircuitBreaker;
  /** Keys being applied right now, so two copies of one alert arriving together act once. */
  readonly #inFlight = new Set<string>();

  constructor(config: RespondConfig, deps: RunnerDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
    this.#breaker = new CircuitBreaker(
      config.circuitBreaker.failureThreshold,
      config.circuitBreaker.openSeconds * 1000,
    );
  }

  /** True when an `auto` request for this action would change AWS. */
  isLive(action: ActionName): boolean {
    return !this.#config.dryRun && this.#config.enabled[action];
  }

  async run(request: ActionRequest): Promise<ActionOutcome> {
    const base = {
      action: request.action,
      target: request.target,
      changes: [],
      warnings: [],
      requestIds: [],
    };
    const responder = this.#deps.responders[request.action];
    if (!responder)
      return this.#finish(request, {
        ...base,
        status: 'skipped',
        reason: `${request.action} is not configured`,
      });
    let target: string;
    try {
      target = responder.normalise(request.target);
      responder.guard(target);
    } catch (err) {
      return this.#finish(request, { ...base, status: 'refused', reason: errorMessage(err) });
    }
    const key = idempotencyKey(request.alertId, request.action, target);
    // Marked before the store is read: a copy arriving while the read is in flight must not read the
    // store too and find it as empty as the first did.
    if (this.#inFlight.has(key)) {
      return this.#finish(request, {
        ...base,
        target,
        status: 'skipped',
        reason: 'the same action for this alert is in progress',
      });
    }
    this.#inFlight.add(key);
    try {
      let done: ActionRecord | undefined;
      try {
        // The durable store answers, not a copy read at start: another receiver may have acted since.
        done = await this.#deps.store.get(key);
      } catch (err) {
        return this.#finish(
          request,
          {
            ...base,
            target,
            status: 'failed',
            reason: `the action store cannot be read, so nothing was done: ${errorMessage(err)}`,
          },
          err,
        );
      }
      // An undone action (by a person or the TTL sweeper) no longer answers for its alert: an alert that
      // is still firing under the same id acts again.
      if (done && !done.undoneAt && request.mode !== 'plan') {
        return this.#finish(request, {
          ...base,
          target,
          status: 'skipped',
          reason: `already applied for alert ${request.alertId} at ${done.appliedAt}`,
        });
      }
      return await this.#planAndApply(request, responder, target, key);
    } finally {
      this.#inFlight.delete(key);
    }
  }

  async #planAndApply(
    request: ActionRequest,
    responder: Responder,
    target: string,
    key: string,
  ): Promise<ActionOutcome> {
    const base = {
      action: request.action,
      target,
      changes: [] as string[],
      warnings: [] as string[],
      requestIds: [],
    };
    let plan: Awaited<ReturnType<Responder['plan']>>;
    try {
      plan = await responder.plan(target, { alertId: request.alertId, requested: request.target });
    } catch (err) {
      if (err instanceof ActionRefusedError)
        return this.#finish(request, { ...base, status: 'refused', reason: err.message });
      return this.#finish(
        request,
        { ...base, status: 'failed', reason: `planning failed: ${errorMessage(err)}` },
        err,
      );
    }
    const planned = { ...base, changes: plan.changes, warnings: plan.warnings };
    const live = request.mode === 'apply' || (request.mode === 'auto' && this.isLive(request.action));
    if (!live) {
      const reason =
        request.mode === 'plan'
          ? 'plan only'
          : this.#config.dryRun
            ? 'dry run (respond.dryRun is true)'
            : `dry run (respond.enabled.${request.action} is false)`;
      return this.#finish(request, { ...planned, status: 'planned', reason });
    }
    const now = this.#now();
    const openUntil = this.#breaker.openUntil(now.getTime());
    if (openUntil !== undefined) {
      return this.#finish(request, {
        ...planned,
        status: 'skipped',
        reason: `circuit breaker open after repeated failures, until ${new Date(openUntil).toISOString()}`,
      });
    }
    if (plan.changes.length > 0 && !this.#limiter(request.action).tryTake(now.getTime())) {
      const { max, windowSeconds } = this.#config.rateLimit;
      return this.#finish(request, {
        ...planned,
        status: 'skipped',
        reason: `rate limited: more than ${max} ${request.action} actions in ${windowSeconds}s`,
      });
    }
    if (!this.#audit(request, { ...planned, status: 'planned' }, 'applying')) {
      return this.#finish(request, {
        ...planned,
        status: 'failed',
        reason: 'the audit log cannot be written; nothing was changed',
      });
    }
    const ttl = request.action === 'waf-block-ip' ? (request.ttlSeconds ?? this.#config.waf.ttlSeconds) : 0;
    const expiresAt = ttl > 0 ? new Date(now.getTime() + ttl * 1000).toISOString() : undefined;
    const record = (recordKey: string, prior: unknown): ActionRecord => ({
      key: recordKey,
      action: request.action,
      target,
      alertId: request.alertId,
      requester: request.requester,
      appliedAt: now.toISOString(),
      expiresAt,
      prior,
    });
    let result: Awaited<ReturnType<Responder['apply']>>;
    try {
      result = await responder.apply(plan);
    } catch (err) {
      if (err instanceof ActionRefusedError)
        return this.#finish(request, { ...planned, status: 'refused', reason: err.message });
      this.#breaker.failure(this.#now().getTime());
      const failed = { ...planned, status: 'failed' as const, requestIds: requestIdOf(err) };
      if (!(err instanceof PartialApplyError))
        return this.#finish(request, { ...failed, reason: errorMessage(err) }, err);
      // Half done: what was changed is recorded under its own key, so `respond undo` reverts it, while the
      // alert's own key stays free and a retry completes the action from the state AWS now reports.
      const kept = (await this.#keep(record(`${key}:partial:${now.getTime()}`, err.prior))) === 'stored';
      return this.#finish(
        request,
        {
          ...failed,
          changes: err.changes,
          requestIds: err.requestIds,
          reason: `${err.message}; ${kept ? 'the changes made are recorded: respond undo reverts them' : 'the changes made could not be recorded (see the log)'}`,
        },
        err,
      );
    }
    this.#breaker.success();
    let kept = await this.#keep(record(key, result.prior));
    if (kept === 'duplicate') {
      // Another receiver applied and recorded this alert's action while this one did. With nothing
      // changed here, its record says all; what this one did change is kept under its own key, so that
      // undo reverts both.
      if (result.changes.length === 0) {
        return this.#finish(request, {
          ...planned,
          changes: [],
          requestIds: result.requestIds,
          status: 'skipped',
          reason: `already applied for alert ${request.alertId} by another receiver`,
        });
      }
      kept = await this.#keep(record(`${key}:concurrent:${now.getTime()}`, result.prior));
    }
    if (kept !== 'stored') {
      return this.#finish(request, {
        ...planned,
        changes: result.changes,
        requestIds: result.requestIds,
        status: 'failed',
        reason: 'applied, but the action store cannot be written, so undo will not know it (see the log)',
      });
    }
    return this.#finish(request, {
      ...planned,
      changes: result.changes,
      requestIds: result.requestIds,
      status: result.changes.length > 0 ? 'applied' : 'unchanged',
      ...(result.changes.length === 0 ? { reason: 'already in the desired state' } : {}),
      ...(expiresAt ? { expiresAt } : {}),
    });
  }

  /**
   * Reverts every active record of this action on this target, newest first, so that each restores the
   * state the one before it found. Without a record, only WAF blocks can be undone (the target says all).
   */
  async undo(
    action: ActionName,
    rawTarget: string,
    requester: Requester,
    mode: 'plan' | 'apply' = 'apply',
  ): Promise<ActionOutcome> {
    const base = {
      action,
      target: rawTarget,
      changes: [] as string[],
      warnings: [] as string[],
      requestIds: [] as string[],
    };
    const request: ActionRequest = { action, target: rawTarget, alertId: '', requester, mode };
    const responder = this.#deps.responders[action];
    if (!responder)
      return this.#finish(request, { ...base, status: 'skipped', reason: `${action} is not configured` });
    let target: string;
    try {
      // Syntax only: the guardrails decide what may be blocked or disabled, never what may be reverted.
      target = responder.normalise(rawTarget);
    } catch (err) {
      return this.#finish(request, { ...base, status: 'refused', reason: errorMessage(err) });
    }
    let records: ActionRecord[];
    try {
      records = await this.#deps.store.active(action, target);
    } catch (err) {
      return this.#finish(
        request,
        { ...base, status: 'failed', reason: `the action store cannot be read: ${errorMessage(err)}` },
        err,
      );
    }
    const priors: { record?: ActionRecord; prior: unknown }[] = records.map((record) => ({
      record,
      prior: record.prior,
    }));
    if (priors.length === 0) {
      const implied = responder.priorWithoutRecord?.(target);
      if (implied === undefined) {
        return this.#finish(request, {
          ...base,
          target,
          status: 'skipped',
          reason: `no applied ${action} on ${target} is recorded`,
        });
      }
      priors.push({ prior: implied });
    }
    if (mode === 'plan') {
      return this.#finish(request, {
        ...base,
        target,
        status: 'planned',
        reason: `plan only: would revert ${priors.length} recorded action(s)`,
        changes: priors.map(
          (p) =>
            `revert ${action} on ${target}${p.record ? ` applied at ${p.record.appliedAt} for alert ${p.record.alertId}` : ''}`,
        ),
      });
    }
    const outcome = { ...base, target };
    this.#audit(request, { ...outcome, status: 'planned' }, 'undoing');
    try {
      for (const { record, prior } of priors) {
        const result = await responder.undo(prior);
        outcome.changes.push(...result.changes);
        outcome.warnings.push(...result.warnings);
        outcome.requestIds.push(...result.requestIds);
        if (record) await this.#deps.store.markUndone(record.key, this.#now());
      }
    } catch (err) {
      return this.#finish(
        request,
        { ...outcome, status: 'failed', reason: `undo failed: ${errorMessage(err)}` },
        err,
      );
    }
    return this.#finish(request, {
      ...outcome,
      status: outcome.changes.length > 0 ? 'undone' : 'unchanged',
      ...(outcome.changes.length === 0 ? { reason: 'nothing to revert' } : {}),
    });
  }

  /**
   * Removes WAF blocks whose TTL has passed (the latest block of a target decides), then compacts the
   * action store (`compact`). `plan` changes nothing: expired blocks come back `planned`, and the
   * compaction only says what it would remove. A failed compaction is logged and leaves the sweep's
   * outcomes as they are; the next sweep tries again.
   */
  async sweep(mode: 'apply' | 'plan' = 'apply'): Promise<ActionOutcome[]> {
    const now = this.#now().getTime();
    const byTarget = new Map<string, ActionRecord[]>();
    for (const record of await this.#deps.store.allActive()) {
      if (record.action !== 'waf-block-ip') continue;
      byTarget.set(record.target, [...(byTarget.get(record.target) ?? []), record]);
    }
    const outcomes: ActionOutcome[] = [];
    for (const [target, records] of byTarget) {
      const expired = records.every((r) => r.expiresAt !== undefined && Date.parse(r.expiresAt) <= now);
      if (!expired) continue;
      outcomes.push(
        await this.undo('waf-block-ip', target, { source: 'sweeper', rule: 'ttl expired' }, mode),
      );
    }
    try {
      await this.compact(mode);
    } catch (err) {
      this.#deps.log?.error(
        { err },
        'action store compaction failed; finished records stay until the next sweep',
      );
    }
    return outcomes;
  }

  /**
   * Removes from the action store the records finished for good: undone (by a person or by the TTL sweep)
   * more than `respond.stateRetentionDays` ago. A record that is not undone is never removed, however old,
   * since `respond undo` and the sweep revert from it; the audit log keeps the history of everything.
   * Undefined when the retention is 0 (keep every record).
   */
  async compact(mode: 'apply' | 'plan' = 'apply'): Promise<CompactionReport | undefined> {
    const days = this.#config.stateRetentionDays;
    if (days <= 0) return undefined;
    const finishedBefore = new Date(this.#now().getTime() - days * DAY_MS);
    const dryRun = mode === 'plan';
    const result = await this.#deps.store.compact(finishedBefore, { dryRun });
    const report: CompactionReport = {
      dryRun,
      retentionDays: days,
      finishedBefore: finishedBefore.toISOString(),
      removed: result.removed,
      more: result.more === true,
    };
    if (report.removed.length > 0 || report.more) {
      this.#deps.log?.info(
        {
          dryRun,
          retentionDays: days,
          finishedBefore: report.finishedBefore,
          removed: report.removed.length,
          more: report.more,
          oldest: report.removed[0]?.undoneAt,
        },
        dryRun
          ? `action store: would remove ${report.removed.length} record(s) undone before ${report.finishedBefore}`
          : `action store: removed ${report.removed.length} record(s) undone before ${report.finishedBefore}`,
      );
    }
    return report;
  }

  #limiter(action: ActionName): WindowRateLimiter {
    let limiter = this.#limiters.get(action);
    if (!limiter) {
      limiter = new WindowRateLimiter(
        this.#config.rateLimit.max,
        this.#config.rateLimit.windowSeconds * 1000,
      );
      this.#limiters.set(action, limiter);
    }
    return limiter;
  }

  #finish(request: ActionRequest, outcome: ActionOutcome, err?: unknown): ActionOutcome {
    this.#audit(request, outcome, outcome.status, err);
    metrics().responseActions.inc({ action: outcome.action, outcome: outcome.status });
    const log = this.#deps.log;
    const fields = {
      action: outcome.action,
      target: outcome.target,
      alertId: request.alertId,
      status: outcome.status,
      reason: outcome.reason,
    };
    if (outcome.status === 'failed') log?.error({ ...fields, err }, 'response action failed');
    else log?.info(fields, `response action ${outcome.status}`);
    return outcome;
  }

  /**
   * Stores an applied action: `duplicate` when a shared store already holds it (another receiver won),
   * `failed` (with a loud log line holding the record) when the store cannot be written.
   */
  async #keep(record: ActionRecord): Promise<'stored' | 'duplicate' | 'failed'> {
    try {
      await this.#deps.store.add(record);
      return 'stored';
    } catch (err) {
      if (err instanceof ActionAlreadyRecordedError) return 'duplicate';
      this.#deps.log?.error({ err, record }, 'action store write failed: revert this action by hand');
      return 'failed';
    }
  }

  /** Writes one audit line; false when it cannot be written. */
  #audit(request: ActionRequest, outcome: ActionOutcome, event: AuditEntry['event'], err?: unknown): boolean {
    const entry: AuditEntry = {
      time: this.#now().toISOString(),
      event,
      action: outcome.action,
      target: outcome.target,
      alertId: request.alertId || undefined,
      requester: request.requester,
      dryRun: !(request.mode === 'apply' || (request.mode === 'auto' && this.isLive(request.action))),
      changes: outcome.changes,
      warnings: outcome.warnings.length > 0 ? outcome.warnings : undefined,
      requestIds: outcome.requestIds.length > 0 ? outcome.requestIds : undefined,
      reason: outcome.reason,
      error:
        err === undefined
          ? undefined
          : { code: (err as { code?: string }).code ?? (err as Error).name, message: errorMessage(err) },
    };
    try {
      this.#deps.audit.write(entry);
      return true;
    } catch (auditErr) {
      // Before a change this refuses the change (see #planAndApply); after one, the line is logged loudly.
      this.#deps.log?.error({ err: auditErr, entry }, 'audit log write failed');
      return false;
    }
  }
}

export function idempotencyKey(alertId: string, action: ActionName, target: string): string {
  return createHash('sha256').update(`${alertId}\u0000${action}\u0000${target}`).digest('hex');
}

function requestIdOf(err: unknown): string[] {
  const id = (err as { $metadata?: { requestId?: string } }).$metadata?.requestId;
  return id ? [id] : [];
}
