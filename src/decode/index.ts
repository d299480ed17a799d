export { DECODE_CODES, DEFAULT_DECODE_LIMITS, type DecodeLimits, OBJECT_LEVEL_CODES } from './codes.js';
export { type DecodeOptions, type DecodeResult, decodeObject } from './decode-object.js';
export { detectLogType } from './detect-type.js';
export { type FlowLayouts, flowLayoutsWith } from './tables.js';
