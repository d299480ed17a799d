export { classifyResponse, type ResponseClass } from './classify.js';
export { type HecSinkConfig, type HecSinkConfigInput, hecSinkConfigSchema } from './config.js';
export { HecError, type HecErrorCode } from './errors.js';
export {
  createHecSink,
  type HecResponseInfo,
  type HecSink,
  type HecSinkDeps,
  type HecStats,
} from './sink.js';
export { resolveToken } from './transport.js';
