/**
 * Environment variables that set config keys. They override the file, so a container or Lambda can be
 * configured without one. Secrets are best given here or by `*File` keys, never on the command line.
 */
export interface EnvBinding {
  env: string;
  path: readonly string[];
  /** `list`: comma-separated; `map`: comma-separated `key=value` pairs. */
  type: 'string' | 'number' | 'boolean' | 'list' | 'map';
  /**
   * The optional section (a sink, the SQS source) this variable only qualifies. It is applied when the
   * file or another variable creates that section, and ignored otherwise: deployment templates set such
   * variables with defaults (ASC_SEARCH_FLAVOUR=elasticsearch) whether or not the sink is wanted, and a
   * default alone must not conjure up a half-configured sink that fails validation.
   */
  qualifies?: readonly string[];
}

const HEC = ['sinks', 'hec'] as const;
const SEARCH = ['sinks', 'search'] as const;
const S3_POLL = ['source', 's3Poll'] as const;

export const ENV_BINDINGS: readonly EnvBinding[] = [
  { env: 'ASC_LOG_LEVEL', path: ['observe', 'logLevel'], type: 'string' },
  { env: 'ASC_METRICS_PORT', path: ['observe', 'metricsPort'], type: 'number' },
  { env: 'AWS_REGION', path: ['aws', 'region'], type: 'string' },
  { env: 'ASC_AWS_ENDPOINT', path: ['aws', 'endpoint'], type: 'string' },
  { env: 'ASC_SQS_QUEUE_URLS', path: ['source', 'sqs', 'queueUrls'], type: 'list' },
  { env: 'ASC_S3_POLL_LOCATIONS', path: ['source', 's3Poll', 'locations'], type: 'list' },
  {
    env: 'ASC_S3_POLL_STATE_FILE',
    path: ['source', 's3Poll', 'stateFile'],
    type: 'string',
    qualifies: S3_POLL,
  },
  { env: 'ASC_S3_POLL_STATE_S3', path: ['source', 's3Poll', 'stateS3'], type: 'string', qualifies: S3_POLL },
  {
    env: 'ASC_S3_POLL_INTERVAL_SECONDS',
    path: ['source', 's3Poll', 'intervalSeconds'],
    type: 'number',
    qualifies: S3_POLL,
  },
  { env: 'ASC_S3_POLL_SINCE', path: ['source', 's3Poll', 'since'], type: 'string', qualifies: S3_POLL },
  { env: 'ASC_SOURCE_ROLE_ARN', path: ['source', 'assumeRole', 'roleArn'], type: 'string' },
  { env: 'ASC_SOURCE_EXTERNAL_ID', path: ['source', 'assumeRole', 'externalId'], type: 'string' },
  { env: 'ASC_HEC_URLS', path: ['sinks', 'hec', 'urls'], type: 'list' },
  { env: 'ASC_HEC_TOKEN', path: ['sinks', 'hec', 'token'], type: 'string', qualifies: HEC },
  { env: 'ASC_HEC_TOKEN_FILE', path: ['sinks', 'hec', 'tokenFile'], type: 'string', qualifies: HEC },
  { env: 'ASC_HEC_INDEX', path: ['sinks', 'hec', 'index'], type: 'string', qualifies: HEC },
  {
    env: 'ASC_HEC_CLOUDTRAIL_INDEX',
    path: ['sinks', 'hec', 'indexes', 'cloudtrail'],
    type: 'string',
    qualifies: HEC,
  },
  {
    env: 'ASC_HEC_VPCFLOW_INDEX',
    path: ['sinks', 'hec', 'indexes', 'vpcflow'],
    type: 'string',
    qualifies: HEC,
  },
  { env: 'ASC_HEC_ACCOUNT_INDEXES', path: ['sinks', 'hec', 'accountIndexes'], type: 'map', qualifies: HEC },
  { env: 'ASC_HEC_LOG_TYPES', path: ['sinks', 'hec', 'logTypes'], type: 'list', qualifies: HEC },
  { env: 'ASC_HEC_GZIP', path: ['sinks', 'hec', 'gzip'], type: 'boolean', qualifies: HEC },
  { env: 'ASC_HEC_ACK', path: ['sinks', 'hec', 'ack', 'enabled'], type: 'boolean', qualifies: HEC },
  {
    env: 'ASC_HEC_INDEXED_FIELDS',
    path: ['sinks', 'hec', 'indexedFields'],
    type: 'boolean',
    qualifies: HEC,
  },
  { env: 'ASC_HEC_MAX_IN_FLIGHT', path: ['sinks', 'hec', 'maxInFlight'], type: 'number', qualifies: HEC },
  {
    env: 'ASC_HEC_ADAPTIVE_CONCURRENCY',
    path: ['sinks', 'hec', 'adaptiveConcurrency', 'enabled'],
    type: 'boolean',
    qualifies: HEC,
  },
  {
    env: 'ASC_HEC_TLS_REJECT_UNAUTHORIZED',
    path: ['sinks', 'hec', 'tls', 'rejectUnauthorized'],
    type: 'boolean',
    qualifies: HEC,
  },
  { env: 'ASC_HEC_CA_FILE', path: ['sinks', 'hec', 'tls', 'caFile'], type: 'string', qualifies: HEC },
  { env: 'ASC_HEC_CERT_FILE', path: ['sinks', 'hec', 'tls', 'certFile'], type: 'string', qualifies: HEC },
  { env: 'ASC_HEC_KEY_FILE', path: ['sinks', 'hec', 'tls', 'keyFile'], type: 'string', qualifies: HEC },
  { env: 'ASC_SEARCH_NODE', path: ['sinks', 'search', 'node'], type: 'string' },
  { env: 'ASC_SEARCH_FLAVOUR', path: ['sinks', 'search', 'flavour'], type: 'string', qualifies: SEARCH },
  { env: 'ASC_SEARCH_LOG_TYPES', path: ['sinks', 'search', 'logTypes'], type: 'list', qualifies: SEARCH },
  { env: 'ASC_SEARCH_CLOUD_ID', path: ['sinks', 'search', 'cloudId'], type: 'string' },
  {
    env: 'ASC_SEARCH_API_KEY',
    path: ['sinks', 'search', 'auth', 'apiKey'],
    type: 'string',
    qualifies: SEARCH,
  },
  {
    env: 'ASC_SEARCH_USERNAME',
    path: ['sinks', 'search', 'auth', 'username'],
    type: 'string',
    qualifies: SEARCH,
  },
  {
    env: 'ASC_SEARCH_PASSWORD',
    path: ['sinks', 'search', 'auth', 'password'],
    type: 'string',
    qualifies: SEARCH,
  },
  {
    env: 'ASC_SEARCH_CA_FILE',
    path: ['sinks', 'search', 'tls', 'caFile'],
    type: 'string',
    qualifies: SEARCH,
  },
  {
    env: 'ASC_SEARCH_CERT_FILE',
    path: ['sinks', 'search', 'tls', 'certFile'],
    type: 'string',
    qualifies: SEARCH,
  },
  {
    env: 'ASC_SEARCH_KEY_FILE',
    path: ['sinks', 'search', 'tls', 'keyFile'],
    type: 'string',
    qualifies: SEARCH,
  },
  { env: 'ASC_GEOIP_CITY_DB', path: ['mapping', 'geoip', 'city'], type: 'string' },
  { env: 'ASC_GEOIP_ASN_DB', path: ['mapping', 'geoip', 'asn'], type: 'string' },
  { env: 'ASC_CIM_FLOW_LINE_ORDER', path: ['mapping', 'cimFlowLineOrder'], type: 'string' },
  { env: 'ASC_ACCOUNT_NAMES', path: ['mapping', 'accountNames'], type: 'map' },
  // Formats separated by commas; a format's field names by spaces.
  { env: 'ASC_FLOW_FORMATS', path: ['pipeline', 'flowFormats'], type: 'list' },
  { env: 'ASC_UNMATCHED_KEYS', path: ['pipeline', 'unmatched'], type: 'string' },
  { env: 'ASC_WEBHOOK_TOKEN', path: ['webhook', 'token'], type: 'string' },
  // Response actions, so that a deployment template configures the webhook Lambda without a file.
  { env: 'ASC_RESPOND_DRY_RUN', path: ['respond', 'dryRun'], type: 'boolean' },
  { env: 'ASC_RESPOND_WAF_BLOCK_IP', path: ['respond', 'enabled', 'waf-block-ip'], type: 'boolean' },
  { env: 'ASC_RESPOND_IAM_DISABLE_USER', path: ['respond', 'enabled', 'iam-disable-user'], type: 'boolean' },
  { env: 'ASC_RESPOND_EC2_ISOLATE', path: ['respond', 'enabled', 'ec2-isolate'], type: 'boolean' },
  // IP set ARNs: respond.waf.ipv4Set/ipv6Set accept an ARN and take the scope (regional/global) from it.
  { env: 'ASC_WAF_IP_SET_ARN', path: ['respond', 'waf', 'ipv4Set'], type: 'string' },
  { env: 'ASC_WAF_IPV6_SET_ARN', path: ['respond', 'waf', 'ipv6Set'], type: 'string' },
  // IAM guardrails: the path(s) the templates limit the webhook role to (IamResponseUserPath), and the
  // break-glass principals, which a Lambda otherwise could protect only with a config file in its package.
  // Comma-separated: an IAM name containing a comma can be protected only in a config file.
  { env: 'ASC_RESPOND_IAM_PATHS', path: ['respond', 'iam', 'paths'], type: 'list' },
  { env: 'ASC_RESPOND_IAM_PROTECTED_USERS', path: ['respond', 'iam', 'protectedUsers'], type: 'list' },
  { env: 'ASC_RESPOND_IAM_PROTECTED_ROLES', path: ['respond', 'iam', 'protectedRoles'], type: 'list' },
  { env: 'ASC_RESPOND_AUDIT_LOG', path: ['respond', 'auditLog'], type: 'string' },
  { env: 'ASC_RESPOND_STATE_FILE', path: ['respond', 'stateFile'], type: 'string' },
  { env: 'ASC_RESPOND_STATE_S3', path: ['respond', 'stateS3'], type: 'string' },
  { env: 'ASC_RESPOND_STATE_RETENTION_DAYS', path: ['respond', 'stateRetentionDays'], type: 'number' },
  { env: 'ASC_DEAD_LETTER_DIR', path: ['deadLetter', 'dir'], type: 'string' },
  { env: 'ASC_DEAD_LETTER_S3', path: ['deadLetter', 's3'], type: 'string' },
  {
    env: 'ASC_DEAD_LETTER_MAX_PENDING_BYTES',
    path: ['deadLetter', 'maxPendingBytes'],
    type: 'number',
  },
  { env: 'ASC_MAX_IN_FLIGHT_OBJECTS', path: ['pipeline', 'maxInFlightObjects'], type: 'number' },
];

