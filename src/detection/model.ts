/**
 * The parsed form of a Sigma rule. Every stage after the loader (evaluator, compilers, rule tests) works
 * on this tree, never on the YAML, so one reading of the Sigma semantics serves every backend.
 */

export type LogService = 'cloudtrail' | 'vpcflow';
export type Level = 'informational' | 'low' | 'medium' | 'high' | 'critical';

/** How a field's value is compared. `wildcard` is a plain Sigma value holding unescaped `*` or `?`. */
export type MatchOp =
  | 'eq'
  | 'wildcard'
  | 'contains'
  | 'startswith'
  | 'endswith'
  | 're'
  | 'cidr'
  | 'exists'
  | 'fieldref'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte';

export type SigmaValue = string | number | boolean | null;

/** One field condition. `values` are OR-ed unless `all` (the `|all` modifier) makes them AND-ed. */
export interface FieldMatch {
  kind: 'match';
  /** Sigma (raw log) field name, e.g. `eventName`, `requestParameters.bucketName`, `dstport`. */
  field: string;
  op: MatchOp;
  values: SigmaValue[];
  all: boolean;
  cased: boolean;
}

export type SearchNode =
  | FieldMatch
  | { kind: 'and'; items: SearchNode[] }
  | { kind: 'or'; items: SearchNode[] }
  | { kind: 'not'; item: SearchNode }
  | { kind: 'const'; value: boolean };

export interface RuleMeta {
  id: string;
  title: string;
  /** Sigma `name`, how correlations refer to a rule. */
  name?: string;
  status?: string;
  description: string;
  author: string;
  references: string[];
  level: Level;
  tags: string[];
  falsepositives: string[];
  /** File the rule came from (relative to the rules directory when loaded from one). */
  file: string;
  /** 1-based line of the YAML document in that file. */
  line: number;
}

export interface DetectionRule extends RuleMeta {
  kind: 'detection';
  service: LogService;
  search: SearchNode;
  /** False when the rule only feeds a correlation (Sigma `generate: false` on the correlation). */
  generate: boolean;
}

export type CorrelationType = 'event_count' | 'value_count' | 'value_sum';
export type CompareOp = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'neq';

export interface CorrelationRule extends RuleMeta {
  kind: 'correlation';
  service: LogService;
  type: CorrelationType;
  /** The detection rules whose matches are counted (all of one log service). */
  rules: DetectionRule[];
  groupBy: string[];
  timespanMs: number;
  /** Sigma timespan text as written, e.g. `5m`. */
  timespan: string;
  condition: { op: CompareOp; value: number; field?: string };
}

export type Rule = DetectionRule | CorrelationRule;

/** One firing: what `detect` prints and what the pipeline sends on. */
export interface Alert {
  rule: { id: string; name: string; level: Level; tags: string[]; author: string };
  '@timestamp': string;
  /** Ids of every record that made the rule fire (CloudTrail eventID; flow document id). */
  source_event_ids: string[];
  /** For correlations: the group-by values (Sigma field names) and the measured value. */
  group?: Record<string, unknown>;
  value?: number;
}
