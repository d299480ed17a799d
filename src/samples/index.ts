export {
  type CloudTrailSampleOptions,
  cloudTrailObjectChunks,
  cloudTrailObjectText,
  generateCloudTrailRecords,
} from './cloudtrail.js';
export { SeededRandom } from './random.js';
export {
  DEFAULT_FLOW_FIELDS,
  type FlowSampleOptions,
  flowFieldsForVersion,
  flowObjectChunks,
  generateFlowLines,
} from './vpcflow.js';
export { writeSampleObjects } from './write.js';
