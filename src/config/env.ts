/**
 * Environment variables that set config keys. They override the file, so a container or Lambda can be
 * configured without one. Secrets are best given here or by `*File` keys, never on the command line.
 */
export interface EnvBinding {
  env: string;
  path: readonly string[];
  type: 'string' | 'number' | 'boolean' | 'list';
}

export const ENV_BINDINGS: readonly EnvBinding[] = [
  { env: 'ASC_LOG_LEVEL', path: ['observe', 'logLevel'], type: 'string' },
  { env: 'ASC_METRICS_PORT', path: ['observe', 'metricsPort'], type: 'number' },
  { env: 'AWS_REGION', path: ['aws', 'region'], type: 'string' },
  { env: 'ASC_AWS_ENDPOINT', path: ['aws', 'endpoint'], type: 'string' },
  { env: 'ASC_SQS_QUEUE_URLS', path: ['source', 'sqs', 'queueUrls'], type: 'list' },
  { env: 'ASC_HEC_URLS', path: ['sinks', 'hec', 'urls'], type: 'list' },
  { env: 'ASC_HEC_TOKEN', path: ['sinks', 'hec', 'token'], type: 'string' },
  { env: 'ASC_HEC_TOKEN_FILE', path: ['sinks', 'hec', 'tokenFile'], type: 'string' },
  { env: 'ASC_HEC_INDEX', path: ['sinks', 'hec', 'index'], type: 'string' },
  { env: 'ASC_HEC_GZIP', path: ['sinks', 'hec', 'gzip'], type: 'boolean' },
  { env: 'ASC_HEC_ACK', path: ['sinks', 'hec', 'ack', 'enabled'], type: 'boolean' },
  { env: 'ASC_HEC_MAX_IN_FLIGHT', path: ['sinks', 'hec', 'maxInFlight'], type: 'number' },
  {
    env: 'ASC_HEC_ADAPTIVE_CONCURRENCY',
    path: ['sinks', 'hec', 'adaptiveConcurrency', 'enabled'],
    type: 'boolean',
  },
  {
    env: 'ASC_HEC_TLS_REJECT_UNAUTHORIZED',
    path: ['sinks', 'hec', 'tls', 'rejectUnauthorized'],
    type: 'boolean',
  },
  { env: 'ASC_HEC_CA_FILE', path: ['sinks', 'hec', 'tls', 'caFile'], type: 'string' },
  { env: 'ASC_SEARCH_NODE', path: ['sinks', 'search', 'node'], type: 'string' },
  { env: 'ASC_SEARCH_FLAVOUR', path: ['sinks', 'search', 'flavour'], type: 'string' },
  { env: 'ASC_SEARCH_CLOUD_ID', path: ['sinks', 'search', 'cloudId'], type: 'string' },
  { env: 'ASC_SEARCH_API_KEY', path: ['sinks', 'search', 'auth', 'apiKey'], type: 'string' },
  { env: 'ASC_SEARCH_USERNAME', path: ['sinks', 'search', 'auth', 'username'], type: 'string' },
  { env: 'ASC_SEARCH_PASSWORD', path: ['sinks', 'search', 'auth', 'password'], type: 'string' },
  { env: 'ASC_WEBHOOK_TOKEN', path: ['webhook', 'token'], type: 'string' },
  // Response actions, so that a deployment template configures the webhook Lambda without a file.
  { env: 'ASC_RESPOND_DRY_RUN', path: ['respond', 'dryRun'], type: 'boolean' },
  { env: 'ASC_RESPOND_WAF_BLOCK_IP', path: ['respond', 'enabled', 'waf-block-ip'], type: 'boolean' },
  { env: 'ASC_RESPOND_IAM_DISABLE_USER', path: ['respond', 'enabled', 'iam-disable-user'], type: 'boolean' },
  { env: 'ASC_RESPOND_EC2_ISOLATE', path: ['respond', 'enabled', 'ec2-isolate'], type: 'boolean' },
  // IP set ARNs: respond.waf.ipv4Set/ipv6Set accept an ARN and take the scope (regional/global) from it.
  { env: 'ASC_WAF_IP_SET_ARN', path: ['respond', 'waf', 'ipv4Set'], type: 'string' },
  { env: 'ASC_WAF_IPV6_SET_ARN', path: ['respond', 'waf', 'ipv6Set'], type: 'string' },
  { env: 'ASC_RESPOND_AUDIT_LOG', path: ['respond', 'auditLog'], type: 'string' },
  { env: 'ASC_RESPOND_STATE_FILE', path: ['respond', 'stateFile'], type: 'string' },
  { env: 'ASC_RESPOND_STATE_S3', path: ['respond', 'stateS3'], type: 'string' },
  { env: 'ASC_DEAD_LETTER_DIR', path: ['deadLetter', 'dir'], type: 'string' },
  { env: 'ASC_DEAD_LETTER_S3', path: ['deadLetter', 's3'], type: 'string' },
  { env: 'ASC_MAX_IN_FLIGHT_OBJECTS', path: ['pipeline', 'maxInFlightObjects'], type: 'number' },
];

export function applyEnv(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  bindings: readonly EnvBinding[] = ENV_BINDINGS,
): { config: Record<string, unknown>; used: string[] } {
  const config = structuredClone(raw);
  const used: string[] = [];
  for (const binding of bindings) {
    const value = env[binding.env];
    if (value === undefined || value === '') continue;
    used.push(binding.env);
    setPath(config, binding.path, convert(value, binding.type));
  }
  return { config, used };
}

function convert(value: string, type: EnvBinding['type']): unknown {
  switch (type) {
    case 'number': {
      const n = Number(value);
      // Left as a string when not numeric so that validation names the variable's key in its error.
      return Number.isFinite(n) ? n : value;
    }
    case 'boolean':
      return value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;
    case 'list':
      return value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return value;
  }
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
