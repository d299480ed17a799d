import { describe, expect, it } from 'vitest';
import { applyEnv, loadConfig } from '../../../src/config/index.js';

/** What a Splunk-only deployment sets: the templates always set a flavour, the search node stays empty. */
const SPLUNK_ONLY = {
  ASC_HEC_URLS: 'https://splunk.example.com:8088',
  ASC_HEC_TOKEN: '11111111-2222-3333-4444-555555555555',
  ASC_SEARCH_NODE: '',
  ASC_SEARCH_FLAVOUR: 'elasticsearch',
};

describe('settings from the environment that only qualify a sink', () => {
  it('do not create a search sink: a Splunk-only deployment loads', () => {
    const config = loadConfig({ env: SPLUNK_ONLY });
    expect(config.sinks.search).toBeUndefined();
    expect(config.sinks.hec?.urls).toEqual(['https://splunk.example.com:8088']);
  });

  it('are reported as ignored, not applied', () => {
    const { config, ignored } = applyEnv({}, { ASC_SEARCH_FLAVOUR: 'opensearch', ASC_SEARCH_API_KEY: 'k' });
    expect(config).toEqual({});
    expect(ignored).toEqual(['ASC_SEARCH_FLAVOUR', 'ASC_SEARCH_API_KEY']);
  });

  it('apply once a node or cloud id, from the environment or the file, creates the sink', () => {
    const fromEnv = loadConfig({
      env: {
        ...SPLUNK_ONLY,
        ASC_SEARCH_NODE: 'https://search.example.com:9200',
        ASC_SEARCH_FLAVOUR: 'opensearch',
      },
    });
    expect(fromEnv.sinks.search).toMatchObject({
      flavour: 'opensearch',
      node: 'https://search.example.com:9200',
    });
    const cloud = loadConfig({
      env: { ASC_SEARCH_CLOUD_ID: 'dep:abc', ASC_SEARCH_FLAVOUR: 'elasticsearch' },
    });
    expect(cloud.sinks.search).toMatchObject({ flavour: 'elasticsearch', cloudId: 'dep:abc' });
    // Variables are applied in no particular order of the list: a qualifier still sees the section.
    const { config } = applyEnv({}, { ASC_SEARCH_FLAVOUR: 'opensearch', ASC_SEARCH_NODE: 'https://s:9200' }, [
      {
        env: 'ASC_SEARCH_FLAVOUR',
        path: ['sinks', 'search', 'flavour'],
        type: 'string',
        qualifies: ['sinks', 'search'],
      },
      { env: 'ASC_SEARCH_NODE', path: ['sinks', 'search', 'node'], type: 'string' },
    ]);
    expect(config).toEqual({ sinks: { search: { flavour: 'opensearch', node: 'https://s:9200' } } });
  });

  it('qualify a sink the file declares', () => {
    const { config, ignored } = applyEnv(
      { sinks: { search: { node: 'https://search.example.com:9200' } } },
      { ASC_SEARCH_FLAVOUR: 'opensearch' },
    );
    expect(config).toEqual({
      sinks: { search: { node: 'https://search.example.com:9200', flavour: 'opensearch' } },
    });
    expect(ignored).toEqual([]);
  });

  it('do not create a HEC sink either: a token without URLs is ignored', () => {
    const config = loadConfig({ env: { ASC_HEC_TOKEN: 'tok', ASC_HEC_GZIP: 'false' } });
    expect(config.sinks.hec).toBeUndefined();
  });
});

describe('environment values', () => {
  it('drop surrounding whitespace, such as the line break of a value injected from a stored secret', () => {
    const config = loadConfig({
      env: { ...SPLUNK_ONLY, ASC_HEC_TOKEN: ' tok-123\r\n', ASC_LOG_LEVEL: 'warn\n' },
    });
    expect(config.sinks.hec?.token).toBe('tok-123');
    expect(config.observe.logLevel).toBe('warn');
  });

  it('read booleans whatever their case', () => {
    const config = loadConfig({ env: { ...SPLUNK_ONLY, ASC_HEC_GZIP: 'False', ASC_HEC_ACK: 'TRUE' } });
    expect(config.sinks.hec?.gzip).toBe(false);
    expect(config.sinks.hec?.ack.enabled).toBe(true);
  });
});

