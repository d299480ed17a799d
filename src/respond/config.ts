import { z } from 'zod';

/** The three response actions; these names appear in policies, the CLI, the audit log and the store. */
export const ACTION_NAMES = ['waf-block-ip', 'iam-disable-user', 'ec2-isolate'] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

const rateLimitSchema = z.strictObject({
  /** Actions applied per window; beyond it the action is skipped with a reason (never queued). */
  max: z.number().int().min(1).default(10),
  windowSeconds: z.number().int().min(1).default(60),
});

const IP_SET_ARN = /^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:(regional|global)\/ipset\/([^/]+)\/([^/]+)$/;

/** Name, id and scope of a WAFv2 IP set from its ARN (`arn:aws:wafv2:REGION:ACCOUNT:regional/ipset/NAME/ID`). */
export function parseIpSetArn(
  arn: string,
): { name: string; id: string; scope: 'REGIONAL' | 'CLOUDFRONT' } | undefined {
  const match = IP_SET_ARN.exec(arn);
  if (!match) return undefined;
  return { name: match[2]!, id: match[3]!, scope: match[1] === 'global' ? 'CLOUDFRONT' : 'REGIONAL' };
}

/**
 * An IP set by name and id, or by ARN (what a deployment template has at hand, e.g. from
 * ASC_WAF_IP_SET_ARN); an ARN also decides `scope` when the config does not set it.
 */
const ipSetRefSchema = z.preprocess(
  (raw, ctx) => {
    if (typeof raw !== 'string') return raw;
    const parsed = parseIpSetArn(raw);
    if (parsed) return { name: parsed.name, id: parsed.id };
    ctx.issues.push({
      code: 'custom',
      input: raw,
      message:
        'expected {name, id} or a WAFv2 IP set ARN (arn:aws:wafv2:REGION:ACCOUNT:regional/ipset/NAME/ID)',
    });
    return raw;
  },
  z.strictObject({
    name: z.string().min(1),
    id: z.string().min(1),
  }),
);

/**
 * Fills `scope` from the ARNs of a WAF section when the config leaves it out, and refuses ARNs whose scope
 * differs from `scope` or from each other: a set is managed only through its own scope's endpoint.
 */
function scopeFromArns(raw: unknown, ctx: z.core.ParsePayload): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const waf = raw as Record<string, unknown>;
  let scope = waf.scope;
  for (const field of ['ipv4Set', 'ipv6Set'] as const) {
    const ref = waf[field];
    const parsed = typeof ref === 'string' ? parseIpSetArn(ref) : undefined;
    if (!parsed) continue;
    if (scope === undefined) scope = parsed.scope;
    else if (scope !== parsed.scope)
      ctx.issues.push({
        code: 'custom',
        input: ref,
        path: [field],
        message: `the ARN names a ${parsed.scope} IP set, but the scope is ${String(scope)}`,
      });
  }
  return scope === waf.scope ? raw : { ...waf, scope };
}

const wafObjectSchema = z.strictObject({
  /** The IPv4 set (IPAddressVersion IPV4). Without it, IPv4 targets are refused. */
  ipv4Set: ipSetRefSchema.optional(),
  /** The IPv6 set (IPAddressVersion IPV6). Without it, IPv6 targets are refused. */
  ipv6Set: ipSetRefSchema.optional(),
  /** CLOUDFRONT sets live in us-east-1 whatever aws.region says. */
  scope: z.enum(['REGIONAL', 'CLOUDFRONT']).default('REGIONAL'),
  /** The broadest IPv4 prefix a block may cover; a single address is /32. Never below /8. */
  minPrefixV4: z.number().int().min(8).max(32).default(32),
  /** The broadest IPv6 prefix a block may cover; a single address is /128. Never below /16. */
  minPrefixV6: z.number().int().min(16).max(128).default(128),
  /** Never blocked: own NAT/egress addresses, scanners, the SIEM itself. Overlap with a target refuses it. */
  allowList: z.array(z.string().min(1)).default([]),
  /** How long a block lasts; `sweep` removes it afterwards. 0 keeps it until undone. */
  ttlSeconds: z.number().int().min(0).default(86_400),
  /** Refuse to add beyond this many entries per set (AWS's limit is 10,000). */
  maxAddresses: z.number().int().min(1).max(10_000).default(10_000),
  /** Attempts at get + update when another writer changes the set in between (WAFOptimisticLockException). */
  lockRetries: z.number().int().min(1).max(20).default(6),
});

const wafSchema = z.preprocess(scopeFromArns, wafObjectSchema);

/** An IAM path as IAM spells it: `/`, or `/` + printable ASCII + `/` (`/humans/`, `/division/eng/`). */
const iamPathSchema = z
  .string()
  .max(512)
  .regex(/^\/(?:[\x21-\x7E]+\/)?$/, 'expected an IAM path such as /humans/ (a leading and a trailing /)');

