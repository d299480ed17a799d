import { existsSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DetectionConfig } from '../detection/config.js';
import type { Alert } from '../detection/index.js';
import type { Logger, Metrics } from '../observe/index.js';
import type { DocumentObserver } from './process-object.js';

/** The rules that ship with the package, used when the configured relative directory is not there. */
const BUNDLED_RULES = fileURLToPath(new URL('../../rules/', import.meta.url));

export interface InStreamDetection {
  observe: DocumentObserver;
  /** Closes open correlation windows (end of a replay, shutdown) and writes their alerts. */
  finish(): Promise<number>;
  readonly alerts: number;
}

/**
 * Runs the detection rules over every ECS document in the stream. Alerts are appended as NDJSON to
 * `alertsFile` and logged; the SIEM's own rules stay the system of record, this catches things before
 * the SIEM has indexed them and works where no SIEM runs yet.
 */
export async function createInStreamDetection(
  config: DetectionConfig,
  deps: { log: Logger; metrics: Metrics; alertsFile: string },
): Promise<InStreamDetection | undefined> {
  if (!config.enabled) return undefined;
  const dir = existsSync(config.rulesDir) || isAbsolute(config.rulesDir) ? config.rulesDir : BUNDLED_RULES;
  const { createEvaluator, loadRules } = await import('../detection/index.js');
  const rules = await loadRules(dir);
  const evaluator = createEvaluator(rules);
  deps.log.info({ rules: rules.length, dir }, 'in-stream detection on');
  let count = 0;
  let writes: Promise<void> = mkdir(dirname(deps.alertsFile), { recursive: true }).then(() => undefined);

  const emit = (alerts: Alert[]) => {
    if (alerts.length === 0) return;
    count += alerts.length;
    for (const alert of alerts) {
      deps.metrics.alerts.inc({ rule: alert.rule.name });
      deps.log.warn(
        { rule: alert.rule.name, level: alert.rule.level, events: alert.source_event_ids.length },
        'detection fired',
      );
    }
    const text = alerts.map((a) => `${JSON.stringify(a)}\n`).join('');
    writes = writes.then(() => appendFile(deps.alertsFile, text));
  };

  return {
    observe: (doc, id) => emit(evaluator.evaluate(doc, id)),
    async finish() {
      emit(evaluator.flush());
      await writes;
      return count;
    },
    get alerts() {
      return count;
    },
  };
}
