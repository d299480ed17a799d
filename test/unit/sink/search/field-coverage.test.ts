import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type SampleDocument, sampleEcsDocuments } from '../../../../src/bench/search.js';
import { decodeObject } from '../../../../src/decode/index.js';
import { toEcs } from '../../../../src/map/ecs/index.js';
import { loadFieldTable, mappedFieldTypes } from '../../../../src/sink/search/templates.js';
import type { LogType } from '../../../../src/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const peerElastic = path.resolve(repoRoot, '../shared/peer/elastic');

/** Leaf paths of a nested document; objects under a flattened field count as that field. */
function leafPaths(value: unknown, opaque: Set<string>, prefix = '', out = new Set<string>()): Set<string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !opaque.has(prefix)) {
    for (const [key, child] of Object.entries(value))
      leafPaths(child, opaque, prefix ? `${prefix}.${key}` : key, out);
  } else if (
    Array.isArray(value) &&
    value.some((v) => v !== null && typeof v === 'object') &&
    !opaque.has(prefix)
  ) {
    for (const item of value) leafPaths(item, opaque, prefix, out);
  } else {
    out.add(prefix);
  }
  return out;
}

/** Fields of the documents that have no mapping, or whose values cannot fit the mapped type. */
function coverage(docs: readonly Pick<SampleDocument, 'logType' | 'doc'>[], logType: LogType) {
  const types = mappedFieldTypes(loadFieldTable(), logType);
  const opaque = new Set([...types].filter(([, t]) => t === 'flattened').map(([name]) => name));
  const seen = new Set<string>();
  const unmapped = new Set<string>();
  const mismatched = new Set<string>();
  for (const { doc } of docs.filter((d) => d.logType === logType)) {
    for (const field of leafPaths(doc, opaque)) {
      seen.add(field);
      const type = types.get(field);
      if (!type) {
        unmapped.add(field);
        continue;
      }
      const value = field
        .split('.')
        .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], doc);
      const sample = Array.isArray(value) ? value[0] : value;
      if ((type === 'long' || type === 'float') && typeof sample !== 'number')
        mismatched.add(`${field}=${String(sample)}`);
      if (type === 'boolean' && typeof sample !== 'boolean') mismatched.add(`${field}=${String(sample)}`);
    }
  }
  return { seen, unmapped: [...unmapped].sort(), mismatched: [...mismatched].sort() };
}

describe('template coverage of the ECS mapper output', () => {
  it('maps every field the ECS mapper produces on the generated samples, with a fitting type', async () => {
    const docs = await sampleEcsDocuments({ cloudtrail: 400, vpcflow: 600, seed: 3 });
    for (const logType of ['cloudtrail', 'vpcflow'] as const) {
      const result = coverage(docs, logType);
      // Guards against a vacuous pass: the samples must exercise a real share of the mapping.
      expect(result.seen.size).toBeGreaterThan(25);
      expect(result.seen.has('@timestamp') && result.seen.has('source.ip')).toBe(true);
      expect(result.unmapped, `${logType} fields without a mapping`).toEqual([]);
      expect(result.mismatched, `${logType} values that do not fit their type`).toEqual([]);
    }
  });

  it.skipIf(!existsSync(peerElastic))(
    "maps every field the ECS mapper produces on Elastic's pipeline-test inputs (skipped without ../shared/peer)",
    async () => {
      const docs: Array<Pick<SampleDocument, 'logType' | 'doc'>> = [];
      for (const file of readdirSync(peerElastic).filter((f) => f.endsWith('.log'))) {
        const body = Readable.from([readFileSync(path.join(peerElastic, file))]);
        for await (const result of decodeObject(body, { origin: { key: file }, logType: 'auto' })) {
          if (result.kind === 'record') {
            docs.push({
              logType: result.record.logType,
              doc: toEcs(result.record) as Record<string, unknown>,
            });
          }
        }
      }
      expect(docs.filter((d) => d.logType === 'cloudtrail').length).toBeGreaterThan(5);
      for (const logType of ['cloudtrail', 'vpcflow'] as const) {
        const result = coverage(docs, logType);
        expect(result.unmapped, `${logType} fields without a mapping`).toEqual([]);
        expect(result.mismatched, `${logType} values that do not fit their type`).toEqual([]);
      }
    },
  );
});
