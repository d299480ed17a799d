export { type AwsConfig, awsConfigSchema } from './aws.js';
export { type AppliedEnv, applyEnv, ENV_BINDINGS, type EnvBinding, type EnvOrigin } from './env.js';
export {
  ConfigError,
  type ConfigErrorDetails,
  type LoadConfigOptions,
  loadConfig,
  validateConfig,
} from './load.js';
export { type ConnectorConfig, type ConnectorConfigInput, configSchema } from './schema.js';
export { isSecretKey } from './secret-keys.js';
export { resolveSecretArns } from './secrets.js';
