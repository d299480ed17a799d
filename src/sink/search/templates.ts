import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EcsFlat } from '@elastic/ecs';
import { parse as parseYaml } from 'yaml';
import { errorMessage } from '../../errors.js';
import type { LogType } from '../../types.js';
import type { SearchClient } from './client.js';
import type { SearchSinkConfig } from './config.js';
import { SearchSinkError } from './errors.js';
import { LOG_TYPES, templatePatterns } from './target.js';

type Mapping = Record<string, unknown>;
type FieldSpec = string | Mapping;

interface FieldGroup {
  ecs?: string[];
  fields?: Record<string, FieldSpec>;
}

/** mappings/search/fields.yml: the fields our ECS documents carry, per component. */
export type FieldTable = Record<'common' | LogType, FieldGroup>;

export type ArtefactKind = 'lifecycle_policy' | 'ingest_pipeline' | 'component_template' | 'index_template';

export interface Artefact {
  kind: ArtefactKind;
  name: string;
  body: Mapping;
}

export interface InstallResult {
  kind: ArtefactKind;
  name: string;
  status: 'created' | 'updated' | 'unchanged' | 'would-create' | 'would-update';
}

const MANAGED_BY = 'aws-siem-connector';

export function loadFieldTable(): FieldTable {
  const url = new URL('../../../mappings/search/fields.yml', import.meta.url);
  return parseYaml(readFileSync(url, 'utf8')) as FieldTable;
}

const ecsFields = EcsFlat as unknown as Record<string, Record<string, unknown>>;

/** The mapping of one ECS field, as the ECS schema defines it. */
export function ecsFieldMapping(name: string): Mapping {
  const def = ecsFields[name];
  if (!def) {
    throw new SearchSinkError(
      'SEARCH_SETUP',
      `mappings/search/fields.yml lists ${name} under ecs, but ECS has no such field`,
    );
  }
  const mapping: Mapping = { type: def.type };
  for (const key of ['ignore_above', 'index', 'doc_values', 'scaling_factor'] as const) {
    if (def[key] !== undefined) mapping[key] = def[key];
  }
  const multi = def.multi_fields as Array<{ name: string; type: string }> | undefined;
  if (multi && multi.length > 0) {
    mapping.fields = Object.fromEntries(multi.map((m) => [m.name, { type: m.type }]));
  }
  return mapping;
}

/** Types Elasticsearch has and OpenSearch does not (or not in every distribution), with the nearest one. */
const OPENSEARCH_TYPES: Record<string, string> = {
  flattened: 'flat_object',
  match_only_text: 'text',
  constant_keyword: 'keyword',
  wildcard: 'keyword',
  scaled_float: 'float',
};

function forFlavour(mapping: Mapping, flavour: SearchSinkConfig['flavour']): Mapping {
  if (flavour === 'elasticsearch') return mapping;
  const type = OPENSEARCH_TYPES[mapping.type as string];
  let out: Mapping = mapping;
  if (type) {
    const { scaling_factor: _s, ...rest } = mapping;
    out = { ...rest, type };
    // flat_object takes no parameters.
    if (type === 'flat_object') out = { type };
  }
  if (out.fields) {
    const fields = Object.fromEntries(
      Object.entries(out.fields as Record<string, Mapping>).map(([k, v]) => [k, forFlavour(v, flavour)]),
    );
    out = { ...out, fields };
  }
  return out;
}

/** Flat dotted names → the nested `properties` tree a mapping needs. */
export function toProperties(group: FieldGroup, flavour: SearchSinkConfig['flavour']): Mapping {
  const root: Mapping = {};
  const add = (name: string, mapping: Mapping): void => {
    const parts = name.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      if (node[part] === undefined) node[part] = { properties: {} };
      const child = node[part] as Mapping;
      if (!child.properties) {
        throw new SearchSinkError('SEARCH_SETUP', `field ${name} nests under ${part}, which is a leaf field`);
      }
      node = child.properties as Mapping;
    }
    const leaf = parts[parts.length - 1]!;
    if (node[leaf] !== undefined) throw new SearchSinkError('SEARCH_SETUP', `field ${name} is listed twice`);
    node[leaf] = forFlavour(mapping, flavour);
  };
  for (const name of group.ecs ?? []) add(name, ecsFieldMapping(name));
  for (const [name, spec] of Object.entries(group.fields ?? {})) {
    add(name, typeof spec === 'string' ? { type: spec } : spec);
  }
  return root;
}

