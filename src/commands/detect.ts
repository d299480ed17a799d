import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { detectionConfigSchema } from '../detection/config.js';
import type { CorrelationLimits } from '../detection/correlate.js';
import { createEvaluator, loadRules } from '../detection/index.js';
import { evaluateObject } from '../detection/stream.js';
import { errorMessage } from '../errors.js';

export interface DetectOptions {
  rules?: string;
  type?: string;
  maxGroups?: string;
  maxWindowEvents?: string;
}

/** Exit statuses: 0 all input read, 1 some records could not be read (reported on stderr), 2 usage. */
export const DETECT_EXIT = { ok: 0, rejected: 1, usage: 2 } as const;

/** `aws-siem-connector detect`: alerts as NDJSON on stdout, one per firing. */
export async function detectCommand(files: string[], options: DetectOptions): Promise<void> {
  const type = options.type ?? 'auto';
  if (!['auto', 'cloudtrail', 'vpcflow', 'ecs'].includes(type)) {
    process.stderr.write(
      `aws-siem-connector detect: --type must be auto, cloudtrail, vpcflow or ecs, not "${type}"\n`,
    );
    process.exitCode = DETECT_EXIT.usage;
    return;
  }
  // The same bounds as `detection.maxGroups` / `detection.maxWindowEvents` in the config of `run`: a
  // long history read at once may need more correlation state than the defaults hold.
  const limits: Partial<CorrelationLimits> = {};
  for (const [flag, key, given] of [
    ['--max-groups', 'maxGroups', options.maxGroups],
    ['--max-window-events', 'maxWindowEvents', options.maxWindowEvents],
  ] as const) {
    if (given === undefined) continue;
    const parsed = detectionConfigSchema.shape[key].safeParse(Number(given));
    if (!/^\d+$/.test(given) || !parsed.success) {
      process.stderr.write(
        `aws-siem-connector detect: ${flag} must be a positive whole number, not "${given}"\n`,
      );
      process.exitCode = DETECT_EXIT.usage;
      return;
    }
    limits[key] = parsed.data;
  }
  const summary = await runDetect({
    files,
    limits,
    rulesDir: options.rules ?? 'rules',
    type: type as 'auto' | 'cloudtrail' | 'vpcflow' | 'ecs',
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  });
  if (summary.problems > 0) process.exitCode = DETECT_EXIT.rejected;
}

export interface DetectRun {
  files: readonly string[];
  rulesDir: string;
  /** Correlation state per rule; the defaults of CORRELATION_DEFAULTS where absent. */
  limits?: Partial<CorrelationLimits>;
  type: 'auto' | 'cloudtrail' | 'vpcflow' | 'ecs';
  stdin: NodeJS.ReadableStream;
  stdout: Writable;
  stderr: Writable;
}

export async function runDetect(
  run: DetectRun,
): Promise<{ records: number; alerts: number; problems: number }> {
  const rules = await loadRules(run.rulesDir);
  // One evaluator across all inputs: a burst split over several objects is still one burst.
  const evaluator = createEvaluator(rules, run.limits);
  const write = (alert: unknown) => run.stdout.write(`${JSON.stringify(alert)}\n`);
  let records = 0;
  let alerts = 0;
  let problems = 0;
  for (const file of run.files.length === 0 ? ['-'] : run.files) {
    const name = file === '-' ? '<stdin>' : file;
    try {
      // Alerts and rejections are written as they come, never collected (stdin can be a whole day of
      // logs), and counted here so that those before a read error still count.
      const result = await evaluateObject(evaluator, file === '-' ? run.stdin : createReadStream(file), {
        key: name,
        type: run.type,
        onAlert: (a) => {
          alerts++;
          write(a);
        },
        onRejected: (r) => {
          problems++;
          run.stderr.write(`${name}: record ${r.origin.record}: ${r.code}: ${r.reason}\n`);
        },
      });
      records += result.records;
    } catch (err) {
      problems++;
      run.stderr.write(`${name}: ${errorMessage(err)}\n`);
    }
  }
  for (const alert of evaluator.flush()) {
    alerts++;
    write(alert);
  }
  return { records, alerts, problems };
}
