import { fileURLToPath } from 'node:url';
import type { Client } from '@opensearch-project/opensearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compileQueryDsl,
  createEvaluator,
  type DetectionRule,
  loadRules,
  type Rule,
} from '../../src/detection/index.js';
import { type CaseResult, runRuleTests } from '../../src/detection/testing.js';
import { openSearchClient } from './support/opensearch.js';

/**
 * For every single-event rule: index its mapped test events into the real OpenSearch node, run the
 * compiled query DSL, and require exactly the documents the in-process evaluator flags.
 */
const rulesDir = fileURLToPath(new URL('../../rules/', import.meta.url));
const INDEX_PREFIX = 'asc-xcheck-';

let client: Client;
let rules: Rule[];
let cases: CaseResult[];

beforeAll(async () => {
  client = openSearchClient();
  rules = await loadRules(rulesDir);
  cases = await runRuleTests(rulesDir, rules);
  await client.indices.delete({ index: `${INDEX_PREFIX}*` } as never).catch(() => undefined);
});
afterAll(async () => {
  await client?.indices.delete({ index: `${INDEX_PREFIX}*` } as never).catch(() => undefined);
});

// Like the ECS templates: strings are keywords (flattened-style), addresses are ip, times are dates.
const MAPPINGS = {
  dynamic_templates: [{ strings: { match_mapping_type: 'string', mapping: { type: 'keyword' } } }],
  properties: {
    '@timestamp': { type: 'date' },
    source: { properties: { ip: { type: 'ip' }, port: { type: 'long' }, bytes: { type: 'long' } } },
    destination: { properties: { ip: { type: 'ip' }, port: { type: 'long' } } },
    network: { properties: { bytes: { type: 'long' }, packets: { type: 'long' } } },
  },
};

/**
 * For a rule whose query does not read the flattened blobs: they are kept unindexed, as one statement's
 * `Principal: "*"` beside another's `Principal: {AWS: …}` in one document fits no object mapping
 * (Elasticsearch's flattened type takes it; this node's plain mapping cannot).
 */
const MAPPINGS_BLOBS_UNINDEXED = {
  ...MAPPINGS,
  properties: {
    ...MAPPINGS.properties,
    aws: { properties: { cloudtrail: { properties: { flattened: { type: 'object', enabled: false } } } } },
  },
};

describe('compiled query DSL on OpenSearch agrees with the evaluator', () => {
  it('for every single-event rule, over its positive and negative test events', {
    timeout: 300_000,
  }, async () => {
    const all = rules.filter((r): r is DetectionRule => r.kind === 'detection' && r.generate);
    // Field-to-field comparison compiles to a painless script query; the embedded test node runs without the
    // lang-painless module, so these rules are checked by the evaluator tests and their ES|QL form only.
    const needsScripts = all.filter((r) => JSON.stringify(r.search).includes('"op":"fieldref"'));
    expect(needsScripts.map((r) => r.name).sort()).toEqual([
      'aws_iam_access_key_created_for_another_user',
      'aws_iam_login_profile_created_for_another_user',
    ]);
    const detections = all.filter((r) => !needsScripts.includes(r));
    expect(detections.length).toBeGreaterThan(30);
    const disagreements: string[] = [];
    // One index per rule keeps one rule's odd request shapes from clashing with another's mapping; the
    // rules run a few at a time because index creation dominates on a small node.
    const check = async (rule: DetectionRule, n: number) => {
      const docs = new Map<string, Record<string, unknown>>();
      for (const c of cases.filter((c) => c.rule === rule.id))
        for (const e of c.events) docs.set(e.id, e.doc);
      const evaluator = createEvaluator([rule]);
      const flagged = [...docs]
        .filter(([id, doc]) => evaluator.evaluate(doc, id).length > 0)
        .map(([id]) => id)
        .sort();
      expect(flagged.length, rule.file).toBeGreaterThan(0);

      // Bucket policies put `Principal` as a string in one event and an object in another; Elasticsearch's
      // flattened type takes both, a plain object mapping does not, so a clash goes to a sibling index.
      const query = compileQueryDsl(rule);
      const mappings = JSON.stringify(query).includes('aws.cloudtrail.flattened')
        ? MAPPINGS
        : MAPPINGS_BLOBS_UNINDEXED;
      let pending = [...docs];
      for (let part = 0; pending.length > 0; part++) {
        expect(part, `${rule.file}: documents keep clashing`).toBeLessThan(4);
        const index = `${INDEX_PREFIX}${n}-${part}`;
        await client.indices.create({
          index,
          body: { settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings },
        } as never);
        const body = pending.flatMap(([id, doc]) => [{ index: { _index: index, _id: id } }, doc]);
        const bulk = await client.bulk({ body, refresh: true } as never);
        const items = (
          bulk.body as { items: { index: { _id: string; error?: { type: string; reason?: string } } }[] }
        ).items;
        // A clash with a mapping made earlier is a parsing error; with one made by the same bulk request, a
        // merge refusal.
        const clash = (e?: { type: string; reason?: string }) =>
          e?.type === 'mapper_parsing_exception' ||
          (e?.type === 'illegal_argument_exception' && /can't merge/.test(e.reason ?? ''));
        const clashing = new Set(items.filter((i) => clash(i.index.error)).map((i) => i.index._id));
        const other = items.find((i) => i.index.error && !clashing.has(i.index._id));
        expect(other, `${rule.file}: ${JSON.stringify(other)}`).toBeUndefined();
        pending = pending.filter(([id]) => clashing.has(id));
      }
      const index = `${INDEX_PREFIX}${n}-*`;
      const result = await client.search({
        index,
        body: { query, size: 1000, _source: false },
      } as never);
      const hits = (result.body as { hits: { hits: { _id: string }[] } }).hits.hits.map((h) => h._id).sort();
      if (JSON.stringify(hits) !== JSON.stringify(flagged)) {
        disagreements.push(
          `${rule.file}: OpenSearch ${JSON.stringify(hits)} vs evaluator ${JSON.stringify(flagged)}`,
        );
      }
    };
    for (let i = 0; i < detections.length; i += 6) {
      await Promise.all(detections.slice(i, i + 6).map((rule, j) => check(rule, i + j)));
    }
    expect(disagreements).toEqual([]);
  });
});
