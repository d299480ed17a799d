import { z } from 'zod';

/** How records become ECS documents beyond Elastic's field-for-field mapping. */
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
});
export type MappingConfig = z.infer<typeof mappingConfigSchema>;
