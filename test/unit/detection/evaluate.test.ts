import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeObject } from '../../../src/decode/index.js';
import { gatesOf } from '../../../src/detection/gate.js';
import {
  type Alert,
  createEvaluator,
  loadRules,
  parseRules,
  type Rule,
  rawDocument,
} from '../../../src/detection/index.js';
import type { FieldMatch, SearchNode } from '../../../src/detection/model.js';
import { evaluateObject } from '../../../src/detection/stream.js';
import { documentId, toEcs } from '../../../src/map/ecs/index.js';
import {
  cloudTrailObjectText,
  generateCloudTrailRecords,
  generateFlowLines,
} from '../../../src/samples/index.js';

const rulesDir = fileURLToPath(new URL('../../../rules/', import.meta.url));

/** Rules shaped to tempt an unsound gate: negated, alternative, cased, translated and numeric equalities. */
const TEMPTING = [
  [
    'cloudtrail',
    '{sel: {eventSource: iam.amazonaws.com}, filter: {eventName: [ListUsers, GetUser]}, condition: sel and not filter}',
  ],
  ['cloudtrail', '{a: {eventName|cased: CreateUser}, b: {userIdentity.type: Root}, condition: a or b}'],
  [
    'cloudtrail',
    '{sel1: {eventSource: s3.amazonaws.com, eventName: PutBucketPolicy}, sel2: {eventName: ConsoleLogin}, condition: 1 of sel*}',
  ],
  [
    'cloudtrail',
    '{sel: {eventName: [ConsoleLogin]}, ok: {responseElements.ConsoleLogin: Success}, condition: not (sel and ok)}',
  ],
  ['vpcflow', '{sel: {action: REJECT, dstport: [22, 3389, 443]}, condition: sel}'],
  ['vpcflow', '{sel: {action: ACCEPT}, condition: not sel}'],
].map(
  ([service, detection], i) => `title: tempting ${i}
id: 00000000-0000-4000-8000-00000000000${i}
description: d
author: a
level: low
logsource: {product: aws, service: ${service}}
detection: ${detection}
`,
);

/** The same rule, its search OR-ed with `false`: the same matches, but no gate can be derived from it. */
function ungated(rule: Rule): Rule {
  if (rule.kind === 'correlation') return { ...rule, rules: rule.rules.map((r) => ungated(r) as typeof r) };
  return { ...rule, search: { kind: 'or', items: [rule.search, { kind: 'const', value: false }] } };
}

async function alertsOf(
  rules: readonly Rule[],
  text: string,
  type: 'cloudtrail' | 'vpcflow',
): Promise<Alert[]> {
  const evaluator = createEvaluator(rules);
  const alerts: Alert[] = [];
  await evaluateObject(evaluator, Readable.from([Buffer.from(text)]), {
    key: 'k',
    type,
    onAlert: (a) => alerts.push(a),
    onRejected: () => undefined,
  });
  return [...alerts, ...evaluator.flush()];
}

/** Generated objects that make the bundled and the tempting rules fire. */
const CORPORA: [string, 'cloudtrail' | 'vpcflow'][] = [
  [
    cloudTrailObjectText(generateCloudTrailRecords({ seed: 11, count: 3000, suspicious: true })),
    'cloudtrail',
  ],
  [
    cloudTrailObjectText(generateCloudTrailRecords({ seed: 12, count: 3000, suspicious: true })),
    'cloudtrail',
  ],
  [generateFlowLines({ seed: 13, count: 3000, version: 5, suspicious: true }).join('\n'), 'vpcflow'],
];

describe('rule gates', () => {
  let rules: Rule[];
  beforeAll(async () => {
    rules = [
      ...(await loadRules(rulesDir)),
      ...parseRules(TEMPTING.map((text, i) => ({ file: `tempting-${i}.yml`, text }))),
    ];
  });

  it('skip only records a rule could not match: every bundled rule fires exactly as without gates', async () => {
    const corpora = CORPORA;
    const reference = rules.map(ungated);
    let fired = 0;
    for (const [text, type] of corpora) {
      const gated = await alertsOf(rules, text, type);
      expect(gated).toEqual(await alertsOf(reference, text, type));
      fired += gated.length;
    }
    // The corpus must exercise the rules, or the comparison proves nothing.
    expect(fired).toBeGreaterThan(100);
    const firing = new Set<string>();
    for (const [text, type] of corpora)
      for (const a of await alertsOf(rules, text, type)) firing.add(a.rule.name);
    for (let i = 0; i < TEMPTING.length; i++) expect(firing, `tempting ${i}`).toContain(`tempting ${i}`);
  }, 60_000);
});

