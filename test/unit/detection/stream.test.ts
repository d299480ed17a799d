import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createEvaluator, loadRules } from '../../../src/detection/index.js';
import { evaluateObject } from '../../../src/detection/stream.js';
import { cloudTrailObjectText, generateCloudTrailRecords } from '../../../src/samples/index.js';

const rulesDir = fileURLToPath(new URL('../../../rules/', import.meta.url));

describe('evaluateObject', () => {
  it('reports a record the ECS mapper refuses and still evaluates the records after it', async () => {
    const records = generateCloudTrailRecords({ seed: 4242, count: 5 }) as Record<string, unknown>[];
    records[1] = { ...records[1], eventTime: 'not a time' };
    const evaluator = createEvaluator(await loadRules(rulesDir));
    const result = await evaluateObject(evaluator, Readable.from([cloudTrailObjectText(records)]), {
      key: 'ct.json',
      type: 'cloudtrail',
    });
    expect(result.records).toBe(4);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]).toMatchObject({
      code: 'MAP_FAILED',
      field: 'eventTime',
      origin: { key: 'ct.json', record: 2 },
      reason: expect.stringContaining('"not a time" is not a timestamp'),
    });
    expect(result.rejected[0]!.raw).toContain('not a time');
  });
});
