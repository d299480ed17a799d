export { type SqsSourceConfig, sqsSourceConfigSchema } from './config.js';
export { pipelineConsumer } from './consumer.js';
export { handler, handleSqsEvent, resetLambdaRuntime } from './lambda.js';
export { type MessageContext, type MessageOutcome, processMessage } from './message.js';
export {
  decodeKey,
  NotificationError,
  type ParsedNotification,
  parseNotification,
  type S3ObjectRef,
} from './notifications.js';
export { RegionalClients, regionOfQueueUrl } from './regions.js';
export { ObjectMissingError, openObject } from './s3.js';
export { createSnsVerifier, stringToSign } from './sns-signature.js';
export { SqsConsumer, sqsClients } from './sqs.js';
