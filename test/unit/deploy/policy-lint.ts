import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/**
 * A least-privilege linter for every IAM policy the deploy/ folder ships: no wildcard actions, no
 * NotAction/NotResource in Allow statements, no unscoped resources. Resource "*" passes only for
 * actions AWS authorises on no narrower resource (Describe calls, ECR's token).
 */

// Actions that support no resource-level permissions (AWS Service Authorization Reference).
export const RESOURCE_STAR_ONLY = new Set([
  'ec2:DescribeInstances',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeNetworkInterfaces',
  'autoscaling:DescribeAutoScalingInstances',
  'ecr:GetAuthorizationToken',
]);

// Resource types whose ARN has no account field (Service Authorization Reference ARN formats), e.g.
// arn:${Partition}:ec2:${Region}::snapshot/${SnapshotId}. They pass without an account but need a region.
export const ACCOUNTLESS_RESOURCE_TYPES = new Set(['ec2:snapshot']);

export interface PolicyFinding {
  file: string;
  where: string;
  problem: string;
}

type Json = unknown;

const asList = (v: Json): Json[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** A CloudFormation value as text for checking: Fn::Sub's template, Ref/GetAtt as a named placeholder. */
function text(v: Json): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    const o = v as Record<string, Json>;
    if ('Fn::Sub' in o) return text(Array.isArray(o['Fn::Sub']) ? o['Fn::Sub'][0] : o['Fn::Sub']);
    if ('Ref' in o) return `<ref:${String(o.Ref)}>`;
    if ('Fn::GetAtt' in o) return `<getatt:${asList(o['Fn::GetAtt']).join('.')}>`;
  }
  return undefined;
}

/** Both branches of a CloudFormation Fn::If inside a value (a resource list), AWS::NoValue dropped. */
function branches(v: Json): Json[] {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, Json>;
    if ('Fn::If' in o) {
      const [, a, b] = o['Fn::If'] as Json[];
      return [...branches(a), ...branches(b)];
    }
    if (o.Ref === 'AWS::NoValue') return [];
  }
  return [v];
}

/** Statements, with both branches of a CloudFormation Fn::If (AWS::NoValue dropped). */
function statements(doc: Json): Record<string, Json>[] {
  const out: Record<string, Json>[] = [];
  const visit = (s: Json): void => {
    if (!s || typeof s !== 'object') return;
    const o = s as Record<string, Json>;
    if ('Fn::If' in o) {
      const [, a, b] = o['Fn::If'] as Json[];
      visit(a);
      visit(b);
      return;
    }
    if ('Ref' in o) return; // AWS::NoValue
    out.push(o);
  };
  for (const s of asList((doc as Record<string, Json>)?.Statement)) visit(s);
  return out;
}

function unscopedResource(r: string): boolean {
  if (r === '*') return true;
  if (r.startsWith('<ref:') || r.startsWith('<getatt:')) return false;
  // ${Bucket.Arn}/* style: a specific resource with a path wildcard below it.
  if (/^\$\{[^}]+\}\//.test(r)) return false;
  // Variables (${AWS::Partition}, ${LogBucketName}) stand for concrete values; their colons are not ARN separators.
  const arn = r.replace(/\$\{[^}]*\}/g, 'var').split(':');
  if (arn[0] !== 'arn' || arn.length < 6) return !r.startsWith('${');
  const [, , service, region, account, ...rest] = arn;
  const resource = rest.join(':');
  if (!service || service.includes('*')) return true;
  const type = `${service}:${resource.split(/[/:]/)[0]}`;
  if (account === '' && ACCOUNTLESS_RESOURCE_TYPES.has(type)) return !region || region.includes('*');
  // Global services (s3) carry no account; everything else must name the account.
  if (service !== 's3' && (account === undefined || account === '' || account === '*')) return true;
  return (
    resource === '*' ||
    resource === '' ||
    /^[*/]+$/.test(resource) ||
    (service === 's3' && /^\*/.test(resource))
  );
}

