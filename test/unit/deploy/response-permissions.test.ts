import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluateTemplate } from './cloudformation-eval.js';
import { loadCloudFormation, renderPolicyTemplate } from './policy-lint.js';

/**
 * The shipped policies must grant what the responders call, and nothing else. The actions are derived from
 * the responder sources themselves (the `XxxCommand`s they import from `@aws-sdk/client-*`), so a new AWS
 * call in src/respond/ fails here until the CloudFormation role and the Terraform policies grant it.
 */

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CFN_TEMPLATE = path.join(repo, 'deploy/cloudformation/template.yaml');

/** SDK client package (`@aws-sdk/client-<name>`) → IAM service prefix. */
const SERVICE_PREFIX: Record<string, string> = {
  ec2: 'ec2',
  iam: 'iam',
  wafv2: 'wafv2',
  'auto-scaling': 'autoscaling',
  s3: 's3',
};

/** SDK commands whose IAM action has another name. */
const ACTION_OF_COMMAND: Record<string, string> = { 's3:ListObjectsV2': 's3:ListBucket' };

const RESPONDERS = [
  {
    source: 'src/respond/waf.ts',
    condition: 'HasWafResponse',
    policy: 'waf.json.tftpl',
    variable: 'waf_ip_set_arn',
  },
  {
    source: 'src/respond/iam.ts',
    condition: 'HasIamResponse',
    policy: 'iam-response.json.tftpl',
    variable: 'iam_response_user_path',
  },
  {
    source: 'src/respond/ec2.ts',
    condition: 'HasEc2Response',
    policy: 'ec2-response.json.tftpl',
    variable: 'ec2_response_enabled',
  },
] as const;

