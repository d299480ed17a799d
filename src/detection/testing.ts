import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { documentId, toEcs } from '../map/ecs/index.js';
import type { RawRecord } from '../types.js';
import { RuleError } from './errors.js';
import { createEvaluator } from './evaluate.js';
import type { Alert, LogService, Rule } from './model.js';

/**
 * Rule test events: `<rule>.tests.yml` beside `<rule>.yml`, with `positive` cases (each must make every
 * generating rule of the file fire) and `negative` cases (must make none fire). Events are raw CloudTrail
 * records or flow records (field name -> value); fields a case leaves out get neutral defaults, so a
 * test shows only what matters. Events go through the same ECS mapping as production documents.
 */
const caseSchema = z.strictObject({
  name: z.string().min(1),
  events: z.array(z.record(z.string(), z.unknown())).min(1),
});
const testFileSchema = z.strictObject({
  positive: z.array(caseSchema).min(1),
  negative: z.array(caseSchema).min(1),
});
export type RuleTestFile = z.infer<typeof testFileSchema>;

export interface TestEvent {
  id: string;
  raw: RawRecord;
  doc: Record<string, unknown>;
}

export interface CaseResult {
  rule: string;
  title: string;
  file: string;
  kind: 'positive' | 'negative';
  name: string;
  passed: boolean;
  alerts: Alert[];
  events: TestEvent[];
}

const BASE_TIME = Date.parse('2025-01-15T10:00:00Z');

export function testFileFor(ruleFile: string): string {
  return ruleFile.replace(/\.ya?ml$/, '.tests.yml');
}

export async function readTestFile(dir: string, ruleFile: string): Promise<RuleTestFile> {
  const file = testFileFor(ruleFile);
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch {
    throw new RuleError('no test events: every rule needs a .tests.yml beside it', { file });
  }
  const parsed = testFileSchema.safeParse(parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RuleError(`${issue?.path.join('.')}: ${issue?.message}`, { file });
  }
  return parsed.data;
}

/** Raw record for a test event, neutral defaults filled in; `seq` spaces events one second apart. */
export function testRecord(
  service: LogService,
  event: Record<string, unknown>,
  key: string,
  seq: number,
): RawRecord {
  const origin = { key, record: seq + 1 };
  const at = BASE_TIME + seq * 1000;
  if (service === 'cloudtrail') {
    const eventID = (event.eventID as string | undefined) ?? uuidFrom(`${key}#${seq}`);
    return {
      logType: 'cloudtrail',
      origin,
      event: {
        eventVersion: '1.09',
        userIdentity: {
          type: 'IAMUser',
          principalId: 'AIDAEXAMPLEALICE0001',
          arn: 'arn:aws:iam::111122223333:user/alice',
          accountId: '111122223333',
          accessKeyId: 'AKIAEXAMPLEALICE0001',
          userName: 'alice',
        },
        eventTime: new Date(at).toISOString().replace('.000Z', 'Z'),
        eventSource: 'sts.amazonaws.com',
        eventName: 'GetCallerIdentity',
        awsRegion: 'us-east-1',
        sourceIPAddress: '198.51.100.23',
        userAgent: 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64',
        requestParameters: null,
        responseElements: null,
        requestID: uuidFrom(`req#${key}#${seq}`),
        eventType: 'AwsApiCall',
        managementEvent: true,
        recipientAccountId: '111122223333',
        eventCategory: 'Management',
        ...event,
        eventID,
      },
    };
  }
  const fields: Record<string, string> = {
    version: '2',
    'account-id': '111122223333',
    'interface-id': 'eni-0a1b2c3d4e5f60718',
    srcaddr: '10.0.1.15',
    dstaddr: '10.0.2.20',
    srcport: '49152',
    dstport: '443',
    protocol: '6',
    packets: '10',
    bytes: '4200',
    start: String(Math.floor(at / 1000) - 60),
    end: String(Math.floor(at / 1000)),
    action: 'ACCEPT',
    'log-status': 'OK',
  };
  for (const [k, v] of Object.entries(event)) fields[k] = String(v);
  return { logType: 'vpcflow', origin, fields, line: Object.values(fields).join(' ') };
}

function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Runs one file's cases against the rules loaded from it (correlations bring their base rules). */
export async function runRuleTests(dir: string, rules: readonly Rule[]): Promise<CaseResult[]> {
  const byFile = new Map<string, Rule[]>();
  for (const r of rules) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);
  const results: CaseResult[] = [];
  for (const [file, fileRules] of byFile) {
    const tests = await readTestFile(dir, file);
    const firing = fileRules.filter((r) => r.kind === 'correlation' || r.generate);
    const service = (fileRules[0] as Rule).service;
    const evalRules = [
      ...new Set([...fileRules, ...firing.flatMap((r) => (r.kind === 'correlation' ? r.rules : []))]),
    ];
    for (const kind of ['positive', 'negative'] as const) {
      for (const [index, testCase] of tests[kind].entries()) {
        const evaluator = createEvaluator(evalRules);
        const key = `${testFileFor(file)}#${kind}[${index}]`;
        const events = testCase.events.map((event, seq) => {
          const raw = testRecord(service, event, key, seq);
          return { id: documentId(raw), raw, doc: toEcs(raw) as Record<string, unknown> };
        });
        const alerts = events.flatMap((e) => evaluator.evaluate(e.doc, e.id));
        alerts.push(...evaluator.flush());
        for (const rule of firing) {
          const fired = alerts.filter((a) => a.rule.id === rule.id);
          results.push({
            rule: rule.id,
            title: rule.title,
            file,
            kind,
            name: testCase.name,
            passed: kind === 'positive' ? fired.length > 0 : fired.length === 0,
            alerts: fired,
            events,
          });
        }
      }
    }
  }
  return results;
}
