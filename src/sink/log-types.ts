import { z } from 'zod';

/**
 * The log types a sink takes (all when left out): VPC flows to Elasticsearch and CloudTrail to Splunk,
 * say, or only CloudTrail to a costly index. A record no sink takes is still decoded and counted.
 */
export const sinkLogTypesSchema = z
  .array(z.enum(['cloudtrail', 'vpcflow']))
  .min(1)
  .refine((types) => new Set(types).size === types.length, 'names a log type twice')
  .optional();