/** Every leaf field name with its mapped type, for checks that a document's fields are covered. */
export function mappedFieldTypes(table: FieldTable, logType: LogType): Map<string, string> {
  const out = new Map<string, string>();
  for (const group of [table.common, table[logType]]) {
    for (const name of group.ecs ?? []) out.set(name, String(ecsFieldMapping(name).type));
    for (const [name, spec] of Object.entries(group.fields ?? {})) {
      out.set(name, typeof spec === 'string' ? spec : String(spec.type));
    }
  }
  return out;
}

export function templateNames(config: SearchSinkConfig): {
  policy: string;
  pipeline: string;
  common: string;
  component: (t: LogType) => string;
  index: (t: LogType) => string;
} {
  const prefix = config.setup.templatePrefix;
  return {
    policy: `${prefix}-logs`,
    pipeline: `${prefix}-final`,
    common: `${prefix}@ecs`,
    component: (t) => `${prefix}-${t}@mappings`,
    index: (t) => `${prefix}-${t}`,
  };
}

/** Everything `setup search` installs, in the order it must be installed. */
export function buildArtefacts(config: SearchSinkConfig, table: FieldTable = loadFieldTable()): Artefact[] {
  const { flavour, setup, target } = config;
  const names = templateNames(config);
  const artefacts: Artefact[] = [];
  const lifecycle = setup.lifecycle;

  if (lifecycle) {
    artefacts.push({
      kind: 'lifecycle_policy',
      name: names.policy,
      body: flavour === 'elasticsearch' ? ilmPolicy(config, lifecycle) : ismPolicy(config, lifecycle),
    });
  }

  artefacts.push({ kind: 'ingest_pipeline', name: names.pipeline, body: finalPipeline() });

  // The final pipeline runs on every document indexed, whatever pipeline (if any) the request names.
  const settings: Mapping = {
    'index.number_of_shards': setup.shards,
    'index.final_pipeline': names.pipeline,
  };
  if (setup.replicas !== undefined) settings['index.number_of_replicas'] = setup.replicas;
  if (lifecycle && flavour === 'elasticsearch') settings['index.lifecycle.name'] = names.policy;

  artefacts.push({
    kind: 'component_template',
    name: names.common,
    body: {
      template: {
        settings,
        mappings: {
          // Strings nobody listed are still searchable exactly, without an analysed copy per field.
          dynamic_templates: [
            {
              strings_as_keyword: {
                match_mapping_type: 'string',
                mapping: { type: 'keyword', ignore_above: 1024 },
              },
            },
          ],
          properties: toProperties(table.common, flavour),
        },
      },
    },
  });
  for (const logType of LOG_TYPES) {
    artefacts.push({
      kind: 'component_template',
      name: names.component(logType),
      body: { template: { mappings: { properties: toProperties(table[logType], flavour) } } },
    });
  }
  for (const logType of LOG_TYPES) {
    const body: Mapping = {
      index_patterns: templatePatterns(target, logType),
      priority: setup.priority,
      composed_of: [names.common, names.component(logType)],
    };
    if (target.mode === 'datastream') body.data_stream = {};
    artefacts.push({ kind: 'index_template', name: names.index(logType), body });
  }
  for (const artefact of artefacts) stamp(artefact);
  return artefacts;
}

/**
 * Stamps `event.ingested`, as Elastic's Fleet final pipeline does. The detection rules select on it
 * (`timestamp_override`): CloudTrail delivers events 5-15 minutes after their @timestamp, so a rule
 * looking back 6 minutes on @timestamp would never see most of them. Only the server's clock at indexing
 * time serves: ours could be skewed, and documents retried later must count as arriving later.
 */
function finalPipeline(): Mapping {
  return {
    description: `${MANAGED_BY}: sets event.ingested to the indexing time`,
    processors: [{ set: { field: 'event.ingested', value: '{{_ingest.timestamp}}' } }],
  };
}

type Lifecycle = NonNullable<SearchSinkConfig['setup']['lifecycle']>;

/**
 * Data streams roll over their write index, so retention counts from rollover. Index mode writes plain
 * (usually dated) indices that have no rollover alias: a rollover step would fail on every one of them
 * ("rollover_alias not defined"), leave it stuck in hot and never reach the delete phase. There the
 * policy deletes by index age alone.
 */
