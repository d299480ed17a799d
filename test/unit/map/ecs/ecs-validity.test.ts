import { isIP } from 'node:net';
import { EcsFlat } from '@elastic/ecs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeObject } from '../../../../src/decode/index.js';
import { toEcs } from '../../../../src/map/ecs/index.js';
import {
  cloudTrailObjectText,
  flowFieldsForVersion,
  generateCloudTrailRecords,
  generateFlowLines,
} from '../../../../src/samples/index.js';
import type { RawRecord } from '../../../../src/types.js';
import { chunks } from '../../decode/helpers.js';
import { peerRecords } from './peer-data.js';

interface FieldDef {
  type: string;
  normalize?: string[];
  allowed_values?: { name: string; expected_event_types?: string[] }[];
}
const FIELDS = EcsFlat as unknown as Record<string, FieldDef>;

const STRING_TYPES = new Set(['keyword', 'constant_keyword', 'wildcard', 'text', 'match_only_text']);
const INTEGER_TYPES = new Set(['long', 'integer', 'short', 'byte', 'unsigned_long']);
const FLOAT_TYPES = new Set(['float', 'double', 'half_float', 'scaled_float']);

/** Every problem with one document against the ECS definitions shipped in @elastic/ecs. */
function ecsProblems(doc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const visit = (value: unknown, path: string): void => {
    if (path.startsWith('aws.') || path.startsWith('labels.')) return;
    const def = FIELDS[path];
    if (def && (def.type === 'geo_point' || def.type === 'object' || def.type === 'flattened')) return;
    if (!def && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) visit(v, path ? `${path}.${k}` : k);
      return;
    }
    if (!def) {
      problems.push(`${path}: not an ECS field`);
      return;
    }
    const values = Array.isArray(value) ? value : [value];
    if (def.normalize?.includes('array') && !Array.isArray(value)) problems.push(`${path}: must be an array`);
    for (const v of values) {
      const bad = (what: string) =>
        problems.push(`${path}: ${JSON.stringify(v)} is not ${what} (ECS type ${def.type})`);
      if (STRING_TYPES.has(def.type)) {
        if (typeof v !== 'string') bad('a string');
      } else if (INTEGER_TYPES.has(def.type)) {
        if (!Number.isInteger(v)) bad('an integer');
      } else if (FLOAT_TYPES.has(def.type)) {
        if (typeof v !== 'number') bad('a number');
      } else if (def.type === 'boolean') {
        if (typeof v !== 'boolean') bad('a boolean');
      } else if (def.type === 'date') {
        if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) bad('a date');
      } else if (def.type === 'ip') {
        if (typeof v !== 'string' || isIP(v) === 0) bad('an IP address');
      }
      if (def.allowed_values && !def.allowed_values.some((a) => a.name === v)) bad('an allowed value');
    }
  };
  visit(doc, '');
  const event = (doc.event ?? {}) as { category?: string[]; type?: string[] };
  const categories = FIELDS['event.category']!.allowed_values!;
  for (const type of event.type ?? []) {
    if (!event.category) continue;
    const fits = event.category.some((c) =>
      categories.find((a) => a.name === c)?.expected_event_types?.includes(type),
    );
    if (!fits)
      problems.push(`event.type ${type} is not expected for event.category ${event.category.join(',')}`);
  }
  return problems;
}

async function generatedRecords(): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  const collect = async (text: string, key: string) => {
    for await (const r of decodeObject(chunks(text, 4096), { origin: { key } }))
      if (r.kind === 'record') out.push(r.record);
  };
  await collect(
    cloudTrailObjectText(generateCloudTrailRecords({ seed: 42, count: 800, suspicious: true })),
    'AWSLogs/1/CloudTrail/us-east-1/gen.json',
  );
  for (const version of [2, 3, 4, 5, 6, 7, 8]) {
    await collect(
      generateFlowLines({ seed: version, count: 300, version, suspicious: true, idleShare: 0.1 }).join('\n'),
      `AWSLogs/1/vpcflowlogs/us-east-1/v${version}.log`,
    );
    expect(flowFieldsForVersion(version).length).toBeGreaterThan(0);
  }
  return out;
}

describe('every document is valid ECS per @elastic/ecs', () => {
  let all: RawRecord[] = [];

  beforeAll(async () => {
    const peer = await peerRecords();
    all = [...[...peer.values()].flat(), ...(await generatedRecords())];
  });

  it('the checker itself catches wrong types, unknown fields and bad category/type pairs', () => {
    expect(ecsProblems({ source: { ip: '211.9.016.253' } })).toHaveLength(1);
    expect(ecsProblems({ source: { port: '22' } })).toHaveLength(1);
    expect(ecsProblems({ nonsense: { field: 1 } })).toHaveLength(1);
    expect(ecsProblems({ event: { kind: 'weird' } })).toHaveLength(1);
    expect(ecsProblems({ event: { category: ['authentication'], type: ['deletion'] } })).toHaveLength(1);
    expect(
      ecsProblems({ event: { category: ['iam'], type: ['user', 'change'] }, aws: { anything: 1 } }),
    ).toEqual([]);
  });

  it('holds for all peer files and generated samples', () => {
    expect(all.length).toBeGreaterThan(2000);
    const failures: string[] = [];
    for (const record of all) {
      for (const p of ecsProblems(toEcs(record)))
        failures.push(`${record.origin.key}#${record.origin.record}: ${p}`);
    }
    expect(failures.slice(0, 20)).toEqual([]);
  });
});
