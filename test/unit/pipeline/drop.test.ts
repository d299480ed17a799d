import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.js';
import { documentId, toEcs } from '../../../src/map/ecs/index.js';
import { createLogger, createMetrics } from '../../../src/observe/index.js';
import { compileDropFilters } from '../../../src/pipeline/drop.js';
import { type ObjectPipeline, processObject } from '../../../src/pipeline/process-object.js';
import type { RawRecord, SinkRecord } from '../../../src/types.js';

const origin = { bucket: 'b', key: 'k', record: 1 };
const trail = (event: Record<string, unknown>): RawRecord => ({ logType: 'cloudtrail', origin, event });
const flow = (fields: Record<string, string>): RawRecord => ({
  logType: 'vpcflow',
  origin,
  fields,
  line: Object.values(fields).join(' '),
});

/** The filters of a config, validated as `run` validates them. */
function filtersOf(drop: unknown[]) {
  const config = validateConfig({ pipeline: { drop } }, 'test');
  return compileDropFilters(config.pipeline.drop)!;
}

describe('pipeline.drop', () => {
  const drop = filtersOf([
    {
      name: 'public-asset-reads',
      logType: 'cloudtrail',
      match: {
        eventSource: 's3.amazonaws.com',
        eventName: ['GetObject', 'HeadObject'],
        'requestParameters.bucketName|startswith': 'public-',
      },
      unless: { 'errorCode|exists': true },
    },
    { name: 'empty-flows', logType: 'vpcflow', match: { 'log-status': ['NODATA', 'SKIPDATA'] } },
  ]);

  it('names the filter a record matches, with Sigma modifiers on raw field names', () => {
    const read = {
      eventSource: 's3.amazonaws.com',
      eventName: 'GetObject',
      requestParameters: { bucketName: 'public-web' },
    };
    expect(drop(trail(read))).toBe('public-asset-reads');
    expect(drop(trail({ ...read, eventName: 'headobject' }))).toBe('public-asset-reads');
    expect(drop(flow({ version: '2', 'log-status': 'NODATA' }))).toBe('empty-flows');
  });

  it('keeps what no filter matches, and what `unless` spares', () => {
    const read = {
      eventSource: 's3.amazonaws.com',
      eventName: 'GetObject',
      requestParameters: { bucketName: 'payroll' },
    };
    expect(drop(trail(read))).toBeUndefined();
    expect(
      drop(trail({ ...read, requestParameters: { bucketName: 'public-web' }, errorCode: 'AccessDenied' })),
    ).toBeUndefined();
    expect(drop(trail({ eventSource: 'iam.amazonaws.com', eventName: 'CreateUser' }))).toBeUndefined();
    expect(drop(flow({ version: '2', 'log-status': 'OK' }))).toBeUndefined();
  });

  it('is nothing at all without filters', () => {
    expect(compileDropFilters([])).toBeUndefined();
  });

  it('refuses at start a filter the rules cannot compile, naming it, and names used twice', () => {
    const bad = () =>
      validateConfig(
        {
          pipeline: {
            drop: [{ name: 'typo', logType: 'cloudtrail', match: { 'eventName|startwith': 'Get' } }],
          },
        },
        'test',
      );
    expect(bad).toThrow(/pipeline\.drop\.0.*pipeline\.drop\[0\] \(typo\).*startwith/s);
    const twice = { name: 'x', logType: 'vpcflow', match: { action: 'ACCEPT' } };
    expect(() => validateConfig({ pipeline: { drop: [twice, twice] } }, 'test')).toThrow(
      /drop\.1\.name: is used twice/,
    );
  });

  it('drops matching records in the pipeline, counts them by filter, and ships the rest', async () => {
    const shipped: SinkRecord[] = [];
    const metrics = createMetrics();
    const pipeline: ObjectPipeline = {
      sinks: [
        {
          name: 'memory',
          schema: 'ecs',
          async write(r) {
            shipped.push(r);
            r.delivery.ack();
          },
          async flush() {},
          async close() {},
        },
      ],
      deadLetter: { async write() {}, async close() {} },
      metrics,
      log: createLogger('silent'),
      mappers: { id: documentId, ecs: (r) => toEcs(r), cim: () => ({}) },
      drop,
    };
    const event = (i: number, bucketName: string) => ({
      eventVersion: '1.08',
      eventTime: '2026-11-29T06:00:00Z',
      eventSource: 's3.amazonaws.com',
      eventName: 'GetObject',
      awsRegion: 'us-east-1',
      eventID: `e-${i}`,
      requestParameters: { bucketName },
    });
    const text = JSON.stringify({
      Records: [event(1, 'public-web'), event(2, 'payroll'), event(3, 'public-cdn')],
    });
    async function* body() {
      yield gzipSync(text);
    }
    const outcome = await processObject(body(), pipeline, {
      origin: { bucket: 'b', key: 'AWSLogs/1/CloudTrail/x.json.gz' },
    });
    expect(outcome).toMatchObject({ status: 'delivered', records: 3 });
    expect(shipped.map((r) => r.id)).toEqual(['e-2']);
    const dropped = (await metrics.recordsDropped.get()).values;
    expect(dropped).toEqual([{ labels: { log_type: 'cloudtrail', filter: 'public-asset-reads' }, value: 2 }]);
  });
});