describe('gatesOf', () => {
  const eq = (field: string, values: FieldMatch['values'], extra: Partial<FieldMatch> = {}): FieldMatch => ({
    kind: 'match',
    field,
    op: 'eq',
    values,
    all: false,
    cased: false,
    ...extra,
  });
  const plain = (m: FieldMatch) => ({ path: `doc.${m.field}`, values: m.values });
  const wanted = (node: SearchNode) =>
    gatesOf(node, plain).map((g) => ({ path: g.path, wanted: [...g.wanted].sort() }));

  it('gates on every equality of a conjunction, lower-cased, cased or not', () => {
    const node: SearchNode = {
      kind: 'and',
      items: [
        eq('eventSource', ['IAM.amazonaws.com']),
        eq('eventName', ['CreateUser', 'DeleteUser'], { cased: true }),
      ],
    };
    expect(wanted(node)).toEqual([
      { path: 'doc.eventSource', wanted: ['iam.amazonaws.com'] },
      { path: 'doc.eventName', wanted: ['createuser', 'deleteuser'] },
    ]);
  });

  it('gates a disjunction only on a field every branch pins, with the values of all branches', () => {
    const node: SearchNode = {
      kind: 'or',
      items: [
        {
          kind: 'and',
          items: [eq('eventSource', ['s3.amazonaws.com']), eq('eventName', ['PutBucketPolicy'])],
        },
        eq('eventName', ['DeleteBucketPolicy']),
      ],
    };
    expect(wanted(node)).toEqual([
      { path: 'doc.eventName', wanted: ['deletebucketpolicy', 'putbucketpolicy'] },
    ]);
    expect(wanted({ kind: 'or', items: [eq('eventName', ['A']), eq('eventSource', ['b'])] })).toEqual([]);
  });

  it('derives nothing from negations, constants, other operators or an empty value list', () => {
    expect(wanted({ kind: 'not', item: eq('eventName', ['A']) })).toEqual([]);
    expect(wanted({ kind: 'const', value: true })).toEqual([]);
    expect(wanted(eq('eventName', ['Create*'], { op: 'wildcard' }))).toEqual([]);
    expect(wanted(eq('eventName', ['Create'], { op: 'startswith' }))).toEqual([]);
    expect(wanted(eq('eventName', [], { all: true }))).toEqual([]);
  });

  it('uses the values as documents hold them (after value tables) and numbers by their text', () => {
    const translated = gatesOf(eq('action', ['ACCEPT', 5]), (m) => ({
      path: 'event.outcome',
      values: m.values.map((v) => (v === 'ACCEPT' ? 'success' : v)),
    }));
    expect(translated.map((g) => [...g.wanted])).toEqual([['success', '5']]);
  });
});

describe('rule dispatch', () => {
  const rule = (i: number, detection: string) => `title: rule ${i}
id: 00000000-0000-4000-8000-0000000001${String(i).padStart(2, '0')}
description: d
author: a
level: low
logsource: {product: aws, service: cloudtrail}
detection: ${detection}
`;
  const rules = parseRules(
    [
      '{sel: {eventName: [CreateUser, DeleteUser]}, condition: sel}',
      '{sel: {eventSource: iam.amazonaws.com}, condition: sel}',
      '{sel: {resources.type: [AWS::IAM::User, AWS::IAM::Role]}, condition: sel}',
      '{sel: {eventName: CreateUser}, other: {userIdentity.type: Root}, condition: sel or other}',
      '{sel: {eventName: CreateUser}, condition: not sel}',
    ].map((detection, i) => ({ file: `rule-${i}.yml`, text: rule(i, detection) })),
  );
  const fired = (doc: Record<string, unknown>) =>
    createEvaluator(rules, { fields: 'raw' })
      .evaluate(doc, 'id-1', 'cloudtrail')
      .map((a) => a.rule.name);

  it('fires each rule once, in rule order, whichever of its values and fields admit the document', () => {
    const createUser = {
      eventTime: '2026-01-01T00:00:00Z',
      eventSource: 'iam.amazonaws.com',
      eventName: 'CreateUser',
      userIdentity: { type: 'Root' },
      // Both values a rule wants: the rule is listed under each, and must still fire once.
      resources: [{ type: 'AWS::IAM::User' }, { type: 'AWS::IAM::Role' }],
    };
    expect(fired(createUser)).toEqual(['rule 0', 'rule 1', 'rule 2', 'rule 3']);
    expect(fired({ ...createUser, eventName: 'GetUser', resources: [] })).toEqual([
      'rule 1',
      'rule 3',
      'rule 4',
    ]);
  });
});

describe('records as decoded and their ECS documents', () => {
  it('give the same alerts: in-stream detection reads the records, the SIEM backends the documents', async () => {
    const rules = [
      ...(await loadRules(rulesDir)),
      ...parseRules(TEMPTING.map((text, i) => ({ file: `tempting-${i}.yml`, text }))),
    ];
    const onDocuments = createEvaluator(rules);
    const onRecords = createEvaluator(rules, { fields: 'raw' });
    const fired = new Set<string>();
    for (const [text, type] of CORPORA) {
      const fromDocuments: Alert[] = [];
      const fromRecords: Alert[] = [];
      for await (const decoded of decodeObject(Readable.from([Buffer.from(text)]), {
        origin: { key: `k.${type}` },
        logType: type,
      })) {
        if (decoded.kind !== 'record') continue;
        const record = decoded.record;
        const id = documentId(record);
        fromDocuments.push(...onDocuments.evaluate(toEcs(record), id));
        fromRecords.push(...onRecords.evaluate(rawDocument(record), id, type));
      }
      fromDocuments.push(...onDocuments.flush());
      fromRecords.push(...onRecords.flush());
      // Whole alerts, in order: rule, time, event ids and a correlation's group and value alike.
      expect(fromRecords).toEqual(fromDocuments);
      for (const a of fromRecords) fired.add(a.rule.name);
    }
    // The corpus must make many rules fire, the tempting ones (translated values, numbers) among them.
    expect(fired.size).toBeGreaterThan(10);
    for (let i = 0; i < TEMPTING.length; i++) expect(fired, `tempting ${i}`).toContain(`tempting ${i}`);
  }, 60_000);
});
