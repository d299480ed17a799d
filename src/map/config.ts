import { z } from 'zod';
import { awsAccountIdSchema } from '../config/aws.js';

/** How records become ECS documents and HEC events beyond the field-for-field mappings. */
export const mappingConfigSchema = z.strictObject({
  /**
   * MaxMind databases (GeoLite2-City / GeoLite2-ASN or compatible, the ones Elastic's geoip processor
   * uses) for `source.geo` / `source.as` and their destination counterparts. Either may be given alone;
   * without them documents simply carry no geo or AS fields. Read once at start; a path that cannot be
   * opened stops the start.
   */
  geoip: z
    .strictObject({
      city: z.string().min(1).optional(),
      asn: z.string().min(1).optional(),
    })
    .prefault({}),
  /** Keep each record's text in `event.original`, as Elastic's `preserve_original_event` tag does. */
  preserveOriginal: z.boolean().default(false),
  /**
   * The text of a flow event sent to Splunk. `addon`: a line in a field order the Splunk Add-on for AWS
   * cannot read positionally (anything but AWS's default and v5 "all fields" orders) goes in AWS's own
   * order, every value kept; `as-written`: every line exactly as AWS wrote it.
   */
  cimFlowLineOrder: z.enum(['addon', 'as-written']).default('addon'),
  /**
   * Names of AWS accounts (`'111122223333': prod-payments`), written to ECS `cloud.account.name` beside
   * the id: analysts read names, and Kibana filters and groups by them.
   */
  accountNames: z.record(awsAccountIdSchema, z.string().min(1).max(256)).optional(),
});
export type MappingConfig = z.infer<typeof mappingConfigSchema>;
