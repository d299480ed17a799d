export { buildPipeline, createSinks, type RunningPipeline, s3Client } from './build.js';
export {
  DEFAULT_ROUTES,
  type DeadLetterConfig,
  type PipelineConfig,
  pipelineConfigSchema,
} from './config.js';
export {
  type BoundedDeadLetter,
  type DeadLetter,
  type DeadLetterEntry,
  directoryDeadLetter,
  s3DeadLetter,
} from './dead-letter.js';
export { type Mappers, type ObjectPipeline, processObject } from './process-object.js';
export { type ReplayProgress, replay, replayItems } from './replay.js';
export { compileRoutes } from './routes.js';
export { type ObjectOutcome, ObjectTracker } from './tracker.js';
