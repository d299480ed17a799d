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
let last: { key: string; region: string | undefined } | undefined;

export function flowRegionOfKey(key: string): string | undefined {
  if (last?.key !== key) {
    const m = FLOW_KEY_REGION.exec(key);
    last = { key, region: m?.[1] ?? m?.[2] ?? m?.[3] };
  }
  return last.region;
}

/**
 * The account of a flow log from its delivery key, for records whose format has no `account-id` field:
 * `AWSLogs/<account>/…`, Hive-compatible `AWSLogs/aws-account-id=<account>/…`, or AWS's file name.
 */
const FLOW_KEY_ACCOUNT = /(?:^|\/)AWSLogs\/(?:aws-account-id=)?(\d{12})\/|(?:^|\/)(\d{12})_vpcflowlogs_/;
let lastAccount: { key: string; account: string | undefined } | undefined;

export function flowAccountOfKey(key: string): string | undefined {
  if (lastAccount?.key !== key) {
    const m = FLOW_KEY_ACCOUNT.exec(key);
    lastAccount = { key, account: m?.[1] ?? m?.[2] };
  }
  return lastAccount.account;
}
