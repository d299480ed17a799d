export { RuleCompileError, RuleError, RuleInstallError } from './errors.js';
export {
  createEvaluator,
  type Evaluator,
  type EvaluatorOptions,
  rawDocument,
  serviceOf,
} from './evaluate.js';
export { compileKibana, compileQueryDsl, type KibanaRule } from './kibana.js';
export { loadRules, parseRules } from './load.js';
export type { Alert, CorrelationRule, DetectionRule, Level, LogService, Rule } from './model.js';
export { compileSavedSearch, compileSpl, savedSearchName, savedSearchStanza } from './splunk.js';
