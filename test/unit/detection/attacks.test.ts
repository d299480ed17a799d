import { createReadStream, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Alert, createEvaluator, loadRules, type Rule } from '../../../src/detection/index.js';
import { evaluateObject } from '../../../src/detection/stream.js';
import type { RejectedRecord } from '../../../src/types.js';

// Public attack detonations (Stratus Red Team, Invictus IR) kept beside the repository, read-only.
const attacksDir = fileURLToPath(new URL('../../../../shared/peer/attacks/', import.meta.url));
const rulesDir = fileURLToPath(new URL('../../../rules/', import.meta.url));
const havePeer = existsSync(attacksDir);
if (!havePeer) console.warn(`skipping attack-detonation tests: ${attacksDir} is absent`);

/** Set-up, warm-up and clean-up traffic in the files that a CIS change monitor reports by design. */
const CIS_SETUP =
  'CIS change monitors report every such change by design; here it is the detonation set-up or clean-up';

interface Expectation {
  /** Rules that must fire (rule name -> exact alert count, or true for at least one). */
  fire: Record<string, number | true>;
  /** Other rules allowed to fire, with the reason. Anything else firing fails the test. */
  allow?: Record<string, string>;
}

const EXPECT: Record<string, Expectation> = {
  'invictus_218007301253_CloudTrail_us-east-1_20230710T1200Z_iLj9fb7yyUG9X4Bf.json': {
    fire: {
      aws_sensitive_data_access_denied: 24,
      aws_ec2_password_data_requested: 24,
      aws_unauthorized_api_calls: true,
      aws_secrets_mass_retrieval: 1,
      aws_ssm_parameters_decrypted: 4,
      aws_ssm_send_command: 1,
      aws_instance_credentials_multiple_source_ips: 1,
      aws_instance_credentials_identity_check: 1,
      aws_iam_policy_changes: true,
    },
    allow: { aws_route_table_changes: CIS_SETUP, aws_vpc_changes: CIS_SETUP },
  },
  'invictus_218007301253_CloudTrail_us-east-1_20230710T1205Z_SjF3IkuNXJkoHyar.json': {
    fire: {
      aws_vpc_flow_logs_deleted: 1,
      aws_cloudtrail_tamper_attempt_failed: 1,
      aws_cloudtrail_configuration_changes: true,
    },
  },
  'invictus_218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json': {
    fire: {
      aws_cloudtrail_event_selectors_weakened: 1,
      aws_cloudtrail_tamper_attempt_failed: 2,
      aws_cloudtrail_configuration_changes: true,
      aws_s3_bucket_policy_changes: true,
    },
    allow: {
      aws_iam_policy_changes: CIS_SETUP,
      aws_unauthorized_api_calls:
        'the ec2-get-user-data technique in this file is refused 15 times for one role session',
    },
  },
  'invictus_218007301253_CloudTrail_us-east-1_20230710T1205Z_zs3JGxETHr59VpkX.json': {
    fire: {
      aws_s3_bucket_lifecycle_configured: 1,
      aws_cloudtrail_tamper_attempt_failed: 1,
      aws_leave_organization: 1,
      aws_organizations_changes: 1,
      aws_ssm_parameters_decrypted: 1,
      aws_s3_bucket_policy_changes: true,
    },
    allow: { aws_cloudtrail_configuration_changes: CIS_SETUP, aws_iam_policy_changes: CIS_SETUP },
  },
  'invictus_218007301253_CloudTrail_us-east-1_20230710T1215Z_YMDRJwtmC82bUwAo.json': {
    fire: { aws_security_group_open_to_world: 2, aws_ami_shared: 1, aws_security_group_changes: true },
    allow: {
      aws_network_gateway_changes: CIS_SETUP,
      aws_route_table_changes: CIS_SETUP,
      aws_vpc_changes: CIS_SETUP,
      aws_cloudtrail_configuration_changes: CIS_SETUP,
      aws_iam_policy_changes: CIS_SETUP,
    },
  },
  'invictus_218007301253_CloudTrail_us-east-1_20230710T1225Z_4iD2boYSOwmb6sWd.json': {
    fire: { aws_console_login_without_mfa: 1 },
  },
  'invictus_218007301253_CloudTrail_us-east-1_20230710T1230Z_ZtUNbBkwAu98FPZb.json': {
    fire: {
      aws_iam_access_key_created_for_another_user: 2,
      aws_iam_admin_policy_attached: 2,
      aws_iam_login_profile_created_for_another_user: 1,
      aws_iam_role_trust_policy_changed: 1,
      aws_iam_user_created: 4,
      aws_s3_bucket_policy_account_principal: 1,
      aws_s3_bucket_policy_changes: 1,
      aws_iam_policy_changes: true,
    },
  },
  'stratus_aws.defense-evasion.cloudtrail-stop.json': {
    fire: { aws_cloudtrail_logging_stopped: 1, aws_cloudtrail_configuration_changes: 1 },
  },
  'stratus_aws.persistence.iam-backdoor-user.json': {
    fire: { aws_iam_access_key_created_for_another_user: 1 },
  },
  'stratus_aws.credential-access.ec2-steal-instance-credentials.json': {
    fire: { aws_instance_credentials_identity_check: 1, aws_ssm_send_command: 1 },
  },
};

