import type { LogType } from '../types.js';
import { isLogEventsStream, logTypeOfLogEvents } from './cloudwatch.js';
import { FLOW_FIELDS } from './tables.js';

const DIGEST_KEY = /(?:^|\/)CloudTrail-Digest\/|_CloudTrail-Digest_/;
const CLOUDTRAIL_KEY =
  /(?:^|\/)CloudTrail(?:-Insight)?\/|_CloudTrail(?:-Insight)?_|(?:^|\/)(?:CLOUD_TRAIL_MGMT|S3_DATA|LAMBDA_EXECUTION)\//;
const VPCFLOW_KEY = /(?:^|\/)vpcflowlogs\/|_vpcflowlogs_|(?:^|\/)VPC_FLOW\//;

const PARQUET_MAGIC = [0x50, 0x41, 0x52, 0x31];
const FIELD_NAMES = /^[a-z][a-z0-9-]*(?: [a-z][a-z0-9-]*)*\s*$/;
/** A header-less flow record: a version digit and an account id or a dash. */
const FLOW_LINE = /^\d{1,2} (?:\d{12}|unknown|-) /;

/**
 * Chooses the decoder for an object: first from its S3 key (the layouts AWS writes:
 * `AWSLogs/<account>/CloudTrail/`, `CloudTrail-Digest`, `vpcflowlogs`, Security Lake's CloudTrail sources
 * `CLOUD_TRAIL_MGMT`, `S3_DATA`, `LAMBDA_EXECUTION`, `VPC_FLOW`), then from its first decompressed
 * bytes (CloudWatch Logs subscription data by its first message). `undefined` means neither says.
 */
export function detectLogType(key: string, firstBytes?: Uint8Array): LogType | 'digest' | undefined {
  if (DIGEST_KEY.test(key)) return 'digest';
  if (CLOUDTRAIL_KEY.test(key)) return 'cloudtrail';
  if (VPCFLOW_KEY.test(key)) return 'vpcflow';
  if (!firstBytes || firstBytes.length === 0) return undefined;
  return detectFromContent(firstBytes);
}

/** The first decompressed bytes (up to 4 KiB) as text, without a byte-order mark or leading blanks. */
export function headText(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 4096))
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
}

function detectFromContent(bytes: Uint8Array): LogType | 'digest' | undefined {
  if (PARQUET_MAGIC.every((b, i) => bytes[i] === b)) return 'vpcflow';
  const head = headText(bytes);
  const first = head[0];
  if (isLogEventsStream(head)) return logTypeOfLogEvents(head);
  if (first === '{' || first === '[') {
    if (head.startsWith('{"message"') || /^\{\s*"message"\s*:/.test(head)) return 'vpcflow';
    if (head.includes('"digestStartTime"') || head.includes('"digestS3Object"')) return 'digest';
    if (/"(?:Records|eventVersion|eventSource|eventTime|eventName)"\s*:/.test(head)) return 'cloudtrail';
    // OCSF events (CloudWatch Logs' parseToOCSF, Security Lake exports): CloudTrail's are read, others refused.
    if (/"class_uid"\s*:/.test(head)) return 'cloudtrail';
    return undefined;
  }
  const line = head.split(/\r?\n/, 1)[0] ?? '';
  if (FLOW_LINE.test(line) || isFlowHeader(line)) return 'vpcflow';
  return undefined;
}

/** A VPC flow header line: field-like names, the first one a field AWS documents. */
function isFlowHeader(line: string): boolean {
  return FIELD_NAMES.test(line) && FLOW_FIELDS.has(line.split(' ', 1)[0] ?? '');
}