describe('the source role', () => {
  it('comes from ASC_SOURCE_ROLE_ARN / ASC_SOURCE_EXTERNAL_ID, with a session name that shows who read', () => {
    const config = loadConfig({
      env: {
        ASC_SOURCE_ROLE_ARN: 'arn:aws:iam::111111111111:role/log-reader',
        ASC_SOURCE_EXTERNAL_ID: 'siem-reader',
      },
    });
    expect(config.source.assumeRole).toEqual({
      roleArn: 'arn:aws:iam::111111111111:role/log-reader',
      externalId: 'siem-reader',
      sessionName: 'aws-siem-connector',
    });
  });

  it('refuses what is not a role ARN, naming the key', () => {
    expect(() =>
      loadConfig({ env: { ASC_SOURCE_ROLE_ARN: 'arn:aws:iam::111111111111:user/alice' } }),
    ).toThrowError(/source\.assumeRole\.roleArn/);
  });
});

describe('HEC index routing from the environment', () => {
  it('takes log-type indexes and account=index pairs', () => {
    const config = loadConfig({
      env: {
        ...SPLUNK_ONLY,
        ASC_HEC_CLOUDTRAIL_INDEX: 'aws_cloudtrail',
        ASC_HEC_VPCFLOW_INDEX: 'aws_vpcflow',
        ASC_HEC_ACCOUNT_INDEXES: '111122223333=tenant_a, 444455556666 = tenant_b',
      },
    });
    expect(config.sinks.hec?.indexes).toEqual({ cloudtrail: 'aws_cloudtrail', vpcflow: 'aws_vpcflow' });
    expect(config.sinks.hec?.accountIndexes).toEqual({
      '111122223333': 'tenant_a',
      '444455556666': 'tenant_b',
    });
  });

  it('refuses a pair that is not account=index, naming the variable', () => {
    expect(() =>
      loadConfig({ env: { ...SPLUNK_ONLY, ASC_HEC_ACCOUNT_INDEXES: '111122223333=tenant_a,tenant_b' } }),
    ).toThrow(/ASC_HEC_ACCOUNT_INDEXES.*key=value/s);
  });
});

describe('the S3 poller from the environment', () => {
  it('comes from ASC_S3_POLL_LOCATIONS, qualified by the other ASC_S3_POLL_* variables', () => {
    const config = loadConfig({
      env: {
        ASC_S3_POLL_LOCATIONS: 's3://trail-archive/AWSLogs/o-abc/, s3://flows/AWSLogs/',
        ASC_S3_POLL_STATE_FILE: '/var/lib/asc/poll.json',
        ASC_S3_POLL_INTERVAL_SECONDS: '30',
        ASC_S3_POLL_SINCE: '2026-11-01T00:00:00Z',
      },
    });
    expect(config.source.s3Poll).toEqual({
      locations: ['s3://trail-archive/AWSLogs/o-abc/', 's3://flows/AWSLogs/'],
      stateFile: '/var/lib/asc/poll.json',
      intervalSeconds: 30,
      since: '2026-11-01T00:00:00Z',
      datePartitions: true,
      settleSeconds: 900,
      giveUpAfterHours: 24,
      shutdownGraceSeconds: 20,
    });
  });

  it('is not created by a qualifying variable alone, and refuses what is not an S3 location', () => {
    const { config, ignored } = applyEnv({}, { ASC_S3_POLL_STATE_FILE: 'poll.json' });
    expect(config).toEqual({});
    expect(ignored).toEqual(['ASC_S3_POLL_STATE_FILE']);
    expect(() => loadConfig({ env: { ASC_S3_POLL_LOCATIONS: 'trail-archive/AWSLogs/' } })).toThrow(
      /source\.s3Poll\.locations/,
    );
    expect(() =>
      loadConfig({
        env: {
          ASC_S3_POLL_LOCATIONS: 's3://trail-archive/AWSLogs/',
          ASC_S3_POLL_STATE_FILE: 'poll.json',
          ASC_S3_POLL_STATE_S3: 's3://connector-state/poll/',
        },
      }),
    ).toThrow(/stateFile or source\.s3Poll\.stateS3, not both/);
  });
});