describe.skipIf(!havePeer)('real attack detonations', () => {
  let rules: Rule[];
  const alertsByFile = new Map<string, Alert[]>();
  const nameOf = (id: string) => {
    const rule = rules.find((r) => r.id === id);
    return rule?.name ?? rule?.title ?? id;
  };

  beforeAll(async () => {
    rules = await loadRules(rulesDir);
    for (const file of Object.keys(EXPECT)) {
      const evaluator = createEvaluator(rules);
      const alerts: Alert[] = [];
      const rejected: RejectedRecord[] = [];
      await evaluateObject(evaluator, createReadStream(attacksDir + file), {
        key: file,
        type: 'auto',
        onAlert: (a) => alerts.push(a),
        onRejected: (r) => rejected.push(r),
      });
      expect(rejected).toEqual([]);
      alertsByFile.set(file, [...alerts, ...evaluator.flush()]);
    }
  });

  for (const [file, expectation] of Object.entries(EXPECT)) {
    it(`${file}: fires the attack's rules and nothing unexplained`, () => {
      const counts: Record<string, number> = {};
      for (const alert of alertsByFile.get(file) ?? []) {
        const name = nameOf(alert.rule.id);
        counts[name] = (counts[name] ?? 0) + 1;
      }
      for (const [name, want] of Object.entries(expectation.fire)) {
        if (want === true) expect(counts[name] ?? 0, name).toBeGreaterThan(0);
        else expect(counts[name] ?? 0, name).toBe(want);
      }
      const unexplained = Object.keys(counts).filter(
        (n) => !(n in expectation.fire) && !(n in (expectation.allow ?? {})),
      );
      expect(unexplained).toEqual([]);
    });
  }

  it('stays silent where an attack attempt failed or a share was removed', () => {
    const all = [...alertsByFile.entries()].filter(([f]) => f.startsWith('invictus_')).flatMap(([, a]) => a);
    const names = new Set(all.map((a) => nameOf(a.rule.id)));
    // StopLogging/DeleteTrail returned TrailNotFoundException; the snapshot change only removed a share;
    // the bucket policies name an account or a service, never everyone.
    for (const silent of [
      'aws_cloudtrail_logging_stopped',
      'aws_cloudtrail_deleted',
      'aws_snapshot_shared',
      'aws_s3_bucket_policy_public',
    ]) {
      expect(names.has(silent), silent).toBe(false);
    }
  });

  it('lists every event of a burst in source_event_ids', () => {
    const mass = (
      alertsByFile.get('invictus_218007301253_CloudTrail_us-east-1_20230710T1200Z_iLj9fb7yyUG9X4Bf.json') ??
      []
    ).find((a) => nameOf(a.rule.id) === 'aws_secrets_mass_retrieval');
    // 33 GetSecretValue calls by one user, all inside the ten-minute window.
    expect(mass?.source_event_ids).toHaveLength(33);
    expect(mass?.group).toEqual({ 'userIdentity.arn': 'arn:aws:iam::123837392027:user/bert-jan' });
  });
});
