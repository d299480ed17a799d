import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { ConnectorError } from '../errors.js';
import { ACTION_NAMES, type ActionName, type ActionOutcome, createResponseRunner } from '../respond/index.js';
import { commandContext } from './context.js';

export interface RespondOptions {
  config?: string;
  alertId?: string;
  ttl?: string;
  json?: boolean;
  /** sweep: say what would be removed, change nothing. */
  plan?: boolean;
}

/**
 * `respond plan|apply|undo ACTION TARGET` and `respond sweep`: the same runner as the receiver, so a
 * person gets the same guardrails, audit lines and idempotency. `apply` is a person's explicit decision
 * and acts even while alert-driven responses are dry-run.
 */
export async function respondCommand(
  command: Command,
  verb: 'plan' | 'apply' | 'undo' | 'sweep',
  action: string | undefined,
  target: string | undefined,
  options: RespondOptions,
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<ActionOutcome[]> {
  const { config, log } = commandContext(command, options.config);
  const runner = createResponseRunner(config, { log });
  const requester = { source: 'cli', user: safeUser() };
  let outcomes: ActionOutcome[];
  if (verb === 'sweep') {
    outcomes = await runner.sweep(options.plan ? 'plan' : 'apply');
  } else {
    const name = checkAction(action);
    if (!target) throw new ConnectorError('USAGE', 'a target is required');
    if (verb === 'undo') {
      outcomes = [await runner.undo(name, target, requester)];
    } else {
      const ttl = options.ttl === undefined ? undefined : Number(options.ttl);
      if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 0)) {
        throw new ConnectorError('USAGE', `--ttl must be whole seconds ≥ 0, got ${options.ttl}`);
      }
      outcomes = [
        await runner.run({
          action: name,
          target,
          alertId: options.alertId ?? `manual-${new Date().toISOString()}`,
          requester,
          mode: verb,
          ttlSeconds: ttl,
        }),
      ];
    }
  }
  for (const outcome of outcomes) out(options.json ? JSON.stringify(outcome) : describe(outcome));
  if (outcomes.some((o) => o.status === 'failed' || o.status === 'refused')) process.exitCode = 1;
  return outcomes;
}

function checkAction(action: string | undefined): ActionName {
  if (!action || !(ACTION_NAMES as readonly string[]).includes(action)) {
    throw new ConnectorError(
      'USAGE',
      `action must be one of ${ACTION_NAMES.join(', ')}; got ${action ?? 'nothing'}`,
    );
  }
  return action as ActionName;
}

function describe(o: ActionOutcome): string {
  const lines = [`${o.status}: ${o.action} ${o.target}${o.reason ? ` — ${o.reason}` : ''}`];
  for (const change of o.changes) lines.push(`  - ${change}`);
  for (const warning of o.warnings) lines.push(`  ! ${warning}`);
  if (o.requestIds.length > 0) lines.push(`  AWS request ids: ${o.requestIds.join(', ')}`);
  if (o.expiresAt) lines.push(`  expires: ${o.expiresAt}`);
  return lines.join('\n');
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