const iamSchema = z.strictObject({
  /**
   * IAM paths whose users and roles may be acted on; a path covers the paths below it (`/humans/` covers
   * `/humans/eng/`), as `user/humans/*` does in a policy. Empty: any path. The deployment templates set it
   * to the path the webhook role is limited to (`IamResponseUserPath`), so that a principal elsewhere is
   * refused with a reason instead of failing on IAM's AccessDenied, and so that the CLI, run with wider
   * credentials, keeps to the same path.
   */
  paths: z.array(iamPathSchema).default([]),
  /** Users never touched (break-glass, the responder's own user). `root` is always protected. */
  protectedUsers: z.array(z.string().min(1)).default([]),
  /** Roles never touched (break-glass, the responder's own role). */
  protectedRoles: z.array(z.string().min(1)).default([]),
  /** Delete the console password too. Undo cannot restore a deleted password, so this is off by default. */
  removeLoginProfile: z.boolean().default(false),
  /** Name of the inline deny-all policy put on a user. */
  denyPolicyName: z.string().min(1).default('asc-deny-all'),
  /** Name of the inline policy that denies role sessions issued before the response. */
  revokeSessionsPolicyName: z.string().min(1).default('asc-revoke-older-sessions'),
});

const ec2Schema = z.strictObject({
  /** Security group with no inbound and no outbound rules, created per VPC when missing. */
  quarantineGroupName: z.string().min(1).default('asc-quarantine'),
  /** Snapshot every EBS volume (crash-consistent set) before isolating. */
  snapshot: z.boolean().default(true),
  /** Turn on termination protection so evidence survives. */
  terminationProtection: z.boolean().default(true),
  /**
   * Detach the instance from its Auto Scaling group (the group launches a replacement). On by default, as
   * in AWS's incident-response guidance: termination protection does not stop Auto Scaling, and an isolated
   * instance fails its health checks and would be terminated, evidence and all.
   */
  detachFromAsg: z.boolean().default(true),
  /** Instances carrying any of these tag keys are never isolated. */
  protectedTagKeys: z.array(z.string().min(1)).default(['asc:protected']),
});

/** Response actions. Every action is dry-run until `dryRun` is false and the action is enabled here. */
export const respondConfigSchema = z
  .strictObject({
    /** Plan only: nothing is changed in AWS while true, whatever `enabled` says. */
    dryRun: z.boolean().default(true),
    enabled: z
      .strictObject({
        'waf-block-ip': z.boolean().default(false),
        'iam-disable-user': z.boolean().default(false),
        'ec2-isolate': z.boolean().default(false),
      })
      .prefault({}),
    waf: wafSchema.prefault({}),
    iam: iamSchema.prefault({}),
    ec2: ec2Schema.prefault({}),
    /** Per action. */
    rateLimit: rateLimitSchema.prefault({}),
    /** After `failureThreshold` consecutive failed actions, nothing is applied for `openSeconds`. */
    circuitBreaker: z
      .strictObject({
        failureThreshold: z.number().int().min(1).default(5),
        openSeconds: z.number().int().min(1).default(300),
      })
      .prefault({}),
    /**
     * Append-only JSONL: who asked, what was planned, what was done, AWS request ids. `-` writes the lines
     * to stdout (Lambda: CloudWatch Logs keeps them). Unset: stdout in Lambda, else `audit/actions.jsonl`.
     */
    auditLog: z.string().min(1).optional(),
    /**
     * Append-only JSONL of applied actions: idempotency keys, prior state for undo, TTL expiry. One
     * process's file: receivers that run side by side (Lambda) need `stateS3`. Unset (and no `stateS3`):
     * `audit/state.jsonl`, or a per-container file under the temporary directory in Lambda.
     */
    stateFile: z.string().min(1).optional(),
    /**
     * `s3://bucket/prefix`: the action store as one S3 object per record, shared by every receiver and by
     * `respond undo|sweep` run with the same setting.
     */
    stateS3: z
      .string()
      .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'expected s3://bucket/prefix')
      .optional(),
    /**
     * Days a finished record (one undone, by a person or by the TTL sweep) stays in the action store before
     * the sweep removes it; 0 keeps every record. A record that is not undone is never removed, however old:
     * it is what `respond undo` and the sweep revert from. The audit log is the permanent record.
     */
    stateRetentionDays: z.number().int().min(0).max(36_500).default(90),
    /** How often `webhook serve` removes expired WAF blocks; 0 turns the timer off. */
    sweepIntervalSeconds: z.number().int().min(0).default(60),
  })
  .refine((r) => !(r.stateFile && r.stateS3), {
    message: 'set respond.stateFile or respond.stateS3, not both',
    path: ['stateS3'],
  });
export type RespondConfig = z.infer<typeof respondConfigSchema>;
