import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { pipelineConfigSchema } from '../../../src/pipeline/config.js';
import { compileRoutes } from '../../../src/pipeline/routes.js';

describe('compileRoutes', () => {
  const route = compileRoutes(pipelineConfigSchema.parse({}));

  it('routes AWS key layouts with the defaults', () => {
    expect(route('AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/x.json.gz')).toBe('cloudtrail');
    expect(route('AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2026/11/28/x.json.gz')).toBe(
      'cloudtrail',
    );
    expect(route('AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/28/x.json.gz')).toBe('skip');
    expect(route('AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/28/x.log.gz')).toBe('vpcflow');
    // Flow logs delivered with Hive-compatible prefixes (the Athena-friendly option).
    expect(
      route(
        'AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=28/hour=10/x.log.parquet',
      ),
    ).toBe('vpcflow');
    expect(route('AWSLogs/123456789012/elasticloadbalancing/x.log.gz')).toBe('skip');
  });

  it('lets the first configured route win and unmatched keys go to content detection', () => {
    const custom = compileRoutes(
      pipelineConfigSchema.parse({ routes: [{ match: '^flows/', logType: 'vpcflow' }], unmatched: 'auto' }),
    );
    expect(custom('flows/a.gz')).toBe('vpcflow');
    expect(custom('AWSLogs/1/CloudTrail/x.gz')).toBe('auto');
  });
});

describe('pipeline.flowFormats', () => {
  const issues = (flowFormats: string[]) => {
    const parsed = pipelineConfigSchema.safeParse({ flowFormats });
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it("takes AWS's ${field} syntax or bare names", () => {
    const parsed = pipelineConfigSchema.parse({
      flowFormats: ['${version} ${srcaddr} ${dstaddr}', 'srcaddr action'],
    });
    expect(parsed.flowFormats).toEqual(['version srcaddr dstaddr', 'srcaddr action']);
  });

  it('come from ASC_FLOW_FORMATS, formats separated by commas (content detection from ASC_UNMATCHED_KEYS)', () => {
    const config = loadConfig({
      env: {
        ASC_FLOW_FORMATS: '${srcaddr} ${dstaddr} ${action}, version srcaddr',
        ASC_UNMATCHED_KEYS: 'auto',
      },
    });
    expect(config.pipeline.flowFormats).toEqual(['srcaddr dstaddr action', 'version srcaddr']);
    expect(config.pipeline.unmatched).toBe('auto');
  });

  it('refuses unknown fields, a field named twice and two formats of one length, naming the format', () => {
    expect(issues(['srcaddr dst-addr'])).toEqual(['flowFormats.0: "dst-addr" is not a VPC flow log field']);
    expect(issues(['srcaddr srcaddr'])).toEqual(['flowFormats.0: names a field twice']);
    expect(issues(['srcaddr dstaddr', 'action log-status'])).toEqual([
      'flowFormats.1: has 2 fields, as format 0 has: a line could not tell them apart',
    ]);
  });
});
