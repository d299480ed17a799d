/**
 * AWS delivers flow logs to S3 under `AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/`: the
 * region of the flow log, for records whose format has no `region` field (the default format has none).
 * Elastic takes `cloud.region` from the S3 notification instead, which is the bucket's region and differs
 * for a central logging bucket. The records of an object come one after another, so the last key's answer
 * is kept.
 */
const FLOW_KEY_REGION = /(?:^|\/)vpcflowlogs\/([a-z]{2}(?:-[a-z]+)+-\d+)\//;
let last: { key: string; region: string | undefined } | undefined;

export function flowRegionOfKey(key: string): string | undefined {
  if (last?.key !== key) last = { key, region: FLOW_KEY_REGION.exec(key)?.[1] };
  return last.region;
}