/** Where a config key got its value from the environment, so that an error can name the variable. */
export interface EnvOrigin {
  env: string;
  path: readonly string[];
  type: EnvBinding['type'];
  /** The variable's text as given (trimmed); secret values must never be echoed from it. */
  value: string;
}

export interface AppliedEnv {
  config: Record<string, unknown>;
  /** The variables applied, and the keys they set. */
  origins: EnvOrigin[];
  /** Variables set but not applied: they qualify a section that neither the file nor the env creates. */
  ignored: string[];
}

export function applyEnv(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  bindings: readonly EnvBinding[] = ENV_BINDINGS,
): AppliedEnv {
  const config = structuredClone(raw);
  const origins: EnvOrigin[] = [];
  const ignored: string[] = [];
  // Variables that create a section go first, so a qualifier sees the section whichever order they are in.
  const ordered = [...bindings.filter((b) => !b.qualifies), ...bindings.filter((b) => b.qualifies)];
  for (const binding of ordered) {
    // Surrounding whitespace is never meant: a value pasted with its line break (or injected by ECS from
    // a secret stored with one) would otherwise reach an Authorization header or a URL.
    const value = env[binding.env]?.trim();
    if (value === undefined || value === '') continue;
    if (binding.qualifies && !isPlainObject(getPath(config, binding.qualifies))) {
      ignored.push(binding.env);
      continue;
    }
    origins.push({ env: binding.env, path: binding.path, type: binding.type, value });
    setPath(config, binding.path, convert(value, binding.type));
  }
  return { config, origins, ignored };
}

function listOf(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function convert(value: string, type: EnvBinding['type']): unknown {
  switch (type) {
    case 'number': {
      const n = Number(value);
      // Left as a string when not numeric so that validation names the variable's key in its error.
      return Number.isFinite(n) ? n : value;
    }
    case 'boolean': {
      const v = value.toLowerCase();
      return v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : value;
    }
    case 'list':
      return listOf(value);
    case 'map': {
      const pairs = listOf(value).map((entry) => entry.split('=').map((s) => s.trim()));
      // Left as a string when an entry is not `key=value`, so that validation names the variable.
      if (pairs.some((pair) => pair.length !== 2 || !pair[0] || !pair[1])) return value;
      return Object.fromEntries(pairs);
    }
    default:
      return value;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function getPath(target: Record<string, unknown>, path: readonly string[]): unknown {
  let node: unknown = target;
  for (const key of path) {
    if (!isPlainObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}
