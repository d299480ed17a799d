import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  compileKibana,
  compileQueryDsl,
  compileSavedSearch,
  compileSpl,
  loadRules,
  parseRules,
  type Rule,
  savedSearchStanza,
} from '../../../src/detection/index.js';
import { listRuleFiles } from '../../../src/detection/load.js';
import { parseSpl, SplSyntaxError } from '../../../src/detection/spl-check.js';

const rulesDir = fileURLToPath(new URL('../../../rules/', import.meta.url));
const schemasDir = fileURLToPath(new URL('../../../../shared/peer/schemas/', import.meta.url));
const haveSchemas = existsSync(schemasDir);
if (!haveSchemas) console.warn(`skipping schema validation: ${schemasDir} is absent`);

let rules: Rule[];
beforeAll(async () => {
  rules = await loadRules(rulesDir);
});

const byName = (name: string) => rules.find((r) => r.name === name) as Rule;

describe.skipIf(!haveSchemas)('published schemas', () => {
  it('every rule file validates against the Sigma rule / correlation JSON schemas', async () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
    const ruleSchema = ajv.compile(JSON.parse(readFileSync(`${schemasDir}sigma-rule.schema.json`, 'utf8')));
    const correlationSchema = ajv.compile(
      JSON.parse(readFileSync(`${schemasDir}sigma-correlation.schema.json`, 'utf8')),
    );
    const problems: string[] = [];
    for (const file of await listRuleFiles(rulesDir)) {
      for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
        const data = doc.toJS() as Record<string, unknown>;
        const validate = 'correlation' in data ? correlationSchema : ruleSchema;
        if (!validate(data)) problems.push(`${file}: ${ajv.errorsText(validate.errors)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every compiled Kibana rule validates against the Kibana 9.5 rule schemas and has what import requires', () => {
    // The schema declares draft-04 but uses nothing draft-07 reads differently (no boolean exclusive
    // bounds, no `id`), so Ajv's default draft validates it once the declaration is dropped.
    const { $schema: _draft, ...schema } = JSON.parse(
      readFileSync(`${schemasDir}kibana-detection-rule.schema.json`, 'utf8'),
    );
    expect(JSON.stringify(schema)).not.toMatch(/"exclusive(Minimum|Maximum)":(true|false)|"id":"/);
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const problems: string[] = [];
    const types = new Set<string>();
    for (const rule of rules.filter((r) => r.kind === 'correlation' || r.generate)) {
      const body = compileKibana(rule);
      types.add(body.type);
      if (!validate(body)) problems.push(`${rule.file}: ${ajv.errorsText(validate.errors)}`);
      for (const key of ['rule_id', 'name', 'description', 'risk_score', 'severity', 'type']) {
        if (!(key in body)) problems.push(`${rule.file}: missing ${key}`);
      }
    }
    expect(problems).toEqual([]);
    expect([...types].sort()).toEqual(['esql', 'query', 'threshold']);
  });
});

describe('Kibana compiler', () => {
  it('turns a detection into a KQL query rule with MITRE mapping and severity', () => {
    const body = compileKibana(byName('aws_cloudtrail_logging_stopped'));
    expect(body).toMatchObject({
      type: 'query',
      language: 'kuery',
      rule_id: byName('aws_cloudtrail_logging_stopped').id,
      severity: 'high',
      risk_score: 73,
      index: ['logs-aws.cloudtrail-*'],
      author: ['aws-siem-connector contributors'],
      query:
        'event.provider: "cloudtrail.amazonaws.com" and event.action: "StopLogging" and not aws.cloudtrail.error_code:*',
    });
    expect(body.threat).toEqual([
      {
        framework: 'MITRE ATT&CK',
        tactic: {
          id: 'TA0005',
          name: 'Defense Evasion',
          reference: 'https://attack.mitre.org/tactics/TA0005/',
        },
        technique: [
          {
            id: 'T1562',
            name: 'Impair Defenses',
            reference: 'https://attack.mitre.org/techniques/T1562/',
            subtechnique: [
              {
                id: 'T1562.008',
                name: 'Disable or Modify Cloud Logs',
                reference: 'https://attack.mitre.org/techniques/T1562/008/',
              },
            ],
          },
        ],
      },
    ]);
  });

  it('turns event_count and value_count correlations into threshold rules', () => {
    expect(compileKibana(byName('aws_console_login_failure_burst_per_source_ip'))).toMatchObject({
      type: 'threshold',
      interval: '5m',
      threshold: { field: ['source.address'], value: 5 },
    });
    expect(compileKibana(byName('aws_vpcflow_port_scan'))).toMatchObject({
      type: 'threshold',
      index: ['logs-aws.vpcflow-*'],
      query: 'event.outcome: "failure"',
      threshold: { field: ['source.ip'], value: 1, cardinality: [{ field: 'destination.port', value: 20 }] },
    });
  });

  it('uses ES|QL for sums and field comparisons', () => {
    expect(compileKibana(byName('aws_vpcflow_large_transfer_to_external')).query).toBe(
      [
        'FROM logs-aws.vpcflow-*',
        '| WHERE TO_LOWER(event.outcome) == "success" AND (CIDR_MATCH(source.ip, "10.0.0.0/8") OR CIDR_MATCH(source.ip, "172.16.0.0/12") OR CIDR_MATCH(source.ip, "192.168.0.0/16") OR CIDR_MATCH(source.ip, "100.64.0.0/10") OR CIDR_MATCH(source.ip, "127.0.0.0/8") OR CIDR_MATCH(source.ip, "169.254.0.0/16")) AND NOT COALESCE((CIDR_MATCH(destination.ip, "10.0.0.0/8") OR CIDR_MATCH(destination.ip, "172.16.0.0/12") OR CIDR_MATCH(destination.ip, "192.168.0.0/16") OR CIDR_MATCH(destination.ip, "100.64.0.0/10") OR CIDR_MATCH(destination.ip, "127.0.0.0/8") OR CIDR_MATCH(destination.ip, "169.254.0.0/16")), FALSE)',
        '| STATS value = SUM(network.bytes), event_count = COUNT(*) BY source.ip, destination.ip',
        '| WHERE value >= 500000000',
      ].join('\n'),
    );
    const body = compileKibana(byName('aws_iam_access_key_created_for_another_user'));
    expect(body.type).toBe('esql');
    expect(body.query).toContain('COALESCE(TO_LOWER(user.target.name) == TO_LOWER(user.name), FALSE)');
  });

  it('builds query DSL with case-insensitive terms and nested bool logic', () => {
    expect(compileQueryDsl(byName('aws_root_account_usage'))).toEqual({
      bool: {
        filter: [
          { term: { 'aws.cloudtrail.user_identity.type': { value: 'Root', case_insensitive: true } } },
          {
            bool: {
              must_not: [
                {
                  bool: {
                    should: [
                      { exists: { field: 'aws.cloudtrail.user_identity.invoked_by' } },
                      {
                        term: {
                          'aws.cloudtrail.event_type': { value: 'AwsServiceEvent', case_insensitive: true },
                        },
                      },
                    ],
                    minimum_should_match: 1,
                  },
                },
              ],
            },
          },
        ],
      },
    });
  });
});

describe('SPL compiler', () => {
  it('golden: a detection over the add-on fields', () => {
    expect(compileSpl(byName('aws_security_group_open_to_world'))).toBe(
      'sourcetype="aws:cloudtrail" eventSource="ec2.amazonaws.com" eventName="AuthorizeSecurityGroupIngress" ' +
        '(requestParameters.ipPermissions.items{}.ipRanges.items{}.cidrIp="0.0.0.0/0" OR requestParameters.ipPermissions.items{}.ipv6Ranges.items{}.cidrIpv6="::/0" OR requestParameters.cidrIp="0.0.0.0/0") ' +
        'errorCode="success"',
    );
  });

  it('golden: a flow correlation with a sliding window', () => {
    expect(compileSpl(byName('aws_vpcflow_port_scan'))).toBe(
      'sourcetype="aws:cloudwatchlogs:vpcflow" vpcflow_action="REJECT" | streamstats time_window=300s dc(dest_port) AS value BY src_ip | where value>=20 | dedup src_ip | table _time src_ip value',
    );
  });

  it('golden: field references go through where', () => {
    expect(compileSpl(byName('aws_iam_access_key_created_for_another_user'))).toBe(
      "sourcetype=\"aws:cloudtrail\" | where match('eventSource', \"(?i)^iam\\\\.amazonaws\\\\.com$\") AND match('eventName', \"(?i)^CreateAccessKey$\") AND isnotnull('requestParameters.userName') AND NOT (lower('requestParameters.userName')==lower('userIdentity.userName') OR 'errorCode'!=\"success\")",
    );
  });

  it('every rule compiles to SPL that parses with known commands', () => {
    for (const rule of rules.filter((r) => r.kind === 'correlation' || r.generate)) {
      const commands = parseSpl(compileSpl(rule));
      expect(commands[0]?.name, rule.file).toBe('search');
    }
  });

  it('the SPL reader rejects unbalanced quotes and parentheses and unknown commands', () => {
    expect(() => parseSpl('a="b')).toThrow(SplSyntaxError);
    expect(() => parseSpl('(a=b')).toThrow(/unclosed/);
    expect(() => parseSpl('a=b)')).toThrow(/unbalanced/);
    expect(() => parseSpl('a=b | frobnicate x')).toThrow(/unknown command 'frobnicate'/);
    expect(() => parseSpl('a=b || where x')).toThrow(/empty command/);
    expect(parseSpl('a="x|y" | where match(f, "(")').map((c) => c.name)).toEqual(['search', 'where']);
  });

  it('saved search: schedule, alert condition and webhook to our receiver', () => {
    const fields = compileSavedSearch(byName('aws_cloudtrail_logging_stopped'), {
      webhookUrl: 'https://asc.example.com:8443/',
    });
    expect(fields).toMatchObject({
      is_scheduled: '1',
      cron_schedule: '*/5 * * * *',
      'dispatch.earliest_time': '-24h@h',
      'dispatch.latest_time': 'now',
      alert_type: 'number of events',
      alert_comparator: 'greater than',
      alert_threshold: '0',
      'alert.severity': '5',
      actions: 'webhook',
      'action.webhook': '1',
      'action.webhook.param.url': 'https://asc.example.com:8443/alerts/splunk?token=$ASC_WEBHOOK_TOKEN$',
    });
    const stanza = savedSearchStanza('ASC - x', fields);
    expect(stanza.split('\n')[0]).toBe('[ASC - x]');
    expect(stanza).toContain(
      '\nsearch = sourcetype="aws:cloudtrail" _index_earliest=-5m@m _index_latest=@m ',
    );
  });
});

describe('compile errors', () => {
  it('names the rule and field a backend cannot map', () => {
    const [rule] = parseRules([
      {
        file: 'x.yml',
        text: `title: t
id: 0b0c6a5e-1f3a-4c1e-9d7e-0a1b2c3d4e5f
description: d
author: a
level: low
logsource: {product: aws, service: vpcflow}
detection: {sel: {no-such-field: 1}, condition: sel}
`,
      },
    ]);
    expect(() => compileKibana(rule as Rule)).toThrow(/field 'no-such-field' has no ecs mapping/);
    expect(() => compileSpl(rule as Rule)).toThrow(/field 'no-such-field' has no splunk mapping/);
  });
});
