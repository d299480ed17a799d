export { type AwsConfig, awsConfigSchema } from './aws.js';
export { applyEnv, ENV_BINDINGS, type EnvBinding } from './env.js';
export { ConfigError, type LoadConfigOptions, loadConfig, validateConfig } from './load.js';
export { type ConnectorConfig, type ConnectorConfigInput, configSchema } from './schema.js';
export { resolveSecretArns } from './secrets.js';
