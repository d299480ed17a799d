import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.js';
import { createLogger, createMetrics } from '../../../src/observe/index.js';
import { buildPipeline, ecsMapOptions } from '../../../src/pipeline/build.js';
import type { RawRecord, Sink } from '../../../src/types.js';
import { failedConsoleLogin } from '../support/console-login.js';
import { uint32, writeGeoDatabases } from '../support/mmdb.js';

const search = (target: object) => ({
  sinks: { search: { flavour: 'opensearch', node: 'http://127.0.0.1:9', target } },
});

const text = JSON.stringify(failedConsoleLogin('e1'));
const record: RawRecord = {
  logType: 'cloudtrail',
  origin: { bucket: 'b', key: 'k', record: 1 },
  event: JSON.parse(text) as Record<string, unknown>,
  text,
};

const noSink: Sink = {
  name: 'none',
  schema: 'ecs',
  async write() {},
  async flush() {},
  async close() {},
};

describe('ECS mapping options from config', () => {
  it('writes the data stream namespace the search sink writes to, and keeps event.original when asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asc-build-'));
    const config = validateConfig(
      {
        ...search({ mode: 'datastream', namespace: 'prod' }),
        mapping: { preserveOriginal: true },
        deadLetter: { dir },
      },
      'test',
    );
    const pipeline = await buildPipeline(config, {
      log: createLogger('silent'),
      metrics: createMetrics(),
      sinks: [noSink],
    });
    const doc = pipeline.mappers.ecs(record) as {
      data_stream: { namespace: string };
      event: { original?: string };
    };
    await pipeline.close();
    expect(doc.data_stream.namespace).toBe('prod');
    expect(doc.event.original).toBe(text);
  });

  it('uses the default namespace without a data stream target, and no event.original by default', async () => {
    expect(await ecsMapOptions(validateConfig({}, 'test'))).toEqual({ includeOriginal: false });
    expect(
      await ecsMapOptions(validateConfig(search({ mode: 'index', pattern: 'aws-{logType}' }), 'test')),
    ).toEqual({ includeOriginal: false });
  });

  it('fills source.geo and source.as from the configured MaxMind databases', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asc-build-'));
    // failedConsoleLogin signs in from 203.0.113.50.
    const { city, asn } = writeGeoDatabases(dir, '203.0.113.0/24', {
      city: { country: { iso_code: 'NZ', names: { en: 'New Zealand' } } },
      asn: { autonomous_system_number: uint32(64500) },
    });
    const pipeline = await buildPipeline(
      validateConfig({ mapping: { geoip: { city, asn } }, deadLetter: { dir } }, 'test'),
      {
        log: createLogger('silent'),
        metrics: createMetrics(),
        sinks: [noSink],
      },
    );
    const doc = pipeline.mappers.ecs(record) as { source: Record<string, unknown> };
    await pipeline.close();
    expect(doc.source).toMatchObject({
      ip: '203.0.113.50',
      geo: { country_iso_code: 'NZ', country_name: 'New Zealand' },
      as: { number: 64500 },
    });
  });

  it('stops the start with the key and the path when a GeoIP database cannot be opened', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'asc-build-')), 'GeoLite2-City.mmdb');
    await expect(
      ecsMapOptions(validateConfig({ mapping: { geoip: { city: missing } } }, 'test')),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining(missing),
      details: { key: 'mapping.geoip' },
    });
  });
});

describe('HEC event options from config', () => {
  // A custom order (srcaddr first): the add-on would read the source address as the version.
  const flow: RawRecord = {
    logType: 'vpcflow',
    origin: { bucket: 'b', key: 'AWSLogs/1/vpcflowlogs/eu-west-1/x.log.gz', record: 2 },
    fields: { srcaddr: '10.0.0.1', version: '5', action: 'ACCEPT' },
    line: '10.0.0.1 5 ACCEPT',
    layout: ['srcaddr', 'version', 'action'],
  };

  async function sentFlowLine(mapping: object): Promise<unknown> {
    const dir = mkdtempSync(join(tmpdir(), 'asc-build-'));
    const config = validateConfig({ mapping, deadLetter: { dir } }, 'test');
    const pipeline = await buildPipeline(config, {
      log: createLogger('silent'),
      metrics: createMetrics(),
      sinks: [noSink],
    });
    await pipeline.close();
    return (pipeline.mappers.cim(flow) as { event: unknown }).event;
  }

  it('sends flow lines in an order the add-on reads by default, as written when configured', async () => {
    expect(await sentFlowLine({})).toBe('5 - - 10.0.0.1 - - - - - - - - ACCEPT -');
    expect(await sentFlowLine({ cimFlowLineOrder: 'as-written' })).toBe(flow.line);
  });

  it('refuses an unknown flow line order, naming the key', () => {
    expect(() => validateConfig({ mapping: { cimFlowLineOrder: 'sorted' } }, 'test')).toThrowError(
      /mapping\.cimFlowLineOrder/,
    );
  });
});
