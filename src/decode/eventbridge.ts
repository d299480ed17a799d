/**
 * CloudTrail records as EventBridge delivers them, for trails routed through an EventBridge rule (to
 * Firehose and on to S3): `{"version":"0","detail-type":"AWS API Call via CloudTrail",…,"detail":{…}}`,
 * and likewise "AWS Console Sign In via CloudTrail", "AWS Service Event via CloudTrail" and the rest. The
 * record is the `detail`; the envelope around it repeats what the record says (time, region, account).
 */
export function cloudTrailOfEventBridge(value: Record<string, unknown>): Record<string, unknown> | undefined {
  const type = value['detail-type'];
  if (typeof type !== 'string' || !type.endsWith(' via CloudTrail')) return undefined;
  const detail = value.detail;
  return typeof detail === 'object' && detail !== null && !Array.isArray(detail)
    ? (detail as Record<string, unknown>)
    : undefined;
}
