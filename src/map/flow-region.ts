import { AWS_REGION_PATTERN as REGION } from '../aws-region.js';

/**
 * AWS delivers flow logs to S3 under `AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/`, or with
 * Hive-compatible prefixes `…/aws-service=vpcflowlogs/aws-region=<region>/…`, in files named
 * `<account>_vpcflowlogs_<region>_<flow log id>_…`: the region of the flow log, for records whose format
 * has no `region` field (the default format has none). Elastic takes `cloud.region` from the S3
 * notification instead, which is the bucket's region and differs for a central logging bucket. The records
 * of an object come one after another, so the last key's answer is kept.
 */
const FLOW_KEY_REGION = new RegExp(
  `(?:^|/)vpcflowlogs/(${REGION})/|/aws-service=vpcflowlogs/aws-region=(${REGION})/|_vpcflowlogs_(${REGION})_`,
);
/**
 * The account likewise, for records whose format has no `account-id` field: `AWSLogs/<account>/…`,
 * Hive-compatible `AWSLogs/aws-account-id=<account>/…`, or AWS's file name.
 */
const FLOW_KEY_ACCOUNT = /(?:^|\/)AWSLogs\/(?:aws-account-id=)?(\d{12})\/|(?:^|\/)(\d{12})_vpcflowlogs_/;

let last: { key: string; region: string | undefined; account: string | undefined } | undefined;

/** What a flow object's key says, read once per key. */
function keyFacts(key: string): { region: string | undefined; account: string | undefined } {
  if (last?.key !== key) {
    const region = FLOW_KEY_REGION.exec(key);
    const account = FLOW_KEY_ACCOUNT.exec(key);
    last = { key, region: region?.[1] ?? region?.[2] ?? region?.[3], account: account?.[1] ?? account?.[2] };
  }
  return last;
}

export function flowRegionOfKey(key: string): string | undefined {
  return keyFacts(key).region;
}

export function flowAccountOfKey(key: string): string | undefined {
  return keyFacts(key).account;
}