function rollsOver(config: SearchSinkConfig): boolean {
  return config.target.mode === 'datastream';
}

function ilmPolicy(config: SearchSinkConfig, lifecycle: Lifecycle): Mapping {
  const hot = rollsOver(config)
    ? {
        actions: {
          rollover: {
            max_age: lifecycle.rolloverMaxAge,
            max_primary_shard_size: lifecycle.rolloverMaxPrimarySize,
          },
        },
      }
    : { actions: {} };
  return {
    policy: {
      phases: {
        hot,
        // Without a rollover, min_age counts from the index's creation.
        delete: { min_age: `${lifecycle.deleteAfterDays}d`, actions: { delete: {} } },
      },
    },
  };
}

function ismPolicy(config: SearchSinkConfig, lifecycle: Lifecycle): Mapping {
  const rollover = rollsOver(config);
  return {
    policy: {
      description: rollover
        ? `${MANAGED_BY}: roll over, then delete after ${lifecycle.deleteAfterDays} days`
        : `${MANAGED_BY}: delete indices ${lifecycle.deleteAfterDays} days after creation`,
      default_state: 'hot',
      states: [
        {
          name: 'hot',
          actions: rollover
            ? [
                {
                  rollover: {
                    min_index_age: lifecycle.rolloverMaxAge,
                    min_primary_shard_size: lifecycle.rolloverMaxPrimarySize,
                  },
                },
              ]
            : [],
          transitions: [
            { state_name: 'delete', conditions: { min_index_age: `${lifecycle.deleteAfterDays}d` } },
          ],
        },
        { name: 'delete', actions: [{ delete: {} }], transitions: [] },
      ],
      ism_template: [
        {
          index_patterns: LOG_TYPES.flatMap((t) =>
            config.target.mode === 'datastream'
              ? [`.ds-logs-aws.${t}-*`]
              : templatePatterns(config.target, t),
          ),
          priority: config.setup.priority,
        },
      ],
    },
  };
}

/**
 * Marks an artefact as ours with a hash of its content. Servers add defaults and reorder keys when they
 * store a template, so comparing the stored body with ours would always differ; comparing hashes does not.
 */
function stamp(artefact: Artefact): void {
  const hash = createHash('sha256').update(JSON.stringify(artefact.body)).digest('hex').slice(0, 16);
  const marker = { managed_by: MANAGED_BY, hash };
  if (artefact.kind === 'ingest_pipeline') {
    // OpenSearch pipelines have no _meta; both servers keep the description as written.
    artefact.body.description = `${artefact.body.description as string} [hash ${hash}]`;
  } else if (artefact.kind !== 'lifecycle_policy') {
    artefact.body._meta = marker;
  } else {
    const policy = artefact.body.policy as Mapping;
    if ('phases' in policy) policy._meta = marker;
    else policy.description = `${policy.description as string} [hash ${hash}]`;
  }
}

function hashOf(artefact: Artefact): string {
  if (artefact.kind === 'ingest_pipeline') return descriptionHash(artefact.body.description);
  if (artefact.kind !== 'lifecycle_policy') return (artefact.body._meta as { hash: string }).hash;
  const policy = artefact.body.policy as Mapping;
  if ('phases' in policy) return (policy._meta as { hash: string }).hash;
  return descriptionHash(policy.description);
}

function descriptionHash(description: unknown): string {
  return /\[hash (\w+)\]/.exec(String(description ?? ''))?.[1] ?? '';
}

interface Stored {
  hash: string | undefined;
  /** ISM updates need the stored policy's sequence number and primary term. */
  seqNo?: number;
  primaryTerm?: number;
}

function paths(flavour: SearchSinkConfig['flavour'], kind: ArtefactKind, name: string): string {
  const encoded = encodeURIComponent(name);
  if (kind === 'component_template') return `/_component_template/${encoded}`;
  if (kind === 'index_template') return `/_index_template/${encoded}`;
  if (kind === 'ingest_pipeline') return `/_ingest/pipeline/${encoded}`;
  return flavour === 'elasticsearch' ? `/_ilm/policy/${encoded}` : `/_plugins/_ism/policies/${encoded}`;
}