const IMPORT = /import\s+(type\s+)?\{([^}]*)\}\s*from\s*['"]@aws-sdk\/client-([\w-]+)['"]/g;

/** IAM actions of the commands a source imports from the AWS SDK, e.g. `ec2:DescribeInstanceAttribute`. */
function actionsCalledBy(source: string, file: string): string[] {
  const actions = new Set<string>();
  const locals = new Map<string, string>(); // local name → action
  let imports = 0;
  for (const m of source.matchAll(IMPORT)) {
    imports++;
    if (m[1]) continue; // `import type { … }` brings no command in at run time
    const client = m[3]!;
    const prefix = SERVICE_PREFIX[client];
    if (!prefix) throw new Error(`${file}: no IAM prefix known for @aws-sdk/client-${client}`);
    for (const raw of m[2]!.split(',')) {
      const spec = raw.trim();
      if (!spec || spec.startsWith('type ')) continue;
      const [name, alias] = spec.split(/\s+as\s+/);
      if (!name!.endsWith('Command')) continue;
      const command = `${prefix}:${name!.slice(0, -'Command'.length)}`;
      const action = ACTION_OF_COMMAND[command] ?? command;
      actions.add(action);
      locals.set(alias ?? name!, action);
    }
  }
  // Any other way of reaching the SDK (namespace import, require, dynamic import) would escape this check.
  const references = source.match(/@aws-sdk\/client-/g)?.length ?? 0;
  if (references !== imports)
    throw new Error(`${file}: reaches @aws-sdk/client-* other than by a named import; extend this test`);
  for (const [, used] of source.matchAll(/new\s+(\w+Command)\s*\(/g)) {
    if (!locals.has(used!)) throw new Error(`${file}: sends ${used}, which is not an imported SDK command`);
  }
  for (const local of locals.keys()) {
    if (!new RegExp(`new\\s+${local}\\s*\\(`).test(source))
      throw new Error(`${file}: imports ${local} but never sends it`);
  }
  return [...actions].sort();
}

type Json = unknown;
type Statement = Record<string, Json>;
const asList = (v: Json): Json[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The webhook role's statements, each with the condition of the Fn::If it sits in (undefined: always). */
function webhookStatements(): { condition: string | undefined; statement: Statement }[] {
  const template = loadCloudFormation(CFN_TEMPLATE) as any;
  const role = template.Resources.WebhookRole;
  const out: { condition: string | undefined; statement: Statement }[] = [];
  const visit = (s: Json, condition: string | undefined): void => {
    if (!s || typeof s !== 'object') return;
    const o = s as Record<string, Json>;
    if ('Fn::If' in o) {
      const [cond, yes, no] = o['Fn::If'] as [string, Json, Json];
      if (condition !== undefined) throw new Error('nested Fn::If in the webhook role: extend this test');
      visit(yes, cond);
      // Granting in the "false" branch would grant when the response is off.
      if (!(no && typeof no === 'object' && (no as { Ref?: string }).Ref === 'AWS::NoValue'))
        throw new Error(`Fn::If ${cond} grants something in its false branch`);
      return;
    }
    if ('Ref' in o) return; // AWS::NoValue
    out.push({ condition, statement: o });
  };
  for (const policy of role.Properties.Policies) {
    for (const s of asList(policy.PolicyDocument.Statement)) visit(s, undefined);
  }
  return out;
}

const allowedActions = (statements: Statement[]): string[] =>
  [
    ...new Set(
      statements
        .filter((s) => s.Effect === 'Allow' && s.Resource !== undefined)
        .flatMap((s) => asList(s.Action).map(String)),
    ),
  ].sort();

const terraformStatements = (file: string): Statement[] =>
  asList(
    (
      renderPolicyTemplate(readFileSync(path.join(repo, 'deploy/terraform/policies', file), 'utf8')) as {
        Statement: Json;
      }
    ).Statement,
  ) as Statement[];

/** The S3 action store (respond.stateS3) the webhook Lambda uses, whatever responses are enabled. */
const STATE_STORE = 'src/respond/s3-store.ts';
/** The webhook role's statements for the store: unconditional, like the Terraform policy. */
const STATE_SIDS = ['ReadAndWriteResponseState', 'ListResponseState'];
const isStateStatement = (s: { condition: string | undefined; statement: Statement }) =>
  s.condition === undefined && STATE_SIDS.includes(String(s.statement.Sid));

const called = Object.fromEntries(
  [...RESPONDERS, { source: STATE_STORE }].map((r) => [
    r.source,
    actionsCalledBy(readFileSync(path.join(repo, r.source), 'utf8'), r.source),
  ]),
);

describe('actions derived from the responder sources', () => {
  it('maps imported commands to IAM actions by client', () => {
    const source = [
      "import { GetIPSetCommand, type WAFV2Client } from '@aws-sdk/client-wafv2';",
      "import {\n  DetachInstancesCommand,\n  type AutoScalingClient,\n} from '@aws-sdk/client-auto-scaling';",
      "import type { Instance } from '@aws-sdk/client-ec2';",
      "import { GetRoleCommand as Get } from '@aws-sdk/client-iam';",
      'new GetIPSetCommand({}); new DetachInstancesCommand({}); new Get({});',
    ].join('\n');
    expect(actionsCalledBy(source, 'x.ts')).toEqual([
      'autoscaling:DetachInstances',
      'iam:GetRole',
      'wafv2:GetIPSet',
    ]);
    expect(() => actionsCalledBy("import * as ec2 from '@aws-sdk/client-ec2';", 'y.ts')).toThrow(
      /other than by a named import/,
    );
    expect(() =>
      actionsCalledBy("import { XCommand } from '@aws-sdk/client-lambda';\nnew XCommand({});", 'z.ts'),
    ).toThrow(/no IAM prefix/);
  });

  it('finds the calls each responder makes', () => {
    expect(called['src/respond/waf.ts']).toEqual(['wafv2:GetIPSet', 'wafv2:UpdateIPSet']);
    expect(called['src/respond/iam.ts']).toEqual(
      expect.arrayContaining(['iam:PutUserPolicy', 'iam:PutRolePolicy', 'iam:UpdateAccessKey']),
    );
    expect(called['src/respond/ec2.ts']).toEqual(
      expect.arrayContaining([
        'ec2:DescribeInstanceAttribute',
        'ec2:CreateSnapshots',
        'autoscaling:DescribeAutoScalingInstances',
        'iam:GetInstanceProfile',
      ]),
    );
  });
});

describe('the CloudFormation webhook role grants each responder exactly its calls', () => {
  const statements = webhookStatements();

  it.each(RESPONDERS)('$source under $condition', ({ source, condition }) => {
    const granted = allowedActions(
      statements.filter((s) => s.condition === condition).map((s) => s.statement),
    );
    const needed = called[source]!;
    expect(
      needed.filter((a) => !granted.includes(a)),
      'missing',
    ).toEqual([]);
    expect(
      granted.filter((a) => !needed.includes(a)),
      'granted but never called',
    ).toEqual([]);
  });

  it('grants no response action outside its condition', () => {
    for (const { source, condition } of RESPONDERS) {
      const elsewhere = allowedActions(
        statements.filter((s) => s.condition !== condition).map((s) => s.statement),
      ).filter((a) => called[source]!.includes(a));
      expect(elsewhere, `${source} outside ${condition}`).toEqual([]);
    }
  });
});

describe('the Terraform response policies grant each responder exactly its calls', () => {
  const main = readFileSync(path.join(repo, 'deploy/terraform/main.tf'), 'utf8');

  it.each(RESPONDERS)('$source in policies/$policy', ({ source, policy }) => {
    const granted = allowedActions(terraformStatements(policy));
    const needed = called[source]!;
    expect(
      needed.filter((a) => !granted.includes(a)),
      'missing',
    ).toEqual([]);
    expect(
      granted.filter((a) => !needed.includes(a)),
      'granted but never called',
    ).toEqual([]);
  });

  it.each(RESPONDERS)(
    'policies/$policy is attached to the webhook role when $variable is set',
    ({ policy, variable }) => {
      const at = main.indexOf(`/policies/${policy}"`);
      expect(at, `main.tf uses policies/${policy}`).toBeGreaterThan(0);
      const start = main.lastIndexOf('resource "aws_iam_role_policy"', at);
      const block = main.slice(start, at);
      expect(block).toMatch(/role\s*=\s*aws_iam_role\.webhook\[0\]\.id/);
      expect(block).toMatch(new RegExp(`count\\s*=\\s*var\\.deploy_webhook && var\\.${variable}\\b`));
    },
  );
});

describe('the webhook role reaches the S3 action store, and only under its prefix', () => {
  const statements = webhookStatements();
  const needed = called[STATE_STORE]!;

  it('derives the store calls from its source', () => {
    // DeleteObject: the sweep removes finished records (respond.stateRetentionDays).
    expect(needed).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
  });

  it.each([
    ['the created bucket', {}, 'asc-responsestatebucket-1a2b3c4d'],
    ['an existing bucket', { ResponseStateBucketName: 'my-state' }, 'my-state'],
  ])('CloudFormation grants exactly them on the prefix of %s', (_, overrides, bucket) => {
    const own = statements.filter(isStateStatement).map((s) => s.statement);
    expect(allowedActions(own)).toEqual(needed);
    const { value } = evaluateTemplate(loadCloudFormation(CFN_TEMPLATE), overrides);
    const objects = own.find((s) => asList(s.Action).includes('s3:GetObject'))!;
    expect(JSON.stringify(objects.Resource)).toMatch(/\/\$\{ResponseStatePrefix\}\/\*"/);
    expect(value(objects.Resource)).toBe(`arn:aws:s3:::${bucket}/response-state/*`);
    // On the prefix like the rest, and never s3:DeleteObjectVersion (pinned above): in the versioned bucket a
    // deleted record stays recoverable until the bucket's lifecycle rule expires it.
    expect(asList(objects.Action)).toContain('s3:DeleteObject');
    const list = own.find((s) => asList(s.Action).includes('s3:ListBucket'))!;
    expect(value(list.Resource)).toBe(`arn:aws:s3:::${bucket}`);
    expect(list.Condition).toEqual({
      StringLike: { 's3:prefix': { 'Fn::Sub': '${ResponseStatePrefix}/*' } },
    });
  });

  it('CloudFormation grants no S3 action elsewhere in the webhook role', () => {
    const elsewhere = statements.filter((s) => !isStateStatement(s)).map((s) => s.statement);
    expect(allowedActions(elsewhere).filter((a) => a.startsWith('s3:'))).toEqual([]);
  });

  it('Terraform grants exactly them on the prefix, attached whenever the webhook is deployed', () => {
    const own = terraformStatements('response-state.json.tftpl');
    expect(allowedActions(own)).toEqual(needed);
    const objects = own.find((s) => asList(s.Action).includes('s3:GetObject'))!;
    expect(objects.Resource).toBe('arn:tf-partition:s3:::tf-bucket/tf-prefix/*');
    const list = own.find((s) => asList(s.Action).includes('s3:ListBucket'))!;
    expect(list.Condition).toEqual({ StringLike: { 's3:prefix': 'tf-prefix/*' } });
    const main = readFileSync(path.join(repo, 'deploy/terraform/main.tf'), 'utf8');
    const at = main.indexOf('/policies/response-state.json.tftpl"');
    const block = main.slice(main.lastIndexOf('resource "aws_iam_role_policy"', at), at);
    expect(block).toMatch(/count\s*=\s*var\.deploy_webhook \? 1 : 0/);
    expect(block).toMatch(/role\s*=\s*aws_iam_role\.webhook\[0\]\.id/);
  });
});
