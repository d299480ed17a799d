import { z } from 'zod';
import { detectionConfigSchema } from '../detection/config.js';
import { mappingConfigSchema } from '../map/config.js';
import { proxyConfigSchema } from '../network/config.js';
import { observeConfigSchema } from '../observe/config.js';
import { deadLetterConfigSchema, pipelineConfigSchema } from '../pipeline/config.js';
import { respondConfigSchema } from '../respond/config.js';
import { fileSinkConfigSchema } from '../sink/file/config.js';
import { hecSinkConfigSchema } from '../sink/hec/config.js';
import { searchSinkConfigSchema } from '../sink/search/config.js';
import { s3PollSourceConfigSchema, sourceRoleConfigSchema, sqsSourceConfigSchema } from '../source/config.js';
import { webhookConfigSchema } from '../webhook/config.js';
import { awsConfigSchema } from './aws.js';

/**
 * The whole configuration. Each section is owned by the module that uses it; this file only composes
 * them. Every object is strict, so a misspelt key is an error instead of a silently ignored setting.
 */
export const configSchema = z.strictObject({
  aws: awsConfigSchema.prefault({}),
  source: z
    .strictObject({
      sqs: sqsSourceConfigSchema.optional(),
      s3Poll: s3PollSourceConfigSchema.optional(),
      assumeRole: sourceRoleConfigSchema.optional(),
    })
    .prefault({}),
  sinks: z
    .strictObject({
      hec: hecSinkConfigSchema.optional(),
      search: searchSinkConfigSchema.optional(),
      file: fileSinkConfigSchema.optional(),
    })
    .prefault({}),
  pipeline: pipelineConfigSchema.prefault({}),
  mapping: mappingConfigSchema.prefault({}),
  deadLetter: deadLetterConfigSchema.prefault({}),
  detection: detectionConfigSchema.prefault({}),
  webhook: webhookConfigSchema.prefault({}),
  respond: respondConfigSchema.prefault({}),
  observe: observeConfigSchema.prefault({}),
  proxy: proxyConfigSchema.optional(),
});

export type ConnectorConfig = z.infer<typeof configSchema>;
/** What a user writes: every defaulted key may be left out. */
export type ConnectorConfigInput = z.input<typeof configSchema>;