export function lintPolicyDocument(doc: Json, file: string, where: string): PolicyFinding[] {
  const findings: PolicyFinding[] = [];
  for (const [i, st] of statements(doc).entries()) {
    if (st.Effect !== 'Allow') continue; // a Deny narrows; it cannot grant too much
    const at = `${where} statement ${String(st.Sid ?? i)}`;
    if ('NotAction' in st) findings.push({ file, where: at, problem: 'NotAction in an Allow statement' });
    if ('NotResource' in st) findings.push({ file, where: at, problem: 'NotResource in an Allow statement' });
    const actions = asList(st.Action).map((a) => text(a) ?? '');
    for (const a of actions) {
      if (a.includes('*')) findings.push({ file, where: at, problem: `wildcard action "${a}"` });
    }
    const isTrust = 'Principal' in st && actions.every((a) => a.startsWith('sts:AssumeRole'));
    if (isTrust) continue;
    if (!('Resource' in st) && !('Principal' in st))
      findings.push({ file, where: at, problem: 'no Resource' });
    for (const r of asList(st.Resource)
      .flatMap(branches)
      .map((x) => text(x) ?? '')) {
      if (r === '*' && actions.length > 0 && actions.every((a) => RESOURCE_STAR_ONLY.has(a))) continue;
      if (unscopedResource(r)) findings.push({ file, where: at, problem: `unscoped resource "${r}"` });
    }
  }
  return findings;
}

/** Every PolicyDocument / AssumeRolePolicyDocument anywhere in a CloudFormation template. */
export function lintCloudFormation(template: Json, file: string): PolicyFinding[] {
  const findings: PolicyFinding[] = [];
  let documents = 0;
  const walk = (node: Json, where: string): void => {
    if (Array.isArray(node)) {
      for (const [i, n] of node.entries()) walk(n, `${where}[${i}]`);
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node as Record<string, Json>)) {
        if (k === 'PolicyDocument' || k === 'AssumeRolePolicyDocument') {
          documents++;
          findings.push(...lintPolicyDocument(v, file, `${where}.${k}`));
        } else walk(v, `${where}.${k}`);
      }
    }
  };
  walk((template as Record<string, Json>).Resources, 'Resources');
  if (documents === 0) findings.push({ file, where: 'Resources', problem: 'no policy documents found' });
  return findings;
}

/** A Terraform policy template rendered with placeholder values for its ${...} variables. */
export function renderPolicyTemplate(source: string): Json {
  return JSON.parse(source.replace(/\$\{([a-z_]+)\}/g, (_, name: string) => `tf-${name.replace(/_/g, '-')}`));
}

export function lintTerraform(dir: string): PolicyFinding[] {
  const findings: PolicyFinding[] = [];
  const policyDir = path.join(dir, 'policies');
  for (const f of readdirSync(policyDir).filter((n) => n.endsWith('.json.tftpl'))) {
    const file = path.join(policyDir, f);
    // Placeholders are rendered as scoped-looking ids so only literal wildcards in the template count.
    const doc = renderPolicyTemplate(
      readFileSync(file, 'utf8').replace(/"\$\{([a-z_]+)\}/g, '"arn:aws:tf:us-east-1:111111111111:${$1}'),
    );
    findings.push(...lintPolicyDocument(doc, file, f));
  }
  // Inline policies in HCL would escape the check above: forbid them and any literal wildcard action.
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.tf'))) {
    const file = path.join(dir, f);
    const src = readFileSync(file, 'utf8');
    if (/\bactions?\s*=\s*\[?\s*"[^"]*\*/i.test(src) || /"Action"\s*:\s*\[?\s*"[^"]*\*/.test(src)) {
      findings.push({ file, where: f, problem: 'wildcard action in HCL' });
    }
    if (/aws_iam_policy_document|jsonencode\(\s*\{\s*Version/.test(src)) {
      findings.push({
        file,
        where: f,
        problem: 'inline policy document (keep policies in policies/*.json.tftpl)',
      });
    }
  }
  return findings;
}

export function loadCloudFormation(file: string): Json {
  return parse(readFileSync(file, 'utf8'));
}
