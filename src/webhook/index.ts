export { type AlertAnswer, createWebhookApp, type WebhookDeps, WebhookStartError } from './app.js';
export { signBody } from './auth.js';
export { type PolicyEntry, type WebhookConfig, webhookConfigSchema } from './config.js';
export {
  createLambdaHandler,
  createWebhookLambda,
  handler,
  isScheduledEvent,
  type ScheduledEvent,
  type SweepAnswer,
  type WebhookLambdaDeps,
} from './lambda.js';
export { type Alert, parseAlert } from './payloads.js';
export { requestsFor, valuesAt } from './policy.js';
export { resolveWebhookSecrets, type WebhookSecrets } from './secrets.js';
export { startSweeper } from './sweeper.js';