async function readStored(client: SearchClient, artefact: Artefact): Promise<Stored | undefined> {
  const res = await client.request('GET', paths(client.flavour, artefact.kind, artefact.name));
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw setupError(artefact, 'read', res.status, res.body);
  const body = res.body as Record<string, unknown>;
  if (artefact.kind === 'ingest_pipeline') {
    const entry = body[artefact.name] as { description?: unknown } | undefined;
    return entry ? { hash: descriptionHash(entry.description) || undefined } : undefined;
  }
  if (artefact.kind === 'component_template') {
    const entry = (body.component_templates as Array<{ component_template: Mapping }> | undefined)?.[0];
    return entry ? { hash: metaHash(entry.component_template._meta) } : undefined;
  }
  if (artefact.kind === 'index_template') {
    const entry = (body.index_templates as Array<{ index_template: Mapping }> | undefined)?.[0];
    return entry ? { hash: metaHash(entry.index_template._meta) } : undefined;
  }
  if (client.flavour === 'elasticsearch') {
    const entry = body[artefact.name] as { policy?: Mapping } | undefined;
    return entry ? { hash: metaHash(entry.policy?._meta) } : undefined;
  }
  const policy = body.policy as Mapping | undefined;
  return {
    hash: /\[hash (\w+)\]/.exec(String(policy?.description ?? ''))?.[1],
    seqNo: body._seq_no as number,
    primaryTerm: body._primary_term as number,
  };
}

function metaHash(meta: unknown): string | undefined {
  return typeof meta === 'object' && meta !== null
    ? ((meta as { hash?: string }).hash ?? undefined)
    : undefined;
}

/**
 * Installs the lifecycle policy (if configured), the final ingest pipeline, component templates and index
 * templates (the pipeline before the templates that name it). Idempotent:
 * each artefact is read first and written only when missing or different from ours.
 */
export async function installTemplates(
  client: SearchClient,
  config: SearchSinkConfig,
  options: { dryRun?: boolean; artefacts?: Artefact[] } = {},
): Promise<InstallResult[]> {
  const artefacts = options.artefacts ?? buildArtefacts(config);
  const results: InstallResult[] = [];
  for (const artefact of artefacts) {
    let stored: Stored | undefined;
    try {
      stored = await readStored(client, artefact);
    } catch (err) {
      if (err instanceof SearchSinkError) throw err;
      throw new SearchSinkError(
        'SEARCH_SETUP',
        `cannot read ${artefact.kind} ${artefact.name}: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
    const base = { kind: artefact.kind, name: artefact.name };
    if (stored && stored.hash === hashOf(artefact)) {
      results.push({ ...base, status: 'unchanged' });
      continue;
    }
    if (options.dryRun) {
      results.push({ ...base, status: stored ? 'would-update' : 'would-create' });
      continue;
    }
    let path = paths(client.flavour, artefact.kind, artefact.name);
    if (stored?.seqNo !== undefined && stored.primaryTerm !== undefined) {
      path += `?if_seq_no=${stored.seqNo}&if_primary_term=${stored.primaryTerm}`;
    }
    let res: Awaited<ReturnType<SearchClient['request']>>;
    try {
      res = await client.request('PUT', path, artefact.body);
    } catch (err) {
      throw new SearchSinkError(
        'SEARCH_SETUP',
        `cannot write ${artefact.kind} ${artefact.name}: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
    if (res.status < 200 || res.status >= 300) throw setupError(artefact, 'write', res.status, res.body);
    results.push({ ...base, status: stored ? 'updated' : 'created' });
  }
  return results;
}

function setupError(artefact: Artefact, verb: string, status: number, body: unknown): SearchSinkError {
  const error = (body as { error?: { type?: string; reason?: string } | string } | undefined)?.error;
  const reason =
    typeof error === 'string'
      ? error
      : error
        ? `${error.type ?? 'error'}: ${error.reason ?? ''}`
        : JSON.stringify(body);
  return new SearchSinkError(
    status === 401 || status === 403 ? 'SEARCH_AUTH' : 'SEARCH_SETUP',
    `cannot ${verb} ${artefact.kind.replace('_', ' ')} ${artefact.name}: HTTP ${status}: ${String(reason).slice(0, 500)}`,
    { details: { kind: artefact.kind, name: artefact.name, status } },
  );
}
